/* stage.c: the program and its tests, checked, then copied into the workspace's staging tree (qq-stage). */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define EM_386_		3
#define EM_ARM_		40
#define EM_X86_64_	62
#define EM_AARCH64_	183
#define EM_RISCV_	243

#define MANIFEST	".qq-manifest"
#define MANIFEST_MAGIC	"qq-stage-manifest 1"

/* The seed's test rule (DESIGN.md section 8): names with these suffixes are not tests. */
static const char *const skip_suffixes[] = {
	".py", ".sh", ".so", ".a", ".o", ".d", ".h", ".hpp", ".cpp", ".cc", ".txt", ".md",
	".json", ".params", ".runfiles", ".runfiles_manifest",
};

/* Fingerprint of a source: any write, chmod, rename over or touch changes one of these. */
struct srcfp {
	unsigned long long	dev, ino;
	long long		size, mtime, ctime;
	unsigned		mode;
};

/* Fingerprint of a staged copy: qq-stage writes each changed file as a new inode. */
struct dstfp {
	unsigned long long	dev, ino;
	long long		size, mtime;
};

struct ment {
	char		*guest;
	char		*src;
	struct srcfp	 s;
	struct dstfp	 d;
};

struct manifest {
	char		 arch[16];
	struct ment	*v;
	size_t		 n, cap;
};

struct item {
	char		*given;		/* the path as the user gave it, for messages */
	char		*abs;		/* absolute source path */
	const char	*name;		/* guest file name: points into given */
	char		*guest;		/* /data/home/root[/tests]/name */
	int		 test;
	int		 have_s;	/* s already filled (from discovery) */
	struct srcfp	 s;
	struct dstfp	 d;
	const struct ment *old;		/* manifest entry when unchanged */
};

struct items {
	struct item	*v;
	size_t		 n, cap;
};

static long long
tsns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void
srcfp(const struct stat *st, struct srcfp *s)
{
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = tsns(&st->st_mtim);
	s->ctime = tsns(&st->st_ctim);
	s->mode = st->st_mode & 07777;
}

static void
dstfp(const struct stat *st, struct dstfp *d)
{
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->size = st->st_size;
	d->mtime = tsns(&st->st_mtim);
}

int
qq_stage_test_name_ok(const char *name)
{
	size_t len = strlen(name), sl;

	if (len == 0 || name[0] == '.' || name[0] == '_')
		return 0;
	for (size_t i = 0; i < sizeof(skip_suffixes) / sizeof(skip_suffixes[0]); i++) {
		sl = strlen(skip_suffixes[i]);
		if (len > sl && strcmp(name + len - sl, skip_suffixes[i]) == 0)
			return 0;
	}
	return 1;
}

const char *
qq_stage_machine_name(int machine, int is64, char *buf, size_t bufsz)
{
	switch (machine) {
	case EM_X86_64_:
		return is64 ? "x86_64" : "x32 (32-bit x86_64)";
	case EM_AARCH64_:
		return is64 ? "aarch64" : "aarch64 ILP32";
	case EM_386_:
		return "i386";
	case EM_ARM_:
		return "32-bit arm";
	case EM_RISCV_:
		return "riscv";
	default:
		snprintf(buf, bufsz, "ELF machine %d", machine);
		return buf;
	}
}

