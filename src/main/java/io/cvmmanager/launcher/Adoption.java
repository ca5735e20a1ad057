package io.cvmmanager.launcher;

import io.cvmmanager.process.ExitStatus;
import io.cvmmanager.process.ProcessSnapshot;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a starting manager does with one VM directory an earlier manager left: take its QEMU back, or report that
 * it ended and release what it had. Pure (the reads are done by the launcher), so every case is unit-tested.
 * A PID is trusted only when the process it names now has the recorded start time and command line.
 */
final class Adoption {
  private static final Pattern HOST_FORWARD = Pattern.compile("hostfwd=tcp::(\\d+)-:");
  private static final Pattern HOST_DATA = Pattern.compile("sev-snp-guest,[^ ]*host-data=([A-Za-z0-9+/=]+)");

  private Adoption() {}

  /**
   * What was found for one VM id.
   *
   * @param record state.json, parsed; empty when missing or unreadable ({@code problem} says why)
   * @param recordedProcess the process now holding the recorded PID, if any
   * @param pidFileProcess the process named by the VM's qemu.pid (QEMU writes it itself), if any
   */
  record Found(String id, Optional<VmRecord> record, String problem, Optional<ProcessSnapshot> recordedProcess,
      Optional<ProcessSnapshot> pidFileProcess) {}

  sealed interface Decision permits Adopt, Ended {}

  /**
   * Its QEMU runs: take it back. {@code thenRemove} when a create or a remove was under way at the crash (the
   * create's client never got an id; the remove was accepted): finish by removing it.
   */
  record Adopt(VmRecord record, ProcessSnapshot process, Optional<String> thenRemove, Optional<String> warning)
      implements Decision {}

  /** Its QEMU is gone, or its PID names another process now: report it ({@code from} → {@code to}), release. */
  record Ended(String id, String from, VmState to, String reason) implements Decision {}

  static Decision decide(Found found, Instant now) {
    if (found.record().isEmpty()) {
      String unreadable = "state.json unreadable (" + found.problem() + ")";
      return ourQemu(found.id(), found.pidFileProcess())
          .<Decision>map(process -> new Adopt(recover(found.id(), process, now), process, Optional.empty(),
              Optional.of(unreadable + "; recovered from the running QEMU's command line; its TTL, if it had one,"
                  + " is lost")))
          .orElseGet(() -> new Ended(found.id(), "", VmState.FAILED, unreadable + "; no QEMU runs for it"));
    }
    VmRecord record = found.record().get();
    String from = record.state().name();
    if (record.pid() <= 0) {
      // The manager stopped between writing the record and recording the PID: QEMU may have started anyway.
      return ourQemu(found.id(), found.pidFileProcess())
          .<Decision>map(process -> new Adopt(withProcess(record, process), process,
              Optional.of("create interrupted by a manager restart"), Optional.empty()))
          .orElseGet(() -> new Ended(found.id(), from, VmState.FAILED,
              "the manager stopped while creating it; QEMU never ran"));
    }
    Optional<ProcessSnapshot> process = found.recordedProcess();
    if (process.isEmpty() || !isRecordedProcess(record, process.get())
        || process.get().isZombie()) {
      // Under sudo the recorded PID is sudo's: should sudo be gone while QEMU runs, its pid file still finds it.
      Optional<ProcessSnapshot> orphan = ourQemu(found.id(), found.pidFileProcess())
          .filter(qemu -> qemu.pid() != record.pid());
      if (orphan.isPresent()) {
        return new Adopt(withProcess(record, orphan.get()), orphan.get(),
            Optional.of("its recorded process (PID " + record.pid() + ") is gone but its QEMU runs; removing it"),
            Optional.empty());
      }
    }
    VmState endedAs = record.state() == VmState.STOPPING ? VmState.STOPPED : VmState.FAILED;
    if (process.isEmpty()) {
      return new Ended(found.id(), from, endedAs, "QEMU (PID " + record.pid() + ") ended while the manager"
          + " was down; its exit status is unknown (another process reaped it)");
    }
    ProcessSnapshot running = process.get();
    if (!isRecordedProcess(record, running)) {
      return new Ended(found.id(), from, VmState.FAILED, "PID " + record.pid() + " belongs to another process now"
          + " (its start time or command line differ from the record); not adopted, not signalled");
    }
    if (running.isZombie()) {
      Optional<ExitStatus> exit = running.exit();
      boolean orderly = record.state() == VmState.STOPPING || exit.isPresent() && !exit.get().killed()
          && exit.get().code() == 0 && record.state().canMoveTo(VmState.STOPPED);
      return new Ended(found.id(), from, orderly ? VmState.STOPPED : VmState.FAILED, "QEMU (PID " + record.pid()
          + ") ended while the manager was down: " + exit.map(ExitStatus::toString).orElse("status unknown"));
    }
    Optional<String> thenRemove = switch (record.state()) {
      case RUNNING -> Optional.empty();
      case STOPPING -> Optional.of("removal interrupted by a manager restart; finishing it");
      default -> Optional.of("create interrupted by a manager restart");
    };
    return new Adopt(record, running, thenRemove, Optional.empty());
  }

