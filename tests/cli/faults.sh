#!/bin/sh
# faults.sh: fault injection: leftovers of killed steps swept, signals honoured and cleaned
# up after, bounded launch waits with QEMU stand-ins that misbehave on cue, the guard
# outliving its process group, racing first runs, clean refusing a mount point.
. "$QQ_SRCDIR/tests/lib.sh"
. "$QQ_SRCDIR/tests/cli/vm.sh"

mkdir -p prog fake
printf '#!/bin/sh\necho hi\n' >prog/hello && chmod 755 prog/hello

# 1. Leftovers of ours (what SIGKILL leaves) are removed by the next step, under the lock;
#    a file of the user's that merely looks alike is kept.
qq-stage --workspace "$T/ws" prog/hello </dev/null >/dev/null 2>&1 || fail "first stage failed"
mkdir -p ws/staging.new/data/home/root ws/output ws/local/snippets
head -c 1048576 /dev/zero >ws/staging.new/data/home/root/big
: >ws/output/initrd.img.tmpAb12Cd
: >ws/output/vmlinuz.tmp4242
: >ws/.qq.tmpZZ9zz9
: >ws/local/snippets/data_files.custom.tmpQwErTy
: >ws/.qmp.sock.tmp
: >ws/output/notes.tmpfile	# not one of our names: kept
expect 0 qq-stage --workspace "$T/ws" prog/hello
for f in staging.new output/initrd.img.tmpAb12Cd output/vmlinuz.tmp4242 .qq.tmpZZ9zz9 \
    local/snippets/data_files.custom.tmpQwErTy .qmp.sock.tmp; do
	[ -e "ws/$f" ] && fail "leftover ws/$f not swept by the next step"
done
[ -e ws/output/notes.tmpfile ] || fail "a user's file that looks like a leftover was removed"
# ... by qq-mkimage too.
: >ws/output/initrd.img.tmpXy12Zw
printf 'k\n' >fake/vmlinuz && printf 'i\n' >fake/initrd.img && printf 'console=ttyS0\n' >fake/append
ssh-keygen -q -t ed25519 -N '' -f "$T/key" </dev/null
expect 0 qq-mkimage --workspace "$T/ws" --builder initramfs --base "$T/fake" --ssh-pubkey "$T/key.pub"
[ -e ws/output/initrd.img.tmpXy12Zw ] && fail "qq-mkimage did not sweep a leftover"

# 2. SIGINT during staging: the partial staging.new is removed at once, exit by the signal.
head -c 268435456 /dev/zero >prog/big && chmod 755 prog/big
printf '#!/bin/sh\n' | dd of=prog/big conv=notrunc 2>/dev/null
rm -rf ws2
qq-stage --workspace "$T/ws2" prog/hello --test prog/big </dev/null >/dev/null 2>"$T/err" &
spid=$!
# Caught mid-copy: stopped as soon as staging.new shows, signalled, continued.
while [ ! -d ws2/staging.new ] && kill -0 "$spid" 2>/dev/null; do :; done
kill -STOP "$spid" 2>/dev/null
kill -INT "$spid" 2>/dev/null
kill -CONT "$spid" 2>/dev/null
got=0
wait "$spid" || got=$?
checks=$((checks + 1))
case $got in
130) err_has "interrupted by signal 2" ;;
0) echo "# note: the copy finished before SIGINT arrived; nothing to clean" ;;
*) fail "SIGINT during staging: exit $got, expected 130: $(cat "$T/err")" ;;
esac
[ -e ws2/staging.new ] && fail "SIGINT during staging left staging.new"
rm -f prog/big

# 3. A lock held while its pid is not written yet names its holder (from /proc/locks).
if command -v flock >/dev/null 2>&1; then
	flock -n -o ws/lock sleep 300 </dev/null >/dev/null 2>&1 &
	fpid=$!
	until_ok 300 grep -q FLOCK /proc/locks || true
	: >ws/lock	# empty: as just after open(2), before the holder writes its pid
	expect 4 qq-stage --workspace "$T/ws" prog/hello && err_has "is busy: locked by pid $fpid"
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
fi

# 4. Two first runs racing to create one workspace: each wins or is told "busy" (4), never 3.
i=0
while [ $i -lt 12 ]; do
	qq-stage --workspace "$T/race$i" prog/hello </dev/null >/dev/null 2>"$T/r1" &
	a=$!
	qq-stage --workspace "$T/race$i" prog/hello </dev/null >/dev/null 2>"$T/r2" &
	b=$!
	for p in $a $b; do
		got=0
		wait "$p" || got=$?
		checks=$((checks + 1))
		case $got in
		0|4) ;;
		*) fail "racing first runs: exit $got: $(cat "$T/r1" "$T/r2")" ;;
		esac
	done
	i=$((i + 1))
done

