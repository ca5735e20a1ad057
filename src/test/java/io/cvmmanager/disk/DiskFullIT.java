package io.cvmmanager.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.SmallTmpfs;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full state dir at each write of a create, in turn: the state dir is a small tmpfs, filled so that just the
 * writes before the one under test fit (tmpfs counts whole pages; its directories take none). Each is
 * RESOURCE_EXHAUSTED naming the state dir and the file, and leaves nothing behind. The fake QEMU stands in for
 * QEMU: no guest is needed.
 */
class DiskFullIT {
  private static final int PAGE = 4096;
  /** Pages of the OVMF_VARS source the tests give (2), of the env file, of a cert file, of state.json (1 each). */
  private static final int VARS_PAGES = 2;

  @TempDir
  Path work;
  private Path stateDir;
  private Path varsFile;
  private SmallTmpfs tmpfs;

  @BeforeEach
  void mountSmallTmpfs() throws Exception {
    stateDir = work.resolve("state");
    tmpfs = SmallTmpfs.mount(stateDir, "1m");
    varsFile = Files.write(work.resolve("OVMF_VARS.fd"), new byte[VARS_PAGES * PAGE]);
  }

  @AfterEach
  void unmount() throws Exception {
    if (tmpfs != null) {
      tmpfs.unmount();
    }
  }

  /** A create on a manager whose state dir has room for {@code pages} pages more, then the leftover checks. */
  private UnaryCall.Result<?> createWithRoomFor(int pages, CreateReq request, Map<String, String> extra)
      throws Exception {
    Map<String, String> settings = new HashMap<>(Map.of(
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(work).toString(),
        "MANAGER_QEMU_OVMF_VARS_FILE", varsFile.toString(),
        "MANAGER_QEMU_START_PAUSED", "true"));
    settings.putAll(extra);
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(1), settings)) {
      long free = Files.getFileStore(stateDir).getUsableSpace();
      Path filler = Files.write(stateDir.resolve("filler"), new byte[Math.toIntExact(free - (long) pages * PAGE)]);
      assertEquals((long) pages * PAGE, Files.getFileStore(stateDir).getUsableSpace(), "room left");
      UnaryCall.Result<?> result = manager.create(request);
      manager.assertNothingLeft();
      Files.delete(filler);
      return result;
    }
  }

  private void assertExhausted(UnaryCall.Result<?> result, String file) {
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, result.status(), "status; message: " + result.message());
    for (String part : new String[] {"no space left in the state dir " + stateDir, "writing " + file}) {
      assertTrue(result.message().contains(part), "message \"" + result.message() + "\" lacks " + part);
    }
  }

  @Test
  void noRoomForTheOvmfVarsCopyBlamesTheCopyNotItsSource() throws Exception {
    assertExhausted(createWithRoomFor(0, CreateReq.getDefaultInstance(), Map.of()),
        "OVMF_VARS.fd (copy of MANAGER_QEMU_OVMF_VARS_FILE)");
  }

  @Test
  void noRoomForACertificate() throws Exception {
    CreateReq withCert = CreateReq.newBuilder()
        .setAgentCvmServerCaCert(ByteString.copyFromUtf8("-----BEGIN CERTIFICATE-----\n")).build();
    assertExhausted(createWithRoomFor(VARS_PAGES, withCert, Map.of()), "certs/ca.pem");
  }

  @Test
  void noRoomForTheEnvironmentFile() throws Exception {
    assertExhausted(createWithRoomFor(VARS_PAGES, CreateReq.getDefaultInstance(), Map.of()),
        "env/environment");
  }

  @Test
  void noRoomForTheDiskMadeByQemuImg() throws Exception {
    assertExhausted(createWithRoomFor(VARS_PAGES + 1, CreateReq.getDefaultInstance(),
        Map.of("MANAGER_QEMU_ENABLE_DISK", "true")), "disk.qcow2");
  }

  @Test
  void noRoomForStateJson() throws Exception {
    assertExhausted(createWithRoomFor(VARS_PAGES + 1, CreateReq.getDefaultInstance(), Map.of()),
        "state.json");
  }

  /**
   * Room for state.json's first write and {@code pages} more once QEMU is spawned: QEMU's pid file and console (the
   * fake writes a line to it) and the state.json write after the spawn share what is left. With none, whichever
   * comes first fails; with one, the state.json write (temp file, rename) fits and QEMU's second file does not, or
   * QEMU's first file takes the page and the state.json write fails. Every order is the full state dir.
   */
  @Test
  void noRoomOnceQemuIsSpawnedIsResourceExhaustedToo() throws Exception {
    for (int pages = 0; pages <= 1; pages++) {
      UnaryCall.Result<?> result = createWithRoomFor(VARS_PAGES + 2 + pages,
          CreateReq.getDefaultInstance(), Map.of());
      assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, result.status(), "status; message: " + result.message());
      assertTrue(result.message().contains(stateDir.toString()), result.message());
      assertTrue(result.message().toLowerCase(java.util.Locale.ROOT).contains("no space left"), result.message());
    }
  }

  @Test
  void aMissingOvmfVarsSourceStaysFailedPreconditionNamingTheVariable() throws Exception {
    Files.delete(varsFile);
    UnaryCall.Result<?> result = createWithRoomFor(64, CreateReq.getDefaultInstance(), Map.of());
    assertEquals(GrpcStatus.FAILED_PRECONDITION, result.status(), "status; message: " + result.message());
    assertTrue(result.message().contains("MANAGER_QEMU_OVMF_VARS_FILE " + varsFile), result.message());
  }
}
