package io.kvhoard.server.cluster;

import io.kvhoard.client.KvHoardClient;
import io.kvhoard.client.PageTable;
import io.kvhoard.client.RetrieveResult;
import io.kvhoard.client.StoreResult;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;

/**
 * The runnable example of the client: a toy inference "engine" with paged KV memory in host RAM,
 * the way vLLM lays it out. One direct buffer is the KV pool, cut into pages of one block each; a
 * request gets free pages for its blocks (its block table) and the client reads into, and writes
 * from, exactly those pages through a {@link PageTable}. "Prefill" stands in for the model: it
 * writes each block's KV as a pure function of the token ids, so a block fetched from the cluster
 * can be checked against what the engine would have computed.
 *
 * <p>Not thread-safe: one request at a time, as the example runs it.
 */
final class ToyEngine {
  private final KvHoardClient kv;
  private final int blockBytes;
  private final int blockTokens;
  private final ByteBuffer pool;
  private final Deque<Integer> freePages = new ArrayDeque<>();

  ToyEngine(KvHoardClient kv, int pages) {
    this.kv = kv;
    this.blockBytes = (int) kv.namespace().layout().bytesPerBlock();
    this.blockTokens = kv.namespace().layout().blockTokens();
    this.pool = ByteBuffer.allocateDirect(pages * blockBytes);
    for (int p = pages - 1; p >= 0; p--) {
      freePages.push(p);
    }
  }

  /** A request's pages: its block table. */
  int[] allocate(int[] prompt) {
    int[] table = new int[prompt.length / blockTokens];
    for (int i = 0; i < table.length; i++) {
      table[i] = freePages.pop();
    }
    return table;
  }

  /** Evicts a request's KV locally: its pages are zeroed and freed. */
  void evict(int[] table) {
    for (int page : table) {
      ByteBuffer b = pool.slice(page * blockBytes, blockBytes);
      while (b.hasRemaining()) {
        b.put((byte) 0);
      }
      freePages.push(page);
    }
  }

  /** The request's pages as the client's memory. */
  PageTable pages(int[] table) {
    return PageTable.pages(pool, blockBytes, table);
  }

  /** "Prefill": computes blocks {@code [fromBlock, table.length)} of the prompt into its pages. */
  void prefill(int[] prompt, int[] table, int fromBlock) {
    for (int i = fromBlock; i < table.length; i++) {
      kvOf(prompt, i, pool.slice(table[i] * blockBytes, blockBytes));
    }
  }

  /** Serves a prompt: fetch the cached prefix, compute the rest, share what was computed. */
  RetrieveResult serve(int[] prompt, int[] table) {
    RetrieveResult cached = kv.retrieve(prompt, pages(table));
    prefill(prompt, table, cached.blocks());
    StoreResult stored = kv.store(prompt, pages(table));
    if (stored.failed() > 0) {
      throw new IllegalStateException("the cluster did not take every block: " + stored);
    }
    return cached;
  }

  /**
   * The KV a model would compute for block {@code block} of {@code prompt}: depends on its prefix.
   */
  void kvOf(int[] prompt, int block, ByteBuffer dst) {
    long seed = 17;
    for (int t = 0; t < (block + 1) * blockTokens; t++) {
      seed = seed * 31 + prompt[t];
    }
    SplittableRandom r = new SplittableRandom(seed);
    ByteBuffer d = dst.duplicate();
    while (d.remaining() >= 8) {
      d.putLong(r.nextLong());
    }
  }

  /** Whether a request's pages hold exactly what prefill computes. */
  boolean holdsComputedKv(int[] prompt, int[] table) {
    ByteBuffer expected = ByteBuffer.allocateDirect(blockBytes);
    for (int i = 0; i < table.length; i++) {
      expected.clear();
      kvOf(prompt, i, expected);
      if (!pool.slice(table[i] * blockBytes, blockBytes).equals(expected.clear())) {
        return false;
      }
    }
    return true;
  }
}
