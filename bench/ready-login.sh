#!/bin/sh
# ready-login.sh: boot to the first successful command. (a) qq-run -d --wait-ssh, then one ssh
# true with the pinned host key; (b) the same QEMU argv started by hand, then the loop a user
# writes: ssh -o ConnectTimeout=1 ... true, again 200 ms after each failure. Same guest, same
# accelerator (TCG), alternated run by run. GUEST static: the base guest as built; dhcp: its
# address comes by DHCP 2 s after sshd starts (qq.net=dhcp qq.netdelay=2).
# usage: QQ_BUILDDIR=/path/to/build sh bench/ready-login.sh [RUNS] [ARCH] [static|dhcp]
set -eu
runs=${1:-5}
arch=${2:-x86_64}
variant=${3:-static}
. "$(dirname "$0")/guest.sh"
append=$(cat "$base/append")
[ "$variant" = static ] || append="$append qq.net=dhcp qq.netdelay=2"
port_of() { sed -n 's/^ssh_port=//p' "$1"; }
# login KNOWN_HOSTS [OPTIONS]: ssh true into the guest on $port with the bench's key.
login() {
	kh=$1
	shift
	ssh -n -p "$port" -i "$t/key" -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=QUIET \
	    -o UserKnownHostsFile="$kh" -o HostKeyAlias=qq-guest "$@" root@127.0.0.1 true
}

# A first run builds the image; the runs measured below all find it up to date.
qq-run -d --wait-ssh --ssh-port 0 --append "$append" "$t/hello" </dev/null >"$t/facts"
qq-run stop --workspace "$t/ws" </dev/null >/dev/null
i=0
while [ "$i" -lt "$runs" ]; do
	a=$(now)
	qq-run -d --wait-ssh --ssh-port 0 --append "$append" "$t/hello" </dev/null >"$t/facts" 2>"$t/err"
	port=$(port_of "$t/facts")
	login "$t/ws/known_hosts" -o StrictHostKeyChecking=yes ||
		{ echo "ready-login: ssh true failed right after --wait-ssh" >&2; exit 1; }
	b=$(now)
	echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/qq"
	qq-run stop --force --workspace "$t/ws" </dev/null >/dev/null
	# By hand: the same argv on the port (a) got, QEMU started directly, the user's loop.
	qq-run -n -d --ssh-port "$port" --append "$append" "$t/hello" </dev/null 2>/dev/null >"$t/argv"
	rm -f "$t/kh"
	tries=0
	a=$(now)
	xargs <"$t/argv" sh -c 'exec "$@"' qemu
	until login "$t/kh" -o StrictHostKeyChecking=accept-new -o ConnectTimeout=1; do
		tries=$((tries + 1))
		[ "$tries" -lt 1500 ] || { echo "ready-login: no login by hand on $port" >&2; exit 1; }
		sleep 0.2
	done
	b=$(now)
	echo "$a $b" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' >>"$t/hand"
	stop_by_hand
	i=$((i + 1))
done
q=$(median "$t/qq") h=$(median "$t/hand")
echo "arch $arch, guest $variant, $runs runs, medians in ms"
echo "qq-run -d --wait-ssh + ssh true: $q (all: $(tr '\n' ' ' <"$t/qq"))"
echo "by hand + ssh loop (1 s, 200 ms): $h (all: $(tr '\n' ' ' <"$t/hand"))"
echo "$q $h" | awk '{ printf "difference: %+.1f ms = %+.1f%%\n", $1 - $2, ($1 - $2) * 100 / $2 }'
