#!/bin/sh
# qq-detect-accel.sh: options, every probe branch through fake probes, facts pass-through, exit statuses.
. "$QQ_SRCDIR/tests/lib.sh"

# Fakes: QEMUs, cpuinfo files, a module tree with kvm_pvm, a fifo and a regular file as devices.
mkdir -p fake/mod-pvm/kvm_pvm fake/mod-none
# shellcheck disable=SC2016 # the fake expands its own "$1 $2"
printf '#!/bin/sh\n[ "$1 $2" = "-accel help" ] || exit 9\nprintf "Accelerators supported in QEMU binary:\\ntcg\\nkvm\\n"\n' >fake/qemu-kvm
printf '#!/bin/sh\nprintf "Accelerators supported in QEMU binary:\\ntcg\\n"\n' >fake/qemu-tcg
printf '#!/bin/sh\necho "qemu: broken" >&2\nexit 1\n' >fake/qemu-fail
chmod +x fake/qemu-kvm fake/qemu-tcg fake/qemu-fail
printf 'processor\t: 0\nflags\t\t: fpu vmx sse\n' >fake/cpu-vmx
printf 'processor\t: 0\nflags\t\t: fpu sse hypervisor\n' >fake/cpu-none
: >fake/regular
mkfifo fake/fifo
F=$T/fake

# probe ENV...: runs qq-detect-accel (with the remaining arguments after --) under fake probes.
# shellcheck disable=SC2317 # called through expect
probe() {
	env QQ_HOST_ARCH=x86_64 QQ_KVM_DEVICE=/dev/null QQ_CPUINFO="$F/cpu-vmx" \
		QQ_SYSMODULE="$F/mod-none" QNX_QEMU_BINARY="$F/qemu-kvm" "$@"
}

# Usage.
expect 0 qq-detect-accel -h && out_has "usage: qq-detect-accel [-hV] [--accel auto|kvm|tcg] [--arch arch] [--qemu binary]"
expect 0 qq-detect-accel --version && out_has "qq-detect-accel 0.1.0"
expect 2 qq-detect-accel --bogus && err_has "usage: qq-detect-accel"
expect 2 qq-detect-accel extra && err_has "usage: qq-detect-accel"
expect 2 qq-detect-accel --accel && err_has "usage: qq-detect-accel"

# tcg asked for: no probe at all, whatever the probes would say.
expect 0 probe QQ_KVM_DEVICE=/nonexistent qq-detect-accel --accel tcg
out_has "accel=tcg"
out_has "accel_reason=asked for tcg with --accel"
err_lines 0
expect 0 probe QNX_QEMU_ACCEL=tcg QNX_QEMU_BINARY=/nonexistent qq-detect-accel
out_has "accel_reason=asked for tcg with QNX_QEMU_ACCEL"

# Facts pass through in order; accel is replaced, option and environment settings are
# passed on (probe sets QNX_QEMU_BINARY), so later steps of the pipeline agree.
printf 'stage=/data/home/root/a\naccel=tcg\nother=x=y\naccel_reason=old\n' >in
expect_in 0 in probe QNX_QEMU_ACCEL=kvm qq-detect-accel --arch aarch64le
printf 'stage=/data/home/root/a\nother=x=y\narch=aarch64\nqemu=%s\naccel=tcg\naccel_reason=asked for tcg with fact accel\n' "$F/qemu-kvm" >want
out_is want

# Usable KVM (every probe faked): kvm in auto and when asked for.
expect 0 probe qq-detect-accel
out_has "accel=kvm"
out_has "accel_reason=host x86_64, /dev/null opens read-write, the CPU has vmx, $F/qemu-kvm lists kvm"
err_lines 0
expect 0 probe qq-detect-accel --accel kvm && out_has "accel=kvm"
expect 0 probe QQ_HOST_ARCH=arm64 QQ_CPUINFO=/nonexistent qq-detect-accel --arch aarch64
out_has "accel=kvm"
out_has "accel_reason=host aarch64, /dev/null opens read-write, $F/qemu-kvm lists kvm"

# Each reason KVM is unusable: auto falls back with a warning, kvm asked for exits 1.
while IFS='|' read -r env reason; do
	[ -n "$env" ] || continue
	# shellcheck disable=SC2086
	expect 0 probe $env qq-detect-accel
	out_has "accel=tcg"
	out_has "accel_reason=$reason"
	err_has "qq-detect-accel: warning: using tcg: $reason"
	err_lines 1
	# shellcheck disable=SC2086
	expect 1 probe $env qq-detect-accel --accel kvm
	err_has "qq-detect-accel: kvm asked for with --accel but unusable: $reason"
	err_lines 1
	[ -s "$T/out" ] && fail "kvm unusable printed facts: $(cat "$T/out")"
	# shellcheck disable=SC2086
	expect 1 probe QNX_QEMU_ACCEL=kvm $env qq-detect-accel
	err_has "kvm asked for with QNX_QEMU_ACCEL but unusable: $reason"
