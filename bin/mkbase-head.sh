#!/bin/sh
# qq-mkbase: build qq's small Linux base guest (vmlinuz, initrd.img, append) from Debian
# packages only, for qq-mkimage --builder initramfs; see qq-mkbase(1). Generated at build
# time: this header, then tests/guest/mkbase.sh (the one copy of the script, which the
# tests run in place).
case ${1:-} in
-h | --help)
	echo 'usage: qq-mkbase [-f] x86_64|aarch64 OUTDIR'
	exit 0
	;;
-V | --version)
	echo 'qq-mkbase %VERSION%'
	exit 0
	;;
esac
