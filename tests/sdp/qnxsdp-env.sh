# qnxsdp-env.sh: a stand-in for the QNX SDP 8 environment script (tests only; see README).
# Like the real one it refuses shells other than bash and zsh, and sets QNX_HOST,
# QNX_TARGET and PATH relative to where it is installed.
if [ -z "${BASH_VERSION:-}" ] && [ -z "${ZSH_VERSION:-}" ]; then
	echo "This script can be sourced only from bash or zsh"
	return 1 2>/dev/null || exit 1
fi
QNX_BASE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QNX_HOST="$QNX_BASE/host/linux/$(uname -m)"
QNX_TARGET="$QNX_BASE/target/qnx"
PATH="$QNX_HOST/usr/bin:$PATH"
export QNX_BASE QNX_HOST QNX_TARGET PATH
echo "QNX_HOST=$QNX_HOST"
echo "QNX_TARGET=$QNX_TARGET"
