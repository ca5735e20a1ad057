package io.cvmmanager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Timestamp;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import java.time.Instant;
import java.util.OptionalDouble;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** top's figures: CPU % between two samples, uptime as top writes it, and the table of a frame. */
class TopCommandTest {
  private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

  @Test
  void cpuPercentIsCpuSecondsUsedOverWallTimeBetweenTwoSamples() {
    CpuPercent cpu = new CpuPercent();
    assertEquals(OptionalDouble.empty(), cpu.update("vm-1", 10.0, T0));
    // The same sample in the next frame: still none.
    assertEquals(OptionalDouble.empty(), cpu.update("vm-1", 10.0, T0));
    assertEquals(75.0, cpu.update("vm-1", 17.5, T0.plusSeconds(10)).getAsDouble(), 1e-9);
    // A frame without a new sample shows the last figure; the next sample is measured from the one before.
    assertEquals(75.0, cpu.update("vm-1", 17.5, T0.plusSeconds(10)).getAsDouble(), 1e-9);
    assertEquals(150.0, cpu.update("vm-1", 20.5, T0.plusSeconds(12)).getAsDouble(), 1e-9);
  }

  @Test
  void aVmGoneAndBackUnderItsIdStartsAgain() {
    CpuPercent cpu = new CpuPercent();
    cpu.update("vm-1", 1.0, T0);
    cpu.update("vm-1", 2.0, T0.plusSeconds(1));
    cpu.keepOnly(Set.of());
    assertEquals(OptionalDouble.empty(), cpu.update("vm-1", 0.1, T0.plusSeconds(2)));
  }

  @Test
  void noWallTimeOrCpuGoingBackIsNoNegativeFigure() {
    assertEquals(OptionalDouble.empty(), CpuPercent.percent(1, T0, 2, T0));
    assertEquals(0.0, CpuPercent.percent(5, T0, 4, T0.plusSeconds(1)).getAsDouble());
  }

  @Test
  void uptimeAsTopWritesIt() {
    assertEquals("0:07", TopCommand.uptime(7));
    assertEquals("59:59", TopCommand.uptime(3599));
    assertEquals("1:00:00", TopCommand.uptime(3600));
    assertEquals("2d 3:04:05", TopCommand.uptime(2 * 86400 + 3 * 3600 + 4 * 60 + 5));
  }

  @Test
  void aFrameShowsEachVmAndDashesForWhatIsNotKnownYet() {
    Vm sampled = Vm.newBuilder().setId("vm-1").setState(VmState.RUNNING).setPort(6100).setCpuSeconds(12.5)
        .setMemoryRssBytes(300L << 20).setUptimeSeconds(65).setSampledAt(timestamp(T0)).build();
    Vm creating = Vm.newBuilder().setId("vm-2").setState(VmState.CREATING).setPort(6101).build();
    CpuPercent cpu = new CpuPercent();
    TopCommand.table(ListVmsResponse.newBuilder().addVms(sampled).addVms(creating).build(), cpu);
    String frame = TopCommand.table(ListVmsResponse.newBuilder().addVms(sampled.toBuilder().setCpuSeconds(13.0)
        .setSampledAt(timestamp(T0.plusSeconds(1))).setUptimeSeconds(66)).addVms(creating).build(), cpu);
    assertEquals("""
        ID    NODE  STATE     CPU%  RSS      UPTIME  PORT
        vm-1  -     RUNNING   50.0  300 MiB  1:06    6100
        vm-2  -     CREATING  -     -        -       6101""", frame);
  }

  private static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }
}
