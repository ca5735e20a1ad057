#!/usr/bin/env bash
# Builds the cvm-manager development guest (no TEE needed), idempotently, into
#   ${CVM_GUEST_DIR:-$HOME/.cache/cvm-manager/guest}
#     bzImage          Debian's linux-image-amd64 kernel (downloaded with apt-get download, never installed)
#     rootfs.cpio.gz   busybox-static initramfs: virtio-net, 9p shares, ACPI power button, stand-in agent on 7002
#     uvc_os.qcow2     GPT disk: ESP with a standalone GRUB EFI binary + the same kernel and initramfs
#     build-info.txt   kernel version, module list, stamp
#
# Usage: deploy/guest/build.sh            (CVM_GUEST_FORCE=1 forces a rebuild)
# Needs (not installed here; deploy/test.sh installs them): apt-get/dpkg-deb (apt, dpkg), busybox-static, cpio,
# kmod, gzip, grub-efi-amd64-bin, grub-common, mtools, dosfstools, gdisk, qemu-utils.
# Only Debian's package archive is contacted (apt-get download of the kernel packages).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${CVM_GUEST_DIR:-$HOME/.cache/cvm-manager/guest}
KERNEL_META=${CVM_GUEST_KERNEL_PACKAGE:-linux-image-amd64}
MODULES=(virtio_pci virtio_net 9pnet_virtio 9p button evdev)
INPUTS=("$SCRIPT_DIR/build.sh" "$SCRIPT_DIR/init" "$SCRIPT_DIR/agent.sh" "$SCRIPT_DIR/grub.cfg")
OUTPUTS=(bzImage rootfs.cpio.gz uvc_os.qcow2)

log() { echo "guest/build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools -------------------------------------------------------------------------------------------------------
PATH=$PATH:/usr/sbin:/sbin
need() { # tool debian-package
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package '$2' (apt-get install $2)"
}
need sha256sum coreutils
need flock util-linux
for f in "${INPUTS[@]}"; do [ -r "$f" ] || die "missing input file $f"; done

BUSYBOX=${CVM_GUEST_BUSYBOX:-}
if [ -z "$BUSYBOX" ]; then
	for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { BUSYBOX=$b; break; }; done
fi
[ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] || die "busybox not found: install the Debian package 'busybox-static'"

# --- up to date? ---------------------------------------------------------------------------------------------------
mkdir -p "$OUT"
STAMP="$OUT/.stamp"
stamp_value() {
	# The build inputs: this script and its helper files, plus the busybox binary that goes into the initramfs.
	{ sha256sum "${INPUTS[@]}" | awk '{print $1}'; sha256sum "$BUSYBOX" | awk '{print $1}'; echo "$KERNEL_META"; } |
		sha256sum | awk '{print $1}'
}
WANT=$(stamp_value)
up_to_date() {
	[ "${CVM_GUEST_FORCE:-0}" = 1 ] && return 1
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] || return 1
	local o
	for o in "${OUTPUTS[@]}"; do [ -s "$OUT/$o" ] || return 1; done
}
if up_to_date; then
	log "up to date in $OUT (stamp ${WANT:0:12}); nothing to do"
	exit 0
fi

# One build at a time per output dir; whoever waited re-checks the stamp.
exec 9>"$OUT/.lock"
flock 9
if up_to_date; then
	log "up to date in $OUT (built concurrently); nothing to do"
	exit 0
fi

MISSING=()
for tp in apt-get:apt dpkg-deb:dpkg depmod:kmod modprobe:kmod cpio:cpio gzip:gzip grub-mkstandalone:grub-common \
	mkfs.vfat:dosfstools mmd:mtools mcopy:mtools sgdisk:gdisk qemu-img:qemu-utils truncate:coreutils; do
	command -v "${tp%%:*}" >/dev/null 2>&1 || MISSING+=("${tp#*:} (for ${tp%%:*})")
