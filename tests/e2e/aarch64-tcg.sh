#!/bin/sh
# aarch64-tcg.sh: end to end on a real aarch64 guest under tcg: stage, image, boot, ssh, run, stop.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
e2e aarch64 tcg
# The DHCP guest once: ssh works right after --wait-ssh.
ready_loop aarch64 1
finish
