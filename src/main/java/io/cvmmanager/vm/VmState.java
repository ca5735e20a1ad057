package io.cvmmanager.vm;

import java.util.EnumSet;
import java.util.Set;

/**
 * A VM's lifecycle: {@code CREATING → STARTING → RUNNING → STOPPING → STOPPED}, and {@code FAILED} from any state
 * that is not already final. A paused VM is RUNNING (with a paused flag); agent readiness is a flag, not a state.
 */
public enum VmState {
  CREATING, STARTING, RUNNING, STOPPING, STOPPED, FAILED;

  public boolean isFinal() {
    return this == STOPPED || this == FAILED;
  }

  public boolean canMoveTo(VmState next) {
    return allowedNext().contains(next);
  }

  private Set<VmState> allowedNext() {
    return switch (this) {
      case CREATING -> EnumSet.of(STARTING, STOPPING, FAILED);
      case STARTING -> EnumSet.of(RUNNING, STOPPING, FAILED);
      case RUNNING -> EnumSet.of(STOPPING, STOPPED, FAILED);
      case STOPPING -> EnumSet.of(STOPPED, FAILED);
      case STOPPED, FAILED -> EnumSet.noneOf(VmState.class);
    };
  }
}
