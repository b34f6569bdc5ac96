/* exec.c: qq-exec: one host binary run in the workspace's VM as if it ran here (the build systems' emulator hook). */
#include "config.h"

#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define CACHE_DIR	"exec"		/* WS/exec/KEY: the boot a guest file was copied for */
#define BOOT_LOCK	"exec/boot.lock"
#define BOOT_FILE	"exec/boot"	/* the settings qq-exec --boot last booted with */
#define HASH_LEN	32		/* hex digits of the digest in guest paths */
/* After the kill at a timeout (or a signal), how long the session may take to end. */
#define KILL_GRACE_MS	30000

/* One file to put in the guest: its bytes' digest and where it lands. */
struct item {
	char		 host[QQ_VALUE_MAX];
	char		 name[NAME_MAX + 1];	/* basename, in the store */
	char		 guest[QQ_VALUE_MAX];	/* --file's GUEST ("" for the binary) */
	char		 hex[QQ_DIGEST_HEX];
	off_t		 size;
	int		 fd;
};

static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
	caught = sig;
}


/* The guest path of a stored file: QQ_EXEC_STORE/HASH/NAME. */
static void
store_path(const struct item *it, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%.*s/%s", QQ_EXEC_STORE, HASH_LEN, it->hex, it->name);
}

/*
 * The digest of the open file it->fd (fstat in *st), remembered in
 * WS/exec/fp/KEY (KEY from the file's absolute path) by digest.c's
 * fingerprint rule, so that the 100th run of an unchanged test binary does
 * not read its megabytes again. Anything odd (no cache yet, a file replaced
 * between stat and open) reads the open file itself.
 */
static int
digest(const char *ws, struct item *it, const struct stat *st, struct qq_err *e)
{
	struct qq_digest_cache dc;
	struct stat cst;
	struct qq_err ce;
	char abs[QQ_VALUE_MAX], key[QQ_DIGEST_HEX], cpath[QQ_VALUE_MAX + 64];
	int ok = 0;

	memset(&dc, 0, sizeof(dc));
	dc.dirfd = -1;
	if (ws != NULL && qq_file_abspath(it->host, abs, sizeof(abs), &ce) == 0) {
		qq_digest_buf(abs, strlen(abs), key);
		snprintf(cpath, sizeof(cpath), "%s/%s/fp/%.32s", ws, CACHE_DIR, key);
		if (qq_digest_load(&dc, cpath, &ce) == 0 &&
		    qq_digest_get(&dc, abs, it->hex, &cst, &ce) == 0 &&
		    cst.st_dev == st->st_dev && cst.st_ino == st->st_ino &&
		    cst.st_size == st->st_size && cst.st_mtim.tv_sec == st->st_mtim.tv_sec &&
		    cst.st_mtim.tv_nsec == st->st_mtim.tv_nsec &&
		    cst.st_ctim.tv_sec == st->st_ctim.tv_sec &&
		    cst.st_ctim.tv_nsec == st->st_ctim.tv_nsec) {
			ok = 1;
			/*
			 * Kept only in a workspace qq-exec has used (WS/exec
			 * exists): making WS here would make the directory
			 * that --boot must find absent or empty. A cache:
			 * failing to keep it is no error.
			 */
			*strrchr(cpath, '/') = '\0';
			if (mkdir(cpath, 0755) == 0 || errno == EEXIST) {
				cpath[strlen(cpath)] = '/';
				(void)qq_digest_save(&dc, cpath, &ce);
			}
		}
	}
	qq_digest_free(&dc);
	if (ok)
		return 0;
	return qq_digest_fd(it->fd, it->host, it->hex, e);
}

/*
 * Opens and digests a host file. The binary itself missing is 127 and
 * unreadable or not a regular file 126, as a shell would say; a --file is
 * qq's bad input (QQ_EXEC_FAILED).
 */
