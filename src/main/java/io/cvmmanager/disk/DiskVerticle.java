package io.cvmmanager.disk;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.DiskNeed;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.config.DiskClone;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.error.NoSpaceLeft;
import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.vm.VmFilesRequest;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.file.FileSystem;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns every per-VM file: the directory {@code <state dir>/vms/<id>/} (0700), the OVMF_VARS copy, the certs and
 * env directories handed to the guest over 9p (files 0600), and in disk mode the VM's disk, made from the reference
 * image with {@code qemu-img} (through NuProcess, never blocking). Release deletes the directory, and only ever a
 * UUID-named directory under {@code vms/}.
 */
public final class DiskVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DiskVerticle.class);
  private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final FileAttribute<Set<PosixFilePermission>> DIR_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  private final Path stateDir;
  private final QemuConfig qemu;
  private FileSystem fs;
  /** The disk need last read, and the reference file's version (modified time and size) it was read of. */
  private KnownNeed needKnown;

  private record KnownNeed(String version, DiskNeed need) {}

  public DiskVerticle(Path stateDir, QemuConfig qemu) {
    this.stateDir = stateDir;
    this.qemu = qemu;
  }

  @Override
  public Future<?> start() {
    fs = vertx.fileSystem();
    Bus bus = Bus.of(vertx);
    bus.serve(Addresses.FILES_PREPARE, this::prepare);
    bus.serve(Addresses.FILES_RELEASE, this::release);
    bus.serve(Addresses.FILES_DISK_NEED, query -> diskNeed());
    return Future.succeededFuture();
  }

  public static boolean isVmId(String id) {
    return id != null && UUID.matcher(id).matches();
  }

  private Future<Nothing> prepare(VmFilesRequest request) {
    if (!isVmId(request.id())) {
      return Future.failedFuture(notAVmId(request.id()));
    }
    VmPaths paths = VmPaths.of(stateDir, request.id());
    // One worker job for the small files rather than a dozen async file-system calls, each a hop to a worker and
    // back: CreateVm's latency is what a user waits for (see bench/README.md).
    return vertx.executeBlocking(() -> {
          writeSmallFiles(paths, request);
          return null;
        }, false)
        .compose(v -> request.disk() ? makeDisk(request.id(), paths) : Future.succeededFuture())
        .map(Nothing.INSTANCE)
        .recover(e -> {
          LOG.warn("vm {}: preparing files failed: {}", request.id(), e.getMessage());
          // Nothing half-made stays behind: the launcher also releases, but it may not know the dir exists.
          return deleteDir(request.id()).transform(ignored -> Future.failedFuture(e));
        });
  }

  /**
   * The VM directory (0700), its OVMF_VARS copy, and the certs and env directories (0700) and files (0600). A
   * source that cannot be read is FAILED_PRECONDITION naming its variable; a full state dir is RESOURCE_EXHAUSTED
   * naming the file being written.
   */
  private void writeSmallFiles(VmPaths paths, VmFilesRequest request) throws IOException {
    String id = request.id();
    writing(id, "the VM directory", () -> Files.createDirectory(paths.dir(), DIR_MODE));
    if (request.ovmfVars()) {
      byte[] vars = readOvmfVars();
      writing(id, "OVMF_VARS.fd (copy of MANAGER_QEMU_OVMF_VARS_FILE)", () -> writeNew(paths.ovmfVars(), vars));
    }
    writing(id, "certs/", () -> Files.createDirectory(paths.certs(), DIR_MODE));
    for (Map.Entry<String, byte[]> file : request.certs().entrySet()) {
      writing(id, "certs/" + file.getKey(), () -> writeNew(paths.certs().resolve(file.getKey()), file.getValue()));
    }
    writing(id, "env/", () -> Files.createDirectory(paths.env(), DIR_MODE));
    writing(id, "env/environment",
        () -> writeNew(paths.env().resolve("environment"), request.environment().getBytes(StandardCharsets.UTF_8)));
  }

  private byte[] readOvmfVars() {
    String source = qemu.ovmf().varsFile();
    try (InputStream in = Files.newInputStream(Path.of(source))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new ManagerException(ErrorKind.FAILED_PRECONDITION,
          "cannot read MANAGER_QEMU_OVMF_VARS_FILE " + source + ": " + e);
    }
  }

  /** One write into the state dir. */
  private interface Write {
    void run() throws IOException;
  }

  /** Runs {@code write}; a full file system becomes RESOURCE_EXHAUSTED naming the state dir and {@code what}. */
  private void writing(String vmId, String what, Write write) throws IOException {
    try {
      write.run();
    } catch (IOException e) {
      if (NoSpaceLeft.in(e)) {
        throw NoSpaceLeft.writing(stateDir, what, vmId);
      }
      throw e;
    }
  }

  /** Created 0600 from the start: a key is never readable by others, not even for a moment. */
  private static void writeNew(Path file, byte[] content) throws IOException {
    try (SeekableByteChannel out = Files.newByteChannel(file,
        EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), FILE_MODE)) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
    }
  }

  /** What the reference image says of itself: its format and the size a VM's disk made from it gets. */
  private record Reference(String format, long vmDiskBytes) {}

  private Future<Reference> readReference(String reference) {
    return qemuImg(List.of("info", "--output=json", "-U", reference), "reading reference image " + reference)
        .map(info -> {
          JsonObject json = new JsonObject(info.stdout());
          return new Reference(json.getString("format", qemu.disk().format()),
              DiskSize.forReference(json.getLong("virtual-size")));
        });
  }

  /**
   * A copy takes its whole size at once, an overlay nothing until the guest writes (its free space is then what
   * the ENOSPC of a write reports). The reference's size is read again only when the file has changed.
   */
  private Future<DiskNeed> diskNeed() {
    if (!qemu.disk().enabled() || qemu.disk().cloneMethod() == DiskClone.OVERLAY) {
      return Future.succeededFuture(new DiskNeed(0));
    }
    String reference = Path.of(qemu.disk().srcFile()).toAbsolutePath().toString();
    return fs.props(reference)
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
            "cannot read MANAGER_QEMU_SRC_DISK_FILE " + reference + ": " + e.getMessage())))
        .compose(props -> {
          String version = props.lastModifiedTime() + "/" + props.size();
          if (needKnown != null && needKnown.version().equals(version)) {
            return Future.succeededFuture(needKnown.need());
          }
          return readReference(reference).map(read -> {
            needKnown = new KnownNeed(version, new DiskNeed(read.vmDiskBytes()));
            return needKnown.need();
          });
        });
  }

  private Future<Void> makeDisk(String vmId, VmPaths paths) {
    String reference = Path.of(qemu.disk().srcFile()).toAbsolutePath().toString();
    String target = paths.disk().toString();
    return readReference(reference)
        .compose(read -> {
          long size = read.vmDiskBytes();
          String format = read.format();
          List<List<String>> steps = qemu.disk().cloneMethod() == DiskClone.OVERLAY
              ? List.of(List.of("create", "-q", "-f", qemu.disk().format(), "-b", reference, "-F", format, target,
                  String.valueOf(size)))
              : List.of(List.of("convert", "-q", "-f", format, "-O", qemu.disk().format(), reference, target),
                  List.of("resize", "-q", "-f", qemu.disk().format(), target, String.valueOf(size)));
          Future<ChildProcess.Result> done = Future.succeededFuture();
          for (List<String> step : steps) {
            done = done.compose(r -> qemuImg(step, "making the VM disk from " + reference));
          }
          return done.<Void>mapEmpty().recover(e -> Future.failedFuture(NoSpaceLeft.in(e)
              ? NoSpaceLeft.writing(stateDir, "disk.qcow2 (" + e.getMessage() + ")", vmId) : e));
        });
  }

  private Future<ChildProcess.Result> qemuImg(List<String> args, String what) {
    List<String> command = new ArrayList<>();
    command.add("qemu-img");
    command.addAll(args);
    return ChildProcess.run(context, command)
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
            "qemu-img cannot be run (Debian package qemu-utils): " + e.getMessage())))
        .compose(result -> result.succeeded() ? Future.succeededFuture(result)
            : Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
                what + " failed: " + result.stderr().strip())));
  }

  private Future<Nothing> release(VmId vmId) {
    String id = vmId.id();
    if (!isVmId(id)) {
      return Future.failedFuture(notAVmId(id));
    }
    return deleteDir(id).map(Nothing.INSTANCE).recover(e -> {
      LOG.warn("vm {}: deleting its files failed: {}", id, e.getMessage());
      return Future.failedFuture(new ManagerException(ErrorKind.INTERNAL, "deleting files of VM " + id + ": "
          + e.getMessage()));
    });
  }

  private static ManagerException notAVmId(String id) {
    return new ManagerException(ErrorKind.INVALID_ARGUMENT, "not a VM id: " + ClientText.quote(id));
  }

  private Future<Void> deleteDir(String id) {
    String dir = VmPaths.of(stateDir, id).dir().toString();
    return fs.exists(dir).compose(exists -> exists ? fs.deleteRecursive(dir) : Future.succeededFuture());
  }
}
