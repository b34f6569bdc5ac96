#!/bin/sh
# test-overhead.sh: qq-test against hand-written ssh over an open ControlMaster, on a real guest.
# (a) per-test overhead of a trivial test: qq-test --repeat N (each test's time from its TAP
#     line) against a bare loop of `ssh -o ControlPath=... true` (and of the same binary) over
#     a master opened by hand; medians.
# (b) 16 tests printing 2 MB each, end to end: qq-run --run-tests --keep against the same
#     argv booted by hand, a login loop (ssh true every 200 ms), a master and the same loop of
#     16 ssh runs with their output kept in files; alternated run by run; stops not timed.
# usage: QQ_BUILDDIR=/path/to/build sh bench/test-overhead.sh [N] [RUNS] [ARCH]
set -eu
n=${1:-100}
runs=${2:-3}
arch=${3:-x86_64}
. "$(dirname "$0")/guest.sh"
ms() { echo "$1 $2" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }'; }
cat >"$t/t.c" <<'EOC'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	static char line[1024];
	(void)argc;
	if (strstr(argv[0], "t_true")) return 0;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 2048; i++) fwrite(line, 1, sizeof(line), stdout);	/* 2 MB */
	return 0;
}
EOC
mkdir -p "$t/one" "$t/many"
"$cc" -static -O2 -o "$t/one/t_true" "$t/t.c"
for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16; do ln "$t/one/t_true" "$t/many/t_2mb_$i"; done
sshargs() {	# the pinned login qq uses
	echo "-p $1 -i $t/key -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR"
	echo "-o UserKnownHostsFile=$t/ws/known_hosts -o HostKeyAlias=qq-guest"
}

# (a) Per-test overhead.
qq-run -d --wait-ssh --ssh-port 0 "$t/hello" --tests "$t/one" </dev/null >"$t/facts"
port=$(sed -n 's/^ssh_port=//p' "$t/facts")
# shellcheck disable=SC2046
ssh -M -N -f -o ControlPath="$t/m.ctl" $(sshargs "$port") root@127.0.0.1
round=0
while [ "$round" -lt 5 ]; do	# alternate blocks, so that drift hits both alike
	i=0
	while [ "$i" -lt $((n / 5)) ]; do
		a=$(now)
		# shellcheck disable=SC2046
		ssh -o ControlPath="$t/m.ctl" $(sshargs "$port") root@127.0.0.1 true
		b=$(now)
		ms "$a" "$b" >>"$t/ssh_true"
		a=$(now)
		# shellcheck disable=SC2046
		ssh -o ControlPath="$t/m.ctl" $(sshargs "$port") root@127.0.0.1 \
		    /data/home/root/tests/t_true </dev/null
		b=$(now)
		ms "$a" "$b" >>"$t/ssh_bin"
		i=$((i + 1))
	done
	a=$(now)
	qq-test --repeat $((n / 5)) <"$t/facts" >"$t/tap"
	b=$(now)
	ms "$a" "$b" | awk -v k=$((n / 5)) '{ printf "%.1f\n", $1 / k }' >>"$t/qq_wall"
	sed -n 's/.* # time=\([0-9.]*\)ms$/\1/p' "$t/tap" >>"$t/qq_test"
	round=$((round + 1))
done
ssh -o ControlPath="$t/m.ctl" -O exit root@127.0.0.1 2>/dev/null || true
qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null
st=$(median "$t/ssh_true") sb=$(median "$t/ssh_bin") qt=$(median "$t/qq_test") qw=$(median "$t/qq_wall")
echo "arch $arch; (a) per test, $n runs each, medians in ms"
echo "ssh -o ControlPath=... true over an open master: $st"
echo "ssh -o ControlPath=... the trivial test binary:  $sb"
echo "qq-test, per test (TAP time):                    $qt ($(echo "$qt $st" | awk '{ printf "%.2fx", $1 / $2 }') of ssh true)"
echo "qq-test --repeat, whole run / tests:             $qw (includes the master's start and qq-test's own start)"

# (b) End to end, 16 tests x 2 MB.
rm -rf "$t/ws"
qq-run --run-tests --ssh-port 0 "$t/hello" --tests "$t/many" </dev/null >/dev/null	# builds the image
i=0
while [ "$i" -lt "$runs" ]; do
	rm -f "$t/ws/known_hosts"	# each boot of this guest makes new host keys
	a=$(now)
	qq-run --run-tests --keep --ssh-port 0 "$t/hello" --tests "$t/many" </dev/null >"$t/tap2"
	b=$(now)
	ms "$a" "$b" >>"$t/e2e_qq"
	port=$(sed -n 's/^ssh_port=//p' "$t/ws/guest")
	qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null
	# By hand: the same argv, a login loop, a master, the same 16 runs with kept output.
	qq-run -n -d --ssh-port "$port" "$t/hello" --tests "$t/many" </dev/null 2>/dev/null >"$t/argv"
	mkdir -p "$t/hand"
	rm -f "$t/ws/known_hosts"
	a=$(now)
	xargs <"$t/argv" sh -c 'exec "$@"' qemu
	# shellcheck disable=SC2046
	until ssh -o ConnectTimeout=1 -o StrictHostKeyChecking=accept-new $(sshargs "$port") root@127.0.0.1 true </dev/null 2>/dev/null; do
		sleep 0.2
	done
	# shellcheck disable=SC2046
	ssh -M -N -f -o ControlPath="$t/h.ctl" $(sshargs "$port") root@127.0.0.1
	for f in "$t"/many/*; do
		# shellcheck disable=SC2046
		ssh -o ControlPath="$t/h.ctl" $(sshargs "$port") root@127.0.0.1 \
		    "/data/home/root/tests/${f##*/}" </dev/null >"$t/hand/${f##*/}.out" 2>"$t/hand/${f##*/}.err"
	done
	b=$(now)
	ms "$a" "$b" >>"$t/e2e_hand"
	ssh -o ControlPath="$t/h.ctl" -O exit root@127.0.0.1 2>/dev/null || true
	qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null
	i=$((i + 1))
done
q=$(median "$t/e2e_qq") h=$(median "$t/e2e_hand")
echo "(b) 16 tests x 2 MB, boot to last result, $runs runs each, medians in ms"
echo "qq-run --run-tests --keep: $q (all: $(tr '\n' ' ' <"$t/e2e_qq"))"
echo "by hand + ssh loop:        $h (all: $(tr '\n' ' ' <"$t/e2e_hand"))"
echo "$q $h" | awk '{ printf "ratio: %.3fx\n", $1 / $2 }'
