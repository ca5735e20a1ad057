package io.cvmmanager.resources;

/**
 * A GPU a VM can be given: bound to vfio-pci, alone in its IOMMU group with devices that are bound to vfio-pci too
 * (or PCI bridges), so that passing it through takes nothing from the host.
 *
 * @param bdf its PCI address, e.g. {@code 0000:01:00.0}
 * @param iommuGroup its IOMMU group's number, or empty when the host does not say (an explicitly configured BDF)
 */
public record Gpu(String bdf, String iommuGroup) {}
