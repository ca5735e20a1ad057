package io.cvmmanager.attestation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Checks our CBOR with tools that share no code with it: Debian's python3-cbor2 (for /usr/bin/python3 only), the
 * scripts under {@code src/test/resources/attestation/}, and the openssl command line.
 */
final class IndependentCbor {
  private IndependentCbor() {}

  /** cbor_dump.py's JSON of {@code cbor}, written to a file in {@code dir}. */
  static JsonObject dump(byte[] cbor, Path dir) throws IOException, InterruptedException {
    Path file = Files.createTempFile(dir, "item", ".cbor");
    Files.write(file, cbor);
    return new JsonObject(run(dir, "/usr/bin/python3", script("cbor_dump.py"), file.toString()));
  }

  /** Python's {@code uuid.uuid5(uuid.NAMESPACE_<namespace>, name)}, as 32 hex digits. */
  static String uuid5(String namespace, String name) throws IOException, InterruptedException {
    return run(Path.of("."), "/usr/bin/python3", "-c",
        "import sys, uuid; print(uuid.uuid5(getattr(uuid, 'NAMESPACE_' + sys.argv[1]), sys.argv[2]).hex)",
        namespace, name).strip();
  }

  /** Runs a command in {@code dir}; its standard output, after asserting it exited 0. */
  static String run(Path dir, String... command) throws IOException, InterruptedException {
    Result result = runFor(dir, command);
    assertEquals(0, result.exit(), String.join(" ", command) + ": " + result.output());
    return result.output();
  }

  record Result(int exit, String output) {}

  /** Runs a command in {@code dir} with stderr into stdout; its exit code and output. */
  static Result runFor(Path dir, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      throw new IOException(String.join(" ", command) + " did not end in 30 s");
    }
    return new Result(process.exitValue(), output);
  }

  static String script(String name) {
    try {
      return Path.of(Objects.requireNonNull(IndependentCbor.class.getResource("/attestation/" + name)).toURI())
          .toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Follows map keys and array indices from {@code item}: an Integer step on an array is an index, any other step
   * is a map key (an integer key as its number, a text key as {@code "t:<text>"}); a tag is stepped through.
   */
  static Object at(Object item, Object... path) {
    Object current = item;
    for (Object step : path) {
      while (current instanceof JsonObject object && object.containsKey("tag")) {
        current = object.getValue("value");
      }
      current = step instanceof Integer index && current instanceof JsonArray array ? array.getValue(index)
          : ((JsonObject) current).getJsonObject("map").getValue(String.valueOf(step));
    }
    return current;
  }

  /** Asserts {@code item} is tag {@code tag}; its value. */
  static Object untag(Object item, int tag) {
    JsonObject object = (JsonObject) item;
    assertEquals(tag, object.getInteger("tag"), "tag of " + object);
    return object.getValue("value");
  }

  /** The hex of a bytes item. */
  static String hex(Object bytesItem) {
    return ((JsonObject) bytesItem).getString("hex");
  }
}
