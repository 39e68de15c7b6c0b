package io.kvhoard.perf.load;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Redis's RESP2: {@code SET KEY VALUE} as an array of bulk strings, answered {@code +OK}; {@code
 * GET KEY}, answered with a bulk string ({@code $N} + the block + CRLF) or {@code $-1} on a miss.
 * See redis.io's protocol specification.
 *
 * <p>Not thread-safe (see {@link Connection}).
 */
final class RespConnection implements Connection {
  private static final byte[] CRLF = {'\r', '\n'};

  private final Wire wire;

  RespConnection(Wire wire) {
    this.wire = wire;
  }

  @Override
  public void put(long id, ByteBuffer block) throws IOException {
    String key = Keys.text(id);
    int n = block.remaining();
    byte[] command =
        ("*3\r\n$3\r\nSET\r\n$" + key.length() + "\r\n" + key + "\r\n$" + n + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    wire.write(ByteBuffer.wrap(command), block.duplicate(), ByteBuffer.wrap(CRLF));
    String answer = wire.readLine();
    if (!answer.equals("+OK")) {
      throw new ProtocolException("redis answered '" + answer + "' to a SET of " + n + " bytes");
    }
  }

  @Override
  public int get(long id, ByteBuffer dst) throws IOException {
    String key = Keys.text(id);
    wire.writeAscii("*2\r\n$3\r\nGET\r\n$" + key.length() + "\r\n" + key + "\r\n");
    String line = wire.readLine();
    if (line.equals("$-1")) {
      return -1;
    }
    if (!line.startsWith("$")) {
      throw new ProtocolException("redis answered '" + line + "' to GET " + key);
    }
    int n;
    try {
      n = Integer.parseInt(line.substring(1));
    } catch (NumberFormatException e) {
      throw new ProtocolException("bad length in redis's answer '" + line + "'");
    }
    if (n < 0 || n > dst.capacity()) {
      throw new ProtocolException(
          "redis returned " + n + " bytes for " + key + ", more than " + dst.capacity());
    }
    dst.clear();
    wire.readFully(dst, n);
    dst.flip();
    String end = wire.readLine();
    if (!end.isEmpty()) {
      throw new ProtocolException("redis sent '" + end + "' after a value, expected CRLF");
    }
    return n;
  }

  @Override
  public void close() throws IOException {
    wire.close();
  }
}
