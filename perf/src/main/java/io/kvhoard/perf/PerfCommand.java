package io.kvhoard.perf;

import io.kvhoard.perf.bench.IndexBenchCommand;
import io.kvhoard.perf.bench.MicroCommand;
import io.kvhoard.perf.load.BlocksCommand;
import io.kvhoard.perf.load.RetrieveCommand;
import io.kvhoard.perf.sim.HitRatioCommand;
import io.kvhoard.perf.sim.route.RouteSimCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar perf/target/kvhoard-perf.jar <subcommand>}: kvhoard's benchmarks. */
@Command(
    name = "kvhoard-perf",
    mixinStandardHelpOptions = true,
    description = "kvhoard benchmarks: each measures its limit or peer in the same run.",
    subcommands = {
      MicroCommand.class,
      IndexBenchCommand.class,
      HitRatioCommand.class,
      RouteSimCommand.class,
      BlocksCommand.class,
      RetrieveCommand.class,
      CommandLine.HelpCommand.class
    })
public final class PerfCommand implements Runnable {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /** Runs the command and exits with its status. */
  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new PerfCommand());
    cl.setOut(new PrintWriter(System.out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(System.err, true, StandardCharsets.UTF_8));
    System.exit(cl.execute(args));
  }
}
