#!/bin/sh
# stop-guest.sh: qq-stop on a real guest that honours system_powerdown (the Linux base
# guest runs acpid), against the guest's own shutdown time measured without qq
# (bench/qmp-powerdown.c: QMP powerdown, then a pidfd until QEMU exits); alternated.
# usage: QQ_BUILDDIR=/path/to/build sh bench/stop-guest.sh [RUNS] [ARCH]
set -eu
: "${QQ_BUILDDIR:?set QQ_BUILDDIR to a configured build directory}"
runs=${1:-9}
arch=${2:-x86_64}
src=$(cd "$(dirname "$0")/.." && pwd)
PATH=$QQ_BUILDDIR/bin:$PATH
export PATH
t=$(mktemp -d)
trap 'qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null 2>&1 || true; rm -rf "$t"' EXIT
export QNX_QEMU_ARCH=$arch QNX_QEMU_ACCEL=tcg QNX_QEMU_WORKSPACE=$t/ws \
    QNX_QEMU_BUILDER=initramfs QNX_QEMU_SSH_KEY=$t/key QNX_QEMU_SSH_PORT=0
base=${QQ_GUEST_CACHE:-$HOME/.cache/qq/guest}/$arch
sh "$src/tests/guest/mkbase.sh" "$arch" "$base" 2>/dev/null
export QNX_QEMU_BASE=$base
case $arch in x86_64) cc=cc ;; aarch64) cc=aarch64-linux-gnu-gcc ;; esac
"$cc" -static -O2 -o "$t/hello" "$src/examples/hello.c"
cc -O2 -o "$t/qpd" "$src/bench/qmp-powerdown.c"
ssh-keygen -q -t ed25519 -N '' -f "$t/key"
now() { date +%s.%N; }
boot() {
	qq-run -d --wait-ssh "$t/hello" </dev/null >"$t/facts" 2>/dev/null
	# Give the guest's acpid a moment past sshd (a powerdown before it runs is lost).
	sleep 1
}
i=0
while [ "$i" -lt "$runs" ]; do
	boot
	a=$(now)
	qq-stop >"$t/out" </dev/null
	b=$(now)
	grep -qx stopped_by=powerdown "$t/out" || { echo "stop-guest: $(cat "$t/out")" >&2; exit 1; }
	echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/qq"
	boot
	pid=$(sed -n 's/^pid=//p' "$t/facts")
	"$t/qpd" "$t/ws/qmp.sock" "$pid" >>"$t/raw"
	qq-stop </dev/null >/dev/null 2>&1 || true	# removes the stale pidfile and socket
	i=$((i + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] }'; }
echo "arch $arch, $runs runs, medians in ms"
echo "qq-stop (powerdown honoured): $(median "$t/qq") (all: $(tr '\n' ' ' <"$t/qq"))"
echo "guest's own shutdown (raw QMP + pidfd): $(median "$t/raw") (all: $(tr '\n' ' ' <"$t/raw"))"
