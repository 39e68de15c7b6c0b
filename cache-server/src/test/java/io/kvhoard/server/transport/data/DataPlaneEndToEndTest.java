package io.kvhoard.server.transport.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameStatus;
import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.NamespaceId;
import io.kvhoard.server.KvHoardServer;
import io.kvhoard.server.TestServers;
import io.kvhoard.server.config.Setting;
import io.kvhoard.server.store.host.HostTier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server on loopback, driven over real sockets: the operations, then every kind of hostile
 * input while a second client keeps working.
 */
@Timeout(120)
class DataPlaneEndToEndTest {
  static final NamespaceId NS = NamespaceId.of(3, 4);

  @TempDir Path dir;
  KvHoardServer server;
  InetSocketAddress data;

  @BeforeEach
  void start() throws Exception {
    server =
        KvHoardServer.start(
            TestServers.config(
                dir, "64m", "128m", Setting.MAX_FRAME, "16m", Setting.REQUEST_TIMEOUT, "1s"));
    data = server.dataAddress();
  }

  @AfterEach
  void stop() {
    HostTier host = (HostTier) server.store().tiers().get(0);
    assertEquals(List.of(), server.store().verify());
    server.close();
    assertEquals(0, host.outstandingLeases(), "every lease released after the sends");
  }

  static byte[] key(int n) {
    byte[] k = new byte[32];
    new SplittableRandom(n).nextBytes(k);
    return k;
  }

  static byte[] block(int n, int size) {
    byte[] b = new byte[size];
    new SplittableRandom(n * 17L + size).nextBytes(b);
    return b;
  }

  static int crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  static Frame put(RawClient c, int[] ns, int size) {
    try (FrameBuilder b = Frame.newRequest(Opcode.PUT, c.nextId(), NS, RawClient.alloc())) {
      for (int n : ns) {
        byte[] d = block(n, size);
        b.addPut(key(n), Unpooled.wrappedBuffer(d), crc(d));
      }
      return b.build();
    }
  }

  static Frame get(RawClient c, int slot, int... ns) {
    try (FrameBuilder b = Frame.newRequest(Opcode.GET, c.nextId(), NS, RawClient.alloc())) {
      for (int n : ns) {
        b.addGet(key(n), slot);
      }
      return b.build();
    }
  }

  static Frame keys(RawClient c, Opcode op, int... ns) {
    try (FrameBuilder b = Frame.newRequest(op, c.nextId(), NS, RawClient.alloc())) {
      for (int n : ns) {
        b.addKey(key(n));
      }
      return b.build();
    }
  }

  static byte[] bytes(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.getBytes(b.readerIndex(), out);
    return out;
  }

  // ---- operations --------------------------------------------------------------------------

