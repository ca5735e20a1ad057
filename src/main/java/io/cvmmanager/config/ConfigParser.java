package io.cvmmanager.config;

import static io.cvmmanager.config.ConfigVariable.*;

import io.cvmmanager.error.ClientText;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Turns the merged variables (defaults, YAML, environment: see {@link ConfigLoader}) into a typed
 * {@link ManagerConfig}. Pure: no file or host is looked at here (that is {@link StartupChecks}). Every invalid value
 * becomes one line naming the variable and the problem; all of them are reported together.
 */
public final class ConfigParser {
  private static final String NOT_A_BDF = "not a PCI address like 0000:01:00.0";
  /** Longest path a unix socket may have (sun_path is 108 bytes with its NUL). */
  public static final int MAX_UNIX_SOCKET_PATH = 107;
  private static final String SOCKET_SUFFIX = "/vms/" + UUID.randomUUID() + "/qmp.sock";

  private final ConfigValues in;
  private final List<String> warnings = new ArrayList<>();

  private ConfigParser(Map<String, String> values) {
    this.in = new ConfigValues(values);
  }

  /**
   * @param values every variable that was set, by name (unset ones take their default here)
   * @param home the user's home directory, for the default state dir of a non-root user
   * @param root whether the manager runs as root
   */
  public static ManagerConfig parse(Map<String, String> values, Path home, boolean root)
      throws InvalidConfigException {
    return new ConfigParser(values).build(home, root);
  }

  private ManagerConfig build(Path home, boolean root) throws InvalidConfigException {
    for (String name : in.names()) {
      if (ConfigVariable.isOurNamespace(name) && ConfigVariable.byName(name).isEmpty()) {
        warnings.add("unknown variable " + name + " (ignored; a typo?)");
      }
    }
    for (ConfigVariable shared : List.of(MANAGER_QEMU_DST_DISK_FILE, MANAGER_QEMU_CERTS_MOUNT, MANAGER_QEMU_ENV_MOUNT)) {
      if (!in.str(shared).isEmpty()) {
        warnings.add(shared + " is set but ignored: each VM gets its own under <state dir>/vms/<id>/");
      }
    }

    String instanceId = in.str(MANAGER_INSTANCE_ID);
    if (instanceId.isEmpty()) {
      instanceId = UUID.randomUUID().toString();
    }
    ManagerConfig.Endpoint grpc = new ManagerConfig.Endpoint(in.host(MANAGER_GRPC_HOST), in.port(MANAGER_GRPC_PORT));
    ManagerConfig.Endpoint http = new ManagerConfig.Endpoint(in.host(MANAGER_HTTP_HOST), in.port(MANAGER_HTTP_PORT));
    if (grpc.port() == http.port() && grpc.port() > 0 && grpc.host().equals(http.host())) {
      in.problem(MANAGER_HTTP_PORT, "same port as MANAGER_GRPC_PORT (" + grpc.port() + ")");
    }
    Duration grpcTimeout = in.positiveDuration(MANAGER_GRPC_TIMEOUT);
    TlsFiles grpcTls = tls("GRPC");
    TlsFiles httpTls = tls("HTTP");
    ManagerConfig.LogLevel logLevel = logLevel();
    ManagerConfig.LogFormat logFormat = logFormat();
    String consoleMax = in.size(MANAGER_CONSOLE_LOG_MAX_SIZE);
    ManagerConfig.Observation observation = new ManagerConfig.Observation(
        in.nonNegativeDuration(MANAGER_AGENT_PROBE_INTERVAL), consoleMax == null ? 0 : in.bytesOf(consoleMax),
        in.nonNegativeDuration(MANAGER_USAGE_INTERVAL));
    int maxVms = in.intIn(MANAGER_MAX_VMS, 0, 100_000);
    Path stateDir = stateDir(home, root);
    Path hostRoot = Path.of(in.str(MANAGER_HOST_ROOT).isEmpty() ? "/" : in.str(MANAGER_HOST_ROOT));
    // A size as for MANAGER_QEMU_MEMORY_SIZE (a bare number is MiB); 0 keeps nothing back.
    String reserved = in.str(MANAGER_HOST_RESERVED_MEMORY).equals("0") ? "0" : in.size(MANAGER_HOST_RESERVED_MEMORY);
    ManagerConfig.Resources resources = new ManagerConfig.Resources(
        reserved == null || reserved.equals("0") ? 0 : ConfigValues.bytes(reserved),
        in.positiveDuration(MANAGER_INVENTORY_INTERVAL), in.factor(MANAGER_MEMORY_OVERCOMMIT, 1.0, 100.0),
        in.factor(MANAGER_CPU_OVERCOMMIT, 1.0, 1000.0), numa());

    String igvmmeasure = in.str(MANAGER_IGVMMEASURE_BINARY);
    if (igvmmeasure.isEmpty()) {
      String upstreamDir = in.str(MANAGER_ATTESTATION_POLICY_BINARY_PATH);
      igvmmeasure = upstreamDir.isEmpty() ? "../../build/igvmmeasure" : upstreamDir;
    }
    ManagerConfig.Attestation attestation = new ManagerConfig.Attestation(
        in.str(MANAGER_ATTESTATION_POLICY_BINARY), igvmmeasure,
        in.optional(MANAGER_PCR_VALUES).map(Path::of), in.optional(MANAGER_CORIM_SIGNING_KEY).map(Path::of),
        in.uint64(MANAGER_SNP_MIN_LAUNCH_TCB), tdxReference());

    QemuConfig qemu = qemu();
    ManagerConfig.Tracing tracing = new ManagerConfig.Tracing(in.url(COCOS_JAEGER_URL), in.ratio(COCOS_JAEGER_TRACE_RATIO));
    ClusterConfig cluster = cluster();

    if (!in.problems().isEmpty()) {
      throw new InvalidConfigException(in.problems());
    }
    return new ManagerConfig(instanceId, grpc, grpcTimeout, grpcTls, http, httpTls, logLevel, logFormat, observation,
        maxVms,
        in.str(MANAGER_EOS_VERSION), stateDir, in.bool(MANAGER_STOP_VMS_ON_EXIT),
        in.positiveDuration(MANAGER_SHUTDOWN_TIMEOUT), hostRoot, resources, attestation, qemu, tracing, cluster,
        List.copyOf(warnings));
  }

