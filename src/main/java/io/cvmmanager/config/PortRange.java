package io.cvmmanager.config;

/** An inclusive range of TCP ports, {@code first <= last}. */
public record PortRange(int first, int last) {
  public PortRange {
    if (first > last) {
      throw new IllegalArgumentException("inverted range " + first + "-" + last);
    }
  }

  public int size() {
    return last - first + 1;
  }

  public boolean contains(int port) {
    return port >= first && port <= last;
  }

  @Override
  public String toString() {
    return first + "-" + last;
  }
}
