package io.cvmmanager.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.LogLine;
import io.cvmmanager.api.cvm.StreamLogsRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.GoDuration;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.HostileValues;
import io.cvmmanager.testing.LoopRunQueueWait;
import io.cvmmanager.testing.RootLogCapture;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property: whatever a client puts in any CreateReq field or any id (texts of every length up to past their bound,
 * control characters, invalid UTF-8 on the wire, shell metacharacters, path traversal, non-ASCII digits, Go-duration
 * edge cases, bytes up to the message limit, protobuf junk), the reply's status is one of OK, INVALID_ARGUMENT,
 * NOT_FOUND, RESOURCE_EXHAUSTED, and the one a small independent model of the rules predicts; its message is short;
 * the manager goes on serving; no event loop is held 50 ms; no secret reaches a log line or state.json; every VM an OK
 * made is removed. One manager on the fake QEMU serves every input, in concurrent batches. The inputs come from one
 * seed (printed; {@code -Dhostile.seed=N} repeats a run, {@code -Dhostile.batches=N} sizes it).
 */
class HostileInputPropertiesTest {
  private static final long SEED = Long.getLong("hostile.seed", 20261201L);
  private static final int BATCHES = Integer.getInteger("hostile.batches", 120);
  private static final int BATCH_SIZE = 20;
  private static final Set<GrpcStatus> ALLOWED = EnumSet.of(GrpcStatus.OK, GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.NOT_FOUND, GrpcStatus.RESOURCE_EXHAUSTED);
  private static final int MESSAGE_LIMIT = GrpcApiVerticle.MAX_MESSAGE_BYTES;
  private static final String CVM = "cvm.v1.CvmService";
  /** The fields whose values are secrets: made with {@link HostileValues#secret}, looked for in the logs. */
  private static final Set<String> SECRET_FIELDS = Set.of("aws_secret_access_key", "agent_certs_token",
      "agent_cvm_client_key");

  @TempDir
  Path stateDir;
  @TempDir
  Path work;

  /** One generated input on its way: what it is, the status the model predicts (null: any allowed), the reply. */
  private record Attempt(String what, GrpcStatus expected, Future<UnaryCall.Result<?>> reply, boolean creates) {}

  /** A WatchEvents that should stay open until the test cancels it, unless the model says it ends at once. */
  private record OpenStream(String what, GrpcStatus expected, Future<GrpcClientRequest<Buffer, Buffer>> request,
      Future<GrpcStatus> ended) {}