# 5. Bounded launch: a QEMU that never daemonizes (nor exits), and one whose daemon keeps
#    our stderr open. Stand-ins: what matters is only how they treat their parent's pipes.
#    (QEMU's -daemonize: the parent exits once the child is set up, and the child then
#    points stdio at /dev/null; os_setup_post() in QEMU's os-posix.c.)
cat >fake/qemu-never <<'SH'
#!/bin/sh
echo $$ >"$(dirname "$0")/never.pid"
exec sleep 300
SH
cat >fake/qemu-stderr <<SH
#!/bin/sh
# The "daemon": holds the pidfile's lock, and our stdout and stderr, forever.
pidfile=\$(printf '%s\n' "\$@" | sed -n '/^-pidfile\$/{n;p}')
"$QQ_BUILDDIR/tests/helper/qq-testhelper" lock "\$pidfile" >/dev/null &
echo \$! >"\$pidfile"
echo \$! >"$T/fake/stderr.pid"
until grep -q "\$(cat "\$pidfile")" /proc/locks 2>/dev/null; do :; done
exit 0
SH
chmod 755 fake/qemu-never fake/qemu-stderr
mkdir -p fw/output && : >fw/.qq
printf '%s\n' "$T/fake/qemu-never" -daemonize -display none -pidfile "$T/fw/output/qemu.pid" >never.argv
checks=$((checks + 1))
got=0
timeout 60 env QQ_SPAWN_LAUNCH_MS=1000 qq-spawn -d <never.argv >"$T/out" 2>"$T/err" || got=$?
[ "$got" = 4 ] || fail "QEMU that never daemonizes: exit $got, expected 4 (124: hung)"
err_has "did not finish within 1 s; killed"
np=$(cat fake/never.pid 2>/dev/null)
[ -n "$np" ] && alive "$np" && fail "the QEMU that never daemonized still runs"
printf '%s\n' "$T/fake/qemu-stderr" -daemonize -display none -pidfile "$T/fw/output/qemu.pid" >stderr.argv
checks=$((checks + 1))
got=0
timeout 60 qq-spawn -d <stderr.argv >"$T/out" 2>"$T/err" || got=$?
[ "$got" = 0 ] || fail "QEMU whose daemon keeps stderr open: exit $got, expected 0 (124: hung): $(cat "$T/err")"
sp=$(cat fake/stderr.pid 2>/dev/null)
[ -n "$sp" ] && kill "$sp" 2>/dev/null

# 6. Signals during the launch wait: honoured at once, exit 128+n, nothing left behind.
for sig in INT TERM; do
	rm -f fake/never.pid
	qq-spawn -d <never.argv >"$T/out" 2>"$T/err" &
	spid=$!
	until_ok 300 test -s fake/never.pid || fail "the stand-in never started"
	kill -"$sig" "$spid"
	got=0
	timeout 60 sh -c "while kill -0 $spid 2>/dev/null; do sleep 0.05; done" || got=124
	wait "$spid" || got=$?
	checks=$((checks + 1))
	want=130
	[ "$sig" = TERM ] && want=143
	[ "$got" = "$want" ] || fail "SIG$sig during the launch: exit $got, expected $want"
	np=$(cat fake/never.pid 2>/dev/null)
	[ -n "$np" ] && alive "$np" && fail "SIG$sig: the stand-in still runs"
done

# 7. Killing the whole process group of qq-spawn during --wait-ssh (what CI timeouts and
#    timeout -s KILL do): the guard, in its own session, stops the VM.
if command -v "$QEMU" >/dev/null 2>&1 && command -v setsid >/dev/null 2>&1; then
	argv 0 >"$T/argv"
	setsid qq-spawn -d --wait-ssh=120 <"$T/argv" >"$T/out" 2>"$T/err" &
	spid=$!
	until_ok 600 waiting "$spid" || fail "qq-spawn never started waiting: $(cat "$T/err")"
	[ -n "$(ours)" ] || fail "no QEMU before the group kill"
	kill -KILL -- "-$spid" 2>/dev/null || kill -KILL "$spid"
	wait "$spid" 2>/dev/null
	none_left "SIGKILL of the process group during --wait-ssh"
fi

# 8. clean with a file system mounted inside the workspace: refused, nothing removed.
if [ "$(id -u)" = 0 ] && mkdir -p ws/mnt && mount -t tmpfs qq-test ws/mnt 2>/dev/null; then
	: >ws/mnt/inside
	expect 4 qq-stop --clean --workspace "$T/ws" && err_has "$T/ws/mnt is a mount point"
	[ -f ws/.qq ] && [ -f ws/mnt/inside ] && [ -d ws/staging ] ||
	    fail "a refused clean removed something"
	umount ws/mnt
	expect 0 qq-stop --clean --workspace "$T/ws"
	[ ! -e ws ] || fail "clean left the workspace"
else
	echo "# note: not root or no tmpfs mount: the mount-point clean is not tested here"
fi
finish
