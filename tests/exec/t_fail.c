/* t_fail.c: a test that fails with exit code 3 and says why on stderr. */
#include <stdio.h>

#include "calc.h"

int
main(void)
{
	fprintf(stderr, "t_fail: calc_add(2, 2) is %d, and this test wants 5\n", calc_add(2, 2));
	return calc_add(2, 2) == 5 ? 0 : 3;
}
