#!/bin/sh
# symbols.sh: every global symbol libqq.a defines carries the qq_ prefix.
set -eu
lib="$QQ_BUILDDIR/lib/libqq.a"
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }
bad=$(${NM:-nm} -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | grep -v -e '^qq_' -e '^__odr_asan' || true)
if [ -n "$bad" ]; then
	echo "unprefixed global symbols in libqq.a:"
	printf '%s\n' "$bad"
	exit 1
fi
echo "ok: $(${NM:-nm} -g --defined-only "$lib" | awk 'NF == 3' | wc -l) symbols, all qq_"
