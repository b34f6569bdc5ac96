#!/bin/sh
# qq-stage.sh: options, the test discovery rule, the checks, facts, reuse of unchanged files, bad input.
. "$QQ_SRCDIR/tests/lib.sh"
. "$QQ_SRCDIR/tests/cli/elf.sh"

# Options and usage.
expect 0 qq-stage --help && out_has "usage: qq-stage [--arch ARCH] [--workspace DIR] [--tests DIR]... [--test FILE]... PROGRAM"
expect 0 qq-stage -V && grep -q '^qq-stage [0-9]' "$T/out" || fail "no version"
expect 2 qq-stage && err_has "usage: qq-stage"
expect 2 qq-stage a b && err_has "usage: qq-stage"
expect 2 qq-stage --bogus a && err_has "usage: qq-stage"

# Fixtures: a program and a tests tree exercising the seed's rule.
mkdir -p bin t/sub/deeper t/.hidden t/_private t/foo.runfiles t/empty
mkelf bin/hello 62
mkelf t/alpha 62 2 3			# PIE
mkscript t/sub/beta
mkelf t/sub/deeper/gamma 62
mkelf t/.dot 62				# hidden
mkelf t/_under 62			# private
mkelf t/.hidden/inhidden 62		# in a hidden directory
mkelf t/_private/inprivate 62		# in a private directory
mkelf t/foo.runfiles/inrunfiles 62	# Bazel runfiles tree
for s in py sh so a o d h hpp cpp cc txt md json params runfiles runfiles_manifest; do
	mkscript "t/x.$s"
done
mkelf t/noexec 62 && chmod 644 t/noexec	# no owner-x: not a test
mkelf t/groupx 62 && chmod 615 t/groupx	# group/other x only: not a test
ln -s ../bin/hello t/linked		# a symlink to a file counts
ln -s sub t/linkdir			# a symlink to a directory is not followed
mkfifo t/fifo

# Golden stdout: the workspace path replaced by @WS@.
expect 0 qq-stage --workspace ws --tests t bin/hello
sed "s|$T/ws|@WS@|g" "$T/out" >"$T/got"
diff -u "$QQ_SRCDIR/tests/cli/golden/qq-stage.out" "$T/got" >"$T/diff" ||
	fail "stdout differs from golden: $(cat "$T/diff")"
[ -s "$T/err" ] && fail "stderr not empty: $(cat "$T/err")"
[ -f ws/.qq ] || fail "workspace not created with its marker"
for f in hello tests/alpha tests/beta tests/gamma tests/linked; do
	[ -f "ws/staging/data/home/root/$f" ] || fail "not staged: $f"
done
cmp ws/staging/data/home/root/tests/beta t/sub/beta || fail "content differs"
[ "$(stat -c %a ws/staging/data/home/root/tests/beta)" = 755 ] || fail "mode not kept"
chmod 700 t/sub/beta
expect 0 qq-stage --workspace ws --tests t bin/hello
[ "$(stat -c %a ws/staging/data/home/root/tests/beta)" = 700 ] || fail "mode change not staged"

# Unchanged files are not copied again; changed ones are; removed ones go.
ino() { stat -c %i "ws/staging/data/home/root/$1"; }
a1=$(ino tests/alpha) h1=$(ino hello)
expect 0 qq-stage --workspace ws --tests t bin/hello
[ "$(ino tests/alpha)" = "$a1" ] && [ "$(ino hello)" = "$h1" ] || fail "unchanged files copied again"
mkelf t/alpha 62 2 2
expect 0 qq-stage --workspace ws --tests t bin/hello
[ "$(ino tests/alpha)" != "$a1" ] || fail "a changed file was not copied"
[ "$(ino hello)" = "$h1" ] || fail "an unchanged file was copied with a changed one"
cmp -s ws/staging/data/home/root/tests/alpha t/alpha || fail "changed content not staged"
rm t/sub/beta
expect 0 qq-stage --workspace ws --tests t bin/hello
[ -e ws/staging/data/home/root/tests/beta ] && fail "a file no longer asked for is still staged"
grep -q beta "$T/out" && fail "stage fact for a removed file"
# Someone editing our staged copy gets it replaced.
echo tampered >ws/staging/data/home/root/hello
expect 0 qq-stage --workspace ws --tests t bin/hello
cmp -s ws/staging/data/home/root/hello bin/hello || fail "a tampered staged copy was kept"
# A leftover from an interrupted stage is cleaned away; the tree stays usable.
mkdir -p ws/staging.new/data && echo junk >ws/staging.new/data/junk
expect 0 qq-stage --workspace ws --test bin/hello bin/hello
[ -e ws/staging.new ] && fail "leftover temporary tree not removed"
out_has "stage=/data/home/root/tests/hello	$T/ws/staging/data/home/root/tests/hello"

