/* check_cpio.c: the archive reads back (libarchive) with every path, type, mode, owner and byte. */
#include "config.h"

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

START_TEST(test_roundtrip)
{
	char *dir = test_tmpdir(), src[PATH_MAX], out[PATH_MAX], buf[64];
	struct qq_cpio_entry v[] = {
		{ .path = "data", .mode = S_IFDIR | 0755 },
		{ .path = "root/.ssh/authorized_keys", .mode = S_IFREG | 0600, .data = "key\n",
		    .len = 4 },
		{ .path = "data/prog", .mode = S_IFREG | 0750, .src = src, .mtime = 1234 },
		{ .path = "data/empty", .mode = S_IFREG | 0644, .data = "", .len = 0 },
	};
	struct archive_entry *ae;
	struct archive *a;
	struct qq_err e;
	size_t i = 0;
	int fd;

	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(out, sizeof(out), "%s/out.cpio", dir);
	ck_assert_int_eq(qq_file_write_atomic(src, "program bytes", 13, 0755, &e), 0);
	ck_assert_int_ne(fd = open(out, O_RDWR | O_CREAT | O_EXCL, 0644), -1);
	ck_assert_int_eq(write(fd, "pad!", 4), 4);	/* written at the fd's offset */
	ck_assert_int_eq(qq_cpio_write(fd, v, 4, &e), 0);
	ck_assert_int_eq(lseek(fd, 4, SEEK_SET), 4);
	ck_assert_ptr_nonnull(a = archive_read_new());
	archive_read_support_format_cpio(a);
	ck_assert_int_eq(archive_read_open_fd(a, fd, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		la_ssize_t n;

		ck_assert_uint_lt(i, 4);
		ck_assert_str_eq(archive_entry_pathname(ae), v[i].path);
		ck_assert_uint_eq(archive_entry_mode(ae), v[i].mode);
		ck_assert_int_eq(archive_entry_uid(ae), 0);
		ck_assert_int_eq(archive_entry_gid(ae), 0);
		ck_assert_int_eq(archive_format(a), ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
		n = archive_read_data(a, buf, sizeof(buf));
		if (i == 1)
			ck_assert(n == 4 && memcmp(buf, "key\n", 4) == 0);
		else if (i == 2) {
			ck_assert(n == 13 && memcmp(buf, "program bytes", 13) == 0);
			ck_assert_int_eq(archive_entry_mtime(ae), 1234);
		} else
			ck_assert_int_eq(n, 0);
		i++;
	}
	ck_assert_uint_eq(i, 4);
	archive_read_free(a);
	close(fd);
	/* A source that vanished is an error naming it. */
	snprintf(src, sizeof(src), "%s/gone", dir);
	ck_assert_int_ne(fd = open(out, O_WRONLY | O_TRUNC), -1);
	ck_assert_int_eq(qq_cpio_write(fd, v, 4, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "gone"));
	close(fd);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_cpio(void)
{
	Suite *s = suite_create("cpio");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
