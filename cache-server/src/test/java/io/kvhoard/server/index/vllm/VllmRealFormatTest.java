package io.kvhoard.server.index.vllm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kvhoard.protocol.testing.SharedData;
import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.protocol.v1.BlockKey;
import io.kvhoard.protocol.v1.Tier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The source against a real-format vLLM publisher: a Python process using pyzmq and msgpack ({@code
 * src/test/resources/vllm/fake_vllm_publisher.py}), publishing the block hashes a real vLLM run
 * computed ({@code ../shared/data/vectors/}) in both encodings, with a forced gap that the replay
 * socket recovers and a second gap, after the replay socket is gone, that clears the pod. Python
 * and its packages come from {@code scripts/install-test-deps.sh} (apt-get as root).
 */
class VllmRealFormatTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code rel} found walking up from the working directory (the module, then the project). */
  private static Path projectFile(String rel) {
    for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve(rel))) {
        return d.resolve(rel);
      }
    }
    throw new AssertionError(rel + " not found above " + Paths.get("").toAbsolutePath());
  }

  /** Runs the install script; returns the Python interpreter it names. */
  private static String python() throws IOException, InterruptedException {
    Path script = projectFile("scripts/install-test-deps.sh");
    Process p =
        new ProcessBuilder("bash", script.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isEmpty()) {
      fail(
          "scripts/install-test-deps.sh could not provide python3 with python3-zmq and"
              + " python3-msgpack (see its message above); run it as root");
    }
    String[] lines = out.split("\n");
    return lines[lines.length - 1].trim();
  }

  private static byte[] be8(JsonNode unsigned) {
    byte[] raw = new BigInteger(unsigned.asText()).toByteArray();
    byte[] out = new byte[8];
    int n = Math.min(8, raw.length);
    System.arraycopy(raw, raw.length - n, out, 8 - n, n);
    return out;
  }

  private static void assertKeys(JsonNode hashes, List<BlockKey> keys) {
    assertEquals(hashes.size(), keys.size());
    for (int i = 0; i < keys.size(); i++) {
      assertArrayEquals(be8(hashes.get(i)), keys.get(i).getDigest().toByteArray(), "block " + i);
    }
  }

  private static List<Long> tokens(JsonNode v) {
    List<Long> t = new ArrayList<>();
    v.get("token_ids").forEach(n -> t.add(n.asLong()));
    return t;
  }

  @Test
  void source_realVllmFormatWithGaps_deliversTheVectorsReplaysThenClears() throws Exception {
    Path basePath = SharedData.path("vectors/kv_event_base.json");
    Path loraPath = SharedData.path("vectors/kv_event_lora.json");
    JsonNode base = JSON.readTree(basePath.toFile());
    JsonNode lora = JSON.readTree(loraPath.toFile());
    Path script = publisherScript();
    String python = python();

    Process publisher =
        new ProcessBuilder(python, script.toString(), basePath.toString(), loraPath.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    RecordingSink sink = new RecordingSink();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    VllmEventSource source = null;
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(publisher.getInputStream(), StandardCharsets.UTF_8));
      String ports =
          CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return out.readLine();
                    } catch (IOException e) {
                      return null;
                    }
                  })
              .get(30, TimeUnit.SECONDS);
      assertTrue(ports != null && ports.startsWith("PORTS "), "publisher said: " + ports);
      String[] p = ports.split(" ");
      source =
          VllmEventSource.newBuilder()
              .endpoints(
                  List.of(
                      new VllmEndpoint(
                          "vllm-0", "", "tcp://127.0.0.1:" + p[1], "tcp://127.0.0.1:" + p[2])))
              .sink(sink)
              .registry(registry)
              .executor(executor)
              .replayTimeout(Duration.ofSeconds(1))
              .build()
              .start();

      List<BlockEvent> got = sink.take(5, 20);

      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), got.stream().map(BlockEvent::getSequence).toList());
      for (BlockEvent e : got) {
        assertEquals("vllm-0", e.getPod());
      }
      // seq 0, array encoding: the base prompt.
      BlockEvent b = got.get(0);
      assertEquals(BlockEvent.EventCase.STORED, b.getEventCase());
      assertEquals(25, b.getStored().getKeysCount());
      assertKeys(base.get("block_hashes"), b.getStored().getKeysList());
      assertFalse(b.getStored().hasParentKey());
      assertEquals(tokens(base), b.getStored().getTokenIdsList());
      assertEquals(16, b.getStored().getBlockTokens());
      assertEquals(Tier.TIER_GPU, b.getStored().getTier());
      assertEquals("Qwen/Qwen3-0.6B", b.getNamespace().getModelId());
      assertEquals("", b.getNamespace().getLoraName());
      // seq 1, map encoding, recovered through the replay socket: the LoRA prompt.
      BlockEvent l = got.get(1);
      assertKeys(lora.get("block_hashes"), l.getStored().getKeysList());
      assertEquals(tokens(lora), l.getStored().getTokenIdsList());
      assertEquals(16, l.getStored().getBlockTokens());
      assertEquals("Alice", l.getNamespace().getLoraName());
      assertEquals("", l.getNamespace().getCacheSalt());
      assertEquals(Tier.TIER_GPU, l.getStored().getTier());
      // seq 2: the base prompt's last five blocks removed.
      BlockEvent r = got.get(2);
      assertEquals(BlockEvent.EventCase.REMOVED, r.getEventCase());
      assertEquals(5, r.getRemoved().getKeysCount());
      assertArrayEquals(
          be8(base.get("block_hashes").get(24)),
          r.getRemoved().getKeys(4).getDigest().toByteArray());
      // seq 3 was lost with the replay socket gone: the pod is cleared, then seq 4.
      assertTrue(got.get(3).hasCleared());
      assertFalse(got.get(3).hasNamespace(), "the whole pod");
      BlockEvent c = got.get(4);
      assertKeys(base.get("block_hashes"), c.getStored().getKeysList());
      assertEquals(Tier.TIER_HOST, c.getStored().getTier());

      assertEquals(
          1.0, registry.get("kvhoard.vllm.replays").tag("outcome", "ok").counter().count());
      assertEquals(2.0, registry.get("kvhoard.vllm.gaps").counter().count());
      assertEquals(1.0, registry.get("kvhoard.vllm.clears").counter().count());
      assertEquals(0, sink.pending(), "nothing else arrived");

      publisher.getOutputStream().close();
      assertTrue(publisher.waitFor(10, TimeUnit.SECONDS), "the publisher exits");
      assertEquals(0, publisher.exitValue(), "the publisher's exit status (its stderr is above)");
    } finally {
      if (source != null) {
        source.close();
      }
      executor.shutdownNow();
      publisher.destroyForcibly();
    }
  }

  private static Path publisherScript() throws URISyntaxException {
    var url = VllmRealFormatTest.class.getResource("/vllm/fake_vllm_publisher.py");
    if (url == null) {
      throw new AssertionError("test resource vllm/fake_vllm_publisher.py is missing");
    }
    return Paths.get(url.toURI());
  }
}
