#!/bin/sh
# exec-x86_64.sh: qq-exec under ctest and meson on a real x86_64 guest under tcg, its sshd
# OpenSSH (QNX 8's; exec-aarch64.sh runs dropbear, the default).
. "$QQ_SRCDIR/tests/e2e/exec.sh"
exec_e2e x86_64 openssh
finish
