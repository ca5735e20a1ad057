package io.cvmmanager.tracing;

import io.cvmmanager.Version;
import io.cvmmanager.config.ManagerConfig;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenTelemetry spans, exported over OTLP/HTTP to {@code COCOS_JAEGER_URL/v1/traces} in batches, sampled at
 * {@code COCOS_JAEGER_TRACE_RATIO} (parent-based). Nothing here uses the current-context thread-local: spans are
 * parented explicitly, across the event bus by a W3C {@code traceparent} header ({@link #inject}, {@link #extract}).
 *
 * <p>Tracing is best effort. The exporter reports through java.util.logging; its messages (a collector that is
 * not there, one that refuses a batch) are routed to this manager's log at debug level only, never to stderr.
 */
public final class Tracing {
  public static final String SERVICE_NAME = "cvm-manager";
  public static final String TRACES_PATH = "/v1/traces";
  private static final String INSTRUMENTATION = "io.cvmmanager";
  private static final Duration EXPORT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration BATCH_DELAY = Duration.ofSeconds(1);
  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
  private static final Logger EXPORT_LOG = LoggerFactory.getLogger("io.opentelemetry");
  /** JUL keeps loggers weakly: without this reference, its configuration could be collected with it. */
  private static final java.util.logging.Logger OTEL_JUL = java.util.logging.Logger.getLogger("io.opentelemetry");

  private static final TextMapSetter<DeliveryOptions> HEADER_SETTER = DeliveryOptions::addHeader;
  private static final TextMapGetter<MultiMap> HEADER_GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(MultiMap headers) {
      return headers.names();
    }

    @Override
    public String get(MultiMap headers, String key) {
      return headers == null ? null : headers.get(key);
    }
  };

  private final OpenTelemetry openTelemetry;
  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private Tracing(OpenTelemetry openTelemetry, SdkTracerProvider provider) {
    this.openTelemetry = openTelemetry;
    this.provider = provider;
    this.tracer = openTelemetry.getTracer(INSTRUMENTATION, Version.current());
  }

  /** The SDK with its exporter, as configured. Close it when the manager stops: that flushes what is queued. */
  public static Tracing start(ManagerConfig config) {
    routeExporterLogging();
    ManagerConfig.Tracing settings = config.tracing();
    SpanExporter exporter = new LazySpanExporter(() -> OtlpHttpSpanExporter.builder()
        .setEndpoint(endpoint(settings.otlpUrl()))
        .setTimeout(EXPORT_TIMEOUT)
        // A batch that cannot be delivered is dropped; retrying would only hold up shutdown.
        .setRetryPolicy(null)
        .build());
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
        AttributeKey.stringKey("service.name"), SERVICE_NAME,
        AttributeKey.stringKey("service.instance.id"), config.instanceId(),
        AttributeKey.stringKey("service.version"), Version.current())));
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(resource)
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.ratio())))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter)
            .setScheduleDelay(BATCH_DELAY)
            .setExporterTimeout(EXPORT_TIMEOUT)
            .build())
        .build();
    LOG.info("tracing to {} (sampling ratio {})", endpoint(settings.otlpUrl()), settings.ratio());
    return new Tracing(OpenTelemetrySdk.builder().setTracerProvider(provider).build(), provider);
  }

  /** No spans at all, for tests of other things. */
  public static Tracing off() {
    return new Tracing(OpenTelemetry.noop(), null);
  }

  /** The OTLP/HTTP traces URL for a collector's base URL ({@code COCOS_JAEGER_URL}). */
  static String endpoint(String baseUrl) {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    return base.endsWith(TRACES_PATH) ? base : base + TRACES_PATH;
  }

  public Tracer tracer() {
    return tracer;
  }

  /**
   * Runs {@code work} inside a new internal span, child of {@code parent} (null or invalid: a new trace), with
   * {@code attributes}; the span ends when the future completes, with an error status and the exception if it
   * failed. {@code work} gets the span, to add attributes or to pass its context on ({@link #inject}).
   */
  public <T> Future<T> span(String name, SpanContext parent, Map<String, String> attributes,
      Function<Span, Future<T>> work) {
    SpanBuilder builder = tracer.spanBuilder(name);
    attributes.forEach(builder::setAttribute);
    return span(withParent(builder, parent), work);
  }

  /** As {@link #span(String, SpanContext, Map, Function)} for a span built by the caller (kind, links, ...). */
  public <T> Future<T> span(SpanBuilder builder, Function<Span, Future<T>> work) {
    Span span = builder.startSpan();
    Future<T> result;
    try {
      result = work.apply(span);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    return result.andThen(ar -> {
      if (ar.failed()) {
        span.recordException(ar.cause());
        Throwable cause = ar.cause();
        span.setStatus(StatusCode.ERROR, cause.getMessage() == null ? cause.toString() : cause.getMessage());
      }
      span.end();
    });
  }

  /**
   * Sets the builder's parent explicitly: without it the SDK would read the thread's current context, which Vert.x
   * event loops share between unrelated requests.
   */
  public static SpanBuilder withParent(SpanBuilder builder, SpanContext parent) {
    if (parent == null || !parent.isValid()) {
      return builder.setNoParent();
    }
    return builder.setParent(Context.root().with(Span.wrap(parent)));
  }

  /** Adds {@code traceparent} (and {@code tracestate}) for {@code context} to an event-bus message's headers. */
  public static DeliveryOptions inject(SpanContext context, DeliveryOptions options) {
    if (context != null && context.isValid()) {
      W3CTraceContextPropagator.getInstance().inject(Context.root().with(Span.wrap(context)), options, HEADER_SETTER);
    }
    return options;
  }

  /** The remote span context of an event-bus message's {@code traceparent}; invalid if it has none. */
  public static SpanContext extract(MultiMap headers) {
    Context context = W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADER_GETTER);
    return Span.fromContext(context).getSpanContext();
  }

  /** Flushes queued spans (one export attempt, bounded by the export timeout) and stops the exporter. */
  public Future<Void> close() {
    if (provider == null) {
      return Future.succeededFuture();
    }
    Promise<Void> promise = Promise.promise();
    CompletableResultCode shutdown = provider.shutdown();
    shutdown.whenComplete(promise::tryComplete);
    return promise.future();
  }

  /**
   * The exporter logs a failed export at SEVERE through java.util.logging, whose default handler prints to stderr
   * — with no collector listening, every batch. Its messages go to our log at debug instead.
   */
  private static void routeExporterLogging() {
    synchronized (OTEL_JUL) {
      for (Handler handler : OTEL_JUL.getHandlers()) {
        if (handler instanceof DebugHandler) {
          return;
        }
      }
      OTEL_JUL.setUseParentHandlers(false);
      OTEL_JUL.setLevel(EXPORT_LOG.isDebugEnabled() ? Level.ALL : Level.OFF);
      OTEL_JUL.addHandler(new DebugHandler());
    }
  }

  private static final class DebugHandler extends Handler {
    private final SimpleFormatter formatter = new SimpleFormatter();

    @Override
    public void publish(LogRecord record) {
      Logger logger = LoggerFactory.getLogger(record.getLoggerName() == null ? "io.opentelemetry"
          : record.getLoggerName());
      if (logger.isDebugEnabled()) {
        String message = formatter.formatMessage(record);
        if (record.getThrown() != null) {
          logger.debug("{}: {}", message, record.getThrown().toString());
        } else {
          logger.debug(message);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
