package io.cvmmanager.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Summary;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Upstream Cocos manager's request metrics, beside ours, so that a dashboard or alert built for the Go manager keeps
 * working: {@code manager_api_request_count{method}} and {@code manager_api_request_latency_microseconds{method}},
 * as upstream's {@code MakeMetrics("manager", "api")} (magistrala pkg/prometheus/metrics.go) creates them and its
 * {@code api.MetricsMiddleware} (cocos manager/api/metrics.go) records them: every call, whatever its outcome, under
 * upstream's service method ({@code Run}, not our {@code CreateVm}).
 *
 * <p>Written out by hand in the Go client's text format rather than registered in the Prometheus registry: the Java
 * client writes a counter as {@code <name>_total} whatever it is called, and its numbers as Java prints them
 * ({@code 1.0}), where upstream's exposition has {@code manager_api_request_count{method="Run"} 1}. The counting and
 * the quantiles are the Java client's own (thread-safe: any event loop records).
 */
final class UpstreamApiMetrics {
  static final String REQUESTS = "manager_api_request_count";
  static final String LATENCY = "manager_api_request_latency_microseconds";

  /** Our {@code manager.ManagerService} RPCs by the upstream service method its gRPC server calls for each. */
  private static final Map<String, String> UPSTREAM_METHODS = Map.of(
      "CreateVm", "Run",
      "RemoveVm", "Stop",
      "CVMInfo", "ReturnCVMInfo",
      "AttestationPolicy", "FetchAttestationPolicy");

  private final Counter requests = Counter.builder()
      .name(REQUESTS)
      .help("Number of requests received.")
      .labelNames("method")
      .withoutExemplars()
      .build();
  /** Upstream's objectives, and the Go client's default window: 10 minutes in 5 age buckets. */
  private final Summary latency = Summary.builder()
      .name(LATENCY)
      .help("Total duration of requests in microseconds.")
      .labelNames("method")
      .quantile(0.5, 0.05)
      .quantile(0.9, 0.01)
      .quantile(0.99, 0.001)
      .maxAgeSeconds(Duration.ofMinutes(10).toSeconds())
      .numberOfAgeBuckets(5)
      .withoutExemplars()
      .build();

  /**
   * One finished call of {@code rpc} (a method of our {@code manager.ManagerService}). Observed in seconds despite
   * the name, as upstream observes {@code time.Since(begin).Seconds()}, and computed as Go's {@code Seconds()} does
   * (whole seconds plus nanoseconds / 1e9) so that the same duration gives the same double.
   */
  void record(String rpc, Duration took) {
    String method = UPSTREAM_METHODS.get(rpc);
    if (method == null) {
      throw new IllegalArgumentException("not a method of upstream's manager.ManagerService: " + rpc);
    }
    requests.labelValues(method).inc();
    latency.labelValues(method).observe(took.getSeconds() + took.getNano() / 1e9);
  }

  /**
   * Both families in the text format 0.0.4 as Go's client writes them: HELP, TYPE, then the series sorted by
   * method; nothing for a family with no call yet, as Go writes no family without series.
   */
  String exposition() {
    StringBuilder text = new StringBuilder();
    List<CounterDataPointSnapshot> counts = byMethod(requests.collect().getDataPoints());
    if (!counts.isEmpty()) {
      header(text, REQUESTS, "Number of requests received.", "counter");
      counts.forEach(count -> sample(text, REQUESTS, method(count), count.getValue()));
    }
    List<SummaryDataPointSnapshot> latencies = byMethod(latency.collect().getDataPoints());
    if (!latencies.isEmpty()) {
      header(text, LATENCY, "Total duration of requests in microseconds.", "summary");
      latencies.forEach(point -> summary(text, point));
    }
    return text.toString();
  }

  private static void summary(StringBuilder text, SummaryDataPointSnapshot point) {
    String method = method(point);
    for (Quantile quantile : point.getQuantiles()) {
      text.append(LATENCY).append("{method=\"").append(method).append("\",quantile=\"")
          .append(GoFloat.format(quantile.getQuantile())).append("\"} ").append(GoFloat.format(quantile.getValue()))
          .append('\n');
    }
    sample(text, LATENCY + "_sum", method, point.getSum());
    text.append(LATENCY).append("_count{method=\"").append(method).append("\"} ").append(point.getCount())
        .append('\n');
  }

  private static void header(StringBuilder text, String name, String help, String type) {
    text.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder text, String name, String method, double value) {
    text.append(name).append("{method=\"").append(method).append("\"} ").append(GoFloat.format(value)).append('\n');
  }

  private static <P extends DataPointSnapshot> List<P> byMethod(List<P> points) {
    return points.stream().sorted(Comparator.comparing(UpstreamApiMetrics::method)).toList();
  }

  /** A method label needs no escaping: its values are the four constants above. */
  private static String method(DataPointSnapshot point) {
    return point.getLabels().get("method");
  }
}
