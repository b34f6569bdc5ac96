# e2e/qqtest.sh: qq-test and qq-run --run-tests on a real Linux guest (sourced by tests/e2e/qq-test-*.sh).
# One boot serves several runs: every outcome with -j 2 (TAP read by tappy,
# JUnit by junitparser, kept output), the same with -j 1, many sessions at
# once (-j 9), a timeout on the running VM reused and left running, qq-test
# interrupted by SIGTERM (143, the test's group killed in the guest, the
# rest not run), and the guest killed mid-run (exit 4, the rest not run).
. "$QQ_SRCDIR/tests/e2e/lib.sh"

PY=/usr/bin/python3

# testprogs ARCH: the test binaries, one program under many names, in $T/prog/tests.
testprogs() {
	arch_cc "$1"
	mkdir -p "$T/prog/tests"
	"$cc" -static -O2 -o "$T/prog/hello" "$QQ_SRCDIR/examples/hello.c"
	"$cc" -static -O2 -o "$T/prog/guesttest" "$QQ_SRCDIR/tests/e2e/guesttest.c"
	for n in t_abort t_big t_fail t_hang t_pass t_segv t_stdin; do
		ln "$T/prog/guesttest" "$T/prog/tests/$n"
	done
	# A script whose interpreter is a directory cannot be executed (126); one whose
	# interpreter is missing is not found (127).
	printf '#!/data/home/root\n' >"$T/prog/tests/t_noexec"
	printf '#!/nonexistent/interp\n' >"$T/prog/tests/t_missing"
	chmod +x "$T/prog/tests/t_noexec" "$T/prog/tests/t_missing"
}

# reports TAP XML NAME=OUTCOME...: the reports, read by tappy and junitparser.
reports() {
	checks=$((checks + 1))
	"$PY" "$QQ_SRCDIR/tests/e2e/reports.py" "$@" >"$T/py.out" 2>&1 ||
		fail "reports $1 $2: $(cat "$T/py.out")"
}

# outcomes TAP: "name outcome" per test point, from our own TAP (for comparing runs).
outcomes() {
	awk '/^(not )?ok / { name = $0; sub(/^(not )?ok [0-9]+ - /, "", name); sub(/ # time=.*/, "", name) }
	    /^ok / { print name, "passed" }
	    /^  outcome: / { o = $0; sub(/^  outcome: /, "", o); print name, o }' "$1"
}

# guest_ps: the guest's process list, over the workspace's pinned login.
guest_ps() {
	ssh -n -p "$port" -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes \
	    -o UserKnownHostsFile="$T/ws/known_hosts" -o HostKeyAlias=qq-guest \
	    -o LogLevel=ERROR root@127.0.0.1 ps
}

# hang_run NAME TIMEOUT: qq-test of t_hang then t_pass in the background (pid in tpid,
# rc=0), TAP in $T/NAME.tap, JUnit in NAME.xml, stderr in NAME.err; returns once
# t_hang runs (its first line is kept) and the TAP plan is out.
hang_run() {
	checks=$((checks + 1))
	rc=0
	rm -f "$r/t_hang.out"
	qq-test -j 1 --filter 't_[hp]*' --test-timeout "$2" --workspace "$T/ws" \
	    --junit "$T/$1.xml" </dev/null >"$T/$1.tap" 2>"$T/$1.err" &
	tpid=$!
	n=0
	until grep -q 't_hang: stdout' "$r/t_hang.out" 2>/dev/null && [ -s "$T/$1.tap" ]; do
		n=$((n + 1))
		[ "$n" -lt 600 ] || break
		sleep 0.1
	done
}

