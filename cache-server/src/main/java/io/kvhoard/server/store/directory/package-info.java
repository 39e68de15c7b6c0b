/**
 * The block directory: a persisted, off-heap Chronicle Map from each stored block's key to the
 * tiers holding it, its size, checksum, parent, pin and last access. The tiered store keeps it in
 * step with the tiers; the tiers stay the truth after a restart.
 */
package io.kvhoard.server.store.directory;
