# lib.sh: helpers for the POSIX sh program tests (sourced, not run).
# Each test runs in a fresh temporary directory with a private HOME; failures
# are counted and the script exits 1 if any check failed.

set -u
: "${QQ_SRCDIR:?run through make check}" "${QQ_BUILDDIR:?run through make check}"
T=$(mktemp -d "${TMPDIR:-/tmp}/qq-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1
HOME=$T/home
mkdir -p "$HOME"
export HOME
unset QNX_QEMU_ARCH QNX_QEMU_SSH_PORT QNX_QEMU_RAM QNX_QEMU_SMP QNX_ROOT \
	QNX_QEMU_WORKSPACE QNX_QEMU_ACCEL QNX_QEMU_SSH_KEY QNX_QEMU_BINARY
failures=0
checks=0

fail() {
	failures=$((failures + 1))
	printf 'FAIL: %s\n' "$*"
}

# expect STATUS CMD...: runs CMD with stdin from /dev/null, stdout in $T/out,
# stderr in $T/err, and checks its exit status.
expect() {
	want=$1
	shift
	checks=$((checks + 1))
	got=0
	"$@" </dev/null >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" != "$want" ]; then
		fail "$* exited $got, expected $want; stderr: $(head -c 400 "$T/err")"
		return 1
	fi
	return 0
}

# expect_in STATUS INPUTFILE CMD...: the same, with stdin from INPUTFILE.
expect_in() {
	want=$1
	in=$2
	shift 2
	checks=$((checks + 1))
	got=0
	"$@" <"$in" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" != "$want" ]; then
		fail "$* <$in exited $got, expected $want; stderr: $(head -c 400 "$T/err")"
		return 1
	fi
	return 0
}

# err_has TEXT: stderr of the last command contains TEXT.
err_has() {
	grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1': $(head -c 400 "$T/err")"
}

# err_lines N: stderr of the last command has exactly N lines.
err_lines() {
	n=$(wc -l <"$T/err")
	[ "$n" -eq "$1" ] || fail "stderr has $n lines, expected $1: $(head -c 400 "$T/err")"
}

# out_has TEXT: stdout of the last command contains TEXT as a whole line.
out_has() {
	grep -qxF -- "$1" "$T/out" || fail "stdout lacks line '$1': $(head -c 400 "$T/out")"
}

# out_is FILE: stdout of the last command equals FILE.
out_is() {
	diff -u "$1" "$T/out" >"$T/diff" || fail "stdout differs from $1: $(head -c 1500 "$T/diff")"
}

# fact KEY [FILE]: the value of the last fact KEY in FILE (default: the last stdout).
fact() {
	sed -n "s/^$1=//p" "${2:-$T/out}" | tail -n 1
}

# alive PID: PID runs and is not a zombie (a daemonized QEMU that exited stays one
# until init reaps it, and kill -0 still succeeds on it).
alive() {
	st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures of $checks checks failed"
		exit 1
	fi
	echo "ok: $checks checks"
	exit 0
}
