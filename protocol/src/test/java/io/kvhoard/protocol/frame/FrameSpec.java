package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A frame written down as plain test data: what a test expects, independently of the codec. It can
 * be built with the codec's factories ({@link #build}), written as bytes by the independent {@link
 * RawFrame} writer ({@link #rawBytes}), and compared with a decoded frame ({@link #assertMatches}).
 */
record FrameSpec(
    String name,
    int version,
    Opcode opcode,
    boolean response,
    long requestId,
    FrameStatus status,
    byte[] namespace,
    List<Block> blocks,
    Hello hello,
    byte[] payload) {

  /** One descriptor (and its payload, for PUT requests and GET hits). */
  record Block(
      byte[] key, int length, int crc, BlockStatus status, BlockTier tier, byte[] payload) {
    static Block key(int seed) {
      return new Block(RawFrame.key(seed), 0, 0, BlockStatus.OK, BlockTier.UNKNOWN, null);
    }

    static Block get(int seed, int capacity) {
      return new Block(RawFrame.key(seed), capacity, 0, BlockStatus.OK, BlockTier.UNKNOWN, null);
    }

    static Block put(int seed, byte[] payload) {
      return new Block(
          RawFrame.key(seed),
          payload.length,
          RawFrame.crc32c(payload),
          BlockStatus.OK,
          BlockTier.UNKNOWN,
          payload);
    }

    static Block hit(int seed, byte[] payload, BlockTier tier) {
      return new Block(
          RawFrame.key(seed),
          payload.length,
          RawFrame.crc32c(payload),
          BlockStatus.OK,
          tier,
          payload);
    }

    static Block contained(int seed, int storedLength, BlockTier tier) {
      return new Block(RawFrame.key(seed), storedLength, 0, BlockStatus.OK, tier, null);
    }

    static Block status(int seed, BlockStatus status, BlockTier tier) {
      return new Block(RawFrame.key(seed), 0, 0, status, tier, null);
    }
  }

  static final byte[] NAMESPACE = RawFrame.bytes(16, 0x5A);

  static FrameSpec blocks(
      String name, Opcode opcode, boolean response, long requestId, List<Block> blocks) {
    byte[] payload = new byte[0];
    for (Block b : blocks) {
      if (b.payload() != null) {
        payload = RawFrame.concat(payload, b.payload());
      }
    }
    return new FrameSpec(
        name, 1, opcode, response, requestId, FrameStatus.OK, NAMESPACE, blocks, null, payload);
  }

  static FrameSpec hello(String name, boolean response, long requestId, Hello hello) {
    return new FrameSpec(
        name,
        1,
        Opcode.HELLO,
        response,
        requestId,
        FrameStatus.OK,
        new byte[16],
        List.of(),
        hello,
        new byte[0]);
  }

  static FrameSpec ping(String name, boolean response, long requestId, byte[] payload) {
    return new FrameSpec(
        name,
        1,
        Opcode.PING,
        response,
        requestId,
        FrameStatus.OK,
        new byte[16],
        List.of(),
        null,
        payload);
  }

  static FrameSpec error(
      String name, Opcode opcode, long requestId, FrameStatus status, String message) {
    return new FrameSpec(
        name,
        1,
        opcode,
        true,
        requestId,
        status,
        new byte[16],
        List.of(),
        null,
        message.getBytes(StandardCharsets.UTF_8));
  }

  /** A request or response of every opcode, errors included. */
  static List<FrameSpec> samples() {
    List<FrameSpec> s = new ArrayList<>();
    FrameLimits clientLimits = FrameLimits.DEFAULT;
    FrameLimits serverLimits = new FrameLimits(64 << 20, 1024);
    s.add(hello("hello request", false, 1, new Hello(1, 1, clientLimits)));
    s.add(hello("hello response", true, 1, new Hello(1, 1, serverLimits)));
    s.add(ping("ping request, empty", false, 2, new byte[0]));
    s.add(ping("ping request, 100 bytes", false, 3, RawFrame.bytes(100, 3)));
    s.add(ping("ping response, 100 bytes", true, 3, RawFrame.bytes(100, 3)));
    s.add(blocks("get request, no keys", Opcode.GET, false, 4, List.of()));
    s.add(
        blocks(
            "get request",
            Opcode.GET,
            false,
            5,
            List.of(Block.get(1, 0), Block.get(2, 2 << 20), Block.get(3, 4096))));
    s.add(
        blocks(
            "get response",
            Opcode.GET,
            true,
            5,
            List.of(
                Block.hit(1, RawFrame.bytes(10, 1), BlockTier.HOST),
                Block.status(2, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN),
                Block.status(3, BlockStatus.TOO_LARGE, BlockTier.DISK),
                Block.hit(4, new byte[0], BlockTier.GPU),
                Block.hit(5, RawFrame.bytes(300, 5), BlockTier.DISK))));
    s.add(
        blocks(
            "put request",
            Opcode.PUT,
            false,
            6,
            List.of(Block.put(1, RawFrame.bytes(17, 1)), Block.put(2, RawFrame.bytes(250, 2)))));
    s.add(
        blocks(
            "put response",
            Opcode.PUT,
            true,
            6,
            List.of(
                Block.status(1, BlockStatus.OK, BlockTier.HOST),
                Block.status(2, BlockStatus.EXISTS, BlockTier.UNKNOWN),
                Block.status(3, BlockStatus.NO_SPACE, BlockTier.UNKNOWN),
                Block.status(4, BlockStatus.CHECKSUM_MISMATCH, BlockTier.UNKNOWN),
                Block.status(5, BlockStatus.ERROR, BlockTier.UNKNOWN))));
    s.add(
        blocks(
            "contains_prefix request",
            Opcode.CONTAINS_PREFIX,
            false,
            7,
            List.of(Block.key(1), Block.key(2), Block.key(3))));
    s.add(
        blocks(
            "contains_prefix response",
            Opcode.CONTAINS_PREFIX,
            true,
            7,
            List.of(
                Block.contained(1, 2 << 20, BlockTier.GPU),
                Block.contained(2, 2 << 20, BlockTier.HOST),
                Block.status(3, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN))));
    s.add(blocks("delete request", Opcode.DELETE, false, 8, List.of(Block.key(1), Block.key(2))));
    s.add(
        blocks(
            "delete response",
            Opcode.DELETE,
            true,
            8,
            List.of(
                Block.status(1, BlockStatus.OK, BlockTier.UNKNOWN),
                Block.status(2, BlockStatus.NOT_FOUND, BlockTier.UNKNOWN))));
    s.add(error("error, unknown opcode", Opcode.NONE, 9, FrameStatus.UNKNOWN_OPCODE, "opcode 9?"));
    s.add(error("error, overloaded", Opcode.GET, 10, FrameStatus.OVERLOADED, "busy: retry later"));
    s.add(error("error, no request", Opcode.NONE, 0, FrameStatus.BAD_HEADER_CHECKSUM, ""));
    s.add(
        error(
            "error, namespace",
            Opcode.PUT,
            11,
            FrameStatus.NAMESPACE_UNKNOWN,
            "namespace not served here: \u00e9\u4e2d"));
    return s;
  }

  // -----------------------------------------------------------------------------------------------

  /** Builds this frame with the codec's factories. */
  Frame build(ByteBufAllocator alloc) {
    if (status != FrameStatus.OK) {
      return Frame.error(
          opcode, requestId, status, new String(payload, StandardCharsets.UTF_8), alloc);
    }
    switch (opcode) {
      case HELLO:
        return response
            ? Frame.helloResponse(requestId, version, hello, alloc)
            : Frame.hello(requestId, hello, alloc);
      case PING:
        {
          ByteBuf body = alloc.directBuffer(payload.length).writeBytes(payload);
          return response ? Frame.pingResponse(requestId, body) : Frame.ping(requestId, body);
        }
      default:
        break;
    }
    NamespaceId ns = NamespaceId.of(namespace);
    try (FrameBuilder b =
        response
            ? Frame.newResponse(opcode, requestId, ns, alloc)
            : Frame.newRequest(opcode, requestId, ns, alloc)) {
      for (Block block : blocks) {
        if (!response) {
          switch (opcode) {
            case GET -> b.addGet(block.key(), block.length());
            case PUT -> b.addPut(block.key(), direct(alloc, block.payload()), block.crc());
            default -> b.addKey(block.key());
          }
        } else if (block.payload() != null) {
          b.addHit(block.key(), direct(alloc, block.payload()), block.crc(), block.tier());
        } else if (opcode == Opcode.CONTAINS_PREFIX && block.status() == BlockStatus.OK) {
          b.addContained(block.key(), block.length(), block.tier());
        } else {
          b.addStatus(block.key(), block.status(), block.tier());
        }
      }
      return b.build();
    }
  }

  private static ByteBuf direct(ByteBufAllocator alloc, byte[] bytes) {
    return alloc.directBuffer(bytes.length).writeBytes(bytes);
  }

  /** Writes this frame's bytes with the independent {@link RawFrame} writer. */
  byte[] rawBytes() {
    RawFrame raw = response ? RawFrame.response(opcode.code()) : RawFrame.request(opcode.code());
    raw.version = version;
    raw.id(requestId).namespace(namespace);
    raw.status = status.code();
    if (hello != null) {
      raw.helloBody(
          hello.minVersion(),
          hello.maxVersion(),
          hello.limits().maxFrameBytes(),
          hello.limits().maxBlocksPerFrame());
    }
    for (Block b : blocks) {
      raw.descriptor(b.key(), b.length(), b.crc(), b.status().code(), b.tier().code());
    }
    return raw.payload(payload).bytes();
  }

  /** Asserts that {@code f} has exactly this spec's fields, blocks and bytes. */
  void assertMatches(Frame f) {
    assertEquals(version, f.version(), name + ": version");
    assertEquals(opcode, f.opcode(), name + ": opcode");
    assertEquals(response, f.isResponse(), name + ": response");
    assertEquals(requestId, f.requestId(), name + ": request id");
    assertEquals(status, f.status(), name + ": status");
    assertArrayEquals(namespace, f.namespaceId().toBytes(), name + ": namespace");
    assertEquals(blocks.size(), f.blockCount(), name + ": block count");
    assertEquals(payload.length, f.payloadLength(), name + ": payload length");
    byte[] key = new byte[32];
    int offset = 0;
    for (int i = 0; i < blocks.size(); i++) {
      Block b = blocks.get(i);
      f.getKey(i, key, 0);
      assertArrayEquals(b.key(), key, name + ": key " + i);
      assertArrayEquals(b.key(), f.key(i), name + ": key " + i);
      assertEquals(b.length(), f.blockLength(i), name + ": length " + i);
      assertEquals(b.crc(), f.blockCrc(i), name + ": crc " + i);
      assertEquals(b.status(), f.blockStatus(i), name + ": status " + i);
      assertEquals(b.tier(), f.blockTier(i), name + ": tier " + i);
      if (f.carriesBlockPayloads()) {
        byte[] expected = b.payload() != null ? b.payload() : new byte[0];
        assertEquals(offset, f.blockPayloadOffset(i), name + ": payload offset " + i);
        assertArrayEquals(expected, ByteBufUtil.getBytes(f.blockPayload(i)), name + ": block " + i);
        assertTrue(f.blockPayloadMatchesCrc(i), name + ": crc check " + i);
        offset += expected.length;
      }
    }
    assertEquals(
        status == FrameStatus.OK
            && ((opcode == Opcode.GET && response) || (opcode == Opcode.PUT && !response)),
        f.carriesBlockPayloads(),
        name + ": carries payloads");
    assertArrayEquals(payload, ByteBufUtil.getBytes(f.payload()), name + ": payload");
    if (opcode == Opcode.HELLO && status == FrameStatus.OK) {
      assertEquals(hello, f.hello(), name + ": hello");
    }
    if (status != FrameStatus.OK) {
      assertTrue(f.isError(), name + ": is error");
      assertEquals(new String(payload, StandardCharsets.UTF_8), f.errorMessage(), name);
    } else {
      assertFalse(f.isError(), name + ": is error");
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
