package io.kvhoard.server.store.eviction;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The resident blocks as a forest of prefixes: each block linked to its resident parent and
 * children, so that "is a leaf" and "is an orphan" are O(1) and change in O(1) per event (O(number
 * of children) when a block with resident children is removed, which a store does only on delete).
 *
 * <p>Orphans (blocks whose parent key is not resident) wait in a map keyed by that parent key,
 * linked as siblings, and are adopted when the parent is inserted again, so the order in which a
 * batch of blocks commits does not matter.
 *
 * <p>Whenever an existing node's leaf or orphan status changes, the forest tells its owner through
 * the {@code changed} callback, after the forest is consistent again. Not thread-safe.
 */
final class PrefixForest<K> {
  private final Map<K, Node<K>> resident = new HashMap<>();
  private final Map<K, Node<K>> orphansByParent = new HashMap<>();
  private final Consumer<Node<K>> changed;

  PrefixForest(Consumer<Node<K>> changed) {
    this.changed = changed;
  }

  int size() {
    return resident.size();
  }

  /** The resident node for {@code key}; throws if there is none. */
  Node<K> get(K key) {
    Node<K> n = resident.get(key);
    if (n == null) {
      throw new IllegalArgumentException("block " + key + " is not resident");
    }
    return n;
  }

  /**
   * Links a new resident block in, adopting the orphans that waited for it. The caller ranks the
   * new node itself; {@code changed} is called for the nodes whose status this changed.
   */
  Node<K> add(K key, K parentKey, boolean partial) {
    if (key == null) {
      throw new IllegalArgumentException("block key is null");
    }
    if (key.equals(parentKey)) {
      throw new IllegalArgumentException("block " + key + " is its own parent");
    }
    if (resident.containsKey(key)) {
      throw new IllegalArgumentException("block " + key + " is already resident");
    }
    Node<K> p = parentKey == null ? null : resident.get(parentKey);
    if (p != null && orphansByParent.containsKey(key) && key.equals(root(p).parentKey)) {
      throw new IllegalArgumentException(
          "block " + key + " with parent " + parentKey + " would close a cycle of prefixes");
    }
    Node<K> n = new Node<>(key, parentKey, partial);
    resident.put(key, n);
    Node<K> adopted = orphansByParent.remove(key);
    n.firstChild = adopted;
    boolean parentWasLeaf = p != null && p.isLeaf();
    if (p != null) {
      n.parent = p;
      pushFront(n, p.firstChild);
      p.firstChild = n;
    } else if (parentKey != null) {
      pushFront(n, orphansByParent.get(parentKey));
      orphansByParent.put(parentKey, n);
    }
    for (Node<K> c = adopted; c != null; c = c.nextSibling) {
      c.parent = n;
      changed.accept(c);
    }
    if (parentWasLeaf) {
      changed.accept(p);
    }
    return n;
  }

  /** Unlinks a resident block; its resident children become orphans waiting for its key. */
  void remove(Node<K> n) {
    resident.remove(n.key);
    Node<K> p = n.parent;
    if (n.prevSibling != null) {
      n.prevSibling.nextSibling = n.nextSibling;
    } else if (p != null) {
      p.firstChild = n.nextSibling;
    } else if (n.parentKey != null) {
      if (n.nextSibling == null) {
        orphansByParent.remove(n.parentKey);
      } else {
        orphansByParent.put(n.parentKey, n.nextSibling);
      }
    }
    if (n.nextSibling != null) {
      n.nextSibling.prevSibling = n.prevSibling;
    }
    n.parent = null;
    n.prevSibling = null;
    n.nextSibling = null;
    Node<K> children = n.firstChild;
    n.firstChild = null;
    if (children != null) {
      // A resident block adopted every orphan waiting for it, so no list is there to merge with.
      orphansByParent.put(n.key, children);
      for (Node<K> c = children; c != null; c = c.nextSibling) {
        c.parent = null;
        changed.accept(c);
      }
    }
    if (p != null && p.isLeaf()) {
      changed.accept(p);
    }
  }

  private static <K> Node<K> root(Node<K> n) {
    while (n.parent != null) {
      n = n.parent;
    }
    return n;
  }

  private static <K> void pushFront(Node<K> n, Node<K> head) {
    n.nextSibling = head;
    if (head != null) {
      head.prevSibling = n;
    }
  }
}
