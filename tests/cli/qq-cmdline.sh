#!/bin/sh
# qq-cmdline.sh: golden argv for each arch x accel x mode, escapes, socket fallback, bad values.
. "$QQ_SRCDIR/tests/lib.sh"

G=$QQ_SRCDIR/tests/cli/golden
WS=/qq-golden/ws	# fixed, never created: qq-cmdline only computes
# A stand-in qemu-system-aarch64 for "-machine help" (the list of QEMU 7.2, shortened).
mkdir -p fakebin fakeold
cat >fakebin/qemu-system-aarch64 <<'SH'
#!/bin/sh
[ "$1 $2" = "-accel help" ] && { printf "Accelerators supported in QEMU binary:\ntcg\nkvm\n"; exit 0; }
[ "$1 $2" = "-machine help" ] || exit 9
printf 'Supported machines are:\nvirt-2.6             QEMU 2.6 ARM Virtual Machine\nvirt-4.2             QEMU 4.2 ARM Virtual Machine\nvirt                 QEMU 7.2 ARM Virtual Machine (alias of virt-7.2)\nvirt-7.2             QEMU 7.2 ARM Virtual Machine\nxlnx-versal-virt     Xilinx Versal Virtual development board\n'
SH
# --accel kvm is probed as qq-detect-accel does: the fakes answer "-accel help", under fake probes.
printf '#!/bin/sh\n[ "$1 $2" = "-accel help" ] || exit 9\nprintf "Accelerators supported in QEMU binary:\\ntcg\\nkvm\\n"\n' >fakebin/qemu-system-x86_64
chmod +x fakebin/qemu-system-x86_64
printf 'processor\t: 0\nflags\t\t: fpu vmx sse\n' >cpu-vmx
mkdir -p mod-none
cat >fakeold/qemu-system-aarch64 <<'SH'
#!/bin/sh
printf 'virt                 QEMU 10.2 ARM Virtual Machine (alias of virt-10.2)\nvirt-10.2            QEMU 10.2\nvirt-5.0             QEMU 5.0\nvirt-6.2             QEMU 6.2\n'
SH
chmod +x fakebin/qemu-system-aarch64 fakeold/qemu-system-aarch64
FAKEPATH=$T/fakebin:$PATH

expect 0 qq-cmdline --help && out_has "usage: qq-cmdline [-0dhV] [--accel auto|kvm|tcg] [--append args] [--arch arch] [--disk path] [--initrd path] [--kernel path] [--qemu binary] [--ram size] [--smp n] [--ssh-port port] [--workspace dir]"
expect 0 qq-cmdline -V && out_has "qq-cmdline 0.1.0"
expect 2 qq-cmdline -x && err_has "usage: qq-cmdline"
expect 2 qq-cmdline --workspace /w operand && err_has "usage: qq-cmdline"

# Golden argv: 2 arches x 2 accels x 2 modes. QQ_UPDATE_GOLDEN=1 rewrites them (then review the diff).
for arch in x86_64 aarch64; do
	for accel in kvm tcg; do
		for mode in fg detach; do
			set -- --arch "$arch" --accel "$accel" --workspace "$WS"
			[ "$mode" = detach ] && set -- "$@" --detach
			name=qq-cmdline.$arch-$accel-$mode
			expect 0 env PATH="$FAKEPATH" QQ_HOST_ARCH="$arch" QQ_KVM_DEVICE=/dev/null \
			    QQ_CPUINFO="$T/cpu-vmx" QQ_SYSMODULE="$T/mod-none" qq-cmdline "$@" || continue
			err_lines 0
			if [ -n "${QQ_UPDATE_GOLDEN:-}" ]; then
				cp "$T/out" "$G/$name"
			fi
			out_is "$G/$name"
		done
	done
