#!/bin/sh
# qq-test-aarch64.sh: qq-test and qq-run --run-tests on a real aarch64 guest under tcg, its
# sshd OpenSSH (QNX 8's; qq-test-x86_64.sh runs dropbear, the default).
. "$QQ_SRCDIR/tests/e2e/qqtest.sh"
qqtest_e2e aarch64 openssh
finish
