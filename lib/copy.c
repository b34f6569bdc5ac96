/* copy.c: copying file contents fast: a reflink where the filesystem allows, else copy_file_range. */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define RW_CHUNK (256 * 1024)

static int
rw_copy(int in, int out)
{
	char *buf;
	ssize_t n, w;

	if ((buf = malloc(RW_CHUNK)) == NULL)
		return -1;
	for (;;) {
		if (qq_sig_caught()) {	/* stop early: the caller removes its partial copy */
			errno = EINTR;
			break;
		}
		if ((n = read(in, buf, RW_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0) {
			free(buf);
			return 0;
		}
		for (char *p = buf; n > 0; p += w, n -= w)
			if ((w = write(out, p, (size_t)n)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				goto fail;
			}
	}
fail:
	free(buf);
	return -1;
}

int
qq_copy_fd(int in, int out, int *how)
{
	ssize_t n;
	int first = 1, saved;

	/*
	 * A reflink shares the blocks: instant, and no space used until either
	 * side changes. It clones whole files, so only from offset 0 into an
	 * empty file.
	 */
	if (lseek(in, 0, SEEK_CUR) == 0 && lseek(out, 0, SEEK_END) == 0 &&
	    ioctl(out, FICLONE, in) == 0) {
		if (how != NULL)
			*how = QQ_COPY_REFLINK;
		return lseek(out, 0, SEEK_END) == -1 ? -1 : 0;
	}
	if (how != NULL)
		*how = QQ_COPY_RANGE;
	for (;;) {
		/* In bounded chunks, so that a signal (sig.c) stops a large copy early. */
		if (qq_sig_caught()) {
			errno = EINTR;
			return -1;
		}
		n = copy_file_range(in, NULL, out, NULL, 64 << 20, 0);
		if (n > 0) {
			first = 0;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* Across filesystems (before Linux 5.19) or on filesystems without it. */
		if (first && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
		    errno == EOPNOTSUPP || errno == EBADF)) {
			if (how != NULL)
				*how = QQ_COPY_READ_WRITE;
			saved = rw_copy(in, out);
			return saved;
		}
		return -1;
	}
}

int
qq_copy_file(const char *src, const char *dst, mode_t mode, struct qq_err *e)
{
	int in, out;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return qq_err_sys(e, errno == ENOENT ? QQ_EXIT_INPUT : QQ_EXIT_RUNTIME,
		    "unable to read %s", src);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", dst);
		close(in);
		return e->status;
	}
	if (qq_copy_fd(in, out, NULL) == -1 || fchmod(out, mode) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to copy %s to %s", src, dst);
		close(in);
		close(out);
		unlink(dst);
		return e->status;
	}
	close(in);
	if (close(out) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to copy %s to %s", src, dst);
		unlink(dst);
		return e->status;
	}
	return 0;
}
