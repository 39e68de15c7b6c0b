package io.kvhoard.server.store;

/** The media of the tiered store, hottest first. */
public enum TierKind {
  /** Device memory through cuda-transfer: not addressable from Java. */
  GPU,
  /** Off-heap host RAM: addressable, sent to the network without a copy. */
  HOST,
  /** Local NVMe through RocksDB: capacity, survives restarts. */
  DISK
}
