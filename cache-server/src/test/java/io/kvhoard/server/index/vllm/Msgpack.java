package io.kvhoard.server.index.vllm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Test helper: hand-built msgpack, the way msgspec writes vLLM's events. Values: {@code null}, a
 * {@link String}, an {@link Integer} or {@link Long}, a {@link BigInteger} (written as uint64 when
 * above 2^63), a {@code byte[]} (bin), a {@link Double}, a {@link List} (array) or a {@link Map}
 * (map, in iteration order).
 */
final class Msgpack {
  private Msgpack() {}

  static byte[] pack(Object value) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      write(p, value);
      p.flush();
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(MessageBufferPacker p, Object v) throws IOException {
    if (v == null) {
      p.packNil();
    } else if (v instanceof String s) {
      p.packString(s);
    } else if (v instanceof Integer i) {
      p.packInt(i);
    } else if (v instanceof Long l) {
      p.packLong(l);
    } else if (v instanceof BigInteger b) {
      p.packBigInteger(b);
    } else if (v instanceof byte[] b) {
      p.packBinaryHeader(b.length);
      p.writePayload(b);
    } else if (v instanceof Double d) {
      p.packDouble(d);
    } else if (v instanceof List<?> list) {
      p.packArrayHeader(list.size());
      for (Object o : list) {
        write(p, o);
      }
    } else if (v instanceof Map<?, ?> map) {
      p.packMapHeader(map.size());
      for (Map.Entry<?, ?> e : map.entrySet()) {
        write(p, e.getKey());
        write(p, e.getValue());
      }
    } else {
      throw new IllegalArgumentException("cannot pack " + v.getClass());
    }
  }

  /** A list that may hold nulls. */
  static List<Object> list(Object... values) {
    return new ArrayList<>(Arrays.asList(values));
  }

  /** A map from alternating keys and values, in order. */
  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** An unsigned 64-bit value from its decimal form. */
  static BigInteger u64(String decimal) {
    return new BigInteger(decimal);
  }
}
