#!/bin/sh
# exec-bazel.sh: the README's Bazel recipe (bazel test --run_under=qq-exec) on a real x86_64
# guest, offline, with Debian 12's packages only. SKIP with the reason where they are missing.
#
# Debian 12's bazel-bootstrap 4.2.3 fetches three repositories from the network for any
# cc_test. Offline, each comes from a Debian package, as Debian's own build does it
# (bazel-bootstrap's debian/rules: EXTRA_BAZEL_ARGS --override_repository=rules_cc=
# ${CURDIR}/mock_repos/rules_cc ..., with http_proxy=127.0.0.1:9 "to ensure packages
# build with no Internet access"):
# - rules_cc: bazel-bootstrap-source's /usr/src/bazel-bootstrap/mock_repos/rules_cc (the
#   native cc_* rules behind rules_cc's names). Not bazel-rules-cc: its 0.0.4 loads
#   use_cpp_toolchain, which 4.2.3's @bazel_tools//tools/cpp:toolchain_utils.bzl lacks
#   (tried here: "does not contain symbol 'use_cpp_toolchain'").
# - rules_java: bazel-rules-java's /usr/share/bazel/rules/java (@bazel_tools//tools/jdk
#   registers its toolchains even for C).
# - remote_coverage_tools (a zip from mirror.bazel.build, in no package): every test rule
#   of Bazel < 6.1 depends on --coverage_report_generator, whether coverage is collected
#   or not (bazelbuild/bazel#15088, fixed by #16995); pointed at a local file of
#   @bazel_tools, nothing is fetched (bazel coverage is then unavailable).
# Bazel ends every process a test leaves behind (the linux-sandbox in its own PID
# namespace, the local strategy too), so the shared SSH connection is opened first, outside
# Bazel, by one qq-exec call; qq-exec refuses to open one from inside the sandbox.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
command -v bazel >/dev/null 2>&1 ||
	{ echo "SKIP: bazel not installed (Debian 12: bazel-bootstrap)"; exit 77; }
# QQ_DEBIAN_ROOT: where those packages are, when unpacked elsewhere than / (dpkg -x).
rules_cc=${QQ_DEBIAN_ROOT:-}/usr/src/bazel-bootstrap/mock_repos/rules_cc
rules_java=${QQ_DEBIAN_ROOT:-}/usr/share/bazel/rules/java
[ -f "$rules_cc/cc/defs.bzl" ] && [ -f "$rules_java/java/defs.bzl" ] ||
	{ echo "SKIP: no $rules_cc or $rules_java (bazel-bootstrap-source, bazel-rules-java)"; exit 77; }
need cc
# Bazel's output tree has read-only parts: writable again before lib.sh's rm -rf.
trap 'cleanup_vm; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
# The guest runs OpenSSH (QNX 8's sshd): the recipe is what is tested here, not the
# stand-in dropbear's concurrent-session bug (mkj/dropbear#321).
base x86_64 openssh
ws=$T/ws
bz=$T/bz
mkdir -p "$bz"
cp "$QQ_SRCDIR"/tests/exec/calc.c "$QQ_SRCDIR"/tests/exec/calc.h "$QQ_SRCDIR"/tests/exec/t_*.c "$bz/"
# A fact only the guest has: its boot id (random per boot, proc(5)).
cat >"$bz/t_where.c" <<'C'
#include <stdio.h>

int
main(void)
{
	char id[64];
	FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (fp == NULL || fgets(id, sizeof(id), fp) == NULL)
		return 1;
	printf("boot_id %s", id);
	return 0;
}
C
: >"$bz/WORKSPACE"
# Static: the test guest has no C library of its own.
cat >"$bz/BUILD" <<'BUILD'
load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")

cc_library(name = "calc", srcs = ["calc.c"], hdrs = ["calc.h"])

[cc_test(
    name = t,
    srcs = ["t_" + t + ".c"],
    deps = [":calc"],
    linkstatic = True,
    linkopts = ["-static"],
) for t in ["pass", "fail", "crash", "where"]]
BUILD

