package io.kvhoard.server.store.eviction;

import java.util.function.Predicate;

/**
 * W-TinyLFU: a small LRU admission window in front of a main region whose blocks a newcomer must
 * beat on estimated frequency to get in. Measured against {@link PrefixAwareLru}, not the default:
 * see the figures there.
 *
 * <h2>Design</h2>
 *
 * <p>Window TinyLFU as in Caffeine (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient
 * Cache Admission Policy", ACM ToS 2017; Manes, Caffeine's efficiency design): new blocks enter a
 * window holding 1% of the capacity, in LRU order. When the window overflows, its oldest block
 * moves into the main region while that has room; once it is full, the oldest window block is the
 * candidate and the main region's first victim the opponent: the one with the lower {@link
 * FrequencySketch} estimate is evicted (a tie evicts the candidate), and a winning candidate moves
 * into the main region. Frequencies count every insert and access, resident or not, and age by
 * halving.
 *
 * <p>Two modes:
 *
 * <ul>
 *   <li><b>prefix-aware</b> (default): the admission filter in front of {@link PrefixAwareLru}, the
 *       combination the issue asked to measure. The main region keeps {@code PrefixAwareLru}'s
 *       order among leaves (orphans, partial tails, reuse bonus). A window block that has resident
 *       children cannot be evicted ahead of them, so it moves to the main region without a contest;
 *       in a prefix workload that leaves only a chain's last block to be contested.
 *   <li><b>prefix-blind</b>: Caffeine's scheme over blocks as if they were independent: any block
 *       can be a candidate or a victim, the main region is one LRU. The measure of what frequency
 *       admission does when it is free to act.
 * </ul>
 *
 * <p>Simplifications, against Caffeine: the main region is one LRU rather than a segmented LRU, and
 * the window does not adapt its size (Caffeine's hill climber).
 *
 * <p>Not thread-safe; see {@link EvictionPolicy}.
 *
 * @param <K> block key type
 */
public final class WindowTinyLfu<K> implements EvictionPolicy<K> {
  private final PrefixForest<K> forest = new PrefixForest<>(this::place);
  private final LeafHeap<K> main = new LeafHeap<>();
  private final FrequencySketch sketch;
  private final Ranking ranking;
  private final boolean prefixAware;
  private final long windowCapacity;
  private final long mainCapacity;
  private Node<K> windowOldest;
  private Node<K> windowNewest;
  private long windowSize;

  private WindowTinyLfu(Builder builder) {
    this.prefixAware = builder.prefixAware;
    this.ranking =
        prefixAware
            ? PrefixAwareLru.newBuilder()
                .capacityBlocks(builder.capacityBlocks)
                .blockTokens(builder.blockTokens)
                .ranking("WindowTinyLfu")
            : new Ranking(builder.blockTokens, false, false, 0, 0);
    this.sketch = new FrequencySketch(builder.capacityBlocks);
    this.windowCapacity = Math.max(1, builder.capacityBlocks / 100);
    this.mainCapacity = builder.capacityBlocks - windowCapacity;
  }

  /** A builder. {@code capacityBlocks} and {@code blockTokens} are required. */
  public static Builder newBuilder() {
    return new Builder();
  }

  @Override
  public void onInsert(K key, K parent, long tokens) {
    if (tokens <= 0) {
      throw new IllegalArgumentException("block " + key + " has " + tokens + " tokens");
    }
    Node<K> n = forest.add(key, parent, ranking.isPartial(tokens));
    n.inWindow = true;
    appendToWindow(n);
    windowSize++;
    use(n);
  }

  @Override
  public void onAccess(K key) {
    Node<K> n = forest.get(key);
    if (n.inWindow) {
      unlinkFromWindow(n);
      appendToWindow(n);
    }
    use(n);
  }

  @Override
  public void onRemove(K key) {
    Node<K> n = forest.get(key);
    if (n.inWindow) {
      unlinkFromWindow(n);
      windowSize--;
    } else {
      main.remove(n);
    }
    forest.remove(n);
  }

