# qq-spawn.sh: options, refusals before start, detached start with a real (paused) QEMU, waits.
. "$QQ_SRCDIR/tests/lib.sh"
. "$QQ_SRCDIR/tests/cli/vm.sh"

# Options and usage.
expect 0 qq-spawn -h && out_has "$(head -n 1 "$T/out")"
grep -q '^usage: qq-spawn ' "$T/out" || fail "-h prints no usage"
expect 0 qq-spawn -V && out_has "qq-spawn 0.1.0"
expect 2 qq-spawn --bogus && err_has "usage: qq-spawn"
expect 3 qq-spawn --wait-ssh=soon -- "$QEMU" && err_has 'bad --wait-ssh "soon"'
expect 3 qq-spawn --wait-ssh=0 -- "$QEMU" && err_has 'bad --wait-ssh "0"'

# Bad input: no argv, an argv without a program, a truncated option.
: >"$T/empty"
expect_in 3 "$T/empty" qq-spawn && err_has "qq-spawn: no QEMU argv on standard input"
expect 3 qq-spawn -- -S && err_has "no QEMU program"
expect 3 qq-spawn -- "$QEMU" -pidfile && err_has "QEMU option -pidfile lacks its value"
printf "%s\n" "$QEMU" "'-S" >"$T/badq"
expect_in 3 "$T/badq" qq-spawn && err_has "unmatched single quote"

# Refusals before anything starts.
expect 127 qq-spawn -- qemu-system-nonesuch -daemonize -pidfile "$W/output/qemu.pid" &&
	err_has "qq-spawn: unable to find QEMU qemu-system-nonesuch"
argv 0 -kernel "$W/output/ifs.bin" >"$T/argv"
expect_in 3 "$T/argv" qq-spawn -d && err_has "unable to read kernel $W/output/ifs.bin: No such file"
printf '%s\n' "$QEMU" -drive "'file=$(comma "$W")/disk,,x.vmdk,if=ide'" -daemonize \
    -pidfile "'$W/output/qemu.pid'" >"$T/argv"
expect_in 3 "$T/argv" qq-spawn && err_has "unable to read disk $W/disk,x.vmdk"
expect 2 qq-spawn -d -- "$QEMU" -S -display none && err_has "-d needs a detached argv"
expect 2 qq-spawn --wait-ssh -- "$QEMU" -S && err_has "--wait-ssh needs a detached argv"
expect 3 qq-spawn -- "$QEMU" -S -display none -daemonize && err_has "needs -pidfile"
none_left "refusals"

# Foreground: qq-spawn becomes QEMU.
if expect 0 qq-spawn -- "$QEMU" -version; then
	grep -q "QEMU emulator version" "$T/out" || fail "foreground did not run QEMU"
fi

# Start (port 0: QEMU picks, QMP tells), facts, second start refused, stop.
argv 0 >"$T/argv"
if expect_in 0 "$T/argv" qq-spawn -d -v --ssh-key "$T/my key"; then
	pid=$(fact pid)
	port=$(fact ssh_port)
	out_has "qmp=$W/qmp.sock"
	out_has "serial_log=$W/serial.log"
	[ "$(cat "$W/output/qemu.pid")" = "$pid" ] || fail "pid fact $pid is not the pidfile's"
	case $(readlink "/proc/$pid/exe") in
	*/qemu-system-x86_64) ;;
	*) fail "pid $pid is not QEMU" ;;
	esac
	[ "$port" -gt 0 ] || fail "ssh_port $port"
	err_has "qq-run ssh --workspace '$W'"
	grep -qx "ssh_port=$port" "$W/guest" || fail "$W/guest lacks ssh_port=$port: $(cat "$W/guest")"
	grep -qx "ssh_key=$T/my key" "$W/guest" || fail "$W/guest lacks the key: $(cat "$W/guest")"
	expect_in 4 "$T/argv" qq-spawn -d &&
		err_has "a VM of workspace $W is already running (pid $pid holds"
	# The chosen port is taken now: a fixed-port start on it names QEMU as the holder.
	mkdir -p "$T/w2/output"
	sed "s|$(comma "$W")|$T/w2|; s|$W|$T/w2|; s|127.0.0.1:0-|127.0.0.1:$port-|" "$T/argv" >"$T/argv2"
	expect_in 4 "$T/argv2" qq-spawn -d &&
		err_has "SSH port $port on 127.0.0.1 is already in use by pid $pid (qemu-system-x86)"
	expect 0 qq-stop --workspace "$W" --force && out_has "stopped_by=quit"
	alive "$pid" && fail "pid $pid still runs after qq-stop"
	[ -e "$W/output/qemu.pid" ] && fail "pidfile left after stop"
	[ -e "$W/qmp.sock" ] && fail "socket left after stop"
