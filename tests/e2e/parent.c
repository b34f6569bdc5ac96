/*
 * parent.c: which shape of qq's guest command ran this program (tests/e2e/exec.sh).
 * Prints its parent's command line (NULs as spaces, newlines as |, up to 60 bytes) and
 * "pid P ppid Q pgid G sid S". With the argument "hang" it then forks a child and both wait
 * for ever: a timeout must kill the whole group.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	char path[64];
	FILE *fp;
	int c, n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)getppid());
	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		return 2;
	}
	fputs("parent: ", stdout);
	while ((c = getc(fp)) != EOF && n++ < 60)
		putchar(c == '\0' ? ' ' : c == '\n' ? '|' : c);
	fclose(fp);
	printf("\npid %ld ppid %ld pgid %ld sid %ld\n", (long)getpid(), (long)getppid(),
	    (long)getpgrp(), (long)getsid(0));
	if (argc > 1 && strcmp(argv[1], "hang") == 0) {
		fflush(stdout);
		(void)fork();
		for (;;)
			pause();
	}
	return 0;
}
