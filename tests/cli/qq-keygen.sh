#!/bin/sh
# qq-keygen.sh: the search order, creation without overwriting, every rejected key, in a private HOME.
. "$QQ_SRCDIR/tests/lib.sh"

command -v ssh-keygen >/dev/null || { echo "SKIP: ssh-keygen (openssh-client) not installed"; exit 77; }
PUB='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPWxqsiSYg7MBmbi2dL1YAFLofz me@host'
RSA='ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7 other@host'

# pair DIR NAME LINE [MODE]: a fake key pair.
pair() {
	mkdir -p "$1"
	printf 'private\n' >"$1/$2"
	chmod "${4:-600}" "$1/$2"
	printf '%s\n' "$3" >"$1/$2.pub"
}

expect 0 qq-keygen -h && out_has "usage: qq-keygen [-hV] [--ssh-key path]"
expect 0 qq-keygen -V && out_has "qq-keygen 0.1.0"
expect 2 qq-keygen --nope && err_has "usage: qq-keygen"
expect 2 qq-keygen operand && err_has "usage: qq-keygen"

# No key at all: ssh-keygen makes ~/.ssh (0700) and id_ed25519 (0600).
expect 0 qq-keygen
out_has "ssh_key=$HOME/.ssh/id_ed25519"
out_has "ssh_pubkey=$(cat "$HOME/.ssh/id_ed25519.pub")"
[ "$(stat -c %a "$HOME/.ssh")" = 700 ] || fail "HOME/.ssh is $(stat -c %a "$HOME/.ssh"), not 700"
[ "$(stat -c %a "$HOME/.ssh/id_ed25519")" = 600 ] || fail "key mode $(stat -c %a "$HOME/.ssh/id_ed25519")"
grep -q '^ssh-ed25519 AAAA' "$HOME/.ssh/id_ed25519.pub" || fail "not an ed25519 key"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "expected two facts: $(cat "$T/out")"
# Run again: the same key, nothing rewritten.
sum=$(cksum "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519.pub")
cp "$T/out" first
expect 0 qq-keygen && out_is first
[ "$(cksum "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519.pub")" = "$sum" ] || fail "key rewritten"
rm -rf "$HOME/.ssh"

# The seed's order: id_ed25519.pub before id_rsa.pub.
pair "$HOME/.ssh" id_rsa "$RSA"
expect 0 qq-keygen && out_has "ssh_key=$HOME/.ssh/id_rsa" && out_has "ssh_pubkey=$RSA"
pair "$HOME/.ssh" id_ed25519 "$PUB"
expect 0 qq-keygen && out_has "ssh_key=$HOME/.ssh/id_ed25519" && out_has "ssh_pubkey=$PUB"

# Facts pass through; ssh_key and ssh_pubkey are replaced.
printf 'arch=aarch64\nssh_pubkey=old\nstage=x\n' >in
expect_in 0 in qq-keygen
printf 'arch=aarch64\nstage=x\nssh_key=%s\nssh_pubkey=%s\n' "$HOME/.ssh/id_ed25519" "$PUB" >want
out_is want

# --ssh-key / QNX_QEMU_SSH_KEY / fact, naming either half; relative paths made absolute.
pair "$T/keys" my "$RSA"
expect 0 qq-keygen --ssh-key keys/my && out_has "ssh_key=$T/keys/my" && out_has "ssh_pubkey=$RSA"
expect 0 qq-keygen --ssh-key "$T/keys/my.pub" && out_has "ssh_key=$T/keys/my"
expect 0 env QNX_QEMU_SSH_KEY="$T/keys/my.pub" qq-keygen && out_has "ssh_key=$T/keys/my"
printf 'ssh_key=%s\n' "$T/keys/my" >in
expect_in 0 in qq-keygen && out_has "ssh_pubkey=$RSA"
mkdir -p "$HOME/k2" && pair "$HOME/k2" k "$PUB"
# shellcheck disable=SC2088 # the tilde is for qq-keygen to expand
expect 0 env QNX_QEMU_SSH_KEY="~/k2/k" qq-keygen && out_has "ssh_key=$HOME/k2/k"

# Rejected keys: one line, exit 3, nothing created or changed.
pair "$T/bad" open "$PUB" 644
expect 3 qq-keygen --ssh-key "$T/bad/open" && err_lines 1 &&
	err_has "qq-keygen: private key $T/bad/open is open to group or others (mode 0644)"
pair "$T/bad" grp "$PUB" 640
expect 3 qq-keygen --ssh-key "$T/bad/grp.pub" && err_has "(mode 0640)"
printf '%s\n' "$PUB" >"$T/bad/lonely.pub"
expect 3 qq-keygen --ssh-key "$T/bad/lonely.pub" && err_lines 1 &&
	err_has "qq-keygen: $T/bad/lonely.pub has no usable private half: unable to read $T/bad/lonely: No such file or directory"
expect 3 qq-keygen --ssh-key "$T/bad/none" &&
	err_has "qq-keygen: unable to read $T/bad/none.pub: No such file or directory"
