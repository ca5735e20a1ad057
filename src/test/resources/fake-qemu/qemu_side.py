# What the test stand-ins for QEMU (fake-qemu.py, attestation/qemu-standin-for-sev-snp.py) share: reading QEMU's
# argument list as the manager builds it, and writing QMP messages as QEMU does.
import json
import time


def option(argv, name):
    """Every value given to option NAME, in order."""
    return [argv[i + 1] for i in range(len(argv) - 1) if argv[i] == name]


def qmp_socket_path(argv):
    """The path of "-qmp unix:<path>,...", or None."""
    for value in option(argv, "-qmp"):
        if value.startswith("unix:"):
            return value[len("unix:"):].split(",")[0]
    return None


def console_path(argv):
    """The file of "-chardev file,...,path=<file>", or None."""
    for value in option(argv, "-chardev"):
        parts = value.split(",")
        if parts[0] == "file":
            for part in parts[1:]:
                if part.startswith("path="):
                    return part[len("path="):]
    return None


def commands(conn):
    """The JSON objects a client sends, in order, until it hangs up."""
    buffer = ""
    decoder = json.JSONDecoder()
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buffer = (buffer + chunk.decode(errors="replace")).lstrip()
        while buffer:
            try:
                command, end = decoder.raw_decode(buffer)
            except ValueError:
                break
            buffer = buffer[end:].lstrip()
            yield command


def event(name, data):
    now = time.time()
    return {"event": name, "data": data,
            "timestamp": {"seconds": int(now), "microseconds": int((now % 1) * 1e6)}}


def send(conn, message):
    conn.sendall((json.dumps(message) + "\r\n").encode())
