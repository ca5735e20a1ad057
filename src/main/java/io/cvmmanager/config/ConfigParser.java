package io.cvmmanager.config;

import static io.cvmmanager.config.ConfigVariable.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the merged variables (defaults, YAML, environment: see {@link ConfigLoader}) into a typed
 * {@link ManagerConfig}. Pure: no file or host is looked at here (that is {@link StartupChecks}). Every invalid value
 * becomes one line naming the variable and the problem; all of them are reported together.
 */
public final class ConfigParser {
  /** QEMU's size syntax: a number with an optional binary suffix; a bare number means MiB for -m. */
  private static final Pattern SIZE = Pattern.compile("(\\d+)([kKmMgGtT]?)[bB]?");
  private static final Pattern RANGE = Pattern.compile("(\\d+)-(\\d+)");
  private static final Pattern BDF = Pattern.compile("([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
  private static final Set<String> TRUE_WORDS = Set.of("1", "t", "T", "TRUE", "true", "True");
  private static final Set<String> FALSE_WORDS = Set.of("0", "f", "F", "FALSE", "false", "False");
  /** Longest path a unix socket may have (sun_path is 108 bytes with its NUL). */
  public static final int MAX_UNIX_SOCKET_PATH = 107;
  private static final String SOCKET_SUFFIX = "/vms/" + UUID.randomUUID() + "/qmp.sock";

  private final Map<String, String> values;
  private final List<String> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  private ConfigParser(Map<String, String> values) {
    this.values = values;
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
    for (String name : values.keySet()) {
      if (ConfigVariable.isOurNamespace(name) && ConfigVariable.byName(name).isEmpty()) {
        warnings.add("unknown variable " + name + " (ignored; a typo?)");
      }
    }
    for (ConfigVariable shared : List.of(MANAGER_QEMU_DST_DISK_FILE, MANAGER_QEMU_CERTS_MOUNT, MANAGER_QEMU_ENV_MOUNT)) {
      if (!str(shared).isEmpty()) {
        warnings.add(shared + " is set but ignored: each VM gets its own under <state dir>/vms/<id>/");
      }
    }

    String instanceId = str(MANAGER_INSTANCE_ID);
    if (instanceId.isEmpty()) {
      instanceId = UUID.randomUUID().toString();
    }
    ManagerConfig.Endpoint grpc = new ManagerConfig.Endpoint(host(MANAGER_GRPC_HOST), port(MANAGER_GRPC_PORT));
    ManagerConfig.Endpoint http = new ManagerConfig.Endpoint(host(MANAGER_HTTP_HOST), port(MANAGER_HTTP_PORT));
    if (grpc.port() == http.port() && grpc.port() > 0 && grpc.host().equals(http.host())) {
      problem(MANAGER_HTTP_PORT, "same port as MANAGER_GRPC_PORT (" + grpc.port() + ")");
    }
    Duration grpcTimeout = positiveDuration(MANAGER_GRPC_TIMEOUT);
    TlsFiles grpcTls = tls("GRPC");
    TlsFiles httpTls = tls("HTTP");
    ManagerConfig.LogLevel logLevel = logLevel();
    ManagerConfig.LogFormat logFormat = logFormat();
    String consoleMax = size(MANAGER_CONSOLE_LOG_MAX_SIZE);
    ManagerConfig.Observation observation = new ManagerConfig.Observation(
        nonNegativeDuration(MANAGER_AGENT_PROBE_INTERVAL), consoleMax == null ? 0 : bytesOf(consoleMax));
    int maxVms = intIn(MANAGER_MAX_VMS, 0, 100_000);
    Path stateDir = stateDir(home, root);
    Path hostRoot = Path.of(str(MANAGER_HOST_ROOT).isEmpty() ? "/" : str(MANAGER_HOST_ROOT));

    String igvmmeasure = str(MANAGER_IGVMMEASURE_BINARY);
    if (igvmmeasure.isEmpty()) {
      String upstreamDir = str(MANAGER_ATTESTATION_POLICY_BINARY_PATH);
      igvmmeasure = upstreamDir.isEmpty() ? "../../build/igvmmeasure" : upstreamDir;
    }
    ManagerConfig.Attestation attestation = new ManagerConfig.Attestation(
        str(MANAGER_ATTESTATION_POLICY_BINARY), igvmmeasure,
        optional(MANAGER_PCR_VALUES).map(Path::of), optional(MANAGER_CORIM_SIGNING_KEY).map(Path::of),
        uint64(MANAGER_SNP_MIN_LAUNCH_TCB), tdxReference());

    QemuConfig qemu = qemu();
    ManagerConfig.Tracing tracing = new ManagerConfig.Tracing(url(COCOS_JAEGER_URL), ratio(COCOS_JAEGER_TRACE_RATIO));

    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems);
    }
    return new ManagerConfig(instanceId, grpc, grpcTimeout, grpcTls, http, httpTls, logLevel, logFormat, observation,
        maxVms,
        str(MANAGER_EOS_VERSION), stateDir, bool(MANAGER_STOP_VMS_ON_EXIT),
        positiveDuration(MANAGER_SHUTDOWN_TIMEOUT), hostRoot, attestation, qemu, tracing,
        List.copyOf(warnings));
  }

  private QemuConfig qemu() {
    String memSize = size(MANAGER_QEMU_MEMORY_SIZE);
    String maxMem = size(MANAGER_QEMU_MAX_MEMORY);
    if (memSize != null && maxMem != null && bytes(maxMem) < bytes(memSize)) {
      problem(MANAGER_QEMU_MAX_MEMORY, "smaller than MANAGER_QEMU_MEMORY_SIZE (" + memSize + ")");
    }
    QemuConfig.Memory memory = new QemuConfig.Memory(memSize, intIn(MANAGER_QEMU_MEMORY_SLOTS, 0, 256), maxMem,
        name(MANAGER_QEMU_MEM_ID));
    int smpCount = intIn(MANAGER_QEMU_SMP_COUNT, 1, 1024);
    int smpMax = intIn(MANAGER_QEMU_SMP_MAXCPUS, 1, 4096);
    if (smpMax < smpCount) {
      problem(MANAGER_QEMU_SMP_MAXCPUS, "smaller than MANAGER_QEMU_SMP_COUNT (" + smpCount + ")");
    }
    QemuConfig.Ovmf ovmf = new QemuConfig.Ovmf(optionValue(MANAGER_QEMU_OVMF_CODE_FILE, "-drive"),
        name(MANAGER_QEMU_OVMF_CODE_IF),
        name(MANAGER_QEMU_OVMF_CODE_FORMAT), intIn(MANAGER_QEMU_OVMF_CODE_UNIT, 0, 16),
        onOff(MANAGER_QEMU_OVMF_CODE_READONLY), str(MANAGER_QEMU_OVMF_VARS_FILE), name(MANAGER_QEMU_OVMF_VARS_IF),
        name(MANAGER_QEMU_OVMF_VARS_FORMAT), intIn(MANAGER_QEMU_OVMF_VARS_UNIT, 0, 16),
        str(MANAGER_QEMU_OVMF_VERSION));
    QemuConfig.Net net = new QemuConfig.Net(name(MANAGER_QEMU_NETDEV_ID), port(MANAGER_QEMU_HOST_FWD_AGENT),
        port(MANAGER_QEMU_GUEST_FWD_AGENT), range(MANAGER_QEMU_HOST_FWD_RANGE),
        onOffAuto(MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY), onOff(MANAGER_QEMU_VIRTIO_NET_PCI_IOMMU_PLATFORM),
        name(MANAGER_QEMU_VIRTIO_NET_PCI_ADDR),
        optionValue(MANAGER_QEMU_VIRTIO_NET_PCI_ROMFILE, "-device virtio-net-pci"));
    QemuConfig.Kernel kernel = new QemuConfig.Kernel(str(MANAGER_QEMU_DISK_IMG_KERNEL_FILE),
        str(MANAGER_QEMU_DISK_IMG_ROOTFS_FILE), str(MANAGER_QEMU_KERNEL_CMDLINE));
    QemuConfig.Disk disk = new QemuConfig.Disk(bool(MANAGER_QEMU_ENABLE_DISK), str(MANAGER_QEMU_SRC_DISK_FILE),
        name(MANAGER_QEMU_DISK_ID), name(MANAGER_QEMU_DISK_FORMAT), name(MANAGER_QEMU_DISK_SCSI_ID), diskClone());
    ConfigVariable cbitVariable = isSet(MANAGER_QEMU_SEV_SNP_CBIT_POS) && !isSet(MANAGER_QEMU_SEV_SNP_CBITPOS)
        ? MANAGER_QEMU_SEV_SNP_CBIT_POS : MANAGER_QEMU_SEV_SNP_CBITPOS;
    boolean enableHostData = bool(MANAGER_QEMU_ENABLE_HOST_DATA);
    QemuConfig.SevSnp sevSnp = new QemuConfig.SevSnp(tristate(MANAGER_QEMU_ENABLE_SEV_SNP),
        name(MANAGER_QEMU_SEV_SNP_ID), intIn(cbitVariable, 1, 63), intIn(MANAGER_QEMU_SEV_SNP_REDUCED_PHYS_BITS, 0, 63),
        enableHostData, hostData(), name(MANAGER_QEMU_IGVM_ID),
        optionValue(MANAGER_QEMU_IGVM_FILE, "-object igvm-cfg"));
    QemuConfig.Tdx tdx = new QemuConfig.Tdx(tristate(MANAGER_QEMU_ENABLE_TDX), name(MANAGER_QEMU_TDX_ID),
        port(MANAGER_QEMU_QUOTE_GENERATION_PORT), str(MANAGER_QEMU_OVMF_FILE));
    Optional<String> bdf = optional(MANAGER_QEMU_GPU_BDF);
    if (bdf.isPresent() && !BDF.matcher(bdf.get()).matches()) {
      problem(MANAGER_QEMU_GPU_BDF, "not a PCI address like 0000:01:00.0");
    }
    QemuConfig.Gpu gpu = new QemuConfig.Gpu(bdf, name(MANAGER_QEMU_GPU_PCIE_ROOT_PORT),
        name(MANAGER_QEMU_GPU_PCIE_BUS), intIn(MANAGER_QEMU_GPU_FW_CFG_MMIO_MB, 1, Integer.MAX_VALUE));
    String binPath = str(MANAGER_QEMU_BIN_PATH);
    if (binPath.isEmpty()) {
      problem(MANAGER_QEMU_BIN_PATH, "empty");
    }
    String monitor = str(MANAGER_QEMU_MONITOR);
    if (monitor.isEmpty()) {
      problem(MANAGER_QEMU_MONITOR, "empty (use none to have no monitor)");
    }
    return new QemuConfig(binPath, bool(MANAGER_QEMU_USE_SUDO), name(MANAGER_QEMU_MACHINE), name(MANAGER_QEMU_CPU),
        bool(MANAGER_QEMU_ENABLE_KVM), bool(MANAGER_QEMU_NO_GRAPHIC), monitor, memory,
        new QemuConfig.Smp(smpCount, smpMax), ovmf, net, kernel, disk, sevSnp, tdx, gpu,
        bool(MANAGER_QEMU_START_PAUSED), nonNegativeDuration(MANAGER_QEMU_STOP_GRACE),
        positiveDuration(MANAGER_QEMU_QMP_TIMEOUT));
  }

  /** Default: /var/lib/cvm-manager for root, else the XDG state dir of the user. */
  public static Path defaultStateDir(Path home, boolean root) {
    return root ? Path.of("/var/lib/cvm-manager") : home.resolve(".local/state/cvm-manager");
  }

  private Path stateDir(Path home, boolean root) {
    String text = str(MANAGER_STATE_DIR);
    Path dir = (text.isEmpty() ? defaultStateDir(home, root) : Path.of(text)).toAbsolutePath().normalize();
    commaFree(MANAGER_STATE_DIR, dir.toString(), "the per-VM paths (-drive, -fsdev, -qmp, -chardev)");
    String socket = dir + SOCKET_SUFFIX;
    if (socket.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_UNIX_SOCKET_PATH) {
      problem(MANAGER_STATE_DIR, "too long: " + socket + " would exceed the " + MAX_UNIX_SOCKET_PATH
          + "-byte limit of a unix socket path");
    }
    return dir;
  }

  private TlsFiles tls(String server) {
    Optional<String> serverCert = optional(var("MANAGER_" + server + "_SERVER_CERT"));
    Optional<String> serverKey = optional(var("MANAGER_" + server + "_SERVER_KEY"));
    Optional<String> legacyCert = optional(var("MANAGER_" + server + "_CLIENT_CERT"));
    Optional<String> legacyKey = optional(var("MANAGER_" + server + "_CLIENT_KEY"));
    Optional<String> cert = serverCert;
    Optional<String> key = serverKey;
    String source = "MANAGER_" + server + "_SERVER_CERT/KEY";
    if (serverCert.isEmpty() && serverKey.isEmpty() && (legacyCert.isPresent() || legacyKey.isPresent())) {
      cert = legacyCert;
      key = legacyKey;
      source = "MANAGER_" + server + "_CLIENT_CERT/KEY (upstream's names; SERVER_ names unset)";
    }
    if (cert.isPresent() != key.isPresent()) {
      problem(var("MANAGER_" + server + (cert.isPresent() ? "_SERVER_KEY" : "_SERVER_CERT")),
          "missing: a TLS certificate and key go together (" + source + ")");
    }
    Optional<String> clientCa = optional(var("MANAGER_" + server + "_CLIENT_CA_CERTS"));
    if (clientCa.isPresent() && cert.isEmpty()) {
      problem(var("MANAGER_" + server + "_CLIENT_CA_CERTS"),
          "set without a server certificate and key: mutual TLS needs TLS");
    }
    return new TlsFiles(cert, key, optional(var("MANAGER_" + server + "_SERVER_CA_CERTS")), clientCa,
        cert.isPresent() ? source : "");
  }

  /** An unsigned 64-bit number, decimal or 0x-hex, kept in a long's 64 bits. */
  private long uint64(ConfigVariable v) {
    String value = str(v);
    boolean hex = value.startsWith("0x") || value.startsWith("0X");
    try {
      return Long.parseUnsignedLong(hex ? value.substring(2) : value, hex ? 16 : 10);
    } catch (NumberFormatException e) {
      problem(v, "\"" + value + "\" is not an unsigned 64-bit number (decimal, or hex with 0x)");
      return 0;
    }
  }

  private ManagerConfig.TdxReference tdxReference() {
    byte[] mrtd = register(MANAGER_TDX_MRTD, str(MANAGER_TDX_MRTD), "");
    byte[] mrseam = register(MANAGER_TDX_MRSEAM, str(MANAGER_TDX_MRSEAM), "");
    String[] parts = str(MANAGER_TDX_RTMRS).split(",", -1);
    List<byte[]> rtmrs = new ArrayList<>();
    if (parts.length != ManagerConfig.TdxReference.RTMR_COUNT) {
      problem(MANAGER_TDX_RTMRS, parts.length + " values; want " + ManagerConfig.TdxReference.RTMR_COUNT
          + " (RTMR0,RTMR1,RTMR2,RTMR3), comma-separated");
    } else {
      int before = problems.size();
      for (int i = 0; i < parts.length && problems.size() == before; i++) {
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
      problem(v, which + "has " + hex.length() + " characters; want " + want * 2 + " hex characters (" + want
          + " bytes)");
      return new byte[want];
    }
    try {
      return HexFormat.of().parseHex(hex);
    } catch (IllegalArgumentException e) {
      problem(v, which + "is not hex");
      return new byte[want];
    }
  }

  private Optional<String> hostData() {
    Optional<String> text = optional(MANAGER_QEMU_HOST_DATA);
    if (text.isPresent()) {
      try {
        byte[] bytes = Base64.getDecoder().decode(text.get());
        if (bytes.length != 32) {
          problem(MANAGER_QEMU_HOST_DATA, "decodes to " + bytes.length + " bytes; SEV-SNP host data is 32 bytes");
        } else if (!Base64.getEncoder().encodeToString(bytes).equals(text.get())) {
          // QEMU decodes it again, with its own rules: only the one canonical (padded) form means the same there.
          problem(MANAGER_QEMU_HOST_DATA, "not canonical base64 (44 characters ending in '='); did you mean "
              + Base64.getEncoder().encodeToString(bytes) + "?");
        }
      } catch (IllegalArgumentException e) {
        problem(MANAGER_QEMU_HOST_DATA, "not base64 (" + e.getMessage() + ")");
      }
    }
    return text;
  }

  private ManagerConfig.LogLevel logLevel() {
    String text = str(MANAGER_LOG_LEVEL).toLowerCase(Locale.ROOT);
    return switch (text) {
      case "debug" -> ManagerConfig.LogLevel.DEBUG;
      case "info" -> ManagerConfig.LogLevel.INFO;
      case "warn", "warning" -> ManagerConfig.LogLevel.WARN;
      case "error" -> ManagerConfig.LogLevel.ERROR;
      default -> {
        problem(MANAGER_LOG_LEVEL, "\"" + str(MANAGER_LOG_LEVEL) + "\" is not one of debug, info, warn, error");
        yield ManagerConfig.LogLevel.INFO;
      }
    };
  }

  private ManagerConfig.LogFormat logFormat() {
    String text = str(MANAGER_LOG_FORMAT).toLowerCase(Locale.ROOT);
    return switch (text) {
      case "json" -> ManagerConfig.LogFormat.JSON;
      case "text" -> ManagerConfig.LogFormat.TEXT;
      default -> {
        problem(MANAGER_LOG_FORMAT, "\"" + str(MANAGER_LOG_FORMAT) + "\" is not json or text");
        yield ManagerConfig.LogFormat.JSON;
      }
    };
  }

  /** A size in bytes where a bare number means bytes (file sizes), unlike QEMU's -m where it means MiB. */
  private static long bytesOf(String size) {
    return size.matches("\\d+") ? Long.parseLong(size) : bytes(size);
  }

  private static ConfigVariable var(String name) {
    return ConfigVariable.valueOf(name);
  }

  /** A variable set to the empty string counts as unset, as in upstream's env parsing: it takes its default. */
  private String str(ConfigVariable v) {
    String value = values.get(v.name());
    return value == null || value.isBlank() ? v.defaultValue() : value.trim();
  }

  private boolean isSet(ConfigVariable v) {
    String value = values.get(v.name());
    return value != null && !value.isBlank();
  }

  private Optional<String> optional(ConfigVariable v) {
    String value = str(v);
    return value.isEmpty() ? Optional.empty() : Optional.of(value);
  }

  private void problem(ConfigVariable v, String what) {
    problems.add(v + ": " + what);
  }

  private String name(ConfigVariable v) {
    String value = str(v);
    if (value.isEmpty() || !value.matches("[A-Za-z0-9_.:+-]+")) {
      problem(v, "\"" + value + "\" is not a valid QEMU identifier or value (letters, digits, _ . : + -)");
    }
    return value;
  }

  /** A value that goes inside one of QEMU's comma-separated option lists ({@code option} names it). */
  private String optionValue(ConfigVariable v, String option) {
    String value = str(v);
    commaFree(v, value, option);
    return value;
  }

  private void commaFree(ConfigVariable v, String value, String option) {
    if (value.contains(",")) {
      problem(v, "\"" + value + "\" has a comma, which QEMU would read as the start of another option of " + option);
    }
  }

  private String host(ConfigVariable v) {
    String value = str(v);
    if (value.isEmpty() || value.contains(" ") || value.contains("/")) {
      problem(v, "\"" + value + "\" is not a host name or address");
    }
    return value;
  }

  private int port(ConfigVariable v) {
    return intIn(v, 1, 65535);
  }

  private int intIn(ConfigVariable v, int min, int max) {
    String value = str(v);
    try {
      long n = Long.parseLong(value);
      if (n < min || n > max) {
        problem(v, value + " is out of range " + min + "-" + max);
        return min;
      }
      return (int) n;
    } catch (NumberFormatException e) {
      problem(v, "\"" + value + "\" is not a whole number");
      return min;
    }
  }

  private boolean bool(ConfigVariable v) {
    String value = str(v);
    if (TRUE_WORDS.contains(value)) {
      return true;
    }
    if (!FALSE_WORDS.contains(value)) {
      problem(v, "\"" + value + "\" is not a boolean (true or false)");
    }
    return false;
  }

  private Tristate tristate(ConfigVariable v) {
    String value = str(v);
    if (value.equalsIgnoreCase("auto")) {
      return Tristate.AUTO;
    }
    if (TRUE_WORDS.contains(value)) {
      return Tristate.TRUE;
    }
    if (!FALSE_WORDS.contains(value)) {
      problem(v, "\"" + value + "\" is not one of true, false, auto");
    }
    return Tristate.FALSE;
  }

  /** QEMU's on/off switches, which it also spells true/false (upstream's IOMMU_PLATFORM default is "true"). */
  private String onOff(ConfigVariable v) {
    String value = str(v);
    if (!Set.of("on", "off", "true", "false", "yes", "no").contains(value)) {
      problem(v, "\"" + value + "\" is not on or off");
    }
    return value;
  }

  private DiskClone diskClone() {
    String value = str(MANAGER_QEMU_DISK_CLONE);
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "overlay" -> DiskClone.OVERLAY;
      case "copy" -> DiskClone.COPY;
      default -> {
        problem(MANAGER_QEMU_DISK_CLONE, "\"" + value + "\" is not overlay or copy");
        yield DiskClone.OVERLAY;
      }
    };
  }

  /** QEMU's OnOffAuto properties (disable-legacy) take only these three words. */
  private String onOffAuto(ConfigVariable v) {
    String value = str(v);
    if (!Set.of("on", "off", "auto").contains(value)) {
      problem(v, "\"" + value + "\" is not on, off or auto");
    }
    return value;
  }

  private String size(ConfigVariable v) {
    String value = str(v);
    Matcher m = SIZE.matcher(value);
    if (!m.matches() || bytes(value) <= 0) {
      problem(v, "\"" + value + "\" is not a size like 2048M or 30G");
      return null;
    }
    return value;
  }

  /** Bytes of a size that matched {@link #SIZE}; a bare number is MiB, as for QEMU's -m. */
  static long bytes(String size) {
    Matcher m = SIZE.matcher(size);
    if (!m.matches()) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
    int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
      case "K" -> 10;
      case "G" -> 30;
      case "T" -> 40;
      default -> 20;
    };
    return n > (Long.MAX_VALUE >> shift) ? -1 : n << shift;
  }

  private PortRange range(ConfigVariable v) {
    String value = str(v);
    Matcher m = RANGE.matcher(value);
    if (!m.matches()) {
      problem(v, "\"" + value + "\" is not a port range like 6100-6200");
      return new PortRange(1, 1);
    }
    int first;
    int last;
    try {
      first = Integer.parseInt(m.group(1));
      last = Integer.parseInt(m.group(2));
    } catch (NumberFormatException e) {
      problem(v, "\"" + value + "\" is not a port range like 6100-6200");
      return new PortRange(1, 1);
    }
    if (first < 1 || last > 65535) {
      problem(v, value + " goes outside 1-65535");
      return new PortRange(1, 1);
    }
    if (first > last) {
      problem(v, value + " is inverted (first port after last)");
      return new PortRange(1, 1);
    }
    return new PortRange(first, last);
  }

  private Duration positiveDuration(ConfigVariable v) {
    int before = problems.size();
    Duration d = nonNegativeDuration(v);
    if (d.isZero() && problems.size() == before) {
      problem(v, "must be more than zero");
    }
    return d;
  }

  private Duration nonNegativeDuration(ConfigVariable v) {
    String value = str(v);
    try {
      Duration d = GoDuration.parse(value);
      if (d.isNegative()) {
        problem(v, "\"" + value + "\" is negative");
        return Duration.ZERO;
      }
      return d;
    } catch (IllegalArgumentException e) {
      problem(v, e.getMessage() + " (Go duration syntax, e.g. 10s, 1m30s)");
      return Duration.ZERO;
    }
  }

  private String url(ConfigVariable v) {
    String value = str(v);
    if (!value.matches("https?://[^\\s]+")) {
      problem(v, "\"" + value + "\" is not an http(s) URL");
    }
    return value;
  }

  private double ratio(ConfigVariable v) {
    String value = str(v);
    try {
      double r = Double.parseDouble(value);
      if (r >= 0 && r <= 1) {
        return r;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problem(v, "\"" + value + "\" is not a ratio between 0 and 1");
    return 1.0;
  }
}
