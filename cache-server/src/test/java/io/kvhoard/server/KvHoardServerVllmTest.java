package io.kvhoard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.server.config.Setting;
import io.kvhoard.server.index.CountingEventSink;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** {@code serve --vllm-events}: the server follows a vLLM pod and delivers to its index sink. */
class KvHoardServerVllmTest {
  @TempDir Path dir;

  private static byte[] removedBatch(long hash) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MessagePacker p = MessagePack.newDefaultPacker(bytes)) {
      p.packArrayHeader(2).packDouble(1.0).packArrayHeader(1);
      p.packArrayHeader(3).packString("BlockRemoved").packArrayHeader(1).packLong(hash);
      p.packString("GPU");
    }
    return bytes.toByteArray();
  }

  private static boolean eventThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().startsWith("kvhoard-vllm-events") && t.isAlive());
  }

  @Test
  void serve_withVllmEvents_deliversThePodsEventsToTheIndexSinkAndStopsOnClose() throws Exception {
    LinkedBlockingQueue<BlockEvent> got = new LinkedBlockingQueue<>();
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
                  "vllm-0=tcp://127.0.0.1:" + port),
              got::add);
      try {
        // Publish batch after batch until the subscriber has joined and one arrives (a PUB drops
        // what it sends before then), so the test does not depend on when the SUB connects.
        BlockEvent e = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (long seq = 0; e == null && System.nanoTime() < deadline; seq++) {
          pub.sendMore("kv@vllm-0@Qwen/Qwen3-0.6B".getBytes(StandardCharsets.UTF_8));
          pub.sendMore(ByteBuffer.allocate(8).putLong(seq).array());
          pub.send(removedBatch(42));
          e = got.poll(50, TimeUnit.MILLISECONDS);
        }

        assertNotNull(e, "an event within 30 s");
        assertEquals("vllm-0", e.getPod());
        assertEquals("Qwen/Qwen3-0.6B", e.getNamespace().getModelId());
        assertEquals(
            42L, ByteBuffer.wrap(e.getRemoved().getKeys(0).getDigest().toByteArray()).getLong());
        assertTrue(eventThreadAlive());
      } finally {
        server.close();
      }
      assertFalse(eventThreadAlive(), "close() stops the event source");
    }
  }

  @Test
  void serve_withoutVllmEvents_startsNoEventThread() throws Exception {
    CountingEventSink sink = new CountingEventSink();
    try (KvHoardServer server =
        KvHoardServer.start(TestServers.config(dir, "4m", "0", Setting.PAGE_SIZE, "64k"), sink)) {
      assertTrue(server.ready());
      assertFalse(eventThreadAlive());
      assertEquals(sink, server.indexSink());
    }
  }
}