# Facts: others passed through in order, old stage facts replaced, option settings exported.
printf 'zeta=1\nstage=/data/old\t/x\nalpha=2\n' >in.facts
expect_in 0 in.facts qq-stage --workspace ws --arch x86_64 bin/hello
printf 'zeta=1\nalpha=2\narch=x86_64\nworkspace=%s/ws\nstage=/data/home/root/hello\t%s/ws/staging/data/home/root/hello\n' "$T" "$T" >want
out_is want
# The workspace comes from a fact too.
printf 'workspace=%s/ws2\n' "$T" >in2.facts
expect_in 0 in2.facts qq-stage bin/hello && [ -f ws2/staging/data/home/root/hello ] || fail "workspace fact ignored"

# Scripts go to any arch; an aarch64 ELF to aarch64 only.
mkscript s.sh
mkelf arm64 183
expect 0 qq-stage --workspace wa --arch aarch64 --test s.sh arm64
expect 0 qq-stage --workspace wa --arch aarch64 --test arm64 s.sh
# The same files checked again when the arch changes (the manifest records it).
expect 3 qq-stage --workspace wa --arch x86_64 --test arm64 s.sh
err_has "qq-stage: arm64 is an ELF binary for aarch64, but the target arch is x86_64"

# Bad input: exit 3, one line naming the file, nothing staged.
mkdir adir
mkelf i386 3 1
mkelf obj.o 62 2 1
printf 'hello\n' >text && chmod 755 text
: >empty && chmod 755 empty
mkelf noexec 62 && chmod 644 noexec
mkelf "tab	name" 62
expect 3 qq-stage --workspace wb nope && err_has "qq-stage: unable to read nope: No such file or directory"
expect 3 qq-stage --workspace wb adir && err_has "qq-stage: adir is a directory, not a program"
expect 3 qq-stage --workspace wb noexec && err_has "qq-stage: noexec is not executable (mode 0644)"
expect 3 qq-stage --workspace wb arm64 && err_has "qq-stage: arm64 is an ELF binary for aarch64, but the target arch is x86_64"
expect 3 qq-stage --workspace wb --arch aarch64 bin/hello && err_has "bin/hello is an ELF binary for x86_64, but the target arch is aarch64"
expect 3 qq-stage --workspace wb i386 && err_has "i386 is an ELF binary for i386, but the target arch is x86_64"
expect 3 qq-stage --workspace wb obj.o && err_has "obj.o is an ELF relocatable object (.o), not an executable"
expect 3 qq-stage --workspace wb text && err_has "text is neither an ELF executable nor a #! script"
expect 3 qq-stage --workspace wb empty && err_has "empty is neither an ELF executable nor a #! script"
expect 3 qq-stage --workspace wb /dev/null && err_has "/dev/null is not a regular file"
expect 3 qq-stage --workspace wb "tab	name" && err_has "a path with a tab or newline cannot be staged"
expect 3 qq-stage --workspace wb --test arm64 bin/hello && err_has "arm64 is an ELF binary for aarch64"
expect 3 qq-stage --workspace wb --arch sparc bin/hello && err_has 'bad --arch "sparc"'
err_lines 1
[ -e wb ] && fail "a workspace was created for bad input"
# A bad test found in a tests directory is caught before anything is copied.
mkdir -p t2 && mkelf t2/wrong 183 && mkelf t2/right 62
expect 3 qq-stage --workspace ws --tests t2 bin/hello && err_has "t2/wrong is an ELF binary for aarch64"
[ -e ws/staging/data/home/root/tests/right ] && fail "copied before every file was checked"
# Tests directories: missing, a file, unreadable.
expect 3 qq-stage --workspace wb --tests nodir bin/hello && err_has "unable to read tests directory nodir: No such file or directory"
expect 3 qq-stage --workspace wb --tests bin/hello bin/hello && err_has "unable to read tests directory bin/hello: Not a directory"
mkdir -p locked/in && mkelf locked/in/x 62 && chmod 000 locked
if [ "$(id -u)" != 0 ]; then
	expect 3 qq-stage --workspace wb --tests locked bin/hello && err_has "unable to read tests directory locked: Permission denied"
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
	chmod 755 "$T" && mkdir nb && cp bin/hello nb/ && chmod 777 nb &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$(command -v qq-stage)"; then
	# root reads anything: run as nobody to see the permission error
	expect 3 setpriv --reuid=65534 --regid=65534 --clear-groups qq-stage --workspace nb/ws --tests locked nb/hello &&
		err_has "unable to read tests directory locked: Permission denied"
