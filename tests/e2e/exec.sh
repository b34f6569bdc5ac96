# e2e/exec.sh: qq-exec as the emulator of real ctest and meson on a real Linux guest
# (sourced by tests/e2e/exec-*.sh). tests/exec is built twice: natively (run on the
# host) and for ARCH with qq-exec as CMAKE_CROSSCOMPILING_EMULATOR and meson's
# exe_wrapper; both runners must report the same for each test (pass, fail with its
# stderr shown, crash by SIGSEGV, a test reading its data file). The first calls
# come from ctest -j 2 with --boot: one VM boots, both use it. Then the same VM
# (one boot per arch): meson test, 4 calls at once, stdin, a timeout, and after
# qq-run stop, the ControlMaster gone and the next call failing with 99.
# SSHD (dropbear, the default, or openssh: the guest booted with qq.sshd=openssh) decides
# which shape of qq's guest command must run: OpenSSH makes each session's shell a session
# leader, so the command runs in that shell's group ("leader path", QNX's case); dropbear
# does not, so the shell execs setsid sh first. A program that prints its parent proves which.
. "$QQ_SRCDIR/tests/e2e/lib.sh"

PY=/usr/bin/python3

# ctest_results DIR: "name outcome" per test from ctest's own summary lines, sorted.
ctest_results() {
	sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([A-Za-z_]*\) \.*[* ]*\([A-Za-z][A-Za-z: ]*[A-Za-z]\) *[0-9.]* sec$/\1 \2/p' \
		"$1" | sort
}

# meson_results BUILDDIR: "name result returncode" per test from meson's testlog.json.
meson_results() {
	"$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["name"], t["result"], t["returncode"])' "$1/meson-logs/testlog.json" | sort
}

# same WHAT FILE1 FILE2: the two result lists agree and are not empty.
same() {
	checks=$((checks + 1))
	if [ ! -s "$2" ] || ! diff -u "$2" "$3" >"$T/diff"; then
		fail "$1: results differ or are empty: $(cat "$2" "$T/diff" | head -c 1500)"
		return 1
	fi
}

