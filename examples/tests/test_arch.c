/* test_arch.c: an example test binary: the guest runs the architecture it was built for. */
#include <sys/utsname.h>

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#define BUILT_FOR "x86_64"
#elif defined(__aarch64__)
#define BUILT_FOR "aarch64"
#else
#define BUILT_FOR "unknown"
#endif

int
main(void)
{
	struct utsname u;
	int ok;

	if (uname(&u) == -1)
		return 1;
	ok = strcmp(u.machine, BUILT_FOR) == 0;
	printf("1..1\n%s 1 - built for %s, running on %s\n", ok ? "ok" : "not ok",
	    BUILT_FOR, u.machine);
	return ok ? 0 : 1;
}
