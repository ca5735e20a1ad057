package io.cvmmanager.qmp;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * KVM's own statistics of a VM, from QMP {@code query-stats} (QEMU 7.1+) for the targets {@code vm} and {@code
 * vcpu}: the VM's as {@code vm.NAME}, the vCPUs' summed as {@code vcpu.NAME} (exits, halt polls, ...). Only numbers
 * are kept (histograms and booleans are not). QEMU has a provider of them only under KVM: under TCG the replies are
 * empty lists, and so is the map.
 */
public final class KvmStats {
  private KvmStats() {}

  public static Future<Map<String, Double>> query(QmpClient qmp) {
    return qmp.execute("query-stats", new JsonObject().put("target", "vm"))
        .compose(vm -> qmp.execute("query-stats", new JsonObject().put("target", "vcpu"))
            .map(vcpus -> {
              Map<String, Double> stats = new TreeMap<>();
              add(stats, "vm.", vm);
              add(stats, "vcpu.", vcpus);
              return stats;
            }));
  }

  /** {@code [{"provider", "qom-path"?, "stats": [{"name", "value"}, ...]}, ...]}: numbers summed by name. */
  private static void add(Map<String, Double> stats, String prefix, Object reply) {
    if (!(reply instanceof JsonArray results)) {
      return;
    }
    for (Object result : results) {
      JsonArray values = result instanceof JsonObject r ? r.getJsonArray("stats", new JsonArray()) : new JsonArray();
      for (Object value : values) {
        if (value instanceof JsonObject stat && stat.getValue("value") instanceof Number number) {
          stats.merge(prefix + stat.getString("name"), number.doubleValue(), Double::sum);
        }
      }
    }
  }
}
