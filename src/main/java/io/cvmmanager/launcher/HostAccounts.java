package io.cvmmanager.launcher;

import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.resources.Claim;
import io.cvmmanager.resources.Demand;
import io.cvmmanager.resources.HostInventory;
import io.cvmmanager.resources.HostView;
import io.cvmmanager.resources.ResourceLedger;
import io.cvmmanager.vm.Tee;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this manager's VMs hold of the host, on the launcher's loop: a VM is admitted into the {@link ResourceLedger}
 * before anything is made for it, holds its claim while it is STOPPING too, and gives it back once its QEMU is
 * reaped and its files are gone.
 */
final class HostAccounts {
  private static final Logger LOG = LoggerFactory.getLogger(HostAccounts.class);

  private final ResourceLedger ledger;
  private final Tee tee;
  private final int maxVms;
  private final IntSupplier vmsInTable;

  HostAccounts(HostInventory inventory, ManagerConfig config, Tee tee, IntSupplier vmsInTable) {
    this.ledger = new ResourceLedger(inventory, new ResourceLedger.Ratios(config.resources().memoryOvercommit(),
        config.resources().cpuOvercommit()), config.resources().numa() == ManagerConfig.Numa.AUTO);
    this.tee = tee;
    this.maxVms = config.maxVms();
    this.vmsInTable = vmsInTable;
  }

  /** Admits VM {@code id}, or RESOURCE_EXHAUSTED naming what is short. */
  Claim admit(String id, Demand demand) {
    return ledger.admit(id, demand);
  }

  /** An adopted VM's claim, as its record says. */
  void adopt(Claim claim) {
    ledger.adopt(claim);
  }

  /** Gives back what VM {@code id} held. */
  void release(String id) {
    ledger.claimOf(id).ifPresent(claim -> {
      ledger.release(id);
      LOG.debug("vm {}: released {}", id, claim);
    });
  }

  void update(HostInventory inventory) {
    ledger.update(inventory);
  }

  HostView view() {
    return ledger.view(tee, vmsInTable.getAsInt(), maxVms);
  }
}
