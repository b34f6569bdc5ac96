#!/bin/sh
# foreign-image.sh: images qq did not build, booted for real (x86_64, TCG): the explicit
# pipeline and qq-run --image into fresh workspaces, and a guest whose initramfs fails to
# unpack counted as a failed boot although it answers SSH.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
need ssh qemu-system-x86_64 cpio qq-mkbase
# No QEMU of ours survives, whatever happens (found by $T in its argv, never by name).
ours() {
	for c in /proc/[0-9]*/cmdline; do
		case $(readlink "${c%/cmdline}/exe" 2>/dev/null) in */qemu-system-*) ;; *) continue ;; esac
		tr '\0' '\n' <"$c" 2>/dev/null | grep -qF -- "$T" && echo "${c#/proc/}" | cut -d/ -f1
	done
}
trap 'for p in $(ours); do kill -KILL "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
# The base guest from the installed qq-mkbase (beside the shared cache, sharing its .debs).
base=$cache/x86_64-qq-mkbase
rc=0
qq-mkbase x86_64 "$base" 2>mkbase.err || rc=$?
[ "$rc" -ne 77 ] || { echo "SKIP: $(tail -n 1 mkbase.err)"; exit 77; }
[ "$rc" -eq 0 ] || { cat mkbase.err; echo "FAIL: qq-mkbase exited $rc"; exit 1; }
programs x86_64
# An image built elsewhere: mkqnximage's layout from the stand-in SDP (its VMDK is a
# real monolithicFlat descriptor QEMU opens), and a keyed initramfs for the Linux kernel.
cp -R "$QQ_SRCDIR/tests/sdp" sdp && chmod -R u+w sdp
mkdir img
(cd img && bash -c 'source "$1/qnxsdp-env.sh" >/dev/null && mkqnximage --type=qemu \
    --arch=x86_64 --ssh-ident=none --noprompt --build' qq "$T/sdp") >img.log 2>&1 ||
	fail "stand-in mkqnximage: $(cat img.log)"
{ qq-keygen </dev/null | qq-stage --workspace "$T/build" "$T/prog/hello" |
    qq-mkimage --builder initramfs --base "$base" >build.facts; } 2>build.err ||
	fail "building the initramfs: $(cat build.err)"
kernel=$(fact kernel build.facts) initrd=$(fact initrd build.facts)
append=$(fact append build.facts) key=$(fact ssh_key build.facts)

# The pipeline into a fresh, empty workspace: qq-spawn makes output/ for the pidfile.
mkdir fresh
checks=$((checks + 1))
qq-cmdline --accel tcg --ssh-port 0 --workspace "$T/fresh" --kernel "$kernel" \
    --initrd "$initrd" --append "$append" --disk "$T/img/output/disk-qemu.vmdk" --detach \
    </dev/null 2>cmdline.err | qq-spawn -d --wait-ssh --ssh-key "$key" >spawn.facts 2>spawn.err ||
	fail "qq-cmdline | qq-spawn in a fresh workspace: $(cat cmdline.err spawn.err)"
vm_pid=$(fact pid spawn.facts) port=$(fact ssh_port spawn.facts)
[ -f "$T/fresh/output/qemu.pid" ] || fail "no pidfile in the fresh workspace"
tr '\0' '\n' <"/proc/$vm_pid/cmdline" | grep -qF "file=$T/img/output/disk-qemu.vmdk" ||
	fail "QEMU runs without the image's disk"
checks=$((checks + 1))
# The wait was a login with the key (pinned in the workspace): the next one works at once.
qq-run ssh --workspace "$T/fresh" true </dev/null || fail "no login into the pipeline's guest"
out=$(qq-run ssh --workspace "$T/fresh" /data/home/root/hello </dev/null) ||
	fail "hello failed in the guest"
[ "$out" = "hello from /data/home/root/hello on Linux x86_64" ] || fail "hello said: $out"
expect 0 qq-stop --workspace "$T/fresh"
! alive "$vm_pid" || fail "QEMU $vm_pid still running after qq-stop"

# qq-run --image into a workspace that does not exist yet; --kernel and the rest beside
# it win over the image's own kernel (the stand-in IFS does not boot).
expect 0 qq-run -d --wait-ssh --accel tcg --ssh-port 0 --workspace "$T/fresh2" \
    --image "$T/img" --kernel "$kernel" --initrd "$initrd" --append "$append"
vm_pid=$(fact pid) port=$(fact ssh_port)
grep -q '^stage=' "$T/out" && fail "qq-run --image staged files"
tr '\0' '\n' <"/proc/$vm_pid/cmdline" | grep -qF "file=$T/img/output/disk-qemu.vmdk" ||
	fail "qq-run --image did not attach the image's disk"
checks=$((checks + 1))
qq-run ssh --workspace "$T/fresh2" true </dev/null || fail "no login into the --image guest"
expect 0 qq-run stop --workspace "$T/fresh2"
! alive "$vm_pid" || fail "QEMU $vm_pid still running after qq-run stop"

# An appended archive at an unaligned offset: the kernel says "Initramfs unpacking failed"
# and boots the bare base, which still answers SSH: a failed boot, the VM stopped.
cp "$base/initrd.img" bad.img
size=$(wc -c <bad.img)
head -c $((4 - size % 4 + 1)) /dev/zero >>bad.img
(cd "$T/build/staging" && find . | cpio -o -H newc --quiet) >>bad.img
expect 4 qq-run -d --wait-ssh --accel tcg --ssh-port 0 --workspace "$T/bad" \
    --kernel "$kernel" --initrd bad.img --append "$append"
err_has "the guest's boot failed: "
err_has "Initramfs unpacking failed"
none=$(ours)
[ -z "$none" ] || fail "QEMU left running after a failed boot: $none"
vm_pid=
finish
