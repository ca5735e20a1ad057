package io.cvmmanager.attestation;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.process.ChildProcess;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The SEV-SNP launch measurement of an IGVM file: {@code <igvmmeasure> <file> measure -b}, whose one line of output is
 * the 48-byte digest in hex. Cached per version of the file ({@link FileVersion}: absolute path, size, modification
 * time, file key (device and inode) and status-change time), one version per path; the tool is not in the key, so
 * a replaced igvmmeasure does not measure a known version again. While the tool runs for a version, every other
 * request for it waits on the same run; a failed run is not kept. Used from one Vert.x context (its verticle's), so the
 * cache needs no lock; the file and tool checks run as one blocking job (no async API gives permissions).
 */
public final class LaunchMeasurement {
  public static final int DIGEST_BYTES = 48;
  static final String TOOL = "igvmmeasure";
  private static final Pattern DIGEST = Pattern.compile("[0-9a-fA-F]{" + DIGEST_BYTES * 2 + "}");
  private static final int MESSAGE_OUTPUT_LIMIT = 2000;

  /**
   * One version of an IGVM file; a new one (rebuilt, replaced, touched) is measured again. The inode and the
   * status-change time catch a replacement that keeps size and modification time ({@code cp -p}, {@code rsync -t},
   * a reproducible build with a fixed mtime).
   */
  record FileVersion(Path path, long size, FileTime modified, Object fileKey, Object changed) {}

  private record Probe(Path tool, FileVersion version) {}

  private final Context context;
  private final String binarySetting;
  private final Duration timeout;
  private final Map<FileVersion, Future<byte[]>> cache = new HashMap<>();

  /**
   * @param binarySetting MANAGER_IGVMMEASURE_BINARY as resolved by the config: the tool, or a directory holding it
   * @param timeout how long one run may take before it is killed and the request fails
   */
  public LaunchMeasurement(Context context, String binarySetting, Duration timeout) {
    this.context = context;
    this.binarySetting = binarySetting;
    this.timeout = timeout;
  }

  /** The 48-byte measurement of {@code igvmFile}, from the cache when this version of the file was measured. */
  public Future<byte[]> of(Path igvmFile) {
    return context.<Probe>executeBlocking(() -> probe(igvmFile), false)
        .compose(probe -> {
          Future<byte[]> known = cache.get(probe.version());
          if (known != null) {
            return known;
          }
          cache.keySet().removeIf(version -> version.path().equals(probe.version().path()));
          Future<byte[]> measured = run(probe.tool(), probe.version().path());
          cache.put(probe.version(), measured);
          // A failed run is not remembered: the next request tries again (the tool may have been fixed).
          measured.onFailure(e -> cache.remove(probe.version(), measured));
          return measured;
        });
  }

  private Probe probe(Path igvmFile) {
    Path setting = Path.of(binarySetting);
    Path tool = (Files.isDirectory(setting) ? setting.resolve(TOOL) : setting).toAbsolutePath();
    if (!Files.isRegularFile(tool) || !Files.isExecutable(tool)) {
      throw new ManagerException(ErrorKind.FAILED_PRECONDITION, "cannot measure the IGVM file: " + tool
          + " is missing or not executable (MANAGER_IGVMMEASURE_BINARY=" + binarySetting + ")");
    }
    Path file = igvmFile.toAbsolutePath();
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      if (!attributes.isRegularFile()) {
        throw new NoSuchFileException(file.toString());
      }
      return new Probe(tool, new FileVersion(file, attributes.size(), attributes.lastModifiedTime(),
          attributes.fileKey(), Files.getAttribute(file, "unix:ctime")));
    } catch (IOException e) {
      throw new ManagerException(ErrorKind.FAILED_PRECONDITION, "cannot measure the IGVM file: " + file
          + " is missing or not a regular file (MANAGER_QEMU_IGVM_FILE)");
    }
  }

  private Future<byte[]> run(Path tool, Path igvmFile) {
    List<String> stdout = new ArrayList<>();
    List<String> stderr = new ArrayList<>();
    List<String> command = List.of(tool.toString(), igvmFile.toString(), "measure", "-b");
    return ChildProcess.start(context, command, null, stdout::add, stderr::add)
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
            "cannot run " + tool + ": " + e.getMessage())))
        .compose(process -> exitWithin(process, tool))
        .map(code -> digest(tool, code, stdout, stderr));
  }

  private Future<Integer> exitWithin(ChildProcess process, Path tool) {
    // The exit future never fails: a failure here is the timeout.
    return process.exit().timeout(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS).recover(e -> {
      process.signal(true);
      return Future.failedFuture(new ManagerException(ErrorKind.INTERNAL, tool + " did not finish within "
          + timeout.toMillis() + " ms; killed"));
    });
  }

  /** The digest, if the tool did what it must: exit 0, one line, 96 hex characters. */
  static byte[] digest(Path tool, int exitCode, List<String> stdout, List<String> stderr) {
    String errors = stderr.isEmpty() ? "no stderr" : "stderr: " + limit(String.join(" | ", stderr));
    if (exitCode != 0) {
      throw new ManagerException(ErrorKind.INTERNAL, tool + " failed (exit code " + exitCode + "); " + errors);
    }
    if (stdout.size() != 1) {
      throw new ManagerException(ErrorKind.INTERNAL, tool + " printed " + stdout.size()
          + " lines, want one line of " + DIGEST_BYTES * 2 + " hex characters; " + errors);
    }
    String line = stdout.get(0);
    if (!DIGEST.matcher(line).matches()) {
      throw new ManagerException(ErrorKind.INTERNAL, tool + " printed \"" + limit(line) + "\" (" + line.length()
          + " characters), want " + DIGEST_BYTES * 2 + " hex characters (a " + DIGEST_BYTES + "-byte digest); "
          + errors);
    }
    return HexFormat.of().parseHex(line);
  }

  private static String limit(String text) {
    return text.length() <= MESSAGE_OUTPUT_LIMIT ? text : text.substring(0, MESSAGE_OUTPUT_LIMIT) + "…";
  }
}
