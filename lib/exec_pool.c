/* exec_pool.c: qq-exec's per-boot pool of fresh guest working directories, kept in WS/exec/pool. */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

/*
 * Fresh working directories without a process in the guest for each call
 * (mkdir and rm cost a fork and an exec each, ~4 ms apiece under TCG): the
 * host hands out numbered directories of a RUN directory, made POOL_BATCH at
 * a time by the call that finds none left, which also removes the
 * directories of the calls that have ended since. A call that gets a number
 * before the batch holding it was made makes it itself (mkdir -p).
 *
 * WS/exec/pool, read and written under its flock(2):
 *	the boot's id line (qq-exec's boot_id)
 *	epoch HEX
 *	next N
 *	free N...
 *	done N...
 *	sum HEX		(SHA-256 of the lines above: a file changed by hand is not whole)
 * RUN is QQ_EXEC_STORE/run/BOOT.EPOCH. A (RUN, number) pair is never handed
 * out twice: a pool that is not this boot's, or not whole (a crash, an
 * editor, a file from elsewhere), starts a new epoch, so its numbers are in a
 * directory no earlier call can have used (its sum line tells a file cut
 * short by a killed writer), and a pool that cannot be written fails the call
 * rather than let the next call take the same number.
 */
#define POOL_FILE	"exec/pool"
#define POOL_BATCH	16
#define POOL_MAX	4096	/* numbers kept on a line; more are forgotten (left in the guest) */
#define POOL_NUM_MAX	(1LL << 40)
#define POOL_READ_MAX	(1 << 20)

struct pool {
	char	 id[128];
	char	 epoch[17];
	long	 next, nfree, ndone;
	long	 free[POOL_MAX], done[POOL_MAX];
	int	 fresh;		/* no whole pool of this boot was found: a new epoch */
};

/* The boot part of RUN, from boot_id's "DEV INO SEC.NSEC" line. */
static void
boot_name(const char *id, char *out, size_t outsz)
{
	unsigned long long dev = 0, ino = 0;
	long long sec = 0;
	long nsec = 0;

	(void)sscanf(id, "%llu %llu %lld.%ld", &dev, &ino, &sec, &nsec);
	snprintf(out, outsz, "%llx-%llx-%lx", ino, (unsigned long long)sec, nsec);
}

static void
run_dir(const struct pool *p, char *out, size_t outsz)
{
	char boot[64];

	boot_name(p->id, boot, sizeof(boot));
	snprintf(out, outsz, "%s/run/%s.%s", QQ_EXEC_STORE, boot, p->epoch);
}

/* A list line's numbers ("free 3 4"), each from 1 to below next; 0 or -1 when malformed. */
static int
parse_list(char *line, const char *word, long next, long *list, long *n)
{
	const char *errstr;
	char *tok;
	long long v;

	if (strncmp(line, word, strlen(word)) != 0)
		return -1;
	line += strlen(word);
	if (*line == '\0')
		return 0;
	if (*line++ != ' ')
		return -1;
	while ((tok = strsep(&line, " ")) != NULL) {
		v = strtonum(tok, 1, next - 1, &errstr);
		if (errstr != NULL)
			return -1;
		if (*n < POOL_MAX)
			list[(*n)++] = (long)v;
	}
	return 0;
}

/*
 * Reads buf (len bytes) into p when it is a whole pool of boot id, its sum
 * line the digest of the lines before it; -1 (p half filled) otherwise.
 */
