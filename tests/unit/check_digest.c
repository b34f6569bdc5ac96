/* check_digest.c: SHA-256 values, and the fingerprint cache: reused, refreshed (a restored mtime too), racily-clean entries re-read. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

START_TEST(test_values)
{
	char hex[QQ_DIGEST_HEX];

	qq_digest_buf("abc", 3, hex);
	ck_assert_str_eq(hex, ABC);
	qq_digest_buf("", 0, hex);
	ck_assert_str_eq(hex, EMPTY);
}
END_TEST

/* Rewrites path in place (same inode, same size) and puts its old mtime back. */
static void
sneak(const char *path, const char *data)
{
	struct timespec ts[2];
	struct stat st;
	int fd;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_ne(fd = open(path, O_WRONLY), -1);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(futimens(fd, ts), 0);
	close(fd);
}

static void
set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

#define FAKE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A cache file whose one line gives path (as it is now) hex; with_ctime 0: the older format. */
static void
plant(const char *cache, const char *path, const char *hex, int with_ctime)
{
	char line[PATH_MAX + 256], ct[32] = "";
	struct qq_err e;
	struct stat st;
	int n;

	ck_assert_int_eq(stat(path, &st), 0);
	if (with_ctime)
		snprintf(ct, sizeof(ct), " %lld", (long long)st.st_ctim.tv_sec * 1000000000LL +
		    st.st_ctim.tv_nsec);
	n = snprintf(line, sizeof(line), "%llu %llu %lld %lld%s %s %s\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (long long)st.st_size,
	    (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, ct, hex, path);
	ck_assert_int_eq(qq_file_write_atomic(cache, line, (size_t)n, 0644, &e), 0);
	/* Written a second after the file's last change: not racily clean (file times are coarse). */
	set_mtime(cache, st.st_ctim.tv_sec + 1);
}

START_TEST(test_cache)
{
	char *dir = test_tmpdir(), f1[PATH_MAX], f2[PATH_MAX], cache[PATH_MAX];
	char hex[QQ_DIGEST_HEX], hex2[QQ_DIGEST_HEX];
	struct qq_digest_cache c;
	struct qq_err e;
	struct stat st;

	snprintf(f1, sizeof(f1), "%s/one", dir);
	snprintf(f2, sizeof(f2), "%s/two", dir);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	ck_assert_int_eq(qq_file_write_atomic(f1, "abc", 3, 0644, &e), 0);
	ck_assert_int_eq(qq_file_write_atomic(f2, "", 0, 0644, &e), 0);
	set_mtime(f1, 1000000000);	/* well before the cache is written */
	set_mtime(f2, 1000000000);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);	/* none yet: empty */
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, &st, &e), 0);
	ck_assert_str_eq(hex, ABC);
	ck_assert_uint_eq(st.st_size, 3);
	ck_assert_int_eq(qq_digest_get(&c, f2, hex, NULL, &e), 0);
	ck_assert_str_eq(hex, EMPTY);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);

	/* Same fingerprint: the remembered digest, without reading (proved by a planted one). */
	plant(cache, f1, FAKE, 1);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_str_eq(hex, FAKE);
	ck_assert_int_eq(c.dirty, 0);
	qq_digest_free(&c);

	/* A line of the older format (no ctime) is an unknown file: read again. */
	plant(cache, f1, FAKE, 0);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_str_eq(hex, ABC);
	ck_assert_int_eq(c.dirty, 1);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);

	/*
	 * A rewrite of the same size with the old mtime put back (cp -p, touch
	 * -r, a reproducible build): the ctime moved, so it is read again.
	 */
	sneak(f1, "xyz");
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	qq_digest_buf("xyz", 3, hex2);
	ck_assert_str_eq(hex, hex2);
	ck_assert_int_eq(c.dirty, 1);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);

	/* A new mtime (any ordinary write) means reading it again. */
	set_mtime(f1, 1000000001);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_str_eq(hex, hex2);
	ck_assert_int_eq(c.dirty, 1);
	ck_assert_int_eq(qq_digest_get(&c, f2, hex, NULL, &e), 0);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);
	/* Only files asked for are kept. */
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_uint_eq(c.n, 1);
	qq_digest_free(&c);

	/* Racily clean: an mtime not older than the cache file is not trusted... */
	set_mtime(f1, time(NULL) + 100);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_int_eq(c.dirty, 1);
	qq_digest_free(&c);
	/* ... nor a ctime not older than it (the cache's clock set back here). */
	set_mtime(f1, 1000000000);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_int_eq(qq_digest_save(&c, cache, &e), 0);
	qq_digest_free(&c);
	set_mtime(cache, 1000000005);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_int_eq(qq_digest_get(&c, f1, hex, NULL, &e), 0);
	ck_assert_int_eq(c.dirty, 1);
	qq_digest_free(&c);

	/* A malformed cache is an empty one; a missing file is an error. */
	ck_assert_int_eq(qq_file_write_atomic(cache, "garbage\n", 8, 0644, &e), 0);
	ck_assert_int_eq(qq_digest_load(&c, cache, &e), 0);
	ck_assert_uint_eq(c.n, 0);
	snprintf(f2, sizeof(f2), "%s/none", dir);
	ck_assert_int_eq(qq_digest_get(&c, f2, hex, NULL, &e), QQ_EXIT_INPUT);
	ck_assert_int_eq(qq_digest_get(&c, dir, hex, NULL, &e), QQ_EXIT_INPUT);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	qq_digest_free(&c);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_digest(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_cache);
	suite_add_tcase(s, tc);
	return s;
}
