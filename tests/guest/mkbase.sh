#!/bin/sh
# Build qq's small Linux test guest (vmlinuz, initrd.img, append) from Debian packages only.
set -eu

usage() {
	echo 'usage: mkbase.sh [-f] x86_64|aarch64 OUTDIR' >&2
	exit 2
}
die() {
	printf 'mkbase: %s\n' "$*" >&2
	exit 1
}

force=0
while getopts f opt; do
	case $opt in
	f) force=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
arch=$1
out=$2

case $arch in
x86_64)
	debarch=amd64 triplet=x86_64-linux-gnu console=ttyS0
	kmeta=linux-image-cloud-amd64
	modules='virtio_pci virtio_net button evdev virtio_rng'
	;;
aarch64)
	# The arm64 cloud kernel lacks gpio_keys, which carries the virt machine's power button.
	debarch=arm64 triplet=aarch64-linux-gnu console=ttyAMA0
	kmeta=linux-image-arm64
	modules='virtio_pci virtio_mmio virtio_net gpio_keys evdev virtio_rng'
	;;
*) die "unknown ARCH '$arch' (want x86_64 or aarch64)" ;;
esac
userpkgs='busybox-static dropbear-bin openssh-sftp-server libc6 libcrypt1 libtomcrypt1 libtommath1 libgmp10 zlib1g'
# OpenSSH's sshd (qq.sshd=openssh: QNX 8's sshd is OpenSSH) and the packages its NEEDED closure
# lies in (Debian 12's sshd links libwrap, libaudit, libpam, libsystemd, libselinux, GSSAPI/krb5
# and libcrypto: readelf -d usr/sbin/sshd). apt-get download fetches no dependencies, so the
# closure is listed by hand; the loop below dies naming any library it cannot find.
userpkgs="$userpkgs openssh-server libwrap0 libnsl2 libtirpc3 libaudit1 libcap-ng0 libpam0g"
userpkgs="$userpkgs libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1"
userpkgs="$userpkgs libselinux1 libpcre2-8-0 libgssapi-krb5-2 libkrb5-3 libk5crypto3"
userpkgs="$userpkgs libkrb5support0 libkeyutils1 libcom-err2 libssl3"

need() {
	command -v "$1" >/dev/null 2>&1 || die "needs $1 (Debian package $2)"
}
need apt-get apt
need apt-cache apt
need dpkg-deb dpkg
need readelf binutils
need cpio cpio
need flock util-linux
need gzip gzip
need sha256sum coreutils
need base64 coreutils
need ssh-keygen openssh-client

if [ "$debarch" != "$(dpkg --print-architecture)" ] &&
	! dpkg --print-foreign-architectures | grep -qx "$debarch"; then
	echo "mkbase: dpkg lacks architecture $debarch: run 'dpkg --add-architecture $debarch && apt-get update' as root" >&2
	exit 77
fi

self=$0
[ -f "$self" ] || die "cannot read the script itself ($self)"

while :; do
	case $out in
	?*/) out=${out%/} ;;
	*) break ;;
	esac
done
name=$(basename -- "$out")
parent=$(dirname -- "$out")
case $name in
/ | . | ..) die "unusable OUTDIR '$out'" ;;
esac
if [ -e "$out" ] && [ ! -f "$out/stamp" ] && [ -n "$(ls -A -- "$out" 2>/dev/null || echo x)" ]; then
	die "OUTDIR '$out' exists and is not a mkbase output (no stamp); refusing to replace it"
fi
mkdir -p -- "$parent" || die "cannot create $parent"
# Absolute, because the build changes directory.
parent=$(cd -- "$parent" && pwd) || die "cannot enter $parent"
out=$parent/$name
debs=$parent/debs-$arch
mkdir -p -- "$debs" || die "cannot create $debs"

