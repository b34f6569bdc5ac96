#!/bin/sh
# qq-mkimage.sh: both builders against stand-ins (tests/sdp, a fake base guest): facts, snippet, cache, bad input.
. "$QQ_SRCDIR/tests/lib.sh"
. "$QQ_SRCDIR/tests/cli/elf.sh"

expect 0 qq-mkimage --help && out_has "usage: qq-mkimage [--builder mkqnximage|initramfs] [--base DIR] [--ssh-pubkey FILE] [--rebuild] [--mkqnximage-opt OPT]... [--arch ARCH] [--ram SIZE] [--workspace DIR] [--qnx-root DIR]"
expect 0 qq-mkimage --version && grep -q '^qq-mkimage [0-9]' "$T/out" || fail "no version"
expect 2 qq-mkimage extra && err_has "usage: qq-mkimage"
expect 2 qq-mkimage --bogus && err_has "usage: qq-mkimage"

# Everything lives under a directory with a space: paths are values, never shell text.
D="$T/a dir"
mkdir -p "$D/bin" "$D/t"
mkelf "$D/bin/hello" 62
mkscript "$D/t/one"
mkelf "$D/t/two" 62 && chmod 700 "$D/t/two"
cp -R "$QQ_SRCDIR/tests/sdp" "$D/sdp"
chmod -R u+w "$D/sdp"
MK="$D/sdp/host/common/bin/mkqnximage"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQQTEST test@qq" >key.pub
WS="$D/ws"
STANDIN_RUNS="$T/runs"
export STANDIN_RUNS
runs() { if [ -f "$T/runs" ]; then wc -l <"$T/runs"; else echo 0; fi; }

expect 0 qq-stage --workspace "$WS" --tests "$D/t" "$D/bin/hello" && cp "$T/out" staged.facts
printf 'ssh_pubkey=%s\n' "$(cat key.pub)" >>staged.facts
printf 'initrd=/stale\nappend=stale\n' >>staged.facts

# mkqnximage (the default) through QNX_ROOT: sourced environment, documented arguments.
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
out_has "kernel=$WS/output/ifs.bin"
out_has "disk=$WS/output/disk-qemu.vmdk"
grep -q '^initrd=\|^append=' "$T/out" && fail "stale initrd/append facts kept"
out_has "workspace=$WS"
[ "$(runs)" = 1 ] || fail "mkqnximage ran $(runs) times, expected 1"
# /data sized from the staged files (3 small files: 256 + 2 x 1 MB, 16384 + 4 x 3 inodes).
grep -qxF "run --type=qemu --arch=x86_64 --ssh-ident=$WS/ssh-ident.pub --noprompt --force --build --data-size=258 --data-inodes=16396" runs ||
	fail "mkqnximage arguments: $(cat runs)"
cmp -s "$WS/ssh-ident.pub" key.pub || fail "ssh ident file differs from the key"
sed "s|$WS|@WS@|g" "$WS/local/snippets/data_files.custom" >snippet.got
diff -u "$QQ_SRCDIR/tests/cli/golden/qq-mkimage.snippet" snippet.got >snippet.diff ||
	fail "snippet differs from golden: $(cat snippet.diff)"