done <<LIST
QQ_HOST_ARCH=x86_64 QNX_QEMU_ARCH=aarch64|host x86_64 cannot run aarch64 guests under KVM
QQ_HOST_ARCH=aarch64|host aarch64 cannot run x86_64 guests under KVM
QQ_KVM_DEVICE=$F/nodev|$F/nodev: No such file or directory; the kvm module is not loaded or the CPU has no virtualization
QQ_KVM_DEVICE=$F/regular|$F/regular is not a character device
QQ_KVM_DEVICE=$F/fifo|$F/fifo is not a character device
QQ_CPUINFO=$F/cpu-none QQ_SYSMODULE=$F/mod-pvm|/dev/null exists but the CPU has no vmx or svm flag and kvm_pvm is loaded: a software KVM that cannot boot a stock guest
QQ_CPUINFO=$F/cpu-none|/dev/null exists but the CPU has no vmx or svm flag in $F/cpu-none: no hardware virtualization
QQ_CPUINFO=$F/nocpu|unable to read $F/nocpu: No such file or directory
QNX_QEMU_BINARY=$F/qemu-tcg|$F/qemu-tcg does not list kvm in -accel help
LIST

# Permission denied: a read-only sysfs file refuses O_RDWR even to root.
if [ -e /sys/kernel/notes ] && ! (: <>/sys/kernel/notes) 2>/dev/null; then
	expect 0 probe QQ_KVM_DEVICE=/sys/kernel/notes qq-detect-accel
	out_has "accel_reason=/sys/kernel/notes: Permission denied; add your user to group kvm"
fi

# QEMU missing or broken.
expect 127 probe QNX_QEMU_BINARY="$F/none" qq-detect-accel
err_has "qq-detect-accel: unable to find QEMU $F/none: No such file or directory"
expect 127 probe qq-detect-accel --qemu qq-no-such-qemu
err_has "unable to find QEMU qq-no-such-qemu"
expect 4 probe QNX_QEMU_BINARY="$F/qemu-fail" qq-detect-accel
err_has "qq-detect-accel: $F/qemu-fail -accel help failed with status 1: qemu: broken"

# Every bad value of every setting this program reads: one line, exit 3.
printf 'arch=mips\n' >badfact
expect_in 3 badfact probe qq-detect-accel && err_has 'qq-detect-accel: bad fact arch "mips": expected x86_64 or aarch64' && err_lines 1
expect 3 probe qq-detect-accel --arch sparc && err_has 'bad --arch "sparc": expected x86_64 or aarch64' && err_lines 1
expect 3 probe QNX_QEMU_ARCH=arm qq-detect-accel && err_has 'bad QNX_QEMU_ARCH "arm"' && err_lines 1
expect 3 probe qq-detect-accel --accel fast && err_has 'bad --accel "fast": expected auto, kvm or tcg' && err_lines 1
expect 3 probe QNX_QEMU_ACCEL=KVM qq-detect-accel && err_has 'bad QNX_QEMU_ACCEL "KVM"' && err_lines 1
printf 'accel=yes\n' >badfact
expect_in 3 badfact probe qq-detect-accel && err_has 'bad fact accel "yes"' && err_lines 1
expect 3 probe qq-detect-accel --qemu '' && err_has 'bad --qemu "": expected a program name or path' && err_lines 1
printf 'not a fact\n' >badfact
expect_in 3 badfact probe qq-detect-accel && err_lines 1

# This very host, unfaked: it answers, whichever way.
expect 0 qq-detect-accel --accel auto
grep -qx 'accel=kvm\|accel=tcg' "$T/out" || fail "no accel fact on this host: $(cat "$T/out")"
grep -q '^accel_reason=.' "$T/out" || fail "no accel_reason on this host"

# A setting given to the first step holds for the whole pipeline (an aarch64 command).
QNX_QEMU_ARCH=aarch64 qq-detect-accel </dev/null 2>/dev/null | qq-keygen 2>/dev/null |
	qq-cmdline >pipe.argv 2>pipe.err || fail "pipeline failed: $(cat pipe.err)"
checks=$((checks + 1))
[ "$(head -n 1 pipe.argv)" = qemu-system-aarch64 ] || fail "pipeline argv: $(head -n 3 pipe.argv)"
grep -qx cortex-a57 pipe.argv || fail "pipeline argv lacks cortex-a57"