  /**
   * {@inheritDoc}
   *
   * <p>May move window blocks into the main region on the way (that changes no residency).
   */
  @Override
  public K victim(Predicate<? super K> evictable) {
    while (windowSize > windowCapacity) {
      Node<K> candidate = windowOldest;
      if (!evictable.test(candidate.key) || (prefixAware && !candidate.isLeaf())) {
        moveToMain(candidate);
        continue;
      }
      if (forest.size() - windowSize < mainCapacity) {
        moveToMain(candidate); // the main region has room: no contest
        continue;
      }
      if (prefixAware && candidate.isOrphan()) {
        return candidate.key;
      }
      Node<K> opponent = main.first(evictable);
      if (opponent == null || opponent.rank == Ranking.ORPHAN) {
        return opponent == null ? candidate.key : opponent.key;
      }
      if (sketch.frequency(candidate.key.hashCode()) > sketch.frequency(opponent.key.hashCode())) {
        moveToMain(candidate);
        return opponent.key;
      }
      return candidate.key;
    }
    Node<K> n = main.first(evictable);
    if (n != null) {
      return n.key;
    }
    for (n = windowOldest; n != null; n = n.windowNext) {
      if ((!prefixAware || n.isLeaf()) && evictable.test(n.key)) {
        return n.key;
      }
    }
    return null;
  }

  @Override
  public int size() {
    return forest.size();
  }

  private void use(Node<K> n) {
    sketch.increment(n.key.hashCode());
    ranking.use(n);
    place(n);
  }

  /** Puts a main-region node in the heap if it can be evicted, or out of it. */
  private void place(Node<K> n) {
    if (n.inWindow || (prefixAware && !n.isLeaf())) {
      main.remove(n);
      return;
    }
    ranking.rank(n);
    main.addOrUpdate(n);
  }

  private void moveToMain(Node<K> n) {
    unlinkFromWindow(n);
    windowSize--;
    n.inWindow = false;
    place(n);
  }

  private void appendToWindow(Node<K> n) {
    n.windowPrev = windowNewest;
    n.windowNext = null;
    if (windowNewest == null) {
      windowOldest = n;
    } else {
      windowNewest.windowNext = n;
    }
    windowNewest = n;
  }

  private void unlinkFromWindow(Node<K> n) {
    if (n.windowPrev == null) {
      windowOldest = n.windowNext;
    } else {
      n.windowPrev.windowNext = n.windowNext;
    }
    if (n.windowNext == null) {
      windowNewest = n.windowPrev;
    } else {
      n.windowNext.windowPrev = n.windowPrev;
    }
    n.windowPrev = null;
    n.windowNext = null;
  }

  /** Configures a {@link WindowTinyLfu}; validates eagerly. */
  public static final class Builder {
    private long capacityBlocks = -1;
    private long blockTokens = -1;
    private boolean prefixAware = true;

    private Builder() {}

    /** The number of blocks the store keeps: sizes the window and the sketch. Required. */
    public Builder capacityBlocks(long blocks) {
      if (blocks <= 0) {
        throw new IllegalArgumentException("capacityBlocks must be positive, was " + blocks);
      }
      this.capacityBlocks = blocks;
      return this;
    }

    /** Tokens in a full block; a block with fewer is a partial tail. Required, positive. */
    public Builder blockTokens(long tokens) {
      if (tokens <= 0) {
        throw new IllegalArgumentException("blockTokens must be positive, was " + tokens);
      }
      this.blockTokens = tokens;
      return this;
    }

    /**
     * {@code true} (default): leaves only, {@link PrefixAwareLru}'s order in the main region;
     * {@code false}: Caffeine's scheme over independent blocks.
     */
    public Builder prefixAware(boolean enabled) {
      this.prefixAware = enabled;
      return this;
    }

    /**
     * The policy.
     *
     * @throws IllegalStateException if {@code capacityBlocks} or {@code blockTokens} was not set
     */
    public <K> WindowTinyLfu<K> build() {
      if (capacityBlocks < 0 || blockTokens < 0) {
        throw new IllegalStateException(
            "WindowTinyLfu needs capacityBlocks(n) and blockTokens(n): the store's size in blocks"
                + " and the tokens in a full block");
      }
      return new WindowTinyLfu<>(this);
    }
  }
}