[ -f "$WS/output/disk-qemu" ] && [ -f "$WS/image.key" ] && [ -f "$WS/mkqnximage.log" ] || fail "outputs missing"
# Cache hit: mkqnximage not run, said on stderr, same facts.
cp "$T/out" first.out
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
[ "$(runs)" = 1 ] || fail "cache hit ran mkqnximage"
err_has "nothing changed since the last build"
err_has "mkqnximage not run"
out_is first.out
# --rebuild forces; a changed staged file, option or key rebuilds.
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage --rebuild
[ "$(runs)" = 2 ] || fail "--rebuild did not run mkqnximage"
printf '#!/bin/sh\necho changed\n' >"$D/t/one"
expect 0 qq-stage --workspace "$WS" --tests "$D/t" "$D/bin/hello"
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
[ "$(runs)" = 3 ] || fail "a changed staged file did not rebuild"
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
[ "$(runs)" = 3 ] || fail "no rebuild expected"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQQOTHER other@qq" >key2.pub
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage --ssh-pubkey key2.pub
[ "$(runs)" = 4 ] || fail "a new key did not rebuild"
cmp -s "$WS/ssh-ident.pub" key2.pub || fail "--ssh-pubkey not used"
# A changed mkqnximage executable rebuilds.
echo "# changed" >>"$MK"
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
[ "$(runs)" = 5 ] || fail "a changed mkqnximage did not rebuild"
# A lost output rebuilds.
rm "$WS/output/ifs.bin"
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
[ "$(runs)" = 6 ] || fail "a missing output did not rebuild"
# Route 2: the SDP environment inherited from the user's shell (qnxsdp-env.sh sourced
# there); QNX_ROOT elsewhere is not looked at. mkqnximage comes from that PATH.
bash -c 'source "$1/qnxsdp-env.sh" >/dev/null && shift && exec "$@"' qq "$D/sdp" \
	env QNX_ROOT=/nonexistent qq-mkimage --arch aarch64 <staged.facts >"$T/out" 2>"$T/err" ||
	fail "inherited environment: $(cat "$T/err")"
[ "$(runs)" = 7 ] || fail "mkqnximage not run for a new arch"
tail -n 1 runs | grep -qF -- "--arch=aarch64le" || fail "aarch64 not passed as aarch64le: $(tail -n 1 runs)"
out_has "arch=aarch64"
# ... and with only QNX_HOST and QNX_TARGET exported (no PATH): host/common/bin beside
# QNX_HOST, with the host tools put on PATH for it (the stand-in needs them).
QNX_HOST="$D/sdp/host/linux/x86_64" QNX_TARGET="$D/sdp/target/qnx" QNX_ROOT=/nonexistent \
	expect_in 0 staged.facts qq-mkimage --rebuild
[ "$(runs)" = 8 ] || fail "mkqnximage not run beside QNX_HOST"
# The stand-in's environment script refuses shells other than bash and zsh, as the real one.
sh -c '. "$1/qnxsdp-env.sh"' sh "$D/sdp" >envsh.out 2>&1 && fail "qnxsdp-env.sh accepted sh"
grep -qF "This script can be sourced only from bash or zsh" envsh.out || fail "sh refusal: $(cat envsh.out)"
bash "$D/sdp/qnxsdp-env.sh" >envrun.out 2>&1 && fail "qnxsdp-env.sh accepted being run"
grep -qF "Script is being run, should be sourced" envrun.out || fail "run refusal: $(cat envrun.out)"

# User options for mkqnximage: passed after qq's, in the cache key; theirs replace our sizes.
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage --mkqnximage-opt --hostname=qq-guest \
	--mkqnximage-opt --data-size=900
[ "$(runs)" = 9 ] || fail "a new option did not rebuild"
tail -n 1 runs | grep -qE -- " --build --data-inodes=16396 --hostname=qq-guest --data-size=900\$" ||
	fail "user options: $(tail -n 1 runs)"
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage --mkqnximage-opt --hostname=qq-guest \
	--mkqnximage-opt --data-size=900
