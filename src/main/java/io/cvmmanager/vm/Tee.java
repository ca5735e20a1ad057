package io.cvmmanager.vm;

/** The trusted execution environment a VM runs in, resolved once at start-up from config and host. */
public enum Tee {
  NONE, SEV_SNP, TDX
}
