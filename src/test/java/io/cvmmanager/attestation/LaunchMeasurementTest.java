package io.cvmmanager.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * igvmmeasure through NuProcess, with the stand-in tool of src/test/resources/attestation (it prints the SHA-384 of
 * the file and counts its runs in {@code <file>.runs}) and small shell scripts for each way a tool can misbehave.
 */
class LaunchMeasurementTest {
  static final Path STANDIN = Path.of("src/test/resources/attestation/igvmmeasure-standin.py").toAbsolutePath();

  @TempDir Path dir;
  private Vertx vertx;
  private Context context;
  private Path igvm;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    igvm = dir.resolve("coconut-qemu.igvm");
    Files.writeString(igvm, "an IGVM file, version 1");
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private LaunchMeasurement measurement(String tool) {
    return measurement(tool, Duration.ofSeconds(30));
  }

  private LaunchMeasurement measurement(String tool, Duration timeout) {
    return new LaunchMeasurement(context, tool, timeout);
  }

  /** {@code count} requests issued together on the measurement's context. */
  private List<Future<byte[]>> measure(LaunchMeasurement measurement, int count) {
    Promise<List<Future<byte[]>>> issued = Promise.promise();
    context.runOnContext(v -> {
      List<Future<byte[]>> all = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        all.add(measurement.of(igvm));
      }
      issued.complete(all);
    });
    List<Future<byte[]>> all = issued.future().await();
    Future.join(all).otherwiseEmpty().await();
    return all;
  }

  private byte[] measureOnce(LaunchMeasurement measurement) {
    return measure(measurement, 1).get(0).await();
  }

  private ManagerException failure(LaunchMeasurement measurement) {
    Future<byte[]> result = measure(measurement, 1).get(0);
    assertTrue(result.failed(), "expected a failure");
    return (ManagerException) result.cause();
  }

  /** The tool's failure, of {@code kind}, whose message holds each of {@code fragments}. */
  private void assertFails(String tool, ErrorKind kind, String... fragments) {
    ManagerException e = failure(measurement(tool));
    assertEquals(kind, e.kind(), e.getMessage());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "no \"" + fragment + "\" in: " + e.getMessage());
    }
  }

  private int runs() throws IOException {
    Path counter = Path.of(igvm + ".runs");
    return Files.exists(counter) ? Files.readAllLines(counter).size() : 0;
  }

  private static byte[] sha384(Path file) throws Exception {
    return MessageDigest.getInstance("SHA-384").digest(Files.readAllBytes(file));
  }

  private Path script(String name, String body) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  @Test
  void measuresWithTheToolsOneLineOfHex() throws Exception {
    byte[] digest = measureOnce(measurement(STANDIN.toString()));
    assertEquals(LaunchMeasurement.DIGEST_BYTES, digest.length);
    assertArrayEquals(sha384(igvm), digest);
  }

  @Test
  void aCacheHitDoesNotRunTheToolAgain() throws Exception {
    LaunchMeasurement measurement = measurement(STANDIN.toString());
    byte[] first = measureOnce(measurement);
    byte[] second = measureOnce(measurement);
    assertArrayEquals(first, second);
    assertEquals(1, runs());
  }

  @Test
  void concurrentRequestsForOneFileRunTheToolOnce() throws Exception {
    List<Future<byte[]>> all = measure(measurement(STANDIN.toString()), 20);
    for (Future<byte[]> one : all) {
      assertArrayEquals(sha384(igvm), one.result());
    }
    assertEquals(1, runs());
  }

  @Test
  void aChangedModificationTimeRunsTheToolAgain() throws Exception {
    LaunchMeasurement measurement = measurement(STANDIN.toString());
    measureOnce(measurement);
    Files.setLastModifiedTime(igvm, FileTime.fromMillis(Files.getLastModifiedTime(igvm).toMillis() + 10_000));
    assertArrayEquals(sha384(igvm), measureOnce(measurement));
    assertEquals(2, runs());
  }

  @Test
  void aNewVersionOfTheFileGetsItsNewMeasurement() throws Exception {
    LaunchMeasurement measurement = measurement(STANDIN.toString());
    byte[] before = measureOnce(measurement);
    Files.writeString(igvm, "an IGVM file, version 2, longer");
    byte[] after = measureOnce(measurement);
    assertArrayEquals(sha384(igvm), after);
    assertFalse(java.util.Arrays.equals(before, after));
  }

  @Test
  void aReplacementKeepingSizeAndModificationTimeIsMeasuredAgain() throws Exception {
    LaunchMeasurement measurement = measurement(STANDIN.toString());
    String original = Files.readString(igvm);
    byte[] before = measureOnce(measurement);
    // As cp -p or rsync -t would put a rebuilt file of the same size in place: a new inode, the old mtime.
    java.nio.file.attribute.FileTime mtime = Files.getLastModifiedTime(igvm);
    Path replacement = dir.resolve("replacement.igvm");
    Files.writeString(replacement, original.toUpperCase(java.util.Locale.ROOT));
    Files.setLastModifiedTime(replacement, mtime);
    Files.move(replacement, igvm, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertEquals(mtime, Files.getLastModifiedTime(igvm));
    byte[] after = measureOnce(measurement);
    assertArrayEquals(sha384(igvm), after);
    assertFalse(java.util.Arrays.equals(before, after));
  }

  @Test
  void aDirectoryHoldingIgvmmeasureNamesTheTool() throws Exception {
    Path tools = Files.createDirectories(dir.resolve("bin"));
    Files.createSymbolicLink(tools.resolve("igvmmeasure"), STANDIN);
    assertArrayEquals(sha384(igvm), measureOnce(measurement(tools.toString())));
  }

  @Test
  void aMissingToolIsAFailedPreconditionNamingIt() {
    Path missing = dir.resolve("nowhere/igvmmeasure");
    assertFails(missing.toString(), ErrorKind.FAILED_PRECONDITION, missing + " is missing or not executable",
        "MANAGER_IGVMMEASURE_BINARY");
  }

  @Test
  void aToolThatIsNotExecutableIsAFailedPrecondition() throws IOException {
    Path tool = script("igvmmeasure", "echo never");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rw-r--r--"));
    assertFails(tool.toString(), ErrorKind.FAILED_PRECONDITION, tool.toString());
  }

  @Test
  void aMissingIgvmFileIsAFailedPreconditionNamingIt() throws IOException {
    Files.delete(igvm);
    assertFails(STANDIN.toString(), ErrorKind.FAILED_PRECONDITION, igvm.toString(), "MANAGER_QEMU_IGVM_FILE");
  }

  /** A tool that misbehaves: what it does (a shell script body), and what the error must say. */
  static Stream<Arguments> badTools() {
    return Stream.of(
        Arguments.of("95 hex characters", "echo " + "a".repeat(95) + "; echo 'measured with quirks' >&2",
            List.of("95 characters", "stderr: measured with quirks")),
        Arguments.of("two lines", "echo " + "a".repeat(96) + "; echo " + "b".repeat(96),
            List.of("printed 2 lines")),
        Arguments.of("not hex", "echo " + "g".repeat(96), List.of("want 96 hex characters")),
        Arguments.of("non-zero exit", "echo " + "a".repeat(96) + "; echo 'igvm: bad header at 0x40' >&2; exit 3",
            List.of("exit code 3", "stderr: igvm: bad header at 0x40")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badTools")
  void badOutputIsAnInternalErrorCarryingTheToolsStderr(String what, String body, List<String> fragments)
      throws IOException {
    Path tool = script("igvmmeasure", body);
    assertFails(tool.toString(), ErrorKind.INTERNAL, fragments.toArray(String[]::new));
  }

  @Test
  void aFailedRunIsNotCached() throws Exception {
    Path tool = script("igvmmeasure", "echo 'not yet' >&2; exit 1");
    LaunchMeasurement measurement = measurement(tool.toString());
    assertEquals(ErrorKind.INTERNAL, failure(measurement).kind());
    Files.delete(tool);
    Files.createSymbolicLink(tool, STANDIN);
    assertArrayEquals(sha384(igvm), measureOnce(measurement));
  }

  @Test
  void aToolThatHangsIsKilledAfterTheTimeout() throws IOException {
    Path tool = script("hangs", "exec sleep 30");
    ManagerException e = failure(measurement(tool.toString(), Duration.ofMillis(300)));
    assertEquals(ErrorKind.INTERNAL, e.kind());
    assertTrue(e.getMessage().contains("did not finish"), e.getMessage());
  }
}
