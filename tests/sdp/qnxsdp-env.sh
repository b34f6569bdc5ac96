# qnxsdp-env.sh: a stand-in for QNX SDP 8.0's environment script (tests only; see README).
# Modelled on a copy of the real 8.0 script found in a public tree: it demands bash or
# zsh ("This script can be sourced only from bash or zsh"), refuses to be run instead
# of sourced, sets QNX_HOST=$QNX_BASE/host/linux/x86_64 on Linux, QNX_TARGET=
# $QNX_BASE/target/qnx, QNX_CONFIGURATION(_EXCLUSIVE)=$HOME/.qnx and
# PATH=$QNX_HOST/usr/bin:$QNX_CONFIGURATION/bin:$QNX_BASE/jre/bin:$QNX_BASE/host/common/bin:$PATH.
# The real installer writes QNX_BASE as an absolute path; the stand-in is copied
# around by the tests, so it finds its own directory instead.
if [ -n "$BASH_VERSION" ]; then
	SCRIPT_SOURCE=${BASH_SOURCE[0]}
elif [ -n "$ZSH_VERSION" ]; then
	SCRIPT_SOURCE=$(eval 'printf "%s" "${(%):-%N}"')
else
	echo "This script can be sourced only from bash or zsh"
	return 1 2>/dev/null || exit 1
fi

test "$SCRIPT_SOURCE" = "$0" && echo "Script is being run, should be sourced" && exit 1

HOST_OS=$(uname -s)
QNX_BASE=$(cd "$(dirname "$SCRIPT_SOURCE")" && pwd)
case "$HOST_OS" in
Linux)
	QNX_HOST=$QNX_BASE/host/linux/x86_64
	;;
*)
	QNX_HOST=$QNX_BASE/host/win64/x86_64
	;;
esac

QNX_TARGET=$QNX_BASE/target/qnx
QNX_CONFIGURATION_EXCLUSIVE=$HOME/.qnx
QNX_CONFIGURATION=$QNX_CONFIGURATION_EXCLUSIVE

MAKEFLAGS=-I$QNX_BASE/target/qnx/usr/include
PATH=$QNX_HOST/usr/bin:$QNX_CONFIGURATION/bin:$QNX_BASE/jre/bin:$QNX_BASE/host/common/bin:$PATH

export QNX_TARGET QNX_HOST QNX_CONFIGURATION QNX_CONFIGURATION_EXCLUSIVE MAKEFLAGS PATH

echo QNX_HOST=$QNX_HOST
echo QNX_TARGET=$QNX_TARGET