# Leftovers of killed builds (a build takes well under a minute).
find "$parent" -maxdepth 1 -name ".mkbase-$arch.*" -type d -mmin +60 -exec rm -rf {} + 2>/dev/null || :
tmp=$(mktemp -d "$parent/.mkbase-$arch.XXXXXX") || die "cannot create a temporary directory in $parent"
cleanup() {
	chmod -R u+w "$tmp" 2>/dev/null || :
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# apt's own package cache is often disabled (Debian's docker images): keep one beside the .debs,
# which apt revalidates against its lists. As root, apt would download as _apt and warn when
# _apt cannot write the cache directory.
apt_() {
	ap_cmd=$1
	shift
	if [ "$(id -u)" -eq 0 ]; then
		set -- -o APT::Sandbox::User=root "$@"
	fi
	"$ap_cmd" -o "Dir::Cache::pkgcache=$debs/apt-pkgcache.bin" "$@"
}

kpkg=$(apt_ apt-cache depends "$kmeta:$debarch" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[^:<> ]*\).*/\1/p' | head -n 1)
[ -n "$kpkg" ] || die "cannot resolve $kmeta:$debarch to a kernel package (is apt-get update done?)"

pkglist=$kpkg
for p in $userpkgs; do
	pkglist="$pkglist $p"
done
set --
for p in $pkglist; do
	set -- "$@" "$p:$debarch"
done
# Run from an empty directory: apt leaves out packages whose file is already in the current one.
(cd "$tmp" && apt_ apt-get -q download --print-uris "$@") >"$tmp/uris" 2>"$tmp/apt.err" ||
	die "apt-get download --print-uris failed: $(tail -n 1 "$tmp/apt.err")"
# Lines look like: 'URI' FILE SIZE SHA256:HEX
awk '{ h = $4; sub(/^SHA256:/, "", h); print h "  " $2 }' "$tmp/uris" | sort -k 2 >"$tmp/sums"
[ "$(wc -l <"$tmp/sums")" -eq "$#" ] || die "apt-get did not list all of: $pkglist"

key=$({
	cat -- "$self"
	echo "$arch"
	cat "$tmp/sums"
} | sha256sum | cut -d ' ' -f 1)

# One build at a time per parent directory, checked again under the lock: two at once (two
# tests of one arch starting on an empty cache) would each make a new host key, and the
# second's rename would replace the base the first one's guest booted from. The directory
# itself is locked (flock(1) on an fd opened on it), so no lock file is left behind.
exec 9<"$parent" || die "cannot open $parent"
flock 9 || die "cannot lock $parent"
if [ "$force" -eq 0 ] && [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$key" ] &&
	[ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/append" ] &&
	[ -f "$out/host_key.pub" ] && [ -f "$out/openssh/initrd.img" ] && [ -f "$out/openssh/append" ]; then
	echo 'mkbase: up to date' >&2
	exit 0
fi

missing() {
	(cd "$debs" && sha256sum -c --quiet "$tmp/sums" 2>/dev/null) >/dev/null && return 1
	: >"$tmp/get"
	while read -r sum file; do
		if ! [ -f "$debs/$file" ] || ! echo "$sum  $debs/$file" | sha256sum -c --quiet >/dev/null 2>&1; then
			rm -f -- "$debs/$file"
			echo "${file%%_*}:$debarch" >>"$tmp/get"
		fi
	done <"$tmp/sums"
	return 0
}
if missing; then
	# shellcheck disable=SC2046 # package names are single words
	(cd "$debs" && apt_ apt-get -qq download $(cat "$tmp/get")) >"$tmp/apt.out" 2>"$tmp/apt.err" ||
		die "apt-get download failed: $(tail -n 1 "$tmp/apt.err")"
	! missing || die "downloaded packages do not match apt's checksums: $(tr '\n' ' ' <"$tmp/get")"
fi
for f in "$debs"/*.deb; do
	[ -e "$f" ] || continue
	grep -qF "  ${f##*/}" "$tmp/sums" || rm -f -- "$f"
done

pkgs=$tmp/pkgs
kern=$tmp/kernel
root=$tmp/root
mkdir "$pkgs" "$kern" "$root"
while read -r _ file; do
	case $file in
	"${kpkg}_"*) dpkg-deb -x "$debs/$file" "$kern" || die "cannot unpack $file" ;;
	*) dpkg-deb -x "$debs/$file" "$pkgs" || die "cannot unpack $file" ;;
	esac
