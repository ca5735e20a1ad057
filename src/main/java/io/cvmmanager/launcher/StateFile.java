package io.cvmmanager.launcher;

import io.cvmmanager.error.NoSpaceLeft;
import io.cvmmanager.qemu.VmPaths;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a VM's {@code state.json} so that a crash at any moment leaves either the old file or the new one, never
 * a torn one: a temp file beside it, fsync, rename over it, fsync the directory (so the rename itself survives a
 * power cut). fsync has no asynchronous API, hence one executeBlocking job per write, unordered across VMs so many
 * VMs' writes run at once; the launcher chains each VM's writes so they land in order. A full disk fails the write
 * with RESOURCE_EXHAUSTED naming the state dir.
 */
public final class StateFile {
  private StateFile() {}

  static Future<Void> write(Vertx vertx, VmPaths paths, VmRecord record) {
    return vertx.executeBlocking(() -> {
      // Encoded here, on the worker: the record is immutable, and its command line (a long kernel command line,
      // certificates' host data) makes the text large enough to be worth keeping off the event loop.
      byte[] bytes = record.toJson().encodePrettily().getBytes(StandardCharsets.UTF_8);
      try {
        writeAtomically(paths.stateFile(), bytes);
      } catch (IOException e) {
        if (NoSpaceLeft.in(e)) {
          throw NoSpaceLeft.writing(paths.stateDir(), "state.json", record.id());
        }
        throw e;
      }
      return null;
    }, false);
  }

  public static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    } catch (IOException e) {
      throw deleting(temp, e);
    }
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw deleting(temp, e);
    }
    try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  /**
   * {@code failure}, once the torn temp file is gone: it is no use to anyone, and on a full disk it holds space a
   * retry needs. A failed delete is kept with it, never in its place (ENOSPC must stay what is reported).
   */
  private static IOException deleting(Path temp, IOException failure) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
    return failure;
  }
}
