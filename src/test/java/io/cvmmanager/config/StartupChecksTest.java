package io.cvmmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.vm.Tee;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the host checks against a fake host tree (MANAGER_HOST_ROOT) and fake image, firmware and QEMU files, all
 * under a temporary directory, so each case takes away exactly the one piece it is about.
 */
class StartupChecksTest {
  private static final String QEMU = "qemu-system-x86_64";

  @TempDir Path dir;
  private Path host;
  private Path bin;
  private final Map<String, String> env = new HashMap<>();

  @BeforeEach
  void makeCompleteHost() throws IOException {
    host = Files.createDirectories(dir.resolve("host"));
    bin = Files.createDirectories(dir.resolve("bin"));
    executable(bin.resolve(QEMU));
    executable(bin.resolve("sudo"));
    write(host.resolve("dev/kvm"), "");
    write(host.resolve("proc/cpuinfo"), "processor\t: 0\nflags\t\t: fpu vme sse2\n");

    env.put("MANAGER_HOST_ROOT", host.toString());
    env.put("MANAGER_STATE_DIR", dir.resolve("state").toString());
    fakeFile("MANAGER_QEMU_DISK_IMG_KERNEL_FILE", "img/bzImage");
    fakeFile("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", "img/rootfs.cpio.gz");
    fakeFile("MANAGER_QEMU_SRC_DISK_FILE", "img/uvc_os.qcow2");
    fakeFile("MANAGER_QEMU_OVMF_CODE_FILE", "fw/OVMF_CODE.fd");
    fakeFile("MANAGER_QEMU_OVMF_VARS_FILE", "fw/OVMF_VARS.fd");
    fakeFile("MANAGER_QEMU_OVMF_FILE", "fw/OVMF.fd");
    fakeFile("MANAGER_QEMU_IGVM_FILE", "fw/coconut-qemu.igvm");
    Path igvmmeasure = dir.resolve("tools/igvmmeasure");
    executable(igvmmeasure);
    env.put("MANAGER_IGVMMEASURE_BINARY", igvmmeasure.toString());
  }

  private void fakeFile(String variable, String relative) throws IOException {
    Path file = dir.resolve(relative);
    write(file, "fake " + relative);
    env.put(variable, file.toString());
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }

