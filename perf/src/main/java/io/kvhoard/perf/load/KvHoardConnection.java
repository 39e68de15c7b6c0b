package io.kvhoard.perf.load;

import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameError;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.Hello;
import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * kvhoard's data-plane frames ({@code protocol/PROTOCOL.md}) on a blocking socket: HELLO when the
 * connection opens, then one PUT or GET frame of one block at a time, encoded and decoded by the
 * protocol's own codec ({@link FrameCodec}, {@link FrameReader}).
 *
 * <p>Copies: a PUT's payload goes from the caller's buffer to the socket in the same gathering
 * write as the header and descriptor; a GET response's payload is read from the socket straight
 * into the caller's buffer, and the codec then decodes the frame over that buffer without copying
 * it. The harness computes the CRC32C of every block it PUTs (the server checks it and refuses a
 * block without a matching one). Checking the CRC32C of every block it GETs, as kvhoard's client
 * library does, is optional: the harness checks every system's blocks alike (length, first and last
 * bytes), so that servers are compared, not client libraries.
 *
 * <p>Not thread-safe (see {@link Connection}).
 */
final class KvHoardConnection implements Connection {
  /** The namespace every benchmark block is stored in: the bytes {@code "kvhoardperfblock"}. */
  static final NamespaceId NAMESPACE =
      NamespaceId.of("kvhoardperfblock".getBytes(StandardCharsets.US_ASCII));

  /** Bytes 8..31 of every key (bytes 0..7 are the id, big-endian). */
  private static final byte[] KEY_SUFFIX =
      "kvhoard-perf-blocks-key.".getBytes(StandardCharsets.US_ASCII);

  /** Most bytes of a descriptor section or a non-block payload (an error message) accepted. */
  private static final int MAX_SMALL_SECTION = 1 << 20;

  private final Wire wire;
  private final NamespaceId namespace;
  private final ByteBufAllocator alloc;
  private final FrameReader reader = FrameCodec.newReader(FrameLimits.DEFAULT);
  private final byte[] key = new byte[FrameCodec.KEY_BYTES];
  private final CRC32C crc = new CRC32C();
  private final boolean checkCrc;
  private int version;
  private FrameLimits sendLimits;
  private long lastRequestId;

  private KvHoardConnection(
      Wire wire, NamespaceId namespace, ByteBufAllocator alloc, boolean checkCrc) {
    this.wire = wire;
    this.checkCrc = checkCrc;
    this.namespace = namespace;
    this.alloc = alloc;
    System.arraycopy(KEY_SUFFIX, 0, key, 8, KEY_SUFFIX.length);
  }

  /**
   * Connects to {@code address} and negotiates the version and limits with HELLO.
   *
   * @param checkCrc whether GET checks the CRC32C of every block it reads
   */
  static KvHoardConnection open(
      InetSocketAddress address, NamespaceId namespace, ByteBufAllocator alloc, boolean checkCrc)
      throws IOException {
    Wire wire = Wire.connect(address);
    try {
      KvHoardConnection c = new KvHoardConnection(wire, namespace, alloc, checkCrc);
      c.hello();
      return c;
    } catch (IOException | RuntimeException e) {
      wire.close();
      throw e;
    }
  }

  /** The 32-byte key the harness uses for {@code id}. */
  static byte[] key(long id) {
    byte[] k = new byte[FrameCodec.KEY_BYTES];
    ByteBuffer.wrap(k).putLong(id).put(KEY_SUFFIX);
    return k;
  }

  private void hello() throws IOException {
    long id = ++lastRequestId;
    send(Frame.hello(id, Hello.of(FrameLimits.DEFAULT), alloc));
    Frame answer = receive(id, Opcode.HELLO, 0, null);
    try {
      version = answer.version();
      sendLimits = FrameLimits.DEFAULT.intersect(answer.hello().limits());
    } finally {
      answer.release();
    }
  }

  @Override
  public void put(long id, ByteBuffer block) throws IOException {
    int n = block.remaining();
    checkFits(n);
    setKey(id);
    crc.reset();
    crc.update(block.duplicate());
    long requestId = ++lastRequestId;
    Frame request;
    try (FrameBuilder b = Frame.newRequest(Opcode.PUT, requestId, namespace, alloc)) {
      b.version(version)
          .addPut(key, Unpooled.wrappedBuffer(block.duplicate()), (int) crc.getValue());
      request = b.build();
    }
    send(request);
    Frame answer = receive(requestId, Opcode.PUT, 1, null);
    try {
      BlockStatus status = answer.blockStatus(0);
      // EXISTS: the key was stored before (first writer wins); the block is there all the same.
      if (status != BlockStatus.OK && status != BlockStatus.EXISTS) {
        throw new ProtocolException(
            "kvhoard answered " + status + " to a PUT of " + n + " bytes (key " + hex(id) + ")");
      }
    } finally {
      answer.release();
    }
  }

