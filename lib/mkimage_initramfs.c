/* mkimage_initramfs.c: the initramfs builder: a Linux base guest with the staged files and the key appended as a newc cpio. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "mkimage.h"

#define INITRAMFS_KERNEL "output/vmlinuz"
#define INITRAMFS_INITRD "output/initrd.img"
#define MIB		(1ULL << 20)
#define KERNEL_RESERVE	(64 * MIB)	/* the kernel, its page tables and the guest's processes */
#define ENTRY_BYTES	512		/* newc header, name and padding, generously */

struct base {
	char	 dir[PATH_MAX];
	char	 kernel[PATH_MAX];
	char	 initrd[PATH_MAX];
	char	 append[QQ_VALUE_MAX];
	unsigned long long initrd_size;		/* bytes, as loaded by QEMU */
	unsigned long long unpacked;		/* bytes the base unpacks to (estimate) */
};

/* The base guest's directory, files and kernel command line (--base or QNX_QEMU_BASE). */
static int
base_read(const struct qq_mkimage_opts *o, struct base *b, struct qq_err *e)
{
	const char *dir = o->base;
	char path[PATH_MAX], *buf = NULL;
	struct stat st;
	size_t len;

	if (dir == NULL && ((dir = getenv("QNX_QEMU_BASE")) == NULL || *dir == '\0'))
		return qq_err_set(e, QQ_EXIT_INPUT, "the initramfs builder needs a base guest: "
		    "build one with qq-mkbase (qq-mkbase x86_64 DIR), then give --base DIR "
		    "(holding vmlinuz, initrd.img and append) or set QNX_QEMU_BASE");
	if (qq_file_abspath(dir, b->dir, sizeof(b->dir), e) != 0)
		return e->status;
	if (stat(b->dir, &st) == -1)
		return qq_err_sys(e, errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
		    QQ_EXIT_INPUT : QQ_EXIT_RUNTIME, "unable to read base guest %s", b->dir);
	if (!S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad base guest %s: not a directory (a base "
		    "guest holds vmlinuz, initrd.img and append; qq-mkbase builds one)", b->dir);
	if (qq_file_join(b->kernel, sizeof(b->kernel), b->dir, "vmlinuz", e) != 0 ||
	    qq_file_join(b->initrd, sizeof(b->initrd), b->dir, "initrd.img", e) != 0 ||
	    qq_file_join(path, sizeof(path), b->dir, "append", e) != 0)
		return e->status;
	if (qq_file_read(path, sizeof(b->append) - 1, &buf, &len, e) != 0) {
		if (e->status == QQ_EXIT_INPUT)
			strlcat(e->msg, " (a base guest holds vmlinuz, initrd.img and append; "
			    "qq-mkbase builds one)", sizeof(e->msg));
		return e->status;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (strchr(buf, '\n') != NULL || memchr(buf, '\0', len) != NULL) {
		free(buf);
		return qq_err_set(e, QQ_EXIT_INPUT, "%s must hold one line (the kernel command "
		    "line)", path);
	}
	strlcpy(b->append, buf, sizeof(b->append));
	free(buf);
	return 0;
}

/*
 * What the base initrd unpacks to: a gzip member ends with ISIZE, the uncompressed
 * size modulo 2^32 (RFC 1952, section 2.3.1); an uncompressed cpio is its own size.
 * Any other compression counts as its file size: a lower bound, so never a false refusal.
 */
static void
base_sizes(struct base *b)
{
	unsigned char head[2], tail[4];
	struct stat st;
	int fd;

	b->initrd_size = b->unpacked = 0;
	if ((fd = open(b->initrd, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0) {
		b->initrd_size = b->unpacked = (unsigned long long)st.st_size;
		if (st.st_size >= 18 && pread(fd, head, 2, 0) == 2 && head[0] == 0x1f &&
		    head[1] == 0x8b &&
		    pread(fd, tail, 4, st.st_size - 4) == 4)
			b->unpacked = (unsigned long long)tail[0] | (unsigned long long)tail[1] << 8 |
			    (unsigned long long)tail[2] << 16 | (unsigned long long)tail[3] << 24;
	}
	close(fd);
}

/*
 * Linux unpacks the initramfs into rootfs, a tmpfs when no root= is given
 * (Documentation/filesystems/ramfs-rootfs-initramfs.rst), whose default size is
 * half the RAM (Documentation/filesystems/tmpfs.rst); the loaded initrd stays in
 * memory while it unpacks. Past either, the console says "Initramfs unpacking
 * failed: write error" and the guest boots without its files: refuse instead.
 */
static int
check_ram(struct qq_mkimage_ctx *c, const struct base *b, struct qq_err *e)
{
	unsigned long long ram, staged, unpacked, loaded, cap;

	if (qq_settings_get(c->s, QQ_SET_RAM, c->f, e) != 0)
		return e->status;
	if (qq_size_parse(c->s->val[QQ_SET_RAM], &ram) == -1)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad ram \"%s\"", c->s->val[QQ_SET_RAM]);
	staged = c->bytes + (unsigned long long)(c->nfiles + 8) * ENTRY_BYTES;
	unpacked = b->unpacked + staged;
	loaded = b->initrd_size + staged;
	cap = ram / 2;
	if (loaded + KERNEL_RESERVE >= ram)
		cap = 0;
	else if (ram - loaded - KERNEL_RESERVE < cap)
		cap = ram - loaded - KERNEL_RESERVE;
	if (unpacked > cap)
		return qq_err_set(e, QQ_EXIT_INPUT, "the initramfs unpacks to about %llu MiB "
		    "(base %llu MiB, staged files %llu MiB), more than a guest with ram %s can "
		    "hold: at most %llu MiB (Linux unpacks it into a tmpfs of half the RAM, beside "
		    "the %llu MiB initrd and the kernel); give more RAM (--ram, QNX_QEMU_RAM) or "
		    "stage less", (unpacked + MIB - 1) / MIB, (b->unpacked + MIB - 1) / MIB,
		    (staged + MIB - 1) / MIB, c->s->val[QQ_SET_RAM], cap / MIB,
		    (loaded + MIB - 1) / MIB);
	return 0;
}

static int
prepare(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	static const char *const names[] = { "vmlinuz", "initrd.img", "append" };
	char path[PATH_MAX], hex[QQ_DIGEST_HEX];
	struct base *b;

	if ((b = c->priv = calloc(1, sizeof(*b))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the base guest");
	if (base_read(c->o, b, e) != 0)
		return e->status;
	for (size_t i = 0; i < 3; i++) {
		if (qq_file_join(path, sizeof(path), b->dir, names[i], e) != 0)
			return e->status;
		if (qq_digest_get(&c->dc, path, hex, NULL, e) != 0) {
			if (e->status == QQ_EXIT_INPUT)
				strlcat(e->msg, " (a base guest holds vmlinuz, initrd.img and append; "
				    "qq-mkbase builds one)", sizeof(e->msg));
			return e->status;
		}
		qq_mkimage_kadd(&c->key, names[i]);
		qq_mkimage_kadd(&c->key, hex);
	}
	qq_mkimage_kadd(&c->key, b->append);
	base_sizes(b);
	return check_ram(c, b, e);
}

struct dirs {
	char	**v;
	size_t	  n, cap;
};

static int
dirs_add(struct dirs *d, const char *p, size_t len)
{
	char **v;

	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->v[i]) == len && strncmp(d->v[i], p, len) == 0)
			return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		if ((v = reallocarray(d->v, cap, sizeof(*v))) == NULL)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	if ((d->v[d->n] = strndup(p, len)) == NULL)
		return -1;
	d->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
write_initrd(struct qq_mkimage_ctx *c, const struct base *b, const char *out, struct qq_err *e)
{
	static const char *const fixed[] = {
		"data", "data/home", "data/home/root", "data/home/root/tests",
	};
	struct qq_cpio_entry *v = NULL;
	struct dirs d = { 0 };
	char tmp[PATH_MAX] = "", keyline[QQ_PUBKEY_LINE_MAX + 2];
	size_t i, n = 0;
	off_t size;
	int in = -1, fd = -1, rc = 0;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (dirs_add(&d, fixed[i], strlen(fixed[i])) == -1)
			goto nomem;
	for (i = 0; i < c->nfiles; i++)	/* every parent of a staged file */
		for (const char *p = c->files[i].guest + 1; (p = strchr(p, '/')) != NULL; p++)
			if (dirs_add(&d, c->files[i].guest + 1,
			    (size_t)(p - c->files[i].guest - 1)) == -1)
				goto nomem;
	qsort(d.v, d.n, sizeof(*d.v), cmp_str);	/* parents before children */
	if ((v = calloc(d.n + c->nfiles + 3, sizeof(*v))) == NULL)
		goto nomem;
	for (i = 0; i < d.n; i++)
		v[n++] = (struct qq_cpio_entry){ .path = d.v[i], .mode = S_IFDIR | 0755 };
	/* Root's home is a real directory with the key (testguest-notes.md). */
	snprintf(keyline, sizeof(keyline), "%s\n", c->pubkey);
	v[n++] = (struct qq_cpio_entry){ .path = "root", .mode = S_IFDIR | 0700 };
	v[n++] = (struct qq_cpio_entry){ .path = "root/.ssh", .mode = S_IFDIR | 0700 };
	v[n++] = (struct qq_cpio_entry){ .path = "root/.ssh/authorized_keys",
	    .mode = S_IFREG | 0600, .data = keyline, .len = strlen(keyline) };
	for (i = 0; i < c->nfiles; i++)
		v[n++] = (struct qq_cpio_entry){ .path = c->files[i].guest + 1,
		    .mode = S_IFREG | c->files[i].mode, .src = c->files[i].host,
		    .mtime = c->files[i].mtime };
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", out) >= sizeof(tmp)) {
		*tmp = '\0';
		rc = qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", out);
		goto done;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", tmp);
		goto done;
	}
	if ((in = open(b->initrd, O_RDONLY | O_CLOEXEC)) == -1 || qq_copy_fd(in, fd, NULL) == -1 ||
	    (size = lseek(fd, 0, SEEK_END)) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to copy %s to %s", b->initrd, tmp);
		goto done;
	}
	/* An uncompressed archive appended to an initrd must start 4-byte aligned. */
	if (size % 4 != 0 && write(fd, "\0\0\0", (size_t)(4 - size % 4)) != 4 - size % 4) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", tmp);
		goto done;
	}
	if ((rc = qq_cpio_write(fd, v, n, e)) != 0 || (rc = qq_sig_check(e)) != 0)
		goto done;
	if (fchmod(fd, 0644) == -1 || close(fd) == -1) {
		fd = -1;
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, out) == -1)
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", out);
done:
	if (in != -1)
		close(in);
	if (fd != -1)
		close(fd);
	if (rc != 0 && *tmp != '\0')
		unlink(tmp);
	for (i = 0; i < d.n; i++)
		free(d.v[i]);
	free(d.v);
	free(v);
	return rc;
nomem:
	*tmp = '\0';
	rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list the initramfs");
	goto done;
}

static int
copy_atomic(const char *src, const char *dst, struct qq_err *e)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", dst, (long)getpid()) >= sizeof(tmp))
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", dst);
	unlink(tmp);
	if (qq_copy_file(src, tmp, 0644, e) != 0)
		return e->status;
	if (rename(tmp, dst) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", dst);
		unlink(tmp);
		return e->status;
	}
	return 0;
}

