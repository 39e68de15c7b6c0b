package io.kvhoard.protocol.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Property tests, 105,000 cases in all: whatever bytes arrive, in whatever chunks, the decoder
 * emits only {@link Frame}s and {@link FrameError}s, throws nothing, emits nothing after a fatal
 * error, releases every input, and allocates within the bound; valid frames round-trip exactly.
 *
 * <p>Inputs are wrapped heap arrays and the channel allocator does not track leaks: with 10^5
 * channels the paranoid detector's stack traces would dominate the run. Leaks are checked instead
 * by reference counts: every input chunk must be back at 0, which also proves that the decoder's
 * composite cumulations holding them were released.
 */
class FrameFuzzTest {
  private static final FrameLimits LIMITS = new FrameLimits(1 << 16, 64);
  private static final ByteBufAllocator UNTRACKED = new UnpooledByteBufAllocator(false, true);
  private static final int[] HOSTILE_U32 = {
    0,
    1,
    47,
    48,
    49,
    96,
    1024,
    1025,
    4096,
    1 << 16,
    (1 << 16) - 56,
    (1 << 16) - 55,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0xFFFF_FFC8
  };

  private final Map<FrameStatus, Integer> recoverable = new EnumMap<>(FrameStatus.class);
  private final Map<FrameStatus, Integer> fatal = new EnumMap<>(FrameStatus.class);
  private int frames;
  private int bodyErrors; // rejected after the header passed: proves the fuzzer gets that deep

  @Test
  void decode_arbitraryBytesInArbitraryChunks_yieldsOnlyFramesAndErrors() {
    Fuzz.forAll(
        "arbitrary bytes",
        25_000,
        r -> {
          byte[] bytes = new byte[r.nextInt(0, 600)];
          r.nextBytes(bytes);
          int mode = r.nextInt(3);
          if (mode >= 1 && bytes.length >= 4) {
            System.arraycopy(new byte[] {'K', 'V', 'H', 'F'}, 0, bytes, 0, 4);
          }
          if (mode == 2 && bytes.length >= 56) {
            bytes[4] = 1; // version 1, so most cases go past the version check
            RawFrame.fixHeaderCrc(bytes, 0);
          }
          decodeChecked(bytes, cuts(r, bytes.length), out -> {});
        });
    assertTrue(fatal.getOrDefault(FrameStatus.BAD_FRAME, 0) > 1000, "bad magic: " + fatal);
    assertTrue(fatal.getOrDefault(FrameStatus.BAD_HEADER_CHECKSUM, 0) > 1000, "crc: " + fatal);
    assertTrue(fatal.getOrDefault(FrameStatus.FRAME_TOO_LARGE, 0) > 100, "too large: " + fatal);
  }

  @Test
  void decode_mutatedValidFramesInArbitraryChunks_yieldsOnlyFramesAndErrors() {
    Fuzz.forAll(
        "mutated frames",
        60_000,
        r -> {
          int count = r.nextInt(1, 4);
          List<Integer> starts = new ArrayList<>();
          byte[] bytes = new byte[0];
          for (int i = 0; i < count; i++) {
            starts.add(bytes.length);
            bytes = RawFrame.concat(bytes, randomSpec(r).rawBytes());
          }
          int mutations = r.nextInt(1, 5);
          for (int m = 0; m < mutations; m++) {
            bytes = mutate(r, bytes, starts);
          }
          if (r.nextInt(10) < 7) { // reach the checks behind the header CRC
            for (int s : starts) {
              if (s + 56 <= bytes.length
                  && bytes[s] == 'K'
                  && bytes[s + 1] == 'V'
                  && bytes[s + 2] == 'H'
                  && bytes[s + 3] == 'F') {
                RawFrame.fixHeaderCrc(bytes, s);
              }
            }
          }
          decodeChecked(bytes, cuts(r, bytes.length), out -> {});
        });
    assertTrue(frames > 10_000, "valid frames still get through: " + frames);
    assertTrue(bodyErrors > 1000, "descriptor and body checks reached: " + bodyErrors);
    for (FrameStatus s :
        List.of(
            FrameStatus.BAD_FRAME,
            FrameStatus.UNKNOWN_OPCODE,
            FrameStatus.UNSUPPORTED_VERSION,
            FrameStatus.FRAME_TOO_LARGE)) {
      assertTrue(recoverable.getOrDefault(s, 0) > 50, "recoverable " + s + ": " + recoverable);
    }
    for (FrameStatus s :
        List.of(
            FrameStatus.BAD_FRAME, FrameStatus.BAD_HEADER_CHECKSUM, FrameStatus.FRAME_TOO_LARGE)) {
      assertTrue(fatal.getOrDefault(s, 0) > 50, "fatal " + s + ": " + fatal);
    }
  }

