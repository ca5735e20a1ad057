package io.cvmmanager.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.Tee;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The accounting of every resource: what is admitted, what is refused and why, what a release gives back. */
class ResourceLedgerTest {
  private static final long MIB = 1L << 20;
  private static final ResourceLedger.Ratios NO_OVERCOMMIT = new ResourceLedger.Ratios(1.0, 1.0);

  private static HostInventory host(long memoryMib, int cpus, Optional<ContextPool> snp, List<Gpu> gpus,
      long diskMib) {
    return new HostInventory(OptionalLong.of(memoryMib * MIB), OptionalInt.of(cpus), snp, Optional.empty(), gpus,
        OptionalLong.of(diskMib * MIB), List.of());
  }

  private static Demand plain(long memoryMib, int vcpus) {
    return new Demand(memoryMib * MIB, vcpus, Tee.NONE, false, 0);
  }

  private static String refusal(ResourceLedger ledger, String id, Demand demand) {
    ManagerException e = assertThrows(ManagerException.class, () -> ledger.admit(id, demand));
    assertEquals(ErrorKind.RESOURCE_EXHAUSTED, e.kind());
    return e.getMessage();
  }

  @Test
  void memoryIsAdmittedUntilItRunsOutAndAReleaseLetsTheNextIn() {
    ResourceLedger ledger = new ResourceLedger(host(3072, 64, Optional.empty(), List.of(), 100_000), NO_OVERCOMMIT);
    ledger.admit("a", plain(1024, 1));
    ledger.admit("b", plain(1024, 1));
    ledger.admit("c", plain(1024, 1));
    assertEquals("memory: 1024 MiB asked, 0 MiB free of 3072 MiB", refusal(ledger, "d", plain(1024, 1)));
    ledger.release("b");
    ledger.admit("d", plain(1024, 1));
  }

  @Test
  void theViewShowsCapacityAllocatedAndFreeOfEachResourceAndWhoHoldsEachGpu() {
    ResourceLedger ledger = new ResourceLedger(host(4096, 4, Optional.of(new ContextPool(10, 3)),
        List.of(new Gpu("0000:41:00.0", "40"), new Gpu("0000:c1:00.0", "41")), 10_000),
        new ResourceLedger.Ratios(2.0, 4.0));
    ledger.admit("a", new Demand(1024 * MIB, 2, Tee.SEV_SNP, true, 500 * MIB));
    HostView view = ledger.view(Tee.SEV_SNP, 1, 5);
    assertEquals(List.of("memory", "vcpus", "sev-snp-contexts", "tdx-contexts", "gpus", "disk", "vms"),
        view.resources().stream().map(HostView.Resource::name).toList());
    assertEquals(new HostView.Resource("memory", "bytes", OptionalLong.of(4096 * MIB), 1024 * MIB,
        OptionalLong.of(3072 * MIB)), view.resource("memory").orElseThrow(), "TEE memory: the capacity is the limit");
    assertEquals(OptionalLong.of(7168 * MIB), ledger.view(Tee.NONE, 1, 5).resource("memory").orElseThrow().free(),
        "without a TEE the limit is capacity × 2");
    assertEquals(new HostView.Resource("vcpus", "count", OptionalLong.of(4), 2, OptionalLong.of(14)),
        view.resource("vcpus").orElseThrow());
    assertEquals(new HostView.Resource("sev-snp-contexts", "count", OptionalLong.of(10), 1, OptionalLong.of(6)),
        view.resource("sev-snp-contexts").orElseThrow(), "10 less 3 of other guests less ours");
    assertEquals(new HostView.Resource("tdx-contexts", "count", OptionalLong.empty(), 0, OptionalLong.empty()),
        view.resource("tdx-contexts").orElseThrow(), "unknown: not limited");
    assertEquals(new HostView.Resource("gpus", "count", OptionalLong.of(2), 1, OptionalLong.of(1)),
        view.resource("gpus").orElseThrow());
    assertEquals(new HostView.Resource("disk", "bytes", OptionalLong.of(10_000 * MIB), 500 * MIB,
        OptionalLong.of(9_500 * MIB)), view.resource("disk").orElseThrow());
    assertEquals(new HostView.Resource("vms", "count", OptionalLong.of(5), 1, OptionalLong.of(4)),
        view.resource("vms").orElseThrow());
    assertEquals(List.of(new HostView.GpuUse("0000:41:00.0", "40", Optional.of("a")),
        new HostView.GpuUse("0000:c1:00.0", "41", Optional.empty())), view.gpus());
    assertEquals(view, HostView.fromJson(view.toJson()), "its JSON, as the bus carries it across JVMs");
  }

