#!/usr/bin/env bash
# The first command (README): on a fresh Debian 12 machine, installs what is missing, builds the manager and the
# development guest, starts the manager with conf/dev.env on a throw-away state dir, creates a CVM with cvmctl,
# reads the guest agent's line through the forwarded port, removes the CVM and stops the manager. Exits 0 when all
# of that worked, else non-zero with the reason and the tail of the manager's log. Leaves nothing behind: no
# manager, no QEMU, no temp files.
#   QUICKSTART_GRPC_PORT   the manager's gRPC port (default 7001); already in use is an error
set -euo pipefail
cd "$(dirname "$0")/.."

port=${QUICKSTART_GRPC_PORT:-7001}
manager_start_limit=60
agent_limit=180
stop_limit=30

say() { echo "quickstart: $*"; }
die() {
  echo "quickstart: error: $*" >&2
  exit 1
}

# --- clean-up on every exit path -----------------------------------------------------------------------------------
work=""
state=""
log=""
manager_pid=""

# PIDs of live processes whose command line names our state dir: the QEMUs of our manager, and only those.
state_processes() {
  local f cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
    if [[ $cmd == *"$state"* ]]; then
      f=${f#/proc/}
      echo "${f%/cmdline}"
    fi
  done
}

stop_manager() {
  [ -n "$manager_pid" ] || return 0
  if kill -0 "$manager_pid" 2>/dev/null; then
    kill -TERM "$manager_pid" 2>/dev/null || true
    local deadline=$((SECONDS + stop_limit))
    while kill -0 "$manager_pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$manager_pid" 2>/dev/null; then
      say "manager still running after ${stop_limit}s; killing it"
      kill -KILL "$manager_pid" 2>/dev/null || true
    fi
  fi
  wait "$manager_pid" 2>/dev/null || true
  manager_pid=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_manager
  if [ -n "$state" ]; then
    local pids
    pids=$(state_processes)
    if [ -n "$pids" ]; then
      say "killing leftover QEMU: $(echo $pids)"
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    fi
  fi
  if ((rc != 0)) && [ -n "$log" ] && [ -s "$log" ]; then
    echo "quickstart: last lines of the manager's log:" >&2
    tail -n 30 "$log" >&2
  fi
  [ -z "$work" ] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- packages (as deploy/test.sh) ----------------------------------------------------------------------------------
. deploy/packages.sh
install_missing_packages || die "cannot install the packages it needs"

# --- build ---------------------------------------------------------------------------------------------------------
say "building the manager (mvn package)"
mvn -B -q package -DskipTests
say "building the development guest"
bash deploy/guest/build.sh

# --- manager -------------------------------------------------------------------------------------------------------
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  die "port $port is already in use (another manager?); stop it or set QUICKSTART_GRPC_PORT"
fi
work=$(mktemp -d -t cvm-quickstart.XXXXXX)
state=$work/state
log=$work/manager.log
(
  set -a
  # shellcheck source=../conf/dev.env
  . conf/dev.env
  MANAGER_STATE_DIR=$state
  MANAGER_GRPC_PORT=$port
  # deploy/cvm-manager-start: the JVM with its AppCDS archive (made by the first start once it serves).
  exec bash deploy/cvm-manager-start target/cvm-manager.jar
) >"$log" 2>&1 &
manager_pid=$!
say "manager starting (pid $manager_pid, state $state)"

deadline=$((SECONDS + manager_start_limit))
until grep -q "gRPC listening" "$log" 2>/dev/null; do
  if ! kill -0 "$manager_pid" 2>/dev/null; then
    code=0
    wait "$manager_pid" || code=$?
    manager_pid=""
    die "the manager exited with code $code before listening"
  fi
  ((SECONDS < deadline)) || die "the manager is not listening after ${manager_start_limit}s"
  sleep 0.2
done
say "manager listening on localhost:$port"

# --- a CVM ---------------------------------------------------------------------------------------------------------
export MANAGER_GRPC_URL=localhost:$port
created=$(deploy/cvmctl create-vm --server-url localhost:7001 --ttl 10m) || die "create-vm failed"
echo "$created"
pattern='^Virtual machine created successfully with id ([0-9a-f-]+) and port ([0-9]+)$'
[[ $created =~ $pattern ]] || die "unexpected create-vm output: $created"
vm_id=${BASH_REMATCH[1]}
vm_port=${BASH_REMATCH[2]}

# QEMU's port forward accepts a connection before the guest listens and then closes it without data: "not yet".
agent_line() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$vm_port" || exit 1
    IFS= read -r -t 5 line <&3 || true
    [ -n "${line:-}" ] && printf '%s\n' "$line"
  ) 2>/dev/null
}

say "waiting for the guest's agent on port $vm_port (TCG boot, up to ${agent_limit}s)"
deadline=$((SECONDS + agent_limit))
until line=$(agent_line); do
  kill -0 "$manager_pid" 2>/dev/null || die "the manager exited while the guest was booting"
  ((SECONDS < deadline)) || die "no answer from the guest's agent on port $vm_port after ${agent_limit}s"
  sleep 1
done
say "agent: $line"
[[ $line == *"id=$vm_id "* ]] || die "the agent reports another id than $vm_id"

deploy/cvmctl remove-vm "$vm_id" || die "remove-vm failed"

stop_manager
[ -z "$(state_processes)" ] || die "QEMU still running after the manager stopped"
say "done in ${SECONDS}s"