# qqtest_e2e ARCH [SSHD]: SSHD as for base (lib.sh).
qqtest_e2e() {
	need ssh qq-run qq-test
	[ -x "$PY" ] && "$PY" -c 'import tap.parser, junitparser, yaml, more_itertools' 2>/dev/null ||
		{ echo "SKIP: python3-tap, python3-junitparser, python3-yaml or python3-more-itertools missing"; exit 77; }
	base "$1" "${2:-dropbear}"
	testprogs "$1"
	all="t_abort=crashed t_big=passed t_fail=failed t_missing=could\ not\ start"
	all="$all t_noexec=could\ not\ start t_pass=passed t_segv=crashed t_stdin=passed"

	echo "# step 1 at $(date +%T)"
	# 1. Boot, run everything but the hanging test two at a time, keep the VM.
	checks=$((checks + 1))
	rc=0
	qq-run --run-tests --keep -j 2 --filter 't_[!h]*' --junit "$T/j2.xml" -v \
	    --arch "$1" --accel tcg --ssh-port 0 --workspace "$T/ws" --builder initramfs \
	    --base "$base" "$T/prog/hello" --tests "$T/prog/tests" </dev/null \
	    >"$T/j2.tap" 2>"$T/run.err" || rc=$?
	vm_pid=$(cat "$T/ws/output/qemu.pid" 2>/dev/null)
	[ "$rc" -eq 1 ] || { cat "$T/run.err"; fail "qq-run --run-tests -j 2 exited $rc, want 1"; finish; }
	sed 's/^/# /' "$T/run.err"	# timings, in the log
	port=$(sed -n 's/^ssh_port=//p' "$T/ws/guest")
	key=$(sed -n 's/^ssh_key=//p' "$T/ws/guest")
	sshd_ran "$T/ws"
	eval "reports \"\$T/j2.tap\" \"\$T/j2.xml\" $all"
	checks=$((checks + 1))
	grep -q '^qq-run: 5 of 8 tests did not pass$' "$T/run.err" ||
		fail "no summary line: $(tail -n 3 "$T/run.err")"

	# The kept output: whole (50 MB, every line), stderr without qq's own lines.
	r=$T/ws/test-results
	checks=$((checks + 4))
	size=$(wc -c <"$r/t_big.out")
	[ "$size" -eq 50000014 ] || fail "t_big.out has $size bytes, want 50000014"
	[ "$(tail -n 1 "$r/t_big.out" | cut -c1-10)" = 0000049999 ] || fail "t_big.out lacks its last line"
	[ "$(cat "$r/t_fail.err")" = "t_fail: stderr
expected 4, got 5" ] || fail "t_fail.err: $(cat -A "$r/t_fail.err")"
	grep -q qq- "$r"/*.err && fail "qq's protocol lines left in kept stderr: $(grep qq- "$r"/*.err)"
	checks=$((checks + 3))
	grep -qx '  exit_code: 3' "$T/j2.tap" || fail "TAP lacks exit_code: 3"
	grep -qx '  signal: "SIGABRT"' "$T/j2.tap" || fail "TAP lacks SIGABRT"
	grep -qx '    fail line 30' "$T/j2.tap" && ! grep -qx '    fail line 10' "$T/j2.tap" ||
		fail "TAP does not hold the last 20 lines of t_fail"

	echo "# step 2 at $(date +%T)"
	# 2. The same tests one at a time (the 50 MB one aside) on the running VM: same outcomes.
	expect_in 1 /dev/null qq-test -j 1 --filter 't_[!hb]*' --workspace "$T/ws" --arch "$1" \
	    --tap "$T/j1.tap" --facts
	outcomes "$T/j2.tap" | grep -v '^t_big ' >"$T/o2"
	outcomes "$T/j1.tap" >"$T/o1"
	checks=$((checks + 1))
	diff -u "$T/o2" "$T/o1" >"$T/diff" || fail "-j 1 and -j 2 differ: $(cat "$T/diff")"
	[ -s "$T/o1" ] || fail "no outcomes in the -j 1 run"
	# Nine sessions at once, 40 tests: the guest's dropbear 2022.83 now and then closes
	# a just-opened session before its command starts (dropbear #321); such a test ran
	# nothing and is started again, so every one passes (before: exit 4, about one run
	# in two, "the SSH session ended before the command started").
	n0=$(dropbear_aborts "$T/ws")
	got=0
	qq-test -j 9 --repeat 40 --filter t_pass --workspace "$T/ws" --arch "$1" </dev/null \
	    >"$T/out" 2>"$T/err" || got=$?
	# The same dropbear can also abort the whole connection (mkj/dropbear#321, its
	# assertion in serial.log): the tests it cut had started, so qq-test rightly
	# says 4 and "not run"; that, and only that, earns one more run.
	if [ "$got" = 4 ] && grep -q "not run" "$T/out" &&
		[ "$(dropbear_aborts "$T/ws")" -gt "$n0" ]; then
		echo "NOTE: the guest's dropbear aborted the connection (mkj/dropbear#321): again"
		got=0
		qq-test -j 9 --repeat 40 --filter t_pass --workspace "$T/ws" --arch "$1" \
		    </dev/null >"$T/out" 2>"$T/err" || got=$?
	fi
	checks=$((checks + 1))
	[ "$got" = 0 ] || fail "qq-test -j 9 exited $got, expected 0: $(head -c 400 "$T/err")"
	checks=$((checks + 1))
	[ "$(grep -c '^ok ' "$T/out")" -eq 40 ] || fail "-j 9: $(grep -m 3 message "$T/out")"
	# A smaller --repeat next: only this run's files are left in test-results (before,
	# t_pass.run3 to run40 stayed beside the new reports); a file qq did not write stays.
	echo mine >"$r/notes.txt"
	expect 0 qq-test --repeat 2 --filter t_pass --workspace "$T/ws" --arch "$1"
	checks=$((checks + 1))
	got=$(cd "$r" && echo *)
	[ "$got" = "notes.txt t_pass.run1.err t_pass.run1.out t_pass.run2.err t_pass.run2.out" ] ||
		fail "test-results after --repeat 40, then 2: $got"

	echo "# step 3 at $(date +%T)"
	# 3. qq-run --run-tests on the running VM: reused, left running; the timeout kills
	# the test's whole process group (it has a child) in the guest.
	expect 1 qq-run --run-tests --filter t_hang --test-timeout 3 --junit "$T/h.xml" \
	    --arch "$1" --accel tcg --ssh-port 0 --workspace "$T/ws" --builder initramfs \
	    --base "$base" "$T/prog/hello" --tests "$T/prog/tests"
	cp "$T/out" "$T/h.tap"
	reports "$T/h.tap" "$T/h.xml" "t_hang=timed out"
	checks=$((checks + 2))
	alive "$vm_pid" || fail "the reused VM was stopped"
	guest_ps >"$T/ps" || fail "cannot list the guest's processes"
	grep -q t_hang "$T/ps" && fail "t_hang left running in the guest: $(grep t_hang "$T/ps")"

	echo "# step 4 at $(date +%T)"
	# 4. SIGTERM (a CI job cancelled) while a test runs: qq-test ends by that signal
	# (143) at once, the test's whole group is killed in the guest, the running and
	# the later tests are reported not run in TAP and JUnit.
	hang_run i 120
	kill -TERM "$tpid"
	wait "$tpid" || rc=$?
	[ "$rc" -eq 143 ] || fail "qq-test given SIGTERM exited $rc, want 143: $(cat "$T/i.err")"
	reports "$T/i.tap" "$T/i.xml" "t_hang=not run" "t_pass=not run"
	checks=$((checks + 3))
	grep -qx '  message: "not run: interrupted by signal 15"' "$T/i.tap" ||
		fail "TAP lacks the reason: $(cat "$T/i.tap")"
	[ "$(cat "$T/i.err")" = "qq-test: interrupted by signal 15" ] ||
		fail "stderr after SIGTERM: $(cat "$T/i.err")"
	# Killed at once: a zombie the guest's init has yet to reap ("[t_hang]") is dead.
	guest_ps >"$T/ps" || fail "cannot list the guest's processes"
	grep t_hang "$T/ps" | grep -qv '\[t_hang\]' &&
		fail "t_hang left running after SIGTERM: $(grep t_hang "$T/ps")"

	echo "# step 5 at $(date +%T)"
	# 5. The guest dies mid-run: exit 4, the running and the later tests not run.
	hang_run d 600
	kill -9 "$vm_pid"
	wait "$tpid" || rc=$?
	[ "$rc" -eq 4 ] || fail "qq-test with the guest killed exited $rc, want 4: $(cat "$T/d.err")"
	reports "$T/d.tap" "$T/d.xml" "t_hang=not run" "t_pass=not run"
	checks=$((checks + 1))
	grep -q '^qq-test: .*lost' "$T/d.err" || fail "no one-line error on the loss: $(cat "$T/d.err")"
	qq-run stop --workspace "$T/ws" </dev/null >/dev/null 2>&1
	vm_pid=
	checks=$((checks + 1))
	[ -e "$T/ws/ssh.ctl" ] && fail "the control socket was left behind"
	return 0
}
