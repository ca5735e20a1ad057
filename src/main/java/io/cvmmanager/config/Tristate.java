package io.cvmmanager.config;

/** A feature switch that may also be left to host detection. */
public enum Tristate {
  TRUE, FALSE, AUTO
}
