/* mkimage_qnx.c: the mkqnximage builder: the QNX SDP's own image tool, found as the SDP's environment finds it. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "mkimage.h"

extern char **environ;

#define SNIPPET_DIR	"local/snippets"
#define SNIPPET_FILE	"local/snippets/data_files.custom"
#define IDENT_FILE	"ssh-ident.pub"
#define LOG_FILE	"mkqnximage.log"
#define TAIL_LINES	10
#define OPTS_ENV	"QNX_QEMU_MKQNXIMAGE_OPTS"
#define MIB		(1ULL << 20)

/*
 * /data sizing. mkqnximage takes --data-size in MB and --data-inodes as a count:
 * public scripts pass --data-size=5000 for "5GB of free space" with
 * --data-inodes=40000 (rust-lang/rust, src/doc/rustc/src/platform-support/nto-qnx.md)
 * and --data-size=500 for "space > 500Mb" (qnx-ports/build-files,
 * ports/restbed/README.md). The default image leaves about 40 MB free in /data,
 * too little for a set of statically linked C++ tests, so qq asks for the staged
 * size twice over plus room for the guest's own files and test output.
 */
#define DATA_BASE_MB	256
#define DATA_INODES	16384

/* The options qq passes itself; a user's --mkqnximage-opt may not name them. */
static const char *const owned[] = {
	"type", "arch", "ssh-ident", "build", "run", "stop", "clean", "force", "noprompt",
};

struct qnx {
	int	 source;		/* 1: source ROOT/qnxsdp-env.sh first */
	char	 root[PATH_MAX];
	char	 mk[PATH_MAX];		/* the mkqnximage the SDP's PATH finds */
	char	 hex[QQ_DIGEST_HEX];	/* its digest */
	char	 identpath[PATH_MAX];
	char	*snippet;		/* owned */
	char	**args;			/* owned, NULL-terminated */
	size_t	 nargs;
};

int
qq_mkimage_qnx_opt(const char *opt, const char *from, struct qq_err *e)
{
	size_t len;

	if (strncmp(opt, "--", 2) != 0 || opt[2] == '\0' || opt[2] == '=' ||
	    strchr(opt, '\n') != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%.60s\": expected a mkqnximage "
		    "option such as --hostname=NAME or --data-size=MB", from, opt);
	len = strcspn(opt + 2, "=");
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strlen(owned[i]) == len && strncmp(opt + 2, owned[i], len) == 0)
			return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%.60s\": qq-mkimage passes "
			    "--%s itself", from, opt, owned[i]);
	return 0;
}

/* Splits the environment's options on blanks (no quoting: a value with blanks needs --mkqnximage-opt). */
static int
env_opts(char ***vp, size_t *np, struct qq_err *e)
{
	const char *v = getenv(OPTS_ENV), *p;
	char **a;
	size_t n = 0, len;

	*vp = NULL;
	*np = 0;
	for (p = v; p != NULL && *p != '\0'; p += len) {
		p += strspn(p, " \t\n");
		if ((len = strcspn(p, " \t\n")) == 0)
			break;
		if ((a = reallocarray(*vp, n + 2, sizeof(*a))) == NULL) {
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", OPTS_ENV);
			goto fail;
		}
		*vp = a;
		a[n + 1] = NULL;
		if ((a[n] = strndup(p, len)) == NULL) {
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", OPTS_ENV);
			goto fail;
		}
		if (qq_mkimage_qnx_opt(a[n++], OPTS_ENV " option", e) != 0)
			goto fail;
	}
	*np = n;
	return 0;
fail:
	qq_argv_free(*vp);
	*vp = NULL;
	return e->status;
}

int
qq_mkimage_qnx_opts_check(const struct qq_mkimage_opts *o, struct qq_err *e)
{
	char **v;
	size_t n;

	for (size_t i = 0; i < o->nqnx_opts; i++)
		if (qq_mkimage_qnx_opt(o->qnx_opts[i], "--mkqnximage-opt", e) != 0)
			return e->status;
	if (o->nqnx_opts == 0) {
		if (env_opts(&v, &n, e) != 0)
			return e->status;
		qq_argv_free(v);
	}
	return 0;
}