[ "$(runs)" = 9 ] || fail "same options rebuilt"
# The environment variable: split on blanks; options given on the command line win.
QNX_QEMU_MKQNXIMAGE_OPTS='--secpol=develop  --sys-size=300' QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
[ "$(runs)" = 10 ] || fail "QNX_QEMU_MKQNXIMAGE_OPTS did not rebuild"
tail -n 1 runs | grep -qE -- "--data-inodes=16396 --secpol=develop --sys-size=300\$" || fail "env options: $(tail -n 1 runs)"
QNX_QEMU_MKQNXIMAGE_OPTS='--secpol=develop' QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage --mkqnximage-opt --ip=10.0.2.15
tail -n 1 runs | grep -qF -- "--secpol" && fail "env options used beside --mkqnximage-opt: $(tail -n 1 runs)"
# Options qq owns, and things that are no option, are refused before anything runs.
before=$(runs)
for bad in --arch=aarch64le --type=vmware --ssh-ident=none --build --run --stop --clean --force --noprompt --run=x hostname -- --=x; do
	QNX_ROOT="$D/sdp" expect_in 3 staged.facts qq-mkimage --mkqnximage-opt "$bad" &&
		err_has "bad --mkqnximage-opt \"$bad\""
done
QNX_QEMU_MKQNXIMAGE_OPTS='--hostname=a --clean' QNX_ROOT="$D/sdp" expect_in 3 staged.facts qq-mkimage
err_has 'bad QNX_QEMU_MKQNXIMAGE_OPTS option "--clean": qq-mkimage passes --clean itself'
err_lines 1
[ "$(runs)" = "$before" ] || fail "a refused option ran mkqnximage"
# An option the contract double does not know makes mkqnximage fail: its words reach the user.
QNX_ROOT="$D/sdp" expect_in 4 staged.facts qq-mkimage --mkqnximage-opt --bogus=1
err_has "mkqnximage.log: mkqnximage: argument outside the contract: --bogus=1"

# mkqnximage failing: exit 4, log kept, its last lines on stderr, no key left.
STANDIN_FAIL=1 QNX_ROOT="$D/sdp" expect_in 4 staged.facts qq-mkimage --rebuild
err_has "qq-mkimage: mkqnximage failed (exit 1); its log is $WS/mkqnximage.log"
err_has "mkqnximage.log: mkqnximage: error: mkqfs failed: out of inodes"
err_has "mkqnximage.log: mkqnximage: build step 12"
grep -q "build step 1$" "$T/err" && fail "more than the last lines shown"
grep -q "out of inodes" "$WS/mkqnximage.log" || fail "log not kept"
[ -e "$WS/image.key" ] && fail "image.key kept after a failed build"
[ -s "$T/out" ] && fail "facts printed after a failure"
# ... and the next run builds again.
QNX_ROOT="$D/sdp" expect_in 0 staged.facts qq-mkimage
# A snippet the contract double rejects makes mkqnximage fail (argument or syntax).
printf 'stage=/data/home/root/x\t/nonexistent/x\nssh_pubkey=%s\n' "$(cat key.pub)" >ghost.facts
QNX_ROOT="$D/sdp" expect_in 3 ghost.facts qq-mkimage --workspace "$WS"
err_has "unable to read /nonexistent/x: No such file or directory"

# Missing SDP pieces: exit 4 naming the places looked and the variable.
QNX_ROOT="$T/none" expect_in 4 staged.facts qq-mkimage
err_has "unable to find the QNX SDP at $T/none: No such file or directory (set QNX_ROOT"
mkdir emptysdp
QNX_ROOT="$T/emptysdp" expect_in 4 staged.facts qq-mkimage
err_has "unable to find $T/emptysdp/qnxsdp-env.sh: No such file or directory (set QNX_ROOT"
cp "$D/sdp/qnxsdp-env.sh" emptysdp/
expect_in 4 staged.facts qq-mkimage --qnx-root "$T/emptysdp"
err_has "unable to find mkqnximage in $T/emptysdp/host/common/bin, $T/emptysdp/host/linux/x86_64/usr/bin, ~/.qnx/bin, $T/emptysdp/jre/bin or PATH"
err_has "set QNX_ROOT or --qnx-root to an SDP 8 installation"
mkdir -p emptysdp/host/linux/x86_64/usr/bin emptysdp/target/qnx
QNX_HOST="$T/emptysdp/host/linux/x86_64" QNX_TARGET="$T/emptysdp/target/qnx" expect_in 4 staged.facts qq-mkimage
err_has "unable to find mkqnximage on PATH or in $T/emptysdp/host/common/bin (host/common/bin beside QNX_HOST=$T/emptysdp/host/linux/x86_64)"
err_has "or unset QNX_HOST and set QNX_ROOT"
# An explicit --qnx-root is sourced even when an environment is inherited.
QNX_HOST="$T/emptysdp/host/linux/x86_64" QNX_TARGET="$T/emptysdp/target/qnx" \
	expect_in 0 staged.facts qq-mkimage --qnx-root "$D/sdp"