static int
item_open(struct item *it, const char *ws, const char *host, int binary, struct qq_err *e)
{
	const char *base;
	struct stat st;

	it->fd = -1;
	if (strlcpy(it->host, host, sizeof(it->host)) >= sizeof(it->host))
		return qq_err_set(e, QQ_EXEC_FAILED, "file name too long: %.100s...", host);
	if ((it->fd = open(host, O_RDONLY | O_CLOEXEC)) == -1)
		return qq_err_sys(e, !binary ? QQ_EXEC_FAILED : errno == ENOENT ||
		    errno == ENOTDIR ? QQ_EXIT_NOTFOUND : QQ_EXIT_NOEXEC, "unable to read %s", host);
	if (fstat(it->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(it->fd);
		it->fd = -1;
		return qq_err_set(e, binary ? QQ_EXIT_NOEXEC : QQ_EXEC_FAILED,
		    "%s is not a regular file", host);
	}
	if (binary && (st.st_mode & 0111) == 0) {
		close(it->fd);
		it->fd = -1;
		return qq_err_set(e, QQ_EXIT_NOEXEC, "%s is not executable", host);
	}
	it->size = st.st_size;
	base = strrchr(host, '/') != NULL ? strrchr(host, '/') + 1 : host;
	if (*base == '\0' || strlcpy(it->name, base, sizeof(it->name)) >= sizeof(it->name)) {
		close(it->fd);
		it->fd = -1;
		return qq_err_set(e, QQ_EXEC_FAILED, "bad file name %s", host);
	}
	if (digest(ws, it, &st, e) != 0 || lseek(it->fd, 0, SEEK_SET) == -1) {
		e->status = QQ_EXEC_FAILED;
		close(it->fd);
		it->fd = -1;
		return e->status;
	}
	return 0;
}

/*
 * Which boot of the VM this is: WS/guest is rewritten (a new inode, by
 * rename) at every spawn, so its inode and mtime name the boot. A file copied
 * for another boot is copied again (an initramfs guest forgets /data).
 */
static void
boot_id(const char *ws, char *out, size_t outsz)
{
	char path[QQ_VALUE_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", ws, QQ_GUEST_FILE);
	if (stat(path, &st) == -1)
		snprintf(out, outsz, "unknown\n");
	else
		snprintf(out, outsz, "%llu %llu %lld.%09ld\n", (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec);
}

/* A session that ran nothing (qq_guest_job_ran_nothing) is tried again, after a pause. */
static int
refused(const struct qq_guest_job *j, int attempt)
{
	return qq_guest_job_ran_nothing(j) && !caught && qq_guest_retry_pause(attempt);
}

/* Runs one short command in the guest over c with stdin from infd (-1: /dev/null). */
static int
guest_sh(struct qq_guest_conn *c, const char *cmd, int infd, int *status, struct qq_err *e)
{
	struct qq_guest_job j;
	char *argv[] = { "eval", (char *)cmd, NULL };
	int rc;

	int attempt;

	for (attempt = 1;; attempt++) {
		if (infd != -1 && lseek(infd, 0, SEEK_SET) == -1)
			return qq_err_sys(e, QQ_EXEC_FAILED, "unable to rewind a file to copy");
		if ((rc = qq_guest_job_start(c, argv, infd, STDERR_FILENO, STDERR_FILENO, &j,
		    e)) != 0)
			return rc;
		if ((rc = qq_guest_job_wait(&j, e)) == 0 || !refused(&j, attempt))
			break;
	}
	if (rc != 0)
		return rc;
	*status = j.status;
	return 0;
}

/* WS/exec/KEY, the record of a guest file (KEY from its guest path DIGEST/NAME). */
static void
record_path(const char *ws, const struct item *it, char *out, size_t outsz)
{
	char dst[QQ_VALUE_MAX], key[QQ_DIGEST_HEX];

	store_path(it, dst, sizeof(dst));
	qq_digest_buf(dst, strlen(dst), key);
	snprintf(out, outsz, "%s/%s/%.40s", ws, CACHE_DIR, key);
}

/*
 * Puts a file into the guest's store once per boot (id). The host's record
 * WS/exec/KEY (KEY from the guest path DIGEST/NAME) is locked while the
 * copy runs, so concurrent first calls copy once; in the guest the bytes go to a temporary name, are checked for
 * their size and renamed, so a reader never sees half a file. The copy is
 * `cat` over a session of the shared master: every POSIX guest has it, it
 * needs no sftp subsystem (OpenSSH 9's scp speaks sftp), and it is one
 * round trip.
 */
static int
store(struct qq_guest_conn *c, const char *ws, const char *id, struct item *it,
    struct qq_exec_stats *st, FILE *talk, struct qq_err *e)
{
	char rec[QQ_VALUE_MAX + 128], have[128], dst[QQ_VALUE_MAX], tok[24];
	char msg[QQ_ERR_MAX];
	struct qq_sbuf cmd = { 0 };
	ssize_t n;
	int fd, status = -1, rc;

	/* One record per guest file, DIGEST/NAME: the same bytes under two names are two files. */
	store_path(it, dst, sizeof(dst));
	record_path(ws, it, rec, sizeof(rec));
	if ((fd = open(rec, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to open %s", rec);
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR || caught) {
			close(fd);
			return qq_err_sys(e, QQ_EXEC_FAILED, "unable to lock %s", rec);
		}
	n = pread(fd, have, sizeof(have) - 1, 0);
	have[n > 0 ? n : 0] = '\0';
	if (strcmp(have, id) == 0) {
		close(fd);
		return 0;
	}
	snprintf(tok, sizeof(tok), "%08x", arc4random());
	qq_sbuf_add(&cmd, "qq_d=");
	qq_sbuf_sq(&cmd, dst);
	qq_sbuf_add(&cmd, "; qq_t=${qq_d%/*}/.tmp.");
	qq_sbuf_add(&cmd, tok);
	/*
	 * The size is read with ls -ln (a stat): busybox's wc -c reads the
	 * whole file, 350 ms for 10 MB under TCG (measured).
	 */
	qq_sbuf_add(&cmd, "; if mkdir -p \"${qq_d%/*}\" && cat >\"$qq_t\" && chmod 755 \"$qq_t\" && "
	    "set -- $(ls -ln \"$qq_t\") && [ \"$5\" = ");
	snprintf(have, sizeof(have), "%lld", (long long)it->size);
	qq_sbuf_add(&cmd, have);
	qq_sbuf_add(&cmd, " ] && mv -f \"$qq_t\" \"$qq_d\"; then :; else rm -f \"$qq_t\"; false; fi");
	if (cmd.err) {
		close(fd);
		free(cmd.p);
		return qq_err_set(e, QQ_EXEC_FAILED, "out of memory");
	}
	if ((rc = guest_sh(c, cmd.p, it->fd, &status, e)) != 0) {
		strlcpy(msg, e->msg, sizeof(msg));
		qq_err_set(e, QQ_EXEC_FAILED, "unable to copy %s into the guest: %s", it->host,
		    msg);
	}
	free(cmd.p);
	if (rc == 0 && status != 0)
		rc = qq_err_set(e, QQ_EXEC_FAILED, "unable to copy %s into the guest as %s (the "
		    "guest's sh exited %d)", it->host, dst, status);
	if (rc == 0 && (ftruncate(fd, 0) == -1 || pwrite(fd, id, strlen(id), 0) == -1))
		rc = qq_err_sys(e, QQ_EXEC_FAILED, "unable to write %s", rec);
	if (rc == 0 && st != NULL)
		st->copied++;
	if (rc == 0 && talk != NULL)
		fprintf(talk, "qq-exec: copied %s into the guest as %s\n", it->host, dst);
	close(fd);
	return rc == 0 ? 0 : (e->status = QQ_EXEC_FAILED);
}

/* NAME of an environment variable: [A-Za-z_][A-Za-z0-9_]*. */
static size_t
env_name_len(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
	    "0123456789");

	return n > 0 && !(*s >= '0' && *s <= '9') ? n : 0;
}

int
qq_exec_check(const struct qq_exec_opts *o, struct qq_err *e)
{
	size_t i, n;
	const char *g;

	for (i = 0; i < o->nenv; i++) {
		n = env_name_len(o->env[i]);
		if (n == 0 || (o->env[i][n] != '\0' && o->env[i][n] != '='))
			return qq_err_set(e, QQ_EXEC_FAILED, "bad --env \"%.100s\": expected NAME "
			    "or NAME=VALUE", o->env[i]);
	}
	/* HOST[:GUEST] split at the last colon; HOST must not be empty, GUEST may (the default). */
	for (i = 0; i < o->nfile; i++) {
		g = strrchr(o->file[i], ':');
		if (o->file[i][0] == '\0' || g == o->file[i])
			return qq_err_set(e, QQ_EXEC_FAILED, "bad --file \"%.100s\": expected "
			    "HOST[:GUEST]", o->file[i]);
	}
	if (o->cwd != NULL && o->cwd[0] != '/')
		return qq_err_set(e, QQ_EXEC_FAILED, "bad --cwd \"%.100s\": expected an "
		    "absolute guest directory", o->cwd);
	return 0;
}

/*
 * The command run in the guest: the batch of working directories when this
 * call makes one (pre), cd to this call's fresh directory (or --cwd), the
 * --file copies, the --env exports, then exec of the stored binary with its
 * arguments. guest_run.c runs it with `eval` in the subshell it starts for
 * the command (no process of its own: a guest process costs milliseconds
 * under TCG), so the binary replaces that subshell and its status and signal
 * are the command's. A failure before the binary is qq's: QQ_EXEC_FAILED,
 * after the guest shell's own message.
 */
static int
script(const struct qq_exec_opts *o, const struct item *items, size_t nitems,
    char *const argv[], const char *pre, const char *run, long num, char **out, struct qq_err *e)
{
	char path[QQ_VALUE_MAX], code[8];
	struct qq_sbuf b = { 0 };
	const char *v;
	size_t i, n;

	snprintf(code, sizeof(code), "%d", QQ_EXEC_FAILED);
	qq_sbuf_add(&b, pre);
	if (o->cwd != NULL) {
		qq_sbuf_add(&b, "{ cd ");
		qq_sbuf_sq(&b, o->cwd);
		qq_sbuf_add(&b, " 2>/dev/null || { echo ");
		snprintf(path, sizeof(path), "qq-exec: no directory %s in the guest (--cwd)",
		    o->cwd);
		qq_sbuf_sq(&b, path);
		qq_sbuf_add(&b, " >&2; exit ");
		qq_sbuf_add(&b, code);
		qq_sbuf_add(&b, "; }; }");
	} else {
		if ((size_t)snprintf(path, sizeof(path), "%s/%ld", run, num) >= sizeof(path)) {
			free(b.p);
			return qq_err_set(e, QQ_EXEC_FAILED, "the guest working directory "
			    "%.100s/%ld is too long", run, num);
		}
		qq_sbuf_add(&b, "qq_d=");
		qq_sbuf_sq(&b, path);
		qq_sbuf_add(&b, "; { cd \"$qq_d\" 2>/dev/null || { mkdir -p \"$qq_d\" && "
		    "cd \"$qq_d\"; }; }");
	}
	for (i = 1; i < nitems; i++) {	/* items[0] is the binary */
		store_path(&items[i], path, sizeof(path));
		qq_sbuf_add(&b, " && qq_g=");
		qq_sbuf_sq(&b, items[i].guest);
		qq_sbuf_add(&b, " && case $qq_g in */*) mkdir -p \"${qq_g%/*}\";; esac && cp ");
		qq_sbuf_sq(&b, path);
		qq_sbuf_add(&b, " \"$qq_g\"");
	}
	for (i = 0; i < o->nenv; i++) {
		n = env_name_len(o->env[i]);
		if (o->env[i][n] == '=')
			v = o->env[i] + n + 1;
		else if ((v = getenv(o->env[i])) == NULL)
			continue;	/* --env NAME unset here: unset there too */
		snprintf(path, sizeof(path), " && export %.*s=", (int)n, o->env[i]);
		qq_sbuf_add(&b, path);
		qq_sbuf_sq(&b, v);
	}
	/* A copy gone from the guest: 127 without the shell's words; the host copies again. */
	store_path(&items[0], path, sizeof(path));
	qq_sbuf_add(&b, " && { [ -f ");
	qq_sbuf_sq(&b, path);
	qq_sbuf_add(&b, " ] || exit 127; } && exec ");
	qq_sbuf_sq(&b, path);
	for (i = 1; argv[i] != NULL; i++) {
		qq_sbuf_add(&b, " ");
		qq_sbuf_sq(&b, argv[i]);
	}
	qq_sbuf_add(&b, "; exit ");
	qq_sbuf_add(&b, code);
	if (b.err) {
		free(b.p);
		return qq_err_set(e, QQ_EXEC_FAILED, "unable to build the guest command: out of "
		    "memory");
	}
	*out = b.p;
	return 0;
}

/* stdin is worth forwarding: not a terminal, not /dev/null, not closed. */
static int
stdin_forwarded(void)
{
	struct stat st, nul;

	if (fstat(STDIN_FILENO, &st) == -1 || isatty(STDIN_FILENO))
		return 0;
	if (S_ISCHR(st.st_mode) && stat("/dev/null", &nul) == 0 && st.st_rdev == nul.st_rdev)
		return 0;
	return 1;
}

/* Loads WS/exec/boot (the settings of the last --boot) into f; missing is empty. */
static int
boot_facts(const char *ws, struct qq_facts *f, struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 16];
	FILE *fp;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", ws, BOOT_FILE);
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : qq_err_sys(e, QQ_EXEC_FAILED, "unable to read %s",
		    path);
	rc = qq_facts_read(f, fp, path, e);
	fclose(fp);
	return rc;
}

/* The qq-run installed beside this program (a build tree's bin/ too), else the one on PATH. */
static void
qq_run_path(char *out, size_t outsz)
{
	char self[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if (strrchr(self, '/') != NULL) {
			*strrchr(self, '/') = '\0';
			if ((size_t)snprintf(out, outsz, "%s/qq-run", self) < outsz &&
			    access(out, X_OK) == 0)
				return;
		}
	}
	strlcpy(out, "qq-run", outsz);
}

/* qq-run's argv for a boot (dry: -n, qq-run's check that writes nothing); opt holds --NAME strings. */
struct boot_argv {
	char		 run[PATH_MAX];
	char		 opt[QQ_SET__COUNT][64];
	const char	*argv[2 * QQ_SET__COUNT + 16];
};

static void
boot_argv(struct boot_argv *b, struct qq_settings *s, const struct qq_exec_opts *o,
    const char *binary, const char *ws, const struct qq_facts *last, const char *builder,
    const char *base, int dry)
{
	const char *v;
	size_t n = 0;
	int i;

	/* The settings: option > the last boot's > environment (qq-run's own) > default. */
	qq_run_path(b->run, sizeof(b->run));
	b->argv[n++] = b->run;
	if (dry)
		b->argv[n++] = "-n";
	b->argv[n++] = "-d";
	b->argv[n++] = "--wait-ssh";
	if (o->talk != NULL && !dry)
		b->argv[n++] = "-v";
	if (builder != NULL && *builder != '\0') {
		b->argv[n++] = "--builder";
		b->argv[n++] = builder;
	}
	if (base != NULL && *base != '\0') {
		b->argv[n++] = "--base";
		b->argv[n++] = base;
	}
	for (i = 0; i < QQ_SET__COUNT; i++) {
		v = i == QQ_SET_WORKSPACE ? ws : s->opt[i] != NULL ? s->opt[i] :
		    qq_facts_get(last, qq_settings_table[i].fact);
		if (v == NULL)
			continue;
		snprintf(b->opt[i], sizeof(b->opt[i]), "--%s", qq_settings_table[i].option);
		b->argv[n++] = b->opt[i];
		b->argv[n++] = v;
	}
	b->argv[n++] = "--";
	b->argv[n++] = binary;
	b->argv[n] = NULL;
}

/* Runs qq-run; its failure is QQ_EXEC_FAILED with its status and last line. */
static int
boot_run(struct boot_argv *b, FILE *talk, struct qq_err *e)
{
	struct qq_proc_out po;
	const char *v;
	size_t len;
	int rc;

	memset(&po, 0, sizeof(po));
	if ((rc = qq_proc_run_for((char *const *)b->argv, NULL, -1, &po, e)) != 0)
		return e->status = QQ_EXEC_FAILED;
	if (talk != NULL && po.errlen > 0 && strcmp(b->argv[1], "-n") != 0)
		fputs(po.errout, talk);
	if (po.status != 0) {
		len = po.errlen;
		while (len > 0 && po.errout[len - 1] == '\n')
			po.errout[--len] = '\0';
		v = strrchr(po.errout, '\n') != NULL ? strrchr(po.errout, '\n') + 1 : po.errout;
		rc = qq_err_set(e, QQ_EXEC_FAILED, "unable to boot the VM (%s exited %d)%s%s",
		    b->run, po.status, *v ? ": " : "", v);
	}
	qq_proc_out_free(&po);
	return rc;
}

/*
 * Boots the workspace's VM with `qq-run -d --wait-ssh BINARY` unless one
 * runs, holding WS/exec/boot.lock meanwhile: the workspace lock is taken
 * without waiting and only by the steps that write the workspace (stage,
 * mkimage), not while QEMU starts, so concurrent first calls wait on this
 * lock instead and then find the VM the first one booted. qq-run is a
 * process of its own, not a library call: what it needs (libarchive for
 * images, libxml2 for reports) is then never loaded by the qq-exec that
 * ctest starts for every test (~6 ms each, measured on Debian 12).
 * A workspace that does not exist yet is made as qq-run makes it, missing
 * parent directories too, but only after `qq-run -n` found nothing wrong
 * with the settings, builder and base: a bad value leaves nothing behind.
 */
static int
boot(struct qq_settings *s, const struct qq_exec_opts *o, const char *binary, struct qq_guest *g,
    struct qq_err *e)
{
	struct qq_facts last = { NULL, 0, 0 }, rec = { NULL, 0, 0 };
	struct boot_argv *b;
	struct qq_ws ws;
	struct qq_err se;
	struct stat st;
	char path[QQ_VALUE_MAX + 32], wsabs[QQ_VALUE_MAX];
	const char *builder, *base;
	FILE *fp;
	int fd = -1, rc, i;

	if ((b = malloc(sizeof(*b))) == NULL)
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to boot the VM");
	if (qq_file_abspath(s->val[QQ_SET_WORKSPACE], wsabs, sizeof(wsabs), e) != 0) {
		rc = e->status;
		goto out;
	}
	if (stat(wsabs, &st) == -1 && errno == ENOENT) {
		boot_argv(b, s, o, binary, wsabs, &last, o->builder, o->base, 1);
		/* Failed, unless another first call made the workspace meanwhile: wait for its boot. */
		if ((rc = boot_run(b, NULL, e)) != 0 && stat(wsabs, &st) == -1 && errno == ENOENT)
			goto out;
	}

	/*
	 * qq_ws_open makes the directory, then its marker: a second first call
	 * in between would call it not ours. The parent directory's flock(2)
	 * orders the calls that may create it.
	 */
	strlcpy(path, wsabs, sizeof(path));
	*strrchr(path, '/') = '\0';
	if (*path != '\0' && qq_file_mkdirs(path, 0755, &se) != 0) {
		rc = qq_err_set(e, QQ_EXEC_FAILED, "unable to create workspace %s: %s", wsabs,
		    se.msg);
		goto out;
	}
	if ((fd = open(*path ? path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		rc = qq_err_sys(e, QQ_EXEC_FAILED, "unable to open %s", *path ? path : "/");
		goto out;
	}
	while (flock(fd, LOCK_EX) == -1 && errno == EINTR && !caught)
		;
	rc = qq_ws_open(&ws, wsabs, 1, e);
	close(fd);
	fd = -1;
	if (rc != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", ws.path, CACHE_DIR);
	if ((rc = qq_file_mkdirs(path, 0755, e)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", ws.path, BOOT_LOCK);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1) {
		rc = qq_err_sys(e, QQ_EXEC_FAILED, "unable to open %s", path);
		goto out;
	}
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR || caught) {
			rc = qq_err_sys(e, QQ_EXEC_FAILED, "unable to lock %s", path);
			goto out;
		}
	/* Another call booted it while we waited. */
	if ((rc = qq_guest_open(g, ws.path, e)) == 0)
		goto out;
	if ((rc = boot_facts(ws.path, &last, e)) != 0)
		goto out;
	builder = o->builder != NULL ? o->builder : qq_facts_get(&last, "builder");
	base = o->base != NULL ? o->base : qq_facts_get(&last, "base");
	boot_argv(b, s, o, binary, ws.path, &last, builder, base, 0);
	if ((rc = boot_run(b, o->talk, e)) != 0)
		goto out;

	/* What to boot with next time: the settings as they resolve now. */
	for (i = 0; i < QQ_SET__COUNT; i++)
		if (i != QQ_SET_WORKSPACE && i != QQ_SET_SSH_KEY &&
		    qq_settings_get(s, i, &last, &se) == 0 && *s->val[i] != '\0' &&
		    (rc = qq_facts_set(&rec, qq_settings_table[i].fact, s->val[i], e)) != 0)
			goto out;
	if ((builder != NULL && *builder != '\0' &&
	    (rc = qq_facts_set(&rec, "builder", builder, e)) != 0) ||
	    (base != NULL && *base != '\0' && (rc = qq_facts_set(&rec, "base", base, e)) != 0))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", ws.path, BOOT_FILE);
	{
		char *buf = NULL;
		size_t blen = 0;

		if ((fp = open_memstream(&buf, &blen)) != NULL) {
			if (qq_facts_write(&rec, fp, e) == 0 && fclose(fp) == 0)
				(void)qq_file_write_atomic(path, buf, blen, 0644, e);
			else
				fclose(fp);
		}
		free(buf);
	}
	rc = qq_guest_open(g, ws.path, e);
out:
	qq_facts_free(&rec);
	qq_facts_free(&last);
	if (fd != -1)
		close(fd);
	free(b);
	if (rc != 0)
		e->status = QQ_EXEC_FAILED;
	return rc;
}

/* The host's number for a guest's signal name ("SEGV"), 0 when unknown. */
static int
host_signal(const char *name)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGABRT }, { "BUS", SIGBUS },
		{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
		{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "SYS", SIGSYS }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	};
	size_t i;

	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].sig;
	return 0;
}

/* Waits for the job, killing its guest group at the deadline or on a signal to us. */
static int
wait_job(struct qq_guest_conn *c, struct qq_guest_job *j, int timeout_s, int *timed_out,
    int *sig, struct qq_err *e)
{
	struct pollfd pfd;
	long long deadline = timeout_s > 0 ? qq_vm_now_ms() + timeout_s * 1000LL : 0,
	    kill_deadline = 0, now;
	struct qq_err ke;
	int ms;

	*timed_out = *sig = 0;
	while (j->errfd != -1) {
		now = qq_vm_now_ms();
		if (!kill_deadline && (caught || (deadline && now >= deadline))) {
			if (caught)
				*sig = caught;
			else
				*timed_out = 1;
			(void)qq_guest_job_kill(c, j, &ke);
			kill_deadline = now + KILL_GRACE_MS;
		}
		if (kill_deadline && now >= kill_deadline) {
			qq_guest_job_abandon(j);
			break;
		}
		ms = kill_deadline ? (int)(kill_deadline - now) : deadline ? (int)(deadline - now) :
		    -1;
		pfd.fd = j->errfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ms) > 0)
			(void)qq_guest_job_read(j);
	}
	return qq_guest_job_wait(j, e);
}

/*
 * o's --file list followed by the lines of QQ_EXEC_FILES (each a --file
 * value): the way to give a file to one test where the build system lets a
 * test set its environment but not its wrapper's options (meson's test(env:)).
 */
static int
env_files(const struct qq_exec_opts *o, struct qq_exec_opts *lo, char **buf, struct qq_err *e)
{
	const char *v = getenv("QQ_EXEC_FILES");
	const char **list;
	char *p, *line;
	size_t n = 0;

	*lo = *o;
	lo->file = NULL;
	lo->nfile = 0;
	*buf = NULL;
	if (v != NULL && (*buf = strdup(v)) == NULL)
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to read QQ_EXEC_FILES");
	for (p = *buf; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	if ((list = calloc(o->nfile + n + 2, sizeof(*list))) == NULL) {
		free(*buf);
		*buf = NULL;
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to start");
	}
	if (o->nfile > 0)	/* memcpy from NULL is undefined even for 0 bytes */
		memcpy(list, o->file, o->nfile * sizeof(*list));
	lo->nfile = o->nfile;
	for (p = *buf; p != NULL && (line = strsep(&p, "\n")) != NULL; )
		if (*line != '\0')
			list[lo->nfile++] = line;
	lo->file = list;
	return 0;
}

/*
 * 1 when a file this call copied is gone from the guest's store (its
 * record then forgotten, so that it is copied again), 0 when all are there,
 * -1 when the guest could not say.
 */
static int
stored_gone(struct qq_guest_conn *c, const char *ws, const struct item *items, size_t nitems)
{
	char path[QQ_VALUE_MAX], rec[QQ_VALUE_MAX + 128];
	struct qq_sbuf cmd = { 0 };
	struct qq_err e;
	size_t i;
	int status = -1;

	qq_sbuf_add(&cmd, "true");
	for (i = 0; i < nitems; i++) {
		store_path(&items[i], path, sizeof(path));
		qq_sbuf_add(&cmd, " && [ -f ");
		qq_sbuf_sq(&cmd, path);
		qq_sbuf_add(&cmd, " ]");
	}
	if (cmd.err || guest_sh(c, cmd.p, -1, &status, &e) != 0)
		status = -1;
	free(cmd.p);
	if (status == 0 || status == -1)
		return status == 0 ? 0 : -1;
	for (i = 0; i < nitems; i++) {
		record_path(ws, &items[i], rec, sizeof(rec));
		(void)truncate(rec, 0);
	}
	return 1;
}

/*
 * Standard descriptors the caller closed get /dev/null (open(2) returns the
 * lowest free one): else the next file qq-exec opens, the binary itself,
 * would be taken for the standard input it forwards.
 */
static int
std_fds(struct qq_err *e)
{
	int fd, nfd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if ((nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)) == -1)
			return qq_err_sys(e, QQ_EXEC_FAILED, "unable to open /dev/null");
		if (nfd != fd) {
			close(nfd);
			return qq_err_set(e, QQ_EXEC_FAILED, "unable to fill descriptor %d", fd);
		}
	}
	return 0;
}

