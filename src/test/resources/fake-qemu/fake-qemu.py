#!/usr/bin/python3
# A FAKE QEMU for tests of faults: it runs no guest. It takes QEMU's argument list as the manager builds it and does
# what the manager relies on from QEMU's side, as QEMU does it:
#   - writes the -pidfile, opens the console file of "-chardev file,...,path=<file>";
#   - serves QMP on the unix socket of "-qmp unix:<path>,server=on,wait=off", one client at a time: the greeting,
#     qmp_capabilities, query-status ("prelaunch" with -S), cont/stop, system_powerdown (POWERDOWN and SHUTDOWN
#     events, then exit 0), quit (SHUTDOWN, then exit 0), any other query-* answers {"return": {}};
#   - exits on SIGTERM; removes its socket and pid file as it exits, as QEMU does.
# User networking is not emulated: the hostfwd port is not bound (but see echo-port).
#
# Faults, from the environment variable FAKE_QEMU_FAULTS (a comma list):
#   exit=N               exits at once with code N, after a line on stderr
#   no-socket            never creates the QMP socket; runs on
#   no-greeting          accepts QMP connections, never greets
#   hang-after-greeting  greets, then never answers
# (each of these four, and die-after, says on stderr what it does: the manager's errors quote QEMU's stderr)
#   ignore-powerdown     answers system_powerdown, as a guest that ignores ACPI does nothing more
#   ignore-quit          answers quit and runs on
#   ignore-sigterm       SIGTERM does nothing (SIGKILL still ends it)
# (each of these three says on stderr when it ignores something: tests see from the manager's log which steps of
# the stop sequence were taken)
#   die-after=MS         exits with code 1 MS milliseconds after it started
#   hold=COMMAND         on receiving QMP command COMMAND (or before the greeting, for hold=greeting; before
#                        writing its pid file and making its QMP socket, just started, for hold=start) creates
#                        <dir of -pidfile>/fake-qemu.held.COMMAND and goes on only once
#                        <same dir>/fake-qemu.release.COMMAND exists (looked for every 5 ms)
#   echo-port            binds the hostfwd port of "-netdev user,...,hostfwd=tcp::PORT-:..." and echoes every
#                        connection's bytes back: a stand-in for an agent, for the bench's relay measurements
import os
import signal
import socket
import sys
import threading
import time

from qemu_side import commands, console_path, event, option, qmp_socket_path, send

KNOWN = {"exit", "no-socket", "no-greeting", "hang-after-greeting", "ignore-powerdown", "ignore-quit",
         "ignore-sigterm", "die-after", "hold", "echo-port"}


def say(line):
    sys.stderr.write("fake-qemu: " + line + "\n")
    sys.stderr.flush()


def faults():
    """{name: [values]} of FAKE_QEMU_FAULTS; an unknown switch is an error, so a typo cannot pass unnoticed."""
    switches = {}
    for item in filter(None, (s.strip() for s in os.environ.get("FAKE_QEMU_FAULTS", "").split(","))):
        name, _, value = item.partition("=")
        if name not in KNOWN:
            say("unknown fault switch %r" % item)
            os._exit(64)
        switches.setdefault(name, []).append(value)
    return switches