static int
parse(struct pool *p, char *buf, size_t len, const char *id)
{
	char sum[QQ_DIGEST_HEX], *s = buf, *line[6];
	const char *errstr;
	size_t i, idlen = strcspn(id, "\n");

	if (len < 70 || memchr(buf, '\0', len) != NULL || buf[len - 1] != '\n' ||
	    strncmp(buf + len - 70, "\nsum ", 5) != 0)
		return -1;
	qq_digest_buf(buf, len - 69, sum);
	if (memcmp(buf + len - 65, sum, 64) != 0)
		return -1;	/* not as qq wrote it */
	for (i = 0; i < 6; i++)
		if ((line[i] = strsep(&s, "\n")) == NULL)
			return -1;
	if (s == NULL || *s != '\0')	/* the last line ends with its newline, then nothing */
		return -1;
	if (strlen(line[0]) != idlen || strncmp(line[0], id, idlen) != 0)
		return -1;
	if (strncmp(line[1], "epoch ", 6) != 0 || strlen(line[1] + 6) != 16 ||
	    strspn(line[1] + 6, "0123456789abcdef") != 16)
		return -1;
	memcpy(p->epoch, line[1] + 6, 17);
	if (strncmp(line[2], "next ", 5) != 0)
		return -1;
	p->next = (long)strtonum(line[2] + 5, 1, POOL_NUM_MAX, &errstr);
	if (errstr != NULL)
		return -1;
	if (parse_list(line[3], "free", p->next, p->free, &p->nfree) != 0 ||
	    parse_list(line[4], "done", p->next, p->done, &p->ndone) != 0)
		return -1;
	return 0;
}

