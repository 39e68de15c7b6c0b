package io.kvhoard.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code kvhoard serve}'s handling of settings that stop it before anything starts. */
class ServeCommandTest {
  private record Result(int status, String out, String err) {}

  private static Result run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status =
        KvHoardCommand.commandLine(
                new ByteArrayInputStream(new byte[0]),
                java.io.OutputStream.nullOutputStream(),
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                env)
            .execute(args);
    return new Result(status, out.toString(), err.toString());
  }

  @Test
  void serve_invalidVllmEvents_exitsTwoNamingTheSetting() {
    Result r = run(Map.of(), "serve", "--vllm-events", "vllm-0=tcp://10.0.0.5");

    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("--vllm-events"), r.err());
    assertTrue(r.err().contains("vllm-0=tcp://10.0.0.5"), r.err());
  }

  @Test
  void serve_invalidVllmEventsFromTheEnvironment_exitsTwoNamingTheVariable() {
    Result r = run(Map.of("KVHOARD_VLLM_EVENTS", "p=tcp://h:1|"), "serve");

    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("KVHOARD_VLLM_EVENTS"), r.err());
  }

  @Test
  void serveHelp_documentsTheVllmEventsSyntax() {
    Result r = run(Map.of(), "serve", "--help");

    assertEquals(0, r.status());
    String help = r.out().replaceAll("\\s+", "");
    assertTrue(help.contains("--vllm-events=POD=ENDPOINT[|REPLAY],..."), r.out());
    assertTrue(help.contains("POD[@MODEL]=tcp://HOST:PORT[|tcp://HOST:REPLAY_PORT]"), r.out());
    assertTrue(help.contains("KVHOARD_VLLM_EVENTS"), r.out());
    assertTrue(help.contains("--vllm-replay-timeout"), r.out());
  }
}