/* mkifs buildfile quoting: plain paths stay plain, others are double-quoted. */
static int
bf_path(FILE *fp, const char *p, const char *what, struct qq_err *e)
{
	const char *s;
	int plain = 1;

	if (strpbrk(p, "\"\\\n\t\r") != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s %s cannot be written in a mkqnximage "
		    "buildfile (it holds a quote, backslash, tab or newline)", what, p);
	for (s = p; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/._-+,@%:~", *s) != NULL))
			plain = 0;
	fprintf(fp, plain ? "%s" : "\"%s\"", p);
	return 0;
}

int
qq_mkimage_snippet(const struct qq_mkimage_file *v, size_t n, char **textp, struct qq_err *e)
{
	size_t len;
	FILE *fp;

	*textp = NULL;
	if ((fp = open_memstream(textp, &len)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the snippet");
	fputs("# data_files.custom: written by qq-mkimage from the stage facts; not to be edited\n",
	    fp);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(v[i].guest, "/data/", 6) != 0) {
			qq_err_set(e, QQ_EXIT_INPUT, "%s is not under /data", v[i].guest);
			goto fail;
		}
		/* Target paths are relative to the /data partition. */
		fprintf(fp, "[uid=0 gid=0 perms=0%03o] ", (unsigned)(v[i].mode & 0777));
		if (bf_path(fp, v[i].guest + 6, "guest path", e) != 0)
			goto fail;
		fputc('=', fp);
		if (bf_path(fp, v[i].host, "staged path", e) != 0)
			goto fail;
		fputc('\n', fp);
	}
	if (fclose(fp) != 0) {
		free(*textp);
		*textp = NULL;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the snippet");
	}
	return 0;
fail:
	fclose(fp);
	free(*textp);
	*textp = NULL;
	return e->status;
}

/* Writes path only when its content differs (so a cache hit writes nothing). */
static int
write_if_changed(const char *path, const char *text, mode_t mode, struct qq_err *e)
{
	char *old = NULL;
	size_t len = strlen(text), oldlen;
	struct qq_err ignored;
	int same;

	if (qq_file_read(path, len + 1, &old, &oldlen, &ignored) == 0) {
		same = oldlen == len && memcmp(old, text, len) == 0;
		free(old);
		if (same)
			return 0;
	}
	return qq_file_write_atomic(path, text, len, mode, e);
}

/* dir/mkqnximage when it is an executable regular file. */
static int
look(const char *dir, size_t dirlen, char *out, size_t outsz)
{
	struct stat st;

	if (dirlen == 0 || (size_t)snprintf(out, outsz, "%.*s/mkqnximage", (int)dirlen, dir) >=
	    outsz)
		return 0;
	return stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0;
}

/* The first directory of a colon-separated list holding mkqnximage. */
static int
look_path(const char *path, char *out, size_t outsz)
{
	size_t len;

	for (const char *p = path; p != NULL && *p != '\0'; p += len + (p[len] == ':')) {
		len = strcspn(p, ":");
		if (look(p, len, out, outsz))
			return 1;
	}
	return 0;
}

/*
 * Where mkqnximage is: where the SDP's environment puts it on PATH. QNX SDP 8.0's
 * qnxsdp-env.sh (bash or zsh only) sets QNX_HOST=$QNX_BASE/host/linux/x86_64,
 * QNX_TARGET=$QNX_BASE/target/qnx, QNX_CONFIGURATION=$HOME/.qnx and
 * PATH=$QNX_HOST/usr/bin:$QNX_CONFIGURATION/bin:$QNX_BASE/jre/bin:$QNX_BASE/host/common/bin:$PATH
 * (a copy of the 8.0 script in a public tree; its Windows twin qnxsdp-env.bat
 * sets the same), and mkqnximage is $QNX_BASE/host/common/bin/mkqnximage (public
 * setup guides: "which mkqnximage" prints .../qnx800/host/common/bin/mkqnximage).
 * An explicit --qnx-root (or a qnx_root fact) is sourced; otherwise an inherited
 * environment (QNX_HOST and QNX_TARGET set) is used as it is, with PATH first
 * and host/common/bin beside QNX_HOST as the fallback; otherwise QNX_ROOT (or
 * ~/qnx800) is sourced.
 */
static int
find_sdp(struct qq_mkimage_ctx *c, struct qnx *q, struct qq_err *e)
{
	const char *host = getenv("QNX_HOST"), *target = getenv("QNX_TARGET");
	const char *path = getenv("PATH"), *home = getenv("HOME");
	char dir[PATH_MAX], env[PATH_MAX] = "";
	struct stat st;
	int inherited, found = 0;

	if (qq_settings_get(c->s, QQ_SET_QNX_ROOT, c->f, e) != 0)
		return e->status;
	inherited = host != NULL && *host != '\0' && target != NULL && *target != '\0';
	if (inherited && c->s->src[QQ_SET_QNX_ROOT] != QQ_SRC_OPTION &&
	    c->s->src[QQ_SET_QNX_ROOT] != QQ_SRC_FACT) {
		/* qnxsdp-env.sh was sourced by the user: its PATH, then beside QNX_HOST. */
		found = look_path(path, q->mk, sizeof(q->mk));
		if (!found && (size_t)snprintf(dir, sizeof(dir), "%s/../../common/bin", host) <
		    sizeof(dir) && qq_file_abspath(dir, env, sizeof(env), e) == 0)
			found = look(env, strlen(env), q->mk, sizeof(q->mk));
		if (!found)
			return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find mkqnximage on PATH or "
			    "in %s (host/common/bin beside QNX_HOST=%s): source the SDP's "
			    "qnxsdp-env.sh again, or unset QNX_HOST and set QNX_ROOT to the SDP "
			    "installation", env, host);
		return qq_digest_get(&c->dc, q->mk, q->hex, NULL, e);
	}
	strlcpy(q->root, c->s->val[QQ_SET_QNX_ROOT], sizeof(q->root));
	q->source = 1;
	if (stat(q->root, &st) == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find the QNX SDP at %s: %s "
		    "(set QNX_ROOT or --qnx-root to its installation directory)", q->root,
		    strerror(errno));
	if (qq_file_join(env, sizeof(env), q->root, "qnxsdp-env.sh", e) != 0)
		return e->status;
	if (stat(env, &st) == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find %s: %s (set QNX_ROOT or "
		    "--qnx-root to the SDP installation directory)", env, strerror(errno));
	/* The PATH qnxsdp-env.sh builds, in its order, then the PATH it inherits. */
	if ((size_t)snprintf(dir, sizeof(dir), "%s/host/linux/x86_64/usr/bin:%s/.qnx/bin:"
	    "%s/jre/bin:%s/host/common/bin", q->root, home ? home : "", q->root, q->root) >=
	    sizeof(dir))
		return qq_err_set(e, QQ_EXIT_INPUT, "QNX_ROOT too long: %s", q->root);
	found = look_path(dir, q->mk, sizeof(q->mk)) || look_path(path, q->mk, sizeof(q->mk));
	if (!found)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find mkqnximage in "
		    "%s/host/common/bin, "
		    "%s/host/linux/x86_64/usr/bin, ~/.qnx/bin, %s/jre/bin or PATH (where %s puts "
		    "it): set QNX_ROOT or --qnx-root to an SDP 8 installation", q->root, q->root,
		    q->root, env);
	return qq_digest_get(&c->dc, q->mk, q->hex, NULL, e);
}