else
	echo "note: unreadable tests directory not checked (root, and setpriv cannot run as nobody here)"
fi
chmod 755 locked
# Duplicate guest names: both host paths named.
mkdir -p d1 d2 && mkelf d1/same 62 && mkelf d2/same 62
expect 3 qq-stage --workspace wb --tests d1 --tests d2 bin/hello && err_has "two tests would both be /data/home/root/tests/same: d1/same and d2/same"
expect 3 qq-stage --workspace wb --tests d1 --test d2/same bin/hello && err_has "d1/same and d2/same"
mkelf tests 62
expect 3 qq-stage --workspace wb --test d1/same tests && err_has "would hide the tests directory"
# Workspaces: a file, a foreign directory, locked by another step.
: >afile
expect 3 qq-stage --workspace afile bin/hello && err_has "afile: Not a directory"
mkdir foreign && : >foreign/mine
expect 3 qq-stage --workspace foreign bin/hello && err_has "is not a qq workspace"
[ -e foreign/staging ] && fail "wrote into a foreign directory"
(flock 9 && exec sleep 30) 9>ws/lock &
holder=$!
i=0
while flock -n ws/lock true 2>/dev/null && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
expect 4 qq-stage --workspace ws bin/hello && err_has "is busy: locked by pid"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# Full disk (a file size limit here): exit 4, the previous staging intact, no temporary tree.
head -c 2000000 /dev/urandom >big.bin && { printf '#!/bin/sh\n'; cat big.bin; } >big && chmod 755 big
expect 0 qq-stage --workspace wf --test t/alpha bin/hello
cp -R wf/staging before
expect 4 sh -c 'ulimit -f 256 && exec qq-stage --workspace wf --test big bin/hello'
err_has "unable to copy big to"
err_has "File too large"
[ -e wf/staging.new ] && fail "a half-written staging tree was left"
diff -r before wf/staging >/dev/null || fail "the previous staging was changed"
# A real full filesystem: a small tmpfs (needs root and a mount namespace).
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir small
	cat >full.sh <<'EOS'
set -u
mount -t tmpfs -o size=1m qqfull "$1" || exit 77
qq-stage --workspace "$1/ws" --test "$2/t/alpha" "$2/bin/hello" >/dev/null || exit 10
rc=0
qq-stage --workspace "$1/ws" --test "$2/big" "$2/bin/hello" >/dev/null 2>"$2/full.err" || rc=$?
echo "rc=$rc"
ls -A "$1/ws"
find "$1/ws/staging" -type f | sort | sed "s|$1/||"
cmp "$1/ws/staging/data/home/root/tests/alpha" "$2/t/alpha" && echo "alpha intact"
EOS
	got=0
	unshare -m sh full.sh "$T/small" "$T" >full.out 2>&1 || got=$?
	if [ "$got" = 77 ]; then
		echo "note: tmpfs full-disk check skipped: cannot mount tmpfs here"
	else
		checks=$((checks + 1))
		printf 'rc=4\n.qq\nlock\nstaging\nws/staging/.qq-manifest\nws/staging/data/home/root/hello\nws/staging/data/home/root/tests/alpha\nalpha intact\n' >full.want
		diff -u full.want full.out >full.diff || fail "full tmpfs: $(cat full.diff)"
		grep -q "No space left on device" full.err || fail "full tmpfs: no ENOSPC message: $(cat full.err)"
	fi
else
	echo "note: tmpfs full-disk check skipped: not root or no mount namespace"
fi

finish
