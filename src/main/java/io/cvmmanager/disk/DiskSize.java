package io.cvmmanager.disk;

/** Upstream's sizing of a VM disk: the reference image's virtual size rounded up to whole GiB, plus 1 GiB. */
public final class DiskSize {
  public static final long GIB = 1L << 30;

  private DiskSize() {}

  public static long forReference(long referenceVirtualBytes) {
    long wholeGib = (referenceVirtualBytes + GIB - 1) / GIB;
    return (wholeGib + 1) * GIB;
  }
}
