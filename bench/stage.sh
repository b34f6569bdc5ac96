#!/bin/bash
# stage.sh: qq-stage and qq-mkimage speed on 2,000 files totalling 500 MB, against cp -a and rsync -a.
# usage: bench/stage.sh [BUILDDIR] (default: the current directory); needs rsync; not part of make check.
# Reports medians of RUNS runs (default 5) with the page cache warm for every contender.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-.}" && pwd)
PATH="$build/bin:$PATH"
runs=${RUNS:-5}
dir=${BENCH_DIR:-/tmp/qq-bench}
command -v rsync >/dev/null || { echo "bench: rsync is needed (apt-get install rsync)" >&2; exit 1; }
command -v qq-stage >/dev/null || { echo "bench: no qq-stage in $build/bin" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir/src/tests"
cd "$dir"
# 1 program and 1,999 tests of 250,000 bytes: #! scripts, so any arch passes the check.
mk() { { printf '#!/bin/sh\nexit 0\n'; head -c 249984 /dev/urandom; } >"$1" && chmod 755 "$1"; }
mk src/prog
for i in $(seq -w 1 1999); do mk "src/tests/t$i"; done
echo "tree: $(find src -type f | wc -l) files, $(du -sb src | cut -f1) bytes, on $(df -T . | awk 'NR==2 { print $2 }')"
cat src/prog src/tests/* >/dev/null

now() { date +%s%N; }
# median of the runs of "$@" in ms; SETUP (a function name or :) runs before each, untimed.
median() {
	setup=$1
	shift
	for _ in $(seq "$runs"); do
		$setup
		sync
		t0=$(now)
		"$@" </dev/null >/dev/null
		t1=$(now)
		echo $(((t1 - t0) / 1000))
	done | sort -n | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; printf "%.1f\n", m / 1000 }'
}
fresh_cp() { rm -rf cpdst; }
fresh_ws() { rm -rf ws; }
stage() { qq-stage --workspace ws --tests src/tests src/prog; }

# Contenders alternate run by run, so a busy moment on a shared machine hits both.
pair() {
	for _ in $(seq "$runs"); do
		$1
		sync
		t0=$(now)
		$2 </dev/null >/dev/null
		t1=$(now)
		$3
		sync
		t2=$(now)
		$4 </dev/null >/dev/null
		t3=$(now)
		echo "$(((t1 - t0) / 1000)) $(((t3 - t2) / 1000))"
	done >pairs
	a=$(cut -d' ' -f1 pairs | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }')
	b=$(cut -d' ' -f2 pairs | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }')
	echo "$a $b"
}
cpa() { cp -a src cpdst; }
rsa() { rsync -a src/ rdst/; }
read -r cp_ms cold_ms <<EOT
$(pair fresh_cp cpa fresh_ws stage)
EOT
rsync -a src/ rdst/
stage >/dev/null </dev/null
read -r rsync_ms nochange_ms <<EOT
$(pair : rsa : stage)
EOT

# qq-mkimage: a build first (hashes every staged byte), then cache hits.
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBENCH bench@qq" >key.pub
stage </dev/null >facts
sdp="$here/tests/sdp"
mkdir -p base && printf K >base/vmlinuz && printf 'base' >base/initrd.img && echo quiet >base/append
t0=$(now)
QNX_ROOT=$sdp qq-mkimage --ssh-pubkey key.pub <facts >/dev/null 2>&1
build_ms=$((($(now) - t0) / 1000000))
hit() { QNX_ROOT=$sdp qq-mkimage --ssh-pubkey key.pub <facts 2>/dev/null; }
hit_ms=$(median : hit)
QNX_ROOT=$sdp qq-mkimage --ssh-pubkey key.pub <facts 2>&1 >/dev/null | grep -q "not run" ||
	{ echo "bench: the mkqnximage cache did not hit" >&2; exit 1; }
# The inherited route (issue 9): qnxsdp-env.sh sourced by the user, mkqnximage found on PATH.
inherited() {
	QNX_HOST=$sdp/host/linux/x86_64 QNX_TARGET=$sdp/target/qnx \
	    PATH="$sdp/host/linux/x86_64/usr/bin:$sdp/host/common/bin:$PATH" "$@"
}
inherited qq-mkimage --ssh-pubkey key.pub <facts >/dev/null 2>&1
ehit() { inherited qq-mkimage --ssh-pubkey key.pub <facts 2>/dev/null; }
ehit_ms=$(median : ehit)
inherited qq-mkimage --ssh-pubkey key.pub <facts 2>&1 >/dev/null | grep -q "not run" ||
	{ echo "bench: the inherited-route cache did not hit" >&2; exit 1; }
# 500 MB staged: a guest of 2G holds the unpacked initramfs (1G would be refused).
ihit() { qq-mkimage --builder initramfs --base base --ram 2G --ssh-pubkey key.pub <facts 2>/dev/null; }
qq-mkimage --builder initramfs --base base --ram 2G --ssh-pubkey key.pub <facts >/dev/null 2>&1
ihit_ms=$(median : ihit)

printf '| measurement | ms (median of %s) |\n|---|---|\n' "$runs"
printf '| cp -a (cold copy) | %s |\n| qq-stage, cold (fresh workspace) | %s |\n' "$cp_ms" "$cold_ms"
printf '| rsync -a, nothing changed | %s |\n| qq-stage, nothing changed | %s |\n' "$rsync_ms" "$nochange_ms"
printf '| qq-mkimage mkqnximage, first build (stand-in SDP, hashes 500 MB) | %s (one run) |\n' "$build_ms"
printf '| qq-mkimage mkqnximage, cache hit | %s |\n| qq-mkimage initramfs, cache hit | %s |\n' "$hit_ms" "$ihit_ms"
printf '| qq-mkimage mkqnximage, cache hit, inherited SDP environment | %s |\n' "$ehit_ms"
awk -v c="$cold_ms" -v p="$cp_ms" -v n="$nochange_ms" -v r="$rsync_ms" 'BEGIN {
	printf "cold stage / cp -a = %.2f (target <= 1.10); no-change stage / rsync = %.2f (target <= 0.50)\n", c / p, n / r }'
cd /
rm -rf "$dir"
