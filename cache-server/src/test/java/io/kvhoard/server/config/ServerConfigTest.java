package io.kvhoard.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path dir;

  static Map<Setting, String> flags(Object... kv) {
    Map<Setting, String> m = new EnumMap<>(Setting.class);
    for (int i = 0; i < kv.length; i += 2) {
      m.put((Setting) kv[i], (String) kv[i + 1]);
    }
    return m;
  }

  @Test
  void defaults_documentedValues() throws ConfigException {
    ServerConfig c = ServerConfig.resolve(flags(), Map.of(), null);
    assertEquals(Path.of("kvhoard-data"), c.dataDir());
    assertEquals("127.0.0.1", c.bind());
    assertEquals(7470, c.dataPort());
    assertEquals(7471, c.grpcPort());
    assertEquals(7472, c.httpPort());
    assertEquals(256 * 1024, c.pageSize());
    assertEquals(Duration.ofSeconds(30), c.requestTimeout());
    assertTrue(c.hostCapacity() > 0 && c.hostCapacity() <= ServerConfig.AUTO_HOST_CAP);
    assertTrue(c.diskCapacity() <= ServerConfig.AUTO_DISK_CAP);
  }

  @Test
  void precedence_flagOverEnvOverFileOverDefault() throws Exception {
    Path yaml = dir.resolve("kvhoard.yaml");
    Files.writeString(yaml, "host-capacity: 3g\ndata-port: 9001\nhttp-port: 9002\nbind: 0.0.0.0\n");
    Map<String, String> env =
        Map.of("KVHOARD_DATA_PORT", "9101", "KVHOARD_HTTP_PORT", "9102", "PATH", "/bin");
    ServerConfig c = ServerConfig.resolve(flags(Setting.HTTP_PORT, "9202"), env, yaml);
    assertEquals(9202, c.httpPort(), "flag wins");
    assertEquals(9101, c.dataPort(), "environment beats the file");
    assertEquals(3L << 30, c.hostCapacity(), "file beats the default");
    assertEquals("0.0.0.0", c.bind());
    assertEquals(7471, c.grpcPort(), "default");
  }

  @Test
  void sizesAndDurations_humanForms() throws ConfigException {
    ServerConfig c =
        ServerConfig.resolve(
            flags(
                Setting.HOST_CAPACITY, "512m",
                Setting.DISK_CAPACITY, "0",
                Setting.MAX_FRAME, "64MiB",
                Setting.SHUTDOWN_GRACE, "1500ms",
                Setting.IDLE_TIMEOUT, "2m"),
            Map.of(),
            null);
    assertEquals(512L << 20, c.hostCapacity());
    assertEquals(0, c.diskCapacity(), "0 disables the disk tier");
    assertEquals(64 << 20, c.maxFrame());
    assertEquals(Duration.ofMillis(1500), c.shutdownGrace());
    assertEquals(Duration.ofMinutes(2), c.idleTimeout());
    assertFalse(c.hostPretouch(), "pre-touch is off by default");
    assertEquals(0, c.sendBuffer(), "the kernel tunes send buffers by default");
    assertEquals(
        4 << 20,
        ServerConfig.resolve(flags(Setting.SEND_BUFFER, "4m"), Map.of(), null).sendBuffer());
    assertThrows(
        ConfigException.class,
        () -> ServerConfig.resolve(flags(Setting.SEND_BUFFER, "2g"), Map.of(), null));
    assertTrue(
        ServerConfig.resolve(flags(Setting.HOST_PRETOUCH, "yes"), Map.of(), null).hostPretouch());
    assertThrows(
        ConfigException.class,
        () -> ServerConfig.resolve(flags(Setting.HOST_PRETOUCH, "maybe"), Map.of(), null));
  }

  @Test
  void invalidValues_messageNamesSettingValueAndSource() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ServerConfig.resolve(flags(Setting.HOST_CAPACITY, "lots"), Map.of(), null));
    assertTrue(e.getMessage().contains("--host-capacity"), e.getMessage());
    assertTrue(e.getMessage().contains("'lots'"), e.getMessage());
    assertTrue(e.getMessage().contains("flag --host-capacity"), e.getMessage());

    e =
        assertThrows(
            ConfigException.class,
            () -> ServerConfig.resolve(flags(), Map.of("KVHOARD_DATA_PORT", "70000"), null));
    assertTrue(e.getMessage().contains("--data-port"), e.getMessage());
    assertTrue(e.getMessage().contains("KVHOARD_DATA_PORT"), e.getMessage());
    assertTrue(e.getMessage().contains("between 0 and 65535"), e.getMessage());

    e =
        assertThrows(
            ConfigException.class,
            () -> ServerConfig.resolve(flags(Setting.PAGE_SIZE, "100k"), Map.of(), null));
    assertTrue(e.getMessage().contains("power of two"), e.getMessage());

    e =
        assertThrows(
            ConfigException.class,
            () ->
                ServerConfig.resolve(
                    flags(Setting.DATA_PORT, "9000", Setting.HTTP_PORT, "9000"), Map.of(), null));
    assertTrue(e.getMessage().contains("must differ"), e.getMessage());

    e =
        assertThrows(
            ConfigException.class,
            () -> ServerConfig.resolve(flags(Setting.REQUEST_TIMEOUT, "0s"), Map.of(), null));
    assertTrue(e.getMessage().contains("--request-timeout"), e.getMessage());
  }

  @Test
  void yaml_unknownKeyOrGarbage_refusedWithTheFileNamed() throws Exception {
    Path unknown = dir.resolve("a.yaml");
    Files.writeString(unknown, "host-capacty: 4g\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ServerConfig.resolve(flags(), Map.of(), unknown));
    assertTrue(e.getMessage().contains("unknown setting 'host-capacty'"), e.getMessage());
    assertTrue(e.getMessage().contains("host-capacity"), "lists the known ones");

    Path garbage = dir.resolve("b.yaml");
    Files.writeString(garbage, "[1, 2\n");
    e = assertThrows(ConfigException.class, () -> ServerConfig.resolve(flags(), Map.of(), garbage));
    assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());

    Path missing = dir.resolve("none.yaml");
    e = assertThrows(ConfigException.class, () -> ServerConfig.resolve(flags(), Map.of(), missing));
    assertTrue(e.getMessage().contains("cannot read the config file"), e.getMessage());

    Path nested = dir.resolve("c.yaml");
    Files.writeString(nested, "bind:\n  a: 1\n");
    e = assertThrows(ConfigException.class, () -> ServerConfig.resolve(flags(), Map.of(), nested));
    assertTrue(e.getMessage().contains("single value"), e.getMessage());
  }

  @Test
  void values_parseAndFormat() {
    assertEquals(1234, Values.parseSize("1234"));
    assertEquals(4L << 30, Values.parseSize("4G"));
    assertEquals(256 << 10, Values.parseSize("256kb"));
    assertThrows(IllegalArgumentException.class, () -> Values.parseSize("-1"));
    assertThrows(IllegalArgumentException.class, () -> Values.parseSize("99999999999t"));
    assertEquals(Duration.ofSeconds(7), Values.parseDuration("7"));
    assertEquals(Duration.ofHours(1), Values.parseDuration("1h"));
    assertThrows(IllegalArgumentException.class, () -> Values.parseDuration("soon"));
    assertEquals("4.0 GiB", Values.formatSize(4L << 30));
    assertEquals("12 B", Values.formatSize(12));
  }

  @Test
  void settings_envNamesDerivedFromFlags() {
    assertEquals("KVHOARD_HOST_CAPACITY", Setting.HOST_CAPACITY.env());
    assertEquals("--host-capacity", Setting.HOST_CAPACITY.flag());
  }

  @Test
  void vllmEvents_fromFlagEnvAndFile_areParsedWithTheirReplayEndpoints() throws Exception {
    assertTrue(ServerConfig.resolve(flags(), Map.of(), null).vllmEvents().isEmpty(), "none");
    assertEquals(
        Duration.ofSeconds(2), ServerConfig.resolve(flags(), Map.of(), null).vllmReplayTimeout());

    ServerConfig c =
        ServerConfig.resolve(
            flags(
                Setting.VLLM_EVENTS,
                "a=tcp://127.0.0.1:5557|tcp://127.0.0.1:5558,b@m=tcp://127.0.0.1:6557",
                Setting.VLLM_REPLAY_TIMEOUT,
                "500ms"),
            Map.of(),
            null);
    assertEquals(2, c.vllmEvents().size());
    assertEquals("tcp://127.0.0.1:5558", c.vllmEvents().get(0).replay());
    assertEquals("m", c.vllmEvents().get(1).model());
    assertEquals(Duration.ofMillis(500), c.vllmReplayTimeout());

    Path yaml = dir.resolve("vllm.yaml");
    Files.writeString(yaml, "vllm-events: \"p=tcp://h:1|tcp://h:2\"\n");
    assertEquals(
        "tcp://h:2", ServerConfig.resolve(flags(), Map.of(), yaml).vllmEvents().get(0).replay());
    assertEquals(
        "q",
        ServerConfig.resolve(flags(), Map.of("KVHOARD_VLLM_EVENTS", "q=tcp://h:1"), yaml)
            .vllmEvents()
            .get(0)
            .pod(),
        "the environment beats the file");
  }

  @Test
  void vllmEvents_invalid_namesTheSettingAndTheEntry() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                ServerConfig.resolve(
                    flags(Setting.VLLM_EVENTS, "a=tcp://h:1,b=http://h:2"), Map.of(), null));
    assertTrue(e.getMessage().contains("--vllm-events"), e.getMessage());
    assertTrue(e.getMessage().contains("b=http://h:2"), e.getMessage());
    assertTrue(e.getMessage().contains("tcp://HOST:PORT"), e.getMessage());
  }
}
