package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VmStateTest {
  @Test
  void theLifecycleMovesForwardAndFailedIsReachableFromEveryLiveState() {
    assertTrue(VmState.CREATING.canMoveTo(VmState.STARTING));
    assertTrue(VmState.STARTING.canMoveTo(VmState.RUNNING));
    assertTrue(VmState.RUNNING.canMoveTo(VmState.STOPPING));
    assertTrue(VmState.STOPPING.canMoveTo(VmState.STOPPED));
    for (VmState live : new VmState[] {VmState.CREATING, VmState.STARTING, VmState.RUNNING, VmState.STOPPING}) {
      assertTrue(live.canMoveTo(VmState.FAILED), live + " -> FAILED");
      assertFalse(live.isFinal());
    }
  }

  @Test
  void finalStatesGoNowhereAndSkippingIsIllegal() {
    for (VmState next : VmState.values()) {
      assertFalse(VmState.STOPPED.canMoveTo(next));
      assertFalse(VmState.FAILED.canMoveTo(next));
    }
    assertFalse(VmState.CREATING.canMoveTo(VmState.RUNNING));
    assertFalse(VmState.RUNNING.canMoveTo(VmState.STARTING));
  }

  @Test
  void anIllegalTransitionFailsLoudly() {
    Vm vm = new Vm("id", VmPaths.of(Path.of("/tmp"), "id"), Tee.NONE, false, false, "", Optional.empty(),
        io.cvmmanager.vm.LaunchConfig.recovered(""));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> vm.moveTo(VmState.RUNNING));
    assertEquals("vm id: illegal transition CREATING -> RUNNING", e.getMessage());
  }
}
