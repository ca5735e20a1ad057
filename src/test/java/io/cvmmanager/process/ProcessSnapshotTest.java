package io.cvmmanager.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProcessSnapshotTest {
  /** A stat line of a zombie killed by SIGKILL (wait status 9), its name holding ") (" to trip naive parsers. */
  private static final String ZOMBIE = "3912 (a) (b c) Z 1 3912 3912 0 -1 4228108 209 0 0 0 0 0 0 0 20 0 1 0 "
      + "123456 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 9";

  @Test
  void parsesStateStartTimeAndTheExitOfAZombie() {
    ProcessSnapshot snapshot = ProcessSnapshot.parse(3912, ZOMBIE, Buffer.buffer("qemu\0-name\0cvm-x\0"));
    assertEquals('Z', snapshot.state());
    assertTrue(snapshot.isZombie());
    assertEquals(123456, snapshot.startTime());
    assertEquals(List.of("qemu", "-name", "cvm-x"), snapshot.commandLine());
    assertEquals(Optional.of(new ExitStatus(0, 9)), snapshot.exit());
  }

  @Test
  void identifiesALiveProcessAndNotAfterItIsGone() throws Exception {
    Vertx vertx = Vertx.vertx();
    Process sleep = new ProcessBuilder("sleep", "60").start();
    try {
      ProcessSnapshot live = ProcessSnapshot.read(vertx, sleep.pid()).await().orElseThrow();
      assertEquals(List.of("sleep", "60"), live.commandLine());
      assertFalse(live.isZombie());
      assertTrue(live.isSameProcess(sleep.pid(), live.startTime(), List.of("sleep", "60")));
      assertFalse(live.isSameProcess(sleep.pid(), live.startTime() + 1, List.of("sleep", "60")));
      assertFalse(live.isSameProcess(sleep.pid(), live.startTime(), List.of("sleep", "61")));
      assertEquals(live.startTime(), ProcessSnapshot.readStat(vertx, sleep.pid()).await().orElseThrow().startTime());
    } finally {
      sleep.destroyForcibly();
      sleep.waitFor(10, TimeUnit.SECONDS);
      assertEquals(Optional.empty(), ProcessSnapshot.read(vertx, sleep.pid()).await());
      vertx.close().await();
    }
  }
}
