package io.kvhoard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.server.config.Setting;
import io.kvhoard.server.index.PodMatch;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * {@code serve --vllm-events}: the server follows a vLLM pod into its own prefix index, which then
 * scores the pod for the prompt the pod stored.
 */
class KvHoardServerVllmTest {
  @TempDir Path dir;

  private static final Namespace QWEN =
      Namespace.newBuilder().setModelId("Qwen/Qwen3-0.6B").build();

  /** Tokens 1000..1031: two vLLM blocks of 16. */
  private static long[] tokens() {
    long[] t = new long[32];
    for (int i = 0; i < t.length; i++) {
      t[i] = 1000 + i;
    }
    return t;
  }

  /** An EventBatch with one BlockStored of two blocks, in vLLM's positional encoding. */
  private static byte[] storedBatch() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MessagePacker p = MessagePack.newDefaultPacker(bytes)) {
      p.packArrayHeader(2).packDouble(1.0).packArrayHeader(1);
      // [tag, block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium]
      p.packArrayHeader(7).packString("BlockStored");
      p.packArrayHeader(2).packLong(41).packLong(42);
      p.packNil();
      p.packArrayHeader(32);
      for (long t : tokens()) {
        p.packLong(t);
      }
      p.packInt(16).packNil().packString("GPU");
    }
    return bytes.toByteArray();
  }

  private static int blocksHeld(KvHoardServer server, String pod) {
    long[] keys = server.index().keysOfTokens(QWEN, tokens(), 32);
    return server.index().match(QWEN, keys, List.of(pod)).stream().mapToInt(PodMatch::blocks).sum();
  }

  private static boolean eventThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().startsWith("kvhoard-vllm-events") && t.isAlive());
  }

  @Test
  void serve_withVllmEvents_indexesThePodsBlocksAndStopsOnClose() throws Exception {
    try (ZContext ctx = new ZContext(1)) {
      ZMQ.Socket pub = ctx.createSocket(SocketType.PUB);
      int port = pub.bindToRandomPort("tcp://127.0.0.1");
      KvHoardServer server =
          KvHoardServer.start(
              TestServers.config(
                  dir,
                  "4m",
                  "0",
                  Setting.PAGE_SIZE,
                  "64k",
                  Setting.VLLM_EVENTS,
                  "vllm-0=tcp://127.0.0.1:" + port));
      try {
        assertEquals(0, blocksHeld(server, "vllm-0"), "nothing indexed before the pod publishes");
        // Publish batch after batch until the subscriber has joined and the index has the blocks
        // (a PUB drops what it sends before then), so the test does not depend on when the SUB
        // connects; the same blocks stored again change nothing.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (long seq = 0;
            blocksHeld(server, "vllm-0") == 0 && System.nanoTime() < deadline;
            seq++) {
          pub.sendMore("kv@vllm-0@Qwen/Qwen3-0.6B".getBytes(StandardCharsets.UTF_8));
          pub.sendMore(ByteBuffer.allocate(8).putLong(seq).array());
          pub.send(storedBatch());
          Thread.sleep(50);
        }

        assertEquals(2, blocksHeld(server, "vllm-0"), "both blocks of the prompt, within 30 s");
        assertEquals(List.of("vllm-0"), server.index().pods(QWEN));
        assertEquals(
            0,
            server
                .index()
                .match(QWEN, server.index().keysOfTokens(QWEN, tokens(), 32), List.of())
                .stream()
                .filter(m -> !m.pod().equals("vllm-0"))
                .mapToInt(PodMatch::blocks)
                .sum(),
            "no other pod");
        assertTrue(eventThreadAlive());
      } finally {
        server.close();
      }
      assertFalse(eventThreadAlive(), "close() stops the event source");
    }
  }

  @Test
  void serve_withoutVllmEvents_startsNoEventThread() throws Exception {
    try (KvHoardServer server =
        KvHoardServer.start(TestServers.config(dir, "4m", "0", Setting.PAGE_SIZE, "64k"))) {
      assertTrue(server.ready());
      assertFalse(eventThreadAlive());
    }
  }
}