int
qq_stage_check(const char *path, const char *arch, struct stat *stp, struct qq_err *e)
{
	unsigned char h[64];
	char mbuf[32];
	struct stat st;
	ssize_t n;
	int fd, machine, type, is64, want;

	if (stat(path, &st) == -1)
		return qq_err_sys(e, errno == ENOENT || errno == ENOTDIR || errno == EACCES ||
		    errno == ELOOP ? QQ_EXIT_INPUT : QQ_EXIT_RUNTIME, "unable to read %s", path);
	if (S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "%s is a directory, not a program", path);
	if (!S_ISREG(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "%s is not a regular file", path);
	if (!(st.st_mode & S_IXUSR))
		return qq_err_set(e, QQ_EXIT_INPUT, "%s is not executable (mode %04o); chmod u+x it",
		    path, (unsigned)(st.st_mode & 07777));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", path);
	if (fstat(fd, &st) == -1 || (n = read(fd, h, sizeof(h))) == -1) {
		qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", path);
		close(fd);
		return e->status;
	}
	close(fd);
	if (stp != NULL)
		*stp = st;
	if (n >= 2 && h[0] == '#' && h[1] == '!')
		return 0;
	if (n < 20 || memcmp(h, "\177ELF", 4) != 0 || (h[4] != 1 && h[4] != 2) ||
	    (h[5] != 1 && h[5] != 2))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "%s is neither an ELF executable nor a #! script", path);
	is64 = h[4] == 2;
	if (h[5] == 1) {
		type = h[16] | h[17] << 8;
		machine = h[18] | h[19] << 8;
	} else {
		type = h[16] << 8 | h[17];
		machine = h[18] << 8 | h[19];
	}
	if (type != 2 && type != 3)	/* ET_EXEC, ET_DYN */
		return qq_err_set(e, QQ_EXIT_INPUT, "%s is an ELF %s, not an executable", path,
		    type == 1 ? "relocatable object (.o)" : type == 4 ? "core dump" : "file");
	want = strcmp(arch, "aarch64") == 0 ? EM_AARCH64_ : EM_X86_64_;
	if (machine != want || !is64 || h[5] != 1)
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "%s is an ELF binary for %s%s, but the target arch is %s", path,
		    qq_stage_machine_name(machine, is64, mbuf, sizeof(mbuf)),
		    h[5] == 2 ? " (big-endian)" : "", arch);
	return 0;
}

/* A little-endian number of k bytes. */
static unsigned long long
le(const unsigned char *p, int k)
{
	unsigned long long v = 0;

	while (k-- > 0)
		v = v << 8 | p[k];
	return v;
}

/*
 * The ELF program interpreter (PT_INTERP) names the OS a binary was linked for:
 * /lib64/ld-linux-x86-64.so.2 or /lib/ld-linux-aarch64.so.1 on Linux (glibc), and
 * /usr/lib/ldqnx-64.so.2 on QNX (GCC's gcc/config/i386/nto.h, NTO_DYNAMIC_LINKER64;
 * the same name on aarch64le). A static binary has none.
 */
int
qq_stage_interp(const char *path, char *out, size_t outsz, struct qq_err *e)
{
	unsigned char h[64], ph[56];
	unsigned long long phoff, off, size;
	unsigned phentsize, phnum, i;
	ssize_t n;
	int fd;

	*out = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", path);
	n = pread(fd, h, sizeof(h), 0);
	/* Only 64-bit little-endian ELF is ever staged (qq_stage_check); anything else has none. */
	if (n != (ssize_t)sizeof(h) || memcmp(h, "\177ELF", 4) != 0 || h[4] != 2 || h[5] != 1) {
		close(fd);
		return 0;
	}
	phoff = le(h + 32, 8);
	phentsize = (unsigned)le(h + 54, 2);
	phnum = (unsigned)le(h + 56, 2);
	for (i = 0; i < phnum && i < 256 && phentsize >= sizeof(ph); i++) {
		if (pread(fd, ph, sizeof(ph), (off_t)(phoff + (unsigned long long)i * phentsize)) !=
		    (ssize_t)sizeof(ph))
			break;
		if (le(ph, 4) != 3)	/* PT_INTERP */
			continue;
		off = le(ph + 8, 8);
		size = le(ph + 32, 8);
		if (size >= outsz)
			size = outsz - 1;
		if ((n = pread(fd, out, (size_t)size, (off_t)off)) < 0)
			n = 0;
		out[n] = '\0';
		out[strcspn(out, "\n")] = '\0';
		break;
	}
	close(fd);
	return 0;
}

static void
items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].given);
		free(it->v[i].abs);
		free(it->v[i].guest);
	}
	free(it->v);
	memset(it, 0, sizeof(*it));
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* abs: the absolute path when the caller has it (discovery), else made here. */
static int
items_add(struct items *it, const char *path, const char *absp, int test, struct qq_err *e)
{
	struct item *v, *x;
	char abs[PATH_MAX];

	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;

		if ((v = reallocarray(it->v, cap, sizeof(*v))) == NULL)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list files");
		it->v = v;
		it->cap = cap;
	}
	x = &it->v[it->n];
	memset(x, 0, sizeof(*x));
	if (absp == NULL) {
		if (qq_file_abspath(path, abs, sizeof(abs), e) != 0)
			return e->status;
		absp = abs;
	}
	if ((x->given = strdup(path)) == NULL || (x->abs = strdup(absp)) == NULL) {
		free(x->given);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list files");
	}
	x->name = base_name(x->given);
	x->test = test;
	it->n++;
	return 0;
}