  @Test
  void everyGeneratedInputGetsAnAllowedStatusAndTheManagerKeepsServing() throws Exception {
    Map<String, String> settings = Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(work).toString(),
        "MANAGER_QEMU_START_PAUSED", "true", "MANAGER_MAX_VMS", "40", "MANAGER_LOG_LEVEL", "debug");
    Generated generated = new Generated(new HostileValues(SEED));
    int warmedUp;
    long started = System.nanoTime();
    List<String> held;
    List<ILoggingEvent> logged;
    try (RootLogCapture log = new RootLogCapture();
        TestManager manager = TestManager.start(stateDir, TestPorts.range(40), settings,
            TestManager.fiftyMillisecondLoops());
        LoopRunQueueWait runQueue = LoopRunQueueWait.start(manager.vertx())) {
      // The first batches load classes (tens of ms each on a busy 2-core machine); the rest is what counts.
      for (int batch = 0; batch < 2; batch++) {
        generated.runBatch(manager);
      }
      warmedUp = log.events().size();
      for (int batch = 0; batch < BATCHES; batch++) {
        generated.runBatch(manager);
      }
      manager.assertNothingLeft();
      logged = log.events();
      held = heldLoops(logged.subList(warmedUp, logged.size()), runQueue);
    }
    System.out.println("HostileInputPropertiesTest: " + generated.tried + " generated inputs tried (seed " + SEED
        + ", " + generated.statusNames() + ", " + generated.vmsMade + " VMs made and removed, " + generated.nearLimit
        + " near the message limit, " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s)");
    assertEquals(List.of(), held, "event loops held 50 ms or more by what they ran");
    assertEquals(List.of(), logged.stream().map(HostileInputPropertiesTest::text)
        .filter(line -> line.contains(HostileValues.SECRET_MARKER)).toList(), "log lines with a secret");
    assertTrue(generated.statuses.keySet().containsAll(ALLOWED), "every allowed status was seen: "
        + generated.statusNames());
  }

  private static final Pattern BLOCKED = Pattern.compile("Thread (\\S+) has been blocked for (\\d+) ms");

  /**
   * The blocked-thread warnings whose time, less the time the OS kept that loop waiting for a CPU, is still 50 ms or
   * more: a loop held by the code it ran, not by a busy machine. Prints how many warnings there were in all.
   */
  private static List<String> heldLoops(List<ILoggingEvent> events, LoopRunQueueWait runQueue) {
    List<String> held = new ArrayList<>();
    int warnings = 0;
    long maxHeld = 0;
    for (ILoggingEvent event : events) {
      Matcher blocked = BLOCKED.matcher(event.getFormattedMessage());
      if (!blocked.find()) {
        continue;
      }
      warnings++;
      long millis = Long.parseLong(blocked.group(2));
      long end = event.getTimeStamp();
      long heldMillis = Math.max(0, millis - runQueue.waitedMillis(blocked.group(1), end - millis, end));
      maxHeld = Math.max(maxHeld, heldMillis);
      if (heldMillis >= 50) {
        held.add(heldMillis + " ms held: " + whereBlocked(event));
      }
    }
    System.out.println("HostileInputPropertiesTest: " + warnings + " blocked-thread warnings after warm-up, "
        + held.size() + " of them 50 ms or more net of run-queue wait and JVM pauses (longest net hold " + maxHeld
        + " ms)");
    return held;
  }

  /** A blocked-thread warning with the top of the stack and the manager's own frames in it. */
  private static String whereBlocked(ILoggingEvent event) {
    IThrowableProxy trace = event.getThrowableProxy();
    if (trace == null) {
      return event.getFormattedMessage();
    }
    List<String> frames = java.util.Arrays.stream(trace.getStackTraceElementProxyArray()).map(Object::toString)
        .toList();
    return event.getFormattedMessage() + " at " + String.join(" | ", frames.subList(0, Math.min(6, frames.size())))
        + " ... " + frames.stream().filter(frame -> frame.contains("io.cvmmanager")).limit(8)
        .collect(Collectors.joining(" | "));
  }

  /** Everything a log line carries: message, MDC, key-value pairs, exception messages. */
  private static String text(ILoggingEvent event) {
    StringBuilder text = new StringBuilder(event.getFormattedMessage()).append(' ').append(event.getMDCPropertyMap());
    if (event.getKeyValuePairs() != null) {
      event.getKeyValuePairs().forEach(pair -> text.append(' ').append(pair.key).append('=').append(pair.value));
    }
    for (IThrowableProxy error = event.getThrowableProxy(); error != null; error = error.getCause()) {
      text.append(' ').append(error.getMessage());
    }
    return text.toString();
  }

  /** The generator's state across batches, and what was seen. */
  private static final class Generated {
    private final HostileValues values;
    private final Map<GrpcStatus, Integer> statuses = new EnumMap<>(GrpcStatus.class);
    private int tried;
    private int vmsMade;
    private int nearLimit;

    Generated(HostileValues values) {
      this.values = values;
    }

    String statusNames() {
      return statuses.entrySet().stream().map(entry -> entry.getKey().name() + " " + entry.getValue())
          .collect(Collectors.joining(", "));
    }

    /** {@link #BATCH_SIZE} inputs at once; then every check, every OK's VM removed, and a probe that it serves. */
    void runBatch(TestManager manager) throws Exception {
      GrpcClient streams = manager.newClient();
      try {
        List<Attempt> attempts = new ArrayList<>();
        List<OpenStream> open = new ArrayList<>();
        for (int i = 0; i < BATCH_SIZE; i++) {
          int kind = values.random().nextInt(100);
          if (kind < 8) {
            open.add(watchEvents(manager, streams));
          } else {
            attempts.add(kind < 50 ? create(manager) : kind < 60 ? rawCreate(manager) : idCall(manager));
          }
        }
        tried += attempts.size() + open.size();
        Future.join(attempts.stream().map(Attempt::reply).toList()).await();
        List<String> made = new ArrayList<>();
        for (Attempt attempt : attempts) {
          UnaryCall.Result<?> result = attempt.reply().result();
          check(attempt.what(), attempt.expected(), result.status(), result.message());
          if (attempt.creates() && result.status() == GrpcStatus.OK) {
            made.add(createdId(result));
          }
        }
        removeAll(manager, made);
        String unknown = UUID.randomUUID().toString();
        assertEquals(GrpcStatus.NOT_FOUND, manager.info(unknown).status(), "the manager serves after the batch");
        for (OpenStream stream : open) {
          settle(stream);
        }
      } finally {
        streams.close().await();
      }
    }

    private void check(String what, GrpcStatus expected, GrpcStatus status, String statusMessage) {
      String message = statusMessage == null ? "" : statusMessage;
      statuses.merge(status, 1, Integer::sum);
      String said = status + " \"" + message + "\" for " + what;
      assertTrue(ALLOWED.contains(status), said);
      if (expected != null) {
        assertEquals(expected, status, said);
      }
      assertTrue(message.length() < 300, "message of " + message.length() + " chars: " + said);
    }

    private static String createdId(UnaryCall.Result<?> result) {
      Object response = result.response();
      if (response instanceof CreateRes created) {
        return created.getCvmId();
      }
      try {
        return CreateRes.parseFrom(((Buffer) response).getBytes()).getCvmId();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Each VM's state.json has no secret; each is removed, by this RemoveVm or by its TTL, directory and all. */
    private void removeAll(TestManager manager, List<String> ids) throws IOException {
      for (String id : ids) {
        Path state = manager.vmDir(id).resolve("state.json");
        if (Files.exists(state)) {
          assertFalse(Files.readString(state).contains(HostileValues.SECRET_MARKER), "a secret in " + state);
        }
      }
      List<Future<UnaryCall.Result<com.google.protobuf.Empty>>> removals = ids.stream().map(manager::removeAsync)
          .toList();
      Future.join(removals).await();
      for (int i = 0; i < ids.size(); i++) {
        UnaryCall.Result<?> removed = removals.get(i).result();
        assertTrue(removed.status() == GrpcStatus.OK || removed.status() == GrpcStatus.NOT_FOUND,
            "RemoveVm " + ids.get(i) + ": " + removed.status() + " " + removed.message());
        // NOT_FOUND: its TTL's removal took it out of the table first, and may still be stopping it.
        Path vmDir = manager.vmDir(ids.get(i));
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(20))
            .until(() -> !Files.exists(vmDir));
      }
      vmsMade += ids.size();
    }

    /** A CreateReq with one field hostile (or, one time in five, any field), the others plain or empty. */
    private Attempt create(TestManager manager) {
      CreateReq.Builder request = CreateReq.newBuilder();
      boolean anyField = values.chance(20);
      List<FieldDescriptor> fields = CreateReq.getDescriptor().getFields();
      FieldDescriptor target = values.pick(fields);
      for (FieldDescriptor field : fields) {
        if (field == target || anyField && values.chance(30)) {
          request.setField(field, hostile(field));
        } else if (values.chance(30)) {
          request.setField(field, plain(field));
        }
      }
      if (values.chance(2)) {
        nearToLimit(request);
      }
      CreateReq built = request.build();
      return new Attempt(describe(built), expected(built), manager.createAsync(built).map(r -> r), true);
    }

    /** A bytes field that puts the message a little under the limit, or (every other time) a little over it. */
    private void nearToLimit(CreateReq.Builder request) {
      boolean over = nearLimit++ % 2 == 1;
      FieldDescriptor field = values.pick(List.of(CreateReq.getDescriptor().findFieldByName("agent_cvm_client_cert"),
          CreateReq.getDescriptor().findFieldByName("agent_cvm_server_ca_cert")));
      request.clearField(field);
      int room = MESSAGE_LIMIT - request.build().getSerializedSize() - 8;
      request.setField(field, ByteString.copyFrom(new byte[room + (over ? 1024 : -64)]));
    }

    private Object hostile(FieldDescriptor field) {
      if (field.getType() == FieldDescriptor.Type.BYTES) {
        return ByteString.copyFrom(values.bytes(16 * 1024));
      }
      if (field.getName().equals("ttl")) {
        return values.ttl(WireRequests.TTL_MAX_BYTES);
      }
      return SECRET_FIELDS.contains(field.getName()) ? values.secret(WireRequests.TEXT_MAX_BYTES)
          : values.text(WireRequests.TEXT_MAX_BYTES);
    }

    private Object plain(FieldDescriptor field) {
      return switch (field.getName()) {
        case "ttl" -> "1h";
        case "agent_log_level" -> "info";
        case "agent_cvm_server_url", "agent_cvm_ca_url", "aws_endpoint_url" -> "https://kbs.example:8080";
        case "aws_region" -> "us-east-1";
        case "aa_kbs_params" -> "cc_kbc::http://kbs.example:8080";
        default -> field.getType() == FieldDescriptor.Type.BYTES
            ? ByteString.copyFromUtf8("-----BEGIN CERTIFICATE-----\n") : values.secret(40);
      };
    }

    /**
     * A CreateVm as raw bytes: a plain request with one string field's value not UTF-8 (INVALID_ARGUMENT), or
     * protobuf junk (random bytes, a string field under another wire type), whose status is only bounded.
     */
    private Attempt rawCreate(TestManager manager) {
      List<FieldDescriptor> strings = CreateReq.getDescriptor().getFields().stream()
          .filter(field -> field.getType() == FieldDescriptor.Type.STRING).toList();
      Buffer plain = Buffer.buffer(CreateReq.newBuilder().setAgentLogLevel("info").setTtl("1h").build().toByteArray());
      if (values.random().nextBoolean()) {
        FieldDescriptor field = values.pick(strings);
        byte[] bad = values.notUtf8();
        Buffer payload = plain.copy().appendBytes(lengthDelimited(field.getNumber(), bad));
        return new Attempt("CreateVm with " + field.getName() + " = " + hex(bad), GrpcStatus.INVALID_ARGUMENT,
            raw(manager, TestManager.MANAGER, "CreateVm", payload), true);
      }
      Buffer junk = values.random().nextBoolean() ? Buffer.buffer(values.randomBytes(values.random().nextInt(64)))
          : plain.copy().appendByte((byte) (values.pick(strings).getNumber() << 3 | values.pick(List.of(0, 1, 5))))
              .appendBytes(values.randomBytes(8));
      return new Attempt("CreateVm of " + hex(junk.getBytes()), null, raw(manager, TestManager.MANAGER, "CreateVm", junk),
          true);
    }

    /** An id for RemoveVm, CVMInfo, AttestationPolicy, GetVm or StreamLogs; one time in five as bytes not UTF-8. */
    private Attempt idCall(TestManager manager) {
      String method = values.pick(List.of("RemoveVm", "CVMInfo", "AttestationPolicy", "GetVm", "StreamLogs"));
      String service = method.equals("GetVm") || method.equals("StreamLogs") ? CVM : TestManager.MANAGER;
      if (values.chance(20)) {
        byte[] bad = values.notUtf8();
        return new Attempt(method + " of " + hex(bad), GrpcStatus.INVALID_ARGUMENT,
            raw(manager, service, method, Buffer.buffer(lengthDelimited(1, bad))), false);
      }
      String id = values.id(WireRequests.ID_MAX_BYTES);
      Future<UnaryCall.Result<?>> reply = switch (method) {
        case "RemoveVm" -> manager.removeAsync(id).map(r -> r);
        case "CVMInfo" -> call(manager, service, method, CVMInfoReq.newBuilder().setId(id).build(),
            CVMInfoRes.newBuilder());
        case "AttestationPolicy" -> call(manager, service, method, AttestationPolicyReq.newBuilder().setId(id).build(),
            AttestationPolicyRes.newBuilder());
        case "GetVm" -> call(manager, service, method, GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder());
        default -> call(manager, service, method, StreamLogsRequest.newBuilder().setId(id)
            .setFollow(values.random().nextBoolean()).setTail(values.random().nextInt()).build(),
            LogLine.newBuilder());
      };
      return new Attempt(method + " of " + quote(id), expectedForId(id), reply, false);
    }

    /** A call with {@code payload} as its request bytes, on a client of its own. */
    private static Future<UnaryCall.Result<?>> raw(TestManager manager, String service, String method,
        Buffer payload) {
      GrpcClient client = manager.newClient();
      return UnaryCall.raw(client, manager.server(), service, method, payload).<UnaryCall.Result<?>>map(r -> r)
          .eventually(() -> client.close());
    }

    private static Future<UnaryCall.Result<?>> call(TestManager manager, String service, String method,
        com.google.protobuf.Message request, com.google.protobuf.Message.Builder response) {
      GrpcClient client = manager.newClient();
      return UnaryCall.call(client, manager.server(), service, method, request, response)
          .<UnaryCall.Result<?>>map(r -> r).eventually(() -> client.close());
    }

    /** A WatchEvents of a hostile id: over its bound it ends INVALID_ARGUMENT; otherwise it stays open. */
    private OpenStream watchEvents(TestManager manager, GrpcClient client) {
      boolean notUtf8 = values.chance(20);
      byte[] id = notUtf8 ? values.notUtf8()
          : values.id(WireRequests.ID_MAX_BYTES).getBytes(StandardCharsets.UTF_8);
      Buffer payload = Buffer.buffer(lengthDelimited(1, id))
          .appendBytes(values.random().nextBoolean() ? new byte[] {2 << 3, 1} : new byte[0]);
      GrpcStatus expected = notUtf8 || id.length > WireRequests.ID_MAX_BYTES ? GrpcStatus.INVALID_ARGUMENT : null;
      ServiceMethod<Buffer, Buffer> method = ServiceMethod.client(CvmServiceGrpcClient.WatchEvents.serviceName(),
          "WatchEvents", io.vertx.grpc.common.GrpcMessageEncoder.IDENTITY,
          io.vertx.grpc.common.GrpcMessageDecoder.IDENTITY);
      Future<GrpcClientRequest<Buffer, Buffer>> request = client.request(manager.server(), method);
      Future<GrpcStatus> ended = request.compose(req -> req.send(payload))
          .compose(response -> response.end().transform(ar -> Future.succeededFuture(response.status())));
      return new OpenStream("WatchEvents of " + (notUtf8 ? hex(id) : quote(new String(id, StandardCharsets.UTF_8))),
          expected, request, ended);
    }

    /** A stream that should end has ended with the predicted status; one that should stay open is, and is cancelled. */
    private void settle(OpenStream stream) throws Exception {
      if (stream.expected() != null) {
        GrpcStatus status = stream.ended().await(10, TimeUnit.SECONDS);
        check(stream.what(), stream.expected(), status, "");
        return;
      }
      assertFalse(stream.ended().isComplete(), stream.what() + " ended: " + stream.ended().result());
      stream.request().await().cancel();
      statuses.merge(GrpcStatus.OK, 1, Integer::sum);
    }

    /**
     * The model: over the message limit RESOURCE_EXHAUSTED; a string over its bound, a TTL that is no positive Go
     * duration, a value with a quote or control character, aa_kbs_params with whitespace: INVALID_ARGUMENT; else OK.
     */
    private static GrpcStatus expected(CreateReq request) {
      if (request.getSerializedSize() > MESSAGE_LIMIT) {
        return GrpcStatus.RESOURCE_EXHAUSTED;
      }
      for (FieldDescriptor field : CreateReq.getDescriptor().getFields()) {
        if (field.getType() != FieldDescriptor.Type.STRING) {
          continue;
        }
        String value = (String) request.getField(field);
        int bound = field.getName().equals("ttl") ? WireRequests.TTL_MAX_BYTES : WireRequests.TEXT_MAX_BYTES;
        if (value.getBytes(StandardCharsets.UTF_8).length > bound || !field.getName().equals("ttl")
            && value.chars().anyMatch(c -> c == '\'' || c < 0x20 || c == 0x7f)) {
          return GrpcStatus.INVALID_ARGUMENT;
        }
      }
      if (!request.getTtl().isEmpty() && !positiveDuration(request.getTtl())
          || request.getAaKbsParams().chars().anyMatch(Character::isWhitespace)) {
        return GrpcStatus.INVALID_ARGUMENT;
      }
      return GrpcStatus.OK;
    }

    private static boolean positiveDuration(String ttl) {
      try {
        Duration duration = GoDuration.parse(ttl);
        return !duration.isNegative() && !duration.isZero();
      } catch (IllegalArgumentException e) {
        return false;
      }
    }

    /** Ids here are never a VM's: empty or over the bound INVALID_ARGUMENT, else NOT_FOUND. */
    private static GrpcStatus expectedForId(String id) {
      return id.isEmpty() || id.getBytes(StandardCharsets.UTF_8).length > WireRequests.ID_MAX_BYTES
          ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.NOT_FOUND;
    }

    /** The request with long values cut and secrets left out, for a failure message. */
    private static String describe(CreateReq request) {
      return request.getAllFields().entrySet().stream()
          .map(entry -> entry.getKey().getName() + "=" + (SECRET_FIELDS.contains(entry.getKey().getName())
              ? "(secret)" : entry.getValue() instanceof ByteString bytes ? bytes.size() + " bytes"
              : quote((String) entry.getValue())))
          .collect(Collectors.joining(", ", "CreateVm{", "}"));
    }
  }

  private static String quote(String value) {
    String shown = value.length() > 80 ? value.substring(0, 80) + "...(" + value.length() + " chars)" : value;
    return "\"" + shown.chars().mapToObj(c -> c < 0x20 || c == 0x7f ? String.format("\\u%04x", c)
        : String.valueOf((char) c)).collect(Collectors.joining()) + "\"";
  }

  private static String hex(byte[] bytes) {
    return java.util.HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 64));
  }

  /** Field {@code number} with wire type 2 and {@code value} as it is, valid UTF-8 or not. */
  private static byte[] lengthDelimited(int number, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.writeByteArray(number, value);
      coded.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
