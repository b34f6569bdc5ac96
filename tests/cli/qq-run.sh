#!/bin/sh
# qq-run.sh: qq-run's options, dry run, bad input and step-prefixed errors (no guest boots here).
. "$QQ_SRCDIR/tests/lib.sh"
. "$QQ_SRCDIR/tests/cli/elf.sh"

arch=$(host_arch)
case $arch in x86_64) machine=62 other=183 ;; *) machine=183 other=62 ;; esac
mkdir -p prog/tests base
mkelf prog/hello "$machine"
mkelf prog/tests/test_one "$machine"
mkscript prog/tests/test_two
printf 'notes\n' >prog/tests/README.md
mkelf wrong "$other"
printf 'kernel' >base/vmlinuz
printf 'initrd..' >base/initrd.img
printf 'console=ttyS0 quiet\n' >base/append

# Usage, help, version.
expect 0 qq-run --help && grep -q '^usage: qq-run' "$T/out" || fail "--help not on stdout"
expect 0 qq-run --version && out_has "qq-run 0.1.0"
expect 2 qq-run && err_has "usage: qq-run"
expect 2 qq-run --no-such-option prog/hello
expect 2 qq-run prog/hello prog/other

# Bad values: one line naming the value, exit 3, before any step does work.
for bad in QNX_QEMU_SMP=0 QNX_QEMU_RAM=lots QNX_QEMU_ARCH=sparc QNX_QEMU_SSH_PORT=70000 \
    QNX_QEMU_ACCEL=xen; do
	expect 3 env "$bad" qq-run --workspace ws prog/hello && err_lines 1
	err_has "\"${bad#*=}\""
	[ ! -e ws ] || fail "$bad: the workspace was created"
done
expect 3 qq-run --wait-ssh=0 prog/hello && err_has 'bad --wait-ssh "0"'
expect 3 qq-run --powerdown-timeout soon stop && err_has 'bad --powerdown-timeout "soon"'
[ ! -e "$HOME/.ssh" ] || fail "a bad value still created an ssh key"

# --help lists the setting options and names the man page.
expect 0 qq-run --help && out_has "See qq-run(1) for every option, the facts and the exit statuses."
grep -q -- "^  --qnx-root VALUE .*QNX_ROOT, default ~/qnx800\$" "$T/out" || fail "--help lacks --qnx-root"
grep -q -- "^  --ssh-port VALUE .*QNX_QEMU_SSH_PORT, default 2222\$" "$T/out" || fail "--help lacks --ssh-port"

# A dry run checks, says what it would do, prints the argv, and writes nothing.
expect 0 qq-run -n -v --accel tcg --workspace ws --builder initramfs --base base \
    prog/hello --tests prog/tests
err_has "would create $HOME/.ssh/id_ed25519"
err_has "would stage 3 files"
err_has "would build with initramfs"
out_has "qemu-system-$arch"
out_has "$T/ws/output/initrd.img"
out_has "-nographic"
[ ! -e ws ] && [ ! -e "$HOME/.ssh" ] || fail "the dry run wrote something"
# The argv is qq-cmdline's, for the same settings and image facts.
cp "$T/out" dry.argv
printf 'kernel=%s\ndisk=\ninitrd=%s\nappend=console=ttyS0 quiet\n' \
    "$T/ws/output/vmlinuz" "$T/ws/output/initrd.img" >image.facts
expect_in 0 image.facts qq-cmdline --accel tcg --workspace ws && out_is dry.argv
expect 0 qq-run -n -d --accel tcg --workspace ws --builder initramfs --base base prog/hello
out_has "-daemonize"
expect 0 qq-run -n -0 --accel tcg --workspace ws --builder initramfs --base base prog/hello
tr '\0' '\n' <"$T/out" | grep -qx 'console=ttyS0 quiet' || fail "-0 did not print NUL-separated"
expect 2 qq-run --clean prog/hello
# Dry runs also check the files: a wrong-arch program is refused.
expect 3 qq-run -n --accel tcg --workspace ws wrong
case $(tail -n 1 "$T/err") in "qq-run: stage: "*) ;; *) fail "the last line is not the stage error";; esac
# Without -v too, a dry run says what each step would do.
err_has "qq-run: keygen "
err_has "wrong"

