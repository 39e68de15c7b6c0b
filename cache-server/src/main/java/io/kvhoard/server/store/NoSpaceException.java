package io.kvhoard.server.store;

/**
 * A reservation does not fit in the tier's free space right now (the store evicts and may retry),
 * or can never fit ({@link #everFits()} false: the block is larger than the whole tier).
 */
public final class NoSpaceException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final long requested;
  private final long free;
  private final boolean everFits;

  public NoSpaceException(TierKind tier, long requested, long free, long capacity) {
    super(
        requested > capacity
            ? tier
                + " tier: a block of "
                + requested
                + " bytes is larger than the tier's whole capacity of "
                + capacity
                + " bytes; raise the capacity or store smaller blocks"
            : tier
                + " tier: no room for "
                + requested
                + " bytes ("
                + free
                + " of "
                + capacity
                + " free)");
    this.requested = requested;
    this.free = free;
    this.everFits = requested <= capacity;
  }

  public long requested() {
    return requested;
  }

  public long free() {
    return free;
  }

  /** False when the block can never fit, whatever is evicted. */
  public boolean everFits() {
    return everFits;
  }
}
