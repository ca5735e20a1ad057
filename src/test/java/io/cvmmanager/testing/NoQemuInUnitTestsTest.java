package io.cvmmanager.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * {@link NoQemuInUnitTests}, run by JUnit's EngineTestKit on the small classes below (each as its own test run, the
 * extension found by autodetection as in the build): a *Test that starts qemu-img fails, however short the run and
 * however qemu-img is found; an *IT that does, and a *Test that runs other programs, pass.
 */
class NoQemuInUnitTestsTest {
  /** The qemu-img that {@link LeavesQemuImgRunningTest} leaves, ended after each test. */
  private static Process left;

  @AfterEach
  void endTheQemuImgLeft() throws InterruptedException {
    if (left != null) {
      left.destroyForcibly().waitFor();
      left = null;
    }
  }

  /** The real qemu-img, by its absolute path: past the tripwire, which only PATH look-ups meet. */
  private static Path realQemuImg() {
    String tripwire = System.getProperty("qemu.tripwire", "");
    return Stream.of(System.getenv("PATH").split(":")).filter(dir -> !dir.isEmpty() && !dir.equals(tripwire))
        .map(dir -> Path.of(dir, "qemu-img")).filter(Files::isExecutable).findFirst()
        .orElseThrow(() -> new AssertionError("no qemu-img on PATH (Debian package qemu-utils)"));
  }

  /** qemu-img, by its absolute path, blocked opening the FIFO {@code fifo} until a writer opens it. */
  private static Process qemuImgBlockedOn(Path fifo) throws IOException, InterruptedException {
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo");
    Process qemuImg = new ProcessBuilder(realQemuImg().toString(), "info", fifo.toString())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Path comm = Path.of("/proc", String.valueOf(qemuImg.pid()), "comm");
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(comm).strip().equals("qemu-img"));
    return qemuImg;
  }

  private static void runQemuImgVersionByName() throws Exception {
    Process version = new ProcessBuilder("qemu-img", "--version").redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    assertEquals(0, version.waitFor());
  }

  static class RunsQemuImgTest {
    @Test
    void runsQemuImgVersion() throws Exception {
      runQemuImgVersionByName();
    }
  }

  static class RunsQemuImgIT {
    @Test
    void runsQemuImgVersion() throws Exception {
      runQemuImgVersionByName();
    }
  }

  static class LeavesQemuImgRunningTest {
    @Test
    void leavesQemuImgRunning(@TempDir Path dir) throws Exception {
      left = qemuImgBlockedOn(dir.resolve("fifo"));
    }
  }

  static class RunsAShortQemuImgByItsPathTest {
    @Test
    void runsQemuImgUntilItEnds(@TempDir Path dir) throws Exception {
      Path fifo = dir.resolve("fifo");
      Process qemuImg = qemuImgBlockedOn(fifo);
      long samples = QemuSpawnWatch.samples();
      // Two samples after its exec: one of them ran while it did.
      await().atMost(Duration.ofSeconds(10)).until(() -> QemuSpawnWatch.samples() >= samples + 2);
      Files.newOutputStream(fifo).close();
      assertEquals(1, qemuImg.waitFor(), "qemu-img refuses a FIFO once it opens it");
    }
  }

  static class RunsOtherProgramsTest {
    @Test
    void runsAShellThatNamesQemuImg() throws Exception {
      assertEquals(0, new ProcessBuilder("sh", "-c", ": qemu-img --version").start().waitFor());
    }
  }

  private static EngineExecutionResults run(Class<?> testClass) {
    // Implicit parameters: junit-platform.properties, whose autodetection registers the extension, as in the build.
    return EngineTestKit.engine("junit-jupiter").enableImplicitConfigurationParameters(true)
        .selectors(selectClass(testClass)).execute();
  }

  /** The failure of {@code testClass} as a class (its tests themselves pass). */
  private static Throwable classFailure(Class<?> testClass) {
    EngineExecutionResults results = run(testClass);
    results.testEvents().assertStatistics(stats -> stats.succeeded(1).failed(0));
    List<Event> failed = results.containerEvents().failed().list();
    assertEquals(1, failed.size(), "failed containers: " + failed);
    return failed.get(0).getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable)
        .orElseThrow();
  }

  private static void assertPasses(Class<?> testClass) {
    EngineExecutionResults results = run(testClass);
    results.testEvents().assertStatistics(stats -> stats.succeeded(1).failed(0));
    results.containerEvents().assertStatistics(stats -> stats.failed(0));
  }

  @Test
  void aTestThatRunsQemuImgVersionFails() {
    assertTrue(QemuSpawnWatch.tripwireSetUp(), "run by the build: pom.xml's surefire puts the tripwire on PATH");
    Throwable failure = classFailure(RunsQemuImgTest.class);
    assertTrue(failure.getMessage().contains(RunsQemuImgTest.class.getName() + " is a *Test but started real QEMU")
        && failure.getMessage().contains("qemu-img --version"), failure.getMessage());
  }

  @Test
  void aTestThatLeavesQemuImgRunningFails() {
    Throwable failure = classFailure(LeavesQemuImgRunningTest.class);
    assertTrue(failure.getMessage().contains("info") && failure.getMessage().contains("(pid " + left.pid() + ")"),
        failure.getMessage());
  }

  @Test
  void aTestWhoseQemuImgRunByItsPathEndedIsCaughtBySampling() {
    Throwable failure = classFailure(RunsAShortQemuImgByItsPathTest.class);
    assertTrue(failure.getMessage().contains(realQemuImg() + " info"), failure.getMessage());
  }

  @Test
  void anItMayRunQemuImgAndATestOtherPrograms() {
    assertPasses(RunsQemuImgIT.class);
    assertPasses(RunsOtherProgramsTest.class);
  }

  @Test
  void qemuIsKnownByItsProgramNames() {
    assertTrue(QemuProcesses.isQemu("qemu-system-x86"), "comm of qemu-system-x86_64, cut at 15 bytes");
    assertTrue(QemuProcesses.isQemu("qemu-system-aarch64"));
    assertTrue(QemuProcesses.isQemu("qemu-img"));
    assertFalse(QemuProcesses.isQemu("python3"), "the fake QEMU");
    assertFalse(QemuProcesses.isQemu("qemu-standin-fo"), "the SEV-SNP stand-in's comm");
  }
}