# A failing step's status comes back unchanged, its message prefixed with its name.
expect 3 qq-run --accel tcg --workspace ws nonexistent && err_has "qq-run: stage: "
err_has "nonexistent"
expect 3 qq-run --accel tcg --workspace ws wrong && err_has "qq-run: stage: "
expect 3 qq-run --accel tcg --workspace ws prog && err_has "qq-run: stage: "
expect 3 qq-run --accel tcg --workspace ws2 --builder initramfs prog/hello
err_has "qq-run: mkimage: "
expect 3 qq-run --accel tcg --workspace ws2 --builder nosuch prog/hello
err_has "qq-run: mkimage: "
expect 4 env QNX_ROOT="$T/nosdp" qq-run --accel tcg --workspace ws3 prog/hello
err_has "qq-run: mkimage: "
err_has "QNX_ROOT"
# Every run above was refused before its first write: no key, no workspace.
[ ! -e "$HOME/.ssh" ] || fail "a refused run created an ssh key"
[ ! -e ws ] && [ ! -e ws2 ] && [ ! -e ws3 ] || fail "a refused run created a workspace"
# QEMU missing: 127 from the spawn step, found before anything was built.
expect 127 qq-run -d --accel tcg --qemu qq-no-such-qemu --workspace ws4 --ssh-port 0 \
    --builder initramfs --base base prog/hello
err_has "qq-run: spawn: "
[ ! -e ws4 ] || fail "a run refused for a missing QEMU created its workspace"

# Foreground (the default): the login hint first, then QEMU replaces qq-run,
# with exactly the argv a dry run prints (a stand-in QEMU records it).
printf '#!/bin/sh\nprintf "%%s\\n" "$0" "$@" >"%s/fg.argv"\n' "$T" >fakeqemu
chmod 755 fakeqemu
expect 0 qq-run -n --accel tcg --qemu "$T/fakeqemu" --workspace ws5 --ssh-port 0 \
    --builder initramfs --base base prog/hello
xargs printf '%s\n' <"$T/out" >fg.want	# the dry run's argv is xargs-quoted
expect 0 qq-run --accel tcg --qemu "$T/fakeqemu" --workspace ws5 --ssh-port 0 \
    --builder initramfs --base base prog/hello
# Port 0 in the foreground: QEMU's choice cannot be read back, so no "ssh -p 0" hint.
err_has "qq-run: QEMU picks the SSH port (--ssh-port 0) and cannot report it in the foreground"
! grep -q -- "-p 0" "$T/err" || fail "a foreground hint names port 0: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "a foreground run printed facts before QEMU took over"
diff fg.want fg.argv >/dev/null || fail "foreground argv differs: $(diff fg.want fg.argv)"
grep -qx -- "-nographic" fg.argv || fail "no -nographic in the foreground argv"
# A fixed port: the hint is qq-run ssh for the workspace, and the workspace records port and key.
expect 0 qq-run --accel tcg --qemu "$T/fakeqemu" --workspace "ws 6" --ssh-port 2299 \
    --builder initramfs --base base prog/hello
err_has "qq-run: log in with: qq-run ssh --workspace '$T/ws 6'; Ctrl-A X quits QEMU"
grep -qx "ssh_port=2299" "ws 6/guest" || fail "ws 6/guest: $(cat "ws 6/guest")"
# qq-run ssh with no VM running: ssh's own failure status (255), one line naming the workspace.
expect 255 qq-run --workspace "ws 6" ssh true
err_has "qq-run: ssh: no VM is running in $T/ws 6"
expect 255 qq-run --workspace "$T/nowhere" ssh
# The hint's own form: options after "ssh", up to the command's first word.
expect 255 qq-run ssh --workspace "ws 6" true
err_has "qq-run: ssh: no VM is running in $T/ws 6"

