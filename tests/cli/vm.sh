# vm.sh: helpers for the tests that run a real QEMU (sourced after lib.sh).
# Every QEMU is paused (-S) under TCG with no guest; each is found again by
# the test's own directory in its command line and stopped by pid, never by name.

QEMU=qemu-system-x86_64
export HELPER
HELPER=$QQ_BUILDDIR/tests/helper/qq-testhelper
command -v "$QEMU" >/dev/null 2>&1 || { echo "SKIP: $QEMU not installed"; exit 77; }

# A workspace with a space and a comma in its path: they must work end to end.
W="$T/my ws,1"
mkdir -p "$W/output"
: >"$W/.qq"

# comma PATH: QEMU's escape for a path inside an option value.
comma() {
	printf '%s' "$1" | sed 's/,/,,/g'
}

# argv [PORT] [extra QEMU args...]: a detached argv for workspace $W, one
# argument per line, quoted for xargs, as qq-cmdline prints it.
argv() {
	port=${1:-0}
	[ $# -gt 0 ] && shift
	{
		printf '%s\n' "$QEMU" -S -accel tcg -display none -netdev \
		    "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" \
		    -device virtio-net-pci,netdev=net0 -pidfile
		printf "'%s'\n" "$W/output/qemu.pid"
		printf '%s\n' -qmp
		printf "'unix:%s/qmp.sock,server=on,wait=off'\n" "$(comma "$W")"
		printf '%s\n' -serial
		printf "'file:%s'\n" "$W/serial.log"
		for a in "$@"; do
			printf "'%s'\n" "$a"
		done
		printf '%s\n' -daemonize
	}
}

# ours: pids of live QEMU processes started by this test (their argv holds $T).
ours() {
	for c in /proc/[0-9]*/cmdline; do
		d=${c%/cmdline}
		[ -r "$c" ] || continue
		case $(readlink "$d/exe" 2>/dev/null) in
		*/qemu-system-*) ;;
		*) continue ;;
		esac
		alive "${d#/proc/}" || continue
		if tr '\0' '\n' <"$c" 2>/dev/null | grep -qF -- "$T"; then
			echo "${d#/proc/}"
		fi
	done
}

# none_left WHAT: checks no QEMU of this test runs (waiting up to 15 s for one on its way out:
# a stop ladder takes a few seconds at worst, more on a loaded machine).
none_left() {
	checks=$((checks + 1))
	i=0
	while [ -n "$(ours)" ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	left=$(ours)
	[ -z "$left" ] || fail "$1: QEMU left running: $left"
	for p in $left; do
		kill -KILL "$p" 2>/dev/null
	done
}

# Whatever happens, no QEMU of ours survives the test.
cleanup_vms() {
	for p in $(ours); do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup_vms EXIT

# waiting PID: PID holds a TCP socket, which qq-spawn does only while it waits for SSH
# (before that it holds pipes and the QMP unix socket only).
waiting() {
	for l in /proc/"$1"/fd/*; do
		l=$(readlink "$l" 2>/dev/null) || continue
		case $l in
		socket:\[*\]) l=${l#socket:\[}; l=${l%\]} ;;
		*) continue ;;
		esac
		awk -v i="$l" 'NR > 1 && $10 == i { f = 1 } END { exit !f }' \
		    /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
	done
	return 1
}

# until_ok TENTHS CMD...: runs CMD every 0.1 s until it succeeds, at most TENTHS times.
until_ok() {
	n=$1
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
