package io.kvhoard.server.store.eviction;

/**
 * A resident block as the policies see it: its place in the prefix forest, its place in a leaf
 * heap, and the bookkeeping the policies rank it by. One mutable class for all policies, so that
 * the forest and the heap are written once; the fields a policy does not use stay at their
 * defaults.
 */
final class Node<K> {
  final K key;

  /** The key of the block one shorter, resident or not; {@code null} for a first block. */
  final K parentKey;

  /** Fewer tokens than a full block: a prompt's last block, which only the same prompt can hit. */
  final boolean partial;

  /** The resident parent; {@code null} for a first block and for an orphan. */
  Node<K> parent;

  /** First resident child; {@code null} for a leaf. */
  Node<K> firstChild;

  /** Siblings: children of the same parent, or orphans waiting for the same parent key. */
  Node<K> prevSibling;

  Node<K> nextSibling;

  /** Index in a {@link LeafHeap}, or -1 when in none. */
  int heapIndex = -1;

  /** Eviction order within a rank: smaller goes first. */
  long priority;

  /** Eviction rank: smaller goes first, whatever the priority. */
  int rank;

  /** Times inserted or accessed since it became resident, saturating. */
  int uses;

  /** In the admission window (W-TinyLFU) rather than the main region. */
  boolean inWindow;

  /** Window LRU list, oldest first. */
  Node<K> windowPrev;

  Node<K> windowNext;

  Node(K key, K parentKey, boolean partial) {
    this.key = key;
    this.parentKey = parentKey;
    this.partial = partial;
  }

  /** No resident children: evicting it strands nothing. */
  boolean isLeaf() {
    return firstChild == null;
  }

  /** Has a parent key that is not resident: no prefix lookup can reach it. */
  boolean isOrphan() {
    return parent == null && parentKey != null;
  }

  @Override
  public String toString() {
    return "Node[" + key + "]";
  }
}
