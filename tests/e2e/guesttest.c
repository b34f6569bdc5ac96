/* guesttest.c: one static test program for the qq-test e2e; what it does depends on its name. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	static char line[1024];
	long i;

	(void)argc;
	printf("%s: stdout\n", name);
	fprintf(stderr, "%s: stderr\n", name);
	fflush(NULL);
	if (strcmp(name, "t_pass") == 0)
		return 0;
	if (strcmp(name, "t_fail") == 0) {
		for (i = 1; i <= 30; i++)
			printf("fail line %ld\n", i);
		fprintf(stderr, "expected 4, got 5");	/* no final newline */
		return 3;
	}
	if (strcmp(name, "t_segv") == 0) {
		raise(SIGSEGV);
		return 0;
	}
	if (strcmp(name, "t_abort") == 0)
		abort();
	if (strcmp(name, "t_hang") == 0) {
		/* A child too: the timeout kills the whole group. */
		if (fork() == 0)
			for (;;)
				pause();
		for (;;)
			pause();
	}
	if (strcmp(name, "t_big") == 0) {
		/* 50 MB on stdout, 50,000 lines of 1000 bytes, numbered. */
		memset(line, 'x', 999);
		line[999] = '\n';
		for (i = 0; i < 50000; i++) {
			snprintf(line, 12, "%010ld", i);
			line[10] = ' ';
			if (fwrite(line, 1, 1000, stdout) != 1000)
				return 1;
		}
		return 0;
	}
	if (strcmp(name, "t_stdin") == 0)
		return getchar() == EOF ? 0 : 9;	/* stdin is /dev/null */
	return 99;
}
