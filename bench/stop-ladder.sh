#!/bin/sh
# stop-ladder.sh: how long qq-stop takes on each rung, against a paused QEMU (TCG, no guest).
# A paused guest ignores system_powerdown, so "ignored" measures the bound
# (--powerdown-timeout) plus the quit rung; "force" is QMP quit alone, i.e. what
# qq-stop adds once QEMU decides to exit; "sigterm" has no QMP socket.
# usage: QQ_BUILDDIR=/path/to/build sh bench/stop-ladder.sh [RUNS] [POWERDOWN_MS]
set -eu
: "${QQ_BUILDDIR:?set QQ_BUILDDIR to a configured build directory}"
runs=${1:-10}
pd=${2:-500}
PATH=$QQ_BUILDDIR/bin:$PATH
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
w=$t/ws
mkdir -p "$w/output"
: >"$w/.qq"
now() { date +%s.%N; }
start() {
	qq-spawn -d -- qemu-system-x86_64 -S -accel tcg -display none -pidfile "$w/output/qemu.pid" \
	    -qmp "unix:$w/qmp.sock,server=on,wait=off" -daemonize </dev/null >/dev/null
}
measure() {
	name=$1
	shift
	: >"$t/ms"
	i=0
	while [ "$i" -lt "$runs" ]; do
		start
		[ "$name" = sigterm ] && rm -f "$w/qmp.sock"
		a=$(now)
		qq-stop --workspace "$w" "$@" >"$t/out"
		b=$(now)
		echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/ms"
		i=$((i + 1))
	done
	sort -n "$t/ms" | awk -v n="$name" -v by="$(cat "$t/out")" '{ v[NR] = $1 } END {
		printf "%-8s %s  runs %d  median %.1f ms  max %.1f ms\n", n, by, NR,
		    v[int((NR + 1) / 2)], v[NR] }'
}
measure ignored --powerdown-timeout "$pd"
measure force --force
measure sigterm
