#!/usr/bin/env bash
# Installs cvm-manager as a systemd service (README, "Deploying with systemd"). Builds nothing: it takes
# target/cvm-manager.jar of this checkout, or the jar given with --jar. Idempotent: a second run changes nothing and
# says "unchanged" for each file. Installs
#   /opt/cvm-manager/cvm-manager.jar            the jar (0644): an add-on package's own tree, as the FHS has it
#   /usr/local/bin/cvmctl                       deploy/cvmctl, pointing at that jar (0755)
#   /etc/systemd/system/cvm-manager.service     the unit (0644)
#   /etc/cvm-manager/manager.env                every variable with its default (0640), only when absent: an
#                                               operator's file is never overwritten; the shipped one then goes
#                                               next to it as manager.env.dist when the two differ
#   /var/lib/cvm-manager/                       the state directory (0700)
# and runs `systemctl daemon-reload` when the unit changed and systemd is running.
#   deploy/install.sh [--jar PATH] [--enable] [--start]
#     --enable   systemctl enable cvm-manager (start at boot)
#     --start    systemctl start cvm-manager when it is not running
# DESTDIR=/some/root stages everything below that directory (no systemctl, no root needed); the installed files
# still name the final paths (/opt/cvm-manager/cvm-manager.jar, ...).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
jar="$here/../target/cvm-manager.jar"
enable=false
start=false

say() {
  printf '%-9s %s\n' "$1" "$2"
}

die() {
  echo "install.sh: $*" >&2
  exit 1
}

while (($#)); do
  case $1 in
    --jar) (($# >= 2)) || die "--jar needs a path"; jar=$2; shift 2 ;;
    --jar=*) jar=${1#--jar=}; shift ;;
    --enable) enable=true; shift ;;
    --start) start=true; shift ;;
    -h | --help) sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

destdir=${DESTDIR:-}
destdir=${destdir%/}
if [ -n "$destdir" ]; then
  if $enable || $start; then
    die "--enable and --start act on the running system: not with DESTDIR"
  fi
elif [ "$(id -u)" -ne 0 ]; then
  die "must run as root (it writes /opt, /etc, /usr/local/bin, /var/lib); set DESTDIR=/some/root to stage instead"
fi
[ -f "$jar" ] || die "no jar at $jar: build it (mvn -B -q package -DskipTests) or pass --jar PATH"
[ "$(head -c 4 "$jar" | od -An -tx1 | tr -d ' \n')" = 504b0304 ] || die "$jar is not a jar (no zip header)"

installed_jar=/opt/cvm-manager/cvm-manager.jar
unit=/etc/systemd/system/cvm-manager.service
env_file=/etc/cvm-manager/manager.env
state_dir=/var/lib/cvm-manager

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Directory DIR with MODE; says created/updated/unchanged.
put_dir() {
  local dir=$destdir$1 mode=$2
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    chmod "$mode" "$dir"
    say created "$1"
  elif [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then
    chmod "$mode" "$dir"
    say updated "$1 (mode $mode)"
  else
    say unchanged "$1"
  fi
}

# File SRC as DEST with MODE, replaced atomically (a temp file in the same directory, then rename) only when its
# content differs, so an unchanged file keeps its mtime. Returns 0 when something changed, 1 when not.
put_file() {
  local src=$1 dest=$destdir$2 mode=$3
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    if [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
      say unchanged "$2"
      return 1
    fi
    chmod "$mode" "$dest"
    say updated "$2 (mode $mode)"
    return 0
  fi
  local verb=installed
  [ -e "$dest" ] && verb=updated
  install -m "$mode" "$src" "$dest.install-tmp"
  mv -f "$dest.install-tmp" "$dest"
  say "$verb" "$2"
  return 0
}

changed_service=false
put_dir /opt/cvm-manager 0755
if put_file "$jar" "$installed_jar" 0644; then changed_service=true; fi
# The JVM's start with its AppCDS archive (the unit's ExecStart), and the archive logic cvmctl shares.
if put_file "$here/cds.sh" /opt/cvm-manager/cds.sh 0644; then changed_service=true; fi
if put_file "$here/cvm-manager-start" /opt/cvm-manager/cvm-manager-start 0755; then changed_service=true; fi

# The installed cvmctl names the installed jar only (a checkout's target/ is meaningless next to /usr/local/bin).
sed "s|^  candidates=(.*)\$|  candidates=($installed_jar)|" "$here/cvmctl" >"$work/cvmctl"
grep -qx "  candidates=($installed_jar)" "$work/cvmctl" \
  || die "deploy/cvmctl has no 'candidates=(...)' line to point at $installed_jar"
put_file "$work/cvmctl" /usr/local/bin/cvmctl 0755 || true
# cvmctl's AppCDS archive, made now by one call (no manager needs to answer it) rather than by an operator's first.
if [ -z "$destdir" ]; then
  MANAGER_GRPC_URL=127.0.0.1:1 /usr/local/bin/cvmctl --timeout 5s list >/dev/null 2>&1 || true
fi

unit_changed=false
if put_file "$here/cvm-manager.service" "$unit" 0644; then
  unit_changed=true
  changed_service=true
fi

put_dir /etc/cvm-manager 0750
if [ ! -e "$destdir$env_file" ]; then
  put_file "$here/manager.env" "$env_file" 0640 || true
elif cmp -s "$here/manager.env" "$destdir$env_file"; then
  say unchanged "$env_file"
else
  say kept "$env_file (yours; the shipped one is $env_file.dist)"
  put_file "$here/manager.env" "$env_file.dist" 0640 || true
fi

put_dir "$state_dir" 0700

if [ -n "$destdir" ]; then
  exit 0
fi
# sd_booted(): systemd is PID 1 exactly when this directory exists.
if [ ! -d /run/systemd/system ]; then
  if $enable || $start; then
    die "systemd is not running here: cannot --enable or --start"
  fi
  echo "systemd is not running: no daemon-reload"
  exit 0
fi
if $unit_changed; then
  systemctl daemon-reload
  say reloaded "systemd units"
fi
if $enable; then
  if systemctl is-enabled --quiet cvm-manager.service; then
    say unchanged "cvm-manager.service enabled"
  else
    systemctl enable cvm-manager.service
    say enabled cvm-manager.service
  fi
fi
if systemctl is-active --quiet cvm-manager.service; then
  if $changed_service; then
    echo "cvm-manager.service runs the previous version: systemctl restart cvm-manager" \
      "(its VMs keep running unless MANAGER_STOP_VMS_ON_EXIT=true)"
  fi
elif $start; then
  systemctl start cvm-manager.service
  say started cvm-manager.service
fi
