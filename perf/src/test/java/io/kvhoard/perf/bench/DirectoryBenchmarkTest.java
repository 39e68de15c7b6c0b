package io.kvhoard.perf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.api.Test;

/** The benchmark's operations find and change the entries its set-up stored. */
class DirectoryBenchmarkTest {
  @Test
  void lookupAndUpdate_smallDirectory_findEveryKeyOnBothSides() throws Exception {
    DirectoryBenchmark.OffHeap off = new DirectoryBenchmark.OffHeap();
    off.entries = 2000;
    off.fill();
    DirectoryBenchmark.OnHeap on = new DirectoryBenchmark.OnHeap();
    on.entries = 2000;
    on.fill();
    try {
      DirectoryBenchmark b = new DirectoryBenchmark();
      DirectoryBenchmark.Cursor c = new DirectoryBenchmark.Cursor();
      for (int i = 0; i < 100; i++) {
        assertNotNull(b.lookup(off, c));
        assertNotNull(b.baselineHeapLookup(on, c));
        assertNotNull(b.update(off, c));
        assertNotNull(b.baselineHeapUpdate(on, c));
      }
      assertEquals(DirectoryBenchmark.entry(5), off.directory.get(DirectoryBenchmark.key(5)));
      assertNotEquals(DirectoryBenchmark.key(5), DirectoryBenchmark.key(6));
      assertEquals(2000, off.directory.size());
    } finally {
      off.close();
    }
  }
}
