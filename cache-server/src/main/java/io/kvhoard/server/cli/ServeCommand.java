package io.kvhoard.server.cli;

import io.kvhoard.server.KvHoardServer;
import io.kvhoard.server.config.ConfigException;
import io.kvhoard.server.config.ServerConfig;
import io.kvhoard.server.config.Setting;
import io.kvhoard.server.config.Values;
import io.kvhoard.server.store.StoreException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kvhoard serve}: runs a single-node cache server until SIGTERM or SIGINT. Its options are
 * made from {@link Setting}, so flags, environment variables, the YAML file and this help always
 * list the same settings.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run a single-node cache server: host-RAM tier, disk tier under --data-dir, the data plane,"
          + " and HTTP /metrics /healthz /readyz /stats.",
      "",
      "Every setting comes from, in order: its flag, its environment variable (KVHOARD_ and the"
          + " name in capitals, e.g. KVHOARD_HOST_CAPACITY), the YAML file of --config"
          + " (name: value, e.g. host-capacity: 4g), or its default. Sizes: 512m, 4g;"
          + " durations: 500ms, 30s, 5m.",
      ""
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:stopped by SIGTERM/SIGINT after a clean shutdown",
      "1:failed to start (a tier, the directory or a port)",
      "2:invalid settings (the message names the setting)"
    })
final class ServeCommand implements Callable<Integer> {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      order = -1,
      description = "YAML file of settings (also KVHOARD_CONFIG).")
  Path config;

  @Spec CommandSpec spec;

  private final Map<String, String> env;

  ServeCommand(Map<String, String> env) {
    this.env = env;
  }

  /** Adds one option per {@link Setting} to the command's spec. */
  static void addSettings(CommandSpec spec) {
    int order = 0;
    for (Setting s : Setting.values()) {
      spec.addOption(
          OptionSpec.builder(s.flag())
              .paramLabel(s.label())
              .type(String.class)
              .order(order++)
              .description(
                  s.description() + " [env " + s.env() + ", default " + s.defaultValue() + "]")
              .build());
    }
  }

  /** The flags given on the command line, by setting. */
  Map<Setting, String> flags() {
    Map<Setting, String> out = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      OptionSpec o = spec.findOption(s.flag());
      if (o != null && !o.originalStringValues().isEmpty()) {
        out.put(s, o.getValue());
      }
    }
    return out;
  }

  /** Resolves the settings: flags, environment, file, defaults. */
  ServerConfig resolve() throws ConfigException {
    Path file = config;
    if (file == null && env.get("KVHOARD_CONFIG") != null) {
      file = Path.of(env.get("KVHOARD_CONFIG"));
    }
    return ServerConfig.resolve(flags(), env, file);
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    ServerConfig cfg;
    try {
      cfg = resolve();
    } catch (ConfigException e) {
      err.println("kvhoard serve: " + e.getMessage());
      return 2;
    }
    KvHoardServer server;
    try {
      server = KvHoardServer.start(cfg);
    } catch (StoreException | IOException | RuntimeException e) {
      err.println("kvhoard serve: could not start: " + e.getMessage());
      return 1;
    }
    out.printf(
        "kvhoard serving: data plane %s:%d, grpc %s:%d, http %s:%d; host tier %s, disk tier %s,"
            + " data in %s%n",
        server.dataAddress().getHostString(),
        server.dataAddress().getPort(),
        server.grpcAddress().getHostString(),
        server.grpcAddress().getPort(),
        server.httpAddress().getHostString(),
        server.httpAddress().getPort(),
        Values.formatSize(cfg.hostCapacity()),
        cfg.diskCapacity() == 0 ? "off" : Values.formatSize(cfg.diskCapacity()),
        cfg.dataDir().toAbsolutePath());
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              System.err.println("kvhoard serve: shutting down");
              server.close();
              System.err.println("kvhoard serve: stopped cleanly");
              stopped.countDown();
            },
            "kvhoard-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    return 0;
  }

  /** The {@code serve} command line, with its settings options. */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine cl = new CommandLine(new ServeCommand(env));
    addSettings(cl.getCommandSpec());
    return cl;
  }
}
