package io.kvhoard.protocol.frame;

import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Objects;

/**
 * Builds one block frame (GET, PUT, CONTAINS_PREFIX or DELETE, request or successful response),
 * descriptor by descriptor, in the order the blocks go on the wire. Made by {@link
 * Frame#newRequest} and {@link Frame#newResponse}.
 *
 * <p>Each {@code add} method is valid for some frames only (say, {@link #addGet} for GET requests)
 * and checks the same rules the decoder enforces, so a frame built here is never rejected by a peer
 * with the same limits. Payload buffers are taken as they are, never copied: the frame's payload
 * section is a composite of them.
 *
 * <p>Ownership: methods that take a payload take ownership of it, also when they throw. The builder
 * owns what it has collected until {@link #build()} hands it to the frame; call {@link #close()}
 * (try-with-resources) to release it when {@code build()} is not reached.
 *
 * <p>Not thread-safe: one thread builds one frame.
 */
public final class FrameBuilder implements AutoCloseable {
  private static final int INITIAL_BLOCKS = 16;

  private final Opcode opcode;
  private final boolean response;
  private final long requestId;
  private final NamespaceId namespaceId;
  private final ByteBufAllocator alloc;
  private final boolean carriesPayloads;
  private int version = FrameCodec.MAX_VERSION;
  private ByteBuf descriptors; // allocated on the first block
  private CompositeByteBuf payloads; // allocated on the first non-empty payload
  private int[] payloadOffsets; // carrying frames only; [i] = start of block i
  private int blockCount;
  private long payloadLength;
  private boolean finished;

  FrameBuilder(
      Opcode opcode,
      boolean response,
      long requestId,
      NamespaceId namespaceId,
      ByteBufAllocator alloc) {
    Objects.requireNonNull(opcode, "opcode");
    Objects.requireNonNull(namespaceId, "namespaceId");
    Objects.requireNonNull(alloc, "alloc");
    if (!opcode.isBlockOp()) {
      throw new IllegalArgumentException(
          opcode + " is not a block operation; use Frame.hello, Frame.ping or Frame.error");
    }
    Frame.checkRequestId(requestId);
    this.opcode = opcode;
    this.response = response;
    this.requestId = requestId;
    this.namespaceId = namespaceId;
    this.alloc = alloc;
    this.carriesPayloads = FrameRules.carriesBlockPayloads(opcode, response);
    if (carriesPayloads) {
      payloadOffsets = new int[INITIAL_BLOCKS + 1];
    }
  }

  /** The header version; defaults to {@link FrameCodec#MAX_VERSION}. */
  public FrameBuilder version(int version) {
    checkOpen();
    Frame.checkVersion(version);
    this.version = version;
    return this;
  }

  /** Adds a key to a CONTAINS_PREFIX or DELETE request. */
  public FrameBuilder addKey(byte[] key) {
    expect(!response && (opcode == Opcode.CONTAINS_PREFIX || opcode == Opcode.DELETE), "addKey");
    return add(key, 0, 0, BlockStatus.OK, BlockTier.UNKNOWN, null);
  }

  /**
   * Adds a key to a GET request, to be read into a slot of {@code slotCapacity} bytes (0: no
   * limit). A block larger than the slot comes back as {@link BlockStatus#TOO_LARGE}.
   */
  public FrameBuilder addGet(byte[] key, int slotCapacity) {
    expect(!response && opcode == Opcode.GET, "addGet");
    if (slotCapacity < 0) {
      throw new IllegalArgumentException("slot capacity must be >= 0, got " + slotCapacity);
    }
    return add(key, slotCapacity, 0, BlockStatus.OK, BlockTier.UNKNOWN, null);
  }

  /**
   * Adds a block to a PUT request: the readable bytes of {@code payload}, whose CRC32C is {@code
   * crc32c} (see {@link FrameCodec#crc32c}). Takes ownership of {@code payload}.
   */
  public FrameBuilder addPut(byte[] key, ByteBuf payload, int crc32c) {
    Objects.requireNonNull(payload, "payload");
    try {
      expect(!response && opcode == Opcode.PUT, "addPut");
    } catch (RuntimeException e) {
      payload.release();
      throw e;
    }
    return add(key, payload.readableBytes(), crc32c, BlockStatus.OK, BlockTier.UNKNOWN, payload);
  }

  /**
   * Adds a found block to a GET response: the readable bytes of {@code payload}, with its stored
   * CRC32C and the tier it was read from. Takes ownership of {@code payload}.
   */
  public FrameBuilder addHit(byte[] key, ByteBuf payload, int crc32c, BlockTier tier) {
    Objects.requireNonNull(payload, "payload");
    try {
      expect(response && opcode == Opcode.GET, "addHit");
      Objects.requireNonNull(tier, "tier");
    } catch (RuntimeException e) {
      payload.release();
      throw e;
    }
    return add(key, payload.readableBytes(), crc32c, BlockStatus.OK, tier, payload);
  }

