# qq-stop.sh: options, not running, stale and foreign pidfiles, every rung of the ladder, clean.
. "$QQ_SRCDIR/tests/lib.sh"
. "$QQ_SRCDIR/tests/cli/vm.sh"

# start: starts a paused VM in $W; sets $pid.
start() {
	argv 0 >"$T/argv"
	pid=
	expect_in 0 "$T/argv" qq-spawn -d && pid=$(fact pid)
	[ -n "$pid" ]
}

gone() {
	checks=$((checks + 1))
	! alive "$1" || fail "pid $1 still runs"
}

# Options and usage.
expect 0 qq-stop -h
grep -q '^usage: qq-stop ' "$T/out" || fail "-h prints no usage"
expect 0 qq-stop -V && out_has "qq-stop 0.1.0"
expect 2 qq-stop --bogus && err_has "usage: qq-stop"
expect 2 qq-stop extra && err_has "usage: qq-stop"
expect 3 qq-stop --quit-timeout=-1 && err_has 'bad --quit-timeout "-1"'
expect 3 qq-stop --term-timeout=1s && err_has 'bad --term-timeout "1s"'
expect 3 qq-stop --workspace "" && err_has 'qq-stop: bad --workspace ""'
expect 3 env QNX_QEMU_WORKSPACE="$(printf 'a\nb')" qq-stop &&
	err_has "qq-stop: bad QNX_QEMU_WORKSPACE"

# Nothing running: exit 1, for every way the workspace is named.
expect 1 qq-stop --workspace "$W" && err_has "qq-stop: not running (no $W/output/qemu.pid)"
expect 1 env QNX_QEMU_WORKSPACE="$W" qq-stop && err_has "not running"
printf 'workspace=%s\nother=kept\n' "$W" >"$T/facts"
expect_in 1 "$T/facts" qq-stop && err_has "not running (no $W/output/qemu.pid)"
(cd "$T" && mkdir -p .qnx_qemu_vm && : >.qnx_qemu_vm/.qq && expect 1 qq-stop) &&
	err_has "not running (no $T/.qnx_qemu_vm/output/qemu.pid)"

# Facts pass through; stopped_by is appended. A paused guest ignores powerdown: quit ends it.
if start; then
	expect_in 0 "$T/facts" qq-stop --powerdown-timeout 300
	printf 'workspace=%s\nother=kept\nstopped_by=quit\n' "$W" >"$T/want"
	out_is "$T/want"
	gone "$pid"
	[ -e "$W/output/qemu.pid" ] && fail "pidfile left"
	[ -e "$W/qmp.sock" ] && fail "socket left"
fi
none_left "powerdown ignored"

# Stale pidfile after SIGKILL: removed and reported, exit 1.
if start; then
	kill -KILL "$pid"
	until_ok 150 test -z "$(ours)" || fail "pid $pid survives SIGKILL"
	expect 1 qq-stop --workspace "$W" &&
		err_has "not running: removed stale $W/output/qemu.pid (pid $pid is not our QEMU)"
	[ -e "$W/output/qemu.pid" ] && fail "stale pidfile kept"
	[ -e "$W/qmp.sock" ] && fail "stale socket kept"
fi
none_left "stale pidfile"

# Pid reuse: a pidfile naming an unrelated live process; it is never signalled.
sleep 60 &
spid=$!
echo "$spid" >"$W/output/qemu.pid"
expect 1 qq-stop --workspace "$W" --force && err_has "pid $spid is not our QEMU"
kill -0 "$spid" 2>/dev/null || fail "qq-stop signalled an unrelated process"
kill "$spid"
wait "$spid" 2>/dev/null

# A lock holder that is not QEMU: never signalled, exit 4, the pidfile stays.
"$HELPER" lock "$W/output/qemu.pid" >"$T/locked" &
hpid=$!
until_ok 150 test -s "$T/locked" || fail "the helper never took the lock"
expect 4 qq-stop --workspace "$W" && err_has "pid $hpid holds $W/output/qemu.pid but runs" &&
	err_has "not qemu-system-*; not signalled"
kill -0 "$hpid" 2>/dev/null || fail "qq-stop signalled the lock holder"
kill "$hpid"
wait "$hpid" 2>/dev/null
rm -f "$W/output/qemu.pid"

# --force skips powerdown.
if start; then
	expect 0 qq-stop --workspace "$W" --force --powerdown-timeout 60000 &&
		out_has "stopped_by=quit"
	gone "$pid"
fi
none_left "--force"

# No QMP socket (a VM from another terminal): the signal steps only.
if start; then
	rm -f "$W/qmp.sock"
	expect 0 qq-stop --workspace "$W" && out_has "stopped_by=sigterm"
	gone "$pid"
	[ -e "$W/output/qemu.pid" ] && fail "pidfile left"
fi
none_left "no QMP socket"

# A QEMU that answers nothing (stopped): QMP and SIGTERM go unheard, SIGKILL ends it.
if start; then
	kill -STOP "$pid"
	expect 0 qq-stop --workspace "$W" --powerdown-timeout 100 --quit-timeout 100 \
	    --term-timeout 200 && out_has "stopped_by=sigkill"
	gone "$pid"
	[ -e "$W/output/qemu.pid" ] && fail "pidfile left after SIGKILL"
	[ -e "$W/qmp.sock" ] && fail "socket left after SIGKILL"
fi
none_left "sigkill"

# Clean: stops, then removes the workspace; never follows a link out of it.
mkdir -p "$T/precious"
echo keep >"$T/precious/file"
if start; then
	ln -s "$T/precious" "$W/link"
	ln -s "$T/precious/file" "$W/output/filelink"
	mkdir -p "$W/staging/data/home/root"
	echo x >"$W/staging/data/home/root/hello"
	expect 0 qq-stop --clean --workspace "$W" --force &&
		out_has "stopped_by=quit" && out_has "cleaned=$W"
	gone "$pid"
	[ -e "$W" ] && fail "workspace left after clean"
	[ "$(cat "$T/precious/file" 2>/dev/null)" = keep ] || fail "clean followed a link"
fi
none_left "clean"
# ... a missing workspace is already clean;
expect 0 qq-stop --clean --workspace "$W" && out_has "cleaned=$W"
# ... a directory without the marker is not ours: exit 3, nothing deleted;
expect 3 qq-stop --clean --workspace "$T/precious" && err_has "is not a qq workspace"
[ -f "$T/precious/file" ] || fail "clean deleted a directory without the marker"
# ... and a workspace named through a symbolic link is refused.
mkdir -p "$T/real"
: >"$T/real/.qq"
ln -s "$T/real" "$T/alias"
expect 3 qq-stop --clean --workspace "$T/alias" && err_has "is a symbolic link; not cleaned"
[ -f "$T/real/.qq" ] || fail "clean went through a link"

finish
