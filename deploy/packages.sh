# Sourced by deploy/test.sh and deploy/quickstart.sh: installs, only when missing, the Debian packages the
# manager, its tests and its development guest need (systemd: systemd-analyze verify of deploy/cvm-manager.service;
# sudo: the MANAGER_QEMU_USE_SUDO tests; numactl: NUMA placement, MANAGER_NUMA=auto; tmux: the terminal of cvmctl
# top's test).
install_missing_packages() {
  local packages=(qemu-system-x86 qemu-utils ovmf busybox-static cpio kmod openssl grub-efi-amd64-bin grub-common
    mtools dosfstools gdisk python3 python3-grpcio python3-cbor2 maven systemd sudo numactl tmux)
  command -v javac >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]}" >&2
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: install ${missing[*]} as root" >&2; return 1; }
    as_root=(sudo)
  fi
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
