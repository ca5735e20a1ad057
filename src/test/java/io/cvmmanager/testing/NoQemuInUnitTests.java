package io.cvmmanager.testing;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class named {@code *Test} that started real QEMU ({@code qemu-system-*} or {@code qemu-img}): a
 * {@code *Test} runs in surefire and starts none; tests that need QEMU are {@code *IT} (README "Testing"). Registered
 * for every test by JUnit's extension autodetection (META-INF/services, junit-platform.properties); what it sees and
 * what it can miss: {@link QemuSpawnWatch}.
 */
public final class NoQemuInUnitTests implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(NoQemuInUnitTests.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    // Another class opens a window only inside a *Test's (a class the test runs), to keep its QEMUs off that *Test.
    if (isUnitTest(context) || QemuSpawnWatch.anyOpen()) {
      context.getStore(NAMESPACE).put(QemuSpawnWatch.Window.class, QemuSpawnWatch.open());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    QemuSpawnWatch.Window window = context.getStore(NAMESPACE).remove(QemuSpawnWatch.Window.class,
        QemuSpawnWatch.Window.class);
    if (window == null) {
      return;
    }
    List<QemuProcesses.Spawn> spawned = QemuSpawnWatch.close(window);
    if (isUnitTest(context) && !spawned.isEmpty()) {
      throw new AssertionError(context.getRequiredTestClass().getName() + " is a *Test but started real QEMU "
          + spawned + ": a *Test starts none (use testing.FakeQemu), or make it an *IT");
    }
  }

  private static boolean isUnitTest(ExtensionContext context) {
    return context.getRequiredTestClass().getSimpleName().endsWith("Test");
  }
}