static int
skip_name(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || !qq_stage_test_name_ok(name);
}

static int
discover(struct items *it, const char *dir, const char *absdir, int depth, struct qq_err *e)
{
	struct dirent *d;
	struct stat st;
	char path[PATH_MAX], abs[PATH_MAX];
	DIR *dp;
	int rc = 0;

	if (depth > 64)
		return qq_err_set(e, QQ_EXIT_INPUT, "unable to read tests directory %s: "
		    "nested too deep", dir);
	if ((dp = opendir(dir)) == NULL)
		return qq_err_sys(e, QQ_EXIT_INPUT, "unable to read tests directory %s", dir);
	while (rc == 0) {
		errno = 0;
		if ((d = readdir(dp)) == NULL) {
			if (errno != 0)
				rc = qq_err_sys(e, QQ_EXIT_INPUT,
				    "unable to read tests directory %s", dir);
			break;
		}
		/* Hidden, _private and non-test names are skipped, directories included. */
		if (skip_name(d->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >=
		    sizeof(path) || (size_t)snprintf(abs, sizeof(abs), "%s/%s",
		    strcmp(absdir, "/") == 0 ? "" : absdir, d->d_name) >= sizeof(abs)) {
			rc = qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s/%s", dir, d->d_name);
			break;
		}
		if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			rc = discover(it, path, abs, depth + 1, e);
			continue;
		}
		/* A symlink counts when it leads to a file; linked directories are not followed. */
		if (S_ISLNK(st.st_mode) && fstatat(dirfd(dp), d->d_name, &st, 0) == -1)
			continue;
		if (S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR) &&
		    (rc = items_add(it, path, abs, 1, e)) == 0) {
			srcfp(&st, &it->v[it->n - 1].s);	/* saves a stat later */
			it->v[it->n - 1].have_s = 1;
		}
	}
	closedir(dp);
	return rc;
}

int
qq_stage_discover(const char *dir, char ***pathsp, size_t *np, struct qq_err *e)
{
	struct items it = { 0 };
	char absdir[PATH_MAX], **v;

	if (qq_file_abspath(dir, absdir, sizeof(absdir), e) != 0)
		return e->status;
	if (discover(&it, dir, absdir, 0, e) != 0) {
		items_free(&it);
		return e->status;
	}
	if ((v = calloc(it.n + 1, sizeof(*v))) == NULL) {
		items_free(&it);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list files");
	}
	for (size_t i = 0; i < it.n; i++) {
		v[i] = it.v[i].given;
		it.v[i].given = NULL;
	}
	*pathsp = v;
	*np = it.n;
	items_free(&it);
	return 0;
}

static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c;

	if (x->test != y->test)
		return x->test - y->test;	/* the program first */
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->given, y->given);
}

static int
cmp_ment(const void *a, const void *b)
{
	return strcmp(((const struct ment *)a)->guest, ((const struct ment *)b)->guest);
}

static void
manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].guest);
		free(m->v[i].src);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* "DEV INO SIZE MTIME CTIME MODE\tDEV INO SIZE MTIME": strtoll, faster than sscanf here. */
static int
parse_fp(const char *p, struct ment *x)
{
	long long *s[] = { (long long *)&x->s.dev, (long long *)&x->s.ino, &x->s.size,
	    &x->s.mtime, &x->s.ctime };
	long long *d[] = { (long long *)&x->d.dev, (long long *)&x->d.ino, &x->d.size,
	    &x->d.mtime };
	char *end;

	for (size_t i = 0; i < 5; i++) {
		*s[i] = strtoll(p, &end, 10);
		if (end == p || *end != ' ')
			return -1;
		p = end + 1;
	}
	x->s.mode = (unsigned)strtoul(p, &end, 8);
	if (end == p || *end != '\t')
		return -1;
	p = end + 1;
	for (size_t i = 0; i < 4; i++) {
		*d[i] = strtoll(p, &end, 10);
		if (end == p || *end != (i == 3 ? '\0' : ' '))
			return -1;
		p = end + 1;
	}
	return 0;
}

