# usage.sh: every program keeps the usage contract: --help and --version on stdout with
# status 0; an unknown option, a missing option argument or a stray operand is status 2
# with the one usage line on stderr and nothing on stdout.
. "$QQ_SRCDIR/tests/lib.sh"

# out_empty: stdout of the last command is empty.
out_empty() {
	[ -s "$T/out" ] && fail "stdout not empty: $(head -c 400 "$T/out")"
	return 0
}

# usage_error PROG: stderr is the usage line, after at most one line saying what was wrong.
usage_error() {
	out_empty
	lines=$(wc -l <"$T/err")
	if [ "$lines" -lt 1 ] || [ "$lines" -gt 2 ]; then
		fail "$1: $lines stderr lines: $(head -c 400 "$T/err")"
	fi
	tail -n 1 "$T/err" | grep -q "^usage: $1 " || fail "$1: no usage line last: $(cat "$T/err")"
}

progs=0
for path in "$QQ_BUILDDIR"/bin/qq-*; do
	case $path in *.o) continue ;; esac
	[ -x "$path" ] || continue
	p=${path##*/}
	progs=$((progs + 1))
	for h in -h --help; do
		if expect 0 "$p" "$h"; then
			grep -q "^usage: $p " "$T/out" || fail "$p $h: no usage on stdout"
		fi
		[ -s "$T/err" ] && fail "$p $h wrote to stderr: $(cat "$T/err")"
	done
	for v in -V --version; do
		expect 0 "$p" "$v" && out_has "$p 0.1.0"
	done
	expect 2 "$p" --no-such-option && usage_error "$p"
	expect 2 "$p" -@ && usage_error "$p"
	# An option that takes an argument, given none.
	case $p in
	qq-spawn | qq-keygen) opt=--ssh-key ;;
	qq-stop | qq-test) opt=--workspace ;;
	qq-mkimage) opt=--base ;;
	qq-cmdline | qq-detect-accel | qq-stage | qq-run) opt=--arch ;;
	*) continue ;;	# a program this list does not know yet
	esac
	expect 2 "$p" "$opt" && err_has "option '$opt' requires an argument" && usage_error "$p"
done
[ "$progs" -ge 8 ] || fail "found only $progs programs in $QQ_BUILDDIR/bin"

# Operands: qq-stage needs exactly one; the programs that read facts take none.
expect 2 qq-stage && usage_error qq-stage
expect 2 qq-stage a b && usage_error qq-stage
for p in qq-detect-accel qq-keygen qq-cmdline qq-mkimage qq-stop; do
	expect 2 "$p" stray && usage_error "$p"
done

finish