static int
build(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	const struct base *b = c->priv;
	char kernel[PATH_MAX], initrd[PATH_MAX], dir[PATH_MAX];

	if (qq_mkimage_wpath(c, INITRAMFS_KERNEL, kernel, sizeof(kernel), e) != 0 ||
	    qq_mkimage_wpath(c, INITRAMFS_INITRD, initrd, sizeof(initrd), e) != 0 ||
	    qq_mkimage_wpath(c, "output", dir, sizeof(dir), e) != 0)
		return e->status;
	if (qq_file_mkdirs(dir, 0755, e) != 0 || copy_atomic(b->kernel, kernel, e) != 0 ||
	    write_initrd(c, b, initrd, e) != 0)
		return e->status;
	return 0;
}

static int
set_facts(const char *ws, struct qq_facts *f, const struct base *b, struct qq_err *e)
{
	char kernel[PATH_MAX], initrd[PATH_MAX];

	if (qq_file_join(kernel, sizeof(kernel), ws, INITRAMFS_KERNEL, e) != 0 ||
	    qq_file_join(initrd, sizeof(initrd), ws, INITRAMFS_INITRD, e) != 0 ||
	    qq_facts_set(f, "kernel", kernel, e) != 0 || qq_facts_set(f, "disk", "", e) != 0 ||
	    qq_facts_set(f, "initrd", initrd, e) != 0 ||
	    qq_facts_set(f, "append", b->append, e) != 0)
		return e->status;
	return 0;
}

static int
facts(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	return set_facts(c->ws.path, c->f, c->priv, e);
}

static int
plan(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	struct base *b;

	if ((b = c->priv = calloc(1, sizeof(*b))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the base guest");
	if (base_read(c->o, b, e) != 0)
		return e->status;
	return set_facts(c->ws.path, c->f, b, e);
}

static void
done(struct qq_mkimage_ctx *c)
{
	free(c->priv);
	c->priv = NULL;
}

static const char *const outputs[] = { INITRAMFS_KERNEL, INITRAMFS_INITRD, NULL };

const struct qq_mkimage_ops qq_mkimage_initramfs = {
	.name = "initramfs",
	.guest_os = "Linux",
	.foreign = "ldqnx",
	.native = "ld-linux-*.so",
	.outputs = outputs,
	.skipped = "initrd not rebuilt",
	.prepare = prepare,
	.build = build,
	.facts = facts,
	.plan = plan,
	.done = done,
};
