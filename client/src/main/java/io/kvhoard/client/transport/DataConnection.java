package io.kvhoard.client.transport;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.BlockTier;
import io.kvhoard.protocol.frame.DecodeResult;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.FrameCodec;
import io.kvhoard.protocol.frame.FrameError;
import io.kvhoard.protocol.frame.FrameLimits;
import io.kvhoard.protocol.frame.FrameReader;
import io.kvhoard.protocol.frame.Hello;
import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

/**
 * One data-plane connection to one server ({@code protocol/PROTOCOL.md}): HELLO when it opens, then
 * batches of GET, PUT and CONTAINS_PREFIX, each split into frames that are all sent before the
 * responses are read (pipelined by request id; the server may answer out of order).
 *
 * <p>Design. The socket is non-blocking with a selector of its own, so every wait ends at the
 * batch's deadline and no thread is needed beyond the caller's. A GET response is read in three
 * steps: the 56-byte header (checked by the protocol's own {@link FrameReader} before anything else
 * is read), the descriptors, then each found block's payload straight from the socket into the
 * caller's slot: the kernel's copy is the only one. The whole frame (the header and descriptors in
 * a small buffer, the payloads in place) is then run through the reader to apply every rule of the
 * protocol, and each block's key, size and CRC32C are checked before it is reported {@link
 * BlockOutcome#OK}; a block that fails is {@link BlockOutcome#CORRUPT}, a miss. PUT payloads go
 * from the caller's memory to the socket in one gathering write, without a copy.
 *
 * <p>After a timeout, an I/O error or a response that breaks the protocol the connection is
 * unusable ({@link #isUsable()} false): it may hold part of an abandoned response, so it is closed,
 * never reused.
 *
 * <p>Not thread-safe: one batch at a time, on one thread. {@link #close()} may be called from any
 * thread.
 */
public final class DataConnection implements AutoCloseable {
  /** Largest descriptor section or non-GET payload section accepted (an error message is 1 KiB). */
  private static final int MAX_SMALL_SECTION = 64 << 20;

  private final ServerAddress server;
  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  private final FrameLimits ownLimits;
  private final ByteBufAllocator alloc;
  private final LongSupplier ticker;
  private final FrameReader reader;
  private final CRC32C crc = new CRC32C();
  private ByteBuffer head = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
  private FrameLimits sendLimits;
  private int version = FrameCodec.MIN_VERSION;
  private long lastRequestId;
  private volatile boolean usable = true;

  private DataConnection(
      ServerAddress server,
      SocketChannel channel,
      Selector selector,
      SelectionKey key,
      FrameLimits ownLimits,
      ByteBufAllocator alloc,
      LongSupplier ticker) {
    this.server = server;
    this.channel = channel;
    this.selector = selector;
    this.key = key;
    this.ownLimits = ownLimits;
    this.alloc = alloc;
    this.ticker = ticker;
    this.reader = FrameCodec.newReader(ownLimits);
  }

  /**
   * Connects to {@code server} and says HELLO, all by {@code deadlineNanos} (on {@code ticker}).
   *
   * @param ownLimits what this side accepts (told to the server in HELLO)
   * @throws SocketTimeoutException if the deadline passes first
   * @throws IOException if the server cannot be reached or refuses HELLO
   */
  public static DataConnection open(
      ServerAddress server,
      FrameLimits ownLimits,
      ByteBufAllocator alloc,
      LongSupplier ticker,
      long deadlineNanos)
      throws IOException {
    SocketChannel channel = SocketChannel.open();
    Selector selector = null;
    DataConnection c = null;
    try {
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      selector = Selector.open();
      SelectionKey key = channel.register(selector, 0);
      c = new DataConnection(server, channel, selector, key, ownLimits, alloc, ticker);
      if (!channel.connect(server.toSocketAddress())) {
        while (!channel.finishConnect()) {
          c.await(SelectionKey.OP_CONNECT, deadlineNanos);
        }
      }
      c.hello(deadlineNanos);
      return c;
    } catch (IOException | RuntimeException e) {
      if (c != null) {
        c.close();
      } else {
        closeQuietly(channel);
        if (selector != null) {
          closeQuietly(selector);
        }
      }
      if (e instanceof IOException io && !(e instanceof SocketTimeoutException)) {
        throw new IOException("cannot open a connection to " + server + ": " + io.getMessage(), io);
      }
      throw e;
    }
  }