# exec_e2e ARCH [SSHD]
exec_e2e() {
	arch=$1
	need cmake meson ninja
	arch_cc "$arch"
	xcc=$cc
	need cc
	base "$arch" "${2:-dropbear}"
	src=$QQ_SRCDIR/tests/exec
	# Missing parents, made by --boot as by qq-run (the two first calls race to make them).
	ws=$T/new/parent/ws
	export QNX_QEMU_WORKSPACE="$ws"

	# The reference: built natively, run on the host.
	cmake -S "$src" -B "$T/native" -G Ninja >"$T/cmake.log" 2>&1 &&
		cmake --build "$T/native" >>"$T/cmake.log" 2>&1 ||
		{ fail "native cmake build: $(tail -n 20 "$T/cmake.log")"; return; }
	(cd "$T/native" && ctest -j 2 --output-on-failure) >"$T/native.ctest" 2>&1
	ctest_results "$T/native.ctest" >"$T/native.res"
	grep -q '^crash Exception: SegFault$' "$T/native.res" ||
		fail "native ctest did not see the crash: $(cat "$T/native.ctest")"

	# The same through qq-exec; --boot in the emulator: ctest -j 2's first two
	# calls boot one VM between them.
	QQ_ARCH=$arch QQ_CC=$xcc cmake -S "$src" -B "$T/cross" -G Ninja \
		-DCMAKE_TOOLCHAIN_FILE="$src/toolchain-qq.cmake" \
		"-DCMAKE_CROSSCOMPILING_EMULATOR=qq-exec;--boot;--builder;initramfs;--base;$base;--ssh-port;0;--accel;tcg;--arch;$arch;--workspace;$ws" \
		>"$T/cmake.log" 2>&1 && cmake --build "$T/cross" >>"$T/cmake.log" 2>&1 ||
		{ fail "cross cmake build: $(tail -n 20 "$T/cmake.log")"; return; }
	(cd "$T/cross" && ctest -j 2 --output-on-failure) >"$T/cross.ctest" 2>&1
	vm_pid=$(cat "$ws/output/qemu.pid" 2>/dev/null || true)
	ctest_results "$T/cross.ctest" >"$T/cross.res"
	if ! cmp -s "$T/native.res" "$T/cross.res" && { { [ "$(dropbear_aborts "$ws")" -gt 0 ] &&
		grep -q "^qq-exec: the SSH connection to the guest was lost" "$T/cross.ctest"; } ||
		dropbear_closed "$T/cross.ctest"; }; then
		echo "NOTE: the guest's dropbear aborted the connection or closed a session (mkj/dropbear#321): ctest again"
		(cd "$T/cross" && ctest -j 2 --output-on-failure) >"$T/cross.ctest" 2>&1
		ctest_results "$T/cross.ctest" >"$T/cross.res"
	fi
	same "ctest $arch" "$T/native.res" "$T/cross.res" || tail -n 60 "$T/cross.ctest"
	# --output-on-failure shows the failing test's own stderr, streamed through.
	checks=$((checks + 1))
	grep -q "t_fail: calc_add(2, 2) is 4, and this test wants 5" "$T/cross.ctest" ||
		fail "ctest output lacks t_fail's stderr: $(head -c 1500 "$T/cross.ctest")"
	# One VM for both first calls, and one ControlMaster.
	checks=$((checks + 1))
	[ -n "$vm_pid" ] && alive "$vm_pid" || fail "no VM runs after ctest --boot"
	n=$(ps -eo args | grep -c "^qemu-system-$arch.*$ws/output/qemu.pid" || true)
	[ "$n" -eq 1 ] || fail "$n QEMUs run in $ws, expected 1"
	n=$(ps -eo args | grep -c "^ssh .*ControlPath=$ws/ssh.ctl -M" || true)
	[ "$n" -eq 1 ] || fail "$n ControlMasters for $ws, expected 1"
	sshd_ran "$ws"

	# The shape that ran: the program's parent is the shell sshd started (sh -c qq_b=...)
	# where that shell is a session leader (OpenSSH), else the sh -c BODY sh TOKEN... that
	# setsid(1) started (dropbear); either way the program's group is its parent's and its
	# own session's (pgid == sid == ppid; job control's fallback would give it a group of
	# its own).
	"$xcc" -static -O2 -o "$T/parent" "$QQ_SRCDIR/tests/e2e/parent.c"
	expect 0 qq-exec "$T/parent"
	case $sshd in
	openssh) want="parent: sh -c qq_b='" ;;
	*) want='parent: sh -c t=$1; shift; ' ;;
	esac
	checks=$((checks + 2))
	head -n 1 "$T/out" | grep -qF "$want" || fail "$sshd: not its shape: $(cat "$T/out")"
	awk '$1 == "pid" { ok = $4 == $6 && $6 == $8 } END { exit !ok }' "$T/out" ||
		fail "$sshd: the program is not in its parent's session-leading group: $(cat "$T/out")"

	# meson, with exe_wrapper = qq-exec, against the running VM.
	cat >"$T/cross.ini" <<-INI
	[binaries]
	c = '$xcc'
	exe_wrapper = ['qq-exec', '--workspace', '$ws']
	[built-in options]
	c_link_args = ['-static']
	[properties]
	needs_exe_wrapper = true
	[host_machine]
	system = 'linux'
	cpu_family = '$arch'
	cpu = '$arch'
	endian = 'little'
	INI
	meson setup "$T/mnative" "$src" >"$T/meson.log" 2>&1 &&
		meson setup --cross-file "$T/cross.ini" "$T/mcross" "$src" >>"$T/meson.log" 2>&1 ||
		{ fail "meson setup: $(tail -n 20 "$T/meson.log")"; return; }
	meson test -C "$T/mnative" >"$T/mnative.out" 2>&1
	n0=$(dropbear_aborts "$ws")
	meson test -C "$T/mcross" >"$T/mcross.out" 2>&1
	meson_results "$T/mnative" >"$T/mnative.res"
	meson_results "$T/mcross" >"$T/mcross.res"
	if grep -q " ERROR 99$" "$T/mcross.res" && { [ "$(dropbear_aborts "$ws")" -gt "$n0" ] ||
		dropbear_closed "$T/mcross/meson-logs/testlog.txt"; }; then
		echo "NOTE: the guest's dropbear aborted the connection or closed a session (mkj/dropbear#321): meson again"
		meson test -C "$T/mcross" >"$T/mcross.out" 2>&1
		meson_results "$T/mcross" >"$T/mcross.res"
	fi
	same "meson test $arch" "$T/mnative.res" "$T/mcross.res" || {
		tail -n 60 "$T/mcross/meson-logs/testlog.txt"	# qq-exec's own words, if any
		echo "== the ControlMaster's log"; cat "$ws/ssh-master.log" 2>/dev/null
		echo "== the guest's processes"; qq-run ssh --workspace "$ws" ps </dev/null 2>&1 | tail -n 40
	}
	checks=$((checks + 1))
	grep -q '^crash FAIL -11$' "$T/mnative.res" ||
		fail "native meson did not see the crash: $(cat "$T/mnative.res")"

	t_data=$T/cross/t_data
	# Four calls at once over one master: each gets its own output and status.
	n0=$(dropbear_aborts "$ws")
	for k in 1 2 3 4; do
		printf '%s\n' $((k * 10)) "$k" >"$T/d$k"
		qq-exec --file "$T/d$k:in.txt" "$t_data" in.txt </dev/null \
			>"$T/par$k.out" 2>"$T/par$k.err" &
		eval "p$k=\$!"
	done
	for k in 1 2 3 4; do
		eval "wait \$p$k"
		rc=$?
		if [ "$rc" -eq 99 ] && [ "$(dropbear_aborts "$ws")" -gt "$n0" ]; then
			echo "NOTE: call $k cut by the guest's dropbear (mkj/dropbear#321): again"
			rc=0
			qq-exec --file "$T/d$k:in.txt" "$t_data" in.txt </dev/null \
				>"$T/par$k.out" 2>"$T/par$k.err" || rc=$?
		fi
		checks=$((checks + 1))
		[ "$rc" -eq 1 ] || fail "parallel call $k exited $rc: $(cat "$T/par$k.err")"
		grep -qx "t_data: sum of in.txt is $((k * 11))" "$T/par$k.out" ||
			fail "parallel call $k printed: $(cat "$T/par$k.out")"
	done
	# The same binary again: already in the guest, not copied (-v says when it copies).
	expect 1 qq-exec -v --file "$T/d1:in.txt" "$t_data" in.txt
	checks=$((checks + 1))
	grep -q "copied" "$T/err" && fail "a second call copied again: $(cat "$T/err")"
	# A host file with colons in its name: a trailing colon (an empty GUEST) keeps
	# its own name in the guest; HOST:GUEST splits at the last colon.
	printf '40\n2\n' >"$T/a:b"
	expect 0 qq-exec --file "$T/a:b:" "$t_data" a:b && out_has "t_data: sum of a:b is 42"
	expect 0 qq-exec --file "$T/a:b:in.txt" "$t_data" in.txt &&
		out_has "t_data: sum of in.txt is 42"
	# stdin is forwarded when it is a pipe or a file.
	printf '40\n2\n' >"$T/stdin.txt"
	expect_in 0 "$T/stdin.txt" qq-exec "$t_data" /proc/self/fd/0 && out_has "t_data: sum of /proc/self/fd/0 is 42"
	# --timeout kills the guest's process group: 124, well before the command would end.
	expect 124 qq-exec --timeout 2 --env QQ_SLEEP=60 "$T/cross/t_pass"
	# ... the whole group: the program and the child it forked are gone from the guest
	# (a zombie init has yet to reap, "[parent]" in ps, is dead).
	expect 124 qq-exec --timeout 3 "$T/parent" hang
	checks=$((checks + 1))
	n=0
	while qq-run ssh --workspace "$ws" ps </dev/null >"$T/ps" 2>&1 &&
		grep -q '/parent hang' "$T/ps" && [ "$n" -lt 50 ]; do
		n=$((n + 1))
		sleep 0.1
	done
	grep -q '/parent hang' "$T/ps" && fail "the timeout left in the guest: $(grep '/parent hang' "$T/ps")"
	grep -q '^ *PID' "$T/ps" || fail "no process list from the guest: $(head -c 400 "$T/ps")"

	# A crash: the binary's own output, and none of the guest shell's report of the
	# signal ("Segmentation fault" in busybox ash): the binary did not write it.
	expect 139 qq-exec "$T/cross/t_crash" && out_has "t_crash: about to crash after 2" &&
		err_lines 0
	# raise(SIGINT) kills, as on the host: the binary must not start with SIGINT
	# ignored, as a non-interactive shell's background command does (POSIX sh 2.11).
	expect 130 qq-exec --env QQ_CRASH_SIGNAL=INT "$T/cross/t_crash" && err_lines 0

	# The same bytes under another name are another file in the guest.
	cp "$T/cross/t_pass" "$T/t_pass_again"
	expect 0 qq-exec "$T/t_pass_again" && out_has "calc_add(2, 3) = 5"
	# The guest's store removed by hand: the next call copies again, silently.
	expect 0 qq-run ssh --workspace "$ws" rm -rf /data/qq-exec
	expect 0 qq-exec "$T/cross/t_pass" && out_has "calc_add(2, 3) = 5" && err_lines 0
	# Standard input closed: the binary reads nothing, not a file of qq-exec's own.
	checks=$((checks + 1))
	got=$(qq-exec "$t_data" /proc/self/fd/0 <&- 2>&1)
	case $got in *"sum of /proc/self/fd/0 is 0"*) ;; *) fail "stdin closed: $got" ;; esac

	# qq-run stop ends the VM and the master with it; the next call is qq's failure.
	expect 0 qq-run stop --workspace "$ws"
	checks=$((checks + 1))
	n=$(ps -eo args | grep -c "^ssh .*ControlPath=$ws/ssh.ctl -M" || true)
	[ "$n" -eq 0 ] || fail "the ControlMaster outlived the VM"
	expect 99 qq-exec "$t_data" x && err_has "no VM is running in $ws"
	# --boot where no workspace can be made: one line naming it, 99, after qq-run -n
	# found the settings good.
	expect 99 qq-exec --boot --builder initramfs --base "$base" --accel tcg --ssh-port 0 \
		--arch "$arch" --workspace /proc/qq-nope/ws "$t_data" x &&
		err_has "qq-exec: unable to create workspace /proc/qq-nope/ws: unable to create /proc/qq-nope" &&
		err_lines 1
}