class Fake:
    def __init__(self, argv, switches):
        self.switches = switches
        self.conn = None
        self.paused = "-S" in argv
        pidfile = option(argv, "-pidfile")
        if not pidfile:
            say("no -pidfile")
            os._exit(1)
        self.pidfile = pidfile[0]
        self.vm_dir = os.path.dirname(self.pidfile)
        self.socket_path = qmp_socket_path(argv)
        if not self.socket_path:
            say("no -qmp unix:<path>")
            os._exit(1)
        self.console = console_path(argv)

    def has(self, name):
        return name in self.switches

    def exit(self, code):
        for path in (self.socket_path, self.pidfile):
            try:
                os.unlink(path)
            except OSError:
                pass
        os._exit(code)

    def write(self, path, mode, text):
        """As QEMU does with its pid file: a failed write ends it, saying why."""
        try:
            with open(path, mode) as f:
                f.write(text)
        except OSError as e:
            say("cannot write %s: %s" % (path, e.strerror))
            self.exit(1)

    def hold(self, command):
        if command not in self.switches.get("hold", []):
            return
        open(os.path.join(self.vm_dir, "fake-qemu.held." + command), "w").close()
        release = os.path.join(self.vm_dir, "fake-qemu.release." + command)
        while not os.path.exists(release):
            time.sleep(0.005)

    def run(self):
        self.hold("start")
        self.write(self.pidfile, "w", "%d\n" % os.getpid())
        if self.console:
            self.write(self.console, "a", "fake-qemu: no guest runs here\n")
        if self.has("no-socket"):
            say("making no QMP socket, as told")
            while True:
                signal.pause()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A socket left by an earlier, killed process is replaced, as QEMU does.
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        server.bind(self.socket_path)
        server.listen(1)
        while True:
            conn, _ = server.accept()
            with conn:
                self.serve(conn)

    def terminated(self):
        """SIGTERM: as QEMU, a SHUTDOWN event (host-signal) to the QMP client, if one is connected, then exit 0."""
        if self.conn is not None:
            try:
                send(self.conn, event("SHUTDOWN", {"guest": False, "reason": "host-signal"}))
            except OSError:
                pass
        self.exit(0)

    def serve(self, conn):
        """One QMP client, until it hangs up (then the next one is served) or a command ends the fake."""
        if self.has("no-greeting"):
            say("sending no QMP greeting, as told")
            drain(conn)
            return
        self.hold("greeting")
        send(conn, {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, "package": "fake"},
                            "capabilities": []}})
        if self.has("hang-after-greeting"):
            say("answering nothing after the QMP greeting, as told")
            drain(conn)
            return
        self.conn = conn
        for command in commands(conn):
            self.hold(command.get("execute"))
            self.answer(conn, command)

    def answer(self, conn, command):
        reply = {"id": command["id"]} if "id" in command else {}
        name = command.get("execute", "")
        if name == "query-status":
            send(conn, dict(reply, **{"return": {"status": "prelaunch" if self.paused else "running",
                                                 "singlestep": False, "running": not self.paused}}))
        elif name in ("qmp_capabilities", "cont", "stop") or name.startswith("query-"):
            self.paused = {"cont": False, "stop": True}.get(name, self.paused)
            send(conn, dict(reply, **{"return": {}}))
        elif name == "system_powerdown":
            send(conn, dict(reply, **{"return": {}}))
            # QEMU reports the button press whatever the guest then does with it.
            send(conn, event("POWERDOWN", {}))
            if self.has("ignore-powerdown"):
                say("ignoring system_powerdown, as told")
            else:
                send(conn, event("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"}))
                self.exit(0)
        elif name == "quit":
            send(conn, dict(reply, **{"return": {}}))
            if self.has("ignore-quit"):
                say("ignoring quit, as told")
            else:
                send(conn, event("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"}))
                self.exit(0)
        else:
            send(conn, dict(reply, **{"error": {"class": "CommandNotFound",
                                                 "desc": "The command %s has not been found" % name}}))


def drain(conn):
    """Reads and ignores everything until the client hangs up."""
    while conn.recv(65536):
        pass


def echo_port(argv):
    """Echoes, on the hostfwd port, each connection's bytes back (one thread per connection)."""
    port = None
    for arg in argv:
        if "hostfwd=tcp::" in arg:
            port = int(arg.split("hostfwd=tcp::", 1)[1].split("-", 1)[0])
    if port is None:
        say("echo-port: no hostfwd in the arguments")
        return
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(64)

    def serve(conn):
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    return
                conn.sendall(data)

    def accept():
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()


def main():
    switches = faults()
    if "echo-port" in switches:
        echo_port(sys.argv[1:])
    if "exit" in switches:
        code = int(switches["exit"][0])
        say("exiting with %d as told" % code)
        os._exit(code)
    fake = Fake(sys.argv[1:], switches)
    if fake.has("ignore-sigterm"):
        signal.signal(signal.SIGTERM, lambda *_: say("ignoring SIGTERM, as told"))
    else:
        signal.signal(signal.SIGTERM, lambda *_: fake.terminated())
    if fake.has("die-after"):
        millis = int(switches["die-after"][0])

        def die():
            say("dying after %d ms as told" % millis)
            fake.exit(1)
        timer = threading.Timer(millis / 1000.0, die)
        timer.daemon = True
        timer.start()
    fake.run()


if __name__ == "__main__":
    main()
