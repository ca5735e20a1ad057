#!/usr/bin/env bash
# The test command (README): on a fresh Debian 12 machine, installs what the tests need (only what is missing),
# builds the development guest, then runs `mvn -B verify`: unit tests in surefire, tests that start the
# packaged jar (*IT) in failsafe. Extra arguments go to Maven (e.g. deploy/test.sh -Dtest=ConfigParserTest).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 qemu-utils ovmf busybox-static cpio kmod openssl grub-efi-amd64-bin grub-common mtools
  dosfstools gdisk python3 python3-grpcio python3-cbor2 maven)
command -v javac >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash deploy/guest/build.sh
mvn -B -ntp verify "$@"
