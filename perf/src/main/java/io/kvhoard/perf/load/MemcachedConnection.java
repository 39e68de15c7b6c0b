package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * memcached's text protocol: {@code set KEY 0 0 N} + the block, answered {@code STORED}; {@code get
 * KEY}, answered {@code VALUE KEY FLAGS N} + the block + {@code END}, or {@code END} alone on a
 * miss. See memcached's {@code doc/protocol.txt}.
 *
 * <p>Not thread-safe (see {@link Connection}).
 */
final class MemcachedConnection implements Connection {
  private static final byte[] CRLF = {'\r', '\n'};

  private final Wire wire;

  MemcachedConnection(Wire wire) {
    this.wire = wire;
  }

  @Override
  public void put(long id, ByteBuffer block) throws IOException {
    int n = block.remaining();
    byte[] command =
        ("set " + Keys.text(id) + " 0 0 " + n + "\r\n").getBytes(StandardCharsets.US_ASCII);
    wire.write(ByteBuffer.wrap(command), block.duplicate(), ByteBuffer.wrap(CRLF));
    String answer = wire.readLine();
    if (!answer.equals("STORED")) {
      throw new ProtocolException(
          "memcached answered '" + answer + "' to a set of " + n + " bytes");
    }
  }

  @Override
  public int get(long id, ByteBuffer dst) throws IOException {
    String key = Keys.text(id);
    wire.writeAscii("get " + key + "\r\n");
    String line = wire.readLine();
    if (line.equals("END")) {
      return -1;
    }
    String[] f = line.split(" ");
    if (f.length < 4 || !f[0].equals("VALUE") || !f[1].equals(key)) {
      throw new ProtocolException("memcached answered '" + line + "' to get " + key);
    }
    int n = parseLength(f[3], line);
    if (n > dst.capacity()) {
      throw new ProtocolException(
          "memcached returned " + n + " bytes for " + key + ", more than " + dst.capacity());
    }
    dst.clear();
    wire.readFully(dst, n);
    dst.flip();
    String end = wire.readLine();
    String last = end.isEmpty() ? wire.readLine() : end;
    if (!end.isEmpty() || !last.equals("END")) {
      throw new ProtocolException(
          "memcached sent '" + end + "' after a value of " + n + " bytes, expected CRLF END");
    }
    return n;
  }

  private static int parseLength(String field, String line) throws ProtocolException {
    try {
      return Integer.parseInt(field);
    } catch (NumberFormatException e) {
      throw new ProtocolException("bad length in memcached's answer '" + line + "'");
    }
  }

  @Override
  public void close() throws IOException {
    wire.close();
  }
}