done
[ -d /usr/lib/grub/x86_64-efi ] || MISSING+=("grub-efi-amd64-bin (for /usr/lib/grub/x86_64-efi)")
[ ${#MISSING[@]} -eq 0 ] || die "missing tools; install the Debian packages: ${MISSING[*]}"
if head -c 8192 "$BUSYBOX" | grep -aq 'ld-linux'; then
	die "$BUSYBOX is dynamically linked: install the Debian package 'busybox-static'"
fi

# --- scratch -----------------------------------------------------------------------------------------------------
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/cvm-guest-build.XXXXXX")
STAGE=$(mktemp -d "$OUT/.build.XXXXXX") # same filesystem as $OUT: the final mv is a rename
cleanup() { rm -rf "$SCRATCH" "$STAGE"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -f "$STAMP"

# --- 1. kernel ---------------------------------------------------------------------------------------------------
apt_download() { # pkg...   (in the current directory)
	local opts=(-q)
	# As root, apt drops to the _apt user, which cannot write into our private scratch dir.
	[ "$(id -u)" = 0 ] && opts+=(-o APT::Sandbox::User=root)
	apt-get "${opts[@]}" download "$@" >"$SCRATCH/apt.log" 2>&1 && return 0
	# A fresh machine has no package lists, an old one stale lists (the archive moved on): refresh once, retry.
	if [ "$(id -u)" = 0 ] && [ -z "${APT_LISTS_REFRESHED:-}" ]; then
		log "apt-get download failed; refreshing the package lists"
		APT_LISTS_REFRESHED=1
		apt-get update -qq >>"$SCRATCH/apt.log" 2>&1 &&
			apt-get "${opts[@]}" download "$@" >>"$SCRATCH/apt.log" 2>&1 && return 0
	fi
	cat "$SCRATCH/apt.log" >&2
	return 1
}
mkdir -p "$SCRATCH/debs" "$SCRATCH/kroot"
cd "$SCRATCH/debs"
log "downloading $KERNEL_META"
apt_download "$KERNEL_META" ||
	die "apt-get download $KERNEL_META failed (run 'apt-get update' first? is the Debian archive reachable?)"
META_DEB=$(ls -1 ./*.deb | head -n 1)
IMAGE_PKG=$(dpkg-deb -f "$META_DEB" Depends | tr ',|' '\n\n' | sed -e 's/(.*//' -e 's/[[:space:]]//g' |
	grep -E '^linux-image-[0-9].*' | head -n 1 || true)
[ -n "$IMAGE_PKG" ] || die "cannot find the kernel image package in the Depends of $KERNEL_META"
log "downloading $IMAGE_PKG"
apt_download "$IMAGE_PKG" || die "apt-get download $IMAGE_PKG failed"
IMAGE_DEB=$(ls -1 ./"${IMAGE_PKG}"_*.deb | head -n 1)
IMAGE_VERSION=$(dpkg-deb -f "$IMAGE_DEB" Version)
dpkg-deb -x "$IMAGE_DEB" "$SCRATCH/kroot"
KVER=${IMAGE_PKG#linux-image-}
[ -f "$SCRATCH/kroot/boot/vmlinuz-$KVER" ] || KVER=$(cd "$SCRATCH/kroot/boot" && ls -1 vmlinuz-* | head -n 1 | sed 's/^vmlinuz-//')
[ -f "$SCRATCH/kroot/boot/vmlinuz-$KVER" ] || die "no boot/vmlinuz-* in $IMAGE_DEB"
[ -d "$SCRATCH/kroot/lib/modules/$KVER" ] || die "no lib/modules/$KVER in $IMAGE_DEB"
cp "$SCRATCH/kroot/boot/vmlinuz-$KVER" "$STAGE/bzImage"
log "kernel $KVER ($IMAGE_PKG $IMAGE_VERSION)"

# --- 2. initramfs ------------------------------------------------------------------------------------------------
depmod -b "$SCRATCH/kroot" "$KVER"
R=$SCRATCH/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,var/log,var/run,etc/acpi/PWRF,etc/certs,etc/cocos,lib/modules}
chmod 1777 "$R/tmp"

# Modules in load order, each once (modprobe --show-depends prints dependencies first).
declare -A SEEN=()
MODLIST=()
for m in "${MODULES[@]}"; do
	deps=$(modprobe -d "$SCRATCH/kroot" -S "$KVER" --show-depends "$m") || die "module $m not found in kernel $KVER"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue # "builtin <name>" lines need nothing
		name=$(basename "$path")
		name=${name%.xz}; name=${name%.zst}; name=${name%.gz}; name=${name%.ko}
		[ -n "${SEEN[$name]:-}" ] && continue
		SEEN[$name]=1
		case $path in # busybox insmod wants plain .ko
		*.ko.xz) need xz xz-utils; xz -dc "$path" >"$R/lib/modules/$name.ko" ;;
		*.ko.zst) need zstd zstd; zstd -qdc "$path" >"$R/lib/modules/$name.ko" ;;
		*.ko.gz) gzip -dc "$path" >"$R/lib/modules/$name.ko" ;;
		*) cp "$path" "$R/lib/modules/$name.ko" ;;
		esac
		MODLIST+=("$name")
	done <<<"$deps"