  @Test
  void putGetContainsDelete_batched_bitExact() throws Exception {
    try (RawClient c = RawClient.hello(data)) {
      Frame r = c.call(put(c, new int[] {1, 2, 3}, 300_000));
      try {
        assertFalse(r.isError());
        for (int i = 0; i < 3; i++) {
          assertEquals(BlockStatus.OK, r.blockStatus(i));
          assertEquals(BlockTier.HOST, r.blockTier(i));
        }
      } finally {
        r.release();
      }
      r = c.call(put(c, new int[] {2}, 300_000));
      try {
        assertEquals(BlockStatus.EXISTS, r.blockStatus(0), "first writer wins");
      } finally {
        r.release();
      }
      r = c.call(get(c, 0, 3, 9, 1));
      try {
        assertEquals(BlockStatus.OK, r.blockStatus(0));
        assertEquals(BlockStatus.NOT_FOUND, r.blockStatus(1));
        assertEquals(BlockStatus.OK, r.blockStatus(2));
        assertTrue(r.blockPayloadMatchesCrc(0) && r.blockPayloadMatchesCrc(2));
        assertArrayEquals(block(3, 300_000), bytes(r.blockPayload(0)));
        assertArrayEquals(block(1, 300_000), bytes(r.blockPayload(2)));
      } finally {
        r.release();
      }
      r = c.call(get(c, 1000, 1));
      try {
        assertEquals(BlockStatus.TOO_LARGE, r.blockStatus(0), "slot smaller than the block");
      } finally {
        r.release();
      }
      r = c.call(keys(c, Opcode.CONTAINS_PREFIX, 1, 2, 9, 3));
      try {
        assertEquals(BlockStatus.OK, r.blockStatus(0));
        assertEquals(300_000, r.blockLength(0));
        assertEquals(BlockStatus.OK, r.blockStatus(1));
        assertEquals(BlockStatus.NOT_FOUND, r.blockStatus(2));
        assertEquals(BlockStatus.NOT_FOUND, r.blockStatus(3), "after the first miss");
      } finally {
        r.release();
      }
      r = c.call(keys(c, Opcode.DELETE, 1, 9));
      try {
        assertEquals(BlockStatus.OK, r.blockStatus(0));
        assertEquals(BlockStatus.NOT_FOUND, r.blockStatus(1));
      } finally {
        r.release();
      }
      assertFalse(
          server
              .store()
              .contains(
                  new io.kvhoard.server.store.StoreKey(
                      NS, io.kvhoard.protocol.key.BlockKey.of(key(1)))));
      r = c.call(Frame.ping(c.nextId(), Unpooled.wrappedBuffer(new byte[] {7, 8, 9})));
      try {
        assertArrayEquals(new byte[] {7, 8, 9}, bytes(r.payload()));
      } finally {
        r.release();
      }
    }
  }

  @Test
  void put_badChecksum_refusedNothingStored() throws Exception {
    try (RawClient c = RawClient.hello(data)) {
      byte[] d = block(5, 1000);
      Frame req;
      try (FrameBuilder b = Frame.newRequest(Opcode.PUT, c.nextId(), NS, RawClient.alloc())) {
        b.addPut(key(5), Unpooled.wrappedBuffer(d), crc(d) ^ 1);
        req = b.build();
      }
      Frame r = c.call(req);
      try {
        assertEquals(BlockStatus.CHECKSUM_MISMATCH, r.blockStatus(0));
      } finally {
        r.release();
      }
      assertEquals(0, server.store().stats().directoryEntries());
    }
  }

  @Test
  void pipelined_manyRequestsInFlight_allAnswered() throws Exception {
    try (RawClient c = RawClient.hello(data)) {
      int n = 64;
      for (int i = 0; i < n; i++) {
        c.send(put(c, new int[] {100 + i}, 20_000));
      }
      for (int i = 0; i < n; i++) {
        Frame r = c.receive();
        try {
          assertEquals(BlockStatus.OK, r.blockStatus(0));
        } finally {
          r.release();
        }
      }
      for (int i = 0; i < n; i++) {
        c.send(get(c, 0, 100 + i));
      }
      for (int i = 0; i < n; i++) {
        Frame r = c.receive();
        try {
          assertEquals(BlockStatus.OK, r.blockStatus(0), "response " + i + ": " + r);
          assertTrue(r.blockPayloadMatchesCrc(0), "response " + i + ": " + r);
        } finally {
          r.release();
        }
      }
    }
  }

  // ---- hostile input -------------------------------------------------------------------------

  /** A PING's wire bytes with header fields changed and the header CRC made valid again. */
  static byte[] forged(int version, int opcode, int payloadLength) {
    ByteBuf wire = FrameCodec.encode(Frame.ping(77, Unpooled.buffer(0)), RawClient.alloc());
    try {
      ByteBuf h = Unpooled.buffer(FrameCodec.HEADER_BYTES);
      h.writeBytes(wire, wire.readerIndex(), FrameCodec.HEADER_BYTES);
      h.setByte(4, version);
      h.setByte(5, opcode);
      h.setIntLE(44, payloadLength);
      h.setIntLE(52, FrameCodec.crc32c(h, 0, 52));
      byte[] out = new byte[FrameCodec.HEADER_BYTES + Math.min(payloadLength, 64)];
      h.getBytes(0, out, 0, FrameCodec.HEADER_BYTES);
      return out;
    } finally {
      wire.release();
    }
  }

