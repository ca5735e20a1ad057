package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.GetHostRequest;
import io.cvmmanager.api.cvm.Host;
import io.cvmmanager.api.cvm.Resource;
import io.cvmmanager.resources.HostView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code host}: GetHost for people (a table of resources, bytes in MiB/GiB/TiB and {@code -} for what the host does
 * not tell and so does not limit; the GPUs with the VM holding each; the inventory's warnings) or for scripts, as the
 * {@code host} object of {@code /health}.
 */
@Command(name = "host", mixinStandardHelpOptions = true,
    description = "Show the host's resources: capacity, allocated to VMs, free; the GPUs and who holds them")
final class HostCommand implements Callable<Integer> {
  private static final List<String> RESOURCE_HEADER = List.of("RESOURCE", "CAPACITY", "ALLOCATED", "FREE");
  private static final List<String> GPU_HEADER = List.of("GPU", "IOMMU GROUP", "VM");
  private static final String[] BINARY_UNITS = {"MiB", "GiB", "TiB", "PiB"};

  @ParentCommand
  private Cvmctl cvmctl;

  @Option(names = "--json", description = "one JSON object, as the \"host\" of GET /health")
  private boolean json;

  @Override
  public Integer call() {
    return cvmctl.call(CvmServiceGrpcClient.GetHost, GetHostRequest.getDefaultInstance(),
        host -> json ? view(host).toJson().encode() : text(host));
  }

  static String text(Host host) {
    List<List<String>> resources = new ArrayList<>();
    resources.add(RESOURCE_HEADER);
    for (Resource resource : host.getResourcesList()) {
      boolean bytes = resource.getUnit().equals("bytes");
      resources.add(List.of(resource.getName(),
          resource.hasCapacity() ? amount(resource.getCapacity(), bytes) : "-",
          amount(resource.getAllocated(), bytes),
          resource.hasFree() ? amount(resource.getFree(), bytes) : "-"));
    }
    StringBuilder text = new StringBuilder(Table.of(resources)).append("\n\n");
    if (host.getGpusCount() == 0) {
      text.append("no GPUs");
    } else {
      List<List<String>> gpus = new ArrayList<>();
      gpus.add(GPU_HEADER);
      host.getGpusList().forEach(gpu -> gpus.add(List.of(gpu.getBdf(),
          gpu.getIommuGroup().isEmpty() ? "-" : gpu.getIommuGroup(),
          gpu.getVmId().isEmpty() ? "free" : gpu.getVmId())));
      text.append(Table.of(gpus));
    }
    if (host.getWarningsCount() > 0) {
      text.append("\n");
      host.getWarningsList().forEach(warning -> text.append("\nwarning: ").append(warning));
    }
    return text.toString();
  }

  /** A count as it is; bytes in the largest binary unit from MiB up that leaves at least 1, to a tenth. */
  static String amount(long value, boolean bytes) {
    if (!bytes) {
      return Long.toString(value);
    }
    double scaled = value / (double) (1L << 20);
    int unit = 0;
    while (scaled >= 1024 && unit < BINARY_UNITS.length - 1) {
      scaled /= 1024;
      unit++;
    }
    String number = String.format(Locale.ROOT, "%.1f", scaled);
    return (number.endsWith(".0") ? number.substring(0, number.length() - 2) : number) + " " + BINARY_UNITS[unit];
  }

  /** The reply as the manager's own view, whose JSON {@code /health} shows too. */
  private static HostView view(Host host) {
    return new HostView(
        host.getResourcesList().stream().map(r -> new HostView.Resource(r.getName(), r.getUnit(),
            r.hasCapacity() ? OptionalLong.of(r.getCapacity()) : OptionalLong.empty(), r.getAllocated(),
            r.hasFree() ? OptionalLong.of(r.getFree()) : OptionalLong.empty())).toList(),
        host.getGpusList().stream().map(g -> new HostView.GpuUse(g.getBdf(), g.getIommuGroup(),
            g.getVmId().isEmpty() ? Optional.empty() : Optional.of(g.getVmId()))).toList(),
        host.getWarningsList());
  }
}