done
printf '%s\n' "${MODLIST[@]}" >"$R/etc/cvm-modules"
log "modules: ${MODLIST[*]}"

cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
install -m 0755 "$SCRIPT_DIR/init" "$R/init"
install -m 0755 "$SCRIPT_DIR/agent.sh" "$R/bin/cvm-agent"
printf '#!/bin/sh\nexec poweroff -f\n' >"$R/etc/acpi/PWRF/00000080"
chmod 0755 "$R/etc/acpi/PWRF/00000080"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"

# /dev/console must exist in the initramfs for the kernel to give /init a console; mknod needs root, so the node
# goes in a second newc archive written by hand (the kernel unpacks concatenated archives).
newc_entry() { # name mode(octal) rdevmajor rdevminor
	local name=$1 mode=$2 namesize=$((${#1} + 1)) pad
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$((8#$mode))" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$name"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	[ "$pad" -eq 0 ] || head -c "$pad" /dev/zero
}
# Fixed timestamps: the same inputs give the same initramfs bytes.
find "$R" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
(
	cd "$R"
	find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet
	{ newc_entry dev 40755 0 0; newc_entry dev/console 20600 5 1; newc_entry TRAILER!!! 0 0 0; }
) | gzip -9 -n >"$STAGE/rootfs.cpio.gz"

# --- 3. bootable disk (GPT, ESP, standalone GRUB) without loop mounts ----------------------------------------------
D=$SCRATCH/disk
mkdir -p "$D"
grub-mkstandalone -O x86_64-efi --modules="part_gpt fat search search_fs_file normal linux" \
	-o "$D/BOOTX64.EFI" "boot/grub/grub.cfg=$SCRIPT_DIR/grub.cfg"
mkfs.vfat -C "$D/esp.img" 30000 >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$D/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$D/esp.img" "$D/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$D/esp.img" "$STAGE/bzImage" ::/vmlinuz
mcopy -i "$D/esp.img" "$STAGE/rootfs.cpio.gz" ::/initrd.img
truncate -s 64M "$D/disk.raw"
# (no -q: sgdisk 1.0.9 with -q silently writes nothing)
sgdisk -o -n 1:2048:+30M -t 1:ef00 -c 1:ESP "$D/disk.raw" >"$SCRATCH/sgdisk.log" 2>&1 ||
	{ cat "$SCRATCH/sgdisk.log" >&2; die "sgdisk failed"; }
sgdisk -p "$D/disk.raw" 2>/dev/null | grep -Eq '^ +1 +2048 +[0-9]+ .*EF00' ||
	die "sgdisk did not write the ESP partition to $D/disk.raw"
dd if="$D/esp.img" of="$D/disk.raw" bs=512 seek=2048 conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 "$D/disk.raw" "$STAGE/uvc_os.qcow2"

# --- install -----------------------------------------------------------------------------------------------------
{
	echo "kernel_package=$IMAGE_PKG"
	echo "kernel_package_version=$IMAGE_VERSION"
	echo "kernel_release=$KVER"
	echo "modules=${MODLIST[*]}"
	echo "busybox=$("$BUSYBOX" 2>&1 | head -n 1)"
	echo "stamp=$WANT"
} >"$STAGE/build-info.txt"
for o in "${OUTPUTS[@]}" build-info.txt; do
	mv -f "$STAGE/$o" "$OUT/$o"
done
echo "$WANT" >"$STAMP.tmp" && mv -f "$STAMP.tmp" "$STAMP"
log "built in $OUT: $(cd "$OUT" && ls -l "${OUTPUTS[@]}" | awk '{printf "%s %s  ", $NF, $5}')"
