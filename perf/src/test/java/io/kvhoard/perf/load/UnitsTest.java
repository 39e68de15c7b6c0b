package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class UnitsTest {
  @Test
  void parseBytes_binarySuffixesAnyCase_areKibMibGib() {
    assertEquals(262_144, Units.parseBytes("256k"));
    assertEquals(2 << 20, Units.parseBytes("2m"));
    assertEquals(32 << 20, Units.parseBytes("32MiB"));
    assertEquals(1L << 30, Units.parseBytes("1G"));
    assertEquals(1000, Units.parseBytes("1000"));
  }

  @Test
  void parseBytes_notASize_sayWhatIsAccepted() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Units.parseBytes("2x"));
    assertTrue(e.getMessage().contains("k, m or g"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Units.parseBytes("-1k"));
    assertThrows(IllegalArgumentException.class, () -> Units.parseBytes("99999999999999999999k"));
  }

  @Test
  void parseDuration_msSecondsMinutesAndFractions() {
    assertEquals(Duration.ofSeconds(3), Units.parseDuration("3s"));
    assertEquals(Duration.ofMillis(500), Units.parseDuration("500ms"));
    assertEquals(Duration.ofMillis(1500), Units.parseDuration("1.5s"));
    assertEquals(Duration.ofMinutes(2), Units.parseDuration("2m"));
    assertThrows(IllegalArgumentException.class, () -> Units.parseDuration("3"));
  }

  @Test
  void formatBytes_wholeUnitsNamed_othersInBytes() {
    assertEquals("256 KiB", Units.formatBytes(262_144));
    assertEquals("2 MiB", Units.formatBytes(2 << 20));
    assertEquals("1 GiB", Units.formatBytes(1L << 30));
    assertEquals("1000 B", Units.formatBytes(1000));
  }
}
