package io.cvmmanager.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigParserTest {
  private static final HexFormat HEX = HexFormat.of();
  /** Upstream's TDX reference values, as the issue gives them (typed here, not taken from the code under test). */
  private static final String UPSTREAM_MRTD =
      "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";
  private static final String UPSTREAM_MRSEAM =
      "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1";
  private static final List<String> UPSTREAM_RTMRS = List.of(
      "ce0891f46a18db93e7691f1cf73ed76593f7dec1b58f0927ccb56a99242bf63bc9551561f9ee7833d40395fae59547ab",
      "062ac322e26b10874a84977a09735408a856aec77ff62b4975b1e90e33c18f05220ea522cdbffc3b2cf4451cc209e418",
      "5fd86e8c3d5e45386f1ed0852de7e83ae1b774ee4366bd5213c9890e8e3ac8fad3f7e690891d37f7c81ac20a445cc0ff",
      "0".repeat(96));
  private static final Path HOME = Path.of("/home/alice");
  /** "/vms/" + a UUID + "/qmp.sock" */
  private static final int SOCKET_SUFFIX_BYTES = 5 + 36 + 9;

  private static ManagerConfig parse(Map<String, String> values) throws InvalidConfigException {
    return ConfigParser.parse(values, HOME, false);
  }

  private static List<String> problems(Map<String, String> values) {
    return assertThrows(InvalidConfigException.class, () -> parse(values)).problems();
  }

  private static void assertOneProblemNaming(String variable, Map<String, String> values) {
    List<String> problems = problems(values);
    assertEquals(1, problems.size(), "expected one problem line, got " + problems);
    String line = problems.get(0);
    assertTrue(line.startsWith(variable + ": "), "line does not name " + variable + ": " + line);
    assertFalse(line.contains("\n"), "not a single line: " + line);
  }

  @Test
  void defaultsMatchTheSpec() throws InvalidConfigException {
    ManagerConfig c = ConfigParser.parse(Map.of(), HOME, true);

    assertEquals(new ManagerConfig.Endpoint("localhost", 7001), c.grpc());
    assertEquals(Duration.ofSeconds(60), c.grpcTimeout());
    assertEquals(new ManagerConfig.Endpoint("localhost", 7003), c.http());
    assertEquals(ManagerConfig.LogLevel.INFO, c.logLevel());
    assertEquals(10, c.maxVms());
    assertEquals("", c.eosVersion());
    assertEquals(Path.of("/"), c.hostRoot());
    assertFalse(c.grpcTls().tls());
    assertFalse(c.httpTls().tls());
    assertEquals(TlsFiles.none(), c.grpcTls());
    assertEquals(TlsFiles.none(), c.httpTls());
    ManagerConfig.Attestation a = c.attestation();
    assertEquals(List.of("../../build/attestation_policy", "../../build/igvmmeasure"),
        List.of(a.attestationPolicyBinary(), a.igvmmeasureBinary()));
    assertEquals(Optional.empty(), a.pcrValues());
    assertEquals(Optional.empty(), a.corimSigningKey());
    assertEquals(0, a.snpMinLaunchTcb());
    assertEquals(UPSTREAM_MRTD, HEX.formatHex(a.tdx().mrtd()));
    assertEquals(UPSTREAM_MRSEAM, HEX.formatHex(a.tdx().mrseam()));
    assertEquals(UPSTREAM_RTMRS, a.tdx().rtmrs().stream().map(HEX::formatHex).toList());
    assertEquals(new ManagerConfig.Tracing("http://localhost:4318", 1.0), c.tracing());
    assertEquals(List.of(), c.warnings());

    QemuConfig q = c.qemu();
    assertEquals("qemu-system-x86_64", q.binPath());
    assertFalse(q.useSudo());
    assertEquals("q35", q.machine());
    assertEquals("EPYC", q.cpu());
    assertTrue(q.enableKvm());
    assertTrue(q.noGraphic());
    assertEquals("pty", q.monitor());
    assertEquals(new QemuConfig.Memory("2048M", 5, "30G", "ram1"), q.memory());
    assertEquals(new QemuConfig.Smp(4, 64), q.smp());
    assertEquals(new QemuConfig.Ovmf("/usr/share/OVMF/OVMF_CODE.fd", "pflash", "raw", 0, "on",
        "/usr/share/OVMF/OVMF_VARS.fd", "pflash", "raw", 1, ""), q.ovmf());
    assertEquals(new QemuConfig.Net("vmnic", 7020, 7002, new PortRange(6100, 6200), "on", "true", "0x2", ""),
        q.net());
    assertEquals(new QemuConfig.Kernel("img/bzImage", "img/rootfs.cpio.gz", "quiet console=null"), q.kernel());
    assertEquals(new QemuConfig.Disk(false, "img/uvc_os.qcow2", "disk0", "qcow2", "scsi0", DiskClone.OVERLAY), q.disk());
    assertEquals(new QemuConfig.SevSnp(Tristate.AUTO, "sev0", 51, 1, false, Optional.empty(), "igvm0",
        "/root/coconut-qemu.igvm"), q.sevSnp());
    assertEquals(new QemuConfig.Tdx(Tristate.AUTO, "tdx0", 4050, "/usr/share/ovmf/OVMF.fd"), q.tdx());
    assertEquals(new QemuConfig.Gpu(new QemuConfig.GpuDevices(false, List.of()), "pci.1", "pcie.0", 262144), q.gpu());
    assertFalse(q.startPaused());
    assertEquals(Duration.ofSeconds(10), q.stopGrace());
    assertEquals(Duration.ofSeconds(30), q.qmpTimeout());
  }

  @Test
  void stateDirDefaultsToVarLibForRoot() throws InvalidConfigException {
    assertEquals(Path.of("/var/lib/cvm-manager"), ConfigParser.parse(Map.of(), HOME, true).stateDir());
  }

  @Test
  void stateDirDefaultsToUserStateDirWhenNotRoot() throws InvalidConfigException {
    assertEquals(HOME.resolve(".local/state/cvm-manager"), ConfigParser.parse(Map.of(), HOME, false).stateDir());
  }

  @Test
  void stateDirFromVariableIsUsed() throws InvalidConfigException {
    assertEquals(Path.of("/srv/cvm"), parse(Map.of("MANAGER_STATE_DIR", "/srv/cvm")).stateDir());
  }

  @Test
  void instanceIdIsGeneratedWhenEmpty() throws InvalidConfigException {
    String first = parse(Map.of()).instanceId();
    String second = parse(Map.of("MANAGER_INSTANCE_ID", "")).instanceId();
    assertDoesNotThrow(() -> UUID.fromString(first));
    assertDoesNotThrow(() -> UUID.fromString(second));
    assertNotEquals(first, second);
  }

  @Test
  void instanceIdIsKeptWhenSet() throws InvalidConfigException {
    assertEquals("host-a", parse(Map.of("MANAGER_INSTANCE_ID", "host-a")).instanceId());
  }

  @Test
  void setValuesReplaceDefaults() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_GRPC_PORT", "7101", "MANAGER_QEMU_MEMORY_SIZE", "4096M",
        "MANAGER_QEMU_HOST_FWD_RANGE", "7000-7000", "MANAGER_QEMU_STOP_GRACE", "1m30s", "MANAGER_LOG_LEVEL", "debug",
        "MANAGER_QEMU_QMP_TIMEOUT", "2500ms",
        "MANAGER_QEMU_ENABLE_SEV_SNP", "false", "MANAGER_QEMU_ENABLE_TDX", "true", "MANAGER_MAX_VMS", "0"));
    assertEquals(7101, c.grpc().port());
    assertEquals("4096M", c.qemu().memory().size());
    assertEquals(new PortRange(7000, 7000), c.qemu().net().hostFwdRange());
    assertEquals(Duration.ofSeconds(90), c.qemu().stopGrace());
    assertEquals(Duration.ofMillis(2500), c.qemu().qmpTimeout());
    assertEquals(ManagerConfig.LogLevel.DEBUG, c.logLevel());
    assertEquals(Tristate.FALSE, c.qemu().sevSnp().enable());
    assertEquals(Tristate.TRUE, c.qemu().tdx().enable());
    assertEquals(0, c.maxVms());
  }

  static Stream<Arguments> invalidValues() {
    byte[] sixteen = new byte[16];
    return Stream.of(
        Arguments.of("MANAGER_GRPC_PORT", "70000"),
        Arguments.of("MANAGER_HTTP_PORT", "abc"),
        Arguments.of("MANAGER_QEMU_GUEST_FWD_AGENT", "0"),
        Arguments.of("MANAGER_QEMU_MEMORY_SIZE", "lots"),
        Arguments.of("MANAGER_QEMU_MAX_MEMORY", "1G"),
        Arguments.of("MANAGER_QEMU_HOST_FWD_RANGE", "6200-6100"),
        Arguments.of("MANAGER_QEMU_HOST_FWD_RANGE", "6100"),
        Arguments.of("MANAGER_QEMU_HOST_FWD_RANGE", "6100-70000"),
        Arguments.of("MANAGER_QEMU_SMP_COUNT", "0"),
        Arguments.of("MANAGER_QEMU_ENABLE_KVM", "maybe"),
        Arguments.of("MANAGER_QEMU_ENABLE_SEV_SNP", "perhaps"),
        Arguments.of("MANAGER_QEMU_ENABLE_TDX", "sometimes"),
        Arguments.of("MANAGER_LOG_LEVEL", "verbose"),
        Arguments.of("MANAGER_QEMU_STOP_GRACE", "10"),
        Arguments.of("MANAGER_QEMU_STOP_GRACE", "-1s"),
        Arguments.of("MANAGER_QEMU_QMP_TIMEOUT", "0s"),
        Arguments.of("MANAGER_QEMU_QMP_TIMEOUT", "30"),
        Arguments.of("MANAGER_GRPC_TIMEOUT", "0s"),
        Arguments.of("MANAGER_GRPC_TIMEOUT", "abc"),
        Arguments.of("MANAGER_GRPC_TIMEOUT", "-5s"),
        Arguments.of("MANAGER_QEMU_HOST_DATA", "not base64!"),
        Arguments.of("MANAGER_QEMU_HOST_DATA", Base64.getEncoder().encodeToString(sixteen)),
        Arguments.of("MANAGER_QEMU_HOST_DATA", Base64.getEncoder().withoutPadding().encodeToString(new byte[32])),
        Arguments.of("COCOS_JAEGER_TRACE_RATIO", "2"),
        Arguments.of("COCOS_JAEGER_URL", "localhost:4318"),
        Arguments.of("MANAGER_QEMU_GPU_BDF", "garbage"),
        Arguments.of("MANAGER_MAX_VMS", "-1"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("invalidValues")
  void invalidValueGivesOneLineNamingTheVariable(String variable, String value) {
    assertOneProblemNaming(variable, Map.of(variable, value));
  }

  @Test
  void maxMemoryEqualToMemorySizeIsValid() throws InvalidConfigException {
    QemuConfig.Memory memory = parse(Map.of("MANAGER_QEMU_MEMORY_SIZE", "2G", "MANAGER_QEMU_MAX_MEMORY", "2048M"))
        .qemu().memory();
    assertEquals("2G", memory.size());
    assertEquals("2048M", memory.max());
  }

  @Test
  void hostDataOf32BytesIsAccepted() throws InvalidConfigException {
    String hostData = Base64.getEncoder().encodeToString(new byte[32]);
    assertEquals(Optional.of(hostData), parse(Map.of("MANAGER_QEMU_HOST_DATA", hostData)).qemu().sevSnp().hostData());
  }

  private static QemuConfig.GpuDevices gpus(String setting) throws InvalidConfigException {
    return parse(Map.of("MANAGER_QEMU_GPU_BDF", setting)).qemu().gpu().devices();
  }

  @Test
  void noGpuBdfIsNoGpuMode() throws InvalidConfigException {
    QemuConfig.GpuDevices none = parse(Map.of()).qemu().gpu().devices();
    assertFalse(none.enabled());
    assertEquals("", none.setting());
  }

  @Test
  void gpuBdfInPciFormIsAPoolOfOne() throws InvalidConfigException {
    QemuConfig.GpuDevices one = gpus("0000:01:00.0");
    assertEquals(new QemuConfig.GpuDevices(false, List.of("0000:01:00.0")), one);
    assertTrue(one.enabled());
    assertEquals("0000:01:00.0", one.setting());
  }

  @Test
  void gpuBdfCommaListKeepsItsOrderWithSpacesAroundCommasAllowed() throws InvalidConfigException {
    QemuConfig.GpuDevices two = gpus(" 0000:41:00.0 ,01:00.0,0000:C1:00.1 ");
    assertEquals(new QemuConfig.GpuDevices(false, List.of("0000:41:00.0", "01:00.0", "0000:C1:00.1")), two);
    assertEquals("0000:41:00.0,01:00.0,0000:C1:00.1", two.setting());
  }

  @Test
  void gpuBdfAutoIsGpuModeWithoutAList() throws InvalidConfigException {
    QemuConfig.GpuDevices auto = gpus("auto");
    assertEquals(new QemuConfig.GpuDevices(true, List.of()), auto);
    assertTrue(auto.enabled());
    assertEquals("auto", auto.setting());
  }

  static Stream<Arguments> invalidGpuLists() {
    return Stream.of(
        Arguments.of("0000:01:00.0,c1:00", "entry 2 (c1:00) is not a PCI address like 0000:01:00.0"),
        Arguments.of("0000:01:00.0,0000:41:00.0,bus=pcie.0",
            "entry 3 (bus=pcie.0) is not a PCI address like 0000:01:00.0"),
        Arguments.of("0000:01:00.0,", "entry 2 is empty"),
        Arguments.of("auto,0000:01:00.0",
            "entry 1 (auto) is not a PCI address like 0000:01:00.0; auto stands alone, not in a list"),
        Arguments.of("0000:01:00.0, 0000:01:00.0",
            "entry 2 (0000:01:00.0) is the same device as entry 1: a GPU is given to one VM at a time"),
        Arguments.of("0000:c1:00.0,C1:00.0",
            "entry 2 (C1:00.0) is the same device as entry 1: a GPU is given to one VM at a time"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidGpuLists")
  void gpuBdfListWithABadEntryIsRefusedNamingIt(String setting, String problem) {
    assertEquals(List.of("MANAGER_QEMU_GPU_BDF: " + problem), problems(Map.of("MANAGER_QEMU_GPU_BDF", setting)));
  }

  @Test
  void gpuBdfListNamesEveryBadEntry() {
    assertEquals(List.of("MANAGER_QEMU_GPU_BDF: entry 1 (x) is not a PCI address like 0000:01:00.0",
        "MANAGER_QEMU_GPU_BDF: entry 3 (01:00.0) is the same device as entry 2: a GPU is given to one VM at a time"),
        problems(Map.of("MANAGER_QEMU_GPU_BDF", "x,0000:01:00.0,01:00.0")));
  }

  @Test
  void serverCertWithoutKeyNamesTheMissingKey() {
    assertOneProblemNaming("MANAGER_GRPC_SERVER_KEY", Map.of("MANAGER_GRPC_SERVER_CERT", "/etc/cvm/server.pem"));
  }

  @Test
  void serverKeyWithoutCertNamesTheMissingCert() {
    assertOneProblemNaming("MANAGER_HTTP_SERVER_CERT", Map.of("MANAGER_HTTP_SERVER_KEY", "/etc/cvm/server.key"));
  }

  @Test
  void clientCaWithoutCertIsAnError() {
    assertOneProblemNaming("MANAGER_GRPC_CLIENT_CA_CERTS", Map.of("MANAGER_GRPC_CLIENT_CA_CERTS", "/etc/cvm/ca.pem"));
  }

  @Test
  void clientCaWithCertAndKeyMeansMutualTls() throws InvalidConfigException {
    TlsFiles tls = grpcTlsWithCertAnd(Map.of("MANAGER_GRPC_CLIENT_CA_CERTS", "/ca.pem"));
    assertTrue(tls.mutual());
    assertEquals(Optional.of("/ca.pem"), tls.clientTrust());
  }

  @Test
  void serverCaAloneWithCertAndKeyMeansMutualTlsVerifiedAgainstIt() throws InvalidConfigException {
    TlsFiles tls = grpcTlsWithCertAnd(Map.of("MANAGER_GRPC_SERVER_CA_CERTS", "/server-ca.pem"));
    assertTrue(tls.mutual());
    assertEquals(Optional.of("/server-ca.pem"), tls.clientTrust());
  }

  @Test
  void withBothCasClientsAreVerifiedAgainstTheClientCa() throws InvalidConfigException {
    TlsFiles tls = grpcTlsWithCertAnd(Map.of("MANAGER_GRPC_SERVER_CA_CERTS", "/server-ca.pem",
        "MANAGER_GRPC_CLIENT_CA_CERTS", "/client-ca.pem"));
    assertEquals(Optional.of("/client-ca.pem"), tls.clientTrust());
  }

  @Test
  void upstreamCertNamesWithAServerCaMeanMutualTlsVerifiedAgainstIt() throws InvalidConfigException {
    TlsFiles tls = parse(Map.of("MANAGER_GRPC_CLIENT_CERT", "/legacy.pem", "MANAGER_GRPC_CLIENT_KEY", "/legacy.key",
        "MANAGER_GRPC_SERVER_CA_CERTS", "/server-ca.pem")).grpcTls();
    assertEquals(Optional.of("/server-ca.pem"), tls.clientTrust());
  }

  @Test
  void serverCaWithoutCertIsPlainTextAsUpstream() throws InvalidConfigException {
    TlsFiles tls = parse(Map.of("MANAGER_GRPC_SERVER_CA_CERTS", "/server-ca.pem")).grpcTls();
    assertFalse(tls.tls());
    assertFalse(tls.mutual());
  }

  private static TlsFiles grpcTlsWithCertAnd(Map<String, String> caFiles) throws InvalidConfigException {
    Map<String, String> values = new HashMap<>(caFiles);
    values.put("MANAGER_GRPC_SERVER_CERT", "/c.pem");
    values.put("MANAGER_GRPC_SERVER_KEY", "/k.pem");
    return parse(values).grpcTls();
  }

  @Test
  void stateDirTooLongForTheQmpSocketIsAnError() {
    String dir = "/" + "d".repeat(ConfigParser.MAX_UNIX_SOCKET_PATH - SOCKET_SUFFIX_BYTES);
    assertOneProblemNaming("MANAGER_STATE_DIR", Map.of("MANAGER_STATE_DIR", dir));
  }

  @Test
  void stateDirJustShortEnoughForTheQmpSocketIsAccepted() throws InvalidConfigException {
    String dir = "/" + "d".repeat(ConfigParser.MAX_UNIX_SOCKET_PATH - SOCKET_SUFFIX_BYTES - 1);
    assertEquals(Path.of(dir), parse(Map.of("MANAGER_STATE_DIR", dir)).stateDir());
  }

  @Test
  void severalInvalidValuesGiveOneLineEach() {
    List<String> problems = problems(Map.of("MANAGER_GRPC_PORT", "70000", "MANAGER_QEMU_MEMORY_SIZE", "lots",
        "MANAGER_LOG_LEVEL", "verbose", "MANAGER_QEMU_HOST_FWD_RANGE", "6200-6100"));
    assertEquals(4, problems.size(), problems.toString());
    for (String variable : List.of("MANAGER_GRPC_PORT", "MANAGER_QEMU_MEMORY_SIZE", "MANAGER_LOG_LEVEL",
        "MANAGER_QEMU_HOST_FWD_RANGE")) {
      assertEquals(1, problems.stream().filter(p -> p.startsWith(variable + ": ")).count(),
          variable + " not named exactly once in " + problems);
    }
  }

  @Test
  void unknownManagerVariableIsAWarningNotAnError() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_FOO", "1", "PATH", "/usr/bin", "HOME", "/home/alice"));
    assertEquals(1, c.warnings().size(), c.warnings().toString());
    assertTrue(c.warnings().get(0).contains("MANAGER_FOO"), c.warnings().get(0));
  }

  @Test
  void cbitPosAliasWorksWhenCbitposUnset() throws InvalidConfigException {
    assertEquals(47, parse(Map.of("MANAGER_QEMU_SEV_SNP_CBIT_POS", "47")).qemu().sevSnp().cbitpos());
  }

  @Test
  void cbitposWinsOverTheAlias() throws InvalidConfigException {
    assertEquals(51, parse(Map.of("MANAGER_QEMU_SEV_SNP_CBITPOS", "51", "MANAGER_QEMU_SEV_SNP_CBIT_POS", "47"))
        .qemu().sevSnp().cbitpos());
  }

  @Test
  void invalidCbitPosAliasNamesTheAlias() {
    assertOneProblemNaming("MANAGER_QEMU_SEV_SNP_CBIT_POS", Map.of("MANAGER_QEMU_SEV_SNP_CBIT_POS", "x"));
  }

  @Test
  void legacyClientCertAndKeyServeAsServerCertWhenServerNamesUnset() throws InvalidConfigException {
    TlsFiles tls = parse(Map.of("MANAGER_GRPC_CLIENT_CERT", "/legacy.pem", "MANAGER_GRPC_CLIENT_KEY", "/legacy.key"))
        .grpcTls();
    assertEquals(Optional.of("/legacy.pem"), tls.cert());
    assertEquals(Optional.of("/legacy.key"), tls.key());
    assertTrue(tls.certSource().contains("MANAGER_GRPC_CLIENT_CERT"), tls.certSource());
  }

  @Test
  void serverCertAndKeyWinOverLegacyClientNames() throws InvalidConfigException {
    TlsFiles tls = parse(Map.of("MANAGER_GRPC_CLIENT_CERT", "/legacy.pem", "MANAGER_GRPC_CLIENT_KEY", "/legacy.key",
        "MANAGER_GRPC_SERVER_CERT", "/server.pem", "MANAGER_GRPC_SERVER_KEY", "/server.key")).grpcTls();
    assertEquals(Optional.of("/server.pem"), tls.cert());
    assertEquals(Optional.of("/server.key"), tls.key());
    assertTrue(tls.certSource().contains("MANAGER_GRPC_SERVER_CERT"), tls.certSource());
  }

  @Test
  void legacyHttpClientCertServesTheHttpServerOnly() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_HTTP_CLIENT_CERT", "/h.pem", "MANAGER_HTTP_CLIENT_KEY", "/h.key"));
    assertEquals(Optional.of("/h.pem"), c.httpTls().cert());
    assertFalse(c.grpcTls().tls());
  }

  @Test
  void dstDiskFileSetIsAWarning() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_QEMU_DST_DISK_FILE", "/tmp/disk.qcow2"));
    assertEquals(1, c.warnings().size(), c.warnings().toString());
    assertTrue(c.warnings().get(0).contains("MANAGER_QEMU_DST_DISK_FILE"), c.warnings().get(0));
  }

  @Test
  void certsAndEnvMountSetAreWarnings() throws InvalidConfigException {
    List<String> warnings = parse(Map.of("MANAGER_QEMU_CERTS_MOUNT", "/c", "MANAGER_QEMU_ENV_MOUNT", "/e")).warnings();
    assertEquals(2, warnings.size(), warnings.toString());
    assertTrue(warnings.stream().anyMatch(w -> w.contains("MANAGER_QEMU_CERTS_MOUNT")), warnings.toString());
    assertTrue(warnings.stream().anyMatch(w -> w.contains("MANAGER_QEMU_ENV_MOUNT")), warnings.toString());
  }

  @Test
  void igvmmeasureBinaryWinsOverAttestationPolicyBinaryPath() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_IGVMMEASURE_BINARY", "/opt/igvm/igvmmeasure",
        "MANAGER_ATTESTATION_POLICY_BINARY_PATH", "/opt/cocos/bin"));
    assertEquals("/opt/igvm/igvmmeasure", c.attestation().igvmmeasureBinary());
  }

  @Test
  void attestationPolicyBinaryPathIsUsedWhenIgvmmeasureBinaryUnset() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_ATTESTATION_POLICY_BINARY_PATH", "/opt/cocos/bin"));
    assertEquals("/opt/cocos/bin", c.attestation().igvmmeasureBinary());
  }

  @Test
  void anEmptyValueTakesTheDefault() throws InvalidConfigException {
    ManagerConfig c = parse(Map.of("MANAGER_GRPC_PORT", "", "MANAGER_QEMU_CPU", " "));
    assertEquals(7001, c.grpc().port());
    assertEquals("EPYC", c.qemu().cpu());
  }

  @Test
  void snpMinLaunchTcbTakesDecimalAndHex() throws InvalidConfigException {
    assertEquals(12345, parse(Map.of("MANAGER_SNP_MIN_LAUNCH_TCB", "12345")).attestation().snpMinLaunchTcb());
    assertEquals(0xdb18_0000_0000_0004L,
        parse(Map.of("MANAGER_SNP_MIN_LAUNCH_TCB", "0xDB18000000000004")).attestation().snpMinLaunchTcb());
    assertEquals(-1L, parse(Map.of("MANAGER_SNP_MIN_LAUNCH_TCB", "18446744073709551615")).attestation()
        .snpMinLaunchTcb(), "2^64-1 is kept in the long's 64 bits");
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"-1", "18446744073709551616", "0x", "0x1g", "ten",
      "1.5"})
  void invalidSnpMinLaunchTcbIsOneProblem(String value) {
    assertOneProblemNaming("MANAGER_SNP_MIN_LAUNCH_TCB", Map.of("MANAGER_SNP_MIN_LAUNCH_TCB", value));
  }

  @Test
  void tdxValuesAreTakenFromTheVariables() throws InvalidConfigException {
    String mrtd = "ab".repeat(48);
    String mrseam = "CD".repeat(48);
    String rtmrs = "01".repeat(48) + ", " + "02".repeat(48) + "," + "03".repeat(48) + "," + "04".repeat(48);
    ManagerConfig.TdxReference tdx = parse(Map.of("MANAGER_TDX_MRTD", mrtd, "MANAGER_TDX_MRSEAM", mrseam,
        "MANAGER_TDX_RTMRS", rtmrs)).attestation().tdx();
    assertEquals(mrtd, HEX.formatHex(tdx.mrtd()));
    assertEquals(mrseam.toLowerCase(), HEX.formatHex(tdx.mrseam()));
    assertEquals(List.of("01".repeat(48), "02".repeat(48), "03".repeat(48), "04".repeat(48)),
        tdx.rtmrs().stream().map(HEX::formatHex).toList());
  }

  static Stream<Arguments> badTdxValues() {
    String ok = "00".repeat(48);
    return Stream.of(
        Arguments.of("MANAGER_TDX_MRTD", "00".repeat(47)),
        Arguments.of("MANAGER_TDX_MRTD", "zz".repeat(48)),
        Arguments.of("MANAGER_TDX_MRSEAM", "00".repeat(49)),
        Arguments.of("MANAGER_TDX_RTMRS", String.join(",", ok, ok, ok)),
        Arguments.of("MANAGER_TDX_RTMRS", String.join(",", ok, ok, ok, ok, ok)),
        Arguments.of("MANAGER_TDX_RTMRS", String.join(",", ok, ok, "00".repeat(47), "0")),
        Arguments.of("MANAGER_TDX_RTMRS", String.join(",", ok, ok, ok, "xy".repeat(48))));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("badTdxValues")
  void invalidTdxValueIsOneProblemNamingIt(String variable, String value) {
    assertOneProblemNaming(variable, Map.of(variable, value));
  }

  @Test
  void badRtmrIsNamedInTheProblem() {
    String ok = "00".repeat(48);
    List<String> problems = problems(Map.of("MANAGER_TDX_RTMRS", String.join(",", ok, ok, "00", ok)));
    assertTrue(problems.get(0).contains("RTMR2"), problems.toString());
  }

  @Test
  void resourceSettingsHaveTheirDefaultsAndTheirBounds() throws Exception {
    ManagerConfig.Resources defaults = parse(Map.of()).resources();
    assertEquals(new ManagerConfig.Resources(2L << 30, java.time.Duration.ofSeconds(30), 1.0, 16.0,
        ManagerConfig.Numa.AUTO), defaults);
    ManagerConfig.Resources set = parse(Map.of("MANAGER_HOST_RESERVED_MEMORY", "0", "MANAGER_INVENTORY_INTERVAL",
        "5s", "MANAGER_MEMORY_OVERCOMMIT", "1.5", "MANAGER_CPU_OVERCOMMIT", "4", "MANAGER_NUMA", "off"))
        .resources();
    assertEquals(new ManagerConfig.Resources(0, java.time.Duration.ofSeconds(5), 1.5, 4.0, ManagerConfig.Numa.OFF),
        set);
    assertOneProblemNaming("MANAGER_NUMA", Map.of("MANAGER_NUMA", "on"));
    assertEquals(512L << 20, parse(Map.of("MANAGER_HOST_RESERVED_MEMORY", "512")).resources().reservedMemoryBytes(),
        "a bare number is MiB, as for MANAGER_QEMU_MEMORY_SIZE");
    assertOneProblemNaming("MANAGER_MEMORY_OVERCOMMIT", Map.of("MANAGER_MEMORY_OVERCOMMIT", "0.5"));
    assertOneProblemNaming("MANAGER_CPU_OVERCOMMIT", Map.of("MANAGER_CPU_OVERCOMMIT", "many"));
    assertOneProblemNaming("MANAGER_HOST_RESERVED_MEMORY", Map.of("MANAGER_HOST_RESERVED_MEMORY", "2 GB"));
    assertOneProblemNaming("MANAGER_INVENTORY_INTERVAL", Map.of("MANAGER_INVENTORY_INTERVAL", "0s"));
  }

  @Test
  void usageIntervalIsTenSecondsByDefaultZeroTurnsItOff() throws Exception {
    assertEquals(java.time.Duration.ofSeconds(10), parse(Map.of()).observation().usageInterval());
    assertEquals(java.time.Duration.ZERO,
        parse(Map.of("MANAGER_USAGE_INTERVAL", "0s")).observation().usageInterval());
    assertOneProblemNaming("MANAGER_USAGE_INTERVAL", Map.of("MANAGER_USAGE_INTERVAL", "-1s"));
  }
}
