package io.kvhoard.perf.bench;

import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Data-plane frame codec: encode + decode of a PUT frame carrying one block, against the limit a
 * codec that copies would hit, a plain {@link ByteBuf} copy of the same payload bytes, in the same
 * run. Decoding must be zero-copy, so ours should run far above 1× the copy; {@code
 * encodeDecodeCrc} adds the CRC32C check a receiver makes, which does touch every byte.
 *
 * <p>Frames per second × payload bytes = bytes per second (RESULTS.md converts).
 *
 * <p>Run: {@code java -jar perf/target/kvhoard-perf.jar micro FrameCodec}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FrameCodecBenchmark {
  @Param({"2097152", "33554432"})
  public int payloadBytes;

  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
  private ByteBuf payload;
  private ByteBuf copyTarget;
  private Frame frame;
  private final byte[] key = new byte[32];

  @Setup(Level.Trial)
  public void setup() {
    byte[] data = new byte[payloadBytes];
    new SplittableRandom(1).nextBytes(data);
    payload = alloc.directBuffer(payloadBytes).writeBytes(data);
    copyTarget = alloc.directBuffer(payloadBytes);
    CRC32C crc = new CRC32C();
    crc.update(data);
    new SplittableRandom(2).nextBytes(key);
    FrameBuilder b = Frame.newRequest(Opcode.PUT, 7, NamespaceId.of(1, 2), alloc);
    frame = b.addPut(key, payload.retainedSlice(), (int) crc.getValue()).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    frame.release();
    payload.release();
    copyTarget.release();
  }

  /** Ours: encode the frame (header + retained slices), decode the bytes back into a frame. */
  @Benchmark
  public int encodeDecode() {
    return roundTrip(false);
  }

  /** Ours, as a receiver uses it: also verify the payload's CRC32C. */
  @Benchmark
  public int encodeDecodeCrc() {
    return roundTrip(true);
  }

  /** The limit a copying codec would face: copy the payload once, buffer to buffer. */
  @Benchmark
  public int baselineCopy() {
    copyTarget.clear();
    copyTarget.writeBytes(payload, payload.readerIndex(), payload.readableBytes());
    return copyTarget.writerIndex();
  }

  private int roundTrip(boolean verify) {
    ByteBuf wire = FrameCodec.encode(frame, alloc);
    FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
    try {
      DecodeResult r = reader.read(wire);
      if (!(r instanceof Frame decoded)) {
        throw new IllegalStateException("decode failed: " + r);
      }
      try {
        if (verify && !decoded.blockPayloadMatchesCrc(0)) {
          throw new IllegalStateException("CRC mismatch");
        }
        return decoded.payloadLength();
      } finally {
        decoded.release();
      }
    } finally {
      wire.release();
    }
  }
}
