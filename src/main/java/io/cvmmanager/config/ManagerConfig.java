package io.cvmmanager.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The whole, validated configuration of one manager. Built by {@link ConfigParser}; immutable. */
public record ManagerConfig(
    String instanceId,
    Endpoint grpc,
    Duration grpcTimeout,
    TlsFiles grpcTls,
    Endpoint http,
    TlsFiles httpTls,
    LogLevel logLevel,
    LogFormat logFormat,
    Observation observation,
    int maxVms,
    String eosVersion,
    Path stateDir,
    boolean stopVmsOnExit,
    Duration shutdownTimeout,
    Path hostRoot,
    Resources resources,
    Attestation attestation,
    QemuConfig qemu,
    Tracing tracing,
    ClusterConfig cluster,
    List<String> warnings) {

  public record Endpoint(String host, int port) {}

  public enum LogLevel { DEBUG, INFO, WARN, ERROR }

  public enum LogFormat { JSON, TEXT }

  /** How VMs are watched: the agent-port probe interval (zero: no probe) and the console log's size cap. */
  public record Observation(Duration agentProbeInterval, long consoleLogMaxBytes, Duration usageInterval) {}

  /**
   * {@code igvmmeasureBinary} and {@code attestationPolicyBinary} may each name the tool or a directory holding it.
   * {@code pcrValues} and {@code corimSigningKey} are paths; their contents are checked by {@link StartupChecks}.
   */
  public record Attestation(String attestationPolicyBinary, String igvmmeasureBinary, Optional<Path> pcrValues,
      Optional<Path> corimSigningKey, long snpMinLaunchTcb, TdxReference tdx) {}

  /** The TDX reference values a TDX policy states: MRTD, MRSEAM and RTMR0..RTMR3, 48 bytes each. */
  public record TdxReference(byte[] mrtd, byte[] mrseam, List<byte[]> rtmrs) {
    public static final int REGISTER_BYTES = 48;
    public static final int RTMR_COUNT = 4;

    public TdxReference {
      rtmrs = List.copyOf(rtmrs);
    }
  }

  public record Tracing(String otlpUrl, double ratio) {}

  /**
   * How the host's resources are admitted: what it keeps for itself, how often it is read, and the overcommit
   * factors of memory (never applied to TEE memory) and vCPUs, and whether VMs are placed on NUMA nodes.
   */
  public record Resources(long reservedMemoryBytes, Duration inventoryInterval, double memoryOvercommit,
      double cpuOvercommit, Numa numa) {}

  /** MANAGER_NUMA: {@code auto} places each VM on NUMA nodes when the host has several; {@code off} never. */
  public enum Numa { AUTO, OFF }

  public ManagerConfig withCluster(ClusterConfig newCluster) {
    return new ManagerConfig(instanceId, grpc, grpcTimeout, grpcTls, http, httpTls, logLevel, logFormat, observation,
        maxVms, eosVersion, stateDir, stopVmsOnExit, shutdownTimeout, hostRoot, resources, attestation, qemu, tracing,
        newCluster, warnings);
  }

  public ManagerConfig withQemu(QemuConfig newQemu) {
    return new ManagerConfig(instanceId, grpc, grpcTimeout, grpcTls, http, httpTls, logLevel, logFormat, observation,
        maxVms, eosVersion,
        stateDir, stopVmsOnExit, shutdownTimeout, hostRoot, resources, attestation, newQemu, tracing, cluster, warnings);
  }
}
