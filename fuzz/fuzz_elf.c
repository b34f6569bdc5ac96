/* fuzz_elf.c: libFuzzer harness for the ELF / #! check of staged binaries (qq_stage_check). */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *arches[] = { "x86_64", "aarch64" };
	struct qq_err e;
	struct stat st;

	/* One memfd, rewritten each time: the check reads a path, as for a staged file. */
	if (fd == -1) {
		if ((fd = memfd_create("qq-fuzz-elf", MFD_CLOEXEC)) == -1 || fchmod(fd, 0755) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	for (size_t i = 0; i < 2; i++)
		if (qq_stage_check(path, arches[i], &st, &e) != 0 &&
		    (e.status != QQ_EXIT_INPUT || strchr(e.msg, '\n') != NULL))
			abort();
	return 0;
}