  @Test
  void plainMemoryMayBeOvercommittedButTeeMemoryNever() {
    ResourceLedger ledger = new ResourceLedger(host(2048, 64, Optional.of(new ContextPool(10, 0)), List.of(),
        100_000), new ResourceLedger.Ratios(2.0, 1.0));
    ledger.admit("a", plain(2048, 1));
    ledger.admit("b", plain(1024, 1));
    assertEquals("memory: 1024 MiB asked, 0 MiB free of 2048 MiB (TEE memory is not overcommitted)",
        refusal(ledger, "snp", new Demand(1024 * MIB, 1, Tee.SEV_SNP, false, 0)));
  }

  @Test
  void vcpusAreLimitedByHostCpusTimesTheirRatio() {
    ResourceLedger ledger = new ResourceLedger(host(100_000, 2, Optional.empty(), List.of(), 100_000),
        new ResourceLedger.Ratios(1.0, 2.0));
    ledger.admit("a", plain(1, 3));
    assertEquals("vCPUs: 2 asked, 1 free of 4 (2 host CPUs × MANAGER_CPU_OVERCOMMIT 2.0)",
        refusal(ledger, "b", plain(1, 2)));
  }

  @Test
  void snpContextsCountOursAndThoseOthersUse() {
    // Two in use when read, one of them ours (adopted): one other guest, so 3 - 1 - ours.
    ResourceLedger ledger = new ResourceLedger(host(100_000, 64, Optional.of(new ContextPool(3, 2)), List.of(),
        100_000), NO_OVERCOMMIT);
    ledger.adopt(new Claim("adopted", MIB, 1, Tee.SEV_SNP, Optional.empty(), 0));
    Demand snp = new Demand(MIB, 1, Tee.SEV_SNP, false, 0);
    ledger.admit("new", snp);
    assertEquals("sev-snp contexts: 0 free of 3", refusal(ledger, "third", snp));
  }

  @Test
  void eachGpuVmTakesItsOwnGpuUntilNoneIsFree() {
    ResourceLedger ledger = new ResourceLedger(host(100_000, 64, Optional.empty(),
        List.of(new Gpu("0000:01:00.0", "11"), new Gpu("0000:02:00.0", "12")), 100_000), NO_OVERCOMMIT);
    Demand gpu = new Demand(MIB, 1, Tee.NONE, true, 0);
    assertEquals(Optional.of("0000:01:00.0"), ledger.admit("a", gpu).gpu());
    assertEquals(Optional.of("0000:02:00.0"), ledger.admit("b", gpu).gpu());
    assertEquals("GPUs: none free of 2", refusal(ledger, "c", gpu));
    ledger.release("a");
    assertEquals(Optional.of("0000:01:00.0"), ledger.admit("c", gpu).gpu());
  }

  @Test
  void diskCopiesAdmittedSinceTheLastReadingCountUntilTheNext() {
    HostInventory reading = host(100_000, 64, Optional.empty(), List.of(), 3000);
    ResourceLedger ledger = new ResourceLedger(reading, NO_OVERCOMMIT);
    Demand copy = new Demand(MIB, 1, Tee.NONE, false, 2000 * MIB);
    ledger.admit("a", copy);
    assertEquals("disk: 2000 MiB asked, 1000 MiB free in the state dir", refusal(ledger, "b", copy));
    ledger.admit("overlay", new Demand(MIB, 1, Tee.NONE, false, 0));
  }

  @Test
  void everyShortResourceIsNamedAndNothingIsHeldForARefusedVm() {
    ResourceLedger ledger = new ResourceLedger(host(1024, 1, Optional.empty(), List.of(), 100_000), NO_OVERCOMMIT);
    assertEquals("memory: 2048 MiB asked, 1024 MiB free of 1024 MiB; vCPUs: 2 asked, 1 free of 1 (1 host CPUs ×"
        + " MANAGER_CPU_OVERCOMMIT 1.0)", refusal(ledger, "big", plain(2048, 2)));
    assertEquals(Optional.empty(), ledger.claimOf("big"));
    ledger.admit("fits", plain(1024, 1));
  }

  @Test
  void whatTheHostDoesNotTellLimitsNothing() {
    HostInventory unknown = new HostInventory(OptionalLong.empty(), OptionalInt.empty(), Optional.empty(),
        Optional.empty(), List.of(), OptionalLong.empty(), List.of());
    ResourceLedger ledger = new ResourceLedger(unknown, NO_OVERCOMMIT);
    ledger.admit("a", new Demand(1L << 40, 1000, Tee.SEV_SNP, false, 1L << 40));
  }
}