  @Override
  public int get(long id, ByteBuffer dst) throws IOException {
    setKey(id);
    long requestId = ++lastRequestId;
    Frame request;
    try (FrameBuilder b = Frame.newRequest(Opcode.GET, requestId, namespace, alloc)) {
      b.version(version).addGet(key, dst.capacity());
      request = b.build();
    }
    send(request);
    Frame answer = receive(requestId, Opcode.GET, 1, dst);
    try {
      BlockStatus status = answer.blockStatus(0);
      if (status == BlockStatus.NOT_FOUND) {
        return -1;
      }
      if (status != BlockStatus.OK) {
        throw new ProtocolException("kvhoard answered " + status + " to a GET of key " + hex(id));
      }
      if (!Arrays.equals(answer.key(0), key)) {
        throw new WrongBlockException(
            "kvhoard answered a GET of key " + hex(id) + " for another key");
      }
      if (checkCrc && !answer.blockPayloadMatchesCrc(0)) {
        throw new WrongBlockException(
            "kvhoard returned a block whose bytes do not match its CRC32C (key " + hex(id) + ")");
      }
      int n = answer.blockLength(0);
      if (n == 0) {
        dst.clear().limit(0);
      }
      return n;
    } finally {
      answer.release();
    }
  }

  private void checkFits(int blockBytes) throws ProtocolException {
    long frameBytes = (long) FrameCodec.HEADER_BYTES + FrameCodec.DESCRIPTOR_BYTES + blockBytes;
    if (frameBytes > sendLimits.maxFrameBytes()) {
      throw new ProtocolException(
          "a PUT of "
              + blockBytes
              + " bytes is a frame of "
              + frameBytes
              + " bytes; the server accepts at most "
              + sendLimits.maxFrameBytes());
    }
  }

  private void setKey(long id) {
    for (int i = 0; i < 8; i++) {
      key[i] = (byte) (id >>> (56 - 8 * i));
    }
  }

  /** Encodes {@code frame} (releasing it) and writes it in one gathering write. */
  private void send(Frame frame) throws IOException {
    List<ByteBuf> parts = new ArrayList<>(3);
    try {
      FrameCodec.encode(frame, alloc, parts);
    } finally {
      frame.release();
    }
    try {
      List<ByteBuffer> nio = new ArrayList<>();
      for (ByteBuf part : parts) {
        nio.addAll(Arrays.asList(part.nioBuffers()));
      }
      wire.write(nio.toArray(new ByteBuffer[0]));
    } finally {
      for (ByteBuf part : parts) {
        part.release();
      }
    }
  }

  /**
   * Reads one frame and decodes it with the codec. A successful GET response's payload is read
   * straight into {@code payloadDst} (left flipped: position 0, limit the payload's length), and
   * the codec decodes over it. Checks that the frame answers request {@code requestId} with {@code
   * opcode} and {@code blocks} descriptors; an error frame becomes an exception. The caller
   * releases the frame.
   */
  private Frame receive(long requestId, Opcode opcode, int blocks, ByteBuffer payloadDst)
      throws IOException {
    ByteBuffer header = wire.take(FrameCodec.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int opcodeCode = header.get(5) & 0xFF;
    int status = header.getShort(16) & 0xFFFF;
    int descriptorLength = header.getInt(40);
    int payloadLength = header.getInt(44);
    boolean intoDst =
        payloadDst != null && status == 0 && opcodeCode == Opcode.GET.code() && payloadLength > 0;
    if (descriptorLength < 0 || descriptorLength > MAX_SMALL_SECTION) {
      throw new ProtocolException("kvhoard sent a descriptor section of " + descriptorLength);
    }
    if (payloadLength < 0
        || (intoDst && payloadLength > payloadDst.capacity())
        || (!intoDst && payloadLength > MAX_SMALL_SECTION)) {
      throw new ProtocolException(
          "kvhoard sent a payload section of " + payloadLength + " bytes, more than asked for");
    }
    int headBytes = FrameCodec.HEADER_BYTES + descriptorLength + (intoDst ? 0 : payloadLength);
    ByteBuf whole = Unpooled.buffer(headBytes, headBytes);
    DecodeResult result;
    try {
      whole.writeBytes(header);
      copyInto(whole, headBytes - FrameCodec.HEADER_BYTES);
      if (intoDst) {
        payloadDst.clear();
        wire.readFully(payloadDst, payloadLength);
        payloadDst.flip();
        whole = Unpooled.wrappedBuffer(whole, Unpooled.wrappedBuffer(payloadDst.duplicate()));
      }
      result = reader.read(whole);
    } finally {
      whole.release();
    }
    if (result instanceof FrameError error) {
      throw new ProtocolException("kvhoard sent a frame the codec rejects: " + error.message());
    }
    if (!(result instanceof Frame frame)) {
      throw new ProtocolException("kvhoard sent an incomplete frame");
    }
    try {
      if (frame.isError()) {
        throw new ProtocolException(
            "kvhoard answered " + frame.status() + ": " + frame.errorMessage());
      }
      if (!frame.isResponse()
          || frame.requestId() != requestId
          || frame.opcode() != opcode
          || frame.blockCount() != blocks) {
        throw new ProtocolException(
            "kvhoard answered request " + requestId + " (" + opcode + ") with " + frame);
      }
      return frame;
    } catch (IOException | RuntimeException e) {
      frame.release();
      throw e;
    }
  }

  /** Appends the next {@code n} bytes from the wire to {@code dst}. */
  private void copyInto(ByteBuf dst, int n) throws IOException {
    while (n > 0) {
      int chunk = Math.min(n, Wire.RECEIVE_BUFFER_BYTES);
      dst.writeBytes(wire.take(chunk));
      n -= chunk;
    }
  }

  private static String hex(long id) {
    return Long.toHexString(id);
  }

  @Override
  public void close() throws IOException {
    wire.close();
  }
}
