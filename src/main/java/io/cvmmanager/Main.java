package io.cvmmanager;

import io.cvmmanager.cluster.ClusterNode;
import io.cvmmanager.cluster.ClusterStart;
import io.cvmmanager.config.ConfigLoader;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.HostFacts;
import io.cvmmanager.config.InvalidConfigException;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.StartupChecks;
import io.cvmmanager.logging.Logging;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the manager: Vert.x with its metrics, configuration (defaults, YAML, environment) checked against the host,
 * logging as configured, tracing, then the verticles. A configuration problem prints one plain line per problem on
 * stderr and exits with 2, before anything listens.
 */
public final class Main {
  public static final int EXIT_CONFIG = 2;
  public static final int EXIT_START_FAILED = 1;
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  /**
   * NuProcess polls for dead children every 250 ms by default (QEMU exits must be seen sooner), and its own JVM
   * shutdown hook stops its threads, after which no exit would be seen while our shutdown stops the VMs.
   */
  private static final Map<String, String> NUPROCESS_PROPERTIES = Map.of(
      "com.zaxxer.nuprocess.deadPoolPollMs", "100",
      "com.zaxxer.nuprocess.enableShutdownHook", "false");

  public static void main(String[] args) {
    NUPROCESS_PROPERTIES.forEach((k, v) -> {
      if (System.getProperty(k) == null) {
        System.setProperty(k, v);
      }
    });
    ManagerMetrics metrics = ManagerMetrics.create();
    Vertx vertx = metrics.vertxBuilder(new VertxOptions()).build();
    try {
      StartupChecks.Checked checked = configure(vertx, System.getenv());
      ManagerConfig config = checked.config();
      Logging.configure(config.logLevel(), config.logFormat());
      config.warnings().forEach(w -> LOG.warn("config: {}", w));
      checked.notes().forEach(n -> LOG.info("host: {}", n));
      LOG.info("cvm-manager {} instance {} starting; TEE {}, KVM {}, state in {}", Version.current(),
          config.instanceId(), checked.tee(), config.qemu().enableKvm() ? "on" : "off (TCG)", config.stateDir());
      Optional<ClusterNode> cluster = Optional.empty();
      if (config.cluster().enabled()) {
        // The configuration was read with a plain Vert.x; the manager runs on a clustered one.
        vertx.close().await();
        config = config.withCluster(ClusterStart.named(config.cluster()));
        cluster = Optional.of(ClusterStart.start(config, metrics).await());
        vertx = cluster.get().vertx();
      }
      Tracing tracing = Tracing.start(config);
      Manager manager = Manager.start(vertx, config, checked.tee(), metrics, tracing, cluster).await();
      Vertx running = vertx;
      Duration timeout = config.shutdownTimeout();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(running, manager, tracing, timeout),
          "cvm-manager-shutdown"));
      // Serving (the API is deployed after adoption): what start-up loads is loaded.
      StartupArchive.dumpInBackground();
    } catch (Exception e) {
      Throwable cause = e;
      while (!(cause instanceof InvalidConfigException) && cause.getCause() != null) {
        cause = cause.getCause();
      }
      cause = cause instanceof InvalidConfigException ? cause : e;
      vertx.close();
      if (cause instanceof InvalidConfigException invalid) {
        invalid.problems().forEach(p -> System.err.println("cvm-manager: invalid configuration: " + p));
        System.exit(EXIT_CONFIG);
      }
      LOG.error("start-up failed: {}", cause.toString());
      System.exit(EXIT_START_FAILED);
    }
  }

  /** Loads, parses and checks the configuration, and makes sure the state directory exists. */
  static StartupChecks.Checked configure(Vertx vertx, Map<String, String> environment)
      throws InvalidConfigException {
    Map<String, String> values;
    try {
      values = ConfigLoader.load(vertx, environment).await();
    } catch (Exception e) {
      if (e instanceof InvalidConfigException invalid) {
        throw invalid;
      }
      throw new InvalidConfigException(List.of("MANAGER_CONFIG: " + e.getMessage()));
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    ManagerConfig parsed = ConfigParser.parse(values, Path.of(System.getProperty("user.home")), root);
    StartupChecks.Checked checked = StartupChecks.check(parsed, HostFacts.detect(parsed.hostRoot()),
        environment.get("PATH"));
    prepareStateDir(checked.config().stateDir());
    return checked;
  }

  private static void prepareStateDir(Path stateDir) throws InvalidConfigException {
    try {
      Path vms = stateDir.resolve("vms");
      if (!Files.isDirectory(vms)) {
        Files.createDirectories(vms, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      if (!Files.isWritable(vms)) {
        throw new IOException(vms + " is not writable");
      }
    } catch (IOException e) {
      throw new InvalidConfigException(List.of("MANAGER_STATE_DIR: cannot use " + stateDir + ": " + e.getMessage()));
    }
  }

  /**
   * The verticles (the API drains first, then the VMs are left or stopped), then the spans still queued, then
   * Vert.x; all of it within MANAGER_SHUTDOWN_TIMEOUT.
   */
  private static void shutdown(Vertx vertx, Manager manager, Tracing tracing, Duration timeout) {
    LOG.info("stopping");
    try {
      manager.stop().eventually(tracing::close).eventually(vertx::close)
          .toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("shutdown did not finish cleanly: {}", e.toString());
    }
  }
}