  @Test
  void roundTrip_randomValidFramesInArbitraryChunks_encodeAndDecodeExactlyAsSpecified() {
    Fuzz.forAll(
        "round trip",
        20_000,
        r -> {
          int count = r.nextInt(1, 5);
          List<FrameSpec> specs = new ArrayList<>();
          byte[] expected = new byte[0];
          Frame[] built = new Frame[count];
          for (int i = 0; i < count; i++) {
            FrameSpec spec = randomSpec(r);
            specs.add(spec);
            expected = RawFrame.concat(expected, spec.rawBytes());
            built[i] = spec.build(UNTRACKED);
          }
          assertArrayEquals(expected, Channels.encode(UNTRACKED, built), "encoder output");
          decodeChecked(
              expected,
              cuts(r, expected.length),
              out -> {
                assertEquals(count, out.size(), "one frame per spec");
                for (int i = 0; i < count; i++) {
                  specs.get(i).assertMatches(assertInstanceOf(Frame.class, out.get(i)));
                }
              });
        });
  }

  // -----------------------------------------------------------------------------------------------

  /**
   * Decodes {@code bytes} cut at {@code cuts}, checks everything that must hold for any input, lets
   * {@code inspect} look at the output while its frames are alive, then releases it and checks that
   * nothing is left referenced.
   */
  private void decodeChecked(byte[] bytes, int[] cuts, Consumer<List<Object>> inspect) {
    CountingAllocator alloc = new CountingAllocator(UNTRACKED);
    EmbeddedChannel ch = Channels.decoderChannel(LIMITS, alloc);
    List<ByteBuf> inputs = new ArrayList<>();
    List<Object> out = new ArrayList<>();
    int largestChunk = 0;
    int pos = 0;
    for (int cut : cuts) {
      ByteBuf chunk = Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, pos, pos + cut));
      inputs.add(chunk);
      largestChunk = Math.max(largestChunk, cut);
      pos += cut;
      ch.writeInbound(chunk); // rethrows anything the pipeline threw
      Channels.drain(ch, out);
    }
    assertEquals(bytes.length, pos);
    ch.finish();
    Channels.drain(ch, out);

    boolean failed = false;
    for (Object o : out) {
      assertFalse(failed, "nothing is emitted after a fatal error");
      if (o instanceof FrameError e) {
        checkError(e);
        failed = e.fatal();
      } else if (o instanceof Frame f) {
        checkFrame(f);
        frames++;
      } else {
        fail("the decoder emitted a " + o.getClass().getName() + " for " + Fuzz.hex(bytes));
      }
    }
    inspect.accept(out);
    for (Object o : out) {
      if (o instanceof Frame f) {
        assertTrue(f.release());
      }
    }
    for (ByteBuf in : inputs) {
      assertEquals(0, in.refCnt(), "an input buffer is still referenced");
    }
    assertTrue(
        alloc.largestRequest() <= (long) LIMITS.maxFrameBytes() + largestChunk,
        "allocated " + alloc.largestRequest());
  }

  private void checkError(FrameError e) {
    assertNotEquals(FrameStatus.INTERNAL, e.status(), e.message());
    assertFalse(e.message().isEmpty());
    if (e.fatal()) {
      assertTrue(
          List.of(
                  FrameStatus.BAD_FRAME,
                  FrameStatus.BAD_HEADER_CHECKSUM,
                  FrameStatus.FRAME_TOO_LARGE)
              .contains(e.status()),
          e.toString());
      fatal.merge(e.status(), 1, Integer::sum);
    } else {
      assertNotEquals(FrameStatus.BAD_HEADER_CHECKSUM, e.status());
      recoverable.merge(e.status(), 1, Integer::sum);
      if (e.message().startsWith("block ")
          || e.message().contains("add up")
          || e.message().startsWith("HELLO ")) {
        bodyErrors++;
      }
    }
  }

  /** Every accessor of an accepted frame works and agrees with the others. */
  private static void checkFrame(Frame f) {
    assertTrue(f.frameLength() <= LIMITS.maxFrameBytes());
    assertEquals(
        FrameCodec.HEADER_BYTES + f.descriptorLength() + f.payloadLength(), f.frameLength());
    assertTrue(f.blockCount() <= LIMITS.maxBlocksPerFrame());
    if (f.isError()) {
      assertTrue(f.isResponse());
      assertEquals(0, f.blockCount());
      assertTrue(f.payloadLength() <= FrameCodec.MAX_ERROR_MESSAGE_BYTES);
      assertNotNull(f.errorMessage());
    } else {
      assertNotEquals(0, f.requestId());
      assertNotEquals(Opcode.NONE, f.opcode());
    }
    if (f.opcode() == Opcode.HELLO && !f.isError()) {
      Hello h = f.hello();
      assertTrue(h.minVersion() <= h.maxVersion());
    }
    if (f.opcode().isBlockOp() && !f.isError()) {
      assertEquals(f.blockCount() * FrameCodec.DESCRIPTOR_BYTES, f.descriptorLength());
    }
    byte[] key = new byte[FrameCodec.KEY_BYTES];
    long sum = 0;
    for (int i = 0; i < f.blockCount(); i++) {
      f.getKey(i, key, 0);
      assertTrue(f.blockLength(i) >= 0);
      assertNotNull(f.blockStatus(i));
      assertNotNull(f.blockTier(i));
      f.blockCrc(i);
      if (f.carriesBlockPayloads()) {
        assertEquals(sum, f.blockPayloadOffset(i));
        assertEquals(f.blockLength(i), f.blockPayload(i).readableBytes());
        sum += f.blockLength(i);
      }
    }
    if (f.carriesBlockPayloads()) {
      assertEquals(f.payloadLength(), sum);
    }
    // What the decoder accepts, the encoder writes back in a form the decoder accepts again.
    ByteBuf again = FrameCodec.encode(f, UNTRACKED);
    DecodeResult reread = FrameCodec.newReader(LIMITS).read(again);
    Frame copy = assertInstanceOf(Frame.class, reread, () -> "re-encoded: " + reread);
    assertEquals(f.opcode(), copy.opcode());
    assertEquals(f.requestId(), copy.requestId());
    assertEquals(f.status(), copy.status());
    assertEquals(f.frameLength(), copy.frameLength());
    assertFalse(again.isReadable());
    assertTrue(copy.release());
    assertTrue(again.release());
  }

  // -----------------------------------------------------------------------------------------------
  // Generators

  /** Chunk sizes that add up to {@code length}: whole, single bytes, small or large random cuts. */
  private static int[] cuts(SplittableRandom r, int length) {
    if (length == 0) {
      return new int[0];
    }
    int style = r.nextInt(4);
    if (style == 0) {
      return new int[] {length};
    }
    int max = style == 1 ? 1 : style == 2 ? 64 : length;
    List<Integer> sizes = new ArrayList<>();
    for (int left = length; left > 0; ) {
      int n = Math.min(left, r.nextInt(1, max + 1));
      sizes.add(n);
      left -= n;
    }
    return sizes.stream().mapToInt(Integer::intValue).toArray();
  }

  private static byte[] mutate(SplittableRandom r, byte[] bytes, List<Integer> starts) {
    if (bytes.length == 0) {
      return bytes;
    }
    int s = starts.get(r.nextInt(starts.size()));
    switch (r.nextInt(7)) {
      case 0 -> bytes[r.nextInt(bytes.length)] ^= (byte) (1 << r.nextInt(8));
      case 1 -> bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length));
      case 2 -> {
        int[] fields = {20, 40, 44, 56 + 4, 56 + 8, 56 + 32, 56 + 48 + 32, 56 + 96 + 32};
        int value =
            r.nextBoolean() ? HOSTILE_U32[r.nextInt(HOSTILE_U32.length)] : r.nextInt(0, 4096);
        putIntLe(bytes, s + fields[r.nextInt(fields.length)], value);
      }
      case 3 -> {
        int at = s + r.nextInt(56);
        if (at < bytes.length) {
          bytes[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : r.nextInt(10));
        }
      }
      case 4 -> {
        int at = r.nextInt(bytes.length + 1);
        byte[] extra = new byte[r.nextInt(1, 9)];
        r.nextBytes(extra);
        bytes =
            RawFrame.concat(
                Arrays.copyOf(bytes, at), extra, Arrays.copyOfRange(bytes, at, bytes.length));
      }
      case 5 -> {
        int at = r.nextInt(bytes.length);
        int n = Math.min(r.nextInt(1, 17), bytes.length - at);
        bytes =
            RawFrame.concat(
                Arrays.copyOf(bytes, at), Arrays.copyOfRange(bytes, at + n, bytes.length));
      }
      default -> {
        int at = s + 56 + 48 * r.nextInt(4) + 40 + r.nextInt(4); // status, tier, flags
        if (at < bytes.length) {
          bytes[at] = (byte) r.nextInt(9);
        }
      }
    }
    return bytes;
  }

  private static void putIntLe(byte[] b, int at, int value) {
    for (int i = 0; i < 4 && at + i < b.length; i++) {
      b[at + i] = (byte) (value >>> (8 * i));
    }
  }

  private static final Opcode[] BLOCK_OPS = {
    Opcode.GET, Opcode.PUT, Opcode.CONTAINS_PREFIX, Opcode.DELETE
  };

  /** A random valid frame of any kind. */
  static FrameSpec randomSpec(SplittableRandom r) {
    long id = r.nextLong();
    if (id == 0) {
      id = 1;
    }
    boolean response = r.nextBoolean();
    byte[] noNamespace = new byte[16];
    switch (r.nextInt(10)) {
      case 0:
        {
          int min = response ? 1 : r.nextInt(1, 4);
          Hello hello =
              new Hello(
                  min,
                  min + r.nextInt(0, 4),
                  new FrameLimits(
                      r.nextInt(
                          FrameLimits.MIN_FRAME_BYTES, FrameLimits.MAX_FRAME_BYTES_CEILING + 1),
                      r.nextInt(1, FrameLimits.MAX_BLOCKS_CEILING + 1)));
          return FrameSpec.hello("hello", response, id, hello);
        }
      case 1:
        return FrameSpec.ping("ping", response, id, bytes(r, r.nextInt(0, 200)));
      case 2:
        {
          Opcode[] all = Opcode.values();
          FrameStatus[] statuses = FrameStatus.values();
          StringBuilder msg = new StringBuilder();
          for (int i = r.nextInt(0, 60); i > 0; i--) {
            msg.append((char) (r.nextBoolean() ? r.nextInt(32, 127) : r.nextInt(0xA0, 0xD7FF)));
          }
          return new FrameSpec(
              "error",
              1,
              all[r.nextInt(all.length)],
              true,
              r.nextBoolean() ? 0 : id,
              statuses[r.nextInt(1, statuses.length)],
              noNamespace,
              List.of(),
              null,
              msg.toString().getBytes(StandardCharsets.UTF_8));
        }
      default:
        break;
    }
    Opcode op = BLOCK_OPS[r.nextInt(BLOCK_OPS.length)];
    List<FrameSpec.Block> blocks = new ArrayList<>();
    byte[] payload = new byte[0];
    for (int i = r.nextInt(0, 7); i > 0; i--) {
      FrameSpec.Block b = randomBlock(r, op, response);
      blocks.add(b);
      if (b.payload() != null) {
        payload = RawFrame.concat(payload, b.payload());
      }
    }
    return new FrameSpec(
        "blocks", 1, op, response, id, FrameStatus.OK, bytes(r, 16), blocks, null, payload);
  }

  private static FrameSpec.Block randomBlock(SplittableRandom r, Opcode op, boolean response) {
    byte[] key = bytes(r, 32);
    BlockStatus[] statuses = BlockStatus.values();
    BlockTier[] tiers = BlockTier.values();
    BlockTier tier = tiers[r.nextInt(tiers.length)];
    if (!response) {
      return switch (op) {
        case GET ->
            new FrameSpec.Block(
                key, r.nextInt(0, Integer.MAX_VALUE), 0, BlockStatus.OK, BlockTier.UNKNOWN, null);
        case PUT -> {
          byte[] p = bytes(r, r.nextInt(0, 100));
          yield new FrameSpec.Block(
              key, p.length, RawFrame.crc32c(p), BlockStatus.OK, BlockTier.UNKNOWN, p);
        }
        default -> new FrameSpec.Block(key, 0, 0, BlockStatus.OK, BlockTier.UNKNOWN, null);
      };
    }
    BlockStatus status = statuses[r.nextInt(statuses.length)];
    if (op == Opcode.GET && status == BlockStatus.OK) {
      byte[] p = bytes(r, r.nextInt(0, 100));
      return new FrameSpec.Block(key, p.length, RawFrame.crc32c(p), status, tier, p);
    }
    if (op == Opcode.CONTAINS_PREFIX && status == BlockStatus.OK) {
      return new FrameSpec.Block(key, r.nextInt(0, Integer.MAX_VALUE), 0, status, tier, null);
    }
    return new FrameSpec.Block(key, 0, 0, status, tier, null);
  }

  private static byte[] bytes(SplittableRandom r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }
}
