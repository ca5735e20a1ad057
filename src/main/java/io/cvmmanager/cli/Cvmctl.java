package io.cvmmanager.cli;

import io.cvmmanager.Version;
import io.cvmmanager.config.GoDuration;
import io.vertx.grpc.common.ServiceMethod;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code cvmctl}: upstream cocos-cli's {@code create-vm} and {@code remove-vm} against a manager, with cocos-cli's
 * flags, environment and success line; and {@code list}, {@code info}, {@code host}, {@code top}, {@code logs},
 * {@code events} on our {@code cvm.v1.CvmService}. A failed call prints {@code error: <gRPC status>: <message>} on
 * stderr and exits with 1; a usage error exits with 2; a stream (or top) stopped with Ctrl-C exits with 0.
 */
@Command(name = "cvmctl", mixinStandardHelpOptions = true, versionProvider = Cvmctl.VersionProvider.class,
    description = "Creates, removes and watches confidential VMs through a manager; create-vm and remove-vm as "
        + "cocos-cli.",
    footerHeading = "%nEnvironment:%n",
    footer = {
        "  MANAGER_GRPC_URL              manager's host:port (" + ManagerConnection.DEFAULT_URL + ")",
        "  MANAGER_GRPC_SERVER_CA_CERTS  CA certificate(s) to trust: TLS",
        "  MANAGER_GRPC_CLIENT_CERT      client certificate, mutual TLS (with the CA)",
        "  MANAGER_GRPC_CLIENT_KEY       its key"})
public final class Cvmctl {
  /**
   * The subcommands, in the order help lists them. Registered by {@link #run} rather than in the annotation, so that a
   * command line naming one builds only that one's model: picocli reflects over every registered class, and building
   * them all took a third of a {@code cvmctl list}.
   */
  static final List<Class<?>> SUBCOMMANDS = List.of(CreateVmCommand.class, RemoveVmCommand.class, ListCommand.class,
      InfoCommand.class, HostCommand.class, TopCommand.class, LogsCommand.class, EventsCommand.class,
      CorimCommand.class, AttestationPolicyCommand.class, NodesCommand.class, NodeCommand.class);
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;
  /** Held: java.util.logging keeps loggers weakly, and a collected root would come back at INFO. */
  private static final java.util.logging.Logger JUL_ROOT = java.util.logging.Logger.getLogger("");

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;
  private final Interrupt interrupt;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, defaultValue = "60s", paramLabel = "DURATION",
      description = "longest wait for the manager (for logs and events: for their stream to open), Go syntax "
          + "(default: ${DEFAULT-VALUE})")
  private Duration timeout;

  private Cvmctl(Map<String, String> env, PrintStream out, PrintStream err, Interrupt interrupt) {
    this.env = env;
    this.out = out;
    this.err = err;
    this.interrupt = interrupt;
  }

  public static void main(String[] args) {
    quietLogging();
    // The JDK's resolver for the manager's one name: Netty's DNS resolver reads the system's DNS set-up first.
    System.setProperty("vertx.disableDnsResolver", "true");
    System.exit(run(args, System.getenv(), System.out, System.err, Interrupt.onSigint()));
  }

  /**
   * The CLI keeps stderr for its own error line, and logs nothing: Vert.x and Netty log through java.util.logging at
   * SEVERE only (Vert.x warns of the evicted connection when the client closes), and SLF4J binds no provider, so that
   * Logback never starts: parsing the manager's logback.xml was a tenth of a {@code cvmctl list}.
   */
  private static void quietLogging() {
    System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.JULLogDelegateFactory");
    io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
        io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
    JUL_ROOT.setLevel(java.util.logging.Level.SEVERE);
  }

  /** Runs one command line with the given environment and streams, and returns the exit code. */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    return run(args, env, out, err, Interrupt.byCaller());
  }

  /** As {@link #run(String[], Map, PrintStream, PrintStream)}, a stream stopped by {@code interrupt}. */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err,
      Interrupt interrupt) {
    CommandLine cli = new CommandLine(new Cvmctl(env, out, err, interrupt));
    subcommandsFor(args).forEach(cli::addSubcommand);
    cli.setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .registerConverter(Duration.class, Cvmctl::positiveDuration)
        .setExecutionExceptionHandler((e, command, parsed) -> {
          // The message, for a person: "cannot write policy.cbor: Permission denied", not an exception's name.
          String message = e.getMessage() == null ? e.toString() : e.getMessage();
          err.println("error: " + message + (e.getCause() != null && e.getCause().getMessage() != null
              && !message.contains(e.getCause().getMessage()) ? ": " + e.getCause().getMessage() : ""));
          return EXIT_FAILED;
        });
    return cli.execute(args);
  }

  /**
   * The one subcommand the first argument naming one names; all of them when none does (root help, a misspelt
   * command: picocli then lists them, or suggests the nearest).
   */
  static List<Class<?>> subcommandsFor(String[] args) {
    for (String arg : args) {
      for (Class<?> command : SUBCOMMANDS) {
        if (command.getAnnotation(Command.class).name().equals(arg)) {
          return List.of(command);
        }
      }
    }
    return SUBCOMMANDS;
  }

  private static Duration positiveDuration(String text) {
    Duration d;
    try {
      d = GoDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
    if (d.isNegative() || d.isZero()) {
      throw new CommandLine.TypeConversionException("\"" + text + "\" must be more than zero");
    }
    return d;
  }

  /**
   * One call to the manager: prints {@code success}'s text on stdout (nothing when it is empty, as {@code list --json}
   * of no VM), or the status and its message on stderr.
   */
  <Req, Resp> int call(ServiceMethod<Resp, Req> method, Req request, Function<Resp, String> success) {
    return connected(manager -> {
      ManagerConnection.Answer<Resp> answer = manager.call(method, request);
      if (!answer.ok()) {
        return failed(answer);
      }
      String text = success.apply(answer.response());
      if (!text.isEmpty()) {
        out.println(text);
      }
      return CommandLine.ExitCode.OK;
    });
  }

  /**
   * A server stream: {@code line}'s text for each message on stdout, until the server ends the stream or the user
   * interrupts it (exit 0), or it fails (its status and message on stderr, exit 1).
   */
  <Req, Resp> int stream(ServiceMethod<Resp, Req> method, Req request, Function<Resp, String> line) {
    return connected(manager -> {
      ManagerConnection.Answer<Void> answer = manager.stream(method, request, message -> out.println(
          line.apply(message)), interrupt);
      return answer.ok() ? CommandLine.ExitCode.OK : failed(answer);
    });
  }

  int connected(Function<ManagerConnection, Integer> command) {
    ManagerConnection manager;
    try {
      manager = ManagerConnection.open(env, timeout, warning -> err.println("warning: " + warning));
    } catch (IllegalArgumentException e) {
      return fail(e.getMessage());
    }
    try (manager) {
      return command.apply(manager);
    }
  }

  int failed(ManagerConnection.Answer<?> answer) {
    return fail(answer.status().name() + ": " + answer.message());
  }

  /** How a command that runs until stopped (top, a stream) is stopped. */
  Interrupt interrupt() {
    return interrupt;
  }

  PrintStream out() {
    return out;
  }

  int fail(String message) {
    err.println("error: " + message);
    return EXIT_FAILED;
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cvmctl " + Version.current()};
    }
  }
}
