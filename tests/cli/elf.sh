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

# mkelf_interp FILE MACHINE INTERP: a dynamically linked 64-bit little-endian
# executable: the ELF header, one PT_INTERP program header, the interpreter path.
mkelf_interp() {
	m=$(printf '\\%03o\\%03o' $(($2 % 256)) $(($2 / 256)))
	n=$(printf '\\%03o' $((${#3} + 1)))
	z8='\000\000\000\000\000\000\000\000'
	# shellcheck disable=SC2059
	{
		printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000'
		printf "\\002\\000$m\\001\\000\\000\\000$z8\\100\\000\\000\\000\\000\\000\\000\\000$z8"
		printf '\000\000\000\000\100\000\070\000\001\000\000\000\000\000\000\000'
		printf "\\003\\000\\000\\000\\004\\000\\000\\000\\170\\000\\000\\000\\000\\000\\000\\000$z8$z8"
		printf "$n\\000\\000\\000\\000\\000\\000\\000$n\\000\\000\\000\\000\\000\\000\\000"
		printf '\001\000\000\000\000\000\000\000'
		printf '%s\000' "$3"
	} >"$1"
	chmod 755 "$1"
}
