/* test_sum.c: an example test binary: checks a sum, prints TAP, exits 0 on success. */
#include <stdio.h>

static long
sum(const int *v, int n)
{
	long s = 0;

	while (n-- > 0)
		s += v[n];
	return s;
}

int
main(void)
{
	static const int v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	long got = sum(v, 10);

	printf("1..1\n%s 1 - sum of 1..10 is %ld\n", got == 55 ? "ok" : "not ok", got);
	return got == 55 ? 0 : 1;
}
