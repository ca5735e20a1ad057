package io.cvmmanager.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges the configuration sources with vertx-config, lowest precedence first: built-in defaults (applied by
 * {@link ConfigParser}), then {@code conf/manager.yaml} or the file named by MANAGER_CONFIG, then the environment.
 * The YAML file uses the same flat variable names as the environment, so one table documents both.
 */
public final class ConfigLoader {
  public static final String DEFAULT_FILE = "conf/manager.yaml";

  private ConfigLoader() {}

  /**
   * @param environment the process environment (a parameter so tests can give their own)
   * @return every variable set in the YAML file or the environment, as strings, environment winning
   */
  public static Future<Map<String, String>> load(Vertx vertx, Map<String, String> environment) {
    return load(vertx, environment, Path.of(DEFAULT_FILE));
  }

  /** As {@link #load(Vertx, Map)}, with the file read when MANAGER_CONFIG is not set. */
  public static Future<Map<String, String>> load(Vertx vertx, Map<String, String> environment, Path defaultFile) {
    String named = environment.getOrDefault(ConfigVariable.MANAGER_CONFIG.name(), "");
    Path file = named.isEmpty() ? defaultFile : Path.of(named);
    if (!named.isEmpty() && !Files.isReadable(file)) {
      return Future.failedFuture(new InvalidConfigException(
          List.of("MANAGER_CONFIG: " + named + " is missing or not readable")));
    }
    // The default file is optional; a file that exists (or was named) must parse, or start-up stops. Without one the
    // environment is the whole configuration, as is: no retriever to build (a tenth of the manager's start-up).
    if (!Files.exists(file)) {
      return Future.succeededFuture(new LinkedHashMap<>(environment));
    }
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setScanPeriod(0);
    options.addStore(new ConfigStoreOptions().setType("file").setFormat(StringYamlProcessor.NAME)
        .setConfig(new JsonObject().put("path", file.toString())));
    options.addStore(new ConfigStoreOptions().setType("json")
        .setConfig(new JsonObject(new LinkedHashMap<>(environment))));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
        .eventually(retriever::close)
        .recover(e -> Future.failedFuture(new InvalidConfigException(
            List.of("MANAGER_CONFIG: cannot read " + file + ": " + e.getMessage()))))
        .compose(ConfigLoader::toStrings);
  }

  private static Future<Map<String, String>> toStrings(JsonObject merged) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : merged) {
      Object value = entry.getValue();
      if (value instanceof JsonObject || value instanceof io.vertx.core.json.JsonArray) {
        return Future.failedFuture(new InvalidConfigException(
            List.of(entry.getKey() + ": must be a single value, not a list or map")));
      }
      values.put(entry.getKey(), value == null ? "" : String.valueOf(value));
    }
    return Future.succeededFuture(values);
  }
}
