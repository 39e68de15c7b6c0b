package io.kvhoard.perf.load;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One client connection to a server, speaking its system's protocol: one request in flight at a
 * time, on a blocking socket.
 *
 * <p>Keys are {@code long} ids; each protocol spells them its own way (text for memcached and
 * Redis, 8 bytes for the raw pump, a 32-byte key for kvhoard). Payloads are moved between the
 * socket and the caller's buffers with no copy in this process other than the kernel's.
 *
 * <p>Not thread-safe: one thread per connection. {@link #close()} may be called from another thread
 * to unblock a connection stuck on a server that stopped answering; the blocked call then throws.
 */
interface Connection extends Closeable {
  /**
   * Stores the remaining bytes of {@code block} under {@code id} and waits for the server's answer.
   * Does not change {@code block}'s position.
   *
   * @throws java.net.ProtocolException if the server refused the block or answered something else
   * @throws IOException if the connection failed
   */
  void put(long id, ByteBuffer block) throws IOException;

  /**
   * Reads the block stored under {@code id} into {@code dst} from index 0 (at most its capacity),
   * and leaves {@code dst} flipped: position 0, limit the block's length.
   *
   * @return the block's length, or -1 if the server does not hold it
   * @throws java.net.ProtocolException if the server answered something else, or the block does not
   *     fit {@code dst}
   * @throws IOException if the connection failed
   */
  int get(long id, ByteBuffer dst) throws IOException;
}
