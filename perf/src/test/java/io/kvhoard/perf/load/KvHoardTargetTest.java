package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kvhoard target's client frames against a fake server that decodes them with the protocol's
 * own codec (until the real server exists).
 */
class KvHoardTargetTest {
  private FakeKvHoardServer fake;
  private KvHoard target;

  @BeforeEach
  void start() throws IOException {
    fake = new FakeKvHoardServer();
    target =
        new KvHoard(
            fake.address(),
            KvHoardConnection.NAMESPACE,
            ByteBufAllocator.DEFAULT,
            ProcFs.system(),
            true);
  }

  @AfterEach
  void stop() throws IOException {
    fake.close();
    assertEquals(List.of(), fake.rejected(), "frames the codec rejected");
  }

  @Test
  void putGetMiss_framesDecodeWithTheCodec_andCarryTheKeyAndNamespace() throws IOException {
    try (Server server = target.start(1 << 20);
        Connection c = target.connect(server.address())) {
      assertEquals(
          OptionalLong.of(ProcessHandle.current().pid()),
          server.pid(),
          "the listening process, found in /proc");
      ByteBuffer block = Harness.block(100_000, 5);
      c.put(5, block);
      byte[] expected = new byte[100_000];
      block.duplicate().get(expected);
      assertArrayEquals(expected, fake.stored(KvHoardConnection.key(5)));

      ByteBuffer dst = BlockContent.newBuffer(1 << 20, 0);
      assertEquals(100_000, c.get(5, dst));
      assertEquals(0, dst.position());
      assertEquals(100_000, dst.limit());
      BlockContent.verify("kvhoard", 5, 100_000, dst);
      assertEquals(-1, c.get(6, dst));
    }
    List<FakeKvHoardServer.Received> frames = fake.received();
    assertEquals(4, frames.size(), frames.toString());
    assertEquals(Opcode.HELLO, frames.get(0).opcode());
    assertEquals(NamespaceId.ZERO.toHex(), frames.get(0).namespaceHex());
    for (int i = 1; i < 4; i++) {
      FakeKvHoardServer.Received f = frames.get(i);
      assertEquals(i == 1 ? Opcode.PUT : Opcode.GET, f.opcode());
      assertEquals(KvHoardConnection.NAMESPACE.toHex(), f.namespaceHex());
      assertEquals(1, f.version());
      assertEquals(1, f.blocks());
      assertEquals(i + 1, f.requestId(), "request ids count up from 1, HELLO first");
    }
  }

  @Test
  void loadRun_putAndVerifiedGetOverTwoConnections() throws IOException {
    LoadRun run = Harness.run(64 << 10, 2);
    try (Server server = target.start(64 << 10)) {
      LoadRun.Result put =
          run.measure(target, server, Harness.plan(Op.PUT, 2, 4 << 20, 0, 1L << 40));
      assertEquals(64, put.ops());
      LoadRun.Result get =
          run.measure(target, server, Harness.plan(Op.GET, 2, 4 << 20, 1 << 20, 2L << 40));
      assertEquals(64, get.ops());
    }
  }

  @Test
  void get_payloadNotMatchingItsCrc_isAWrongBlock() throws IOException {
    try (Server server = target.start(1 << 20);
        Connection c = target.connect(server.address())) {
      c.put(9, Harness.block(10_000, 9));
      fake.corruptGets();
      WrongBlockException e =
          assertThrows(
              WrongBlockException.class, () -> c.get(9, BlockContent.newBuffer(1 << 20, 0)));
      assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    }
  }

  @Test
  void get_withoutCrcCheck_leavesTheCheckToTheHarness() throws IOException {
    KvHoard unchecked =
        new KvHoard(
            fake.address(),
            KvHoardConnection.NAMESPACE,
            ByteBufAllocator.DEFAULT,
            ProcFs.system(),
            false);
    try (Server server = unchecked.start(1 << 20);
        Connection c = unchecked.connect(server.address())) {
      c.put(9, Harness.block(10_000, 9));
      fake.corruptGets();
      ByteBuffer dst = BlockContent.newBuffer(1 << 20, 0);
      assertEquals(10_000, c.get(9, dst), "read without checking its CRC32C");
    }
  }

  @Test
  void start_nothingListening_saysToStartTheServer() throws IOException {
    KvHoard nowhere =
        new KvHoard(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), ServerProcess.freePort()),
            KvHoardConnection.NAMESPACE,
            ByteBufAllocator.DEFAULT,
            ProcFs.system(),
            true);
    IOException e = assertThrows(IOException.class, () -> nowhere.start(1 << 20));
    assertTrue(e.getMessage().contains("start the server first"), e.getMessage());
  }
}
