#!/usr/bin/env bash
# Peers of the benchmark other than raw QEMU (bench/README.md): libvirt, driven by bench/libvirt_peer.py.
#   peers.sh start      installs libvirt's QEMU driver when missing, starts virtlogd and libvirtd by hand
#   peers.sh stop       destroys bench-* domains, stops the daemons that start started
#   peers.sh available  exit 0 when libvirt is installed (no install, no daemon)
# No systemd here (and none wanted: a bench starts and stops its peers), so the daemons run with pid files of
# their own; stop ends only those. Nothing on stdout: Bench reads stdout of what it runs; messages go to stderr.
set -euo pipefail

# libvirt-daemon has libvirtd and virtlogd (the QEMU driver's package does not pull it in); not
# libvirt-daemon-system: it pulls in polkitd, a firewall and the default network, and its systemd units are of no use.
PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients python3-libvirt)
URI=qemu:///system
RUN_DIR=/run/cvm-bench-peers
CONF=/etc/libvirt/qemu.conf
# libvirtd double-forks each QEMU, which so becomes a child of the nearest subreaper, normally PID 1. This
# machine's PID 1 reaps orphans about once a second (a zombie stays ~1.5 s), and libvirt's destroy polls
# kill(pid, 0) until the zombie is gone: destroy would time the host's init (1.4-2.0 s instead of ~0.23 s). So
# libvirtd runs under a subreaper that waits for its descendants at once, as systemd would on a normal host; it
# ends by itself when libvirtd and the last QEMU have.
REAPER='
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
if os.fork() == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
'

installed() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
  done
}

# set_option KEY VALUE: KEY = VALUE the only active line of KEY in qemu.conf (the commented defaults stay).
set_option() {
  local key=$1 value=$2
  grep -qxF "$key = $value" "$CONF" && ! grep -vxF "$key = $value" "$CONF" | grep -qE "^[[:space:]]*$key[[:space:]]*=" \
    && return 0
  sed -i -E "/^[[:space:]]*$key[[:space:]]*=/d" "$CONF"
  printf '%s = %s\n' "$key" "$value" >>"$CONF"
}

# running NAME [COMMAND]: NAME was started by us and is alive (its pid file names a live COMMAND, default NAME).
running() {
  local pid
  pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "${2:-$1}" ]
}

answers() {
  virsh -c "$URI" version >/dev/null 2>&1
}

start() {
  if ! installed "${PACKAGES[@]}"; then
    echo "installing ${PACKAGES[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
  fi
  # libvirtd resolves its built-in QEMU user and group (libvirt-qemu) before it reads qemu.conf, and fails without
  # them; libvirt-daemon-system's postinst would have made them.
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null || useradd --system --gid libvirt-qemu --no-create-home \
    --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
  # Shipped by libvirt-daemon-system only; without it libvirtd runs on built-in defaults, these overriding some.
  [ -f "$CONF" ] || { mkdir -p "$(dirname "$CONF")" && echo "# written by cvm-manager's bench/peers.sh" >"$CONF"; }
  # QEMU as root, as the manager's and Bench's raw QEMU run here: the guest's kernel and initramfs are under
  # $HOME, which libvirt-qemu cannot read.
  set_option user '"root"'
  set_option group '"root"'
  # DAC only, said rather than probed for: this kernel has neither AppArmor nor SELinux, and libvirt's AppArmor
  # profiles come with libvirt-daemon-system, not installed (libvirt would find no confined libvirtd and fall back
  # to the same).
  set_option security_driver '"none"'
  # virtlogd's log and each domain's QEMU log; libvirt-daemon-system's packaging would have made it.
  mkdir -p "$RUN_DIR" /var/log/libvirt/qemu
  # One virtlogd a host (its socket is fixed): one already there, of systemd or of anyone, serves ours too.
  if ! running virtlogd && ! pgrep -x virtlogd >/dev/null; then
    # libvirtd sends each QEMU's stderr to virtlogd (stdio_handler = "logd", the default).
    virtlogd --daemon --pid-file "$RUN_DIR/virtlogd.pid" >&2
  fi
  if ! running libvirtd && ! answers; then
    # No fd of ours kept open: Bench reads this script's stdout to its end.
    setsid /usr/bin/python3 -c "$REAPER" libvirtd --daemon --pid-file "$RUN_DIR/libvirtd.pid" \
      </dev/null >/dev/null 2>&1 &
    echo $! >"$RUN_DIR/reaper.pid"
  fi
  # The first start probes QEMU's capabilities (a few seconds under TCG); later ones read its cache.
  local i
  for ((i = 0; i < 600; i++)); do
    answers && return 0
    ((i < 10)) || running libvirtd || break
    sleep 0.1
  done
  echo "libvirtd does not answer on $URI: see /var/log/libvirt/libvirtd.log" >&2
  return 1
}

# stop_daemon NAME [COMMAND]: SIGTERM to the process of our pid file, up to 10 s for it to go, then SIGKILL. Gone
# means out of /proc: virtlogd's zombie waits for PID 1 (~1.5 s), and whoever checks next should find nothing.
stop_daemon() {
  local name=$1 pid i
  if running "$@"; then
    pid=$(cat "$RUN_DIR/$name.pid")
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    [ ! -d "/proc/$pid" ] || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/$name.pid"
}

stop() {
  if answers; then
    local name
    # Transient domains only: destroy is the end of them (a bench-* left by an interrupted run included).
    for name in $(virsh -c "$URI" list --name | grep '^bench-' || true); do
      virsh -c "$URI" destroy "$name" >/dev/null 2>&1 || true
    done
  fi
  # libvirtd first: it holds virtlogd's connection.
  stop_daemon libvirtd
  stop_daemon reaper python3
  stop_daemon virtlogd
  rmdir "$RUN_DIR" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  available) installed "${PACKAGES[@]}" && [ -x /usr/bin/python3 ] ;;
  *)
    echo "usage: $0 start|stop|available" >&2
    exit 2
    ;;
esac