int
qq_exec_run(struct qq_settings *s, const struct qq_exec_opts *o, char *const argv[],
    struct qq_exec_result *r, struct qq_err *e)
{
	struct qq_guest g;
	struct qq_guest_conn c;
	struct qq_guest_job j;
	struct item *items;
	struct sigaction sa, old[3];
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	char ws[QQ_VALUE_MAX], bin[QQ_VALUE_MAX], cache[QQ_VALUE_MAX], id[128], *pre = NULL;
	char run[QQ_VALUE_MAX] = "";
	char *gargv[3], *colon;
	struct qq_exec_opts lo;
	struct stat wst;
	char *envfiles = NULL;
	struct qq_sbuf batch = { 0 };
	long num = 0;
	int recopied = 0;
	size_t i, nitems;
	int rc, timed_out = 0, sig = 0, infd, attempt;
	off_t inpos;

	memset(r, 0, sizeof(*r));
	memset(&j, 0, sizeof(j));
	r->status = QQ_EXEC_FAILED;
	caught = 0;
	if ((rc = std_fds(e)) != 0)
		return rc;
	if ((rc = env_files(o, &lo, &envfiles, e)) != 0)
		return rc;
	o = &lo;
	if ((rc = qq_exec_check(o, e)) != 0)
		goto out0;
	/* Every setting given as an option, used or not (--arch without --boot): a bad value is one. */
	for (i = 0; i < QQ_SET__COUNT; i++)
		if (s->opt[i] != NULL && (rc = qq_settings_get(s, (enum qq_setting)i, NULL, e)) != 0) {
			rc = e->status = QQ_EXEC_FAILED;
			goto out0;
		}
	if ((rc = qq_settings_get(s, QQ_SET_WORKSPACE, NULL, e)) != 0 ||
	    (rc = qq_file_abspath(s->val[QQ_SET_WORKSPACE], ws, sizeof(ws), e)) != 0) {
		rc = e->status = QQ_EXEC_FAILED;
		goto out0;
	}
	nitems = 1 + o->nfile;
	if ((items = calloc(nitems, sizeof(*items))) == NULL) {
		rc = qq_err_sys(e, QQ_EXEC_FAILED, "unable to start");
		goto out0;
	}
	for (i = 0; i < nitems; i++)
		items[i].fd = -1;
	if ((rc = item_open(&items[0], ws, argv[0], 1, e)) != 0)
		goto out;
	for (i = 1; i < nitems; i++) {
		/*
		 * HOST[:GUEST], split at the last colon (a GUEST has none); an
		 * empty GUEST is the default name, so "a:b:" is the host
		 * file a:b.
		 */
		strlcpy(bin, o->file[i - 1], sizeof(bin));
		if ((colon = strrchr(bin, ':')) != NULL)
			*colon = '\0';
		if ((rc = item_open(&items[i], ws, bin, 0, e)) != 0)
			goto out;
		strlcpy(items[i].guest, colon != NULL && colon[1] != '\0' ? colon + 1 :
		    items[i].name, sizeof(items[i].guest));
	}

