# Sourced by deploy/cvmctl and deploy/cvm-manager-start (the unit's and the quickstart's start): AppCDS archives,
# so that a JVM maps the classes an earlier run of the same jar on the same java loaded instead of loading, verifying
# and linking them again (cvmctl list: 1.0 s without, about half with). An archive is valid for one java binary and
# one jar (path, size, modification time: the key in its name); any other pair makes a new one. Never an error: a
# missing, stale or unwritable archive only makes that start slower. CDS's own log lines are off (-Xlog:cds=off), so
# that nothing reaches stdout (cvmctl --json) or the journal. JDK 17 is the floor, so no
# -XX:+AutoCreateSharedArchive (JDK 19+).

# The java the scripts run: $JAVA_HOME's, else the first on PATH, with links resolved (the key names the real one).
cds_java() {
  local java
  java=$(command -v "${JAVA_HOME:+$JAVA_HOME/bin/}java") || return 1
  readlink -f "$java"
}

# cds_archive NAME JAR JAVA: the archive's path — beside the jar when that directory is writable (the install's
# /opt/cvm-manager as root, a checkout's target/), else in the user's cache directory.
cds_archive() {
  local name=$1 jar=$2 java=$3 dir key
  dir=$(dirname "$(readlink -f "$jar")")
  if [ ! -w "$dir" ]; then
    dir=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/cvm-manager
  fi
  key=$(stat -Lc '%n %s %Y' "$java" "$jar" 2>/dev/null | cksum | cut -d' ' -f1)
  printf '%s/%s-%s.jsa\n' "$dir" "$name" "$key"
}

CDS_QUIET=(-Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)

# cds_run NAME JAR JAVA ARGS...: runs JAVA ARGS (with the archive's options put first) and exits with its status.
# With a valid archive it execs java. Without one it makes one: this run archives the classes it loaded at its exit
# into a temp file (-XX:ArchiveClassesAtExit), which replaces the archive only if java ended by itself (status below
# 128): JDK 17 crashes on a truncated archive, so a run killed mid-dump must leave none.
cds_run() {
  local name=$1 jar=$2 java=$3 archive status
  shift 3
  archive=$(cds_archive "$name" "$jar" "$java")
  if [ -s "$archive" ]; then
    exec "$java" "${CDS_QUIET[@]}" -XX:SharedArchiveFile="$archive" "$@"
  fi
  if ! mkdir -p "$(dirname "$archive")" 2>/dev/null || [ ! -w "$(dirname "$archive")" ]; then
    exec "$java" "$@"
  fi
  local temp="$archive.$$.tmp"
  status=0
  "$java" "${CDS_QUIET[@]}" -XX:ArchiveClassesAtExit="$temp" "$@" || status=$?
  if [ "$status" -lt 128 ] && [ -s "$temp" ]; then
    # Older archives of this name (another jar or java) are of no more use.
    find "$(dirname "$archive")" -maxdepth 1 -name "$name-*.jsa" ! -name "$(basename "$archive")" -delete \
      2>/dev/null || true
    mv -f "$temp" "$archive"
  else
    rm -f "$temp"
  fi
  exit "$status"
}

# cds_manager_options JAR JAVA: the manager's archive options (one word per line). The manager runs for months, so
# it cannot archive at its exit: with no valid archive it records what it loads (-XX:+RecordDynamicDumpInfo) and,
# once serving, dumps it itself (StartupArchive: to a temp file, then renamed over the archive).
cds_manager_options() {
  local jar=$1 java=$2 archive
  archive=$(cds_archive cvm-manager "$jar" "$java")
  printf '%s\n' "${CDS_QUIET[@]}"
  if [ -s "$archive" ]; then
    printf '%s\n' "-XX:SharedArchiveFile=$archive"
  elif mkdir -p "$(dirname "$archive")" 2>/dev/null && [ -w "$(dirname "$archive")" ]; then
    find "$(dirname "$archive")" -maxdepth 1 -name 'cvm-manager-*.jsa' -delete 2>/dev/null || true
    printf '%s\n' -XX:+RecordDynamicDumpInfo "-Dcvm.cds.archive=$archive"
  fi
}
