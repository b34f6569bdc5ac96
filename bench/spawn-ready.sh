#!/bin/sh
# spawn-ready.sh: how long qq-spawn's --wait-ssh loop takes to notice sshd answering.
# A stand-in for slirp + sshd refuses connections (accepts and closes, as slirp does
# before the guest listens) for DELAY ms, then sends an SSH banner; the waiter is the
# library loop qq-spawn runs. Latency = waiter's return - the moment answers began.
# usage: QQ_BUILDDIR=/path/to/build sh bench/spawn-ready.sh [RUNS]
set -eu
: "${QQ_BUILDDIR:?set QQ_BUILDDIR to a configured build directory}"
runs=${1:-30}
h=$QQ_BUILDDIR/tests/helper/qq-testhelper
make -C "$QQ_BUILDDIR" tests/helper/qq-testhelper >/dev/null
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
i=0
while [ "$i" -lt "$runs" ]; do
	# Vary the switch time so it falls anywhere in the 20 ms attempt cycle.
	delay=$((700 + (i * 7) % 40))
	"$h" listen "$delay" >"$t/port" 2>"$t/answer" &
	lp=$!
	while [ ! -s "$t/port" ] || [ ! -s "$t/answer" ]; do sleep 0.01; done
	"$h" wait "$(cat "$t/port")" 10000 >"$t/ready"
	kill "$lp"
	wait "$lp" 2>/dev/null || true
	a=$(sed -n 's/^answering=//p' "$t/answer")
	r=$(sed -n 's/^ready=//p' "$t/ready")
	echo "$a $r" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/ms"
	rm -f "$t/port" "$t/answer"
	i=$((i + 1))
done
sort -n "$t/ms" | awk '{ v[NR] = $1 } END {
	printf "runs %d  min %.1f ms  median %.1f ms  p90 %.1f ms  max %.1f ms\n",
	    NR, v[1], v[int((NR + 1) / 2)], v[int(NR * 0.9)], v[NR] }'
