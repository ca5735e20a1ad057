package io.cvmmanager.config;

import io.vertx.config.spi.ConfigProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * The vertx-config format {@value #NAME}: YAML whose scalars all stay the text that was written. Every variable is
 * parsed from text by {@link ConfigParser}, as environment values are; YAML 1.1's implicit types would otherwise
 * turn a PCI address {@code 0000:01:00.0} into the number 60.0, {@code off} into false and {@code 0x2} into 2.
 */
public final class StringYamlProcessor implements ConfigProcessor {
  public static final String NAME = "manager-yaml";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Future<JsonObject> process(Vertx vertx, JsonObject configuration, Buffer input) {
    try {
      Object document = yaml().load(input.toString());
      if (document == null) {
        return Future.succeededFuture(new JsonObject());
      }
      if (!(document instanceof Map<?, ?> map)) {
        return Future.failedFuture(new IllegalArgumentException("the top level must be a map of VARIABLE: value"));
      }
      Map<String, Object> values = new LinkedHashMap<>();
      map.forEach((k, v) -> values.put(String.valueOf(k), v));
      return Future.succeededFuture(new JsonObject(values));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static Yaml yaml() {
    LoaderOptions loader = new LoaderOptions();
    DumperOptions dumper = new DumperOptions();
    Resolver textOnly = new Resolver() {
      @Override
      protected void addImplicitResolvers() {
        // none: a plain scalar is a string, whatever it looks like
      }
    };
    return new Yaml(new SafeConstructor(loader), new Representer(dumper), dumper, loader, textOnly);
  }
}
