#!/bin/sh
# qq-exec.sh: qq-exec without a VM: the usage contract, the binary's own 127/126, and
# qq's own failure (99, one line naming the cause) for bad values and a missing VM.
. "$QQ_SRCDIR/tests/lib.sh"

cp "$QQ_BUILDDIR/bin/qq-exec" "$T/prog"
printf 'text\n' >"$T/plain"

expect 2 qq-exec && err_has "usage: qq-exec "
expect 2 qq-exec --timeout && err_has "usage: qq-exec "
expect 127 qq-exec "$T/nothere" && err_has "qq-exec: unable to read $T/nothere" && err_lines 1
expect 126 qq-exec "$T/plain" && err_has "is not executable"
expect 126 qq-exec "$T" && err_has "is not a regular file"
# qq's own failures: 99, never a status a plain test failure returns.
expect 99 qq-exec --workspace "$T/ws" "$T/prog" &&
	err_has "qq-exec: no VM is running in $T/ws" && err_lines 1
expect 99 qq-exec --env 9X=1 "$T/prog" && err_has 'bad --env "9X=1"'
expect 99 qq-exec --file ":in.txt" "$T/prog" && err_has 'bad --file ":in.txt"'
# HOST:GUEST splits at the last colon; an empty GUEST is the default name, so a
# trailing colon names a host file with a colon in it.
printf '1\n' >"$T/a:b"
expect 99 qq-exec --file "$T/a:b:" --workspace "$T/ws" "$T/prog" &&
	err_has "qq-exec: no VM is running in $T/ws" && err_lines 1
expect 99 qq-exec --file "$T/a:b" --workspace "$T/ws" "$T/prog" &&
	err_has "unable to read $T/a: "
expect 99 qq-exec --file "$T/missing.txt" --workspace "$T/ws" "$T/prog" &&
	err_has "unable to read $T/missing.txt"
expect 99 qq-exec --cwd rel "$T/prog" && err_has 'bad --cwd "rel"'
expect 99 qq-exec --timeout 0 "$T/prog" && err_has "timeout"
# QQ_EXEC_FILES adds --file values, one per line, checked the same way.
QQ_EXEC_FILES="$T/gone.txt:in.txt" expect 99 qq-exec --workspace "$T/ws" "$T/prog" &&
	err_has "unable to read $T/gone.txt"
# Options after BINARY are the binary's: "+" in getopt.
expect 99 qq-exec --workspace "$T/ws" "$T/prog" --timeout 0 && err_has "no VM is running"
# A workspace that cannot be one: named, one line, 99.
expect 99 qq-exec --workspace "$T/plain" "$T/prog" &&
	err_has "qq-exec: unable to open workspace $T/plain: Not a directory" && err_lines 1
expect 99 qq-exec --boot --workspace "$T/plain/ws" "$T/prog" &&
	err_has "qq-exec: unable to open workspace $T/plain/ws: Not a directory" && err_lines 1
# A bad setting is refused even where it would not be used (no --boot), and with
# --boot a bad value for the boot leaves no workspace, nor its missing parents, behind
# (qq-run -n checks them first; qq-run itself makes missing parents, and so does --boot).
expect 99 qq-exec --arch bogus --workspace "$T/ws" "$T/prog" &&
	err_has 'qq-exec: bad --arch "bogus": expected x86_64 or aarch64' && err_lines 1
expect 99 qq-exec --boot --ssh-port 99999 --workspace "$T/new/parent/ws" "$T/prog" &&
	err_has 'qq-exec: bad --ssh-port "99999"' && err_lines 1
expect 99 qq-exec --boot --builder nope --workspace "$T/new/parent/ws" "$T/prog" &&
	err_has 'bad --builder "nope": expected mkqnximage or initramfs' && err_lines 1
expect 99 qq-exec --boot --builder initramfs --base "$T/nobase" --workspace "$T/new/parent/ws" \
	"$T/prog" && err_has "unable to read base guest $T/nobase" && err_lines 1
checks=$((checks + 1))
[ -e "$T/new" ] && fail "a refused --boot created $(find "$T/new")"
# Nothing was created for a call that found no VM, and no --boot was asked.
[ -e "$T/ws" ] && fail "qq-exec created $T/ws without --boot"
finish
