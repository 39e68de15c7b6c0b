package io.kvhoard.protocol.frame;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.AbstractReferenceCounted;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One data-plane frame: the header fields, a descriptor section and a payload section (see {@code
 * protocol/PROTOCOL.md}).
 *
 * <p>Ownership: a frame is reference-counted and owns both section buffers; releasing its last
 * reference releases them. Whoever receives a frame, from the decoder or from one of the factories
 * here, releases it or hands it to someone who will (writing it through the encoder does). Buffers
 * returned by accessors are views owned by the frame: valid while it is, never to be released or
 * have their indices changed by the caller ({@code duplicate()} them to read sequentially).
 *
 * <p>A decoded frame's sections are slices of the bytes that arrived, not copies; a frame built
 * here holds the caller's payload buffers as they are.
 *
 * <p>Block accessors ({@link #blockLength(int)}, {@link #getKey(int, byte[], int)} and the others)
 * read the descriptor section in place and allocate nothing.
 *
 * <p>Thread-safety: the header fields and accessors are safe to read from any thread once the frame
 * is published safely; reference counting is thread-safe, as for any Netty {@code
 * ReferenceCounted}.
 */
public final class Frame extends AbstractReferenceCounted implements DecodeResult {
  /** Header version of every HELLO request, so that any server can read one. */
  static final int HELLO_REQUEST_VERSION = 1;

  private final int version;
  private final Opcode opcode;
  private final boolean response;
  private final long requestId;
  private final FrameStatus status;
  private final NamespaceId namespaceId;
  private final int blockCount;
  private final ByteBuf descriptors; // bytes [0, descriptorLength)
  private final int descriptorLength;
  private final ByteBuf payload; // bytes [0, payloadLength)
  private final int payloadLength;
  // Start of block i's payload at [i], end of the last block at [blockCount]; only for frames that
  // carry block payloads (PUT requests, GET responses), null otherwise.
  private final int[] payloadOffsets;
  private final Hello hello; // HELLO frames only

  /** Takes ownership of both buffers, whose readable bytes must start at index 0. */
  Frame(
      int version,
      Opcode opcode,
      boolean response,
      long requestId,
      FrameStatus status,
      NamespaceId namespaceId,
      int blockCount,
      ByteBuf descriptors,
      ByteBuf payload,
      int[] payloadOffsets,
      Hello hello) {
    this.version = version;
    this.opcode = opcode;
    this.response = response;
    this.requestId = requestId;
    this.status = status;
    this.namespaceId = namespaceId;
    this.blockCount = blockCount;
    this.descriptors = descriptors;
    this.descriptorLength = descriptors.readableBytes();
    this.payload = payload;
    this.payloadLength = payload.readableBytes();
    this.payloadOffsets = payloadOffsets;
    this.hello = hello;
  }

  // ---------------------------------------------------------------------------------------------
  // Factories

  /**
   * A builder for a block request (GET, PUT, CONTAINS_PREFIX, DELETE). Call {@link
   * FrameBuilder#build()} or {@link FrameBuilder#close()}.
   *
   * @param requestId the id the response will echo; non-zero, unique among the connection's
   *     requests in flight
   */
  public static FrameBuilder newRequest(
      Opcode opcode, long requestId, NamespaceId namespaceId, ByteBufAllocator alloc) {
    return new FrameBuilder(opcode, false, requestId, namespaceId, alloc);
  }

  /** A builder for the successful response to a block request with these header fields. */
  public static FrameBuilder newResponse(
      Opcode opcode, long requestId, NamespaceId namespaceId, ByteBufAllocator alloc) {
    return new FrameBuilder(opcode, true, requestId, namespaceId, alloc);
  }

  /**
   * A builder for the successful response to {@code request}: same opcode, request id, namespace
   * and version. Does not release {@code request}.
   */
  public static FrameBuilder newResponse(Frame request, ByteBufAllocator alloc) {
    if (request.isResponse()) {
      throw new IllegalArgumentException("cannot answer a response: " + request);
    }
    return newResponse(request.opcode(), request.requestId(), request.namespaceId(), alloc)
        .version(request.version());
  }

  /** A HELLO request offering {@code hello}; its header version is always 1. */
  public static Frame hello(long requestId, Hello hello, ByteBufAllocator alloc) {
    checkRequestId(requestId);
    return new Frame(
        HELLO_REQUEST_VERSION,
        Opcode.HELLO,
        false,
        requestId,
        FrameStatus.OK,
        NamespaceId.ZERO,
        0,
        helloBody(hello, alloc),
        Unpooled.EMPTY_BUFFER,
        null,
        hello);
  }

  /**
   * The successful answer to a HELLO: {@code chosenVersion} in the header (see {@link
   * Hello#negotiate(Hello)}), the server's own range and limits in the body.
   */
  public static Frame helloResponse(
      long requestId, int chosenVersion, Hello serverHello, ByteBufAllocator alloc) {
    checkRequestId(requestId);
    checkVersion(chosenVersion);
    if (chosenVersion < serverHello.minVersion() || chosenVersion > serverHello.maxVersion()) {
      throw new IllegalArgumentException(
          "chosen version "
              + chosenVersion
              + " is outside the server's range "
              + serverHello.minVersion()
              + ".."
              + serverHello.maxVersion());
    }
    return new Frame(
        chosenVersion,
        Opcode.HELLO,
        true,
        requestId,
        FrameStatus.OK,
        NamespaceId.ZERO,
        0,
        helloBody(serverHello, alloc),
        Unpooled.EMPTY_BUFFER,
        null,
        serverHello);
  }

  /**
   * A PING request carrying {@code payload} (possibly empty), which the server echoes. Takes
   * ownership of {@code payload}, also when it throws.
   */
  public static Frame ping(long requestId, ByteBuf payload) {
    return pingFrame(false, requestId, payload);
  }

  /** The answer to a PING, echoing {@code payload}. Takes ownership of {@code payload}. */
  public static Frame pingResponse(long requestId, ByteBuf payload) {
    return pingFrame(true, requestId, payload);
  }

  /**
   * An error response: {@code status} with {@code message} as its UTF-8 payload, truncated at a
   * character boundary to {@link FrameCodec#MAX_ERROR_MESSAGE_BYTES}.
   *
   * @param opcode the request's opcode, or {@link Opcode#NONE} if it was unknown or unreadable
   * @param requestId the request's id, or 0 if it could not be read
   */
  public static Frame error(
      Opcode opcode, long requestId, FrameStatus status, String message, ByteBufAllocator alloc) {
    Objects.requireNonNull(opcode, "opcode");
    Objects.requireNonNull(message, "message");
    if (status == FrameStatus.OK) {
      throw new IllegalArgumentException("an error response needs a status other than OK");
    }
    byte[] utf8 = truncatedUtf8(message, FrameCodec.MAX_ERROR_MESSAGE_BYTES);
    ByteBuf body =
        utf8.length == 0
            ? Unpooled.EMPTY_BUFFER
            : alloc.buffer(utf8.length, utf8.length).writeBytes(utf8);
    return new Frame(
        FrameCodec.MAX_VERSION,
        opcode,
        true,
        requestId,
        status,
        NamespaceId.ZERO,
        0,
        Unpooled.EMPTY_BUFFER,
        body,
        null,
        null);
  }

  /** The error response that answers a frame the decoder rejected. */
  public static Frame error(FrameError rejected, ByteBufAllocator alloc) {
    return error(
        rejected.opcode(), rejected.requestId(), rejected.status(), rejected.message(), alloc);
  }

  // ---------------------------------------------------------------------------------------------
  // Header

  /** Protocol version of this frame. */
  public int version() {
    return version;
  }

  /** What the frame asks for or answers. */
  public Opcode opcode() {
    return opcode;
  }

  /** Whether this frame is a response (header flag bit 0). */
  public boolean isResponse() {
    return response;
  }

  /** Whether this frame is an error response: a status other than OK. */
  public boolean isError() {
    return status != FrameStatus.OK;
  }

  /** The request id, echoed by the response. */
  public long requestId() {
    return requestId;
  }

  /** The frame status: OK, or why the request failed as a whole. */
  public FrameStatus status() {
    return status;
  }

  /** The namespace the blocks belong to; {@link NamespaceId#ZERO} for HELLO, PING and errors. */
  public NamespaceId namespaceId() {
    return namespaceId;
  }

  /** Number of block descriptors; 0 unless this is a successful block frame. */
  public int blockCount() {
    return blockCount;
  }

  /** Length of the descriptor section in bytes. */
  public int descriptorLength() {
    return descriptorLength;
  }

  /** Length of the payload section in bytes. */
  public int payloadLength() {
    return payloadLength;
  }

  /** Length of the whole frame on the wire, header included. */
  public int frameLength() {
    return FrameCodec.HEADER_BYTES + descriptorLength + payloadLength;
  }

  /** The descriptor section (a view owned by this frame; see the class comment). */
  public ByteBuf descriptors() {
    return descriptors;
  }

  /** The payload section (a view owned by this frame; see the class comment). */
  public ByteBuf payload() {
    return payload;
  }

  // ---------------------------------------------------------------------------------------------
  // Blocks

  /** Copies block {@code block}'s 32-byte key into {@code dst} at {@code dstIndex}. */
  public void getKey(int block, byte[] dst, int dstIndex) {
    descriptors.getBytes(descriptorOffset(block), dst, dstIndex, FrameCodec.KEY_BYTES);
  }

  /** Block {@code block}'s 32-byte key, in a new array. */
  public byte[] key(int block) {
    byte[] key = new byte[FrameCodec.KEY_BYTES];
    getKey(block, key, 0);
    return key;
  }

  /**
   * Block {@code block}'s length field: its payload bytes in this frame (PUT request, GET
   * response), the caller's slot capacity with 0 for no limit (GET request), the stored size
   * (CONTAINS_PREFIX response), or 0.
   */
  public int blockLength(int block) {
    return descriptors.getIntLE(descriptorOffset(block) + 32);
  }

  /** Block {@code block}'s CRC32C (PUT request, GET response; 0 elsewhere). */
  public int blockCrc(int block) {
    return descriptors.getIntLE(descriptorOffset(block) + 36);
  }

  /** Block {@code block}'s status; always OK in requests. */
  public BlockStatus blockStatus(int block) {
    return BlockStatus.byCode(descriptors.getUnsignedShortLE(descriptorOffset(block) + 40));
  }

  /** Where the server holds block {@code block}; always UNKNOWN in requests. */
  public BlockTier blockTier(int block) {
    return BlockTier.byCode(descriptors.getUnsignedByte(descriptorOffset(block) + 42));
  }

  /** Whether this frame carries block payloads: a PUT request or a GET response. */
  public boolean carriesBlockPayloads() {
    return payloadOffsets != null;
  }

  /** Offset of block {@code block}'s payload in {@link #payload()}. */
  public int blockPayloadOffset(int block) {
    Objects.checkIndex(block, blockCount);
    return offsets()[block];
  }

  /**
   * Block {@code block}'s payload: a slice of {@link #payload()}, not retained (a view owned by
   * this frame, like the section itself; {@code retain()} it to keep it longer than the frame).
   */
  public ByteBuf blockPayload(int block) {
    Objects.checkIndex(block, blockCount);
    int[] offsets = offsets();
    return payload.slice(offsets[block], offsets[block + 1] - offsets[block]);
  }

  /** Whether block {@code block}'s payload matches the CRC32C in its descriptor. */
  public boolean blockPayloadMatchesCrc(int block) {
    Objects.checkIndex(block, blockCount);
    int[] offsets = offsets();
    int crc = FrameCodec.crc32c(payload, offsets[block], offsets[block + 1] - offsets[block]);
    return crc == blockCrc(block);
  }

  // ---------------------------------------------------------------------------------------------
  // Bodies of non-block frames

  /** The HELLO body: the sender's version range and limits. */
  public Hello hello() {
    if (hello == null) {
      throw new IllegalStateException("not a HELLO frame: " + this);
    }
    return hello;
  }

  /** The error message of an error response. */
  public String errorMessage() {
    if (!isError()) {
      throw new IllegalStateException("not an error frame: " + this);
    }
    return payload.toString(0, payloadLength, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------------------------------------
  // Reference counting

  @Override
  public Frame retain() {
    super.retain();
    return this;
  }

  @Override
  public Frame retain(int increment) {
    super.retain(increment);
    return this;
  }

  @Override
  public Frame touch() {
    return touch(null);
  }

  @Override
  public Frame touch(Object hint) {
    descriptors.touch(hint);
    payload.touch(hint);
    return this;
  }

  @Override
  protected void deallocate() {
    try {
      descriptors.release();
    } finally {
      payload.release();
    }
  }

  @Override
  public String toString() {
    StringBuilder sb =
        new StringBuilder("Frame[")
            .append(opcode)
            .append(response ? " response" : " request")
            .append(" v")
            .append(version)
            .append(" id=")
            .append(requestId);
    if (isError()) {
      sb.append(' ').append(status);
    }
    if (opcode.isBlockOp() && !isError()) {
      sb.append(" ns=").append(namespaceId).append(" blocks=").append(blockCount);
    }
    return sb.append(" payload=").append(payloadLength).append("B]").toString();
  }

  // ---------------------------------------------------------------------------------------------

  ByteBuf descriptorBuffer() {
    return descriptors;
  }

  ByteBuf payloadBuffer() {
    return payload;
  }

  private int descriptorOffset(int block) {
    return Objects.checkIndex(block, blockCount) * FrameCodec.DESCRIPTOR_BYTES;
  }

  private int[] offsets() {
    if (payloadOffsets == null) {
      throw new IllegalStateException(
          "only PUT requests and GET responses carry block payloads: " + this);
    }
    return payloadOffsets;
  }

  private static Frame pingFrame(boolean response, long requestId, ByteBuf payload) {
    Objects.requireNonNull(payload, "payload");
    ByteBuf body;
    try {
      checkRequestId(requestId);
      int max = FrameLimits.MAX_FRAME_BYTES_CEILING - FrameCodec.HEADER_BYTES;
      if (payload.readableBytes() > max) {
        throw new IllegalArgumentException(
            "a PING payload is at most " + max + " bytes, got " + payload.readableBytes());
      }
      body = payload.readerIndex() == 0 ? payload : payload.slice();
    } catch (RuntimeException e) {
      payload.release();
      throw e;
    }
    return new Frame(
        FrameCodec.MAX_VERSION,
        Opcode.PING,
        response,
        requestId,
        FrameStatus.OK,
        NamespaceId.ZERO,
        0,
        Unpooled.EMPTY_BUFFER,
        body,
        null,
        null);
  }

  private static ByteBuf helloBody(Hello hello, ByteBufAllocator alloc) {
    Objects.requireNonNull(hello, "hello");
    return alloc
        .buffer(FrameCodec.HELLO_BODY_BYTES, FrameCodec.HELLO_BODY_BYTES)
        .writeByte(hello.minVersion())
        .writeByte(hello.maxVersion())
        .writeShortLE(0)
        .writeIntLE(hello.limits().maxFrameBytes())
        .writeIntLE(hello.limits().maxBlocksPerFrame())
        .writeIntLE(0);
  }

  static void checkRequestId(long requestId) {
    if (requestId == 0) {
      throw new IllegalArgumentException(
          "request id 0 is reserved for errors that belong to no request; use a non-zero id");
    }
  }

  static void checkVersion(int version) {
    if (version < FrameCodec.MIN_VERSION || version > FrameCodec.MAX_VERSION) {
      throw new IllegalArgumentException(
          "version "
              + version
              + " is outside this codec's range "
              + FrameCodec.MIN_VERSION
              + ".."
              + FrameCodec.MAX_VERSION);
    }
  }

  /** {@code s} as UTF-8, cut to at most {@code max} bytes without splitting a character. */
  static byte[] truncatedUtf8(String s, int max) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    if (utf8.length <= max) {
      return utf8;
    }
    int end = max;
    while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
      end--; // utf8[end] continues a character that started before it: cut before that start
    }
    return Arrays.copyOf(utf8, end);
  }
}
