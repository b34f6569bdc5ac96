#!/bin/sh
# panic.sh: a real Linux guest whose kernel panics: --wait-ssh fails at once (not at its
# timeout) with the console tail, and no QEMU is left. The kernel finds no init
# (rdinit= names none), panics, and with panic=1 reboots a second later; -no-reboot
# (qq-cmdline, detached) turns that reboot into QEMU's exit, which the wait sees.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
need qemu-system-x86_64
base x86_64
mkdir -p "$T/prog"
printf '#!/bin/sh\necho hi\n' >"$T/prog/hello" && chmod 755 "$T/prog/hello"
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh-key" </dev/null
# The wait allows 600 s: only a panic noticed at once ends it well before.
expect 4 qq-run --wait-ssh=600 --accel tcg --ssh-port 0 --workspace "$T/ws" \
    --ssh-key "$HOME/.ssh-key" --builder initramfs --base "$base" \
    --append "console=ttyS0 rdinit=/no/such/init panic=1" "$T/prog/hello"
err_has "Kernel panic"
grep -q "within 600 s" "$T/err" && fail "the panicking guest was waited for until the timeout"
err_has "QEMU exited"
[ -e "$T/ws/output/qemu.pid" ] && fail "pidfile left after the panic"
checks=$((checks + 1))
left=$({ for c in /proc/[0-9]*/cmdline; do tr '\0' '\n' <"$c" | grep -qF "$T/ws" &&
    echo "${c%/cmdline}"; done; } 2>/dev/null)
[ -z "$left" ] || fail "processes of the workspace left: $left"
finish
