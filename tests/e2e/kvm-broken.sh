#!/bin/sh
# kvm-broken.sh: a KVM that opens and answers yet cannot run a stock guest (kvm_pvm, as on our
# nested hosts) is caught at run time: QMP internal-error stops that QEMU, and --tcg-fallback
# starts the same VM again under TCG, which boots and answers over ssh (the key given, so the
# wait is a login that pins the host key guest() then requires).
. "$QQ_SRCDIR/tests/e2e/lib.sh"
if [ ! -d /sys/module/kvm_pvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: needs a host whose KVM cannot boot a stock guest (kvm_pvm loaded, /dev/kvm writable)"
	exit 77
fi
need ssh
base x86_64
programs x86_64
export QNX_QEMU_WORKSPACE="$T/ws" QNX_QEMU_BUILDER=initramfs QNX_QEMU_BASE="$base" \
    QNX_QEMU_SSH_PORT=0
# The image, and the argv qq-cmdline gives for it; then the same argv under KVM. -cpu max
# cannot even start under kvm_pvm (MSR 0x10a), so the KVM run uses QEMU's default CPU model.
expect 0 qq-run -d --accel tcg "$T/prog/hello"
vm_pid=$(fact pid "$T/out")
key=$(fact ssh_key "$T/out")
expect 0 qq-run stop --force
expect 0 qq-run -n -d --accel tcg "$T/prog/hello"
sed -e 's/^tcg$/kvm/' -e 's/^max$/qemu64/' "$T/out" >kvm.argv
grep -qx kvm kvm.argv || fail "no -accel kvm in the argv"

# Without the fallback: stopped, the cause and the remedy named, exit 4, nothing left.
expect_in 4 kvm.argv qq-spawn -d --wait-ssh=400 --ssh-key "$key" &&
	err_has "KVM failed at run time (QMP status internal-error)" &&
	err_has "QNX_QEMU_ACCEL=tcg"
checks=$((checks + 1))
pid=$(cat "$T/ws/output/qemu.pid" 2>/dev/null || true)
if [ -n "$pid" ] && alive "$pid"; then fail "the broken-KVM QEMU $pid was left running"; fi

# With it (what qq-run passes when it chose KVM itself): retried under TCG, and up.
expect_in 0 kvm.argv qq-spawn -d --wait-ssh=400 --tcg-fallback --ssh-key "$key" &&
	err_has "retried under TCG"
cp "$T/out" facts
vm_pid=$(fact pid facts)
port=$(fact ssh_port facts)
checks=$((checks + 1))
out=$(guest /data/home/root/hello) || fail "hello failed in the guest"
[ "$out" = "hello from /data/home/root/hello on Linux x86_64" ] || fail "hello said: $out"
stop_and_check
finish
