#!/bin/sh
# qq-test-x86_64.sh: qq-test and qq-run --run-tests on a real x86_64 guest under tcg, its sshd
# dropbear (the base guest's default; qq-test-aarch64.sh runs OpenSSH).
. "$QQ_SRCDIR/tests/e2e/qqtest.sh"
qqtest_e2e x86_64
finish