	/* A workspace that cannot be one is named as qq-run names it, before anything looks inside. */
	if (stat(ws, &wst) == 0 ? !S_ISDIR(wst.st_mode) : errno == ENOTDIR) {
		rc = qq_err_set(e, QQ_EXEC_FAILED, "unable to open workspace %s: Not a directory",
		    ws);
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);

	if ((rc = qq_guest_open(&g, ws, e)) != 0) {
		if (rc == QQ_EXIT_NO && o->boot)
			rc = boot(s, o, argv[0], &g, e);
		else if (rc == QQ_EXIT_NO)
			strlcat(e->msg, " (start one with qq-run -d --wait-ssh, or give qq-exec "
			    "--boot)", sizeof(e->msg));
		if (rc != 0) {
			rc = e->status = QQ_EXEC_FAILED;
			goto restore;
		}
	}
	if ((rc = qq_guest_master_open(&c, &g, e)) != 0) {
		rc = e->status = QQ_EXEC_FAILED;
		goto restore;
	}
	/* The boot the copies and working directories are for: WS/guest as the VM runs now. */
	boot_id(ws, id, sizeof(id));
	if (qq_file_join(cache, sizeof(cache), ws, CACHE_DIR, e) != 0 ||
	    qq_file_mkdirs(cache, 0755, e) != 0) {
		rc = e->status = QQ_EXEC_FAILED;
		goto restore;
	}
again:
	for (i = 0; i < nitems && rc == 0; i++)
		rc = store(&c, ws, id, &items[i], &r->stats, o->talk, e);
	if (rc != 0)
		goto restore;