/* A missing or malformed manifest only means every file is copied again. */
static void
manifest_load(struct manifest *m, const char *path)
{
	char *line = NULL, *t1, *t2, *t3;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int ok = 1;

	memset(m, 0, sizeof(*m));
	if ((fp = fopen(path, "re")) == NULL)
		return;
	if ((len = getline(&line, &cap, fp)) == -1 ||
	    sscanf(line, MANIFEST_MAGIC " %15s", m->arch) != 1)
		ok = 0;
	while (ok && (len = getline(&line, &cap, fp)) != -1) {
		struct ment x = { 0 }, *v;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((t1 = strchr(line, '\t')) == NULL || (t2 = strchr(t1 + 1, '\t')) == NULL ||
		    (t3 = strchr(t2 + 1, '\t')) == NULL || parse_fp(t2 + 1, &x) == -1) {
			ok = 0;
			break;
		}
		if (m->n == m->cap) {
			size_t ncap = m->cap ? m->cap * 2 : 64;

			if ((v = reallocarray(m->v, ncap, sizeof(*v))) == NULL) {
				ok = 0;
				break;
			}
			m->v = v;
			m->cap = ncap;
		}
		x.guest = strndup(line, (size_t)(t1 - line));
		x.src = strndup(t1 + 1, (size_t)(t2 - t1 - 1));
		m->v[m->n++] = x;
		if (x.guest == NULL || x.src == NULL)
			ok = 0;
	}
	free(line);
	fclose(fp);
	if (!ok)
		manifest_free(m);
	else if (m->n > 0)
		qsort(m->v, m->n, sizeof(*m->v), cmp_ment);
}

static const struct ment *
manifest_find(const struct manifest *m, const char *guest)
{
	struct ment key = { .guest = (char *)guest };

	if (m->n == 0)
		return NULL;
	return bsearch(&key, m->v, m->n, sizeof(*m->v), cmp_ment);
}

static int
same_src(const struct srcfp *a, const struct srcfp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime == b->mtime && a->ctime == b->ctime && a->mode == b->mode;
}

/* Checks every file (before anything is copied); a file unchanged since a stage for the same arch was checked then. */
static int
check_all(struct items *it, const struct manifest *m, const char *arch, struct qq_err *e)
{
	struct stat st;

	for (size_t i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];
		const struct ment *old = manifest_find(m, x->guest);

		if (old != NULL && strcmp(old->src, x->abs) == 0 && strcmp(m->arch, arch) == 0) {
			if (!x->have_s && stat(x->abs, &st) == 0 && S_ISREG(st.st_mode)) {
				srcfp(&st, &x->s);
				x->have_s = 1;
			}
			if (x->have_s && same_src(&x->s, &old->s))
				continue;
		}
		if (qq_stage_check(x->given, arch, &st, e) != 0)
			return e->status;
		srcfp(&st, &x->s);
	}
	return 0;
}

static int
build_items(struct items *it, const struct qq_stage_opts *o, struct qq_err *e)
{
	char absdir[PATH_MAX];
	size_t i;

	if (o->program == NULL || *o->program == '\0')
		return qq_err_set(e, QQ_EXIT_USAGE, "no program given");
	if (items_add(it, o->program, NULL, 0, e) != 0)
		return e->status;
	for (i = 0; i < o->ntests; i++)
		if (items_add(it, o->tests[i], NULL, 1, e) != 0)
			return e->status;
	for (i = 0; i < o->ntests_dirs; i++)
		if (qq_file_abspath(o->tests_dirs[i], absdir, sizeof(absdir), e) != 0 ||
		    discover(it, o->tests_dirs[i], absdir, 0, e) != 0)
			return e->status;
	qsort(it->v, it->n, sizeof(*it->v), cmp_item);
	for (i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];
		size_t glen;

		if (*x->name == '\0' || strcmp(x->name, ".") == 0 || strcmp(x->name, "..") == 0)
			return qq_err_set(e, QQ_EXIT_INPUT, "%s has no file name", x->given);
		if (strpbrk(x->given, "\t\n") != NULL || strpbrk(x->abs, "\t\n") != NULL)
			return qq_err_set(e, QQ_EXIT_INPUT,
			    "%s: a path with a tab or newline cannot be staged", x->given);
		if (i > 0 && x->test && it->v[i - 1].test &&
		    strcmp(x->name, it->v[i - 1].name) == 0)
			return qq_err_set(e, QQ_EXIT_INPUT,
			    "two tests would both be %s/tests/%s: %s and %s", QQ_STAGE_HOME,
			    x->name, it->v[i - 1].given, x->given);
		if (!x->test && strcmp(x->name, "tests") == 0)
			return qq_err_set(e, QQ_EXIT_INPUT, "program %s would hide the tests "
			    "directory %s/tests; rename it", x->given, QQ_STAGE_HOME);
		glen = strlen(QQ_STAGE_HOME) + strlen("/tests/") + strlen(x->name) + 1;
		if ((x->guest = malloc(glen)) == NULL)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list files");
		snprintf(x->guest, glen, "%s/%s%s", QQ_STAGE_HOME, x->test ? "tests/" : "", x->name);
	}
	return 0;
}

