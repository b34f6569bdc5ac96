/* check_copy.c: copies are exact, keep the asked mode, and never overwrite. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_copy)
{
	char *dir = test_tmpdir(), src[PATH_MAX], dst[PATH_MAX], *buf, *got;
	size_t len = 3 * 1024 * 1024 + 17, glen;
	struct qq_err e;
	struct stat st;
	int in, out, how = 0;

	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(dst, sizeof(dst), "%s/dst", dir);
	ck_assert_ptr_nonnull(buf = malloc(len));
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + i / 4096);
	ck_assert_int_eq(qq_file_write_atomic(src, buf, len, 0644, &e), 0);
	ck_assert_int_eq(qq_copy_file(src, dst, 0751, &e), 0);
	ck_assert_int_eq(qq_file_read(dst, len, &got, &glen, &e), 0);
	ck_assert_uint_eq(glen, len);
	ck_assert_int_eq(memcmp(got, buf, len), 0);
	free(got);
	ck_assert_int_eq(stat(dst, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0751);
	/* Never over an existing file. */
	ck_assert_int_eq(qq_copy_file(src, dst, 0644, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "File exists"));
	snprintf(dst, sizeof(dst), "%s/none", dir);
	ck_assert_int_eq(qq_copy_file(dst, src, 0644, &e), QQ_EXIT_INPUT);
	/* qq_copy_fd copies from the current offset and says how. */
	snprintf(dst, sizeof(dst), "%s/dst2", dir);
	ck_assert_int_ne(in = open(src, O_RDONLY), -1);
	ck_assert_int_ne(out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
	ck_assert_int_eq(lseek(in, 1000, SEEK_SET), 1000);
	ck_assert_int_eq(qq_copy_fd(in, out, &how), 0);
	ck_assert(how == QQ_COPY_RANGE || how == QQ_COPY_READ_WRITE);
	close(in);
	close(out);
	ck_assert_int_eq(qq_file_read(dst, len, &got, &glen, &e), 0);
	ck_assert_uint_eq(glen, len - 1000);
	ck_assert_int_eq(memcmp(got, buf + 1000, glen), 0);
	free(got);
	free(buf);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_copy(void)
{
	Suite *s = suite_create("copy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_copy);
	suite_add_tcase(s, tc);
	return s;
}
