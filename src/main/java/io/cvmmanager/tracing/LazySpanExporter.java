package io.cvmmanager.tracing;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * A span exporter built at its first export, on the batch processor's own thread, rather than at start-up: building
 * the OTLP exporter (its HTTP client) took a fifth of the manager's start-up, before any span exists. Flushed or
 * shut down before it was built, there is nothing to do.
 */
final class LazySpanExporter implements SpanExporter {
  private final Supplier<SpanExporter> build;
  private volatile SpanExporter built;

  LazySpanExporter(Supplier<SpanExporter> build) {
    this.build = build;
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    return exporter().export(spans);
  }

  @Override
  public CompletableResultCode flush() {
    SpanExporter exporter = built;
    return exporter == null ? CompletableResultCode.ofSuccess() : exporter.flush();
  }

  @Override
  public CompletableResultCode shutdown() {
    SpanExporter exporter = built;
    return exporter == null ? CompletableResultCode.ofSuccess() : exporter.shutdown();
  }

  private SpanExporter exporter() {
    SpanExporter exporter = built;
    if (exporter == null) {
      synchronized (this) {
        exporter = built;
        if (exporter == null) {
          exporter = build.get();
          built = exporter;
        }
      }
    }
    return exporter;
  }
}
