#!/bin/sh
# x86_64-kvm.sh: end to end on a real x86_64 guest under KVM, where KVM really works.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: host is $(uname -m), not x86_64"; exit 77; }
# qq-detect-accel decides, with the reason it gives (a nested software KVM is refused).
qq-detect-accel --arch x86_64 --accel auto </dev/null >"$T/accel" 2>/dev/null || true
if [ "$(fact accel "$T/accel")" != kvm ]; then
	echo "SKIP: KVM unusable: $(fact accel_reason "$T/accel")"
	exit 77
fi
e2e x86_64 kvm
finish
