/* digest.c: SHA-256 of files, remembered by a cheap fingerprint so unchanged files are not read twice. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define HASH_CHUNK (256 * 1024)

static long long
ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

void
qq_digest_buf(const void *buf, size_t len, char hex[QQ_DIGEST_HEX])
{
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	SHA256Update(&ctx, buf, len);
	SHA256End(&ctx, hex);
}

int
qq_digest_fd(int fd, const char *name, char hex[QQ_DIGEST_HEX], struct qq_err *e)
{
	SHA2_CTX ctx;
	uint8_t *buf;
	ssize_t n;

	if ((buf = malloc(HASH_CHUNK)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", name);
	SHA256Init(&ctx);
	for (;;) {
		if ((n = read(fd, buf, HASH_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", name);
		}
		if (n == 0)
			break;
		SHA256Update(&ctx, buf, (size_t)n);
	}
	free(buf);
	SHA256End(&ctx, hex);
	return 0;
}

static int
cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct qq_digest_ent *)a)->path,
	    ((const struct qq_digest_ent *)b)->path);
}

void
qq_digest_free(struct qq_digest_cache *c)
{
	if (c->dirfd >= 0)
		close(c->dirfd);
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
}

static struct qq_digest_ent *
push(struct qq_digest_cache *c)
{
	struct qq_digest_ent *v;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		if ((v = reallocarray(c->v, cap, sizeof(*v))) == NULL)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	return &c->v[c->n++];
}

/*
 * "DEV INO SIZE MTIME CTIME HEX /PATH" (times in ns); strtoull, several
 * times faster than sscanf here. A line of the older format without CTIME
 * does not parse: that file is digested again.
 */
static int
parse_line(const char *line, unsigned long long *dev, unsigned long long *ino,
    long long *size, long long *mtime, long long *ctime, char hex[QQ_DIGEST_HEX], int *off)
{
	const char *p = line;
	char *end;

	*dev = strtoull(p, &end, 10);
	if (end == p || *end != ' ')
		return -1;
	*ino = strtoull(p = end + 1, &end, 10);
	if (end == p || *end != ' ')
		return -1;
	*size = strtoll(p = end + 1, &end, 10);
	if (end == p || *end != ' ')
		return -1;
	*mtime = strtoll(p = end + 1, &end, 10);
	if (end == p || *end != ' ')
		return -1;
	*ctime = strtoll(p = end + 1, &end, 10);
	if (end == p || *end != ' ')
		return -1;
	p = end + 1;
	if (strspn(p, "0123456789abcdef") != QQ_DIGEST_HEX - 1 || p[QQ_DIGEST_HEX - 1] != ' ' ||
	    p[QQ_DIGEST_HEX] != '/')
		return -1;
	memcpy(hex, p, QQ_DIGEST_HEX - 1);
	hex[QQ_DIGEST_HEX - 1] = '\0';
	*off = (int)(p + QQ_DIGEST_HEX - line);
	return 0;
}