/* Writes without fsync: an fsync here would flush every staged byte (ext4 data=ordered). */
static int
write_manifest(const char *path, const struct items *it, const char *arch, struct qq_err *e)
{
	char tmp[PATH_MAX];
	FILE *fp;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= sizeof(tmp))
		return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", tmp);
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	}
	fprintf(fp, MANIFEST_MAGIC " %s\n", arch);
	for (size_t i = 0; i < it->n; i++) {
		const struct item *x = &it->v[i];

		fprintf(fp, "%s\t%s\t%llu %llu %lld %lld %lld %o\t%llu %llu %lld %lld\n",
		    x->guest, x->abs, x->s.dev, x->s.ino, x->s.size, x->s.mtime, x->s.ctime,
		    x->s.mode, x->d.dev, x->d.ino, x->d.size, x->d.mtime);
	}
	if (fchmod(fd, 0644) == -1 || fclose(fp) != 0) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
		unlink(tmp);
		return e->status;
	}
	if (rename(tmp, path) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
		unlink(tmp);
		return e->status;
	}
	return 0;
}

static int
copy_one(struct item *x, const char *dst, struct qq_err *e)
{
	struct stat st;
	int in, out;

	if ((in = open(x->abs, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return qq_err_sys(e, QQ_EXIT_INPUT, "unable to read %s", x->given);
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(in);
		return qq_err_set(e, QQ_EXIT_INPUT, "%s changed while being staged", x->given);
	}
	srcfp(&st, &x->s);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", dst);
		close(in);
		return e->status;
	}
	if (qq_copy_fd(in, out, NULL) == -1 || fchmod(out, st.st_mode & 0777) == -1 ||
	    fstat(out, &st) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to copy %s to %s", x->given, dst);
		close(in);
		close(out);
		return e->status;
	}
	close(in);
	if (close(out) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to copy %s to %s", x->given, dst);
	dstfp(&st, &x->d);
	return 0;
}

/*
 * Builds the new tree in staging.new (unchanged files hard-linked from the
 * current tree, the others copied), then swaps it with staging in one
 * renameat2(RENAME_EXCHANGE): an interrupted stage leaves the previous tree.
 */
static int
restage(struct qq_ws *ws, struct items *it, const char *arch, struct qq_err *e)
{
	char cur[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX], dst[PATH_MAX], old[PATH_MAX];
	struct stat st;
	size_t i;

	if (qq_ws_path(ws, QQ_STAGE_DIR, cur, sizeof(cur), e) != 0 ||
	    qq_ws_path(ws, QQ_STAGE_DIR ".new", tmp, sizeof(tmp), e) != 0)
		return e->status;
	if (qq_file_rmtree(tmp) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s", tmp);
	if (qq_file_join(dir, sizeof(dir), tmp, QQ_STAGE_HOME "/tests" + 1, e) != 0 ||
	    qq_file_mkdirs(dir, 0755, e) != 0)
		goto fail;
	for (i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];

		if (qq_sig_check(e) != 0)	/* interrupted: staging.new goes below */
			goto fail;
		if ((size_t)snprintf(dst, sizeof(dst), "%s%s", tmp, x->guest) >= sizeof(dst)) {
			qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s%s", tmp, x->guest);
			goto fail;
		}
		if (x->old != NULL) {
			snprintf(old, sizeof(old), "%s%s", cur, x->guest);
			if (link(old, dst) == 0 && lstat(dst, &st) == 0) {
				dstfp(&st, &x->d);
				continue;
			}
			unlink(dst);
		}
		if (copy_one(x, dst, e) != 0)
			goto fail;
	}
	if (qq_sig_check(e) != 0 || qq_file_join(dst, sizeof(dst), tmp, MANIFEST, e) != 0)
		goto fail;
	if (write_manifest(dst, it, arch, e) != 0)
		goto fail;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, cur, RENAME_EXCHANGE) == -1) {
		if (errno != ENOENT || rename(tmp, cur) == -1) {
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to replace %s", cur);
			goto fail;
		}
	}
	(void)qq_file_rmtree(tmp);	/* the previous tree; a leftover is removed next time */
	return 0;
fail:
	(void)qq_file_rmtree(tmp);
	(void)qq_sig_check(e);	/* a copy cut short by a signal: say so, 128+n */
	return e->status;
}

