package io.kvhoard.server.store.eviction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FrequencySketchTest {
  @Test
  void frequency_unseenKey_zero() {
    assertEquals(0, new FrequencySketch(1000).frequency(42));
  }

  @Test
  void frequency_afterIncrements_atLeastTheCountUpToSaturation() {
    FrequencySketch s = new FrequencySketch(1000);
    for (int k = 0; k < 200; k++) {
      for (int i = 0; i < k % 20; i++) {
        s.increment(k);
      }
    }
    for (int k = 0; k < 200; k++) {
      int f = s.frequency(k);
      assertTrue(f >= Math.min(k % 20, FrequencySketch.MAX + 1), k + ": " + f);
      assertTrue(f <= FrequencySketch.MAX + 1, k + ": " + f);
    }
  }

  @Test
  void frequency_firstAccess_heldByTheDoorkeeper() {
    FrequencySketch s = new FrequencySketch(1000);
    s.increment(7);
    assertEquals(1, s.frequency(7));
    s.increment(7);
    assertEquals(2, s.frequency(7));
  }

  @Test
  void increment_afterTenPerEntry_countsHalvedAndDoorkeeperCleared() {
    FrequencySketch s = new FrequencySketch(16); // ages after 160 increments
    for (int i = 0; i < 9; i++) {
      s.increment(-1);
    }
    assertEquals(9, s.frequency(-1));
    for (int k = 0; k < 151; k++) {
      s.increment(k); // the 160th increment ages the sketch
    }
    int f = s.frequency(-1);
    assertTrue(f >= 4 && f <= 5, "8 counted, halved, doorkeeper cleared: " + f);
  }
}
