#!/bin/sh
# exec-cargo.sh: the README's cargo recipe, target.<triple>.runner = qq-exec, on a real
# x86_64 guest: cargo runs each test binary as RUNNER BINARY ARGS ("executables for the
# target <triple> will be executed by invoking the specified runner with the actual
# executable passed as an argument", doc.rust-lang.org/cargo/reference/config.html,
# target.<triple>.runner). The host's own triple stands in for QNX's (the guest is Linux),
# binaries static (crt-static: the guest has no C library). No dependencies: offline.
# rustup's cargo finds its toolchains under the real HOME (lib.sh makes a private one).
rustup_home=${RUSTUP_HOME:-${HOME:-/nonexistent}/.rustup}
. "$QQ_SRCDIR/tests/e2e/lib.sh"
need cargo cc
[ ! -d "$rustup_home" ] || export RUSTUP_HOME="$rustup_home"
triple=x86_64-unknown-linux-gnu
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the host is not x86_64"; exit 77; }
# The guest runs OpenSSH (QNX 8's sshd): the recipe is what is tested here, not the
# stand-in dropbear's concurrent-session bug (mkj/dropbear#321).
base x86_64 openssh
ws=$T/ws
c=$T/crate
mkdir -p "$c/src" "$c/tests"
export CARGO_HOME="$T/cargo-home" CARGO_TARGET_DIR="$T/target"
cat >"$c/Cargo.toml" <<'TOML'
[package]
name = "qqcargo"
version = "0.1.0"
edition = "2018"
TOML
echo 'pub fn add(a: i32, b: i32) -> i32 { a + b }' >"$c/src/lib.rs"
# One binary per test: a crash ends its whole binary.
echo '#[test] fn pass() { assert_eq!(qqcargo::add(2, 3), 5); }' >"$c/tests/pass.rs"
echo '#[test] fn fail() { assert_eq!(qqcargo::add(2, 2), 5, "this test wants 5"); }' \
	>"$c/tests/fail.rs"
echo '#[test] fn crash() { std::process::abort(); }' >"$c/tests/crash.rs"
cat >"$c/tests/where.rs" <<'RS'
#[test]
fn where_() {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    println!("boot_id {}", id.trim());
}
RS

# cargo_test OUT: every test binary, not stopping at the first failure; "name status" per
# binary into OUT.res from cargo's own report: its "(exit status: N)" or "(signal: N, ...)",
# else "failed" where it only says "test failed" (cargo 1.7x does for libtest's 101), else 0.
cargo_test() {
	(cd "$c" && RUSTFLAGS="-C target-feature=+crt-static" cargo test --offline \
		--target "$triple" --no-fail-fast -- --nocapture) </dev/null >"$1" 2>&1
	for t in pass fail crash where; do
		grep -q "Running tests/$t.rs" "$1" || { echo "$t none"; continue; }
		st=$(sed -n "s/.*didn't exit successfully: .*deps\/$t-[0-9a-f]*[^(]*(\([a-z ]*: [0-9]*\).*/\1/p" \
			"$1" | head -n 1)
		[ -n "$st" ] || ! grep -q "test failed, to rerun pass .--test $t." "$1" || st=failed
		echo "$t ${st:-0}"
	done >"$1.res"
}

# The reference: run on the host.
cargo_test "$T/native"
checks=$((checks + 1))
grep -qx 'pass 0' "$T/native.res" && grep -qx 'crash signal: 6' "$T/native.res" &&
	grep -qx 'where 0' "$T/native.res" && grep -Eqx 'fail (failed|exit status: 101)' "$T/native.res" ||
	fail "native cargo test: $(cat "$T/native.res") $(tail -n 30 "$T/native")"

boot_x86_64 "$ws"

# The recipe: the runner line in .cargo/config.toml.
mkdir -p "$c/.cargo"
cat >"$c/.cargo/config.toml" <<TOML
[target.$triple]
runner = ["qq-exec", "--workspace", "$ws"]
TOML
n0=$(dropbear_aborts "$ws")
cargo_test "$T/guest"
if ! cmp -s "$T/native.res" "$T/guest.res" && [ "$(dropbear_aborts "$ws")" -gt "$n0" ]; then
	echo "NOTE: the guest's dropbear aborted the connection (mkj/dropbear#321): cargo again"
	cargo_test "$T/guest"
fi
checks=$((checks + 1))
diff -u "$T/native.res" "$T/guest.res" >"$T/diff" ||
	fail "cargo test through qq-exec differs from the host's: $(cat "$T/diff") $(tail -n 30 "$T/guest")"
# Through qq-exec (cargo names the runner of the crashed binary), the failing test's message
# streamed back.
checks=$((checks + 1))
grep -q "qq-exec --workspace $ws .*deps/crash-" "$T/guest" && grep -q "this test wants 5" "$T/guest" ||
	fail "cargo's report: $(tail -n 30 "$T/guest")"
# In the guest: the boot id the test printed is the guest's, not the host's.
checks=$((checks + 1))
got=$(sed -n 's/^boot_id //p' "$T/guest" | head -n 1)
host_id=$(cat /proc/sys/kernel/random/boot_id)
[ -n "$guest_id" ] && [ "$got" = "$guest_id" ] && [ "$got" != "$host_id" ] ||
	fail "tests/where.rs printed boot id '$got'; the guest's is '$guest_id', the host's '$host_id'"

expect 0 qq-run stop --workspace "$ws"
finish
