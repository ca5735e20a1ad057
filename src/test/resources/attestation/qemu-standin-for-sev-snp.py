#!/usr/bin/python3
# A QEMU stand-in for the SEV-SNP and TDX end-to-end tests. It exists only because this machine has no SEV-SNP (or
# TDX) hardware, so a real QEMU cannot start such a guest here. It runs no guest. It does what the manager relies
# on from QEMU's side, as QEMU does it:
#   - records its whole argument list as JSON in <dir of -pidfile>/standin-argv.json (what the tests check: the
#     sev-snp-guest object with its host-data, igvm-cfg, tdx-guest ...);
#   - writes the -pidfile, opens the console file of "-chardev file,...,path=<file>";
#   - serves QMP on the unix socket of "-qmp unix:<path>,server=on,wait=off": the greeting, qmp_capabilities,
#     query-status, system_powerdown (POWERDOWN and SHUTDOWN events, then exit) and quit (SHUTDOWN, then exit);
#   - exits on SIGTERM.
import json
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake-qemu"))
from qemu_side import commands, console_path, event, option, qmp_socket_path, send  # noqa: E402


def serve(conn, paused):
    """One QMP client; returns True when the stand-in should exit (powerdown or quit)."""
    send(conn, {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, "package": "standin"},
                        "capabilities": []}})
    for command in commands(conn):
        reply = {"id": command["id"]} if "id" in command else {}
        name = command.get("execute")
        if name in ("qmp_capabilities", "cont", "stop"):
            send(conn, dict(reply, **{"return": {}}))
        elif name == "query-status":
            send(conn, dict(reply, **{"return": {"status": "prelaunch" if paused else "running",
                                                 "singlestep": False, "running": not paused}}))
        elif name == "system_powerdown":
            send(conn, dict(reply, **{"return": {}}))
            send(conn, event("POWERDOWN", {}))
            send(conn, event("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"}))
            return True
        elif name == "quit":
            send(conn, dict(reply, **{"return": {}}))
            send(conn, event("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"}))
            return True
        else:
            send(conn, dict(reply, **{"error": {"class": "CommandNotFound",
                                                 "desc": "The command %s has not been found" % name}}))
    return False


def main():
    argv = sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    pidfile = option(argv, "-pidfile")
    if not pidfile:
        sys.exit("qemu-standin: no -pidfile")
    vm_dir = os.path.dirname(pidfile[0])
    with open(os.path.join(vm_dir, "standin-argv.json"), "w") as f:
        json.dump(argv, f)
    with open(pidfile[0], "w") as f:
        f.write("%d\n" % os.getpid())
    console = console_path(argv)
    if console:
        with open(console, "a") as f:
            f.write("qemu-standin: no guest runs here (no SEV-SNP/TDX hardware)\n")
    path = qmp_socket_path(argv)
    if not path:
        sys.exit("qemu-standin: no -qmp unix:<path>")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        while True:
            conn, _ = server.accept()
            with conn:
                if serve(conn, "-S" in argv):
                    return
    finally:
        server.close()
        if os.path.exists(path):
            os.unlink(path)


if __name__ == "__main__":
    main()
