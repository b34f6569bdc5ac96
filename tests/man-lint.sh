#!/bin/sh
# man-lint.sh: every man page must pass mandoc's lint at warning level.
set -eu
[ -n "${MANDOC:-}" ] && [ "$MANDOC" != false ] || { echo "SKIP: mandoc not found"; exit 77; }
out=$("$MANDOC" -T lint -W warning "$QQ_SRCDIR"/man/*.[1-9] 2>&1) || true
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	exit 1
fi
echo "ok: $(ls "$QQ_SRCDIR"/man/*.[1-9] | wc -l) pages lint-clean"