static int
plan(struct qq_ws *ws, struct items *it, const struct manifest *m, int *changed,
    struct qq_err *e)
{
	char path[PATH_MAX];
	struct stat st;
	int dfd[2];

	*changed = m->n != it->n;
	/* The staged copies, looked up relative to their directories: shorter path walks. */
	for (int t = 0; t < 2; t++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s%s%s", ws->path, QQ_STAGE_DIR,
		    QQ_STAGE_HOME, t ? "/tests" : "") >= sizeof(path))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", ws->path);
		dfd[t] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	for (size_t i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];
		const struct ment *old = manifest_find(m, x->guest);

		x->old = NULL;
		if (old == NULL || strcmp(old->src, x->abs) != 0 || !same_src(&x->s, &old->s)) {
			*changed = 1;
			continue;
		}
		if (dfd[x->test] == -1 ||
		    fstatat(dfd[x->test], x->name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode)) {
			*changed = 1;
			continue;
		}
		dstfp(&st, &x->d);
		if (x->d.dev != old->d.dev || x->d.ino != old->d.ino ||
		    x->d.size != old->d.size || x->d.mtime != old->d.mtime) {
			*changed = 1;	/* someone touched our copy: copy it again */
			continue;
		}
		x->old = old;
	}
	for (int t = 0; t < 2; t++)
		if (dfd[t] != -1)
			close(dfd[t]);
	return 0;
}

static int
emit(struct qq_ws *ws, struct qq_settings *s, struct qq_facts *f, const struct items *it,
    struct qq_err *e)
{
	char val[PATH_MAX * 2 + 2];

	if (qq_settings_export(s, f, e) != 0)
		return e->status;
	qq_facts_del(f, "stage");
	for (size_t i = 0; i < it->n; i++) {
		if ((size_t)snprintf(val, sizeof(val), "%s\t%s/%s%s", it->v[i].guest, ws->path,
		    QQ_STAGE_DIR, it->v[i].guest) >= sizeof(val))
			return qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", ws->path);
		if (qq_facts_add(f, "stage", val, e) != 0)
			return e->status;
	}
	return 0;
}

int
qq_stage_facts(struct qq_settings *s, struct qq_facts *f, const struct qq_stage_opts *o,
    struct qq_stage_result *res, struct qq_err *e)
{
	struct items it = { 0 };
	struct manifest m = { 0 };
	struct qq_ws ws = { .lockfd = -1 };
	char path[PATH_MAX];
	const char *arch;
	struct stat st;
	int changed = 0, opened = 0;