	if (o->cwd == NULL && num == 0 && (rc = qq_exec_pool_take(ws, id, run, sizeof(run), &num,
	    &batch, &caught, e)) != 0)
		goto restore;
	if (batch.err) {
		rc = qq_err_set(e, QQ_EXEC_FAILED, "unable to build the guest command: out of "
		    "memory");
		goto restore;
	}
	free(pre);
	pre = NULL;
	if ((rc = script(o, items, nitems, argv, batch.p != NULL ? batch.p : "", run, num, &pre,
	    e)) != 0)
		goto restore;
	gargv[0] = "eval";
	gargv[1] = pre;
	gargv[2] = NULL;
	infd = stdin_forwarded() ? STDIN_FILENO : -1;
	/* A regular file can be read again; a pipe's bytes may be gone: no retry. */
	inpos = infd == -1 ? 0 : lseek(infd, 0, SEEK_CUR);
	for (attempt = 1;; attempt++) {
		if (attempt > 1 && infd != -1 && lseek(infd, inpos, SEEK_SET) == -1)
			break;
		/* A session lost with its connection: a new master (or the same one, alive). */
		if (attempt > 1 && qq_guest_master_open(&c, &g, e) != 0) {
			e->status = rc = QQ_EXEC_FAILED;
			goto restore;
		}
		if ((rc = qq_guest_job_start(&c, gargv, infd, STDOUT_FILENO, STDERR_FILENO, &j,
		    e)) != 0) {
			e->status = rc = QQ_EXEC_FAILED;
			goto restore;
		}
		rc = wait_job(&c, &j, o->timeout_s, &timed_out, &sig, e);
		if (rc == 0 || sig || timed_out || (infd != -1 && inpos == -1) ||
		    !refused(&j, attempt))
			break;
	}
	/*
	 * 127 from the guest may be the binary's own, or its copy gone from
	 * the guest (someone removed /data/qq-exec): then nothing ran, and
	 * the files are copied again once.
	 */
	if (rc == 0 && !sig && !timed_out && j.status == 127 &&
	    stored_gone(&c, ws, items, nitems) == 1) {
		if (recopied) {
			rc = qq_err_set(e, QQ_EXEC_FAILED, "the copy of %s in the guest is gone "
			    "again right after it was copied", items[0].host);
			goto restore;
		}
		recopied = 1;
		free(batch.p);
		memset(&batch, 0, sizeof(batch));
		goto again;
	}
	if (num > 0)
		qq_exec_pool_give(ws, id, run, num);
	if (sig != 0) {
		rc = qq_err_set(e, 128 + sig, "interrupted by signal %d; %s", sig, j.head ?
		    "the command was killed in the guest" : "the command had not started");
		r->status = 128 + sig;
	} else if (timed_out) {
		rc = 0;
		r->status = QQ_RESULT_TIMEOUT;
		r->timed_out = 1;
	} else if (rc != 0) {
		e->status = QQ_EXEC_FAILED;
	} else {
		r->status = j.status;
		if (j.status > 128)
			r->host_signal = host_signal(j.signame);
		strlcpy(r->signame, j.signame, sizeof(r->signame));
	}
restore:
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
out:
	for (i = 0; i < nitems; i++) {
		if (items[i].fd != -1)
			close(items[i].fd);
	}
	free(items);
	free(pre);
	free(batch.p);
out0:
	free((void *)lo.file);
	free(envfiles);
	return rc;
}