# The default QNX_ROOT is ~/qnx800.
expect_in 4 staged.facts qq-mkimage
err_has "unable to find the QNX SDP at $HOME/qnx800"

# No key: exit 3 saying what to run.
grep -v '^ssh_pubkey=' staged.facts >nokey.facts
QNX_ROOT="$D/sdp" expect_in 3 nokey.facts qq-mkimage
err_has "no ssh_pubkey fact: run qq-keygen first"
echo "not a key" >bad.pub
QNX_ROOT="$D/sdp" expect_in 3 nokey.facts qq-mkimage --ssh-pubkey bad.pub
err_has "expected an OpenSSH public key line"
QNX_ROOT="$D/sdp" expect_in 3 nokey.facts qq-mkimage --ssh-pubkey nofile.pub
err_has "unable to read nofile.pub: No such file or directory"
# Bad builders, bad stage facts.
expect_in 3 staged.facts qq-mkimage --builder docker && err_has 'bad --builder "docker": expected mkqnximage or initramfs'
QNX_QEMU_BUILDER=nope expect_in 3 staged.facts qq-mkimage && err_has 'bad QNX_QEMU_BUILDER "nope"'
for bad in '/data/home/root/x' '/etc/passwd	/x' '/data/../etc	/x' '/data/x	relative' 'a	b	c'; do
	printf 'stage=%s\nssh_pubkey=%s\n' "$bad" "$(cat key.pub)" >bad.facts
	QNX_ROOT="$D/sdp" expect_in 3 bad.facts qq-mkimage --workspace "$WS" && err_has "bad stage fact"
done
printf 'stage=/data/a\t%s\nstage=/data/a\t%s\nssh_pubkey=%s\n' "$D/bin/hello" "$D/t/two" "$(cat key.pub)" >dup.facts
QNX_ROOT="$D/sdp" expect_in 3 dup.facts qq-mkimage --workspace "$WS" && err_has "two stage facts for /data/a"
# A path mkifs cannot carry (a double quote) is refused before mkqnximage runs.
mkscript "$D/q\"uote"
printf 'stage=/data/q\t%s\nssh_pubkey=%s\n' "$D/q\"uote" "$(cat key.pub)" >quote.facts
QNX_ROOT="$D/sdp" expect_in 3 quote.facts qq-mkimage --workspace "$WS" && err_has "cannot be written in a mkqnximage buildfile"
# Workspace busy.
(flock 9 && exec sleep 30) 9>"$WS/lock" &
holder=$!
i=0
while flock -n "$WS/lock" true 2>/dev/null && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
QNX_ROOT="$D/sdp" expect_in 4 staged.facts qq-mkimage && err_has "is busy: locked by pid"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# initramfs: the base, padded to 4 bytes, then a newc cpio with the staged files and the key.
mkdir base
printf 'KERNEL' >base/vmlinuz
printf 'base5' >base/initrd.img		# 5 bytes: the archive must start at 8
echo 'console=ttyS0 quiet' >base/append
expect_in 0 staged.facts qq-mkimage --builder initramfs --base base
out_has "kernel=$WS/output/vmlinuz"
out_has "disk="
out_has "initrd=$WS/output/initrd.img"
out_has "append=console=ttyS0 quiet"
cmp -s base/vmlinuz "$WS/output/vmlinuz" || fail "kernel not copied"
[ "$(head -c 8 "$WS/output/initrd.img" | od -An -c | tr -d ' ')" = 'base5\0\0\0' ] || fail "base not padded to 4 bytes"
[ "$(tail -c +9 "$WS/output/initrd.img" | head -c 6)" = 070701 ] || fail "no newc archive at offset 8"
tail -c +9 "$WS/output/initrd.img" >appended.cpio
cpio -it --quiet <appended.cpio >listing || fail "cpio cannot read the archive"
printf '%s\n' data data/home data/home/root data/home/root/tests root root/.ssh root/.ssh/authorized_keys \
	data/home/root/hello data/home/root/tests/one data/home/root/tests/two >want.listing
