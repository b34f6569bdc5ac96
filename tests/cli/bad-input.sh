#!/bin/sh
# bad-input.sh: runs every row of bad-input.tsv (program, arguments, environment, stdin,
# expected status, stderr pattern, files that must be unchanged) against one fixture.
. "$QQ_SRCDIR/tests/lib.sh"

TABLE=$QQ_SRCDIR/tests/cli/bad-input.tsv
HELPER=$QQ_BUILDDIR/tests/helper/qq-testhelper
command -v ssh-keygen >/dev/null 2>&1 || { echo "SKIP: ssh-keygen not installed"; exit 77; }

# The fixture: programs good and bad, workspaces ours and not, a "running" VM, a base guest.
mkdir -p prog/tests base ws/output unmarked/output running/output empty facts "$HOME/.ssh" fq
cp "$HELPER" prog/hello			# a native ELF executable
printf '#!/bin/sh\necho hi\n' >prog/script && chmod 755 prog/script
printf 'data\n' >prog/noexec && chmod 644 prog/noexec
printf '#!/bin/sh\n' >prog/tests/test_a && chmod 755 prog/tests/test_a
cp prog/script prog/tests/tests && chmod 755 prog/tests/tests
# An aarch64 ELF header (e_machine 183) for an x86_64 target, and the reverse.
{ head -c 18 prog/hello; printf '\267\000'; tail -c +21 prog/hello | head -c 44; } >prog/arm
chmod 755 prog/arm
cp prog/script "prog/$(printf 'nl\nname')" && chmod 644 "prog/$(printf 'nl\nname')"
cp prog/script "prog/$(printf 'esc\033[31mname')" && chmod 644 "prog/$(printf 'esc\033[31mname')"
cp prog/script 'prog/q"uote' && chmod 755 'prog/q"uote'
mkdir prog/tests.d prog/tests.d/tests && cp prog/script prog/tests.d/tests/x
printf 'kernel\n' >base/vmlinuz && printf 'initrd\n' >base/initrd.img
printf 'console=ttyS0\n' >base/append
mkdir -p emptybase
: >ws/.qq && printf '999999\n' >ws/output/qemu.pid
printf 'user data, not a pidfile\n' >unmarked/output/qemu.pid
printf 'mine\n' >unmarked/file
: >running/.qq
: >afile
ln -s ws alias
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519" </dev/null
printf '#!/bin/sh\nexit 0\n' >fq/ok && chmod 755 fq/ok
# A "running VM": a process holding the pidfile's POSIX lock, as QEMU does.
"$HELPER" lock "$T/running/output/qemu.pid" >locked &
holder=$!
trap 'kill "$holder" 2>/dev/null; rm -rf "$T"' EXIT
until [ -s locked ]; do sleep 0.01; done	# the helper says "locked" once it holds it
# Facts files for stdin.
pub=$(cat "$HOME/.ssh/id_ed25519.pub")
printf 'ssh_pubkey=%s\nstage=/data/home/root/tests\t%s/prog/script\n' "$pub" "$T" >facts/stage-tests
printf 'ssh_pubkey=%s\nstage=/data/home/root/hello %s/prog/script\n' "$pub" "$T" >facts/stage-notab
printf 'ssh_pubkey=%s\nstage=/data/home/root/hello\tprog/script\n' "$pub" >facts/stage-relhost
printf 'ssh_pubkey=%s\nstage=/etc/passwd\t%s/prog/script\n' "$pub" "$T" >facts/stage-outside
printf 'ssh_pubkey=%s\nstage=/data/home\t%s/prog/script\n' "$pub" "$T" >facts/stage-home
printf 'ssh_pubkey=%s\n' "$pub" >facts/pubkey
printf 'Bad Key=1\n' >facts/badkey
printf 'arch=x86_64\nno equals sign\n' >facts/noeq
printf 'ram=lots\n' >facts/badram
printf '%s\n' qemu-system-x86_64 -daemonize -display none >facts/argv-nopidfile
printf '%s\n' /etc/passwd -daemonize -pidfile "$T/x/qemu.pid" >facts/argv-passwd
printf '%s\n' qemu-system-x86_64 -display none -pidfile "$T/x/qemu.pid" >facts/argv-fg
printf '%s\n' qemu-system-x86_64 -daemonize -display none -pidfile "$T/running/output/qemu.pid" >facts/argv-running
printf '%s\n' qemu-system-x86_64 -daemonize -display none -kernel "$T/nope/ifs.bin" -pidfile "$T/x/qemu.pid" >facts/argv-nokernel
printf 'qemu-system-x86_64 "unterminated\n' >facts/argv-quote
ln -s "$QQ_SRCDIR/tests/sdp" sdp

# snap PATH: what must not change about PATH (absent, or type, mode, size and content).
snap() {
	if [ ! -e "$1" ] && [ ! -L "$1" ]; then
		echo absent
	elif [ -d "$1" ] && [ ! -L "$1" ]; then
		# The workspace lock (its pid rewritten by each step that locks) is no state.
		(cd "$1" && find . -mindepth 1 ! -path ./lock | LC_ALL=C sort |
		    xargs -d '\n' stat -c '%n %F %a %s %Y' 2>&1) | cksum
	else
		stat -c '%F %a %s' "$1"
		[ -f "$1" ] && cksum <"$1"
	fi
}

row=0
tab=$(printf '\t')
while IFS=$tab read -r prog args envs stdin status pattern keep; do
	case $prog in '#'*|'') continue ;; esac
	row=$((row + 1))
	sub() { printf '%s' "$1" | sed "s|@T|$T|g; s|@S|$QQ_SRCDIR|g"; }
	[ "$args" = - ] && args=
	[ "$envs" = - ] && envs=
	[ "$keep" = - ] && keep=
	args=$(sub "$args")
	envs=$(sub "$envs")
	pattern=$(sub "$pattern")
	for k in $keep; do
		snap "$T/${k#!}" >"$T/snap.$(printf '%s' "$k" | tr '/!' '__')"
	done
	case $stdin in
	null) redir='</dev/null' ;;
	closed) redir='<&-' ;;
	*) redir="<'$T/$stdin'" ;;
	esac
	checks=$((checks + 1))
	got=0
	eval "env $envs $prog $args $redir >'$T/out' 2>'$T/err'" || got=$?
	what="row $row: $prog $args"
	if [ "$got" != "$status" ]; then
		fail "$what: exited $got, expected $status; stderr: $(head -c 400 "$T/err")"
		continue
	fi
	# One line per message, each naming its program (a usage error: the usage line).
	if grep -qv "^\\($prog: \\|usage: \\)" "$T/err"; then
		fail "$what: a stderr line is not one message of $prog: $(head -c 400 "$T/err")"
	fi
	tail -n 1 "$T/err" | grep -qE -- "$pattern" ||
		fail "$what: last stderr line lacks /$pattern/: $(head -c 400 "$T/err")"
	for k in $keep; do
		s=$T/snap.$(printf '%s' "$k" | tr '/!' '__')
		now=$(snap "$T/${k#!}")
		case $k in
		'!'*)	# (removed again, so that one failure does not cascade into later rows)
			[ "$now" = absent ] || { fail "$what: ${k#!} was created"; rm -rf "$T/${k#!}"; } ;;
		*) [ "$now" = "$(cat "$s")" ] || fail "$what: $k changed" ;;
		esac
	done
done <"$TABLE"
[ "$row" -ge 80 ] || fail "the table has $row rows, fewer than 80"
# The "running VM" was never disturbed by a refused step.
kill -0 "$holder" 2>/dev/null || fail "a refused step killed the lock holder"
finish
