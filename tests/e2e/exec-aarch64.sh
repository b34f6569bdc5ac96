#!/bin/sh
# exec-aarch64.sh: qq-exec under ctest and meson on a real aarch64 guest under tcg, its sshd
# dropbear (the base guest's default; exec-x86_64.sh runs OpenSSH).
. "$QQ_SRCDIR/tests/e2e/exec.sh"
exec_e2e aarch64
finish
