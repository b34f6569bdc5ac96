/* t_crash.c: a test that dies by SIGSEGV. */
#include <signal.h>
#include <stdio.h>

#include "calc.h"

int
main(void)
{
	printf("t_crash: about to crash after %d\n", calc_add(1, 1));
	fflush(stdout);
	raise(SIGSEGV);
	return 0;
}