/* stat(2) through an fd on the parent directory, kept while files share it: shorter path walks. */
static int
stat_near(struct qq_digest_cache *c, const char *path, struct stat *st)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (slash == NULL || slash == path || (dlen = (size_t)(slash - path)) >= sizeof(c->dir))
		return stat(path, st);
	if (c->dirfd < 0 || strncmp(c->dir, path, dlen) != 0 || c->dir[dlen] != '\0') {
		if (c->dirfd >= 0)
			close(c->dirfd);
		memcpy(c->dir, path, dlen);
		c->dir[dlen] = '\0';
		if ((c->dirfd = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
			return stat(path, st);
	}
	return fstatat(c->dirfd, slash + 1, st, 0);
}

/* A cache is only a cache: an unreadable one is empty, a malformed line an unknown file. */
int
qq_digest_load(struct qq_digest_cache *c, const char *path, struct qq_err *e)
{
	struct qq_digest_ent *d;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int fd;

	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || (fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return 0;
	}
	c->stamp_ns = ns(&st.st_mtim);
	while ((len = getline(&line, &cap, fp)) != -1) {
		unsigned long long dev, ino;
		long long size, mtime, ctime;
		char hex[QQ_DIGEST_HEX];
		int off = 0;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (parse_line(line, &dev, &ino, &size, &mtime, &ctime, hex, &off) == -1)
			continue;
		if ((d = push(c)) == NULL || (d->path = strdup(line + off)) == NULL) {
			free(line);
			fclose(fp);
			qq_digest_free(c);
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", path);
		}
		d->dev = (dev_t)dev;
		d->ino = (ino_t)ino;
		d->size = (off_t)size;
		d->mtime_ns = mtime;
		d->ctime_ns = ctime;
		memcpy(d->hex, hex, sizeof(hex));
	}
	free(line);
	fclose(fp);
	if (c->n > 0)
		qsort(c->v, c->n, sizeof(*c->v), cmp_ent);
	c->nloaded = c->n;
	return 0;
}

int
qq_digest_get(struct qq_digest_cache *c, const char *path, char hex[QQ_DIGEST_HEX],
    struct stat *stp, struct qq_err *e)
{
	struct qq_digest_ent key, *d;
	struct stat st, st2;
	int fd;

	if (stat_near(c, path, &st) == -1)
		return qq_err_sys(e, errno == ENOENT || errno == ENOTDIR ? QQ_EXIT_INPUT :
		    QQ_EXIT_RUNTIME, "unable to read %s", path);
	if (!S_ISREG(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "unable to read %s: not a regular file", path);
	if (stp != NULL)
		*stp = st;
	key.path = (char *)path;
	d = c->nloaded == 0 ? NULL : bsearch(&key, c->v, c->nloaded, sizeof(*c->v), cmp_ent);
	/*
	 * Trusted only when the fingerprint matches and the file's mtime and
	 * ctime are older than the cache itself (git's "racily clean" rule): a
	 * write in the same clock tick as the recorded one would keep them.
	 * The ctime catches a rewrite whose mtime was set back (cp -p, touch
	 * -r, tar x, SOURCE_DATE_EPOCH builds of the same size): no user can
	 * set it, and every write, chmod, utimensat and rename moves it on
	 * (stat(2), inode(7)).
	 */
	if (d != NULL && d->dev == st.st_dev && d->ino == st.st_ino && d->size == st.st_size &&
	    d->mtime_ns == ns(&st.st_mtim) && d->ctime_ns == ns(&st.st_ctim) &&
	    d->mtime_ns < c->stamp_ns && d->ctime_ns < c->stamp_ns) {
		d->used = 1;
		memcpy(hex, d->hex, QQ_DIGEST_HEX);
		return 0;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return qq_err_sys(e, errno == ENOENT ? QQ_EXIT_INPUT : QQ_EXIT_RUNTIME,
		    "unable to read %s", path);
	if (fstat(fd, &st2) == -1 || qq_digest_fd(fd, path, hex, e) != 0) {
		if (e->status == 0)
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", path);
		close(fd);
		return e->status ? e->status : QQ_EXIT_RUNTIME;
	}
	close(fd);
	c->dirty = 1;
	if (d == NULL) {
		if ((d = push(c)) == NULL || (d->path = strdup(path)) == NULL)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remember a digest");
	}
	/* Fingerprint of what was read (st2, taken on the open file). */
	d->dev = st2.st_dev;
	d->ino = st2.st_ino;
	d->size = st2.st_size;
	d->mtime_ns = ns(&st2.st_mtim);
	d->ctime_ns = ns(&st2.st_ctim);
	d->used = 1;
	memcpy(d->hex, hex, QQ_DIGEST_HEX);
	return 0;
}

int
qq_digest_save(struct qq_digest_cache *c, const char *path, struct qq_err *e)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp;
	int rc;

	for (i = 0; i < c->nloaded && !c->dirty; i++)
		if (!c->v[i].used)
			c->dirty = 1;	/* forget files no longer asked for */
	if (!c->dirty)
		return 0;
	if (c->n > 0)
		qsort(c->v, c->n, sizeof(*c->v), cmp_ent);
	c->nloaded = 0;		/* the order changed: no more lookups */
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	for (i = 0; i < c->n; i++) {
		const struct qq_digest_ent *d = &c->v[i];

		if (!d->used || strchr(d->path, '\n') != NULL ||
		    (i + 1 < c->n && strcmp(d->path, c->v[i + 1].path) == 0))
			continue;
		fprintf(fp, "%llu %llu %lld %lld %lld %s %s\n", (unsigned long long)d->dev,
		    (unsigned long long)d->ino, (long long)d->size, d->mtime_ns, d->ctime_ns,
		    d->hex, d->path);
	}
	if (fclose(fp) != 0) {
		free(buf);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	}
	rc = qq_file_write_atomic(path, buf, len, 0644, e);
	free(buf);
	c->dirty = 0;
	return rc;
}
