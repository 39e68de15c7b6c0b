/**
 * The disk tier: blocks on local NVMe in RocksDB, the capacity tier that survives restarts.
 *
 * <p>{@link io.kvhoard.server.store.disk.DiskTier} implements the {@link
 * io.kvhoard.server.store.Tier} SPI: block bytes in a column family whose large values live in blob
 * files, a small meta record (length, CRC32C) per block in another, no write-ahead log (a crash
 * loses the blocks not yet flushed, never part of one), direct I/O where the filesystem allows it,
 * and a CRC32C check on every read into direct memory. Its class comment gives the design and why.
 */
package io.kvhoard.server.store.disk;
