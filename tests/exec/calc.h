/* calc.h: the small library the qq-exec test project tests. */
#ifndef CALC_H
#define CALC_H
int	calc_add(int a, int b);
/* Sum of the whole numbers in a file, one per line; -1 when it cannot be read. */
int	calc_sum_file(const char *path, long *sum);
#endif
