package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.process.ExitStatus;
import io.cvmmanager.process.ProcessSnapshot;
import io.cvmmanager.resources.Claim;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every case of what a starting manager does with a VM an earlier one left, without processes or files. */
class AdoptionTest {
  private static final String ID = "0b4c7a3e-7d7e-4b7c-9f0e-2a1d7c1f9e11";
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private static final List<String> COMMAND = List.of("qemu-system-x86_64", "-netdev",
      "user,id=vmnic-" + ID + ",hostfwd=tcp::6105-:7002", "-object",
      "sev-snp-guest,id=sev0-" + ID + ",cbitpos=51,reduced-phys-bits=1,host-data=q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=", "-kernel", "bzImage", "-append", "console=ttyS0",
      "-name", "cvm-" + ID, "-S");

  private static VmRecord record(VmState state, long pid) {
    return new VmRecord(ID, state, NOW.minusSeconds(60), NOW.minusSeconds(30), Tee.NONE, false, true,
        "console=ttyS0", Optional.of(NOW.plusSeconds(600)), 6105, pid, 4242, pid > 0 ? COMMAND : List.of(),
        List.of(), LaunchConfig.recovered(""), Optional.empty(), Optional.empty(),
        new Claim(ID, 1L << 30, 1, Tee.NONE, Optional.empty(), 0));
  }

  private static ProcessSnapshot process(long pid, char state, long startTime, List<String> command,
      Optional<ExitStatus> exit) {
    return new ProcessSnapshot(pid, state, startTime, command, exit);
  }

  private static Adoption.Decision decide(Optional<VmRecord> record, String problem,
      Optional<ProcessSnapshot> recorded, Optional<ProcessSnapshot> pidFile) {
    return Adoption.decide(new Adoption.Found(ID, record, problem, recorded, pidFile), NOW);
  }

