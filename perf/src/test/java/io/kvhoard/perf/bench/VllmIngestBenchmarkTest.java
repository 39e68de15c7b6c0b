package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The benchmark's index sink applies what it decodes: every event of its chained batches is applied
 * (none dropped for an unknown parent), each block once per pod.
 */
class VllmIngestBenchmarkTest {
  @Test
  void decode_indexSinkBothEncodings_everyEventApplied() throws Exception {
    for (String encoding : new String[] {"array", "map"}) {
      for (int blocks : new int[] {1, 25}) {
        VllmIngestBenchmark b = new VllmIngestBenchmark();
        b.blocksPerEvent = blocks;
        b.encoding = encoding;
        b.setup();
        VllmIngestBenchmark.Sink sink = new VllmIngestBenchmark.Sink();
        sink.sink = "index";
        sink.setup();
        int batches = 50;
        for (int i = 0; i < batches; i++) {
          assertEquals(VllmIngestBenchmark.EVENTS_PER_BATCH, b.decode(sink));
        }
        var s = sink.index.stats();
        String at = encoding + " " + blocks + ": " + s;
        assertEquals((long) batches * VllmIngestBenchmark.EVENTS_PER_BATCH, s.eventsApplied(), at);
        assertEquals(0, s.eventsDropped() + s.eventsMalformed(), at);
        assertEquals(
            (long) batches * VllmIngestBenchmark.EVENTS_PER_BATCH * blocks, s.entries(), at);
        assertTrue(b.baselineRawUnpack() > 0, at);
        sink.check();
      }
    }
  }
}
