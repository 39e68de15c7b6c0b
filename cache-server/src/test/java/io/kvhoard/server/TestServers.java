package io.kvhoard.server;

import io.kvhoard.server.config.ConfigException;
import io.kvhoard.server.config.ServerConfig;
import io.kvhoard.server.config.Setting;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/** Test helper: the settings of a server on ephemeral loopback ports in a test's directory. */
public final class TestServers {
  private TestServers() {}

  /**
   * Settings for a server in {@code dir} with the given tier sizes and any further settings.
   *
   * @param more setting, value pairs
   */
  public static ServerConfig config(Path dir, String host, String disk, Object... more)
      throws ConfigException {
    Map<Setting, String> flags = new EnumMap<>(Setting.class);
    flags.put(Setting.DATA_DIR, dir.toString());
    flags.put(Setting.DATA_PORT, "0");
    flags.put(Setting.GRPC_PORT, "0");
    flags.put(Setting.HTTP_PORT, "0");
    flags.put(Setting.HOST_CAPACITY, host);
    flags.put(Setting.DISK_CAPACITY, disk);
    for (int i = 0; i < more.length; i += 2) {
      flags.put((Setting) more[i], (String) more[i + 1]);
    }
    return ServerConfig.resolve(flags, Map.of(), null);
  }
}