  static Frame expectError(RawClient c, FrameStatus status) throws Exception {
    Frame r = c.receive();
    try {
      assertTrue(r.isError(), "an error frame");
      assertEquals(status, r.status(), r.errorMessage());
      return r;
    } finally {
      r.release();
    }
  }

  @Test
  void hostileClients_getErrorsOrAreClosed_whileAnotherClientKeepsWorking() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<Integer> good =
        pool.submit(
            () -> {
              int rounds = 0;
              try (RawClient c = RawClient.hello(data)) {
                while (!stop.get() || rounds < 5) {
                  int n = 1000 + rounds;
                  Frame r = c.call(put(c, new int[] {n}, 64_000));
                  assertEquals(BlockStatus.OK, r.blockStatus(0));
                  r.release();
                  r = c.call(get(c, 0, n));
                  assertArrayEquals(block(n, 64_000), bytes(r.blockPayload(0)));
                  r.release();
                  rounds++;
                }
              }
              return rounds;
            });
    try {
      // 1. garbage: bad magic, fatal
      try (RawClient c = new RawClient(data)) {
        byte[] junk = new byte[4096];
        new SplittableRandom(1).nextBytes(junk);
        c.sendRaw(junk);
        Frame r = c.receive();
        assertEquals(FrameStatus.BAD_FRAME, r.status());
        assertEquals(0, r.requestId());
        r.release();
        assertTrue(c.closedByServer());
      }
      // 2. header checksum wrong: fatal
      try (RawClient c = RawClient.hello(data)) {
        byte[] f = forged(1, Opcode.PING.code(), 0);
        f[52] ^= 1;
        c.sendRaw(f);
        expectError(c, FrameStatus.BAD_HEADER_CHECKSUM);
        assertTrue(c.closedByServer());
      }
      // 3. a length beyond the limit: fatal, nothing buffered
      try (RawClient c = RawClient.hello(data)) {
        c.sendRaw(forged(1, Opcode.PING.code(), 1 << 30));
        expectError(c, FrameStatus.FRAME_TOO_LARGE);
        assertTrue(c.closedByServer());
      }
      // 4. unknown opcode and 5. wrong version: answered, connection kept
      try (RawClient c = RawClient.hello(data)) {
        c.sendRaw(forged(1, 200, 0));
        expectError(c, FrameStatus.UNKNOWN_OPCODE);
        c.sendRaw(forged(9, Opcode.PING.code(), 0));
        expectError(c, FrameStatus.UNSUPPORTED_VERSION);
        Frame r = c.call(Frame.ping(c.nextId(), Unpooled.buffer(0)));
        assertFalse(r.isError(), "still serving this connection");
        r.release();
      }
      // 6. a request before HELLO: refused and closed
      try (RawClient c = new RawClient(data)) {
        c.send(keys(c, Opcode.CONTAINS_PREFIX, 1));
        expectError(c, FrameStatus.BAD_FRAME);
        assertTrue(c.closedByServer());
      }
      // 7. truncated: half a frame, then hang up
      try (RawClient c = RawClient.hello(data)) {
        byte[] f = forged(1, Opcode.PING.code(), 64);
        c.sendRaw(java.util.Arrays.copyOf(f, 30));
      }
      // 8. slowloris: a partial header, then nothing; cut off after the request timeout (1 s)
      try (RawClient c = RawClient.hello(data)) {
        c.sendRaw(java.util.Arrays.copyOf(forged(1, Opcode.PING.code(), 0), 20));
        long t0 = System.nanoTime();
        assertTrue(c.closedByServer(), "a dribbling client is disconnected");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8));
      }
    } finally {
      stop.set(true);
    }
    assertTrue(good.get(60, TimeUnit.SECONDS) >= 5, "the good client kept working");
    pool.shutdown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (server.inflightBytes() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, server.inflightBytes(), "no request bytes left in flight: memory bounded");
  }
}
