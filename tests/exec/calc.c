/* calc.c: the small library the qq-exec test project tests. */
#include <stdio.h>

#include "calc.h"

int
calc_add(int a, int b)
{
	return a + b;
}

int
calc_sum_file(const char *path, long *sum)
{
	FILE *fp;
	long v;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	*sum = 0;
	while (fscanf(fp, "%ld", &v) == 1)
		*sum += v;
	fclose(fp);
	return 0;
}