  private QemuConfig qemu() {
    String memSize = in.size(MANAGER_QEMU_MEMORY_SIZE);
    String maxMem = in.size(MANAGER_QEMU_MAX_MEMORY);
    if (memSize != null && maxMem != null && in.bytes(maxMem) < in.bytes(memSize)) {
      in.problem(MANAGER_QEMU_MAX_MEMORY, "smaller than MANAGER_QEMU_MEMORY_SIZE (" + memSize + ")");
    }
    QemuConfig.Memory memory = new QemuConfig.Memory(memSize, in.intIn(MANAGER_QEMU_MEMORY_SLOTS, 0, 256), maxMem,
        in.name(MANAGER_QEMU_MEM_ID));
    int smpCount = in.intIn(MANAGER_QEMU_SMP_COUNT, 1, 1024);
    int smpMax = in.intIn(MANAGER_QEMU_SMP_MAXCPUS, 1, 4096);
    if (smpMax < smpCount) {
      in.problem(MANAGER_QEMU_SMP_MAXCPUS, "smaller than MANAGER_QEMU_SMP_COUNT (" + smpCount + ")");
    }
    QemuConfig.Ovmf ovmf = new QemuConfig.Ovmf(in.optionValue(MANAGER_QEMU_OVMF_CODE_FILE, "-drive"),
        in.name(MANAGER_QEMU_OVMF_CODE_IF),
        in.name(MANAGER_QEMU_OVMF_CODE_FORMAT), in.intIn(MANAGER_QEMU_OVMF_CODE_UNIT, 0, 16),
        in.onOff(MANAGER_QEMU_OVMF_CODE_READONLY), in.str(MANAGER_QEMU_OVMF_VARS_FILE), in.name(MANAGER_QEMU_OVMF_VARS_IF),
        in.name(MANAGER_QEMU_OVMF_VARS_FORMAT), in.intIn(MANAGER_QEMU_OVMF_VARS_UNIT, 0, 16),
        in.str(MANAGER_QEMU_OVMF_VERSION));
    QemuConfig.Net net = new QemuConfig.Net(in.name(MANAGER_QEMU_NETDEV_ID), in.port(MANAGER_QEMU_HOST_FWD_AGENT),
        in.port(MANAGER_QEMU_GUEST_FWD_AGENT), in.range(MANAGER_QEMU_HOST_FWD_RANGE),
        in.onOffAuto(MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY), in.onOff(MANAGER_QEMU_VIRTIO_NET_PCI_IOMMU_PLATFORM),
        in.name(MANAGER_QEMU_VIRTIO_NET_PCI_ADDR),
        in.optionValue(MANAGER_QEMU_VIRTIO_NET_PCI_ROMFILE, "-device virtio-net-pci"));
    QemuConfig.Kernel kernel = new QemuConfig.Kernel(in.str(MANAGER_QEMU_DISK_IMG_KERNEL_FILE),
        in.str(MANAGER_QEMU_DISK_IMG_ROOTFS_FILE), in.str(MANAGER_QEMU_KERNEL_CMDLINE));
    QemuConfig.Disk disk = new QemuConfig.Disk(in.bool(MANAGER_QEMU_ENABLE_DISK), in.str(MANAGER_QEMU_SRC_DISK_FILE),
        in.name(MANAGER_QEMU_DISK_ID), in.name(MANAGER_QEMU_DISK_FORMAT), in.name(MANAGER_QEMU_DISK_SCSI_ID), diskClone());
    ConfigVariable cbitVariable = in.isSet(MANAGER_QEMU_SEV_SNP_CBIT_POS) && !in.isSet(MANAGER_QEMU_SEV_SNP_CBITPOS)
        ? MANAGER_QEMU_SEV_SNP_CBIT_POS : MANAGER_QEMU_SEV_SNP_CBITPOS;
    boolean enableHostData = in.bool(MANAGER_QEMU_ENABLE_HOST_DATA);
    QemuConfig.SevSnp sevSnp = new QemuConfig.SevSnp(in.tristate(MANAGER_QEMU_ENABLE_SEV_SNP),
        in.name(MANAGER_QEMU_SEV_SNP_ID), in.intIn(cbitVariable, 1, 63), in.intIn(MANAGER_QEMU_SEV_SNP_REDUCED_PHYS_BITS, 0, 63),
        enableHostData, hostData(), in.name(MANAGER_QEMU_IGVM_ID),
        in.optionValue(MANAGER_QEMU_IGVM_FILE, "-object igvm-cfg"));
    QemuConfig.Tdx tdx = new QemuConfig.Tdx(in.tristate(MANAGER_QEMU_ENABLE_TDX), in.name(MANAGER_QEMU_TDX_ID),
        in.port(MANAGER_QEMU_QUOTE_GENERATION_PORT), in.str(MANAGER_QEMU_OVMF_FILE));
    QemuConfig.Gpu gpu = new QemuConfig.Gpu(gpuDevices(), in.name(MANAGER_QEMU_GPU_PCIE_ROOT_PORT),
        in.name(MANAGER_QEMU_GPU_PCIE_BUS), in.intIn(MANAGER_QEMU_GPU_FW_CFG_MMIO_MB, 1, Integer.MAX_VALUE));
    String binPath = in.str(MANAGER_QEMU_BIN_PATH);
    if (binPath.isEmpty()) {
      in.problem(MANAGER_QEMU_BIN_PATH, "empty");
    }
    String monitor = in.str(MANAGER_QEMU_MONITOR);
    if (monitor.isEmpty()) {
      in.problem(MANAGER_QEMU_MONITOR, "empty (use none to have no monitor)");
    }
    return new QemuConfig(binPath, in.bool(MANAGER_QEMU_USE_SUDO), in.name(MANAGER_QEMU_MACHINE), in.name(MANAGER_QEMU_CPU),
        in.bool(MANAGER_QEMU_ENABLE_KVM), in.bool(MANAGER_QEMU_NO_GRAPHIC), monitor, memory,
        new QemuConfig.Smp(smpCount, smpMax), ovmf, net, kernel, disk, sevSnp, tdx, gpu,
        in.bool(MANAGER_QEMU_START_PAUSED), in.nonNegativeDuration(MANAGER_QEMU_STOP_GRACE),
        in.positiveDuration(MANAGER_QEMU_QMP_TIMEOUT));
  }

