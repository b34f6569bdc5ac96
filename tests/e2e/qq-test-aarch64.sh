#!/bin/sh
# qq-test-aarch64.sh: qq-test and qq-run --run-tests on a real aarch64 guest under tcg.
. "$QQ_SRCDIR/tests/e2e/qqtest.sh"
qqtest_e2e aarch64
finish
