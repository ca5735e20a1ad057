package io.cvmmanager.config;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every configuration variable the manager knows, with its built-in default. The names are upstream's
 * (Cocos manager, caarlos0/env tags) so an upstream env file works unchanged; our additions are marked in the README.
 * A default of {@code null} means "unset", which is not the same as the empty string for the few variables where
 * upstream distinguishes them.
 */
public enum ConfigVariable {
  // Core
  MANAGER_INSTANCE_ID(""),
  MANAGER_GRPC_HOST("localhost"),
  MANAGER_GRPC_PORT("7001"),
  MANAGER_GRPC_TIMEOUT("60s"),
  MANAGER_LOG_LEVEL("info"),
  /** Ours: json (one JSON object per line, for production) or text (readable, the dev profile's). */
  MANAGER_LOG_FORMAT("json"),
  /** Ours: how often each running VM's agent port is probed (0s: never). */
  MANAGER_AGENT_PROBE_INTERVAL("5s"),
  /** Ours: past this size a VM's console.log becomes console.log.1 (replacing the previous one) and starts empty. */
  MANAGER_CONSOLE_LOG_MAX_SIZE("16M"),
  /** Ours: how often each running VM's usage (CPU time, RSS, uptime) is read from /proc (0s: never). */
  MANAGER_USAGE_INTERVAL("10s"),
  MANAGER_HTTP_HOST("localhost"),
  MANAGER_HTTP_PORT("7003"),
  MANAGER_MAX_VMS("10"),
  MANAGER_EOS_VERSION(""),
  /** Default depends on the user: see {@link ConfigParser#defaultStateDir}. */
  MANAGER_STATE_DIR(""),
  /** Ours: stop every VM gracefully before the manager exits; by default VMs outlive it and are adopted. */
  MANAGER_STOP_VMS_ON_EXIT("false"),
  /**
   * Ours: the longest a SIGTERM shutdown takes. The gRPC server drains for up to two thirds of it (calls under way
   * are answered or undone), the rest is for the VMs to be left to the next manager (or stopped).
   */
  MANAGER_SHUTDOWN_TIMEOUT("30s"),
  MANAGER_HOST_ROOT("/"),
  /** Ours: what the host keeps for itself; guest memory is admitted within MemTotal less this. */
  MANAGER_HOST_RESERVED_MEMORY("2G"),
  /** Ours: how often the host inventory (memory, CPUs, contexts, GPUs, free disk) is read again. */
  MANAGER_INVENTORY_INTERVAL("30s"),
  /** Ours: guest memory admitted up to the host's times this; TEE memory is never overcommitted. */
  MANAGER_MEMORY_OVERCOMMIT("1.0"),
  /** Ours: vCPUs admitted up to the host's CPUs times this (Nova's classic ratio). */
  MANAGER_CPU_OVERCOMMIT("16"),
  /** Ours: auto places each VM on the host's NUMA nodes (when it has several) and binds it there; off does not. */
  MANAGER_NUMA("auto"),
  /** Names the YAML file; read before the others, listed so it is not reported as unknown. */
  MANAGER_CONFIG(""),

  // Security
  MANAGER_GRPC_SERVER_CERT(""),
  MANAGER_GRPC_SERVER_KEY(""),
  MANAGER_GRPC_SERVER_CA_CERTS(""),
  MANAGER_GRPC_CLIENT_CA_CERTS(""),
  MANAGER_GRPC_CLIENT_CERT(""),
  MANAGER_GRPC_CLIENT_KEY(""),
  /** The CLI's (cvmctl, cocos-cli); the manager ignores it. */
  MANAGER_GRPC_URL(""),
  MANAGER_HTTP_SERVER_CERT(""),
  MANAGER_HTTP_SERVER_KEY(""),
  MANAGER_HTTP_SERVER_CA_CERTS(""),
  MANAGER_HTTP_CLIENT_CA_CERTS(""),
  MANAGER_HTTP_CLIENT_CERT(""),
  MANAGER_HTTP_CLIENT_KEY(""),

