package io.kvhoard.server.store.eviction;

import java.util.Arrays;
import java.util.PriorityQueue;
import java.util.function.Predicate;

/**
 * An indexed binary min-heap of nodes by (rank, priority): add, remove and reorder in O(log n),
 * because each node knows its index. {@link #first} finds the smallest node a predicate accepts
 * without disturbing the heap, by a best-first walk of the heap's tree: O(1) when the smallest is
 * accepted, O(k log k) when k nodes are skipped (pinned or leased blocks). Not thread-safe.
 */
final class LeafHeap<K> {
  private Node<K>[] heap = newArray(64);
  private int size;

  int size() {
    return size;
  }

  boolean contains(Node<K> n) {
    return n.heapIndex >= 0;
  }

  /** Adds {@code n}, or restores its place after its rank or priority changed. */
  void addOrUpdate(Node<K> n) {
    if (n.heapIndex >= 0) {
      int i = n.heapIndex;
      siftUp(i);
      if (heap[i] == n) {
        siftDown(i);
      }
      return;
    }
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
    }
    heap[size] = n;
    n.heapIndex = size;
    size++;
    siftUp(size - 1);
  }

  /** Removes {@code n} if it is in this heap. */
  void remove(Node<K> n) {
    int i = n.heapIndex;
    if (i < 0) {
      return;
    }
    n.heapIndex = -1;
    size--;
    Node<K> last = heap[size];
    heap[size] = null;
    if (i == size) {
      return;
    }
    heap[i] = last;
    last.heapIndex = i;
    siftUp(i);
    if (heap[i] == last) {
      siftDown(i);
    }
  }

  /** The smallest node whose key {@code accept} accepts, or {@code null}. */
  Node<K> first(Predicate<? super K> accept) {
    if (size == 0) {
      return null;
    }
    if (accept.test(heap[0].key)) {
      return heap[0];
    }
    PriorityQueue<Node<K>> frontier = new PriorityQueue<>(LeafHeap::compare);
    pushChildren(0, frontier);
    while (!frontier.isEmpty()) {
      Node<K> n = frontier.poll();
      if (accept.test(n.key)) {
        return n;
      }
      pushChildren(n.heapIndex, frontier);
    }
    return null;
  }

  private void pushChildren(int i, PriorityQueue<Node<K>> frontier) {
    for (int c = 2 * i + 1; c <= 2 * i + 2 && c < size; c++) {
      frontier.add(heap[c]);
    }
  }

  static int compare(Node<?> a, Node<?> b) {
    int r = Integer.compare(a.rank, b.rank);
    return r != 0 ? r : Long.compare(a.priority, b.priority);
  }

  private void siftUp(int i) {
    Node<K> n = heap[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      Node<K> p = heap[parent];
      if (compare(n, p) >= 0) {
        break;
      }
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = n;
    n.heapIndex = i;
  }

  private void siftDown(int i) {
    Node<K> n = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      if (c + 1 < size && compare(heap[c + 1], heap[c]) < 0) {
        c++;
      }
      if (compare(n, heap[c]) <= 0) {
        break;
      }
      heap[i] = heap[c];
      heap[i].heapIndex = i;
      i = c;
    }
    heap[i] = n;
    n.heapIndex = i;
  }

  @SuppressWarnings("unchecked")
  private static <K> Node<K>[] newArray(int n) {
    return (Node<K>[]) new Node<?>[n];
  }
}
