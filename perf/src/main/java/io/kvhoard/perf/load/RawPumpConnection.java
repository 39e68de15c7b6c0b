package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;

/**
 * The raw pump's protocol (see {@link RawPumpServer}): a 13-byte header, then the payload.
 *
 * <p>Not thread-safe (see {@link Connection}).
 */
final class RawPumpConnection implements Connection {
  private final Wire wire;
  private final ByteBuffer header = ByteBuffer.allocateDirect(RawPumpServer.REQUEST_HEADER_BYTES);

  RawPumpConnection(Wire wire) {
    this.wire = wire;
  }

  @Override
  public void put(long id, ByteBuffer block) throws IOException {
    header.clear().put(RawPumpServer.PUT).putLong(id).putInt(block.remaining()).flip();
    wire.write(header, block.duplicate());
    byte status = wire.take(1).get(0);
    if (status != RawPumpServer.OK) {
      throw new ProtocolException("the raw pump answered status " + status + " to a PUT");
    }
  }

  @Override
  public int get(long id, ByteBuffer dst) throws IOException {
    header.clear().put(RawPumpServer.GET).putLong(id).putInt(dst.capacity()).flip();
    wire.write(header);
    ByteBuffer answer = wire.take(RawPumpServer.GET_ANSWER_HEADER_BYTES);
    byte status = answer.get(0);
    int n = answer.getInt(1);
    if (status == RawPumpServer.NOT_FOUND) {
      return -1;
    }
    if (status != RawPumpServer.OK) {
      throw new ProtocolException(
          "the raw pump answered status " + status + " to a GET (block of " + n + " bytes)");
    }
    dst.clear();
    wire.readFully(dst, n);
    dst.flip();
    return n;
  }

  @Override
  public void close() throws IOException {
    wire.close();
  }
}
