package io.cvmmanager.cli;

import com.google.protobuf.Timestamp;
import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code list}: the manager's VMs in creation order, as a table for people or one JSON object a line for scripts. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List the manager's virtual machines")
final class ListCommand implements Callable<Integer> {
  private static final List<String> HEADER =
      List.of("ID", "STATE", "PORT", "PID", "AGENT", "BOOT", "TEE", "CREATED", "TTL", "NODE");

  @ParentCommand
  private Cvmctl cvmctl;

  @Option(names = "--json", description = "one JSON object per VM and line, every field of GetVm")
  private boolean json;

  @Override
  public Integer call() {
    return cvmctl.call(CvmServiceGrpcClient.ListVms, ListVmsRequest.getDefaultInstance(),
        json ? ListCommand::jsonLines : ListCommand::table);
  }

  /** Field names as in the proto's JSON mapping (what grpcurl prints); every field present, null when unset. */
  private static String jsonLines(ListVmsResponse response) {
    return response.getVmsList().stream().map(vm -> {
      JsonObject object = new JsonObject();
      VmFields.of(vm).forEach((field, value) -> object.put(field.getJsonName(), value));
      return object.encode();
    }).collect(Collectors.joining("\n"));
  }

  private static String table(ListVmsResponse response) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(HEADER);
    for (Vm vm : response.getVmsList()) {
      rows.add(List.of(vm.getId(), vm.getState().name(), String.valueOf(vm.getPort()), String.valueOf(vm.getPid()),
          vm.getAgentReady() ? "ready" : "-", vm.getBootMode(), vm.getTee(), seconds(vm.getCreated()),
          vm.hasTtlDeadline() ? seconds(vm.getTtlDeadline()) : "-", vm.getNode().isEmpty() ? "-" : vm.getNode()));
    }
    return Table.of(rows);
  }

  private static String seconds(Timestamp at) {
    return Instant.ofEpochSecond(at.getSeconds()).toString();
  }
}