  /**
   * The record's process: same PID and start time, and the command line it was started with — or, where a wrapper
   * script or an interpreter makes /proc show another one (Debian's {@code kvm} script, a QEMU stand-in), a
   * command line that names this VM ({@code -name cvm-<id>}). PID and start time alone already tell processes of
   * one boot apart; the command line guards against a record that is not this manager's.
   */
  static boolean isRecordedProcess(VmRecord record, ProcessSnapshot process) {
    return process.isSameProcess(record.pid(), record.pidStartTime(), record.command())
        || process.pid() == record.pid() && process.startTime() == record.pidStartTime()
        && namesVm(record.id(), process);
  }

  private static boolean namesVm(String id, ProcessSnapshot p) {
    int name = p.commandLine().indexOf("-name");
    return name >= 0 && name + 1 < p.commandLine().size() && p.commandLine().get(name + 1).equals("cvm-" + id);
  }

  /**
   * A live (not zombie) process whose command line names this VM ({@code -name cvm-<id>}): how a PID from a pid
   * file is trusted, at adoption and before the launcher signals QEMU through sudo.
   */
  static Optional<ProcessSnapshot> ourQemu(String id, Optional<ProcessSnapshot> process) {
    return process.filter(p -> !p.isZombie()).filter(p -> namesVm(id, p));
  }

  private static VmRecord withProcess(VmRecord record, ProcessSnapshot process) {
    return record.withProcess(process.pid(), process.startTime(), process.commandLine());
  }

  /**
   * A record rebuilt from a running QEMU's command line, for a VM whose state.json is lost: the command line
   * holds its port, boot mode, TEE, host data, CPU model, kernel command line, {@code -S} and what it holds of the
   * host; its creation time, TTL and launch measurement are gone.
   */
  static VmRecord recover(String id, ProcessSnapshot process, Instant now) {
    List<String> args = process.commandLine();
    String joined = String.join(" ", args);
    Matcher port = HOST_FORWARD.matcher(joined);
    Tee tee = joined.contains("sev-snp-guest") ? Tee.SEV_SNP : joined.contains("tdx-guest") ? Tee.TDX : Tee.NONE;
    int append = args.indexOf("-append");
    int cpu = args.indexOf("-cpu");
    LaunchConfig config = LaunchConfig.recovered(cpu >= 0 && cpu + 1 < args.size() ? args.get(cpu + 1) : "");
    Matcher hostData = HOST_DATA.matcher(joined);
    return new VmRecord(id, VmState.RUNNING, now, now, tee, joined.contains("scsi-hd"), args.contains("-S"),
        append >= 0 && append + 1 < args.size() ? args.get(append + 1) : "", Optional.empty(),
        port.find() ? Integer.parseInt(port.group(1)) : 0, process.pid(), process.startTime(), args, List.of(),
        config, hostData.find() ? Optional.of(hostData.group(1)) : Optional.empty(), Optional.empty(),
        RecordedCommand.claim(id, tee, args));
  }
}