  /**
   * MANAGER_QEMU_GPU_BDF: empty, {@code auto}, or a comma list of PCI addresses. Each entry must be one whole
   * address (it goes into {@code vfio-pci,host=}, so nothing else may ride along); one device listed twice would be
   * handed to two VMs, so a duplicate is refused, comparing addresses with the default domain 0000 and any case.
   */
  private QemuConfig.GpuDevices gpuDevices() {
    String text = in.str(MANAGER_QEMU_GPU_BDF).trim();
    if (text.isEmpty()) {
      return QemuConfig.GpuDevices.NONE;
    }
    if (text.equals(QemuConfig.GpuDevices.AUTO)) {
      return new QemuConfig.GpuDevices(true, List.of());
    }
    String[] entries = text.split(",", -1);
    List<String> bdfs = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < entries.length; i++) {
      String bdf = entries[i].trim();
      if (!QemuConfig.GpuDevices.isPciAddress(bdf)) {
        in.problem(MANAGER_QEMU_GPU_BDF, entries.length == 1 ? NOT_A_BDF : notABdfInList(i + 1, bdf));
        continue;
      }
      Integer first = seen.putIfAbsent(QemuConfig.GpuDevices.canonical(bdf), i + 1);
      if (first != null) {
        in.problem(MANAGER_QEMU_GPU_BDF, "entry " + (i + 1) + " (" + bdf + ") is the same device as entry " + first
            + ": a GPU is given to one VM at a time");
        continue;
      }
      bdfs.add(bdf);
    }
    return new QemuConfig.GpuDevices(false, bdfs);
  }

  private static String notABdfInList(int entry, String text) {
    if (text.isEmpty()) {
      return "entry " + entry + " is empty";
    }
    return "entry " + entry + " (" + text + ") is " + NOT_A_BDF
        + (text.equals(QemuConfig.GpuDevices.AUTO) ? "; auto stands alone, not in a list" : "");
  }

  /** Default: /var/lib/cvm-manager for root, else the XDG state dir of the user. */
  public static Path defaultStateDir(Path home, boolean root) {
    return root ? Path.of("/var/lib/cvm-manager") : home.resolve(".local/state/cvm-manager");
  }

  private Path stateDir(Path home, boolean root) {
    String text = in.str(MANAGER_STATE_DIR);
    Path dir = (text.isEmpty() ? defaultStateDir(home, root) : Path.of(text)).toAbsolutePath().normalize();
    in.commaFree(MANAGER_STATE_DIR, dir.toString(), "the per-VM paths (-drive, -fsdev, -qmp, -chardev)");
    String socket = dir + SOCKET_SUFFIX;
    if (socket.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_UNIX_SOCKET_PATH) {
      in.problem(MANAGER_STATE_DIR, "too long: " + socket + " would exceed the " + MAX_UNIX_SOCKET_PATH
          + "-byte limit of a unix socket path");
    }
    return dir;
  }

  private TlsFiles tls(String server) {
    Optional<String> serverCert = in.optional(var("MANAGER_" + server + "_SERVER_CERT"));
    Optional<String> serverKey = in.optional(var("MANAGER_" + server + "_SERVER_KEY"));
    Optional<String> legacyCert = in.optional(var("MANAGER_" + server + "_CLIENT_CERT"));
    Optional<String> legacyKey = in.optional(var("MANAGER_" + server + "_CLIENT_KEY"));
    Optional<String> cert = serverCert;
    Optional<String> key = serverKey;
    String source = "MANAGER_" + server + "_SERVER_CERT/KEY";
    if (serverCert.isEmpty() && serverKey.isEmpty() && (legacyCert.isPresent() || legacyKey.isPresent())) {
      cert = legacyCert;
      key = legacyKey;
      source = "MANAGER_" + server + "_CLIENT_CERT/KEY (upstream's names; SERVER_ names unset)";
    }
    if (cert.isPresent() != key.isPresent()) {
      in.problem(var("MANAGER_" + server + (cert.isPresent() ? "_SERVER_KEY" : "_SERVER_CERT")),
          "missing: a TLS certificate and key go together (" + source + ")");
    }
    Optional<String> clientCa = in.optional(var("MANAGER_" + server + "_CLIENT_CA_CERTS"));
    if (clientCa.isPresent() && cert.isEmpty()) {
      in.problem(var("MANAGER_" + server + "_CLIENT_CA_CERTS"),
          "set without a server certificate and key: mutual TLS needs TLS");
    }
    return new TlsFiles(cert, key, in.optional(var("MANAGER_" + server + "_SERVER_CA_CERTS")), clientCa,
        cert.isPresent() ? source : "");
  }


  private ManagerConfig.TdxReference tdxReference() {
    byte[] mrtd = register(MANAGER_TDX_MRTD, in.str(MANAGER_TDX_MRTD), "");
    byte[] mrseam = register(MANAGER_TDX_MRSEAM, in.str(MANAGER_TDX_MRSEAM), "");
    String[] parts = in.str(MANAGER_TDX_RTMRS).split(",", -1);
    List<byte[]> rtmrs = new ArrayList<>();
    if (parts.length != ManagerConfig.TdxReference.RTMR_COUNT) {
      in.problem(MANAGER_TDX_RTMRS, parts.length + " values; want " + ManagerConfig.TdxReference.RTMR_COUNT
          + " (RTMR0,RTMR1,RTMR2,RTMR3), comma-separated");
    } else {
      int before = in.problems().size();
      for (int i = 0; i < parts.length && in.problems().size() == before; i++) {
        rtmrs.add(register(MANAGER_TDX_RTMRS, parts[i].trim(), "RTMR" + i + " "));
      }
    }
    while (rtmrs.size() < ManagerConfig.TdxReference.RTMR_COUNT) {
      rtmrs.add(new byte[ManagerConfig.TdxReference.REGISTER_BYTES]);
    }
    return new ManagerConfig.TdxReference(mrtd, mrseam, rtmrs);
  }

  /** A 48-byte TDX measurement register in hex; {@code which} names it inside a list variable. */
  private byte[] register(ConfigVariable v, String hex, String which) {
    int want = ManagerConfig.TdxReference.REGISTER_BYTES;
    if (hex.length() != want * 2) {
      in.problem(v, which + "has " + hex.length() + " characters; want " + want * 2 + " hex characters (" + want
          + " bytes)");
      return new byte[want];
    }
    try {
      return HexFormat.of().parseHex(hex);
    } catch (IllegalArgumentException e) {
      in.problem(v, which + "is not hex");
      return new byte[want];
    }
  }

  private Optional<String> hostData() {
    Optional<String> text = in.optional(MANAGER_QEMU_HOST_DATA);
    if (text.isPresent()) {
      try {
        byte[] bytes = Base64.getDecoder().decode(text.get());
        if (bytes.length != 32) {
          in.problem(MANAGER_QEMU_HOST_DATA, "decodes to " + bytes.length + " bytes; SEV-SNP host data is 32 bytes");
        } else if (!Base64.getEncoder().encodeToString(bytes).equals(text.get())) {
          // QEMU decodes it again, with its own rules: only the one canonical (padded) form means the same there.
          in.problem(MANAGER_QEMU_HOST_DATA, "not canonical base64 (44 characters ending in '='); did you mean "
              + Base64.getEncoder().encodeToString(bytes) + "?");
        }
      } catch (IllegalArgumentException e) {
        in.problem(MANAGER_QEMU_HOST_DATA, "not base64 (" + e.getMessage() + ")");
      }
    }
    return text;
  }

  private ManagerConfig.LogLevel logLevel() {
    String text = in.str(MANAGER_LOG_LEVEL).toLowerCase(Locale.ROOT);
    return switch (text) {
      case "debug" -> ManagerConfig.LogLevel.DEBUG;
      case "info" -> ManagerConfig.LogLevel.INFO;
      case "warn", "warning" -> ManagerConfig.LogLevel.WARN;
      case "error" -> ManagerConfig.LogLevel.ERROR;
      default -> {
        in.problem(MANAGER_LOG_LEVEL, "\"" + in.str(MANAGER_LOG_LEVEL) + "\" is not one of debug, info, warn, error");
        yield ManagerConfig.LogLevel.INFO;
      }
    };
  }

  private ManagerConfig.LogFormat logFormat() {
    String text = in.str(MANAGER_LOG_FORMAT).toLowerCase(Locale.ROOT);
    return switch (text) {
      case "json" -> ManagerConfig.LogFormat.JSON;
      case "text" -> ManagerConfig.LogFormat.TEXT;
      default -> {
        in.problem(MANAGER_LOG_FORMAT, "\"" + in.str(MANAGER_LOG_FORMAT) + "\" is not json or text");
        yield ManagerConfig.LogFormat.JSON;
      }
    };
  }

  /** Read only when MANAGER_CLUSTER_ENABLED, so that a single host is not refused for a cluster setting. */
  private ClusterConfig cluster() {
    if (!in.bool(MANAGER_CLUSTER_ENABLED)) {
      return ClusterConfig.off();
    }
    String nodeName = in.str(MANAGER_NODE_NAME);
    if (!nodeName.isEmpty() && !ClusterConfig.isNodeName(nodeName)) {
      in.problem(MANAGER_NODE_NAME, "\"" + ClientText.quote(nodeName) + "\" is not a node name (1-63 letters, digits,"
          + " . _ -, starting with a letter or digit)");
    }
    String host = in.str(MANAGER_CLUSTER_HOST);
    if (host.isEmpty()) {
      in.problem(MANAGER_CLUSTER_HOST, "required in clustered mode: the private address this node binds and"
          + " announces");
    } else {
      in.host(MANAGER_CLUSTER_HOST);
    }
    int port = in.port(MANAGER_CLUSTER_PORT);
    int busPort = in.port(MANAGER_CLUSTER_BUS_PORT);
    if (port == busPort) {
      in.problem(MANAGER_CLUSTER_BUS_PORT, "same port as MANAGER_CLUSTER_PORT (" + port + ")");
    }
    List<String> members = new ArrayList<>();
    for (String member : in.str(MANAGER_CLUSTER_MEMBERS).split(",")) {
      String trimmed = member.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int colon = trimmed.lastIndexOf(':');
      boolean valid = colon > 0 && trimmed.substring(colon + 1).matches("\\d{1,5}")
          && Integer.parseInt(trimmed.substring(colon + 1)) >= 1 && Integer.parseInt(trimmed.substring(colon + 1)) <= 65535
          && trimmed.substring(0, colon).matches("[A-Za-z0-9.:\\[\\]_-]+");
      if (!valid) {
        in.problem(MANAGER_CLUSTER_MEMBERS, "\"" + ClientText.quote(trimmed) + "\" is not host:port");
      } else {
        members.add(trimmed);
      }
    }
    ClusterConfig.PlacementPolicy placement = switch (in.str(MANAGER_CLUSTER_PLACEMENT).toLowerCase(Locale.ROOT)) {
      case "local-first" -> ClusterConfig.PlacementPolicy.LOCAL_FIRST;
      case "spread" -> ClusterConfig.PlacementPolicy.SPREAD;
      case "pack" -> ClusterConfig.PlacementPolicy.PACK;
      default -> {
        in.problem(MANAGER_CLUSTER_PLACEMENT, "\"" + ClientText.quote(in.str(MANAGER_CLUSTER_PLACEMENT))
            + "\" is not local-first, spread or pack");
        yield ClusterConfig.PlacementPolicy.LOCAL_FIRST;
      }
    };
    Optional<String> cert = in.optional(MANAGER_CLUSTER_TLS_CERT);
    Optional<String> key = in.optional(MANAGER_CLUSTER_TLS_KEY);
    Optional<String> ca = in.optional(MANAGER_CLUSTER_TLS_CA);
    boolean insecure = in.bool(MANAGER_CLUSTER_INSECURE);
    Optional<ClusterConfig.BusTls> tls = Optional.empty();
    if (cert.isPresent() && key.isPresent() && ca.isPresent()) {
      tls = Optional.of(new ClusterConfig.BusTls(cert.get(), key.get(), ca.get()));
    } else if (cert.isPresent() || key.isPresent() || ca.isPresent()) {
      in.problem(cert.isEmpty() ? MANAGER_CLUSTER_TLS_CERT : key.isEmpty() ? MANAGER_CLUSTER_TLS_KEY
          : MANAGER_CLUSTER_TLS_CA, "missing: the event bus's mutual TLS needs a certificate, its key and the CA");
    } else if (!insecure) {
      in.problem(MANAGER_CLUSTER_TLS_CERT, "clustered mode needs the event bus's mutual TLS"
          + " (MANAGER_CLUSTER_TLS_CERT, _KEY, _CA): CreateVm requests carry keys and secrets between nodes;"
          + " MANAGER_CLUSTER_INSECURE=true runs without it");
    } else {
      warnings.add("MANAGER_CLUSTER_INSECURE=true: the event bus is not encrypted or authenticated; CreateVm secrets"
          + " cross the network in clear and any host that reaches MANAGER_CLUSTER_BUS_PORT can act as a node");
    }
    Duration heartbeat = in.positiveDuration(MANAGER_CLUSTER_HEARTBEAT);
    Duration memberTimeout = in.positiveDuration(MANAGER_CLUSTER_MEMBER_TIMEOUT);
    if (heartbeat.toSeconds() < 1) {
      in.problem(MANAGER_CLUSTER_HEARTBEAT, "under 1s (Hazelcast counts whole seconds)");
    } else if (memberTimeout.compareTo(heartbeat.multipliedBy(2)) < 0) {
      in.problem(MANAGER_CLUSTER_MEMBER_TIMEOUT, "under twice MANAGER_CLUSTER_HEARTBEAT ("
          + heartbeat.toSeconds() + "s)");
    }
    return new ClusterConfig(true, in.name(MANAGER_CLUSTER_NAME), nodeName, host, port, busPort, members,
        placement, tls, insecure, in.bool(MANAGER_CLUSTER_RELAY_PORTS), heartbeat, memberTimeout);
  }

  private ManagerConfig.Numa numa() {
    return switch (in.str(MANAGER_NUMA).toLowerCase(Locale.ROOT)) {
      case "auto" -> ManagerConfig.Numa.AUTO;
      case "off" -> ManagerConfig.Numa.OFF;
      default -> {
        in.problem(MANAGER_NUMA, "\"" + in.str(MANAGER_NUMA) + "\" is not auto or off");
        yield ManagerConfig.Numa.AUTO;
      }
    };
  }

  private static ConfigVariable var(String name) {
    return ConfigVariable.valueOf(name);
  }

  private DiskClone diskClone() {
    String value = in.str(MANAGER_QEMU_DISK_CLONE);
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "overlay" -> DiskClone.OVERLAY;
      case "copy" -> DiskClone.COPY;
      default -> {
        in.problem(MANAGER_QEMU_DISK_CLONE, "\"" + value + "\" is not overlay or copy");
        yield DiskClone.OVERLAY;
      }
    };
  }
}
