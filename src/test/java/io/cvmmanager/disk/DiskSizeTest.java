package io.cvmmanager.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DiskSizeTest {
  @Test
  void referenceSizeIsRoundedUpToWholeGibibytesPlusOne() {
    long gib = DiskSize.GIB;
    assertEquals(2 * gib, DiskSize.forReference(64L << 20));
    assertEquals(2 * gib, DiskSize.forReference(gib));
    assertEquals(3 * gib, DiskSize.forReference(gib + 1));
    assertEquals(11 * gib, DiskSize.forReference(10 * gib));
    assertEquals(gib, DiskSize.forReference(0));
  }
}