diff -u want.listing listing >listing.diff || fail "archive listing: $(cat listing.diff)"
cpio -itv --quiet <appended.cpio | awk '{ print $1, $NF }' >modes
for want in 'drwx------ root' 'drwx------ root/.ssh' '-rw------- root/.ssh/authorized_keys' \
	'-rwxr-xr-x data/home/root/hello' '-rwx------ data/home/root/tests/two' 'drwxr-xr-x data/home/root/tests'; do
	grep -qxF -- "$want" modes || fail "archive lacks '$want': $(cat modes)"
done
mkdir x && (cd x && cpio -id --quiet <../appended.cpio) || fail "cpio -i failed"
cmp -s x/root/.ssh/authorized_keys key.pub || fail "authorized_keys is not the key"
cmp -s x/data/home/root/hello "$D/bin/hello" || fail "hello differs in the archive"
cmp -s x/data/home/root/tests/one "$D/t/one" || fail "tests/one differs in the archive"
# Cache hit: nothing rewritten.
i1=$(stat -c %i "$WS/output/initrd.img")
cp "$T/out" init.out
expect_in 0 staged.facts qq-mkimage --builder initramfs --base base
err_has "nothing changed since the last build"
err_has "initrd not rebuilt"
out_is init.out
[ "$(stat -c %i "$WS/output/initrd.img")" = "$i1" ] || fail "initrd rewritten on a cache hit"
QNX_QEMU_BUILDER=initramfs QNX_QEMU_BASE=base expect_in 0 staged.facts qq-mkimage
err_has "initrd not rebuilt"
expect_in 0 staged.facts qq-mkimage --builder initramfs --base base --rebuild
[ "$(stat -c %i "$WS/output/initrd.img")" != "$i1" ] || fail "--rebuild did not rebuild"
echo 'console=ttyS0' >base/append
expect_in 0 staged.facts qq-mkimage --builder initramfs --base base
out_has "append=console=ttyS0"
[ -s "$T/err" ] && fail "a changed append did not rebuild: $(cat "$T/err")"
# Bad bases.
expect_in 3 staged.facts qq-mkimage --builder initramfs
err_has "build one with qq-mkbase (qq-mkbase x86_64 DIR), then give --base DIR (holding vmlinuz, initrd.img and append) or set QNX_QEMU_BASE"
# qq-mkbase is the project's base-guest script, installed: the same body, its own name.
checks=$((checks + 1))
sed 1,/^esac/d "$QQ_BUILDDIR/bin/qq-mkbase" | sed 's/usage: qq-mkbase/usage: mkbase.sh/' >mkbase.body
sed 1d "$QQ_SRCDIR/tests/guest/mkbase.sh" | cmp -s - mkbase.body || fail "qq-mkbase is not tests/guest/mkbase.sh"
expect 2 qq-mkbase sparc && err_has "usage: qq-mkbase [-f] x86_64|aarch64 OUTDIR"
mkdir base2 && cp base/vmlinuz base/append base2/
expect_in 3 staged.facts qq-mkimage --builder initramfs --base base2
err_has "unable to read $T/base2/initrd.img: No such file or directory"
cp base/initrd.img base2/ && printf 'one\ntwo\n' >base2/append
expect_in 3 staged.facts qq-mkimage --builder initramfs --base base2
err_has "append must hold one line"