fi
none_left "start and stop"

# The argv after --, as arguments.
xargs qq-spawn -d -- <"$T/argv" >"$T/out" 2>"$T/err" || true
pid=$(fact pid)
[ -n "$pid" ] || fail "qq-spawn -- argv printed no pid: $(cat "$T/err")"
expect 0 qq-stop --workspace "$W" --force
none_left "argv after --"

# A port held by another program: refused, naming it.
"$HELPER" listen >"$T/lport" &
lpid=$!
until_ok 300 test -s "$T/lport" || fail "the helper never printed its port"
lport=$(cat "$T/lport")
argv "$lport" >"$T/argv"
expect_in 4 "$T/argv" qq-spawn -d &&
	err_has "SSH port $lport on 127.0.0.1 is already in use by pid $lpid (qq-testhelper)"
kill "$lpid"
wait "$lpid" 2>/dev/null
[ -e "$W/qmp.sock" ] && fail "socket left after a refused start"
none_left "port conflict"

# --wait-ssh: a guest that never answers times out, shows the console, and is stopped.
argv 0 >"$T/argv"
expect_in 4 "$T/argv" qq-spawn -d --wait-ssh=2 &&
	err_has "no SSH identification from 127.0.0.1:" &&
	err_has "within 2 s; the VM was stopped; console log: $W/serial.log"
[ -e "$W/output/qemu.pid" ] && fail "pidfile left after a failed wait"
none_left "--wait-ssh timeout"

# QEMU that dies while we wait: its early exit is reported at once.
argv 0 >"$T/argv"
qq-spawn -d --wait-ssh=60 <"$T/argv" >"$T/out" 2>"$T/err" &
spid=$!
checks=$((checks + 1))
if until_ok 300 waiting "$spid"; then
	kill -KILL "$(cat "$W/output/qemu.pid")"
else
	fail "qq-spawn never started waiting for SSH: $(cat "$T/err")"
fi
got=0
wait "$spid" || got=$?
[ "$got" = 4 ] || fail "QEMU dying during the wait: exit $got, expected 4"
err_has "QEMU exited before SSH answered"
none_left "QEMU dying during --wait-ssh"

# SIGTERM during the wait: the VM is stopped, exit 128+15.
argv 0 >"$T/argv"
qq-spawn -d --wait-ssh=60 <"$T/argv" >"$T/out" 2>"$T/err" &
spid=$!
until_ok 300 waiting "$spid" || fail "qq-spawn never started waiting for SSH: $(cat "$T/err")"
kill -TERM "$spid"
got=0
wait "$spid" || got=$?
checks=$((checks + 1))
[ "$got" = 143 ] || fail "SIGTERM during the wait: exit $got, expected 143"
err_has "interrupted by signal 15 while waiting for SSH; the VM was stopped"
none_left "SIGTERM during --wait-ssh"

# SIGKILL during the wait: nothing can run in qq-spawn, yet its guard stops QEMU.
qq-spawn -d --wait-ssh=60 <"$T/argv" >"$T/out" 2>"$T/err" &
spid=$!
until_ok 300 waiting "$spid" || fail "qq-spawn never started waiting for SSH: $(cat "$T/err")"
[ -n "$(ours)" ] || fail "no QEMU running before SIGKILL"
kill -KILL "$spid"
wait "$spid" 2>/dev/null
none_left "SIGKILL of qq-spawn during --wait-ssh"

# A workspace too deep for a unix socket path: QMP lives in /tmp/qq-DIGEST, recorded in WS.
D="$T/$(printf '%0100d' 0 | tr 0 d)/deep ws"
mkdir -p "$D/output"
dig=$(printf '%s' "$D" | sha256sum | cut -c1-16)
short=/tmp/qq-$dig
printf '%s\n' "$QEMU" -S -accel tcg -display none -pidfile "'$D/output/qemu.pid'" -qmp \
    "unix:$short/qmp.sock,server=on,wait=off" -daemonize >"$T/argv"
if expect_in 0 "$T/argv" qq-spawn -d; then
	out_has "qmp=$short/qmp.sock"
	[ "$(readlink "$D/qmp.sock")" = "$short/qmp.sock" ] || fail "no link to the short socket"
	[ "$(stat -c %a "$short")" = 700 ] || fail "$short is not 0700"
	expect 0 qq-stop --workspace "$D" --force && out_has "stopped_by=quit"
	[ -e "$short" ] && fail "$short left after stop"
	[ -L "$D/qmp.sock" ] && fail "link left after stop"
fi
# ... and a short directory that is not private is refused.
mkdir -m 777 "$short"
chmod 777 "$short"
expect_in 4 "$T/argv" qq-spawn -d && err_has "$short is not a private directory of ours"
rmdir "$short"
none_left "deep workspace"

finish
