#!/bin/sh
# exec.sh RUNS ARCH [SSHD]: qq-exec's cost per call and for a first copy, against plain ssh and
# scp over the same ControlMaster (QQ_BUILDDIR set; not part of make check). SSHD: dropbear
# (the base guest's default) or openssh (booted with qq.sshd=openssh: QNX 8's sshd).
# (a) `qq-exec ./true` (a static true already in the guest) against `ssh -o ControlPath=... true`
#     and against ssh running that stored binary; RUNS each, alternating, median in ms.
# (b) the first call of a 10 MB static binary (copy + run) against scp of the same file over the
#     master followed by a warm call; 5 runs, each binary with new bytes so it is never cached.
runs=${1:-100}
arch=${2:-x86_64}
sshd=${3:-dropbear}
case $sshd in
dropbear | openssh) ;;
*) echo "exec.sh: unknown SSHD '$sshd' (want dropbear or openssh)" >&2; exit 2 ;;
esac
. "$(dirname "$0")/guest.sh"
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }

printf 'int main(void) { return 0; }\n' >"$t/true.c"
"$cc" -static -O2 -o "$t/true" "$t/true.c"
[ "$sshd" = dropbear ] || QNX_QEMU_BASE=$base/$sshd
qq-run -d --wait-ssh --ssh-port 0 "$t/hello" </dev/null >/dev/null 2>&1 || { echo "boot failed"; exit 1; }
grep -q "$([ "$sshd" = openssh ] && echo 'Server listening on' || echo 'Child connection from')" \
	"$t/ws/serial.log" || { echo "the guest does not run $sshd"; exit 1; }
qq-exec "$t/true" </dev/null || { echo "qq-exec failed"; exit 1; }
port=$(sed -n 's/^ssh_port=//p' "$t/ws/guest")
set -- ssh -p "$port" -i "$t/key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$t/ws/known_hosts" \
	-o HostKeyAlias=qq-guest -o BatchMode=yes -o ControlPath="$t/ws/ssh.ctl" -T root@127.0.0.1
stored=$(qq-exec -v --env X=1 "$t/true" 2>&1 >/dev/null; "$@" "ls -d /data/qq-exec/*/true" </dev/null)
: >"$t/qq"; : >"$t/ssh"; : >"$t/sshbin"
i=0
while [ "$i" -lt "$runs" ]; do
	a=$(now); qq-exec "$t/true" </dev/null; b=$(now); ms "$a" "$b" >>"$t/qq"
	a=$(now); "$@" true </dev/null; b=$(now); ms "$a" "$b" >>"$t/ssh"
	a=$(now); "$@" "$stored" </dev/null; b=$(now); ms "$a" "$b" >>"$t/sshbin"
	i=$((i + 1))
done
echo "$arch, $sshd, load $(uptime | sed 's/.*average: //')"
echo "per call ($runs runs, median ms): qq-exec true $(median "$t/qq"); ssh true $(median "$t/ssh"); ssh $stored $(median "$t/sshbin")"

: >"$t/first"; : >"$t/scp"; : >"$t/warm"
i=0
while [ "$i" -lt 5 ]; do
	cp "$t/true" "$t/big$i"
	head -c 10485760 /dev/urandom >>"$t/big$i"	# trailing bytes: still a valid ELF
	a=$(now); qq-exec "$t/big$i" </dev/null; b=$(now); ms "$a" "$b" >>"$t/first"
	a=$(now); qq-exec "$t/big$i" </dev/null; b=$(now); ms "$a" "$b" >>"$t/warm"
	a=$(now); scp -q -P "$port" -i "$t/key" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$t/ws/known_hosts" -o HostKeyAlias=qq-guest \
		-o ControlPath="$t/ws/ssh.ctl" "$t/big$i" "root@127.0.0.1:/tmp/big$i" </dev/null
	b=$(now); ms "$a" "$b" >>"$t/scp"
	i=$((i + 1))
done
echo "10 MB first call (5 runs, median ms): qq-exec $(median "$t/first") (a warm call of it $(median "$t/warm")); scp over the master $(median "$t/scp")"