done
# The same through the environment and through facts; -d is --detach.
expect 0 env PATH="$FAKEPATH" QNX_QEMU_ARCH=aarch64le QNX_QEMU_ACCEL=tcg QNX_QEMU_WORKSPACE=$WS qq-cmdline -d
out_is "$G/qq-cmdline.aarch64-tcg-detach"
printf 'arch=x86_64\naccel=kvm\nworkspace=%s\nother=1\n' "$WS" >in
expect_in 0 in env QNX_QEMU_ARCH=aarch64 QNX_QEMU_ACCEL=tcg qq-cmdline
out_is "$G/qq-cmdline.x86_64-kvm-fg"
# -0: the same arguments, NUL-terminated.
expect 0 qq-cmdline -0 --accel tcg --workspace $WS
tr '\0' '\n' <"$T/out" >nul.txt
diff -u "$G/qq-cmdline.x86_64-tcg-fg" nul.txt >/dev/null || fail "-0 differs from the golden argv"
[ "$(tr -cd '\0' <"$T/out" | wc -c)" -eq "$(wc -l <"$G/qq-cmdline.x86_64-tcg-fg")" ] || fail "-0: wrong NUL count"

# The pipeline of the README: one correct command line.
here=$(pwd -P)
got=$(qq-detect-accel --accel tcg </dev/null | qq-keygen | qq-cmdline | xargs echo) || fail "pipeline failed"
want="qemu-system-x86_64 -smp 2 -m 1G -accel tcg -cpu max -kernel $here/.qnx_qemu_vm/output/ifs.bin -drive file=$here/.qnx_qemu_vm/output/disk-qemu.vmdk,if=ide,id=drv0 -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22 -device virtio-net-pci,netdev=net0 -object rng-random,filename=/dev/urandom,id=rng0 -device virtio-rng-pci,rng=rng0 -pidfile $here/.qnx_qemu_vm/output/qemu.pid -nographic -serial mon:stdio"
checks=$((checks + 1))
[ "$got" = "$want" ] || fail "pipeline printed: $got"
[ -f "$HOME/.ssh/id_ed25519.pub" ] || fail "the pipeline made no key"

# A workspace with spaces and commas: quoted for xargs; commas doubled in -drive file= and
# -qmp unix: (QEMU's option parser unescapes them) but not in -serial file: (taken literally).
W="$here/a,b c"
expect 0 qq-cmdline --accel tcg --workspace "a,b c" -d
out_has "'$W/output/ifs.bin'"
out_has "'file=$here/a,,b c/output/disk-qemu.vmdk,if=ide,id=drv0'"
out_has "'$W/output/qemu.pid'"
out_has "'file:$W/serial.log'"
out_has "'unix:$here/a,,b c/qmp.sock,server=on,wait=off'"
qq-cmdline --accel tcg --workspace "a,b c" -d </dev/null | xargs printf '%s\n' >unq
grep -qxF "file:$W/serial.log" unq || fail "xargs did not get the serial path back: $(cat unq)"
# Quotes and backslashes survive the round trip through xargs too.
expect 0 qq-cmdline --accel tcg --workspace "$here/it's \"q\" \\x" --append "console=ttyS0 a='b c'"
xargs printf '%s\n' <"$T/out" >unq
grep -qxF "$here/it's \"q\" \\x/output/ifs.bin" unq || fail "quoted kernel path lost: $(cat unq)"
grep -qxF "console=ttyS0 a='b c'" unq || fail "append lost: $(cat unq)"