# Images qq did not build: --image DIR (mkqnximage's output/ below DIR, or DIR itself).
mkdir -p made/output flat
: >made/output/ifs.bin; : >made/output/disk-qemu.vmdk; : >flat/ifs.bin; : >flat/disk-qemu.vmdk
expect 0 qq-run -n -v --accel tcg --workspace ws8 --image made
out_has "$T/made/output/ifs.bin"
out_has "file=$T/made/output/disk-qemu.vmdk,if=ide,id=drv0"
grep -q "would stage\|would build" "$T/err" && fail "--image staged or built: $(cat "$T/err")"
[ ! -e ws8 ] || fail "the dry run of --image wrote the workspace"
expect 0 qq-run -n --accel tcg --workspace ws8 --image flat && out_has "$T/flat/ifs.bin"
expect 0 qq-run -n --accel tcg --workspace ws8 --image made --disk other.vmdk
out_has "file=$T/other.vmdk,if=ide,id=drv0"
expect 3 qq-run -n --accel tcg --workspace ws8 --image prog
err_has "bad --image \"prog\": no mkqnximage output in it"
# Without -n the refusal is the one line on stderr (a dry run says what each step would do).
expect 3 qq-run --accel tcg --workspace ws8 --image prog && err_lines 1
err_has "bad --image \"prog\": no mkqnximage output in it"
[ ! -e ws8 ] || fail "a refused --image wrote the workspace"
expect 2 qq-run --image made prog/hello
# --kernel and --initrd alone boot a hand-made image: no staging, no default disk.
expect 0 qq-run -n --accel tcg --workspace ws8 --kernel base/vmlinuz --initrd base/initrd.img \
    --append 'console=ttyS0'
out_has "$T/base/vmlinuz"
grep -q -- '-drive' "$T/out" && fail "a kernel and initrd got the default disk"

# The SDP route through qq-run: user options reach mkqnximage; owned ones are refused
# before anything is done; mkqnximage's own words reach a quiet (CI) run.
cp -R "$QQ_SRCDIR/tests/sdp" sdp && chmod -R u+w sdp
expect 3 env QNX_ROOT="$T/sdp" qq-run --accel tcg --workspace ws9 --mkqnximage-opt --clean prog/hello
err_has 'bad --mkqnximage-opt "--clean": qq-mkimage passes --clean itself'
[ ! -e ws9 ] || fail "a refused option still staged"
expect 3 env QNX_ROOT="$T/sdp" QNX_QEMU_MKQNXIMAGE_OPTS=--force qq-run --accel tcg --workspace ws9 prog/hello
[ ! -e ws9 ] || fail "a refused environment option still staged"
expect 4 env QNX_ROOT="$T/sdp" STANDIN_FAIL=1 qq-run --accel tcg --workspace ws9 prog/hello
err_has "mkqnximage.log: mkqnximage: error: mkqfs failed: out of inodes"
err_has "qq-run: mkimage: mkqnximage failed (exit 1); its log is $T/ws9/mkqnximage.log"
# (the stand-in QEMU does not daemonize: the image is built, the spawn step fails)
expect 4 env QNX_ROOT="$T/sdp" STANDIN_RUNS="$T/runs" qq-run -d --accel tcg --qemu "$T/fakeqemu" \
    --workspace ws9 --ssh-port 0 --mkqnximage-opt --hostname=qq prog/hello && err_has "qq-run: spawn: "
grep -q -- "--data-inodes=16388 --hostname=qq\$" runs || fail "qq-run's options: $(cat runs)"
# The key was made on the first real run.
[ -f "$HOME/.ssh/id_ed25519" ] && [ -f "$HOME/.ssh/id_ed25519.pub" ] || fail "no key created"

# stop and clean.
expect 1 qq-run stop --workspace ws4 && err_has "not running"
expect 0 qq-run clean --workspace ws4 && out_has "cleaned=$T/ws4"
[ ! -e ws4 ] || fail "clean left the workspace"
mkdir mine && printf 'precious\n' >mine/file
expect 3 qq-run clean --workspace mine
[ -f mine/file ] || fail "clean deleted a directory that is not a workspace"
expect 0 qq-run -n clean --workspace ws && err_has "would stop and wipe"
mkdir -p ws6 && : >ws6/.qq
expect 0 qq-run stop --clean --workspace ws6 && out_has "cleaned=$T/ws6"
[ ! -e ws6 ] || fail "stop --clean left the workspace"

finish