  /** Adds a held block to a CONTAINS_PREFIX response, with its stored size and tier. */
  public FrameBuilder addContained(byte[] key, int storedLength, BlockTier tier) {
    expect(response && opcode == Opcode.CONTAINS_PREFIX, "addContained");
    if (storedLength < 0) {
      throw new IllegalArgumentException("stored length must be >= 0, got " + storedLength);
    }
    return add(key, storedLength, 0, BlockStatus.OK, tier, null);
  }

  /**
   * Adds a block without payload to a response: the outcome of a PUT or DELETE, or a GET or
   * CONTAINS_PREFIX miss ({@link BlockStatus#NOT_FOUND}, {@link BlockStatus#TOO_LARGE}, ...).
   */
  public FrameBuilder addStatus(byte[] key, BlockStatus status, BlockTier tier) {
    expect(response, "addStatus");
    return add(key, 0, 0, status, tier, null);
  }

  /** Number of blocks added so far. */
  public int blockCount() {
    return blockCount;
  }

  /**
   * The frame. Hands everything collected to it; the builder is spent afterwards.
   *
   * @throws IllegalStateException if already built or closed
   */
  public Frame build() {
    checkOpen();
    finished = true;
    ByteBuf desc = descriptors != null ? descriptors : Unpooled.EMPTY_BUFFER;
    ByteBuf body = payloads != null ? payloads : Unpooled.EMPTY_BUFFER;
    int[] offsets = carriesPayloads ? Arrays.copyOf(payloadOffsets, blockCount + 1) : null;
    descriptors = null;
    payloads = null;
    return new Frame(
        version,
        opcode,
        response,
        requestId,
        FrameStatus.OK,
        namespaceId,
        blockCount,
        desc,
        body,
        offsets,
        null);
  }

  /** Releases what was collected, unless {@link #build()} already handed it over. Idempotent. */
  @Override
  public void close() {
    finished = true;
    ByteBuf desc = descriptors;
    ByteBuf body = payloads;
    descriptors = null;
    payloads = null;
    try {
      if (desc != null) {
        desc.release();
      }
    } finally {
      if (body != null) {
        body.release();
      }
    }
  }

  private FrameBuilder add(
      byte[] key, int length, int crc, BlockStatus status, BlockTier tier, ByteBuf payload) {
    ByteBuf pending = payload; // owned here until handed to the composite
    try {
      checkOpen();
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(tier, "tier");
      if (key.length != FrameCodec.KEY_BYTES) {
        throw new IllegalArgumentException(
            "a block key is " + FrameCodec.KEY_BYTES + " bytes, got " + key.length);
      }
      String problem =
          FrameRules.descriptorProblem(
              opcode, response, length, crc, status.code(), tier.code(), 0, 0);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
      if (blockCount == FrameLimits.MAX_BLOCKS_CEILING) {
        throw new IllegalArgumentException(
            "a frame holds at most " + FrameLimits.MAX_BLOCKS_CEILING + " blocks");
      }
      long newPayloadLength = payloadLength + (payload != null ? length : 0);
      long frameLength =
          FrameCodec.HEADER_BYTES
              + (long) (blockCount + 1) * FrameCodec.DESCRIPTOR_BYTES
              + newPayloadLength;
      if (frameLength > FrameLimits.MAX_FRAME_BYTES_CEILING) {
        throw new IllegalArgumentException(
            "the frame would be "
                + frameLength
                + " bytes, over the ceiling of "
                + FrameLimits.MAX_FRAME_BYTES_CEILING);
      }
      if (descriptors == null) {
        descriptors = alloc.buffer(INITIAL_BLOCKS * FrameCodec.DESCRIPTOR_BYTES);
      }
      if (length > 0 && payload != null && payloads == null) {
        payloads = alloc.compositeBuffer(Integer.MAX_VALUE);
      }
      descriptors
          .writeBytes(key)
          .writeIntLE(length)
          .writeIntLE(crc)
          .writeShortLE(status.code())
          .writeByte(tier.code())
          .writeByte(0)
          .writeIntLE(0);
      if (pending != null) {
        pending = null;
        if (length > 0) {
          payloads.addComponent(true, payload); // releases payload itself if it fails
        } else {
          payload.release();
        }
      }
      if (carriesPayloads) {
        if (blockCount + 2 > payloadOffsets.length) {
          payloadOffsets = Arrays.copyOf(payloadOffsets, payloadOffsets.length * 2);
        }
        payloadOffsets[blockCount + 1] = (int) newPayloadLength;
      }
      blockCount++;
      payloadLength = newPayloadLength;
      return this;
    } catch (RuntimeException e) {
      if (pending != null) {
        pending.release();
      }
      throw e;
    }
  }

  private void expect(boolean allowed, String method) {
    if (!allowed) {
      throw new IllegalStateException(
          method + " does not apply to a " + opcode + (response ? " response" : " request"));
    }
  }

  private void checkOpen() {
    if (finished) {
      throw new IllegalStateException("this builder has already built its frame or was closed");
    }
  }
}
