# qq-test.sh: options, bad input, Bazel's variables, and a runner failure (no VM) reported
# as "not run" with exit 4, never 0 or 1. The real guest runs are tests/e2e/qq-test-*.sh.
. "$QQ_SRCDIR/tests/lib.sh"

W=$T/ws
mkdir -p "$W/staging/data/home/root/tests"
: >"$W/.qq"
tests=/data/home/root/tests
{
	printf 'workspace=%s\narch=x86_64\n' "$W"
	printf 'stage=/data/home/root/hello\t%s/h\n' "$W"
	for n in t_b t_a t_c; do printf 'stage=%s/%s\t%s/%s\n' "$tests" $n "$W" $n; done
} >"$T/facts"

# Usage and bad values: nothing runs, nothing is written.
expect 2 qq-test extra && err_has "usage: qq-test"
expect_in 2 "$T/facts" qq-test --facts && err_has "usage: qq-test"
expect_in 3 "$T/facts" qq-test -j 0 && err_has 'bad --jobs "0": expected tests at once from 1 to 9'
expect_in 3 "$T/facts" qq-test -j 10 && err_has 'bad --jobs "10"'
expect_in 3 "$T/facts" qq-test --repeat x && err_has 'bad --repeat "x"'
expect_in 3 "$T/facts" qq-test --test-timeout 0 && err_has 'bad --test-timeout "0"'
expect_in 3 "$T/facts" qq-test --filter 'nope*' && err_has 'no staged test matches the filter "nope*"'
expect_in 3 "$T/facts" env TEST_TOTAL_SHARDS=two qq-test && err_has 'bad TEST_TOTAL_SHARDS "two"'
expect_in 3 "$T/facts" env TEST_TOTAL_SHARDS=2 TEST_SHARD_INDEX=2 qq-test && err_has "bad shard 2 of 2"
expect_in 3 "$T/facts" env TEST_SHARD_INDEX=0 qq-test && err_has "TEST_SHARD_INDEX is set without"
printf 'stage=/data/home/root/hello\t/x/h\n' >"$T/noteststage"
expect_in 3 "$T/noteststage" qq-test --workspace "$W" && err_has "qq-test: no tests staged"
printf 'not a fact\n' >"$T/bad"
expect_in 3 "$T/bad" qq-test && err_has "qq-test: "
# A JUnit file that could not be written is refused before any test runs (here the
# runner would fail first, 4, without a VM): no directory, a directory, under a file.
expect_in 3 "$T/facts" qq-test --junit "$T/nodir/r.xml"
err_lines 1
err_has "qq-test: bad --junit \"$T/nodir/r.xml\": no directory $T/nodir: No such file"
mkdir "$T/adir"
expect_in 3 "$T/facts" qq-test --junit "$T/adir"
err_has "qq-test: bad --junit \"$T/adir\": a directory"
expect_in 3 "$T/facts" qq-test --junit "$T/adir/"
err_has "qq-test: bad --junit \"$T/adir/\": a directory"
expect_in 3 "$T/facts" qq-test --junit "$T/facts/r.xml"
err_has "qq-test: bad --junit \"$T/facts/r.xml\": $T/facts is not a directory"
expect_in 3 "$T/facts" qq-test --junit ''
err_has 'qq-test: bad --junit "": an empty path'
# --tap the same: bad input (3) naming the path, before any test runs.
expect_in 3 "$T/facts" qq-test --tap "$T/nodir/t.tap"
err_has "qq-test: bad --tap \"$T/nodir/t.tap\": No such file or directory"
expect_in 3 "$T/facts" env XML_OUTPUT_FILE="$T/nodir/b.xml" qq-test
err_has "qq-test: bad XML_OUTPUT_FILE \"$T/nodir/b.xml\": no directory $T/nodir"
checks=$((checks + 1))
[ -e "$T/nodir" ] || [ -e "$T/adir/r.xml" ] && fail "a refused --junit made a file or directory"
rmdir "$T/adir"
checks=$((checks + 1))
[ -e "$W/test-results" ] && fail "a refused run created test-results"

