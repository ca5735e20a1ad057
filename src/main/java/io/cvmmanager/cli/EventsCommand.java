package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.vm.VmEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code events}: lifecycle events as they happen, one a line, {@code <at> <id> <type> <from>-><to> <reason>}, until
 * Ctrl-C. Other types than "state" carry what they have: nothing, or only {@code to} (a QMP event's name).
 */
@Command(name = "events", mixinStandardHelpOptions = true, description = "Print lifecycle events until Ctrl-C")
final class EventsCommand implements Callable<Integer> {
  @ParentCommand
  private Cvmctl cvmctl;

  @Option(names = "--id", paramLabel = "CVM_ID", description = "only this VM's events")
  private String id = "";

  @Option(names = "--replay", description = "first one state event per existing VM (its current state)")
  private boolean replay;

  @Option(names = "--history", description = "first the events the manager kept of its run (e.g. what it adopted"
      + " or found ended at start-up)")
  private boolean history;

  @Override
  public Integer call() {
    return cvmctl.stream(CvmServiceGrpcClient.WatchEvents,
        WatchEventsRequest.newBuilder().setId(id).setReplay(replay).setHistory(history).build(), EventsCommand::text);
  }

  static String text(Event event) {
    List<String> words = new ArrayList<>(List.of(VmFields.rfc3339(event.getAt()), event.getId(), event.getType()));
    if (VmEvent.STATE.equals(event.getType()) || !event.getFrom().isEmpty()) {
      words.add(event.getFrom() + "->" + event.getTo());
    } else if (!event.getTo().isEmpty()) {
      words.add(event.getTo());
    }
    if (!event.getReason().isEmpty()) {
      words.add(event.getReason());
    }
    if (!event.getNode().isEmpty()) {
      words.add("node=" + event.getNode());
    }
    return String.join(" ", words);
  }
}