pair "$T/bad" empty "" && : >"$T/bad/empty.pub"
expect 3 qq-keygen --ssh-key "$T/bad/empty" && err_has "$T/bad/empty.pub is empty: expected one public key line"
pair "$T/bad" two "$PUB" && printf '%s\n%s\n' "$PUB" "$RSA" >"$T/bad/two.pub"
expect 3 qq-keygen --ssh-key "$T/bad/two" && err_has "$T/bad/two.pub holds more than one line"
pair "$T/bad" junk "hello world"
expect 3 qq-keygen --ssh-key "$T/bad/junk" && err_has "$T/bad/junk.pub is not an OpenSSH public key"
mkdir -p "$T/bad/dir.pub" && printf 'k\n' >"$T/bad/dir" && chmod 600 "$T/bad/dir"
expect 3 qq-keygen --ssh-key "$T/bad/dir.pub" && err_has "unable to read $T/bad/dir.pub: not a regular file"
pair "$T/bad" unreadable "$PUB" && chmod 000 "$T/bad/unreadable.pub"
if ! cat "$T/bad/unreadable.pub" >/dev/null 2>&1; then	# root reads anything
	expect 3 qq-keygen --ssh-key "$T/bad/unreadable" &&
		err_has "unable to read $T/bad/unreadable.pub: Permission denied"
fi
expect 3 qq-keygen --ssh-key '' && err_has 'qq-keygen: bad --ssh-key "": expected a file path' && err_lines 1
expect 3 env QNX_QEMU_SSH_KEY="$T/bad/none" qq-keygen && err_has "unable to read $T/bad/none.pub"

# A default .pub without its private half is an error, not a reason to make another key.
rm -rf "$HOME/.ssh" && mkdir -p "$HOME/.ssh" && printf '%s\n' "$PUB" >"$HOME/.ssh/id_ed25519.pub"
expect 3 qq-keygen && err_has "$HOME/.ssh/id_ed25519.pub has no usable private half"
[ -e "$HOME/.ssh/id_ed25519" ] && fail "a private key appeared"
# A private key without its .pub is never overwritten.
rm -rf "$HOME/.ssh" && mkdir -p "$HOME/.ssh" && printf 'mine\n' >"$HOME/.ssh/id_ed25519"
expect 3 qq-keygen && err_has "$HOME/.ssh/id_ed25519 exists without $HOME/.ssh/id_ed25519.pub; not overwriting it"
[ "$(cat "$HOME/.ssh/id_ed25519")" = mine ] || fail "the user's key was overwritten"
[ -e "$HOME/.ssh/id_ed25519.pub" ] && fail "a public key appeared"

# ssh-keygen missing (127) or failing (4).
rm -rf "$HOME/.ssh"
mkdir -p empty fakebin
printf '#!/bin/sh\necho "ssh-keygen: no entropy" >&2\nexit 1\n' >fakebin/ssh-keygen
chmod +x fakebin/ssh-keygen
expect 127 env PATH="$T/empty" "$QQ_BUILDDIR/bin/qq-keygen" && err_has "qq-keygen: unable to find ssh-keygen"
expect 4 env PATH="$T/fakebin" "$QQ_BUILDDIR/bin/qq-keygen" &&
	err_has "qq-keygen: unable to create $HOME/.ssh/id_ed25519: ssh-keygen exited 1: ssh-keygen: no entropy"
expect 3 env -u HOME qq-keygen && err_has "HOME is not set"

# A key with a passphrase and no agent: usable by a person, not by a batch login; one warning.
mkdir -p "$T/locked"
ssh-keygen -q -t ed25519 -N 'secret words' -C '' -f "$T/locked/id" </dev/null
expect 0 env -u SSH_AUTH_SOCK qq-keygen --ssh-key "$T/locked/id"
out_has "ssh_key=$T/locked/id"
err_has "qq-keygen: warning: $T/locked/id has a passphrase and no ssh-agent holds it"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line of warning: $(cat "$T/err")"
# The same key held by an agent: nothing to say.
if command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null; then
	eval "$(ssh-agent -s)" >/dev/null
	echo 'secret words' >"$T/pass"
	printf '#!/bin/sh\ncat "%s"\n' "$T/pass" >"$T/askpass"
	chmod 700 "$T/askpass"
	SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force ssh-add "$T/locked/id" </dev/null 2>/dev/null ||
		fail "ssh-add could not load the test key"
	expect 0 qq-keygen --ssh-key "$T/locked/id"
	[ ! -s "$T/err" ] || fail "a key the agent holds was warned about: $(cat "$T/err")"
	ssh-agent -k >/dev/null
fi
# Without a passphrase: nothing to say either.
ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/locked/open" </dev/null
expect 0 env -u SSH_AUTH_SOCK qq-keygen --ssh-key "$T/locked/open"
[ ! -s "$T/err" ] || fail "a key without a passphrase was warned about: $(cat "$T/err")"

finish