  private static void executable(Path file) throws IOException {
    write(file, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private void snpMarkers() throws IOException {
    write(host.resolve("proc/cpuinfo"), "processor\t: 0\nflags\t\t: fpu sev sev_es sev_snp sse2\n");
    write(host.resolve("sys/module/kvm_amd/parameters/sev_snp"), "Y\n");
  }

  private void tdxMarkers() throws IOException {
    write(host.resolve("proc/cpuinfo"), "processor\t: 0\nflags\t\t: fpu vmx tdx_host_platform sse2\n");
    write(host.resolve("sys/module/kvm_intel/parameters/tdx"), "Y\n");
  }

  private void deleteFileOf(String variable) throws IOException {
    Files.delete(Path.of(env.get(variable)));
  }

  private StartupChecks.Checked check() throws InvalidConfigException {
    return check(bin.toString());
  }

  private StartupChecks.Checked check(String path) throws InvalidConfigException {
    ManagerConfig config = ConfigParser.parse(env, dir, false);
    return StartupChecks.check(config, HostFacts.detect(config.hostRoot()), path);
  }

  private void assertOneProblemNaming(String variable) {
    List<String> problems = assertThrows(InvalidConfigException.class, this::check).problems();
    assertEquals(1, problems.size(), "expected one problem line, got " + problems);
    assertTrue(problems.get(0).startsWith(variable + ": "), "line does not name " + variable + ": " + problems);
  }

  // HostFacts

  @Test
  void emptyHostTreeHasNothing() {
    HostFacts facts = HostFacts.detect(dir.resolve("empty"));
    assertFalse(facts.kvm());
    assertFalse(facts.sevSnp());
    assertFalse(facts.tdx());
  }

  @Test
  void devKvmMeansKvm() throws IOException {
    assertTrue(HostFacts.detect(host).kvm());
    Files.delete(host.resolve("dev/kvm"));
    assertFalse(HostFacts.detect(host).kvm());
  }

  @Test
  void sevSnpDetectedWithCpuFlagAndModuleParameter() throws IOException {
    snpMarkers();
    HostFacts facts = HostFacts.detect(host);
    assertTrue(facts.sevSnp());
    assertFalse(facts.tdx());
  }

  @Test
  void noSevSnpWithoutTheCpuFlag() throws IOException {
    snpMarkers();
    write(host.resolve("proc/cpuinfo"), "flags\t\t: fpu sev sev_es sse2\n");
    assertFalse(HostFacts.detect(host).sevSnp());
  }

  @Test
  void noSevSnpWithoutTheModuleParameter() throws IOException {
    snpMarkers();
    Files.delete(host.resolve("sys/module/kvm_amd/parameters/sev_snp"));
    assertFalse(HostFacts.detect(host).sevSnp());
  }

  @Test
  void noSevSnpWhenTheModuleParameterIsN() throws IOException {
    snpMarkers();
    write(host.resolve("sys/module/kvm_amd/parameters/sev_snp"), "N\n");
    assertFalse(HostFacts.detect(host).sevSnp());
  }

  @Test
  void tdxDetectedWithCpuFlagAndModuleParameter() throws IOException {
    tdxMarkers();
    HostFacts facts = HostFacts.detect(host);
    assertTrue(facts.tdx());
    assertFalse(facts.sevSnp());
  }

  @Test
  void noTdxWithoutTheCpuFlag() throws IOException {
    tdxMarkers();
    write(host.resolve("proc/cpuinfo"), "flags\t\t: fpu vmx sse2\n");
    assertFalse(HostFacts.detect(host).tdx());
  }

  @Test
  void noTdxWithoutTheModuleParameter() throws IOException {
    tdxMarkers();
    Files.delete(host.resolve("sys/module/kvm_intel/parameters/tdx"));
    assertFalse(HostFacts.detect(host).tdx());
  }

  // StartupChecks

  @Test
  void completeHostPasses() throws InvalidConfigException {
    StartupChecks.Checked checked = check();
    assertEquals(Tee.NONE, checked.tee());
    assertEquals(QEMU, checked.config().qemu().binPath());
  }

  @Test
  void snpAutoWithMarkersRunsSevSnp() throws Exception {
    snpMarkers();
    assertEquals(Tee.SEV_SNP, check().tee());
  }

  @Test
  void snpAutoWithoutMarkersRunsWithoutTee() throws InvalidConfigException {
    assertEquals(Tee.NONE, check().tee());
  }

  @Test
  void snpAutoWithMarkersButKvmDisabledRunsWithoutTee() throws Exception {
    snpMarkers();
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    assertEquals(Tee.NONE, check().tee());
  }

  @Test
  void snpFalseWithMarkersRunsWithoutTee() throws Exception {
    snpMarkers();
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "false");
    assertEquals(Tee.NONE, check().tee());
  }

  @Test
  void snpTrueWithoutMarkersFailsNamingTheVariable() {
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    assertOneProblemNaming("MANAGER_QEMU_ENABLE_SEV_SNP");
  }

  @Test
  void tdxAutoWithMarkersRunsTdx() throws Exception {
    tdxMarkers();
    assertEquals(Tee.TDX, check().tee());
  }

  @Test
  void tdxTrueWithoutMarkersFailsNamingTheVariable() {
    env.put("MANAGER_QEMU_ENABLE_TDX", "true");
    assertOneProblemNaming("MANAGER_QEMU_ENABLE_TDX");
  }

  @Test
  void snpAndTdxTogetherIsAnError() throws IOException {
    write(host.resolve("proc/cpuinfo"), "flags\t\t: fpu sev_snp tdx_host_platform\n");
    write(host.resolve("sys/module/kvm_amd/parameters/sev_snp"), "Y\n");
    write(host.resolve("sys/module/kvm_intel/parameters/tdx"), "Y\n");
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    env.put("MANAGER_QEMU_ENABLE_TDX", "true");
    List<String> problems = assertThrows(InvalidConfigException.class, this::check).problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("MANAGER_QEMU_ENABLE_"), problems.get(0));
    assertTrue(problems.get(0).contains("SEV-SNP") && problems.get(0).contains("TDX"), problems.get(0));
  }

