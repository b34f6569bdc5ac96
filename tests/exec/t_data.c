/* t_data.c: a test that reads its data file (argv[1], relative to its working directory). */
#include <stdio.h>

#include "calc.h"

int
main(int argc, char *argv[])
{
	long sum;

	if (argc != 2 || calc_sum_file(argv[1], &sum) == -1) {
		perror(argc == 2 ? argv[1] : "usage: t_data FILE");
		return 2;
	}
	printf("t_data: sum of %s is %ld\n", argv[1], sum);
	return sum == 42 ? 0 : 1;
}
