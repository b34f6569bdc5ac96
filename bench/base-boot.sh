#!/bin/sh
# base-boot.sh: what a base guest costs each boot: QEMU start (qq-run -d, no wait) to the
# guest's "qq-guest: ready" on its console, for each BASE directory in turn, run by run, so
# host load falls on all alike. With the initrd's size. Not part of make check.
# usage: QQ_BUILDDIR=/path/to/build sh bench/base-boot.sh RUNS ARCH BASE...
set -eu
runs=$1
arch=$2
shift 2
. "$(dirname "$0")/guest.sh"
unset QNX_QEMU_BASE
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
k=0
for b; do
	k=$((k + 1))
	: >"$t/b$k"
	# A first boot builds the image; the measured ones find it up to date.
	qq-run -d --ssh-port 0 --base "$b" --workspace "$t/ws$k" "$t/hello" </dev/null >/dev/null
	qq-run stop --force --workspace "$t/ws$k" </dev/null >/dev/null
done
i=0
while [ "$i" -lt "$runs" ]; do
	k=0
	for b; do
		k=$((k + 1))
		a=$(now)
		qq-run -d --ssh-port 0 --base "$b" --workspace "$t/ws$k" "$t/hello" </dev/null >/dev/null
		n=0
		until grep -q '^qq-guest: ready' "$t/ws$k/serial.log" 2>/dev/null; do
			n=$((n + 1))
			[ "$n" -lt 6000 ] || { echo "base-boot: $b never ready" >&2; exit 1; }
			sleep 0.01
		done
		z=$(now)
		ms "$a" "$z" >>"$t/b$k"
		qq-run stop --force --workspace "$t/ws$k" </dev/null >/dev/null
	done
	i=$((i + 1))
done
echo "arch $arch, $runs runs, qq-run -d to 'qq-guest: ready', median ms (load: $(uptime | sed 's/.*average: //'))"
k=0
for b; do
	k=$((k + 1))
	echo "$b: initrd $(wc -c <"$b/initrd.img") bytes, $(median "$t/b$k") (all: $(tr '\n' ' ' <"$t/b$k"))"
done
