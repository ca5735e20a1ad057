package io.cvmmanager.config;

/**
 * How a VM's disk is made from the reference image (MANAGER_QEMU_DISK_CLONE). OVERLAY: a qcow2 file backed by the
 * reference, made in milliseconds whatever the image size (the reference must then not change while VMs use it).
 * COPY: upstream's full {@code qemu-img convert} then {@code resize}, time and space in proportion to the image.
 * Measured in bench/README.md.
 */
public enum DiskClone {
  OVERLAY, COPY
}
