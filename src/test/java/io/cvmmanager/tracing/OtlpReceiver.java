package io.cvmmanager.tracing;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal OTLP/HTTP collector: {@code POST /v1/traces} with a protobuf {@code ExportTraceServiceRequest}, answered
 * 200 with an empty response; every span kept with its resource.
 */
final class OtlpReceiver implements AutoCloseable {
  record Received(Resource resource, Span span) {
    String attribute(String key) {
      return value(span.getAttributesList(), key);
    }

    String resourceAttribute(String key) {
      return value(resource.getAttributesList(), key);
    }

    private static String value(List<KeyValue> attributes, String key) {
      return attributes.stream().filter(kv -> kv.getKey().equals(key)).findFirst()
          .map(kv -> kv.getValue().hasIntValue() ? String.valueOf(kv.getValue().getIntValue())
              : kv.getValue().getStringValue())
          .orElse(null);
    }
  }

  private final HttpServer server;
  private final List<Received> spans = new CopyOnWriteArrayList<>();

  private OtlpReceiver(Vertx vertx) {
    this.server = vertx.createHttpServer().requestHandler(this::handle);
  }

  static OtlpReceiver start(Vertx vertx) {
    OtlpReceiver receiver = new OtlpReceiver(vertx);
    receiver.server.listen(0, "localhost").await();
    return receiver;
  }

  /** The collector base URL, as COCOS_JAEGER_URL takes it. */
  String url() {
    return "http://localhost:" + server.actualPort();
  }

  List<Received> spans() {
    return List.copyOf(spans);
  }

  Optional<Received> span(String name) {
    return spans.stream().filter(s -> s.span().getName().equals(name)).findFirst();
  }

  private void handle(HttpServerRequest request) {
    if (request.method() != HttpMethod.POST || !request.path().equals(Tracing.TRACES_PATH)) {
      request.response().setStatusCode(404).end();
      return;
    }
    request.body().onSuccess(body -> {
      try {
        ExportTraceServiceRequest export = ExportTraceServiceRequest.parseFrom(body.getBytes());
        for (ResourceSpans resourceSpans : export.getResourceSpansList()) {
          for (ScopeSpans scope : resourceSpans.getScopeSpansList()) {
            scope.getSpansList().forEach(span -> spans.add(new Received(resourceSpans.getResource(), span)));
          }
        }
        request.response().putHeader("content-type", "application/x-protobuf")
            .end(Buffer.buffer(ExportTraceServiceResponse.getDefaultInstance().toByteArray()));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        request.response().setStatusCode(400).end(e.toString());
      }
    });
  }

  @Override
  public void close() {
    server.close().await();
  }
}
