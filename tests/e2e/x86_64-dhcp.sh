#!/bin/sh
# x86_64-dhcp.sh: --wait-ssh means ssh works now, on the guest whose address comes by DHCP after sshd starts.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
need ssh ssh-keygen qq-run
base x86_64
programs x86_64
ready_loop x86_64 "${QQ_READY_BOOTS:-10}"
stop_during_wait x86_64
hostkey_changed x86_64
finish
