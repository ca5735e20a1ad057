package io.cvmmanager.tracing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spans exported over OTLP/HTTP to a real (test) collector, and their context carried on the event bus. */
class TracingIT {
  private static final Duration EXPORTED_WITHIN = Duration.ofSeconds(20);

  private Vertx vertx;
  private OtlpReceiver receiver;

  @BeforeEach
  void startCollector() {
    vertx = Vertx.vertx();
    receiver = OtlpReceiver.start(vertx);
  }

  @AfterEach
  void stopCollector() {
    receiver.close();
    vertx.close().await();
  }

  @Test
  void everyUpstreamRpcIsAServerSpanAtTheCollector(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(10), Map.of(
        "MANAGER_QEMU_START_PAUSED", "true",
        "COCOS_JAEGER_URL", receiver.url()))) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      assertEquals(GrpcStatus.OK, manager.info(id).status());
      assertEquals(GrpcStatus.NOT_FOUND, manager.info("4b0f7f0e-0000-4000-8000-000000000000").status());

      await().atMost(EXPORTED_WITHIN).until(() -> receiver.spans().stream()
          .filter(s -> s.span().getName().equals("manager.ManagerService/CVMInfo")).count() == 2);
      OtlpReceiver.Received info = receiver.spans().stream()
          .filter(s -> s.span().getName().equals("manager.ManagerService/CVMInfo"))
          .filter(s -> id.equals(s.attribute("cvm.vm.id")))
          .findFirst().orElseThrow();
      assertEquals(Span.SpanKind.SPAN_KIND_SERVER, info.span().getKind());
      assertEquals("grpc", info.attribute("rpc.system"));
      assertEquals("CVMInfo", info.attribute("rpc.method"));
      assertEquals("0", info.attribute("rpc.grpc.status_code"));
      assertTrue(info.span().getParentSpanId().isEmpty(), "an RPC span is the root of its trace");
      assertEquals("cvm-manager", info.resourceAttribute("service.name"));
      assertEquals(manager.config().instanceId(), info.resourceAttribute("service.instance.id"));

      OtlpReceiver.Received notFound = receiver.spans().stream()
          .filter(s -> s.span().getName().equals("manager.ManagerService/CVMInfo") && s != info
              && !id.equals(s.attribute("cvm.vm.id")))
          .findFirst().orElseThrow();
      assertEquals(Status.StatusCode.STATUS_CODE_ERROR, notFound.span().getStatus().getCode());
      assertEquals(String.valueOf(GrpcStatus.NOT_FOUND.code), notFound.attribute("rpc.grpc.status_code"));

      OtlpReceiver.Received create = receiver.span("manager.ManagerService/CreateVm").orElseThrow();
      assertEquals(id, create.attribute("cvm.vm.id"));
      // The launcher's saga is in the same trace: the create under the RPC, each step under the create.
      OtlpReceiver.Received saga = receiver.span("cvm.create").orElseThrow();
      assertEquals(create.span().getTraceId(), saga.span().getTraceId());
      assertEquals(create.span().getSpanId(), saga.span().getParentSpanId());
      for (String step : List.of("reserve-port", "prepare-files", "spawn", "qmp-handshake")) {
        OtlpReceiver.Received s = receiver.span("cvm.create." + step).orElseThrow(() -> new AssertionError(step));
        assertEquals(saga.span().getSpanId(), s.span().getParentSpanId(), step);
        assertEquals(id, s.attribute("cvm.vm.id"));
      }
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }

  @Test
  void traceparentCarriesASpanAcrossTheEventBus() {
    Tracing tracing = Tracing.start(config(receiver.url()));
    try {
      vertx.eventBus().<JsonObject>consumer("test.traced", message -> {
        SpanContext parent = Tracing.extract(message.headers());
        message.reply(new JsonObject().put("traceId", parent.getTraceId()).put("spanId", parent.getSpanId())
            .put("sampled", parent.isSampled()).put("remote", parent.isRemote()));
      });
      SpanContext[] sent = new SpanContext[1];
      JsonObject seen = tracing.span("test.sender", null, Map.of(), span -> {
        sent[0] = span.getSpanContext();
        return vertx.eventBus().<JsonObject>request("test.traced", new JsonObject(),
            Tracing.inject(span.getSpanContext(), new DeliveryOptions())).map(m -> m.body());
      }).await();

      assertEquals(sent[0].getTraceId(), seen.getString("traceId"));
      assertEquals(sent[0].getSpanId(), seen.getString("spanId"));
      assertTrue(seen.getBoolean("sampled"));
      assertTrue(seen.getBoolean("remote"));
      assertFalse(Tracing.extract(io.vertx.core.MultiMap.caseInsensitiveMultiMap()).isValid());
    } finally {
      tracing.close().await();
    }
  }

  @Test
  void spanHelperParentsOnARemoteContextAndRecordsAFailure() {
    Tracing tracing = Tracing.start(config(receiver.url()));
    SpanContext remote = SpanContext.createFromRemoteParent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
        TraceFlags.getSampled(), TraceState.getDefault());
    Future<Void> step = tracing.span("saga.reserve-port", remote, Map.of("cvm.vm.id", "vm-1"),
        span -> Future.failedFuture(new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, "no free port")));
    assertTrue(step.transform(ar -> Future.succeededFuture(ar.failed())).await());
    tracing.span(tracing.tracer().spanBuilder("manager.ManagerService/RemoveVm").setSpanKind(SpanKind.SERVER),
        span -> Future.succeededFuture()).await();
    tracing.close().await();

    await().atMost(EXPORTED_WITHIN).until(() -> receiver.span("saga.reserve-port").isPresent());
    Span span = receiver.span("saga.reserve-port").orElseThrow().span();
    assertEquals(remote.getTraceId(), hex(span.getTraceId()));
    assertEquals(remote.getSpanId(), hex(span.getParentSpanId()));
    assertEquals("vm-1", receiver.span("saga.reserve-port").orElseThrow().attribute("cvm.vm.id"));
    assertEquals(Status.StatusCode.STATUS_CODE_ERROR, span.getStatus().getCode());
    assertEquals("no free port", span.getStatus().getMessage());
    assertTrue(span.getEventsList().stream().anyMatch(e -> e.getName().equals("exception")));
    assertTrue(span.getEndTimeUnixNano() >= span.getStartTimeUnixNano());
  }

  @Test
  void theCollectorUrlGetsTheTracesPath() {
    assertEquals("http://jaeger:4318/v1/traces", Tracing.endpoint("http://jaeger:4318"));
    assertEquals("http://jaeger:4318/v1/traces", Tracing.endpoint("http://jaeger:4318/"));
    assertEquals("http://jaeger:4318/v1/traces", Tracing.endpoint("http://jaeger:4318/v1/traces"));
  }

  private static ManagerConfig config(String url) {
    try {
      return ConfigParser.parse(Map.of("COCOS_JAEGER_URL", url, "MANAGER_GRPC_PORT", String.valueOf(FreePort.next())),
          Path.of("/root"), true);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(ByteString bytes) {
    return HexFormat.of().formatHex(bytes.toByteArray());
  }
}