  @Test
  void snpWithKvmDisabledIsAnError() throws IOException {
    snpMarkers();
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    assertOneProblemNaming("MANAGER_QEMU_ENABLE_SEV_SNP");
  }

  @Test
  void tdxWithKvmDisabledIsAnError() throws IOException {
    tdxMarkers();
    env.put("MANAGER_QEMU_ENABLE_TDX", "true");
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    assertOneProblemNaming("MANAGER_QEMU_ENABLE_TDX");
  }

  @Test
  void kvmWithoutDevKvmFailsNamingEnableKvm() throws IOException {
    Files.delete(host.resolve("dev/kvm"));
    assertOneProblemNaming("MANAGER_QEMU_ENABLE_KVM");
  }

  @Test
  void kvmDisabledNeedsNoDevKvm() throws Exception {
    Files.delete(host.resolve("dev/kvm"));
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    assertEquals(Tee.NONE, check().tee());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"MANAGER_QEMU_DISK_IMG_KERNEL_FILE", "MANAGER_QEMU_DISK_IMG_ROOTFS_FILE",
      "MANAGER_QEMU_OVMF_CODE_FILE", "MANAGER_QEMU_OVMF_VARS_FILE"})
  void missingFileInKernelModeFailsNamingIt(String variable) throws IOException {
    deleteFileOf(variable);
    assertOneProblemNaming(variable);
  }

  @Test
  void missingSourceDiskInDiskModeFailsNamingIt() throws IOException {
    env.put("MANAGER_QEMU_ENABLE_DISK", "true");
    deleteFileOf("MANAGER_QEMU_SRC_DISK_FILE");
    assertOneProblemNaming("MANAGER_QEMU_SRC_DISK_FILE");
  }

  @Test
  void diskModeNeedsNoKernelOrRootfs() throws Exception {
    env.put("MANAGER_QEMU_ENABLE_DISK", "true");
    deleteFileOf("MANAGER_QEMU_DISK_IMG_KERNEL_FILE");
    deleteFileOf("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE");
    assertEquals(Tee.NONE, check().tee());
  }

  @Test
  void missingIgvmFileUnderSevSnpFailsNamingIt() throws IOException {
    snpMarkers();
    deleteFileOf("MANAGER_QEMU_IGVM_FILE");
    assertOneProblemNaming("MANAGER_QEMU_IGVM_FILE");
  }

  @Test
  void sevSnpNeedsNoOvmfCodeOrVars() throws Exception {
    snpMarkers();
    deleteFileOf("MANAGER_QEMU_OVMF_CODE_FILE");
    deleteFileOf("MANAGER_QEMU_OVMF_VARS_FILE");
    assertEquals(Tee.SEV_SNP, check().tee());
  }

  @Test
  void missingOvmfFileUnderTdxFailsNamingIt() throws IOException {
    tdxMarkers();
    deleteFileOf("MANAGER_QEMU_OVMF_FILE");
    assertOneProblemNaming("MANAGER_QEMU_OVMF_FILE");
  }

  @Test
  void missingClusterTlsFileFailsNamingIt() throws IOException {
    env.put("MANAGER_CLUSTER_ENABLED", "true");
    env.put("MANAGER_CLUSTER_HOST", "127.0.0.1");
    fakeFile("MANAGER_CLUSTER_TLS_CERT", "cluster/node.pem");
    fakeFile("MANAGER_CLUSTER_TLS_CA", "cluster/ca.pem");
    env.put("MANAGER_CLUSTER_TLS_KEY", dir.resolve("cluster/missing.key").toString());
    assertOneProblemNaming("MANAGER_CLUSTER_TLS_KEY");
  }

  @Test
  void qemuNotOnPathFailsNamingBinPath() throws Exception {
    Path emptyBin = Files.createDirectories(dir.resolve("empty-bin"));
    List<String> problems = assertThrows(InvalidConfigException.class, () -> check(emptyBin.toString())).problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("MANAGER_QEMU_BIN_PATH: "), problems.get(0));
  }

  @Test
  void qemuBinPathAsAbsoluteFileNeedsNoPath() throws Exception {
    env.put("MANAGER_QEMU_BIN_PATH", bin.resolve(QEMU).toString());
    assertEquals(bin.resolve(QEMU).toString(), check("").config().qemu().binPath());
  }

  @Test
  void useSudoMakesBinPathAbsolute() throws Exception {
    env.put("MANAGER_QEMU_USE_SUDO", "true");
    String binPath = check().config().qemu().binPath();
    assertTrue(Path.of(binPath).isAbsolute(), binPath);
    assertEquals(bin.resolve(QEMU).toString(), binPath);
  }

  @Test
  void useSudoWithoutSudoOnPathFailsNamingUseSudo() throws Exception {
    Files.delete(bin.resolve("sudo"));
    env.put("MANAGER_QEMU_USE_SUDO", "true");
    assertOneProblemNaming("MANAGER_QEMU_USE_SUDO");
  }

  @Test
  void validPcrValuesFilePasses() throws Exception {
    Path pcr = dir.resolve("pcr_values.json");
    write(pcr, "{\"pcr_values\":{\"sha256\":{\"0\":\"" + "ab".repeat(32) + "\"}}}");
    env.put("MANAGER_PCR_VALUES", pcr.toString());
    assertEquals(Tee.NONE, check().tee());
  }

  @ParameterizedTest
  @ValueSource(strings = {"MANAGER_PCR_VALUES", "MANAGER_CORIM_SIGNING_KEY"})
  void missingAttestationFileFailsNamingIt(String variable) {
    env.put(variable, dir.resolve("nowhere").toString());
    assertOneProblemNaming(variable);
  }

  @ParameterizedTest
  @ValueSource(strings = {"not json", "{}", "{\"pcr_values\":{\"sha256\":{\"0\":\"abcd\"}}}",
      "{\"pcr_values\":{\"md5\":{}}}", "{\"pcr_values\":{\"sha1\":{\"24\":\"\"}}}"})
  void invalidPcrValuesFileFailsNamingIt(String content) throws IOException {
    Path pcr = dir.resolve("pcr_values.json");
    write(pcr, content);
    env.put("MANAGER_PCR_VALUES", pcr.toString());
    assertOneProblemNaming("MANAGER_PCR_VALUES");
    List<String> problems = assertThrows(InvalidConfigException.class, this::check).problems();
    assertTrue(problems.get(0).contains(pcr.toString()), problems.toString());
    assertFalse(problems.get(0).contains("\n"), problems.toString());
  }

  /** A key made by openssl ({@code args} after "openssl"), written to {@code name} in the temp dir. */
  private Path opensslKey(String name, String... args) throws Exception {
    Path key = dir.resolve(name);
    List<String> command = new java.util.ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    command.addAll(List.of("-out", key.toString()));
    Process openssl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(openssl.getInputStream().readAllBytes());
    assertEquals(0, openssl.waitFor(), output);
    return key;
  }

  @Test
  void p256SigningKeyPasses() throws Exception {
    env.put("MANAGER_CORIM_SIGNING_KEY",
        opensslKey("p256.pem", "ecparam", "-name", "prime256v1", "-genkey", "-noout").toString());
    assertEquals(Tee.NONE, check().tee());
  }

  @Test
  void signingKeyOfAnotherCurveOrTypeFailsNamingIt() throws Exception {
    for (Path key : List.of(
        opensslKey("p384.pem", "ecparam", "-name", "secp384r1", "-genkey", "-noout"),
        opensslKey("rsa.pem", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"))) {
      env.put("MANAGER_CORIM_SIGNING_KEY", key.toString());
      assertOneProblemNaming("MANAGER_CORIM_SIGNING_KEY");
    }
    write(dir.resolve("garbage.pem"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    env.put("MANAGER_CORIM_SIGNING_KEY", dir.resolve("garbage.pem").toString());
    assertOneProblemNaming("MANAGER_CORIM_SIGNING_KEY");
  }
}
