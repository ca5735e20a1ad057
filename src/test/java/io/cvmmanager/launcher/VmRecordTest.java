package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.resources.Claim;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmRecordTest {
  private static final VmRecord RECORD = new VmRecord("0b4c7a3e-7d7e-4b7c-9f0e-2a1d7c1f9e11", VmState.RUNNING,
      Instant.parse("2026-11-28T12:00:00Z"), Instant.parse("2026-11-28T12:00:01Z"), Tee.SEV_SNP, true, false,
      "quiet", Optional.of(Instant.parse("2026-11-28T13:00:00Z")), 6100, 4321, 987654,
      List.of("qemu-system-x86_64", "-name", "cvm-x"), List.of("/state/vms/x/state.json"),
      new LaunchConfig("instance", "qemu-system-x86_64", Optional.of(true), "q35", "EPYC", true, "2048M", 4, "disk",
          "SEV_SNP", false, 7002, "v0.10.2", false), Optional.of("q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k="),
      Optional.of("ab".repeat(48)),
      new Claim("0b4c7a3e-7d7e-4b7c-9f0e-2a1d7c1f9e11", 2L << 30, 4, Tee.SEV_SNP, Optional.of("0000:01:00.0"),
          3L << 30));

  @Test
  void survivesAWriteAndARead() {
    VmRecord back = VmRecord.parse(RECORD.toJson().encodePrettily());
    assertEquals(RECORD.toJson(), back.toJson());
    assertEquals(RECORD.ttlDeadline(), back.ttlDeadline());
  }

  @Test
  void keepsWhatTheVmHoldsOfTheHost() {
    JsonObject json = RECORD.toJson();
    assertEquals(2, json.getInteger("format"));
    assertEquals(new JsonObject().put("memoryBytes", 2L << 30).put("vcpus", 4).put("diskBytes", 3L << 30)
        .put("gpu", "0000:01:00.0"), json.getJsonObject("resources"));
    assertEquals(RECORD.claim(), VmRecord.parse(json.encode()).claim());
  }

  /** Placed on NUMA nodes, the record keeps the placement, and a record without one (older, or one node) has none. */
  @Test
  void keepsItsNumaPlacement() {
    assertEquals(Placement.NONE, RECORD.claim().placement());
    assertFalse(RECORD.toJson().getJsonObject("resources").containsKey("placement"));
    Placement spread = new Placement(Placement.Plan.SPREAD, List.of(new Placement.Share(1, 1L << 30),
        new Placement.Share(0, 1L << 30)));
    JsonObject json = RECORD.toJson();
    json.getJsonObject("resources").put("placement", spread.toJson());
    VmRecord back = VmRecord.parse(json.encode());
    assertEquals(spread, back.claim().placement());
    assertEquals(json, back.toJson());
  }

  /** A record written before format 2 holds no resources: they are read from the QEMU command line it recorded. */
  @Test
  void aFormatOneRecordHoldsWhatItsCommandLineSays() {
    JsonObject old = RECORD.toJson().put("format", 1);
    old.remove("resources");
    old.put("command", new JsonArray(List.of("qemu-system-x86_64", "-smp", "4,maxcpus=64", "-m",
        "2048M,slots=5,maxmem=30G", "-device", "vfio-pci,host=0000:41:00.0,bus=pcie.1", "-name", "cvm-x")));
    Claim claim = VmRecord.parse(old.encode()).claim();
    assertEquals(new Claim(RECORD.id(), 2048L << 20, 4, Tee.SEV_SNP, Optional.of("0000:41:00.0"), 0), claim);
    old.put("command", new JsonArray(List.of("qemu-system-x86_64", "-m", "size=1G", "-smp", "2")));
    assertEquals(new Claim(RECORD.id(), 1L << 30, 2, Tee.SEV_SNP, Optional.empty(), 0),
        VmRecord.parse(old.encode()).claim());
    old.put("command", new JsonArray(List.of("qemu-system-x86_64", "-m")));
    assertEquals(new Claim(RECORD.id(), 0, 0, Tee.SEV_SNP, Optional.empty(), 0), VmRecord.parse(old.encode()).claim(),
        "a command line without sizes holds nothing it does not say");
  }

  @Test
  void truncatedEmptyAndForeignFilesAreRefusedWithTheReason() {
    String full = RECORD.toJson().encode();
    assertTrue(assertThrows(IllegalArgumentException.class, () -> VmRecord.parse(full.substring(0, full.length() / 2)))
        .getMessage().contains("not a JSON object"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> VmRecord.parse("")).getMessage().contains("empty"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> VmRecord.parse(RECORD.toJson().put("format", 7).encode())).getMessage().contains("format 7"));
    JsonObject noId = RECORD.toJson();
    noId.remove("id");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> VmRecord.parse(noId.encode())).getMessage()
        .contains("no \"id\""));
    assertThrows(IllegalArgumentException.class, () -> VmRecord.parse(RECORD.toJson().put("state", "DANCING")
        .encode()));
    assertThrows(IllegalArgumentException.class, () -> VmRecord.parse(RECORD.toJson().put("pid", "many")
        .encode()));
  }

  @Test
  void stateFileIsReplacedWholeAndPrivate(@TempDir Path dir) throws Exception {
    Path target = dir.resolve("state.json");
    Files.writeString(target, "old");
    StateFile.writeAtomically(target, RECORD.toJson().encode().getBytes(StandardCharsets.UTF_8));
    assertEquals(RECORD.toJson(), new JsonObject(Files.readString(target)));
    assertEquals(List.of(target), Files.list(dir).toList(), "no temp file left");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
        dir.resolve("state.json"))));
  }
}