/* Locks the pool (its fd returned, -1 with e set) and reads it into p. */
static int
pool_lock(const char *ws, struct pool *p, const char *id, const volatile sig_atomic_t *stop,
    struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 16], *buf;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ws, POOL_FILE);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to open %s", path), -1;
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR || (stop != NULL && *stop)) {
			qq_err_sys(e, QQ_EXEC_FAILED, "unable to lock %s", path);
			close(fd);
			return -1;
		}
	memset(p, 0, sizeof(*p));
	strlcpy(p->id, id, sizeof(p->id));
	buf = fstat(fd, &st) == 0 && st.st_size < POOL_READ_MAX ? malloc((size_t)st.st_size + 1) :
	    NULL;
	while (buf != NULL && len < (size_t)st.st_size &&
	    ((n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len)) > 0 ||
	    (n == -1 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	if (buf == NULL || len != (size_t)st.st_size || (buf[len] = '\0', parse(p, buf, len,
	    id)) != 0) {
		/* Another boot's, new, or not whole: a new epoch, numbers from 1. */
		p->fresh = 1;
		p->next = 1;
		p->nfree = p->ndone = 0;
		snprintf(p->epoch, sizeof(p->epoch), "%08x%08x", arc4random(), arc4random());
	}
	free(buf);
	return fd;
}

/*
 * Writes p over the pool and unlocks. In place, not by rename(2): renaming
 * over a file on ext4 makes the kernel write the new file's data out first
 * (auto_da_alloc), 1.8-5.9 ms here against 0.05-0.1 ms in place, and the
 * pool is written twice per call. Every reader holds the lock, so only a
 * writer killed mid-write leaves a file not whole, and its sum line then
 * makes it a lost pool (a new epoch), never a pool that hands out a number
 * again.
 */
static int
pool_unlock(const char *ws, int fd, const struct pool *p, struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 16], sum[QQ_DIGEST_HEX], *buf = NULL, *nbuf;
	size_t len = 0, off = 0;
	ssize_t n;
	FILE *fp;
	long i;
	int rc = -1;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		goto out;
	fprintf(fp, "%.*s\nepoch %s\nnext %ld\nfree", (int)strcspn(p->id, "\n"), p->id,
	    p->epoch, p->next);
	for (i = 0; i < p->nfree; i++)
		fprintf(fp, " %ld", p->free[i]);
	fprintf(fp, "\ndone");
	for (i = 0; i < p->ndone; i++)
		fprintf(fp, " %ld", p->done[i]);
	fprintf(fp, "\n");
	if (fclose(fp) != 0)
		goto out;
	qq_digest_buf(buf, len, sum);
	if ((nbuf = realloc(buf, len + 70)) == NULL)
		goto out;
	buf = nbuf;
	len += (size_t)snprintf(buf + len, 70, "sum %s\n", sum);
	/* No fsync: the pool must survive a killed qq-exec, not a power cut (which ends the boot). */
	while (off < len) {
		if ((n = pwrite(fd, buf + off, len - off, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	if (ftruncate(fd, (off_t)len) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		snprintf(path, sizeof(path), "%s/%s", ws, POOL_FILE);
		qq_err_sys(e, QQ_EXEC_FAILED, "unable to write %s", path);
	}
	free(buf);
	close(fd);
	return rc;
}

int
qq_exec_pool_take(const char *ws, const char *boot, char *run, size_t runsz, long *num,
    struct qq_sbuf *pre, const volatile sig_atomic_t *stop, struct qq_err *e)
{
	struct pool *p;
	char n[32], name[64];
	long i;
	int fd, rc;

	if ((p = malloc(sizeof(*p))) == NULL)
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to take a working directory");
	if ((fd = pool_lock(ws, p, boot, stop, e)) == -1) {
		free(p);
		return e->status;
	}
	run_dir(p, run, runsz);
	if (p->nfree > 0) {
		*num = p->free[0];
		memmove(p->free, p->free + 1, (size_t)(p->nfree - 1) * sizeof(p->free[0]));
		p->nfree--;
		goto out;
	}
	*num = p->next;
	if (p->next == 1) {
		/*
		 * An epoch's first batch: other boots' directories go (a disk
		 * /data keeps them); this boot's other epochs stay, for their
		 * calls may still run.
		 */
		boot_name(p->id, name, sizeof(name));
		qq_sbuf_add(pre, "for qq_o in " QQ_EXEC_STORE "/run/*; do case ${qq_o##*/} in ");
		qq_sbuf_sq(pre, name);
		qq_sbuf_add(pre, ".*) ;; *) [ ! -d \"$qq_o\" ] || rm -rf \"$qq_o\";; esac; done; ");
	}
	if (p->ndone > 0) {
		qq_sbuf_add(pre, "rm -rf");
		for (i = 0; i < p->ndone; i++) {
			snprintf(n, sizeof(n), "/%ld", p->done[i]);
			qq_sbuf_add(pre, " ");
			qq_sbuf_sq(pre, run);
			qq_sbuf_add(pre, n);
		}
		qq_sbuf_add(pre, "; ");
		p->ndone = 0;
	}
	qq_sbuf_add(pre, "mkdir -p");
	for (i = 0; i < POOL_BATCH; i++) {
		snprintf(n, sizeof(n), "/%ld", p->next + i);
		qq_sbuf_add(pre, " ");
		qq_sbuf_sq(pre, run);
		qq_sbuf_add(pre, n);
		if (i > 0)
			p->free[p->nfree++] = p->next + i;
	}
	qq_sbuf_add(pre, "; ");
	p->next += POOL_BATCH;
out:
	rc = pool_unlock(ws, fd, p, e) == 0 ? 0 : e->status;
	free(p);
	return rc;
}

void
qq_exec_pool_give(const char *ws, const char *boot, const char *run, long num)
{
	char cur[QQ_VALUE_MAX];
	struct pool *p;
	struct qq_err e;
	int fd;

	if ((p = malloc(sizeof(*p))) == NULL)
		return;
	if ((fd = pool_lock(ws, p, boot, NULL, &e)) == -1) {
		free(p);
		return;
	}
	run_dir(p, cur, sizeof(cur));
	/* Booted again, or the pool lost meanwhile: not this pool's number (left in the guest). */
	if (p->fresh || strcmp(cur, run) != 0 || num < 1 || num >= p->next) {
		close(fd);
		free(p);
		return;
	}
	if (p->ndone < POOL_MAX)
		p->done[p->ndone++] = num;
	(void)pool_unlock(ws, fd, p, &e);
	free(p);
}
