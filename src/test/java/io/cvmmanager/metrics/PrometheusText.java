package io.cvmmanager.metrics;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line must be a HELP, TYPE or other comment,
 * blank, or a sample {@code name{label="value",...} value [timestamp]}; a family's TYPE comes before its samples,
 * once; a family's lines form one group; no series twice. Anything else throws, naming the line.
 */
public final class PrometheusText {
  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final String LABEL_VALUE = "\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
  private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=" + LABEL_VALUE;
  private static final String VALUE = "(?:[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)";
  private static final Pattern SAMPLE = Pattern.compile(
      "(" + NAME + ")(?:\\{((?:" + LABEL + ")(?:," + LABEL + ")*,?)?\\})? (" + VALUE + ")(?: (-?[0-9]+))?");
  private static final Pattern ONE_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=(" + LABEL_VALUE + ")");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*|# HELP (" + NAME + ")");
  private static final Pattern TYPE = Pattern.compile(
      "# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");

  private final Map<String, Double> series;
  private final Map<String, String> types;

  private PrometheusText(Map<String, Double> series, Map<String, String> types) {
    this.series = series;
    this.types = types;
  }

  public static PrometheusText parse(String text) {
    Map<String, Double> series = new LinkedHashMap<>();
    Map<String, String> types = new HashMap<>();
    Set<String> closedFamilies = new HashSet<>();
    String family = null;
    int number = 0;
    for (String line : text.split("\n", -1)) {
      number++;
      if (line.isEmpty()) {
        continue;
      }
      String where = "line " + number + ": " + line;
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        String name = type.group(1);
        if (types.containsKey(name) || closedFamilies.contains(name)) {
          throw new IllegalArgumentException("second TYPE for " + name + ", " + where);
        }
        if (series.keySet().stream().anyMatch(s -> familyOf(s.replaceAll("\\{.*", ""), name))) {
          throw new IllegalArgumentException("TYPE after samples of " + name + ", " + where);
        }
        types.put(name, type.group(2));
        family = switchFamily(family, name, closedFamilies, where);
        continue;
      }
      if (HELP.matcher(line).matches()) {
        String name = line.split(" ")[2];
        family = switchFamily(family, name, closedFamilies, where);
        continue;
      }
      if (line.startsWith("#")) {
        if (line.startsWith("# HELP") || line.startsWith("# TYPE")) {
          throw new IllegalArgumentException("malformed HELP or TYPE, " + where);
        }
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      if (!sample.matches()) {
        throw new IllegalArgumentException("not a sample, " + where);
      }
      String name = sample.group(1);
      String owner = types.containsKey(name) ? name
          : types.keySet().stream().filter(t -> familyOf(name, t)).findFirst().orElse(name);
      family = switchFamily(family, owner, closedFamilies, where);
      String key = key(name, labels(sample.group(2)));
      if (series.put(key, Double.parseDouble(sample.group(3).replace("Inf", "Infinity"))) != null) {
        throw new IllegalArgumentException("series twice, " + where);
      }
    }
    return new PrometheusText(series, types);
  }

  private static String switchFamily(String current, String next, Set<String> closed, String where) {
    if (next.equals(current)) {
      return current;
    }
    if (closed.contains(next)) {
      throw new IllegalArgumentException(next + " is not one group, " + where);
    }
    if (current != null) {
      closed.add(current);
    }
    return next;
  }

  /** Whether sample {@code name} belongs to the family {@code family}: itself, or its _bucket, _sum, _count. */
  private static boolean familyOf(String name, String family) {
    return name.equals(family) || name.equals(family + "_bucket") || name.equals(family + "_sum")
        || name.equals(family + "_count") || name.equals(family + "_created");
  }

  private static Map<String, String> labels(String text) {
    Map<String, String> labels = new TreeMap<>();
    if (text != null) {
      Matcher m = ONE_LABEL.matcher(text);
      while (m.find()) {
        String quoted = m.group(2);
        String value = quoted.substring(1, quoted.length() - 1)
            .replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
        if (labels.put(m.group(1), value) != null) {
          throw new IllegalArgumentException("label " + m.group(1) + " twice in " + text);
        }
      }
    }
    return labels;
  }

  private static String key(String name, Map<String, String> labels) {
    StringBuilder key = new StringBuilder(name).append('{');
    labels.forEach((k, v) -> key.append(k).append("=\"").append(v).append("\","));
    return key.append('}').toString();
  }

  /** The value of one series, or null if the scrape does not have it. */
  public Double value(String name, Map<String, String> labels) {
    return series.get(key(name, new TreeMap<>(labels)));
  }

  public Double value(String name) {
    return value(name, Map.of());
  }

  /** The declared type of a family, or null. */
  public String type(String family) {
    return types.get(family);
  }

  public int size() {
    return series.size();
  }
}