static void
show_tail(FILE *talk, const char *log)
{
	char buf[4096];
	ssize_t n;
	off_t end;
	int fd, lines = 0;
	char *p, *start;

	if (talk == NULL || (fd = open(log, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	end = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ?
	    end - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	for (start = p; *start != '\0'; start = p) {
		p = start + strcspn(start, "\n");
		fprintf(talk, "mkqnximage.log: %.*s\n", (int)(p - start), start);
		if (*p == '\n')
			p++;
	}
}

static int
run_mkqnximage(struct qq_mkimage_ctx *c, const struct qnx *q, struct qq_err *e)
{
	/*
	 * Every value is a positional parameter: nothing is pasted into the script.
	 * Sourced: the script's own PATH decides; a different mkqnximage than the one
	 * qq digested is named in the log. Inherited: QNX_HOST/usr/bin (mkifs and the
	 * other host tools) and mkqnximage's directory are put on PATH when missing.
	 */
	static const char src_script[] =
	    "cd -- \"$1\" || exit 1; root=$2; want=$3; shift 3; args=(\"$@\"); set --; "
	    "source \"$root/qnxsdp-env.sh\" >/dev/null || exit 1; "
	    "mk=$(command -v mkqnximage) || { echo \"qq-mkimage: $root/qnxsdp-env.sh put no "
	    "mkqnximage on PATH\"; exit 127; }; "
	    "[ \"$mk\" = \"$want\" ] || echo \"qq-mkimage: note: PATH finds $mk, not $want\"; "
	    "exec \"$mk\" \"${args[@]}\"";
	static const char env_script[] =
	    "cd -- \"$1\" || exit 1; mk=$2; shift 2; "
	    "case \":$PATH:\" in *\":$QNX_HOST/usr/bin:\"*) ;; *) PATH=$QNX_HOST/usr/bin:$PATH ;; esac; "
	    "case \":$PATH:\" in *\":${mk%/*}:\"*) ;; *) PATH=$PATH:${mk%/*} ;; esac; "
	    "export PATH; exec \"$mk\" \"$@\"";
	posix_spawn_file_actions_t fa;
	char bash[PATH_MAX], log[PATH_MAX];
	char **argv;
	size_t i, k = 0;
	pid_t pid;
	int fd, rc, ws;

	if (qq_proc_which("bash", bash, sizeof(bash)) == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to find bash, which qnxsdp-env.sh "
		    "and mkqnximage need");
	if (qq_mkimage_wpath(c, LOG_FILE, log, sizeof(log), e) != 0)
		return e->status;
	if ((argv = calloc(q->nargs + 8, sizeof(*argv))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run mkqnximage");
	argv[k++] = "bash";
	argv[k++] = "-c";
	argv[k++] = (char *)(q->source ? src_script : env_script);
	argv[k++] = "qq-mkimage";
	argv[k++] = c->ws.path;
	if (q->source)
		argv[k++] = (char *)q->root;
	argv[k++] = (char *)q->mk;
	for (i = 0; i < q->nargs; i++)
		argv[k++] = q->args[i];
	argv[k] = NULL;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1) {
		free(argv);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", log);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
	rc = posix_spawn(&pid, bash, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	free(argv);
	if (rc != 0) {
		errno = rc;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run %s", bash);
	}
	while (waitpid(pid, &ws, 0) == -1) {
		if (errno != EINTR)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to wait for mkqnximage");
		if (qq_sig_caught())	/* interrupted: end mkqnximage too, then report 128+n */
			(void)kill(pid, SIGTERM);
	}
	if (qq_sig_check(e) != 0)
		return e->status;
	if ((rc = qq_err_wstatus(ws)) != 0) {
		/* Shown even when quiet (qq-run in CI): without it the failure says nothing. */
		show_tail(c->talk != NULL ? c->talk : c->o->errors, log);
		return qq_err_set(e, QQ_EXIT_RUNTIME, "mkqnximage failed (exit %d); its log is %s",
		    rc, log);
	}
	return 0;
}

static int
push(struct qnx *q, struct qq_err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
push(struct qnx *q, struct qq_err *e, const char *fmt, ...)
{
	char **v;
	va_list ap;
	int rc;

	if ((v = reallocarray(q->args, q->nargs + 2, sizeof(*v))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list mkqnximage's arguments");
	q->args = v;
	va_start(ap, fmt);
	rc = vasprintf(&v[q->nargs], fmt, ap);
	va_end(ap);
	if (rc == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to list mkqnximage's arguments");
	v[++q->nargs] = NULL;
	return 0;
}

static int
has_opt(char *const *v, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], name, len) == 0 && (v[i][len] == '=' || v[i][len] == '\0'))
			return 1;
	return 0;
}

/* qq's arguments, then the user's (options, else the environment's). */
static int
make_args(struct qq_mkimage_ctx *c, struct qnx *q, struct qq_err *e)
{
	char **user = (char **)c->o->qnx_opts, **env = NULL;
	size_t nuser = c->o->nqnx_opts, i;
	int rc = 0;

	if (qq_mkimage_qnx_opts_check(c->o, e) != 0)
		return e->status;
	if (nuser == 0) {
		if (env_opts(&env, &nuser, e) != 0)
			return e->status;
		user = env;
	}
	if (push(q, e, "--type=qemu") != 0 ||
	    push(q, e, "--arch=%s", strcmp(c->s->val[QQ_SET_ARCH], "aarch64") == 0 ?
	    "aarch64le" : "x86_64") != 0 ||
	    push(q, e, "--ssh-ident=%s", q->identpath) != 0 ||
	    push(q, e, "--noprompt") != 0 || push(q, e, "--force") != 0 ||
	    push(q, e, "--build") != 0 ||
	    (!has_opt(user, nuser, "--data-size") && push(q, e, "--data-size=%llu",
	    DATA_BASE_MB + 2 * ((c->bytes + MIB - 1) / MIB)) != 0) ||
	    (!has_opt(user, nuser, "--data-inodes") && push(q, e, "--data-inodes=%llu",
	    (unsigned long long)DATA_INODES + 4 * (unsigned long long)c->nfiles) != 0))
		rc = e->status;
	for (i = 0; rc == 0 && i < nuser; i++)
		rc = push(q, e, "%s", user[i]);
	qq_argv_free(env);
	return rc;
}

static int
prepare(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	struct qq_mkimage_file *mf;
	struct qnx *q;
	size_t i;
	int rc;

	if ((q = c->priv = calloc(1, sizeof(*q))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run mkqnximage");
	if (find_sdp(c, q, e) != 0 ||
	    qq_mkimage_wpath(c, IDENT_FILE, q->identpath, sizeof(q->identpath), e) != 0 ||
	    make_args(c, q, e) != 0)
		return e->status;
	if ((mf = calloc(c->nfiles ? c->nfiles : 1, sizeof(*mf))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write the snippet");
	for (i = 0; i < c->nfiles; i++) {
		mf[i].guest = c->files[i].guest;
		mf[i].host = c->files[i].host;
		mf[i].mode = c->files[i].mode;
	}
	rc = qq_mkimage_snippet(mf, c->nfiles, &q->snippet, e);
	free(mf);
	if (rc != 0)
		return e->status;
	/* The snippet is a function of (guest, mode, host) and its format version. */
	qq_mkimage_kadd(&c->key, "mkqnximage snippet 1");
	for (i = 0; i < c->nfiles; i++)
		qq_mkimage_kadd(&c->key, c->files[i].host);
	for (i = 0; i < q->nargs; i++)
		qq_mkimage_kadd(&c->key, q->args[i]);
	qq_mkimage_kadd(&c->key, "--");
	qq_mkimage_kadd(&c->key, q->mk);
	qq_mkimage_kadd(&c->key, q->hex);
	qq_mkimage_kadd(&c->key, q->source ? q->root : "");
	qq_mkimage_kadd(&c->key, q->source ? "" : getenv("QNX_HOST"));
	qq_mkimage_kadd(&c->key, q->source ? "" : getenv("QNX_TARGET"));
	return 0;
}

static int
build(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	struct qnx *q = c->priv;
	char path[PATH_MAX], identtext[QQ_PUBKEY_LINE_MAX + 2];

	snprintf(identtext, sizeof(identtext), "%s\n", c->pubkey);
	if (qq_mkimage_wpath(c, SNIPPET_DIR, path, sizeof(path), e) != 0 ||
	    qq_file_mkdirs(path, 0755, e) != 0 ||
	    qq_mkimage_wpath(c, SNIPPET_FILE, path, sizeof(path), e) != 0 ||
	    qq_file_write_atomic(path, q->snippet, strlen(q->snippet), 0644, e) != 0 ||
	    write_if_changed(q->identpath, identtext, 0644, e) != 0)
		return e->status;
	return run_mkqnximage(c, q, e);
}

static int
set_facts(const char *ws, struct qq_facts *f, struct qq_err *e)
{
	char path[PATH_MAX];

	qq_facts_del(f, "initrd");
	qq_facts_del(f, "append");
	if (qq_file_join(path, sizeof(path), ws, "output/ifs.bin", e) != 0 ||
	    qq_facts_set(f, "kernel", path, e) != 0 ||
	    qq_file_join(path, sizeof(path), ws, "output/disk-qemu.vmdk", e) != 0 ||
	    qq_facts_set(f, "disk", path, e) != 0)
		return e->status;
	return 0;
}

static int
facts(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	return set_facts(c->ws.path, c->f, e);
}

static int
plan(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	struct qnx *q;
	char *snippet = NULL;

	/*
	 * What a build would refuse, checked now without writing, so that a dry run
	 * refuses what a run would: the options, names the snippet cannot hold (the
	 * stage facts mkimage.c parsed), the SDP.
	 */
	if (qq_mkimage_qnx_opts_check(c->o, e) != 0 ||
	    qq_mkimage_snippet(c->planned, c->nplanned, &snippet, e) != 0)
		return e->status;
	free(snippet);
	if ((q = c->priv = calloc(1, sizeof(*q))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the image");
	if (find_sdp(c, q, e) != 0)
		return e->status;
	return set_facts(c->ws.path, c->f, e);
}

static void
done(struct qq_mkimage_ctx *c)
{
	struct qnx *q = c->priv;

	if (q != NULL) {
		free(q->snippet);
		qq_argv_free(q->args);
		free(q);
	}
	c->priv = NULL;
}

static const char *const outputs[] = { "output/ifs.bin", "output/disk-qemu.vmdk", NULL };

const struct qq_mkimage_ops qq_mkimage_qnx = {
	.name = "mkqnximage",
	.guest_os = "QNX",
	.foreign = "ld-linux",
	.native = "/usr/lib/ldqnx-64.so.2",
	.outputs = outputs,
	.skipped = "mkqnximage not run",
	.prepare = prepare,
	.build = build,
	.facts = facts,
	.plan = plan,
	.done = done,
};
