package io.kvhoard.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvhoard.server.KvHoardServer;
import io.kvhoard.server.TestServers;
import io.kvhoard.server.config.Setting;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** put, get, lookup and stats against a real server; serve's help and its refusals. */
class ClientCommandsTest {
  private record Result(int status, String out, String err, byte[] stdout) {}

  @TempDir Path dir;
  KvHoardServer server;
  String data;
  String http;

  @BeforeEach
  void start() throws Exception {
    server = KvHoardServer.start(TestServers.config(dir, "32m", "0"));
    data = "127.0.0.1:" + server.dataAddress().getPort();
    http = "127.0.0.1:" + server.httpAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Result run(byte[] stdin, Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    int status =
        KvHoardCommand.commandLine(
                new ByteArrayInputStream(stdin),
                raw,
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                env)
            .execute(args);
    return new Result(status, out.toString(), err.toString(), raw.toByteArray());
  }

  private static Result run(byte[] stdin, String... args) {
    return run(stdin, Map.of(), args);
  }

  static final String K1 = "11".repeat(32);
  static final String K2 = "22".repeat(32);

  @Test
  void putGetLookupStats_roundTrip() {
    byte[] block = new byte[1_500_000];
    new SplittableRandom(3).nextBytes(block);
    Result put = run(block, "put", "--server", data, "--key", K1);
    assertEquals(0, put.status(), put.err());
    assertTrue(put.out().contains("stored 1500000 bytes on host"), put.out());

    Result again = run(block, "put", "--server", data, "--key", K1);
    assertEquals(0, again.status());
    assertTrue(again.out().contains("already held"), again.out());

    Result get = run(new byte[0], "get", "--server", data, "--key", K1);
    assertEquals(0, get.status(), get.err());
    assertArrayEquals(block, get.stdout());

    Result miss = run(new byte[0], "get", "--server", data, "--key", K2);
    assertEquals(2, miss.status(), "a miss exits 2");
    assertTrue(miss.err().contains("not held"));

    Result lookup = run(new byte[0], "lookup", "--server", data, "--key", K1, "--key", K2);
    assertEquals(0, lookup.status(), lookup.err());
    assertTrue(lookup.out().contains("cached prefix: 1 of 2 blocks"), lookup.out());

    Result stats = run(new byte[0], "stats", "--http", http);
    assertEquals(0, stats.status(), stats.err());
    assertTrue(stats.out().contains("\"puts\":1"), stats.out());
    assertTrue(stats.out().contains("\"duplicate_puts\":1"), stats.out());
  }

  @Test
  void badInput_clearMessages() {
    Result badKey = run(new byte[] {1}, "put", "--server", data, "--key", "xyz");
    assertEquals(1, badKey.status());
    assertTrue(badKey.err().contains("64 hex digits"), badKey.err());

    Result empty = run(new byte[0], "put", "--server", data, "--key", K1);
    assertEquals(1, empty.status());
    assertTrue(empty.err().contains("standard input is empty"), empty.err());

    Result down = run(new byte[0], "get", "--server", "127.0.0.1:1", "--key", K1);
    assertEquals(1, down.status());
    assertTrue(down.err().contains("cannot connect"), down.err());

    Result badServer = run(new byte[0], "get", "--server", "nohostport", "--key", K1);
    assertEquals(1, badServer.status());
    assertTrue(badServer.err().contains("HOST:PORT"), badServer.err());
  }

  @Test
  void serveHelp_listsEverySettingWithItsEnvironmentVariable() {
    Result help = run(new byte[0], "serve", "--help");
    assertEquals(0, help.status());
    for (Setting s : Setting.values()) {
      assertTrue(help.out().contains(s.flag()), s.flag() + " in\n" + help.out());
      assertTrue(help.out().contains(s.env()), s.env());
    }
    assertTrue(help.out().contains("--config"));
  }

  @Test
  void serve_invalidSetting_exits2NamingIt() {
    Result r =
        run(new byte[0], Map.of("KVHOARD_HOST_CAPACITY", "huge"), "serve", "--data-port", "0");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("--host-capacity"), r.err());
    assertTrue(r.err().contains("KVHOARD_HOST_CAPACITY"), r.err());
  }
}
