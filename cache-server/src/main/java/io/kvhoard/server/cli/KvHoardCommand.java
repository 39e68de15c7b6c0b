package io.kvhoard.server.cli;

import java.io.InputStream;
import java.io.PrintWriter;
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
    subcommands = {HashCommand.class, CommandLine.HelpCommand.class})
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
  static CommandLine commandLine(InputStream in, PrintWriter out, PrintWriter err) {
    CommandLine cl =
        new CommandLine(
            new KvHoardCommand(),
            new CommandLine.IFactory() {
              @Override
              public <K> K create(Class<K> cls) throws Exception {
                if (cls == HashCommand.class) {
                  return cls.cast(new HashCommand(in));
                }
                return CommandLine.defaultFactory().create(cls);
              }
            });
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
    int status =
        commandLine(
                System.in,
                new PrintWriter(System.out, true, java.nio.charset.StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, java.nio.charset.StandardCharsets.UTF_8))
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
