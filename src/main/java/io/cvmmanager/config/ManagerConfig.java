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
    int maxVms,
    String eosVersion,
    Path stateDir,
    Path hostRoot,
    Attestation attestation,
    QemuConfig qemu,
    Tracing tracing,
    List<String> warnings) {

  public record Endpoint(String host, int port) {}

  public enum LogLevel { DEBUG, INFO, WARN, ERROR }

  /**
   * {@code igvmmeasureBinary} and {@code attestationPolicyBinary} may each name the tool or a directory holding it.
   */
  public record Attestation(String attestationPolicyBinary, String igvmmeasureBinary, Optional<Path> pcrValues,
      Optional<Path> corimSigningKey) {}

  public record Tracing(String otlpUrl, double ratio) {}

  public ManagerConfig withQemu(QemuConfig newQemu) {
    return new ManagerConfig(instanceId, grpc, grpcTimeout, grpcTls, http, httpTls, logLevel, maxVms, eosVersion,
        stateDir, hostRoot, attestation, newQemu, tracing, warnings);
  }
}