done <"$tmp/sums"

mkdir -p "$tmp/out"
set -- "$kern"/boot/vmlinuz-*
[ $# -eq 1 ] || die "expected exactly one /boot/vmlinuz-* in $kpkg"
cp "$1" "$tmp/out/vmlinuz"
kver=${1##*/vmlinuz-}
moddir=$kern/lib/modules/$kver
[ -d "$moddir/kernel" ] || die "no modules for $kver in $kpkg"

cd "$root"
mkdir -p bin sbin usr/bin usr/sbin usr/lib/openssh lib/modules etc/dropbear etc/acpi/PWRF \
	dev proc sys tmp run var/log root/.ssh data/home/root/tests
ln -s ../run var/run
chmod 0700 root root/.ssh
chmod 1777 tmp

# One host key per base guest, as mkqnximage makes one per image: a guest that made a new key
# at every boot (dropbear -R) would look to a pinned known_hosts like a changed host. Made by
# OpenSSH and rewritten in dropbear's format, so no dropbear is needed on the build host.
# OpenSSH's unencrypted ed25519 key (PROTOCOL.key, "openssh-key-v1") holds the 64 bytes
# seed||public at offset 161; dropbear reads string "ssh-ed25519", uint32 64, seed, public
# (dropbear ed25519.c, buf_get_ed25519_priv_key).
ssh-keygen -q -t ed25519 -N '' -C qq-guest -f "$tmp/hostkey" </dev/null || die "ssh-keygen failed"
sed '1d;$d' "$tmp/hostkey" | base64 -d >"$tmp/hostkey.bin" || die "cannot decode the host key"
{
	printf '\000\000\000\013ssh-ed25519\000\000\000\100'
	tail -c +162 "$tmp/hostkey.bin" | head -c 64
} >etc/dropbear/dropbear_ed25519_host_key
chmod 0600 etc/dropbear/dropbear_ed25519_host_key
# The public half inside must be the one ssh-keygen printed (the layout is as assumed).
cut -d ' ' -f 2 "$tmp/hostkey.pub" | base64 -d | tail -c 32 >"$tmp/hostkey.pub32"
tail -c 32 etc/dropbear/dropbear_ed25519_host_key | cmp -s - "$tmp/hostkey.pub32" &&
	[ "$(wc -c <etc/dropbear/dropbear_ed25519_host_key)" -eq 83 ] ||
	die "the converted host key does not hold the public key ssh-keygen made"
cp "$tmp/hostkey.pub" "$tmp/out/host_key.pub"

# udhcpc (busybox) hands the lease to this script: $interface, $ip, $mask (prefix bits), $router.
mkdir -p usr/share/udhcpc
cat >usr/share/udhcpc/default.script <<'SCRIPT'
#!/bin/sh
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in $router; do
		ip route add default via "$r"
		break
	done
	echo "qq-guest: dhcp $ip"
	;;
esac
SCRIPT
chmod 0755 usr/share/udhcpc/default.script

# Copies a path from the unpacked packages, following and keeping any symlink chain.
copy_pkg_path() {
	cp_path=$1
	cp_hops=0
	while :; do
		[ -e "$pkgs/$cp_path" ] || [ -L "$pkgs/$cp_path" ] || die "$cp_path is not in the downloaded packages"
		mkdir -p "$(dirname "$cp_path")"
		cp -P "$pkgs/$cp_path" "$cp_path"
		[ -L "$pkgs/$cp_path" ] || return 0
		cp_link=$(readlink "$pkgs/$cp_path")
		case $cp_link in
		/*) cp_path=${cp_link#/} ;;
		*) cp_path=$(dirname "$cp_path")/$cp_link ;;
		esac
		cp_hops=$((cp_hops + 1))
		[ "$cp_hops" -lt 16 ] || die "symlink loop at $1"
	done
}

elfs='bin/busybox usr/sbin/dropbear usr/lib/openssh/sftp-server'
for f in $elfs; do
	copy_pkg_path "$f"
done
ln -s busybox bin/sh
# dropbear's compiled-in sftp-server path
ln -s openssh/sftp-server usr/lib/sftp-server

# closure ELF...: the dynamic loader and the NEEDED closure of each ELF, found where Debian's
# ld.so looks by default (what an earlier call copied is not copied again).
seen=' '
closure() {
	queue=$*
	while [ -n "$queue" ]; do
		elf=${queue%% *}
		case $queue in
		*' '*) queue=${queue#* } ;;
		*) queue= ;;
		esac
		interp=$(readelf -l "$pkgs/$elf" | sed -n 's/.*\[Requesting program interpreter: \/\(.*\)\]$/\1/p')
		[ -z "$interp" ] || copy_pkg_path "$interp"
		for so in $(readelf -d "$pkgs/$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			case $seen in *" $so "*) continue ;; esac
			seen="$seen$so "
			found=
			for d in "lib/$triplet" "usr/lib/$triplet" lib usr/lib; do
				if [ -e "$pkgs/$d/$so" ]; then
					found=$d/$so
					break
				fi
			done
			[ -n "$found" ] || die "$so (needed by $elf) is not in the downloaded packages"
			copy_pkg_path "$found"
			queue="${queue:+$queue }$found"
		done
	done
}
# shellcheck disable=SC2086 # paths without blanks, one word each
closure $elfs

# Kernel modules: name -> file, with '-' folded to '_' as the kernel does.
find "$moddir/kernel" -name '*.ko*' |
	awk -F/ '{ n = $NF; sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); print n "\t" $0 }' >"$tmp/modindex"
awk -F/ '{ n = $NF; sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); print n }' \
	"$moddir/modules.builtin" >"$tmp/builtin"

# busybox insmod cannot load compressed modules, so they are stored decompressed.
install_module() {
	im_src=$(awk -F '\t' -v n="$1" '$1 == n { print $2; exit }' "$tmp/modindex")
	[ -n "$im_src" ] || die "kernel module $1 is neither built in nor in $kpkg"
	case $im_src in
	*.ko) cp "$im_src" "lib/modules/$1.ko" ;;
	*.ko.xz) need xz xz-utils && xz -dc "$im_src" >"lib/modules/$1.ko" ;;
	*.ko.zst) need zstd zstd && zstd -qdc "$im_src" >"lib/modules/$1.ko" ;;
	*.ko.gz) gzip -dc "$im_src" >"lib/modules/$1.ko" ;;
	*) die "unknown module format: $im_src" ;;
	esac || die "cannot install module $1"
}
load_order=
add_module() {
	case " $load_order " in *" $1 "*) return 0 ;; esac
	! grep -qx "$1" "$tmp/builtin" || return 0
	install_module "$1"
	# The depends list is expanded before the loop runs, so recursion cannot disturb it.
	for am_dep in $(readelf -p .modinfo "lib/modules/$1.ko" |
		sed -n 's/^ *\[ *[0-9a-f]*\]  depends=//p' | tr ',' ' '); do
		add_module "$am_dep"
	done
	case " $load_order " in *" $1 "*) ;; *) load_order="${load_order:+$load_order }$1" ;; esac
}
for m in $modules; do
	add_module "$(echo "$m" | tr - _)"
done

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
EOF
cat >etc/group <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
echo /bin/sh >etc/shells
cat >etc/nsswitch.conf <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
EOF
cat >etc/hosts <<'EOF'
127.0.0.1 localhost
10.0.2.15 qq-guest
EOF
echo 'nameserver 10.0.2.3' >etc/resolv.conf
echo qq-guest >etc/hostname
# busybox init: no respawned getty; a shell on the console once Enter is pressed (foreground use).
cat >etc/inittab <<'EOF'
::askfirst:-/bin/sh
::shutdown:/bin/sync
EOF
# busybox acpid turns the power button (ACPI button / gpio-keys KEY_POWER) into PWRF/00000080.
cat >etc/acpi/PWRF/00000080 <<'EOF'
#!/bin/sh
sync
exec poweroff -f
EOF
chmod 0755 etc/acpi/PWRF/00000080

cat >init <<'EOF'
#!/bin/sh
# qq base guest init, written by tests/guest/mkbase.sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The initramfs holds no /dev/console node (making one needs mknod), so stdio starts here.
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# A reader blocked on /dev/random makes the kernel gather entropy now, so dropbear does not wait.
dd if=/dev/random of=/dev/null bs=1 count=1 2>/dev/null &
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
for m in @MODULES@; do
	insmod "/lib/modules/$m.ko" || echo "qq-guest: insmod $m failed"
done
hostname -F /etc/hostname
ip link set lo up
# qq.net=dhcp on the kernel command line: the address comes by DHCP qq.netdelay seconds after
# sshd starts, as on a QNX image built with mkqnximage's default --ip=dhcp; else a static one.
# qq.sshd=openssh: OpenSSH's sshd (QNX 8's) serves port 22; else dropbear.
net=static
delay=0
sshd=dropbear
for w in $(cat /proc/cmdline); do
	case $w in
	qq.net=*) net=${w#qq.net=} ;;
	qq.netdelay=*) delay=${w#qq.netdelay=} ;;
	qq.sshd=*) sshd=${w#qq.sshd=} ;;
	esac
done
if [ "$net" != dhcp ]; then
	ip addr add 10.0.2.15/24 dev eth0
	ip link set eth0 up
	ip route add default via 10.0.2.2
fi
acpid
spid=
if [ "$sshd" = openssh ] && [ ! -x /usr/sbin/sshd ]; then
	echo "qq-guest: qq.sshd=openssh, but this initrd has no sshd (boot the base's openssh/): dropbear runs"
	sshd=dropbear
fi
case $sshd in
openssh)
	# sshd re-executes itself for every connection, which needs an absolute path ("sshd
	# re-exec requires execution with an absolute path", openssh-portable sshd.c). -D -e: it
	# stays in the foreground of this background job, its log on the console as dropbear's
	# is (a daemonized sshd's -e log goes to /dev/null). Each session's shell is still made
	# a session leader (session.c, do_exec_no_pty: setsid()). A bad configuration, host key
	# or privsep directory ends it at once, with its reason on the console (sshd -t checks
	# the same before it listens; sshd(8)).
	/usr/sbin/sshd -D -e &
	spid=$!
	;;
*)
	[ "$sshd" = dropbear ] || echo "qq-guest: unknown qq.sshd=$sshd, dropbear runs"
	# dropbear's compiled-in limits stay: at most 5 unauthenticated connections per source
	# address. -E: its log goes to the console, so tests can count the connections that
	# reached it.
	dropbear -E -r /etc/dropbear/dropbear_ed25519_host_key -s -p 22
	;;
esac
if [ "$net" = dhcp ]; then
	(
		sleep "$delay"
		ip link set eth0 up
		udhcpc -i eth0 -s /usr/share/udhcpc/default.script -f -q -n -t 20 -T 1 >/dev/null 2>&1 ||
			echo "qq-guest: udhcpc failed"
	) &
fi
# dropbear forks before it listens, sshd loads its keys first: announce readiness only once
# port 22 is open, and never while it is not (an sshd that died says so instead).
listening() {
	awk '$2 ~ /:0016$/ && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6
}
i=0
while [ $i -lt 1200 ] && ! listening; do
	if [ -n "$spid" ] && ! kill -0 "$spid" 2>/dev/null; then
		break
	fi
	sleep 0.05
	i=$((i + 1))
done
if listening; then
	echo 'qq-guest: ready'
else
	echo "qq-guest: $sshd is not listening on port 22"
fi
exec /sbin/init
EOF
sed -i "s/@MODULES@/$load_order/" init
chmod 0755 init

# The base ends here: what follows is OpenSSH's sshd, in an archive of its own.
find . | LC_ALL=C sort >"$tmp/base.list"

# OpenSSH's sshd (qq.sshd=openssh: QNX 8's sshd), in OUTDIR/openssh/initrd.img only, which holds
# the base's files and these. Its 5 MB (libcrypto, krb5, libsystemd...) would cost every boot of
# the dropbear default 0.4-1.4 s on x86_64 under TCG (bench/base-boot.sh, bench/RESULTS.md).
mkdir -p etc/ssh run/sshd
# The same key for OpenSSH, as ssh-keygen wrote it: the pin matches whichever sshd runs.
cp "$tmp/hostkey" etc/ssh/ssh_host_ed25519_key
cp "$tmp/hostkey.pub" etc/ssh/ssh_host_ed25519_key.pub
chmod 0600 etc/ssh/ssh_host_ed25519_key

# OpenSSH 9.2's sshd_config(5), the least that runs in this root (every other keyword keeps its
# compiled-in default, MaxStartups 10:30:100 among them):
# - UsePAM no: there are no PAM modules here (Debian's shipped sshd_config says yes).
# - PermitRootLogin prohibit-password (the default, written out): root logs in by key only.
# - UseDNS no (the default, written out): no reverse lookup of 10.0.2.2 per connection.
# - Subsystem sftp: the sftp-server dropbear uses too (sftp, and scp since OpenSSH 9.0).
# - HostKey: the key above; no other is looked for.
# The privilege separation user (sshd, as Debian's, home /run/sshd) and its chroot directory
# /run/sshd must exist, owned by root and not writable by others, or sshd exits "Missing
# privilege separation directory: /run/sshd" (openssh-portable README.privsep and sshd.c;
# Debian's ssh.service makes it with RuntimeDirectory=sshd, which no systemd does here: seen in
# dracut-sshd issue #18 and systemd/mkosi pull request #2025).
cat >etc/ssh/sshd_config <<'EOF'
# qq base guest sshd_config (OpenSSH), written by tests/guest/mkbase.sh
HostKey /etc/ssh/ssh_host_ed25519_key
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
copy_pkg_path usr/sbin/sshd
closure usr/sbin/sshd

find . -exec touch -h -d @0 {} +
# Each initrd is one gzip member with nothing after it: qq-mkimage reads what it unpacks to from
# gzip's last 4 bytes (ISIZE, RFC 1952) for its RAM check, and pads to 4 bytes itself before it
# appends the staged files (zero padding here would be read as ISIZE: seen, 0 for 6.9 MB).
cpio -o -H newc -R 0:0 --reproducible --quiet <"$tmp/base.list" | gzip -9n >"$tmp/out/initrd.img" ||
	die "cannot write the initrd"
mkdir "$tmp/out/openssh"
find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet |
	gzip -9n >"$tmp/out/openssh/initrd.img" || die "cannot write the OpenSSH initrd"
ln -s ../vmlinuz "$tmp/out/openssh/vmlinuz"
ln -s ../host_key.pub "$tmp/out/openssh/host_key.pub"
# no_timer_check: on a loaded host a TCG guest can fail the kernel's IO-APIC timer check and
# panic ("IO-APIC + timer doesn't work!", seen here with two make checks at once).
case $arch in
x86_64) echo "console=$console quiet no_timer_check" >"$tmp/out/append" ;;
*) echo "console=$console quiet" >"$tmp/out/append" ;;
esac
echo "$(cat "$tmp/out/append") qq.sshd=openssh" >"$tmp/out/openssh/append"
echo "$key" >"$tmp/out/stamp"

cd /
if [ -e "$out" ]; then
	mv -- "$out" "$tmp/old" || die "cannot move the old $out aside"
fi
mv -- "$tmp/out" "$out" || die "cannot move the new guest into $out"
echo "mkbase: built $out ($kpkg, initrd $(wc -c <"$out/initrd.img") bytes)" >&2