# bz_test OUT ARGS...: bazel test of every target, its output tree in $T, no server left
# (--batch), the Debian offline flags; "name status" per test from its test.xml
# (status 0, or the code of generate-xml.sh's "exited with error code N") into OUT.res.
bz_test() {
	out=$1
	shift
	(cd "$bz" && bazel --output_user_root="$T/bazel" --batch test \
		--override_repository=rules_cc="$rules_cc" \
		--override_repository=rules_java="$rules_java" \
		--coverage_report_generator=@bazel_tools//tools/test:coverage_support \
		--cache_test_results=no "$@" //:all) </dev/null >"$out" 2>&1
	logs=$bz/bazel-testlogs	# Bazel's link to this build's test logs
	for t in pass fail crash where; do
		code=$(sed -n 's/.*exited with error code \([0-9]*\).*/\1/p' "$logs/$t/test.xml" \
			2>/dev/null | head -n 1)
		[ -f "$logs/$t/test.xml" ] || code=none
		echo "$t ${code:-0}"
	done >"$out.res"
	for t in pass fail crash; do	# shown when a result differs
		printf '== %s\n' "$t"
		tail -n 5 "$logs/$t/test.log" 2>/dev/null
	done >"$out.logs"
	cp "$logs/where/test.log" "$out.where" 2>/dev/null || : >"$out.where"
	cp "$logs/pass/test.log" "$out.pass" 2>/dev/null || : >"$out.pass"
}

# The reference: the same tests on the host, as Bazel reports them.
bz_test "$T/native"
checks=$((checks + 1))
printf 'pass 0\nfail 3\ncrash 139\nwhere 0\n' >"$T/want"
diff -u "$T/want" "$T/native.res" >"$T/diff" ||
	fail "native bazel test: $(cat "$T/diff") $(tail -n 30 "$T/native")"

boot_x86_64 "$ws"

# No connection open yet: each test's qq-exec, in the sandbox, refuses to open one (it
# would die with that test's sandbox and cut the others'), as qq's failure 99.
# Where Bazel cannot use its linux-sandbox (no namespaces: a container), it falls back to
# a sandbox without them, and qq-exec cannot tell.
bz_test "$T/nomaster" --run_under="qq-exec --workspace $ws" --sandbox_writable_path="$ws"
if grep -q " linux-sandbox" "$T/nomaster"; then
	checks=$((checks + 1))
	printf 'pass 99\nfail 99\ncrash 99\nwhere 99\n' >"$T/want99"
	diff -u "$T/want99" "$T/nomaster.res" >"$T/diff" ||
		fail "bazel without a connection: $(cat "$T/diff") $(tail -n 30 "$T/nomaster")"
	checks=$((checks + 1))
	grep -q "qq-exec: no SSH connection to the guest is open" "$T/nomaster.pass" ||
		fail "no-connection test.log: $(cat "$T/nomaster.pass")"
else
	echo "NOTE: Bazel ran no test in its linux-sandbox here: $(grep processes "$T/nomaster")"
fi

# The recipe: the connection opened outside Bazel, then bazel test through qq-exec, in
# Bazel's default sandbox (its own PID namespace: the VM's pid is hidden there).
expect 0 qq-exec --workspace "$ws" "$T/hello"
n0=$(dropbear_aborts "$ws")
bz_test "$T/guest" --run_under="qq-exec --workspace $ws" --sandbox_writable_path="$ws"
if ! cmp -s "$T/native.res" "$T/guest.res" && [ "$(dropbear_aborts "$ws")" -gt "$n0" ]; then
	echo "NOTE: the guest's dropbear aborted the connection (mkj/dropbear#321): bazel again"
	bz_test "$T/guest" --run_under="qq-exec --workspace $ws" --sandbox_writable_path="$ws"
fi
checks=$((checks + 1))
diff -u "$T/native.res" "$T/guest.res" >"$T/diff" ||
	fail "bazel through qq-exec differs from the host's: $(cat "$T/diff") $(cat "$T/guest.logs") $(tail -n 30 "$T/guest")"
checks=$((checks + 1))
grep -q "^//:pass .*PASSED" "$T/guest" && grep -q "^//:fail .*FAILED" "$T/guest" &&
	grep -q "^//:crash .*FAILED" "$T/guest" ||
	fail "bazel's summary: $(tail -n 20 "$T/guest")"
# It ran in the guest: the boot id the test printed is the guest's, not the host's.
checks=$((checks + 1))
got=$(sed -n 's/^boot_id //p' "$T/guest.where")
host_id=$(cat /proc/sys/kernel/random/boot_id)
[ -n "$guest_id" ] && [ "$got" = "$guest_id" ] && [ "$got" != "$host_id" ] ||
	fail "//:where printed boot id '$got'; the guest's is '$guest_id', the host's '$host_id'"

expect 0 qq-run stop --workspace "$ws"
finish