void
qq_exec_die(const struct qq_exec_result *r)
{
	struct sigaction dfl;
	struct rlimit nocore = { 0, 0 };
	sigset_t set;

	if (r->host_signal > 0 && r->status > 128) {
		/*
		 * Die as the binary died, as qemu-user does: ctest reports
		 * "Exception: SegFault" and meson "killed by signal 11 SIGSEGV",
		 * as for the host build, and a shell still sees 128+N. No core:
		 * the crash was the guest's, not ours.
		 */
		(void)setrlimit(RLIMIT_CORE, &nocore);
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(r->host_signal, &dfl, NULL);
		sigemptyset(&set);
		sigaddset(&set, r->host_signal);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		fflush(NULL);
		raise(r->host_signal);
	}
}

/* Appends arg to a list of borrowed strings. */
static int
push(const char *const **list, size_t *n, const char *arg, struct qq_err *e)
{
	const char **v;

	if ((v = reallocarray((void *)*list, *n + 1, sizeof(*v))) == NULL)
		return qq_err_sys(e, QQ_EXEC_FAILED, "unable to store %s", arg);
	v[(*n)++] = arg;
	*list = v;
	return 0;
}

int
qq_exec_option(struct qq_exec_opts *o, int ch, const char *arg, struct qq_err *e)
{
	int rc;

	switch (ch) {
	case QQ_EXEC_OPT_FILE: return push(&o->file, &o->nfile, arg, e);
	case QQ_EXEC_OPT_ENV: return push(&o->env, &o->nenv, arg, e);
	case QQ_EXEC_OPT_CWD: o->cwd = arg; return 0;
	case QQ_EXEC_OPT_TIMEOUT:
		if ((rc = qq_cli_number("timeout", arg, 1, 86400 * 7, "seconds", &o->timeout_s,
		    e)) != 0)
			e->status = QQ_EXEC_FAILED;
		return rc != 0 ? QQ_EXEC_FAILED : 0;
	case QQ_EXEC_OPT_BOOT: o->boot = 1; return 0;
	case QQ_EXEC_OPT_BUILDER: o->builder = arg; return 0;
	case QQ_EXEC_OPT_BASE: o->base = arg; return 0;
	}
	return qq_err_set(e, QQ_EXIT_USAGE, "unknown option");
}

void
qq_exec_free(struct qq_exec_opts *o)
{
	free((void *)o->file);
	free((void *)o->env);
	o->file = o->env = NULL;
	o->nfile = o->nenv = 0;
}
