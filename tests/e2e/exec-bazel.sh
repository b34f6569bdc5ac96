#!/bin/sh
# exec-bazel.sh: the README's Bazel recipe (bazel test --run_under=qq-exec) on a real
# x86_64 guest. SKIP with the reason where bazel is missing. Debian 12 has bazel-bootstrap
# (4.2.3), tried here on 2026-11-30: even an sh_test fetches rules_cc, rules_java and
# remote_coverage_tools from the network, which CI cannot reach, so CI does not install it.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
command -v bazel >/dev/null 2>&1 || { echo "SKIP: bazel not installed (Debian 12's bazel-bootstrap builds no test offline)"; exit 77; }
need cc
base x86_64
ws=$T/ws
mkdir -p "$T/bz"
cp "$QQ_SRCDIR"/tests/exec/*.c "$QQ_SRCDIR"/tests/exec/*.h "$T/bz/"
: >"$T/bz/WORKSPACE"
cat >"$T/bz/BUILD" <<'BUILD'
cc_library(name = "calc", srcs = ["calc.c"], hdrs = ["calc.h"])
cc_test(name = "pass", srcs = ["t_pass.c"], deps = [":calc"], linkstatic = True,
        linkopts = ["-static"])
cc_test(name = "fail", srcs = ["t_fail.c"], deps = [":calc"], linkstatic = True,
        linkopts = ["-static"])
BUILD
cc -static -O2 -o "$T/hello" "$QQ_SRCDIR/examples/hello.c"
expect 0 qq-run -d --wait-ssh --builder initramfs --base "$base" --ssh-port 0 --accel tcg \
	--workspace "$ws" "$T/hello"
vm_pid=$(cat "$ws/output/qemu.pid" 2>/dev/null || true)
(cd "$T/bz" && bazel test --run_under="$QQ_BUILDDIR/bin/qq-exec --workspace $ws" \
	--sandbox_writable_path="$ws" //:pass //:fail) >"$T/bazel.out" 2>&1
grep -q "//:pass .*PASSED" "$T/bazel.out" || fail "bazel: pass did not pass: $(tail -n 20 "$T/bazel.out")"
grep -q "//:fail .*FAILED" "$T/bazel.out" || fail "bazel: fail did not fail: $(tail -n 20 "$T/bazel.out")"
checks=$((checks + 2))
finish