  // Attestation
  MANAGER_ATTESTATION_POLICY_BINARY("../../build/attestation_policy"),
  MANAGER_ATTESTATION_POLICY_BINARY_PATH(""),
  /** Empty means: upstream's BINARY_PATH/igvmmeasure when that is set, else ../../build/igvmmeasure. */
  MANAGER_IGVMMEASURE_BINARY(""),
  MANAGER_PCR_VALUES(""),
  MANAGER_CORIM_SIGNING_KEY(""),
  /** Ours: the lowest SEV-SNP launch TCB (uint64, decimal or 0x-hex) a policy asks a verifier to accept. */
  MANAGER_SNP_MIN_LAUNCH_TCB("0"),
  /** Ours: the TDX MRTD (48 bytes, hex) a TDX policy states; upstream's reference value by default. */
  MANAGER_TDX_MRTD("91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"),
  /** Ours: the TDX MRSEAM (48 bytes, hex) a TDX policy states; upstream's reference value by default. */
  MANAGER_TDX_MRSEAM(
      "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1"),
  /** Ours: RTMR0..RTMR3 (comma-separated hex, 48 bytes each) a TDX policy states; upstream's by default. */
  MANAGER_TDX_RTMRS("ce0891f46a18db93e7691f1cf73ed76593f7dec1b58f0927ccb56a99242bf63bc9551561f9ee7833d40395fae59547ab,"
      + "062ac322e26b10874a84977a09735408a856aec77ff62b4975b1e90e33c18f05220ea522cdbffc3b2cf4451cc209e418,"
      + "5fd86e8c3d5e45386f1ed0852de7e83ae1b774ee4366bd5213c9890e8e3ac8fad3f7e690891d37f7c81ac20a445cc0ff,"
      + "0".repeat(96)),

  // QEMU
  MANAGER_QEMU_BIN_PATH("qemu-system-x86_64"),
  MANAGER_QEMU_USE_SUDO("false"),
  MANAGER_QEMU_MACHINE("q35"),
  MANAGER_QEMU_CPU("EPYC"),
  MANAGER_QEMU_ENABLE_KVM("true"),
  MANAGER_QEMU_NO_GRAPHIC("true"),
  MANAGER_QEMU_MONITOR("pty"),
  MANAGER_QEMU_MEMORY_SIZE("2048M"),
  MANAGER_QEMU_MEMORY_SLOTS("5"),
  MANAGER_QEMU_MAX_MEMORY("30G"),
  MANAGER_QEMU_SMP_COUNT("4"),
  MANAGER_QEMU_SMP_MAXCPUS("64"),
  MANAGER_QEMU_MEM_ID("ram1"),
  MANAGER_QEMU_OVMF_CODE_FILE("/usr/share/OVMF/OVMF_CODE.fd"),
  MANAGER_QEMU_OVMF_VARS_FILE("/usr/share/OVMF/OVMF_VARS.fd"),
  MANAGER_QEMU_OVMF_CODE_IF("pflash"),
  MANAGER_QEMU_OVMF_CODE_FORMAT("raw"),
  MANAGER_QEMU_OVMF_CODE_UNIT("0"),
  MANAGER_QEMU_OVMF_CODE_READONLY("on"),
  MANAGER_QEMU_OVMF_VARS_IF("pflash"),
  MANAGER_QEMU_OVMF_VARS_FORMAT("raw"),
  MANAGER_QEMU_OVMF_VARS_UNIT("1"),
  MANAGER_QEMU_OVMF_VERSION(""),
  MANAGER_QEMU_NETDEV_ID("vmnic"),
  MANAGER_QEMU_HOST_FWD_AGENT("7020"),
  MANAGER_QEMU_GUEST_FWD_AGENT("7002"),
  MANAGER_QEMU_HOST_FWD_RANGE("6100-6200"),
  MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY("on"),
  MANAGER_QEMU_VIRTIO_NET_PCI_IOMMU_PLATFORM("true"),
  MANAGER_QEMU_VIRTIO_NET_PCI_ADDR("0x2"),
  MANAGER_QEMU_VIRTIO_NET_PCI_ROMFILE(""),
  MANAGER_QEMU_DISK_IMG_KERNEL_FILE("img/bzImage"),
  MANAGER_QEMU_DISK_IMG_ROOTFS_FILE("img/rootfs.cpio.gz"),
  MANAGER_QEMU_KERNEL_CMDLINE("quiet console=null"),
  MANAGER_QEMU_ENABLE_DISK("false"),
  MANAGER_QEMU_SRC_DISK_FILE("img/uvc_os.qcow2"),
  MANAGER_QEMU_DST_DISK_FILE(""),
  MANAGER_QEMU_DISK_ID("disk0"),
  MANAGER_QEMU_DISK_FORMAT("qcow2"),
  MANAGER_QEMU_DISK_SCSI_ID("scsi0"),
  /** Ours: how a VM disk is made from SRC_DISK_FILE, overlay or copy (see DiskClone). */
  MANAGER_QEMU_DISK_CLONE("overlay"),
  MANAGER_QEMU_CERTS_MOUNT(""),
  MANAGER_QEMU_ENV_MOUNT(""),
  MANAGER_QEMU_ENABLE_SEV_SNP("auto"),
  MANAGER_QEMU_SEV_SNP_ID("sev0"),
  MANAGER_QEMU_SEV_SNP_CBITPOS("51"),
  /** Upstream's code spells it this way; accepted as an alias of SEV_SNP_CBITPOS. */
  MANAGER_QEMU_SEV_SNP_CBIT_POS(""),
  MANAGER_QEMU_SEV_SNP_REDUCED_PHYS_BITS("1"),
  MANAGER_QEMU_ENABLE_HOST_DATA("false"),
  MANAGER_QEMU_HOST_DATA(""),
  MANAGER_QEMU_ENABLE_TDX("auto"),
  MANAGER_QEMU_TDX_ID("tdx0"),
  MANAGER_QEMU_QUOTE_GENERATION_PORT("4050"),
  MANAGER_QEMU_OVMF_FILE("/usr/share/ovmf/OVMF.fd"),
  MANAGER_QEMU_IGVM_ID("igvm0"),
  MANAGER_QEMU_IGVM_FILE("/root/coconut-qemu.igvm"),
  MANAGER_QEMU_GPU_BDF(""),
  MANAGER_QEMU_GPU_PCIE_ROOT_PORT("pci.1"),
  MANAGER_QEMU_GPU_PCIE_BUS("pcie.0"),
  MANAGER_QEMU_GPU_FW_CFG_MMIO_MB("262144"),
  MANAGER_QEMU_START_PAUSED("false"),
  MANAGER_QEMU_STOP_GRACE("10s"),
  MANAGER_QEMU_QMP_TIMEOUT("30s"),

