/* t_crash.c: a test that dies by SIGSEGV (or by SIGINT with QQ_CRASH_SIGNAL=INT). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"

int
main(void)
{
	printf("t_crash: about to crash after %d\n", calc_add(1, 1));
	fflush(stdout);
	if (getenv("QQ_CRASH_SIGNAL") != NULL && strcmp(getenv("QQ_CRASH_SIGNAL"), "INT") == 0)
		raise(SIGINT);
	raise(SIGSEGV);
	return 0;
}