	memset(res, 0, sizeof(*res));
	e->status = 0;
	if (qq_settings_get(s, QQ_SET_ARCH, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_WORKSPACE, f, e) != 0)
		return e->status;
	arch = s->val[QQ_SET_ARCH];
	if (strpbrk(s->val[QQ_SET_WORKSPACE], "\t\n") != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "workspace %s: a path with a tab or newline "
		    "cannot hold staged files", s->val[QQ_SET_WORKSPACE]);
	if (build_items(&it, o, e) != 0)
		goto out;
	/* What the real stage would refuse (not ours, VM running) a dry run refuses too. */
	if (o->check_only && !o->compare_only && qq_ws_check(&ws, s->val[QQ_SET_WORKSPACE], e) != 0)
		goto out;
	/* An existing workspace is locked (and swept) before its manifest is trusted. */
	if (!o->check_only && !o->compare_only &&
	    (stat(s->val[QQ_SET_WORKSPACE], &st) == 0 || errno != ENOENT)) {
		if (qq_ws_begin(&ws, s->val[QQ_SET_WORKSPACE], 1, e) != 0)
			goto out;
		opened = 1;
		if (qq_ws_path(&ws, QQ_STAGE_DIR "/" MANIFEST, path, sizeof(path), e) != 0)
			goto out;
		manifest_load(&m, path);
	}
	if (check_all(&it, &m, arch, e) != 0)
		goto out;
	if (o->compare_only) {
		/*
		 * The VM already running in the workspace is reused (qq-run --run-tests):
		 * nothing may be written under it, but whether what it booted with is
		 * still what would be staged is the caller's question.
		 */
		if (qq_ws_open(&ws, s->val[QQ_SET_WORKSPACE], 0, e) != 0)
			goto out;
		if (qq_ws_path(&ws, QQ_STAGE_DIR "/" MANIFEST, path, sizeof(path), e) != 0)
			goto out;
		manifest_load(&m, path);
		if (check_all(&it, &m, arch, e) != 0 || plan(&ws, &it, &m, &changed, e) != 0)
			goto out;
		res->files = it.n;
		res->changed = changed || strcmp(m.arch, arch) != 0;
		emit(&ws, s, f, &it, e);
		goto out;
	}
	if (o->check_only) {
		/* The facts a real stage would set: later dry steps check them. */
		res->files = it.n;
		emit(&ws, s, f, &it, e);
		goto out;
	}
	if (!opened && qq_ws_begin(&ws, s->val[QQ_SET_WORKSPACE], 1, e) != 0)
		goto out;
	if (plan(&ws, &it, &m, &changed, e) != 0)
		goto out;
	if (strcmp(m.arch, arch) != 0)
		changed = 1;	/* the manifest records the arch the files were checked for */
	res->files = it.n;
	for (size_t i = 0; i < it.n; i++)
		if (it.v[i].old == NULL)
			res->copied++;
	if (changed && restage(&ws, &it, arch, e) != 0)
		goto out;
	res->changed = changed;
	emit(&ws, s, f, &it, e);
out:
	qq_ws_close(&ws);
	manifest_free(&m);
	items_free(&it);
	return e->status;
}

int
qq_stage_parse(const char *value, char *guest, size_t gsz, char *host, size_t hsz,
    struct qq_err *e)
{
	const char *tab = strchr(value, '\t');
	size_t glen;

	if (tab == NULL || strchr(tab + 1, '\t') != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad stage fact \"%.200s\": expected GUEST-PATH "
		    "<tab> HOST-PATH", value);
	glen = (size_t)(tab - value);
	if (glen >= gsz || strlen(tab + 1) >= hsz)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad stage fact \"%.200s\": path too long",
		    value);
	memcpy(guest, value, glen);
	guest[glen] = '\0';
	strlcpy(host, tab + 1, hsz);
	if (strncmp(guest, "/data/", 6) != 0 || guest[6] == '\0' || guest[glen - 1] == '/' ||
	    strstr(guest, "/../") != NULL || strstr(guest, "/./") != NULL ||
	    strstr(guest, "//") != NULL || (glen >= 3 && strcmp(guest + glen - 3, "/..") == 0))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad stage fact \"%.200s\": the guest path "
		    "must be a file under /data/", value);
	if (*host != '/')
		return qq_err_set(e, QQ_EXIT_INPUT, "bad stage fact \"%.200s\": the host path "
		    "must be absolute", value);
	/* The directories every image holds (stage.c and both builders make them). */
	if (strcmp(guest, "/data/home") == 0 || strcmp(guest, QQ_STAGE_HOME) == 0 ||
	    strcmp(guest, QQ_STAGE_HOME "/tests") == 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad stage fact \"%.200s\": %s is a directory "
		    "qq creates in the guest, not a file", value, guest);
	return 0;
}
