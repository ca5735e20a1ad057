package io.cvmmanager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.ManagerServiceGrpcClient;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Requests a hostile or broken client sends, through a real client over a real socket: each gets its own status at
 * once, with a message short enough for any client's metadata limit, and nothing is made. No QEMU starts: every
 * request here is refused before the launcher would spawn one.
 */
class HostileRequestsIT {
  private static final String LONG_ID = "4b0f7f0e-".repeat(1000);

  @TempDir
  Path stateDir;

  private TestManager start() throws Exception {
    return TestManager.start(stateDir, TestPorts.range(2),
        Map.of("MANAGER_QEMU_START_PAUSED", "true"));
  }

  private static void assertRefused(GrpcStatus expected, UnaryCall.Result<?> result, String messagePart) {
    assertEquals(expected, result.status(), "status; message: " + result.message());
    assertTrue(result.message().contains(messagePart), "message \"" + result.message() + "\" lacks " + messagePart);
    assertTrue(result.message().length() < 300, "message of " + result.message().length() + " characters");
  }

  /** Field 7 of CreateReq (ttl, a string) holding {@code value} as raw bytes. */
  private static Buffer ttlField(byte... value) {
    return Buffer.buffer().appendByte((byte) (7 << 3 | 2)).appendByte((byte) value.length).appendBytes(value);
  }

