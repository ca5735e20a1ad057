package io.cvmmanager.error;

import java.nio.file.Path;
import java.util.List;

/**
 * A full file system (ENOSPC, or a quota's EDQUOT) where a create writes: the host's resources are exhausted, not
 * the request wrong nor the manager broken, and the operator needs to know which directory filled up. The JDK
 * reports both only as the C library's message, so that is what is recognised, in an exception or a tool's stderr.
 */
public final class NoSpaceLeft {
  private static final List<String> MESSAGES = List.of("No space left on device", "Disk quota exceeded");

  private NoSpaceLeft() {}

  /** Whether {@code error} or one of its causes is the file system's "no space left". */
  public static boolean in(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (in(e.getMessage())) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code text} (an exception's message, a tool's stderr) says "no space left". */
  public static boolean in(String text) {
    return text != null && MESSAGES.stream().anyMatch(text::contains);
  }

  /** RESOURCE_EXHAUSTED: the state dir that is full, and what of which VM was being written. */
  public static ManagerException writing(Path stateDir, String what, String vmId) {
    return new ManagerException(ErrorKind.RESOURCE_EXHAUSTED,
        "no space left in the state dir " + stateDir + " writing " + what + " of VM " + vmId);
  }
}
