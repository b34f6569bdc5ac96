/* t_pass.c: a test that passes (after sleeping QQ_SLEEP seconds, when set: a timeout check). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "calc.h"

int
main(void)
{
	if (getenv("QQ_SLEEP") != NULL)
		sleep((unsigned)atoi(getenv("QQ_SLEEP")));
	printf("calc_add(2, 3) = %d\n", calc_add(2, 3));
	return calc_add(2, 3) == 5 ? 0 : 1;
}