  /** The server this connection talks to. */
  public ServerAddress server() {
    return server;
  }

  /** Whether the connection is open and in step with the server. */
  public boolean isUsable() {
    return usable && channel.isOpen();
  }

  /**
   * The most blocks of {@code blockBytes} one frame may carry both ways, at most {@code
   * targetFrameBytes} of payload (at least one block).
   */
  public int blocksPerFrame(int blockBytes, long targetFrameBytes) {
    FrameLimits both = ownLimits.intersect(sendLimits);
    long perBlock = FrameCodec.DESCRIPTOR_BYTES + (long) blockBytes;
    long byLimit = (both.maxFrameBytes() - FrameCodec.HEADER_BYTES) / perBlock;
    long byTarget = Math.max(1, targetFrameBytes / Math.max(1, blockBytes));
    return (int) Math.max(1, Math.min(Math.min(byLimit, byTarget), both.maxBlocksPerFrame()));
  }

  private void hello(long deadlineNanos) throws IOException {
    long id = ++lastRequestId;
    send(Frame.hello(id, Hello.of(ownLimits), alloc), deadlineNanos);
    Frame answer = receiveSmall(deadlineNanos);
    try {
      if (answer.requestId() != id || answer.opcode() != Opcode.HELLO) {
        throw new ProtocolException(server + " answered HELLO with " + answer);
      }
      if (answer.isError()) {
        throw new ProtocolException(
            server + " refused HELLO: " + answer.status() + " " + answer.errorMessage());
      }
      version = answer.version();
      sendLimits = answer.hello().limits();
    } finally {
      answer.release();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Batches

  /**
   * Reads {@code slots} (each with a buffer of exactly {@code blockBytes}) in frames of at most
   * {@code perFrame} blocks, at most {@code window} frames in flight, reporting each block to
   * {@code sink} as it is checked.
   *
   * @throws SocketTimeoutException if the deadline passes; blocks not reported yet are not read
   * @throws IOException if the connection fails or the server breaks the protocol
   */
  public void get(
      NamespaceId ns,
      List<Slot> slots,
      int blockBytes,
      int perFrame,
      int window,
      long deadlineNanos,
      BlockSink sink)
      throws IOException {
    pipeline(
        Opcode.GET,
        ns,
        slots,
        perFrame,
        window,
        deadlineNanos,
        (b, s) -> b.addGet(s.key().toBytes(), blockBytes),
        pending -> readGetResponse(pending, blockBytes, deadlineNanos, sink));
  }

  /**
   * Stores {@code slots} (each buffer's remaining bytes, CRC32C computed here) in frames of at most
   * {@code perFrame} blocks, at most {@code window} frames in flight.
   */
  public void put(
      NamespaceId ns,
      List<Slot> slots,
      int perFrame,
      int window,
      long deadlineNanos,
      BlockSink sink)
      throws IOException {
    pipeline(
        Opcode.PUT,
        ns,
        slots,
        perFrame,
        window,
        deadlineNanos,
        (b, s) -> {
          ByteBuffer src = s.buffer().duplicate();
          crc.reset();
          crc.update(src.duplicate());
          b.addPut(s.key().toBytes(), Unpooled.wrappedBuffer(src), (int) crc.getValue());
        },
        pending -> readStatusResponse(Opcode.PUT, pending, deadlineNanos, sink));
  }

  /** Asks which of {@code slots} the server holds (one CONTAINS_PREFIX frame per part). */
  public void contains(
      NamespaceId ns, List<Slot> slots, int perFrame, long deadlineNanos, BlockSink sink)
      throws IOException {
    pipeline(
        Opcode.CONTAINS_PREFIX,
        ns,
        slots,
        perFrame,
        Integer.MAX_VALUE,
        deadlineNanos,
        (b, s) -> b.addKey(s.key().toBytes()),
        pending -> readStatusResponse(Opcode.CONTAINS_PREFIX, pending, deadlineNanos, sink));
  }

  /** Adds one slot's descriptor (and payload) to a request. */
  private interface Describer {
    void add(FrameBuilder b, Slot s);
  }

  /** Reads one response and removes its request from the pending ones. */
  private interface ResponseReader {
    void read(Map<Long, List<Slot>> pending) throws IOException;
  }

  /**
   * Sends {@code slots} as requests of at most {@code perFrame} blocks, keeping at most {@code
   * window} of them unanswered: a new request goes out as each response has been read. A small
   * window keeps the responses' bytes short in the socket buffers, so they are still in the CPU's
   * caches when they are copied into the slots; two frames keep the server busy while the previous
   * one is read.
   */
  private void pipeline(
      Opcode op,
      NamespaceId ns,
      List<Slot> slots,
      int perFrame,
      int window,
      long deadlineNanos,
      Describer describer,
      ResponseReader responses)
      throws IOException {
    Map<Long, List<Slot>> pending = new HashMap<>();
    try {
      int from = 0;
      while (from < slots.size() || !pending.isEmpty()) {
        while (from < slots.size() && pending.size() < window) {
          List<Slot> part = slots.subList(from, Math.min(slots.size(), from + perFrame));
          from += part.size();
          long id = ++lastRequestId;
          Frame request;
          try (FrameBuilder b = Frame.newRequest(op, id, ns, alloc)) {
            b.version(version);
            for (Slot s : part) {
              describer.add(b, s);
            }
            request = b.build();
          }
          pending.put(id, part);
          send(request, deadlineNanos);
        }
        responses.read(pending);
      }
    } catch (IOException | RuntimeException e) {
      usable = false;
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Responses

  /** Reads one GET response, its payloads straight into the slots of its request. */
  private void readGetResponse(
      Map<Long, List<Slot>> pending, int blockBytes, long deadlineNanos, BlockSink sink)
      throws IOException {
    readHeader(deadlineNanos);
    long id = head.getLong(8);
    int status = head.getShort(16) & 0xFFFF;
    int opcode = head.get(5) & 0xFF;
    List<Slot> part = pending.remove(id);
    if (part == null) {
      throw new ProtocolException(server + " answered request " + id + ", which is not pending");
    }
    if (status != 0 || opcode != Opcode.GET.code()) {
      Frame f = readRestSmall(deadlineNanos);
      try {
        refuse(f, Opcode.GET, part, sink);
      } finally {
        f.release();
      }
      return;
    }
    int count = head.getInt(20);
    int descriptorLength = head.getInt(40);
    long payloadLength = head.getInt(44) & 0xFFFF_FFFFL;
    if (count != part.size() || descriptorLength != count * FrameCodec.DESCRIPTOR_BYTES) {
      throw new ProtocolException(
          server + " answered a GET of " + part.size() + " blocks with " + count);
    }
    int total = FrameCodec.HEADER_BYTES + descriptorLength;
    ensureHead(total);
    head.limit(total).position(FrameCodec.HEADER_BYTES);
    readFully(head, deadlineNanos);
    // Where each payload goes, before reading any: lengths must fit the slots and add up.
    ByteBuffer[] views = new ByteBuffer[count];
    long sum = 0;
    for (int i = 0; i < count; i++) {
      int d = FrameCodec.HEADER_BYTES + i * FrameCodec.DESCRIPTOR_BYTES;
      int length = head.getInt(d + 32);
      int blockStatus = head.getShort(d + 40) & 0xFFFF;
      if (length < 0 || length > blockBytes || (length > 0 && blockStatus != 0)) {
        throw new ProtocolException(
            server + " sent a GET block of " + Integer.toUnsignedString(length) + " bytes");
      }
      if (length > 0) {
        views[i] = part.get(i).buffer().duplicate().clear().limit(length);
        sum += length;
      }
    }
    if (sum != payloadLength) {
      throw new ProtocolException(
          server + "'s GET payload lengths add up to " + sum + ", not " + payloadLength);
    }
    // Each payload's CRC32C right after it lands, while its bytes are still in the CPU's caches.
    int[] crcs = new int[count];
    for (int i = 0; i < count; i++) {
      ByteBuffer v = views[i];
      if (v != null) {
        readFully(v, deadlineNanos);
        v.flip();
        crc.reset();
        crc.update(v.duplicate());
        crcs[i] = (int) crc.getValue();
      }
    }
    validate(total, views);
    for (int i = 0; i < count; i++) {
      int d = FrameCodec.HEADER_BYTES + i * FrameCodec.DESCRIPTOR_BYTES;
      Slot s = part.get(i);
      BlockStatus bs = statusOf(head.getShort(d + 40) & 0xFFFF);
      BlockTier tier = tierOf(head.get(d + 42) & 0xFF);
      if (!BlockKey.read(head, d).equals(s.key())) {
        throw new ProtocolException(server + " answered a GET for another key");
      }
      BlockOutcome outcome;
      if (bs == BlockStatus.OK) {
        ByteBuffer v = views[i];
        boolean whole = v != null && v.remaining() == blockBytes;
        outcome = whole && crcs[i] == head.getInt(d + 36) ? BlockOutcome.OK : BlockOutcome.CORRUPT;
      } else if (bs == BlockStatus.NOT_FOUND) {
        outcome = BlockOutcome.MISSING;
      } else {
        outcome = BlockOutcome.REFUSED;
      }
      sink.accept(s.index(), outcome, tier);
    }
  }

  /** Runs the whole received frame through the codec: every rule of the protocol, no copy. */
  private void validate(int headBytes, ByteBuffer[] payloads) throws ProtocolException {
    List<ByteBuffer> parts = new ArrayList<>(payloads.length + 1);
    parts.add(head.duplicate().clear().limit(headBytes).order(ByteOrder.BIG_ENDIAN));
    for (ByteBuffer p : payloads) {
      if (p != null && p.hasRemaining()) {
        parts.add(p.duplicate());
      }
    }
    decodeWhole(Unpooled.wrappedBuffer(parts.toArray(new ByteBuffer[0]))).release();
  }

  /**
   * Decodes one whole frame from {@code bytes} (released here; the frame's sections are retained
   * slices of them, so the caller releases the frame).
   *
   * @throws ProtocolException if the codec rejects the frame or it is not all there
   */
  private Frame decodeWhole(ByteBuf bytes) throws ProtocolException {
    DecodeResult r;
    try {
      r = reader.read(bytes);
    } finally {
      bytes.release();
    }
    if (r instanceof Frame f) {
      return f;
    }
    throw rejected(r instanceof FrameError e ? e.message() : "incomplete");
  }

  private ProtocolException rejected(String why) {
    return new ProtocolException(server + " sent a frame the codec rejects: " + why);
  }

  /** Reads a PUT or CONTAINS_PREFIX response and reports its blocks. */
  private void readStatusResponse(
      Opcode op, Map<Long, List<Slot>> pending, long deadlineNanos, BlockSink sink)
      throws IOException {
    Frame f = receiveSmall(deadlineNanos);
    try {
      List<Slot> part = pending.remove(f.requestId());
      if (part == null || !f.isResponse()) {
        throw new ProtocolException(server + " sent " + f + ", which answers no pending request");
      }
      if (f.isError() || f.opcode() != op) {
        refuse(f, op, part, sink);
        return;
      }
      if (f.blockCount() != part.size()) {
        throw new ProtocolException(
            server + " answered " + part.size() + " blocks with " + f.blockCount());
      }
      for (int i = 0; i < part.size(); i++) {
        Slot s = part.get(i);
        if (!Arrays.equals(f.key(i), s.key().toBytes())) {
          throw new ProtocolException(server + " answered a " + op + " for another key");
        }
        BlockStatus bs = f.blockStatus(i);
        BlockOutcome outcome =
            switch (bs) {
              case OK -> BlockOutcome.OK;
              case EXISTS -> BlockOutcome.EXISTS;
              case NOT_FOUND -> BlockOutcome.MISSING;
              default -> BlockOutcome.REFUSED;
            };
        sink.accept(s.index(), outcome, f.blockTier(i));
      }
    } finally {
      f.release();
    }
  }

  /** An error frame (or a response to another opcode): every block of the request is refused. */
  private void refuse(Frame f, Opcode op, List<Slot> part, BlockSink sink)
      throws ProtocolException {
    if (!f.isError()) {
      throw new ProtocolException(server + " answered a " + op + " with " + f);
    }
    for (Slot s : part) {
      sink.accept(s.index(), BlockOutcome.REFUSED, BlockTier.UNKNOWN);
    }
  }

  /** Reads a whole frame whose sections are small, and decodes it. The caller releases it. */
  private Frame receiveSmall(long deadlineNanos) throws IOException {
    readHeader(deadlineNanos);
    return readRestSmall(deadlineNanos);
  }

  /** After {@link #readHeader}: reads the sections into the head buffer and decodes the frame. */
  private Frame readRestSmall(long deadlineNanos) throws IOException {
    long descriptors = head.getInt(40) & 0xFFFF_FFFFL;
    long payload = head.getInt(44) & 0xFFFF_FFFFL;
    if (descriptors + payload > MAX_SMALL_SECTION) {
      throw new ProtocolException(
          server + " sent a frame of " + (descriptors + payload) + " bytes where a small one fits");
    }
    int total = (int) (FrameCodec.HEADER_BYTES + descriptors + payload);
    ensureHead(total);
    head.limit(total).position(FrameCodec.HEADER_BYTES);
    readFully(head, deadlineNanos);
    // A copy of these few bytes: the frame's sections are slices of it, and head is reused.
    return decodeWhole(Unpooled.copiedBuffer(head.array(), 0, total));
  }

  /** Reads the 56-byte header into {@code head} and checks it with the codec. */
  private void readHeader(long deadlineNanos) throws IOException {
    head.clear().limit(FrameCodec.HEADER_BYTES);
    readFully(head, deadlineNanos);
    ByteBuf h = Unpooled.wrappedBuffer(head.array(), 0, FrameCodec.HEADER_BYTES);
    DecodeResult r;
    try {
      r = reader.read(h);
    } finally {
      h.release();
    }
    if (r instanceof FrameError e) {
      throw rejected(e.message());
    }
    if (r instanceof Frame f) {
      f.release(); // a frame with no sections: complete already, read again by the caller's path
    }
    if ((head.getShort(6) & 1) == 0) {
      throw new ProtocolException(server + " sent a request, not a response");
    }
  }

  private void ensureHead(int bytes) {
    if (head.capacity() < bytes) {
      ByteBuffer bigger =
          ByteBuffer.allocate(Math.max(bytes, 2 * head.capacity())).order(ByteOrder.LITTLE_ENDIAN);
      bigger.put(head.array(), 0, FrameCodec.HEADER_BYTES);
      head = bigger;
    }
  }

  private static BlockStatus statusOf(int code) {
    BlockStatus[] all = BlockStatus.values();
    return code < all.length ? all[code] : BlockStatus.ERROR;
  }

  private static BlockTier tierOf(int code) {
    BlockTier[] all = BlockTier.values();
    return code < all.length ? all[code] : BlockTier.UNKNOWN;
  }

  // ---------------------------------------------------------------------------------------------
  // I/O with deadlines

  /** Encodes {@code frame} (releasing it) and writes it all, payloads without a copy. */
  private void send(Frame frame, long deadlineNanos) throws IOException {
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
      ByteBuffer[] out = nio.toArray(new ByteBuffer[0]);
      long remaining = 0;
      for (ByteBuffer b : out) {
        remaining += b.remaining();
      }
      while (remaining > 0) {
        checkDeadline(deadlineNanos);
        long n = channel.write(out);
        remaining -= n;
        if (n == 0) {
          await(SelectionKey.OP_WRITE, deadlineNanos);
        }
      }
    } finally {
      for (ByteBuf part : parts) {
        part.release();
      }
    }
  }

  /** Fills {@code dst} from the socket, straight into it. */
  private void readFully(ByteBuffer dst, long deadlineNanos) throws IOException {
    while (dst.hasRemaining()) {
      checkDeadline(deadlineNanos);
      int n = channel.read(dst);
      if (n < 0) {
        throw new EOFException(
            server + " closed the connection with " + dst.remaining() + " bytes still to come");
      }
      if (n == 0) {
        await(SelectionKey.OP_READ, deadlineNanos);
      }
    }
  }

  private void checkDeadline(long deadlineNanos) throws SocketTimeoutException {
    if (ticker.getAsLong() - deadlineNanos >= 0) {
      usable = false;
      throw new SocketTimeoutException(server + " did not answer before the deadline");
    }
  }

  /** Waits until the channel is ready for {@code op} or the deadline passes. */
  private void await(int op, long deadlineNanos) throws IOException {
    long left = deadlineNanos - ticker.getAsLong();
    if (left <= 0) {
      checkDeadline(deadlineNanos);
    }
    key.interestOps(op);
    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
    selector.selectedKeys().clear();
    if (Thread.interrupted()) {
      usable = false;
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for " + server);
    }
  }

  /** Closes the socket and its selector. Idempotent; never throws. */
  @Override
  public void close() {
    usable = false;
    closeQuietly(channel);
    closeQuietly(selector);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing: nothing more to do
    }
  }

  @Override
  public String toString() {
    return "DataConnection[" + server + (usable ? "" : ", unusable") + "]";
  }
}
