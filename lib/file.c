/* file.c: atomic writes, whole-file reads, directories and paths. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

int
qq_file_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct qq_err *e)
{
	char tmp[PATH_MAX];
	const char *p = buf;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= sizeof(tmp))
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", tmp);
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return e->status;
}

int
qq_file_read(const char *path, size_t max, char **bufp, size_t *lenp, struct qq_err *e)
{
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	/* A path that names no readable file is the user's input, not the system failing. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return qq_err_sys(e, errno == ENOENT || errno == ENOTDIR || errno == ELOOP ||
		    errno == EACCES || errno == ENAMETOOLONG ? QQ_EXIT_INPUT : QQ_EXIT_RUNTIME,
		    "unable to read %s", path);
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			close(fd);
			free(buf);
			return qq_err_set(e, QQ_EXIT_INPUT, "unable to read %s: larger than %zu bytes",
			    path, max);
		}
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
fail:
	qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", path);
	close(fd);
	free(buf);
	return e->status;
}

int
qq_file_mkdirs(const char *path, mode_t mode, struct qq_err *e)
{
	char buf[PATH_MAX];
	char *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", buf);
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int
qq_file_join(char *dst, size_t dstsz, const char *dir, const char *name, struct qq_err *e)
{
	if ((size_t)snprintf(dst, dstsz, "%s/%s", dir, name) >= dstsz)
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s/%s", dir, name);
	return 0;
}

int
qq_file_abspath(const char *path, char *out, size_t outsz, struct qq_err *e)
{
	char buf[PATH_MAX * 2], cwd[PATH_MAX];
	char *seg, *save, *o;
	size_t olen = 0;

	if (*path == '\0')
		return qq_err_set(e, QQ_EXIT_INPUT, "empty path");
	if (*path == '/') {
		if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to find the current directory");
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", cwd, path) >= sizeof(buf))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	}
	if (outsz < 2)
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	o = out;
	for (seg = strtok_r(buf, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		size_t sl = strlen(seg);

		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (olen > 0 && o[olen - 1] != '/')
				olen--;
			if (olen > 0)
				olen--;
			continue;
		}
		if (olen + 1 + sl + 1 > outsz)
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
		o[olen++] = '/';
		memcpy(o + olen, seg, sl);
		olen += sl;
	}
	if (olen == 0)
		o[olen++] = '/';
	o[olen] = '\0';
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

int
qq_file_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
