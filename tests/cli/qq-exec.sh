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
# Nothing was created for a call that found no VM, and no --boot was asked.
[ -e "$T/ws" ] && fail "qq-exec created $T/ws without --boot"
finish
