package io.cvmmanager.launcher;

import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.resources.Claim;
import io.cvmmanager.vm.Tee;
import java.util.List;
import java.util.Optional;

/**
 * What a VM holds, read back from the QEMU command line recorded in a state.json of format 1 (written before the
 * record kept its resources): {@code -m <size>,...}, {@code -smp <count>,...} and {@code -device vfio-pci,host=<bdf>}.
 * Its disk is not on the command line: it counts 0, as the free space read since has the disk already taken off.
 */
final class RecordedCommand {
  private RecordedCommand() {}

  static Claim claim(String id, Tee tee, List<String> command) {
    long memory = optionAfter(command, "-m").map(value -> QemuConfig.Memory.bytesOf(firstField(value)))
        .filter(bytes -> bytes > 0).orElse(0L);
    int vcpus = optionAfter(command, "-smp").map(RecordedCommand::firstField).map(RecordedCommand::count)
        .orElse(0);
    Optional<String> gpu = command.stream().filter(arg -> arg.startsWith("vfio-pci,")).flatMap(arg ->
        List.of(arg.split(",")).stream()).filter(field -> field.startsWith("host=")).map(field -> field.substring(5))
        .findFirst();
    return new Claim(id, memory, vcpus, tee, gpu, 0);
  }

  private static Optional<String> optionAfter(List<String> command, String option) {
    int at = command.indexOf(option);
    return at >= 0 && at + 1 < command.size() ? Optional.of(command.get(at + 1)) : Optional.empty();
  }

  /** {@code 2048M} of {@code 2048M,slots=5,maxmem=30G}; {@code size=2048M} too (QEMU's key form). */
  private static String firstField(String value) {
    String first = value.split(",", 2)[0];
    int equals = first.indexOf('=');
    return equals >= 0 ? first.substring(equals + 1) : first;
  }

  private static int count(String text) {
    try {
      return Math.max(0, Integer.parseInt(text));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
