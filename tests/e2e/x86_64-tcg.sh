#!/bin/sh
# x86_64-tcg.sh: end to end on a real x86_64 guest under tcg: stage, image, boot, ssh, run, stop.
. "$QQ_SRCDIR/tests/e2e/lib.sh"
e2e x86_64 tcg
equivalence x86_64
finish
