#!/bin/sh
# run-overhead.sh: qq-run -d --wait-ssh against the same QEMU argv started by hand with an
# ideal banner poll loop (bench/banner-poll.c), same guest, same accelerator, alternated
# run by run; and the time a second qq-run with nothing changed spends outside QEMU.
# usage: QQ_BUILDDIR=/path/to/build sh bench/run-overhead.sh [RUNS] [ARCH]
set -eu
runs=${1:-7}
arch=${2:-x86_64}
. "$(dirname "$0")/guest.sh"
cc -O2 -o "$t/poll" "$src/bench/banner-poll.c"
port_of() { sed -n 's/^ssh_port=//p' "$1"; }

# A first run builds the image; the runs measured below all find it up to date.
qq-run -d --wait-ssh --ssh-port 0 "$t/hello" </dev/null >"$t/facts"
qq-run stop --workspace "$t/ws" </dev/null >/dev/null
i=0
while [ "$i" -lt "$runs" ]; do
	# qq-run, whole: every step, the start, the wait.
	a=$(now)
	qq-run -d --wait-ssh -v --ssh-port 0 "$t/hello" </dev/null >"$t/facts" 2>"$t/err"
	b=$(now)
	echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/qq"
	# Time outside QEMU: every step but spawn, from qq-run's own progress lines.
	awk '/^qq-run: / && $2 != "spawn" { s += $3 } END { printf "%.1f\n", s }' \
	    "$t/err" >>"$t/outside"
	qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null
	# By hand: the same argv (fixed port), QEMU started directly, the ideal poll.
	port=$(port_of "$t/facts")
	qq-run -n -d --ssh-port "$port" "$t/hello" </dev/null 2>/dev/null >"$t/argv"
	a=$(now)
	xargs <"$t/argv" sh -c 'exec "$@"' qemu
	"$t/poll" "$port" 300 || { echo "run-overhead: no banner on port $port" >&2; exit 1; }
	b=$(now)
	echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/hand"
	stop_by_hand
	i=$((i + 1))
done
# The whole qq-run process with nothing changed, QEMU not started: a dry run does every
# step but spawn (stage and mkimage check without writing), plus exec and linking.
j=0
while [ "$j" -lt 20 ]; do
	a=$(now)
	qq-run -n -d --ssh-port 0 "$t/hello" </dev/null >/dev/null 2>&1
	b=$(now)
	echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/dry"
	j=$((j + 1))
done
q=$(median "$t/qq") h=$(median "$t/hand") o=$(median "$t/outside")
echo "arch $arch, $runs runs, medians in ms"
echo "qq-run -d --wait-ssh: $q (all: $(tr '\n' ' ' <"$t/qq"))"
echo "by hand + ideal poll: $h (all: $(tr '\n' ' ' <"$t/hand"))"
echo "$q $h" | awk '{ printf "overhead: %.1f ms = %.1f%%\n", $1 - $2, ($1 - $2) * 100 / $2 }'
echo "second run, time outside QEMU (steps before spawn): $o (all: $(tr '\n' ' ' <"$t/outside"))"
echo "whole qq-run -n process, nothing changed (20 runs): $(median "$t/dry")"
