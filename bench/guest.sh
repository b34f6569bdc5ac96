# guest.sh: what the real-guest benches share (sourced after runs= and arch= are set):
# a temporary directory $t whose VM is stopped on exit, qq's environment for a TCG
# initramfs guest of $arch, the base guest, a static hello and a key; now and median.
: "${QQ_BUILDDIR:?set QQ_BUILDDIR to a configured build directory}"
src=$(cd "$(dirname "$0")/.." && pwd)
PATH=$QQ_BUILDDIR/bin:$PATH
export PATH
t=$(mktemp -d)
trap 'qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null 2>&1 || true; rm -rf "$t"' EXIT
export QNX_QEMU_ARCH="$arch" QNX_QEMU_ACCEL=tcg QNX_QEMU_WORKSPACE="$t/ws" \
    QNX_QEMU_BUILDER=initramfs QNX_QEMU_SSH_KEY="$t/key"
base=${QQ_GUEST_CACHE:-$HOME/.cache/qq/guest}/$arch
sh "$src/tests/guest/mkbase.sh" "$arch" "$base" 2>/dev/null
export QNX_QEMU_BASE="$base"
case $arch in x86_64) cc=cc ;; aarch64) cc=aarch64-linux-gnu-gcc ;; esac
"$cc" -static -O2 -o "$t/hello" "$src/examples/hello.c"
ssh-keygen -q -t ed25519 -N '' -f "$t/key"

now() { date +%s.%N; }
# median FILE: the median of the numbers in FILE, one a line.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] }'; }
# stop_by_hand: kills the QEMU a bench started by hand (the pid in its pidfile), waits until it
# is gone (a zombie counts), and removes what it left in the workspace.
stop_by_hand() {
	pid=$(cat "$t/ws/output/qemu.pid")
	kill "$pid"
	while [ -r "/proc/$pid/stat" ] && ! grep -q ') Z' "/proc/$pid/stat" 2>/dev/null; do
		sleep 0.05
	done
	rm -f "$t/ws/output/qemu.pid" "$t/ws/qmp.sock"
}
