/* hello.c: the example program qq stages into the guest: says where it runs. */
#include <sys/utsname.h>

#include <stdio.h>

int
main(int argc, char *argv[])
{
	struct utsname u;

	if (uname(&u) == -1) {
		perror("uname");
		return 1;
	}
	printf("hello from %s on %s %s\n", argv[0], u.sysname, u.machine);
	return argc > 1 ? 2 : 0;
}