# No VM in the workspace: the runner failed (4), every test reported not run, in the
# facts' order, in TAP and JUnit; stderr says why in one line.
expect_in 4 "$T/facts" qq-test --junit "$T/r.xml"
err_lines 1
err_has "qq-test: no VM is running in $W"
cat >"$T/want" <<EOT
TAP version 13
1..3
not ok 1 - t_b
  ---
  message: "not run: no VM is running in $W"
  outcome: "not run"
  ...
not ok 2 - t_a
  ---
  message: "not run: no VM is running in $W"
  outcome: "not run"
  ...
not ok 3 - t_c
  ---
  message: "not run: no VM is running in $W"
  outcome: "not run"
  ...
EOT
out_is "$T/want"
checks=$((checks + 2))
grep -q '<testsuite name="qq.x86_64" tests="3" failures="0" errors="0" skipped="3"' "$T/r.xml" ||
	fail "JUnit: $(head -c 600 "$T/r.xml")"
ls "$T"/r.xml.tmp* >/dev/null 2>&1 && fail "JUnit temporary file left behind"

# Filter and repeat; --tap writes the stream to a file.
expect_in 4 "$T/facts" qq-test --filter 't_[ab]' --repeat 2 --tap "$T/t.tap"
checks=$((checks + 1))
[ -s "$T/out" ] && fail "stdout not empty with --tap: $(head -c 300 "$T/out")"
checks=$((checks + 1))
[ "$(grep -c '^not ok' "$T/t.tap")" -eq 4 ] && grep -qx 'not ok 4 - t_a \[2/2\]' "$T/t.tap" ||
	fail "filter/repeat: $(cat "$T/t.tap")"

# Bazel: this shard's tests only, the status file touched, the JUnit file at
# XML_OUTPUT_FILE, the filter from --test_filter; an empty shard passes.
expect_in 4 "$T/facts" env TEST_TOTAL_SHARDS=2 TEST_SHARD_INDEX=1 \
    TEST_SHARD_STATUS_FILE="$T/shard" XML_OUTPUT_FILE="$T/bazel.xml" qq-test
checks=$((checks + 3))
grep -qx 'not ok 1 - t_a' "$T/out" && grep -qx '1..1' "$T/out" || fail "shard 1 of 2: $(cat "$T/out")"
[ -e "$T/shard" ] || fail "TEST_SHARD_STATUS_FILE not touched"
grep -q 'name="t_a"' "$T/bazel.xml" || fail "no JUnit at XML_OUTPUT_FILE"
expect_in 4 "$T/facts" env TESTBRIDGE_TEST_ONLY='t_c' qq-test
out_has "not ok 1 - t_c"
expect_in 0 "$T/facts" env TEST_TOTAL_SHARDS=5 TEST_SHARD_INDEX=4 qq-test
out_has "1..0 # SKIP no test in this shard"
# --facts: the facts pass through untouched (the TAP stream goes to --tap).
expect_in 0 "$T/facts" env TEST_TOTAL_SHARDS=5 TEST_SHARD_INDEX=4 qq-test --facts --tap "$T/e.tap"
out_is "$T/facts"
checks=$((checks + 1))
grep -qx '1..0 # SKIP no test in this shard' "$T/e.tap" || fail "--tap file: $(cat "$T/e.tap")"

# Without stage facts, the workspace's staging tree says what was staged (sorted).
for n in t_z t_y; do
	printf '#!/bin/sh\n' >"$W/staging/data/home/root/tests/$n"
done
expect 4 qq-test --workspace "$W"
out_has "not ok 1 - t_y"
out_has "not ok 2 - t_z"

# qq-run --run-tests refuses before building or booting when no test would run.
expect 3 qq-run --run-tests --workspace "$T/ws2" --filter 'zzz*' --builder initramfs \
    --base "$T/nobase" --arch x86_64 /bin/true --test /bin/true
err_has 'qq-run: no staged test matches the filter "zzz*"'
expect 3 qq-run --run-tests --workspace "$T/ws2" --junit "$T/nodir/r.xml" --builder initramfs \
    --base "$T/nobase" --arch x86_64 /bin/true --test /bin/true
err_has "qq-run: bad --junit \"$T/nodir/r.xml\": no directory $T/nodir"
checks=$((checks + 1))
[ -e "$T/ws2/output" ] && fail "qq-run --run-tests built or started something"
finish
