package io.cvmmanager.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.config.PortRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TestPortsTest {
  @Test
  void rangesAreFreeDistinctAndBelowTheEphemeralPorts() throws Exception {
    int ephemeralFirst = Integer.parseInt(
        Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
    List<PortRange> ranges = new ArrayList<>();
    for (int count = 1; count <= 40; count++) {
      PortRange range = TestPorts.range(count);
      assertEquals(count, range.size());
      assertTrue(range.first() >= 20000 && range.last() < Math.min(ephemeralFirst, 26000), range.toString());
      for (int port = range.first(); port <= range.last(); port++) {
        assertTrue(TestManager.bindable(port), "port " + port + " of " + range);
      }
      for (PortRange earlier : ranges) {
        assertTrue(range.last() < earlier.first() || range.first() > earlier.last(), range + " and " + earlier);
      }
      ranges.add(range);
    }
  }

  /** What keeps another JVM off a range: the port below it, bound by this JVM for as long as it runs. */
  @Test
  void thePortBelowEachRangeIsHeldAsThisJvmsClaim() {
    PortRange range = TestPorts.range(3);
    assertFalse(TestManager.bindable(range.first() - 1), "claim of " + range);
  }
}
