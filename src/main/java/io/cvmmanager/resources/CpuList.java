package io.cvmmanager.resources;

import java.util.BitSet;

/**
 * The kernel's CPU list format ({@code sys/devices/system/cpu/online}, a NUMA node's {@code cpulist}):
 * comma-separated CPUs and ranges, e.g. {@code 0-3,8,10-11}.
 */
final class CpuList {
  private CpuList() {}

  /** The CPUs of {@code text}; IllegalArgumentException quoting what is not a CPU list. */
  static BitSet parse(String text) {
    BitSet cpus = new BitSet();
    String trimmed = text.trim();
    if (trimmed.isEmpty()) {
      return cpus;
    }
    for (String part : trimmed.split(",")) {
      String[] range = part.trim().split("-", -1);
      try {
        int first = Integer.parseInt(range[0]);
        int last = range.length == 2 ? Integer.parseInt(range[1]) : first;
        if (range.length > 2 || first < 0 || last < first || last > 1 << 20) {
          throw new NumberFormatException();
        }
        cpus.set(first, last + 1);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a CPU list: \"" + (trimmed.length() > 40 ? trimmed.substring(0, 40)
            + "…" : trimmed) + "\"");
      }
    }
    return cpus;
  }
}
