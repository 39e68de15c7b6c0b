package io.kvhoard.server.store.eviction;

/**
 * The eviction order {@link PrefixAwareLru} keeps among leaves, shared with {@link WindowTinyLfu}'s
 * main region: rank first (orphans, then partial tails, then full blocks), then priority (the
 * logical time of the last use plus a reuse bonus). See {@link PrefixAwareLru} for why. Not
 * thread-safe.
 */
final class Ranking {
  static final int ORPHAN = 0;
  static final int PARTIAL = 1;
  static final int FULL = 2;

  /** Uses are counted up to this: first use (the insert), one hit, two or more hits. */
  private static final int MAX_USES = 3;

  private final long blockTokens;
  private final boolean structural;
  private final boolean partialTailsFirst;
  private final long[] bonusByUses;
  private long clock;

  /**
   * @param structural rank orphans and partial tails first; {@code false}: rank by priority only
   * @param afterOneHit priority bonus, in uses of the cache, of a block hit once since it became
   *     resident
   * @param afterTwoHits the same for a block hit twice or more
   */
  Ranking(
      long blockTokens,
      boolean structural,
      boolean partialTailsFirst,
      long afterOneHit,
      long afterTwoHits) {
    this.blockTokens = blockTokens;
    this.structural = structural;
    this.partialTailsFirst = partialTailsFirst;
    this.bonusByUses = new long[] {0, 0, afterOneHit, afterTwoHits};
  }

  /** A block of this many tokens is a partial tail. */
  boolean isPartial(long tokens) {
    return tokens < blockTokens;
  }

  /** Records one use (insert or hit) of {@code n}: its priority becomes now plus its bonus. */
  void use(Node<?> n) {
    n.uses = Math.min(n.uses + 1, MAX_USES);
    n.priority = ++clock + bonusByUses[n.uses];
  }

  /** Sets {@code n}'s rank from its status. */
  void rank(Node<?> n) {
    if (!structural) {
      n.rank = FULL;
    } else if (n.isOrphan()) {
      n.rank = ORPHAN;
    } else {
      n.rank = partialTailsFirst && n.partial ? PARTIAL : FULL;
    }
  }
}
