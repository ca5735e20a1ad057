#!/usr/bin/python3
"""libvirt as a peer of the benchmark (bench/README.md): N transient domains started at once, then destroyed.

Run with /usr/bin/python3 (Debian's python3-libvirt) after `bench/peers.sh start`. One JSON line a run on stdout:
{"mode", "concurrency", "run", "start_ms", "destroy_ms"}; start_ms from the first createXML call until all N
returned (paused: QEMU up with -S and its QMP set up by libvirt; booted: vCPUs running), destroy_ms from the first
destroy until all N returned. Anything else goes to stderr. On an error, SIGINT or SIGTERM every domain it made is
destroyed and the exit status is non-zero.

Where a start goes (libvirt's debug log): once QEMU's QMP is up, libvirt reads vCPU 0's CPU features one qom-get
at a time, about 400 QMP round trips, 0.6 s of a 0.8-1.1 s paused start here; N starts at once share the two CPUs
in those round trips. A destroy is SIGTERM and then kill(pid, 0) every 200 ms until the process is gone, hence its
~230 ms floor (and bench/peers.sh's subreaper: an unreaped zombie counts as there).
"""
import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from xml.sax.saxutils import escape

import libvirt

URI = 'qemu:///system'
OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd'
OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd'


def domain_xml(name, vm_dir, args):
    """The manager's QEMU arguments (QemuCommand, the dev profile) as far as libvirt expresses them.

    Same: q35, TCG, -cpu max (mode 'maximum'), -smp N,maxcpus=64, OVMF's code and a per-VM copy of its vars as
    pflash, direct kernel boot, a virtio-net-pci with disable-legacy=on, iommu_platform=on, romfile="" at 0x2 on
    user-mode networking, the two 9p shares (mapped), the serial console appended to a file, no balloon, USB,
    graphics or video.
    Not the same: no hostfwd. This libvirt (9.0) refuses <backend type='passt'/> ("Invalid value"; passt is not
    installed either), and with slirp it accepts <portForward> but drops it; a <qemu:commandline> with the
    manager's own -netdev/-device works (tried), but that is QEMU's arguments passed around libvirt (the domain
    tainted custom-argv), not a libvirt client's VM, and a forward costs one listening socket. No memory
    slots/maxmem: libvirt's <maxMemory> needs a guest NUMA node, which would add a memory backend the manager does
    not have. libvirt's own QMP monitor instead of -monitor pty, and its additions (-nodefaults, -no-user-config,
    -sandbox, -no-shutdown, ...). cpu mode 'custom' with model 'max' is refused ("Unknown CPU model max").
    """
    e = lambda s: escape(str(s), {"'": '&apos;'})
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{args.memory_mib}</memory>
  <vcpu current='{args.vcpus}'>64</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>{OVMF_CODE}</loader>
    <nvram template='{OVMF_VARS}'>{e(vm_dir)}/OVMF_VARS.fd</nvram>
    <kernel>{e(args.kernel)}</kernel>
    <initrd>{e(args.initrd)}</initrd>
    <cmdline>{e(args.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='maximum' migratable='off' check='none'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='user'>
      <model type='virtio-non-transitional'/>
      <driver iommu='on'/>
      <rom enabled='no'/>
      <address type='pci' domain='0' bus='0' slot='2' function='0'/>
    </interface>
    <filesystem type='mount' accessmode='mapped'>
      <source dir='{e(vm_dir)}/certs'/><target dir='certs_share'/>
      <address type='pci' domain='0' bus='0' slot='3' function='0'/>
    </filesystem>
    <filesystem type='mount' accessmode='mapped'>
      <source dir='{e(vm_dir)}/env'/><target dir='env_share'/>
      <address type='pci' domain='0' bus='0' slot='4' function='0'/>
    </filesystem>
    <serial type='file'><source path='{e(vm_dir)}/console.log' append='on'/></serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>"""


def at_once(conns, call):
    """call(conn, i) on len(conns) threads released together; ms from the first call until all returned.

    One connection a thread, as N independent clients would have: libvirtd serves at most max_client_requests (5)
    calls of one connection at a time and queues the rest. Measured, 20 at once: starts the same either way
    (14.4 s shared, 14.8 s own; bound by the CPU, see the top), destroys twice as fast on their own connections
    (0.67 s against 1.37 s).
    """
    go = threading.Event()
    starts, ends, errors = [None] * len(conns), [None] * len(conns), []

    def work(i):
        go.wait()
        starts[i] = time.perf_counter()
        try:
            call(conns[i], i)
        except BaseException as error:  # reported by the caller, after all calls are back
            errors.append(error)
        ends[i] = time.perf_counter()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(conns))]
    for thread in threads:
        thread.start()
    go.set()
    interrupted = None
    for thread in threads:
        while thread.is_alive():
            try:
                thread.join()
            except KeyboardInterrupt as signalled:
                # Unwound only once all are back: a createXML still in flight makes a domain to destroy.
                interrupted = signalled
    if interrupted:
        raise interrupted
    if errors:
        raise errors[0]
    return (max(ends) - min(starts)) * 1000


def destroy_quietly(conn, name):
    try:
        conn.lookupByName(name).destroy()
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            print(f'cannot destroy {name}: {error}', file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--kernel', required=True)
    p.add_argument('--initrd', required=True)
    p.add_argument('--memory-mib', type=int, default=1024)
    p.add_argument('--vcpus', type=int, default=1)
    p.add_argument('--cmdline', default='console=ttyS0')
    p.add_argument('--mode', choices=['paused', 'booted'], default='paused')
    p.add_argument('--concurrency', type=int, default=1)
    p.add_argument('--runs', type=int, default=1)
    p.add_argument('--workdir', help='where each VM directory goes (removed after its run); default a temp dir')
    args = p.parse_args()
    args.kernel, args.initrd = os.path.abspath(args.kernel), os.path.abspath(args.initrd)
    flags = libvirt.VIR_DOMAIN_START_PAUSED if args.mode == 'paused' else 0

    # SIGTERM (Bench's Process.destroy) unwinds like Ctrl-C, through the finally below; SIGINT set here too, since a
    # background job of a script starts with it ignored.
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
    # libvirt's default handler prints every error, the expected "no domain" of the cleanup too.
    libvirt.registerErrorHandler(lambda *_: None, None)
    workdir = args.workdir or tempfile.mkdtemp(prefix='bench-libvirt-')
    conns, names, dirs = [], [], []  # names: every domain createXML may have made and no destroy has ended
    try:
        conns = [libvirt.open(URI) for _ in range(args.concurrency)]
        for run in range(args.runs):
            names[:] = [f'bench-{uuid.uuid4()}' for _ in range(args.concurrency)]
            dirs[:] = [os.path.join(workdir, name) for name in names]
            for d in dirs:  # the manager's certs and env shares, outside the timing as Bench's raw QEMU has them
                os.makedirs(os.path.join(d, 'certs'))
                os.makedirs(os.path.join(d, 'env'))
            xmls = [domain_xml(name, d, args) for name, d in zip(names, dirs)]
            domains = [None] * args.concurrency

            def create(conn, i):
                domains[i] = conn.createXML(xmls[i], flags)

            start_ms = at_once(conns, create)
            destroy_ms = at_once(conns, lambda conn, i: domains[i].destroy())
            for name, d in zip(names, dirs):
                shutil.rmtree(d, ignore_errors=True)
                # libvirt's log of each domain's QEMU (its command line, stderr): kept only for failed runs.
                with contextlib.suppress(OSError):
                    os.unlink(f'/var/log/libvirt/qemu/{name}.log')
            names.clear()
            dirs.clear()
            print(json.dumps({'mode': args.mode, 'concurrency': args.concurrency, 'run': run,
                              'start_ms': round(start_ms, 1), 'destroy_ms': round(destroy_ms, 1)}), flush=True)
        return 0
    except KeyboardInterrupt as stop:
        signum = stop.args[0] if stop.args else signal.SIGINT
        print(f'{signal.Signals(signum).name}: destroying what was created', file=sys.stderr)
        return 128 + signum
    except libvirt.libvirtError as error:
        print(f'libvirt: {error}', file=sys.stderr)
        return 1
    finally:
        for name in names:  # names is empty unless conns is not
            destroy_quietly(conns[0], name)
        for conn in conns:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass  # libvirtd gone: nothing left to close
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