# A workspace too deep for sun_path: the socket moves to /tmp/qq-<digest>/.
deep=$here/$(printf '%0120d' 0 | tr 0 d)
digest=$(printf '%s' "$deep" | sha256sum | cut -c1-16)
expect 0 qq-cmdline --accel tcg --workspace "$deep" -d
out_has "unix:/tmp/qq-$digest/qmp.sock,server=on,wait=off"
out_has "file:$deep/serial.log"
out_has "$deep/output/qemu.pid"
[ -e "/tmp/qq-$digest" ] && fail "qq-cmdline created the socket directory"
# 107 bytes still fits.
fits=$here/$(printf '%0*d' $((107 - ${#here} - 1 - 9)) 0)
expect 0 qq-cmdline --accel tcg --workspace "$fits" -d && out_has "unix:$fits/qmp.sock,server=on,wait=off"

# Image paths: options over facts over defaults; an empty disk means none; initrd and append.
printf 'kernel=/g/vmlinuz\ninitrd=/g/initrd.img\nappend=console=ttyS0 quiet\ndisk=\n' >in
expect_in 0 in qq-cmdline --accel tcg --workspace $WS
out_has "/g/vmlinuz"
out_has "-initrd"
out_has "/g/initrd.img"
out_has "-append"
out_has "'console=ttyS0 quiet'"
grep -q -- '-drive' "$T/out" && fail "an empty disk fact still gave a -drive"
expect_in 0 in qq-cmdline --accel tcg --workspace $WS --kernel k --initrd '' --append '' --disk d.vmdk
out_has "$here/k"
out_has "file=$here/d.vmdk,if=ide,id=drv0"
grep -q -- '-initrd\|-append' "$T/out" && fail "empty --initrd/--append still emitted"
# A hand-fed kernel and initrd get no default disk; a disk given beside them is kept.
expect 0 qq-cmdline --accel tcg --workspace $WS --kernel k --initrd i.img
out_has "$here/i.img"
grep -q -- '-drive' "$T/out" && fail "an initrd without a disk got the default disk"
printf 'initrd=/g/initrd.img\n' >initrd.in
expect_in 0 initrd.in qq-cmdline --accel tcg --workspace $WS
grep -q -- '-drive' "$T/out" && fail "an initrd fact without a disk got the default disk"
expect 0 qq-cmdline --accel tcg --workspace $WS --kernel k --initrd i.img --disk d.vmdk
out_has "file=$here/d.vmdk,if=ide,id=drv0"
expect 0 qq-cmdline --accel tcg --workspace $WS --disk ''
grep -q -- '-drive' "$T/out" && fail "--disk '' still gave a -drive"
expect 0 qq-cmdline --accel tcg --ssh-port 0 --workspace $WS
out_has "user,id=net0,hostfwd=tcp:127.0.0.1:0-:22"

# accel auto runs the detection (faked: no KVM here), with its warning.
expect 0 env QQ_KVM_DEVICE="$T/nodev" qq-cmdline --workspace $WS
out_has "tcg"
out_has "max"
err_has "qq-cmdline: warning: using tcg: $T/nodev: No such file or directory"
err_lines 1
# aarch64 on a QEMU without virt-4.2: the oldest virt-X.Y, with a warning.
expect 0 env PATH="$T/fakeold:$PATH" qq-cmdline --arch aarch64 --accel tcg --workspace $WS
out_has "virt-5.0"
err_has "qq-cmdline: warning: qemu-system-aarch64 has no machine virt-4.2; using virt-5.0, the oldest virt-X.Y it lists"
expect 127 env PATH="$T/fakeold" "$QQ_BUILDDIR/bin/qq-cmdline" --arch aarch64 --accel tcg --qemu nope
err_has "qq-cmdline: unable to find nope"

# Every bad value of every setting qq-cmdline reads, from option, fact and environment.
while IFS='|' read -r how value msg; do
	[ -n "$how" ] || continue
	case $how in
	--*) expect 3 env PATH="$FAKEPATH" qq-cmdline --workspace $WS "$how" "$value" ;;
	QNX_*) expect 3 env PATH="$FAKEPATH" "$how=$value" qq-cmdline --workspace $WS ;;
	*) printf '%s=%s\n' "$how" "$value" >in
	   expect_in 3 in env PATH="$FAKEPATH" qq-cmdline ;;
	esac
	err_has "qq-cmdline: $msg"
	err_lines 1
	[ -s "$T/out" ] && fail "$how $value: printed an argv"
done <<LIST
--arch|riscv64|bad --arch "riscv64": expected x86_64 or aarch64
QNX_QEMU_ARCH|arm|bad QNX_QEMU_ARCH "arm": expected x86_64 or aarch64
arch|x86|bad fact arch "x86": expected x86_64 or aarch64
--smp|0|bad --smp "0": expected a CPU count from 1 to 64
QNX_QEMU_SMP|65|bad QNX_QEMU_SMP "65": expected a CPU count from 1 to 64
smp|two|bad fact smp "two": expected a CPU count from 1 to 64
--ram|1.5G|bad --ram "1.5G": expected a size from 32M to 1T such as 1G or 512M
QNX_QEMU_RAM|16M|bad QNX_QEMU_RAM "16M"
ram|2T|bad fact ram "2T"
--ssh-port|65536|bad --ssh-port "65536": expected a port from 0 to 65535
QNX_QEMU_SSH_PORT|-1|bad QNX_QEMU_SSH_PORT "-1"
ssh_port|ssh|bad fact ssh_port "ssh"
--accel|hvf|bad --accel "hvf": expected auto, kvm or tcg
QNX_QEMU_ACCEL|KVM|bad QNX_QEMU_ACCEL "KVM"
accel|on|bad fact accel "on"
--workspace||bad --workspace "": expected a directory path
workspace||bad fact workspace "": expected a directory path
--qemu||bad --qemu "": expected a program name or path
qemu||bad fact qemu "": expected a program name or path
--kernel||bad --kernel "": expected a file path
kernel||bad fact kernel "": expected a file path
LIST
printf 'Not=a fact\n' >in
expect_in 3 in qq-cmdline && err_lines 1
# A bad value holding control characters still makes one line, the characters escaped.
nl=$(printf '1\nG')
expect 3 env PATH="$FAKEPATH" QNX_QEMU_RAM="$nl" qq-cmdline --workspace $WS &&
	err_has 'qq-cmdline: bad QNX_QEMU_RAM "1\nG": expected a size' && err_lines 1
esc=$(printf 'x86\033[2J\t')
expect 3 env PATH="$FAKEPATH" qq-cmdline --workspace $WS --arch "$esc" &&
	err_has 'qq-cmdline: bad --arch "x86\033[2J\t": expected x86_64 or aarch64' && err_lines 1

# For real: QEMU 7.2 takes the detached argv of a comma-and-space workspace and puts the
# serial log, QMP socket and pidfile where qq-cmdline says (an aarch64 raw kernel: any file).
if command -v qemu-system-aarch64 >/dev/null && command -v qemu-img >/dev/null; then
	R="$here/r,u n"
	mkdir -p "$R/output"
	head -c 4096 /dev/zero >"$R/output/ifs.bin"
	qemu-img create -q -f vmdk "$R/output/disk-qemu.vmdk" 1M
	qq-cmdline --arch aarch64 --accel tcg --ssh-port 0 --ram 64M --smp 1 --workspace "$R" -d \
		</dev/null >argv || fail "no argv"
	checks=$((checks + 1))
	# shellcheck disable=SC2016 # the inner sh expands them
	if xargs sh -c 'exec "$0" "$@"' <argv >qemu.out 2>&1; then
		pid=$(cat "$R/output/qemu.pid")
		[ -S "$R/qmp.sock" ] || fail "no QMP socket in the workspace: $(ls -a "$R")"
		[ -f "$R/serial.log" ] || fail "no serial log in the workspace: $(ls -a "$R")"
		for x in "$here"/*,,*; do
			[ -e "$x" ] && fail "QEMU made a doubled-comma path: $x"
		done
		kill "$pid"
		# A daemonized QEMU lingers as a zombie until reaped, and kill -0 succeeds on
		# a zombie: wait for it to be gone or a zombie.
		n=0
		while alive "$pid" && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
		alive "$pid" && { kill -9 "$pid"; fail "QEMU $pid outlived SIGTERM"; }
	else
		fail "QEMU refused the argv: $(cat qemu.out)"
	fi
fi

finish
