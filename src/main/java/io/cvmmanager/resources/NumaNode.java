package io.cvmmanager.resources;

/**
 * One NUMA node of the host, as {@code sys/devices/system/node/node<id>/} describes it.
 *
 * @param id the kernel's node number, what {@code host-nodes=} and {@code numactl} name
 * @param cpuList its CPUs in the kernel's list format ({@code cpulist}), e.g. {@code 0-7,16-23}
 * @param memoryBytes its memory ({@code meminfo}: {@code Node <id> MemTotal})
 */
public record NumaNode(int id, String cpuList, long memoryBytes) {}