# Wrong OS: a binary linked for Linux in a QNX image, or for QNX in a Linux one, is
# refused like a wrong-arch one (exit 3, before anything is built); static ones pass.
mkdir os
mkelf_interp os/linuxbin 62 /lib64/ld-linux-x86-64.so.2
mkelf_interp os/qnxbin 62 /usr/lib/ldqnx-64.so.2
WS2="$T/ws2"
expect 0 qq-stage --workspace "$WS2" --test os/linuxbin "$D/bin/hello" && cp "$T/out" linux.facts
printf 'ssh_pubkey=%s\n' "$(cat key.pub)" >>linux.facts
before=$(runs)
QNX_ROOT="$D/sdp" expect_in 3 linux.facts qq-mkimage
err_has "qq-mkimage: /data/home/root/tests/linuxbin is linked for Linux (interpreter /lib64/ld-linux-x86-64.so.2), but the mkqnximage builder makes a QNX guest: link it for QNX (interpreter /usr/lib/ldqnx-64.so.2) or statically"
[ "$(runs)" = "$before" ] || fail "mkqnximage ran for a Linux binary"
expect_in 0 linux.facts qq-mkimage --builder initramfs --base base
expect 0 qq-stage --workspace "$WS2" --test os/qnxbin "$D/bin/hello" && cp "$T/out" qnx.facts
printf 'ssh_pubkey=%s\n' "$(cat key.pub)" >>qnx.facts
expect_in 3 qnx.facts qq-mkimage --builder initramfs --base base
err_has "/data/home/root/tests/qnxbin is linked for QNX (interpreter /usr/lib/ldqnx-64.so.2), but the initramfs builder makes a Linux guest"
QNX_ROOT="$D/sdp" expect_in 0 qnx.facts qq-mkimage

# initramfs larger than the guest can unpack: refused before booting, naming size and RAM.
mkdir big
head -c 70000000 /dev/zero >big/huge && chmod 755 big/huge
printf '#!/bin/sh\n' | dd of=big/huge conv=notrunc status=none
WS3="$T/ws3"
expect 0 qq-stage --workspace "$WS3" --test big/huge "$D/bin/hello" && cp "$T/out" big.facts
printf 'ssh_pubkey=%s\n' "$(cat key.pub)" >>big.facts
expect_in 3 big.facts qq-mkimage --builder initramfs --base base --ram 128M
err_has "qq-mkimage: the initramfs unpacks to about 67 MiB (base 1 MiB, staged files 67 MiB), more than a guest with ram 128M can hold: at most 0 MiB"
[ -e "$WS3/output/initrd.img" ] && fail "an initrd was written for a guest too small"
QNX_QEMU_RAM=160M expect_in 3 big.facts qq-mkimage --builder initramfs --base base
err_has "more than a guest with ram 160M can hold: at most 29 MiB"
expect_in 0 big.facts qq-mkimage --builder initramfs --base base --ram 512M
# The RAM a later step gives counts too: a cache hit still refuses a smaller guest.
expect_in 3 big.facts qq-mkimage --builder initramfs --base base --ram 192M
# A gzip'd base counts what it unpacks to (gzip's ISIZE trailer), not its file size.
mkdir gzbase && cp base/vmlinuz base/append gzbase/
head -c 50000000 /dev/zero | gzip -1 >gzbase/initrd.img
expect_in 3 staged.facts qq-mkimage --builder initramfs --base gzbase --ram 96M
err_has "the initramfs unpacks to about 48 MiB (base 48 MiB, staged files 1 MiB)"
expect_in 0 staged.facts qq-mkimage --builder initramfs --base gzbase --ram 256M

finish
