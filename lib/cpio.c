/* cpio.c: writing a newc cpio archive (the format Linux unpacks as initramfs) with libarchive. */
#include "config.h"

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define CPIO_CHUNK (256 * 1024)

static int
aerr(struct archive *a, struct qq_err *e, const char *what)
{
	return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to write the archive (%s): %s", what,
	    archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

static int
put_file(struct archive *a, struct archive_entry *ae, const struct qq_cpio_entry *x,
    char *buf, struct qq_err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(x->src, O_RDONLY | O_CLOEXEC)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", x->src);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to read %s: not a regular file",
		    x->src);
	}
	archive_entry_set_size(ae, st.st_size);
	if (archive_write_header(a, ae) != ARCHIVE_OK) {
		close(fd);
		return aerr(a, e, x->path);
	}
	for (;;) {
		if ((n = read(fd, buf, CPIO_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", x->src);
			close(fd);
			return e->status;
		}
		if (n == 0)
			break;
		if (archive_write_data(a, buf, (size_t)n) != n) {
			close(fd);
			return aerr(a, e, x->path);
		}
	}
	close(fd);
	return 0;
}

int
qq_cpio_write(int fd, const struct qq_cpio_entry *v, size_t n, struct qq_err *e)
{
	struct archive_entry *ae = NULL;
	struct archive *a;
	char *buf;
	size_t i;
	int rc = 0;

	if ((buf = malloc(CPIO_CHUNK)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the archive");
	if ((a = archive_write_new()) == NULL || (ae = archive_entry_new()) == NULL) {
		free(buf);
		if (a != NULL)
			archive_write_free(a);
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to write the archive: out of memory");
	}
	/* No padding to a block: the kernel wants nothing but the archive after the base. */
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 512) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		rc = aerr(a, e, "open");
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		const struct qq_cpio_entry *x = &v[i];

		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, x->path);
		archive_entry_set_mode(ae, x->mode);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		archive_entry_set_nlink(ae, S_ISDIR(x->mode) ? 2 : 1);
		archive_entry_set_ino64(ae, (la_int64_t)i + 1);	/* distinct: no false hard links */
		archive_entry_set_mtime(ae, x->mtime, 0);
		if (S_ISREG(x->mode) && x->src != NULL)
			rc = put_file(a, ae, x, buf, e);
		else {
			archive_entry_set_size(ae, S_ISREG(x->mode) ? (la_int64_t)x->len : 0);
			if (archive_write_header(a, ae) != ARCHIVE_OK)
				rc = aerr(a, e, x->path);
			else if (S_ISREG(x->mode) && x->len > 0 &&
			    archive_write_data(a, x->data, x->len) != (la_ssize_t)x->len)
				rc = aerr(a, e, x->path);
		}
	}
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = aerr(a, e, "close");
out:
	archive_entry_free(ae);
	archive_write_free(a);
	free(buf);
	return rc;
}