  @Test
  void aRunningVmWhoseQemuStillRunsIsAdopted() {
    Adoption.Decision decision = decide(Optional.of(record(VmState.RUNNING, 100)), "",
        Optional.of(process(100, 'S', 4242, COMMAND, Optional.empty())), Optional.empty());
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decision);
    assertEquals(Optional.empty(), adopt.thenRemove());
    assertEquals(100, adopt.process().pid());
  }

  @Test
  void aPidWithAnotherStartTimeIsAnotherProcessAndNotAdopted() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class, decide(Optional.of(record(VmState.RUNNING, 100)),
        "", Optional.of(process(100, 'S', 9999, COMMAND, Optional.empty())), Optional.empty()));
    assertEquals(VmState.FAILED, ended.to());
    assertTrue(ended.reason().contains("PID 100 belongs to another process"), ended.reason());
  }

  @Test
  void aPidWithTheSameStartTimeButAnotherCommandIsNotAdopted() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class, decide(Optional.of(record(VmState.RUNNING, 100)),
        "", Optional.of(process(100, 'S', 4242, List.of("sleep", "100"), Optional.empty())), Optional.empty()));
    assertTrue(ended.reason().contains("another process"), ended.reason());
  }

  /** A wrapper script or interpreter (Debian's kvm, a QEMU stand-in) shows another argv in /proc; -name tells. */
  @Test
  void aQemuStartedThroughAWrapperIsAdoptedByItsNameWhenPidAndStartTimeMatch() {
    List<String> throughInterpreter = new java.util.ArrayList<>(List.of("/usr/bin/python3", "/opt/fake-qemu.py"));
    throughInterpreter.addAll(COMMAND.subList(1, COMMAND.size()));
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decide(Optional.of(record(VmState.RUNNING, 100)),
        "", Optional.of(process(100, 'S', 4242, throughInterpreter, Optional.empty())), Optional.empty()));
    assertEquals(Optional.empty(), adopt.thenRemove());
    // The same start time but another VM's name is another VM's QEMU: not adopted.
    List<String> otherVm = new java.util.ArrayList<>(throughInterpreter);
    otherVm.set(otherVm.indexOf("cvm-" + ID), "cvm-00000000-0000-4000-8000-000000000000");
    assertInstanceOf(Adoption.Ended.class, decide(Optional.of(record(VmState.RUNNING, 100)), "",
        Optional.of(process(100, 'S', 4242, otherVm, Optional.empty())), Optional.empty()));
  }

  @Test
  void aQemuGoneWhileTheManagerWasDownIsFailedWithUnknownStatus() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class,
        decide(Optional.of(record(VmState.RUNNING, 100)), "", Optional.empty(), Optional.empty()));
    assertEquals(VmState.FAILED, ended.to());
    assertEquals("RUNNING", ended.from());
    assertTrue(ended.reason().contains("exit status is unknown"), ended.reason());
  }

  @Test
  void aZombieKilledBySignalIsFailedWithTheSignal() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class, decide(Optional.of(record(VmState.RUNNING, 100)),
        "", Optional.of(process(100, 'Z', 4242, COMMAND, Optional.of(new ExitStatus(0, 9)))), Optional.empty()));
    assertEquals(VmState.FAILED, ended.to());
    assertTrue(ended.reason().contains("killed by signal 9 (SIGKILL)"), ended.reason());
  }

  @Test
  void aZombieThatExitedZeroIsStopped() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class, decide(Optional.of(record(VmState.RUNNING, 100)),
        "", Optional.of(process(100, 'Z', 4242, COMMAND, Optional.of(new ExitStatus(0, 0)))), Optional.empty()));
    assertEquals(VmState.STOPPED, ended.to());
  }

  @Test
  void aRemovalUnderWayIsFinishedAfterAdoption() {
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decide(Optional.of(record(VmState.STOPPING, 100)),
        "", Optional.of(process(100, 'S', 4242, COMMAND, Optional.empty())), Optional.empty()));
    assertTrue(adopt.thenRemove().orElseThrow().contains("removal interrupted"));
  }

  @Test
  void aCreateUnderWayIsUndoneAfterAdoption() {
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decide(Optional.of(record(VmState.STARTING, 100)),
        "", Optional.of(process(100, 'S', 4242, COMMAND, Optional.empty())), Optional.empty()));
    assertTrue(adopt.thenRemove().orElseThrow().contains("create interrupted"));
  }

  @Test
  void aRecordWithoutPidFindsQemuByItsPidFileAndUndoesTheCreate() {
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decide(Optional.of(record(VmState.STARTING, 0)),
        "", Optional.empty(), Optional.of(process(200, 'S', 77, COMMAND, Optional.empty()))));
    assertEquals(200, adopt.record().pid());
    assertEquals(77, adopt.record().pidStartTime());
    assertEquals(COMMAND, adopt.record().command());
    assertTrue(adopt.thenRemove().isPresent());
  }

  @Test
  void aRecordWithoutPidAndNoQemuNeverRan() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class,
        decide(Optional.of(record(VmState.STARTING, 0)), "", Optional.empty(), Optional.empty()));
    assertTrue(ended.reason().contains("QEMU never ran"), ended.reason());
  }

  @Test
  void aQemuWhoseRecordedSudoIsGoneIsFoundByItsPidFileAndRemoved() {
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decide(Optional.of(record(VmState.RUNNING, 100)),
        "", Optional.empty(), Optional.of(process(101, 'S', 50, COMMAND, Optional.empty()))));
    assertEquals(101, adopt.record().pid());
    assertTrue(adopt.thenRemove().orElseThrow().contains("recorded process (PID 100) is gone"));
  }

  @Test
  void aRemovalUnderWayWhoseQemuIsGoneIsStopped() {
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class,
        decide(Optional.of(record(VmState.STOPPING, 100)), "", Optional.empty(), Optional.empty()));
    assertEquals(VmState.STOPPED, ended.to());
  }

  @Test
  void aPidFileNamingAnotherVmsQemuIsNotTaken() {
    List<String> other = List.of("qemu-system-x86_64", "-name", "cvm-11111111-2222-3333-4444-555555555555");
    Adoption.Ended ended = assertInstanceOf(Adoption.Ended.class, decide(Optional.empty(), "not a JSON object",
        Optional.empty(), Optional.of(process(300, 'S', 5, other, Optional.empty()))));
    assertTrue(ended.reason().contains("state.json unreadable (not a JSON object); no QEMU runs"), ended.reason());
  }

  @Test
  void anUnreadableRecordOfARunningQemuIsRecoveredFromItsCommandLine() {
    Adoption.Adopt adopt = assertInstanceOf(Adoption.Adopt.class, decide(Optional.empty(), "truncated",
        Optional.empty(), Optional.of(process(300, 'S', 5, COMMAND, Optional.empty()))));
    VmRecord recovered = adopt.record();
    assertEquals(6105, recovered.port());
    assertTrue(recovered.paused());
    assertEquals("console=ttyS0", recovered.kernelCmdline());
    assertEquals(Tee.SEV_SNP, recovered.tee());
    assertEquals(Optional.of("q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k="), recovered.hostData());
    assertEquals(Optional.empty(), recovered.ttlDeadline());
    assertEquals(300, recovered.pid());
    assertTrue(adopt.warning().orElseThrow().contains("state.json unreadable (truncated); recovered"));
    assertEquals(Optional.empty(), adopt.thenRemove());
  }
}
