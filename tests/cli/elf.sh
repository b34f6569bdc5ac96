# elf.sh: fixtures for the staging tests (sourced): tiny ELF headers and scripts.

# mkelf FILE MACHINE [CLASS [TYPE]]: a 64-byte ELF header, little-endian,
# with e_machine MACHINE (62 x86_64, 183 aarch64, 3 i386), CLASS 1 or 2 (64-bit),
# TYPE 2 (executable), 3 (shared/PIE) or 1 (relocatable); mode 0755.
mkelf() {
	m=$(printf '\\%03o\\%03o' $(($2 % 256)) $(($2 / 256)))
	# shellcheck disable=SC2059
	{
		printf "\177ELF\\$(printf '%03o' "${3:-2}")\001\001\000\000\000\000\000\000\000\000\000"
		printf "\\$(printf '%03o' "${4:-2}")\000$m"
		head -c 44 /dev/zero
	} >"$1"
	chmod 755 "$1"
}

# mkscript FILE: a #! script, mode 0755.
mkscript() {
	printf '#!/bin/sh\necho %s\n' "$(basename "$1")" >"$1"
	chmod 755 "$1"
}

# the host's own ELF arch name as qq spells it
host_arch() {
	case $(uname -m) in
	aarch64 | arm64) echo aarch64 ;;
	*) echo x86_64 ;;
	esac
}