  @Test
  void invalidUtf8InAStringFieldIsInvalidArgument() throws Exception {
    try (TestManager manager = start()) {
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.raw("CreateVm", ttlField((byte) 0xff, (byte) 0xfe)),
          "ttl is not valid UTF-8");
      // agent_log_level (field 1) after a valid ttl: every string field is checked, not only the first.
      Buffer logLevel = ttlField((byte) '1', (byte) 'h').appendByte((byte) (1 << 3 | 2)).appendByte((byte) 2)
          .appendByte((byte) 0xc3).appendByte((byte) 0x28);
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.raw("CreateVm", logLevel), "agent_log_level");
      manager.assertNothingLeft();
    }
  }

  @Test
  void truncatedMessagesAreInvalidArgumentNotCancelled() throws Exception {
    try (TestManager manager = start()) {
      // A ttl that says 16 bytes and has 1; a tag with no value; a varint cut in the middle.
      for (Buffer cut : List.of(Buffer.buffer(new byte[] {7 << 3 | 2, 16, 'a'}),
          Buffer.buffer(new byte[] {7 << 3 | 2}), Buffer.buffer(new byte[] {(byte) 0x80}))) {
        assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.raw("CreateVm", cut), "malformed request");
        assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.raw("RemoveVm", cut), "malformed request");
      }
      manager.assertNothingLeft();
    }
  }

  @Test
  void aRequestOverTheMessageLimitIsResourceExhaustedNamingTheLimit() throws Exception {
    try (TestManager manager = start()) {
      CreateReq big = CreateReq.newBuilder()
          .setAgentCvmServerCaCert(ByteString.copyFrom(new byte[5 * 1024 * 1024])).build();
      assertRefused(GrpcStatus.RESOURCE_EXHAUSTED, manager.create(big),
          "message limit of " + GrpcApiVerticle.MAX_MESSAGE_BYTES + " bytes");
      manager.assertNothingLeft();
    }
  }

  /** A CreateVm sent as {@code message} (encoding and payload as given) through the manager's own client. */
  private static UnaryCall.Result<CreateRes> sendMessage(TestManager manager, String encoding, GrpcMessage message) {
    GrpcClient client = manager.newClient();
    try {
      return client.request(manager.server(), ManagerServiceGrpcClient.CreateVm).compose(request -> {
        request.encoding(encoding);
        request.endMessage(message);
        return request.response();
      }).compose(response -> response.end().transform(ar -> Future.succeededFuture(
          new UnaryCall.Result<CreateRes>(response.status(), response.statusMessage(), List.of())))).await();
    } finally {
      client.close().await();
    }
  }

  /**
   * The grpc-status of a CreateVm written as bare HTTP/2 (Vert.x's gRPC client sends no encoding but gzip): one
   * frame with the given compressed flag, under {@code grpc-encoding}.
   */
  private static String rawHttp2Status(TestManager manager, String encoding, byte compressedFlag) {
    var http = manager.vertx().createHttpClient(new io.vertx.core.http.HttpClientOptions()
        .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    try {
      Buffer frame = Buffer.buffer().appendByte(compressedFlag).appendInt(3).appendBytes(new byte[] {1, 2, 3});
      return http.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
              .setHost("localhost").setPort(manager.config().grpc().port())
              .setURI("/manager.ManagerService/CreateVm"))
          .compose(request -> request.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
              .putHeader("grpc-encoding", encoding).send(frame))
          .compose(response -> response.body().map(body -> {
            String status = response.getTrailer("grpc-status");
            return status != null ? status : response.getHeader("grpc-status");
          }))
          .await();
    } finally {
      http.close().await();
    }
  }

  private static Buffer gzip(byte[] bytes) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream zip = new java.util.zip.GZIPOutputStream(out)) {
      zip.write(bytes);
    }
    return Buffer.buffer(out.toByteArray());
  }

  /**
   * A gzip request is inflated to at most the message limit: a small frame that inflates to 64 MiB (a "zip bomb")
   * is RESOURCE_EXHAUSTED, not 64 MiB on an event loop; an honest gzip request is served; an encoding we do not
   * take is UNIMPLEMENTED, not a call left hanging.
   */
  @Test
  void compressedRequestsAreInflatedWithinTheLimitOrRefused() throws Exception {
    try (TestManager manager = start()) {
      Buffer bomb = gzip(new byte[64 * 1024 * 1024]);
      assertTrue(bomb.length() < GrpcApiVerticle.MAX_MESSAGE_BYTES);
      assertRefused(GrpcStatus.RESOURCE_EXHAUSTED, sendMessage(manager, "gzip", GrpcMessage.message("gzip", bomb)),
          "inflates to more than the message limit");
      Buffer badTtl = gzip(CreateReq.newBuilder().setTtl("1x").build().toByteArray());
      assertRefused(GrpcStatus.INVALID_ARGUMENT, sendMessage(manager, "gzip", GrpcMessage.message("gzip", badTtl)),
          "ttl");
      assertEquals("12", rawHttp2Status(manager, "deflate", (byte) 1), "grpc-status UNIMPLEMENTED");
      manager.assertNothingLeft();
    }
  }

  @Test
  void longIdsAreRefusedWithAShortMessageByEveryMethod() throws Exception {
    try (TestManager manager = start()) {
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.remove(LONG_ID), "cvm_id is 9000 bytes long; at most 64");
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.info(LONG_ID), "id is 9000 bytes long");
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.call("AttestationPolicy",
          AttestationPolicyReq.newBuilder().setId(LONG_ID).build(), AttestationPolicyRes.newBuilder()), "id is");
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.call("cvm.v1.CvmService", "GetVm",
          GetVmRequest.newBuilder().setId(LONG_ID).build(), Vm.newBuilder()), "id is");
      // Within the bound but no VM's: NOT_FOUND, quoting the id as it is.
      String unknown = "x".repeat(64);
      assertRefused(GrpcStatus.NOT_FOUND, manager.info(unknown), unknown);
    }
  }

  @Test
  void longTtlsAreRefusedAtOnceWithAShortMessage() throws Exception {
    try (TestManager manager = start()) {
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.create(CreateReq.newBuilder()
          .setTtl("9".repeat(2_000_000) + "ns").build()), "ttl is 2000002 bytes long; at most 64");
      assertRefused(GrpcStatus.INVALID_ARGUMENT, manager.create(CreateReq.newBuilder().setTtl("1h".repeat(5000))
          .build()), "ttl is 10000 bytes long");
      manager.assertNothingLeft();
    }
  }

  /**
   * Every field filled up to the message limit, with the event loops' limit lowered from 2 s to 50 ms: Vert.x's
   * blocked-thread checker reports nothing, so no request, whatever its size, holds an event loop.
   */
  @Test
  void requestsUpToTheMessageLimitNeverBlockAnEventLoop() throws Exception {
    ListAppender<ILoggingEvent> warnings = new ListAppender<>();
    Logger root = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    warnings.start();
    root.addAppender(warnings);
    VertxOptions tight = TestManager.fiftyMillisecondLoops();
    int nearLimit = GrpcApiVerticle.MAX_MESSAGE_BYTES - 64;
    // The client runs on a Vert.x of its own: encoding 4 MiB requests is its work, not the manager's.
    Vertx clientVertx = Vertx.vertx();
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2),
        Map.of("MANAGER_QEMU_START_PAUSED", "true"), tight)) {
      Client client = new Client(manager, UnaryCall.client(clientVertx, new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)));
      // The first round loads classes (tens of ms each on a busy 2-core machine); the second is what counts.
      sendEveryFieldAtTheLimit(client, nearLimit);
      warnings.list.clear();
      sendEveryFieldAtTheLimit(client, nearLimit);
      manager.assertNothingLeft();
    } finally {
      root.detachAppender(warnings);
      clientVertx.close().await();
    }
    // A block counts when the event loop was caught handling a request: in our API code, the gRPC library or
    // protobuf, whose work grows with the request. Others (a worker thread started, a stall while the loaded
    // 2-core machine ran something else) are printed, not counted: no request's size or content makes them.
    List<String> blocked = new java.util.ArrayList<>();
    for (ILoggingEvent event : warnings.list) {
      if (!event.getFormattedMessage().contains("has been blocked") || event.getThrowableProxy() == null) {
        continue;
      }
      String stack = java.util.Arrays.stream(event.getThrowableProxy().getStackTraceElementProxyArray())
          .map(Object::toString).collect(java.util.stream.Collectors.joining(" | "));
      boolean handlingARequest = stack.contains("io.cvmmanager.api.") || stack.contains("com.google.protobuf.")
          || stack.contains("io.vertx.grpc.");
      if (handlingARequest) {
        blocked.add(event.getFormattedMessage() + " at " + stack);
      } else {
        System.out.println("not counted (no request's work): " + event.getFormattedMessage() + " at "
            + stack.substring(0, Math.min(stack.length(), 400)));
      }
    }
    assertEquals(List.of(), blocked);
  }

  private static void sendEveryFieldAtTheLimit(Client manager, int nearLimit) {
    String text = "9".repeat(nearLimit);
    ByteString bytes = ByteString.copyFrom(new byte[nearLimit]);
    List<UnaryCall.Result<?>> refused = List.of(
        manager.create(CreateReq.newBuilder().setTtl(text).build()),
        manager.create(CreateReq.newBuilder().setAgentCvmServerUrl(text).build()),
        manager.create(CreateReq.newBuilder().setAaKbsParams(text).build()),
        manager.remove(text),
        manager.info(text),
        manager.getVm(text));
    refused.forEach(result -> assertRefused(GrpcStatus.INVALID_ARGUMENT, result, "bytes long"));
    // Certificates and keys may be as large as the message: such a VM is made (paused) and removed.
    for (CreateReq big : List.of(CreateReq.newBuilder().setAgentCvmServerCaCert(bytes).build(),
        CreateReq.newBuilder().setAgentCvmClientKey(bytes).build())) {
      UnaryCall.Result<CreateRes> created = manager.create(big);
      if (created.status() == GrpcStatus.OK) {
        assertEquals(GrpcStatus.OK, manager.remove(created.response().getCvmId()).status());
      } else {
        assertTrue(created.message().length() < 300, created.status() + " " + created.message().length());
      }
    }
  }

  /** The calls of {@link #sendEveryFieldAtTheLimit}, through a client that is not on the manager's Vert.x. */
  private record Client(TestManager manager, GrpcClient grpc) {
    private <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
        UnaryCall.Result<Resp> call(String service, String method, Req request,
            com.google.protobuf.Message.Builder response) {
      return UnaryCall.<Req, Resp>call(grpc, manager.server(), service, method, request, response).await();
    }

    UnaryCall.Result<CreateRes> create(CreateReq request) {
      return call(TestManager.MANAGER, "CreateVm", request, CreateRes.newBuilder());
    }

    UnaryCall.Result<com.google.protobuf.Empty> remove(String id) {
      return call(TestManager.MANAGER, "RemoveVm", io.cvmmanager.api.manager.RemoveReq.newBuilder().setCvmId(id)
          .build(), com.google.protobuf.Empty.newBuilder());
    }

    UnaryCall.Result<io.cvmmanager.api.manager.CVMInfoRes> info(String id) {
      return call(TestManager.MANAGER, "CVMInfo", io.cvmmanager.api.manager.CVMInfoReq.newBuilder().setId(id)
          .build(), io.cvmmanager.api.manager.CVMInfoRes.newBuilder());
    }

    UnaryCall.Result<Vm> getVm(String id) {
      return call("cvm.v1.CvmService", "GetVm", GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder());
    }
  }
}
