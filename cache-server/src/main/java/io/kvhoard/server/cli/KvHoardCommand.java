package io.kvhoard.server.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kvhoard} command: {@code java -jar kvhoard.jar <subcommand> [options]}.
 *
 * <p>Exit status: 0 on success, 1 when the input or the work failed (the message says why), 2 on a
 * usage error (unknown option, missing required option).
 */
@Command(
    name = "kvhoard",
    mixinStandardHelpOptions = true,
    versionProvider = KvHoardCommand.Version.class,
    description = "kvhoard: a distributed KV-cache sharing service for LLM inference.",
    subcommands = {
      HashCommand.class,
      ClientCommands.Put.class,
      ClientCommands.Get.class,
      ClientCommands.Lookup.class,
      ClientCommands.Stats.class,
      CommandLine.HelpCommand.class
    })
public final class KvHoardCommand implements Runnable {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  /** Prints the usage: a subcommand is required. */
  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /**
   * Builds the command line around the given standard streams, so tests run it in-process.
   *
   * @param in what subcommands read as standard input
   */
  static CommandLine commandLine(
      InputStream in,
      OutputStream stdout,
      PrintWriter out,
      PrintWriter err,
      Map<String, String> env) {
    CommandLine cl =
        new CommandLine(
            new KvHoardCommand(),
            new CommandLine.IFactory() {
              @Override
              public <K> K create(Class<K> cls) throws Exception {
                if (cls == HashCommand.class) {
                  return cls.cast(new HashCommand(in));
                }
                if (cls == ClientCommands.Put.class) {
                  return cls.cast(new ClientCommands.Put(in));
                }
                if (cls == ClientCommands.Get.class) {
                  return cls.cast(new ClientCommands.Get(stdout));
                }
                return CommandLine.defaultFactory().create(cls);
              }
            });
    cl.addSubcommand("serve", ServeCommand.commandLine(env));
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          commandLine.getErr().println("kvhoard " + commandLine.getCommandName() + ": " + ex);
          return 1;
        });
    return cl;
  }

  /** Runs the command and exits with its status. */
  public static void main(String[] args) {
    // Chronicle Map (the block directory) would otherwise announce itself and report usage.
    System.setProperty("chronicle.analytics.disable", "true");
    System.setProperty("chronicle.announcer.disable", "true");
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      // One line per record: time, level, logger, message.
      System.setProperty(
          "java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
    }
    int status =
        commandLine(
                System.in,
                System.out,
                new PrintWriter(System.out, true, java.nio.charset.StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, java.nio.charset.StandardCharsets.UTF_8),
                System.getenv())
            .execute(args);
    System.exit(status);
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = KvHoardCommand.class.getPackage().getImplementationVersion();
      return new String[] {"kvhoard " + (v == null ? "(development build)" : v)};
    }
  }
}
