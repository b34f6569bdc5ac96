#!/bin/sh
# stop-guest.sh: qq-stop on a real guest that honours system_powerdown (the Linux base
# guest runs acpid), against the guest's own shutdown time measured without qq
# (bench/qmp-powerdown.c: QMP powerdown, then a pidfd until QEMU exits); alternated.
# usage: QQ_BUILDDIR=/path/to/build sh bench/stop-guest.sh [RUNS] [ARCH]
set -eu
runs=${1:-9}
arch=${2:-x86_64}
. "$(dirname "$0")/guest.sh"
export QNX_QEMU_SSH_PORT=0
cc -O2 -o "$t/qpd" "$src/bench/qmp-powerdown.c"
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
echo "arch $arch, $runs runs, medians in ms"
echo "qq-stop (powerdown honoured): $(median "$t/qq") (all: $(tr '\n' ' ' <"$t/qq"))"
echo "guest's own shutdown (raw QMP + pidfd): $(median "$t/raw") (all: $(tr '\n' ' ' <"$t/raw"))"
