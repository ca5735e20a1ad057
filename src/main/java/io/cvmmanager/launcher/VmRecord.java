package io.cvmmanager.launcher;

import io.cvmmanager.resources.Claim;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.vm.CreateOrigin;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code state.json} holds of one VM: everything a restarted manager needs to find its QEMU again, prove the
 * PID still names that QEMU (PID, start time, command line), and take it back — its port, its files, its TTL
 * deadline (absolute, so time spent down counts), and the configuration it was launched with (the manager's may
 * have changed since). Written at every transition by {@link StateFile}; read back at start-up.
 *
 * @param pid QEMU's PID (sudo's under MANAGER_QEMU_USE_SUDO), 0 before it is spawned
 * @param pidStartTime field 22 of {@code /proc/<pid>/stat}: with the PID, the process's identity
 * @param command QEMU's full command line, as {@code /proc/<pid>/cmdline} shows it
 * @param files every file and directory made for the VM (all inside its directory)
 * @param config the launch configuration of this VM: QEMU binary, sudo, machine, CPU, memory, SMP, boot mode, TEE
 * @param hostData the SEV-SNP host data bound to the VM (base64 of 32 bytes), which its attestation policy states
 * @param launchMeasurement SEV-SNP: the launch measurement (hex) of the IGVM file it was launched with
 * @param claim what the VM holds of the host (memory, vCPUs, its TEE context, its GPU, disk), taken back by adoption
 */
public record VmRecord(String id, VmState state, Instant created, Instant updated, Tee tee, boolean diskMode,
    boolean paused, String kernelCmdline, Optional<Instant> ttlDeadline, int port, long pid, long pidStartTime,
    List<String> command, List<String> files, LaunchConfig config, Optional<String> hostData,
    Optional<String> launchMeasurement, Claim claim, Optional<CreateOrigin> origin) {
  /**
   * Bumped when a field changes meaning; a file of another format is refused, not guessed at. 2 added
   * {@code resources}; a record of format 1 is still read, its claim taken from its recorded command line.
   */
  public static final int FORMAT = 2;
  private static final int FORMAT_WITHOUT_RESOURCES = 1;

  public VmRecord {
    command = List.copyOf(command);
    files = List.copyOf(files);
  }

  /** A VM created by this node's own API, or recovered from /proc. */
  public VmRecord(String id, VmState state, Instant created, Instant updated, Tee tee, boolean diskMode,
      boolean paused, String kernelCmdline, Optional<Instant> ttlDeadline, int port, long pid, long pidStartTime,
      List<String> command, List<String> files, LaunchConfig config, Optional<String> hostData,
      Optional<String> launchMeasurement, Claim claim) {
    this(id, state, created, updated, tee, diskMode, paused, kernelCmdline, ttlDeadline, port, pid, pidStartTime,
        command, files, config, hostData, launchMeasurement, claim, Optional.empty());
  }

  /** The same VM, found running as {@code pid} (started at {@code startTime}) with this command line. */
  public VmRecord withProcess(long pid, long startTime, List<String> command) {
    return new VmRecord(id, state, created, updated, tee, diskMode, paused, kernelCmdline, ttlDeadline, port, pid,
        startTime, command, files, config, hostData, launchMeasurement, claim, origin);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("format", FORMAT)
        .put("id", id)
        .put("state", state.name())
        .put("created", created.toString())
        .put("updated", updated.toString())
        .put("tee", tee.name())
        .put("bootMode", diskMode ? "disk" : "kernel")
        .put("paused", paused)
        .put("kernelCmdline", kernelCmdline)
        .put("port", port)
        .put("pid", pid)
        .put("pidStartTime", pidStartTime)
        .put("command", new JsonArray(command))
        .put("files", new JsonArray(files))
        .put("config", config.toJson());
    ttlDeadline.ifPresent(d -> json.put("ttlDeadline", d.toString()));
    hostData.ifPresent(h -> json.put("hostData", h));
    launchMeasurement.ifPresent(m -> json.put("launchMeasurement", m));
    origin.ifPresent(o -> json.put("origin", o.toJson()));
    JsonObject resources = new JsonObject().put("memoryBytes", claim.memoryBytes()).put("vcpus", claim.vcpus())
        .put("diskBytes", claim.diskBytes());
    claim.gpu().ifPresent(gpu -> resources.put("gpu", gpu));
    if (claim.placement().plan() != Placement.Plan.NONE) {
      resources.put("placement", claim.placement().toJson());
    }
    return json.put("resources", resources);
  }

  /** Parses state.json's text; an {@link IllegalArgumentException} says what is wrong with it. */
  public static VmRecord parse(String text) {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("not a JSON object (" + (text.isEmpty() ? "empty" : text.length()
          + " bytes") + ")");
    }
    try {
      int format = json.getInteger("format", 0);
      if (format != FORMAT && format != FORMAT_WITHOUT_RESOURCES) {
        throw new IllegalArgumentException("format " + format + ", expected " + FORMAT);
      }
      String id = required(json, "id");
      Tee tee = Tee.valueOf(required(json, "tee"));
      List<String> command = strings(json.getJsonArray("command", new JsonArray()));
      Claim claim = format == FORMAT ? claim(id, tee, json.getJsonObject("resources", new JsonObject()))
          : RecordedCommand.claim(id, tee, command);
      return new VmRecord(
          id,
          VmState.valueOf(required(json, "state")),
          Instant.parse(required(json, "created")),
          Instant.parse(required(json, "updated")),
          tee,
          "disk".equals(required(json, "bootMode")),
          json.getBoolean("paused", false),
          json.getString("kernelCmdline", ""),
          Optional.ofNullable(json.getString("ttlDeadline")).map(Instant::parse),
          json.getInteger("port", 0),
          json.getLong("pid", 0L),
          json.getLong("pidStartTime", 0L),
          command,
          strings(json.getJsonArray("files", new JsonArray())),
          LaunchConfig.fromJson(json.getJsonObject("config", new JsonObject())),
          Optional.ofNullable(json.getString("hostData")),
          Optional.ofNullable(json.getString("launchMeasurement")),
          claim,
          Optional.ofNullable(json.getJsonObject("origin")).map(CreateOrigin::fromJson));
    } catch (ClassCastException | java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("a field has the wrong type: " + e.getMessage());
    }
  }

  private static Claim claim(String id, Tee tee, JsonObject resources) {
    return new Claim(id, resources.getLong("memoryBytes", 0L), resources.getInteger("vcpus", 0), tee,
        Optional.ofNullable(resources.getString("gpu")), resources.getLong("diskBytes", 0L),
        Optional.ofNullable(resources.getJsonObject("placement")).map(Placement::fromJson).orElse(Placement.NONE));
  }

  private static String required(JsonObject json, String field) {
    String value = json.getString(field);
    if (value == null) {
      throw new IllegalArgumentException("no \"" + field + "\"");
    }
    return value;
  }

  private static List<String> strings(JsonArray array) {
    return array.stream().map(String.class::cast).toList();
  }
}
