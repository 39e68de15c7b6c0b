package io.kvhoard.client.transport;

/** What happened to one block of a batch. */
public enum BlockOutcome {
  /** GET: read into its slot, key, size and CRC32C checked. PUT: stored. CONTAINS: held. */
  OK,
  /** GET, CONTAINS: the server does not hold it. */
  MISSING,
  /** GET: the bytes do not match their CRC32C, or the size or key is wrong: a miss, never used. */
  CORRUPT,
  /** PUT: already stored (first writer wins). */
  EXISTS,
  /** The server refused it: an error frame or an error status (no space, too large, ...). */
  REFUSED
}
