import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.Styler.YAxisPosition;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The bench's CSVs and their PNG charts (XChart, headless). {@link #writeCsv} writes what the bench measured;
 * {@link #latency} and {@link #resources} draw it. {@code java -cp ... Charts bench/results} draws them again from
 * the CSVs in a folder (or from CSV files named on the command line), each CSV by its header, the PNG beside it.
 */
final class Charts {
  static final String LATENCY_HEADER = "peer,mode,concurrency,run,millis";
  static final String RESOURCES_HEADER = "vms,threads,rss_mib";
  private static final int WIDTH = 900;
  private static final int HEIGHT = 550;
  /** Above this ratio of the largest to the smallest median, the latency chart's y axis is logarithmic. */
  private static final double LOG_SPREAD = 30;
  /** A fixed colour per peer, so that every chart reads alike; other peers get XChart's defaults. */
  private static final Map<String, Color> PEER_COLORS = Map.of(
      "manager", new Color(0x1f77b4), "raw-qemu", new Color(0x2ca02c), "libvirt", new Color(0xd62728));

  private Charts() {}

  /** Draws every CSV of the folders or files named, by its header, to the PNG of the same name beside it. */
  public static void main(String[] args) throws IOException {
    System.setProperty("java.awt.headless", "true");
    if (args.length == 0) {
      System.err.println("usage: Charts <folder or .csv>...");
      System.exit(2);
    }
    for (String arg : args) {
      Path p = Path.of(arg);
      List<Path> csvs;
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          csvs = s.filter(f -> f.toString().endsWith(".csv")).sorted().collect(Collectors.toList());
        }
      } else {
        csvs = List.of(p);
      }
      for (Path csv : csvs) {
        Path png = csv.resolveSibling(csv.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
        String header = Files.readAllLines(csv, StandardCharsets.UTF_8).stream().findFirst().orElse("").strip();
        if (header.equals(LATENCY_HEADER)) {
          latency(csv, png);
        } else if (header.equals(RESOURCES_HEADER)) {
          resources(csv, png);
        } else {
          System.err.println("skipped " + csv + ": header is neither " + LATENCY_HEADER + " nor " + RESOURCES_HEADER);
          continue;
        }
        System.out.println("drew " + png);
      }
    }
  }

  /**
   * Writes {@code rows} under {@code header} (comma-separated, no spaces) to {@code csv}, creating its folder.
   * Values are written with {@code String.valueOf}; one holding a comma, a quote or a line break is quoted.
   */
  static void writeCsv(Path csv, String header, List<? extends List<?>> rows) {
    StringBuilder sb = new StringBuilder(header).append('\n');
    for (List<?> row : rows) {
      sb.append(row.stream().map(Charts::csvField).collect(Collectors.joining(","))).append('\n');
    }
    try {
      if (csv.toAbsolutePath().getParent() != null) Files.createDirectories(csv.toAbsolutePath().getParent());
      Files.writeString(csv, sb, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * CSV {@code peer,mode,concurrency,run,millis}: for the rows of mode {@code paused}, the median millis per peer
   * and concurrency, one line per peer, to {@code png}; for those of mode {@code booted}, if any, the same to
   * {@code <png without .png>-booted.png}.
   */
  static void latency(Path csv, Path png) {
    List<Map<String, String>> rows = readCsv(csv);
    latencyChart(rows, "paused", "Paused VMs started at once: time until all replied (median)", png);
    if (rows.stream().anyMatch(r -> "booted".equals(r.get("mode")))) {
      String name = png.getFileName().toString().replaceFirst("\\.png$", "");
      latencyChart(rows, "booted", "Booted VMs started at once: time until all replied (median)",
          png.resolveSibling(name + "-booted.png"));
    }
  }

  private static void latencyChart(List<Map<String, String>> rows, String mode, String title, Path png) {
    // peer (in order of first appearance) -> concurrency -> the runs' millis
    Map<String, Map<Integer, List<Double>>> byPeer = new LinkedHashMap<>();
    TreeSet<Integer> concurrencies = new TreeSet<>();
    for (Map<String, String> r : rows) {
      if (!mode.equals(r.get("mode"))) continue;
      int c = Integer.parseInt(r.get("concurrency"));
      concurrencies.add(c);
      byPeer.computeIfAbsent(r.get("peer"), k -> new HashMap<>()).computeIfAbsent(c, k -> new ArrayList<>())
          .add(Double.parseDouble(r.get("millis")));
    }
    // A category x axis: the concurrencies (1 5 10 20 50 100, roughly log-spaced) equally spaced, each labelled.
    CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle("VMs created at once").yAxisTitle("ms until all replied").build();
    CategoryStyler st = chart.getStyler();
    style(st);
    st.setDefaultSeriesRenderStyle(CategorySeriesRenderStyle.Line).setOverlapped(true);
    st.setLegendPosition(LegendPosition.InsideNW);
    st.setYAxisDecimalPattern("#,##0");
    List<String> x = concurrencies.stream().map(String::valueOf).collect(Collectors.toList());
    double min = Double.MAX_VALUE, max = 0;
    for (var e : byPeer.entrySet()) {
      List<Double> y = new ArrayList<>();
      for (int c : concurrencies) {
        List<Double> runs = e.getValue().get(c);
        Double m = runs == null ? null : median(runs); // a gap where this peer has no runs
        y.add(m);
        if (m != null) {
          min = Math.min(min, m);
          max = Math.max(max, m);
        }
      }
      CategorySeries s = chart.addSeries(e.getKey(), x, y);
      s.setMarker(SeriesMarkers.CIRCLE);
      Color c = PEER_COLORS.get(e.getKey());
      if (c != null) {
        s.setLineColor(c);
        s.setMarkerColor(c);
      }
    }
    if (byPeer.isEmpty()) {
      // XChart cannot draw a chart without a series: say so in one.
      chart.addSeries("no " + mode + " rows", List.of("-"), List.of(0));
    } else if (min > 0 && max / min > LOG_SPREAD) {
      st.setYAxisLogarithmic(true);
      chart.setYAxisTitle("ms until all replied (log scale)");
      // XChart labels a log axis at the powers of ten only: widen the axis until it holds two of them.
      double lo = Math.log10(min), hi = Math.log10(max);
      // (A spread over 30x holds at least one, so the nearer power of ten beyond min or max makes two.)
      if (Math.floor(hi) - Math.ceil(lo) < 1) {
        if (lo - Math.floor(lo) <= Math.ceil(hi) - hi) {
          st.setYAxisMin(Math.pow(10, Math.floor(lo)));
        } else {
          st.setYAxisMax(Math.pow(10, Math.ceil(hi)));
        }
      }
    } else {
      st.setYAxisMin(0.0);
    }
    save(chart, png);
  }

  /**
   * CSV {@code vms,threads,rss_mib}: the manager's RSS (MiB, left y axis) and threads (right y axis) against the
   * number of VMs, to {@code png}.
   */
  static void resources(Path csv, Path png) {
    List<Map<String, String>> rows = new ArrayList<>(readCsv(csv));
    if (rows.isEmpty()) throw new IllegalArgumentException(csv + " has no rows");
    rows.sort(Comparator.comparingDouble(r -> Double.parseDouble(r.get("vms"))));
    double[] vms = column(rows, "vms");
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
        .title("The manager's RSS and threads by paused VMs").xAxisTitle("VMs").yAxisTitle("RSS (MiB)").build();
    XYStyler st = chart.getStyler();
    style(st);
    st.setLegendPosition(LegendPosition.InsideNW);
    st.setYAxisMin(0, 0.0).setYAxisMin(1, 0.0);
    st.setYAxisGroupPosition(1, YAxisPosition.Right);
    Color rss = new Color(0x1f77b4), threads = new Color(0xff7f0e);
    XYSeries r = chart.addSeries("RSS (MiB)", vms, column(rows, "rss_mib"));
    r.setMarker(SeriesMarkers.CIRCLE);
    r.setLineColor(rss);
    r.setMarkerColor(rss);
    XYSeries t = chart.addSeries("threads", vms, column(rows, "threads"));
    t.setMarker(SeriesMarkers.DIAMOND);
    t.setLineColor(threads);
    t.setMarkerColor(threads);
    t.setYAxisGroup(1);
    chart.setYAxisGroupTitle(0, "RSS (MiB)");
    chart.setYAxisGroupTitle(1, "threads");
    st.setYAxisGroupTickLabelsColorMap(0, rss).setYAxisGroupTickLabelsColorMap(1, threads);
    st.setYAxisGroupTitleColor(0, rss).setYAxisGroupTitleColor(1, threads);
    st.setXAxisDecimalPattern("#");
    save(chart, png);
  }

  /** White, larger fonts than XChart's defaults, light grid lines. */
  private static void style(AxesChartStyler st) {
    st.setChartBackgroundColor(Color.WHITE).setPlotBackgroundColor(Color.WHITE).setPlotBorderColor(Color.GRAY);
    st.setLegendBorderColor(Color.LIGHT_GRAY);
    st.setChartTitleBoxVisible(false);
    st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
    st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
    st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    st.setPlotGridLinesColor(new Color(0xdddddd)).setPlotGridLinesStroke(new BasicStroke(1f));
    st.setMarkerSize(9);
    st.setChartPadding(12);
    st.setAntiAlias(true);
  }

  private static void save(Chart<?, ?> chart, Path png) {
    try {
      if (png.toAbsolutePath().getParent() != null) Files.createDirectories(png.toAbsolutePath().getParent());
      try (OutputStream out = Files.newOutputStream(png)) {
        BitmapEncoder.saveBitmap(chart, out, BitmapFormat.PNG);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The rows of a CSV with a header line, each as column name → value; blank lines skipped. */
  private static List<Map<String, String>> readCsv(Path csv) {
    List<String> lines;
    try {
      lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (lines.isEmpty()) throw new IllegalArgumentException(csv + " is empty");
    List<String> names = splitCsv(lines.get(0));
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) continue;
      List<String> values = splitCsv(line);
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < names.size() && i < values.size(); i++) row.put(names.get(i).strip(), values.get(i).strip());
      rows.add(row);
    }
    return rows;
  }

  private static List<String> splitCsv(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
        f.append('"');
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.add(f.toString());
        f.setLength(0);
      } else {
        f.append(c);
      }
    }
    fields.add(f.toString());
    return fields;
  }

  private static String csvField(Object o) {
    String s = String.valueOf(o);
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }

  private static double[] column(List<Map<String, String>> rows, String name) {
    return rows.stream().mapToDouble(r -> Double.parseDouble(r.get(name))).toArray();
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
