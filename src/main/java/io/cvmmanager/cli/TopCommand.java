package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code top}: the manager's VMs with their usage, as virt-top shows a host's: a table refreshed every second until
 * {@code q} or Ctrl-C; without a terminal (a pipe, a script), one table and exit.
 */
@Command(name = "top", mixinStandardHelpOptions = true,
    description = "Show the VMs' CPU, memory and uptime, refreshed every second (q or Ctrl-C quits); without a "
        + "terminal, once")
final class TopCommand implements Callable<Integer> {
  private static final List<String> HEADER = List.of("ID", "NODE", "STATE", "CPU%", "RSS", "UPTIME", "PORT");
  private static final long REFRESH_MS = 1000;
  /** Cursor home and clear screen (ANSI): each frame replaces the one before. */
  private static final String CLEAR = "\033[H\033[2J";

  @ParentCommand
  private Cvmctl cvmctl;

  @Override
  public Integer call() throws IOException {
    if (System.console() == null) {
      return cvmctl.call(CvmServiceGrpcClient.ListVms, ListVmsRequest.getDefaultInstance(),
          vms -> table(vms, new CpuPercent()));
    }
    CompletableFuture<Void> quit = new CompletableFuture<>();
    cvmctl.interrupt().arm().thenRun(() -> quit.complete(null));
    try (RawTerminal terminal = RawTerminal.open()) {
      readKeys(quit);
      return cvmctl.connected(manager -> {
        CpuPercent cpu = new CpuPercent();
        while (!quit.isDone()) {
          ManagerConnection.Answer<ListVmsResponse> answer = manager.call(CvmServiceGrpcClient.ListVms,
              ListVmsRequest.getDefaultInstance());
          if (!answer.ok()) {
            return cvmctl.failed(answer);
          }
          cvmctl.out().print(CLEAR + heading(answer.response()) + "\n\n" + table(answer.response(), cpu) + "\n");
          cvmctl.out().flush();
          waitFor(quit);
        }
        return 0;
      });
    }
  }

  /** {@code q} (or the end of input) quits; read on a daemon thread, as System.in has no wait with a timeout. */
  private static void readKeys(CompletableFuture<Void> quit) {
    Thread keys = new Thread(() -> {
      try {
        int key;
        do {
          key = System.in.read();
        } while (key != 'q' && key != 'Q' && key != -1);
      } catch (IOException e) {
        // No more input: nothing to quit by but Ctrl-C.
        return;
      }
      quit.complete(null);
    }, "cvmctl-top-keys");
    keys.setDaemon(true);
    keys.start();
  }

  private static void waitFor(CompletableFuture<Void> quit) {
    try {
      quit.get(REFRESH_MS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException next) {
      // The next frame.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      quit.complete(null);
    } catch (ExecutionException impossible) {
      quit.complete(null);
    }
  }

  private static String heading(ListVmsResponse vms) {
    return "cvmctl top - " + LocalTime.now(ZoneId.systemDefault()).truncatedTo(ChronoUnit.SECONDS) + "  "
        + vms.getVmsCount() + " VM" + (vms.getVmsCount() == 1 ? "" : "s") + "  (q quits)";
  }

  static String table(ListVmsResponse vms, CpuPercent cpu) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(HEADER);
    cpu.keepOnly(vms.getVmsList().stream().map(Vm::getId).collect(Collectors.toSet()));
    for (Vm vm : vms.getVmsList()) {
      boolean sampled = vm.hasSampledAt();
      OptionalDouble percent = sampled
          ? cpu.update(vm.getId(), vm.getCpuSeconds(), Instant.parse(VmFields.rfc3339(vm.getSampledAt())))
          : OptionalDouble.empty();
      // "-": not placed on a node (a host of one node, MANAGER_NUMA=off).
      rows.add(List.of(vm.getId(), vm.getNumaNodes().isEmpty() ? "-" : vm.getNumaNodes(), vm.getState().name(),
          percent.isPresent() ? String.format(Locale.ROOT, "%.1f", percent.getAsDouble()) : "-",
          sampled ? HostCommand.amount(vm.getMemoryRssBytes(), true) : "-",
          sampled ? uptime((long) vm.getUptimeSeconds()) : "-", String.valueOf(vm.getPort())));
    }
    return Table.of(rows);
  }

  /** As top: {@code M:SS} under an hour, {@code H:MM:SS} under a day, then {@code Nd H:MM:SS}. */
  static String uptime(long seconds) {
    long days = seconds / 86400;
    long hours = seconds % 86400 / 3600;
    long minutes = seconds % 3600 / 60;
    String clock = hours > 0 || days > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", hours, minutes, seconds % 60)
        : String.format(Locale.ROOT, "%d:%02d", minutes, seconds % 60);
    return days > 0 ? days + "d " + clock : clock;
  }
}