  // Clustered mode (ours; off by default: a single host runs as if it did not exist)
  /** Ours: join a cluster of managers over Hazelcast; every other MANAGER_CLUSTER_* is read only when true. */
  MANAGER_CLUSTER_ENABLED("false"),
  MANAGER_CLUSTER_NAME("cvm-manager"),
  /** Ours: this node's name in the cluster; empty means the host name. A name already in the cluster: exit 2. */
  MANAGER_NODE_NAME(""),
  /** Ours: the address this node binds and announces for Hazelcast, the event bus and agent relays. */
  MANAGER_CLUSTER_HOST(""),
  MANAGER_CLUSTER_PORT("5701"),
  MANAGER_CLUSTER_BUS_PORT("5702"),
  /** Ours: the members to join, host:port (Hazelcast's port), comma-separated: TCP-IP join. */
  MANAGER_CLUSTER_MEMBERS(""),
  /** Ours: where a CreateVm goes: local-first, spread (most free memory) or pack (fullest that fits). */
  MANAGER_CLUSTER_PLACEMENT("local-first"),
  /** Ours: the event bus's mutual TLS (PEM): this node's certificate and key, and the CA every node's is from. */
  MANAGER_CLUSTER_TLS_CERT(""),
  MANAGER_CLUSTER_TLS_KEY(""),
  MANAGER_CLUSTER_TLS_CA(""),
  /** Ours: run clustered without event-bus TLS (CreateVm's secrets then cross the network in clear). */
  MANAGER_CLUSTER_INSECURE("false"),
  /** Ours: relay the agent port of a VM placed elsewhere from this node's HOST_FWD_RANGE. */
  MANAGER_CLUSTER_RELAY_PORTS("true"),
  /** Ours: Hazelcast's heartbeat interval, and the silence after which a member is taken as lost. */
  MANAGER_CLUSTER_HEARTBEAT("1s"),
  MANAGER_CLUSTER_MEMBER_TIMEOUT("10s"),

  // Observability
  COCOS_JAEGER_URL("http://localhost:4318"),
  COCOS_JAEGER_TRACE_RATIO("1.0");

  private static final Map<String, ConfigVariable> BY_NAME =
      Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Enum::name, Function.identity()));

  private final String defaultValue;

  ConfigVariable(String defaultValue) {
    this.defaultValue = defaultValue;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public static Optional<ConfigVariable> byName(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  /** Names we own: anything with these prefixes that we do not know is probably a typo. */
  public static boolean isOurNamespace(String name) {
    return name.startsWith("MANAGER_");
  }
}
