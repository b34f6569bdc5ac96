/* guest_run.c: commands in the guest over one OpenSSH ControlMaster per workspace, each in its own process group. */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qq.h"

extern char **environ;

#define CTL_NAME	"ssh.ctl"
#define MASTER_LOG	"ssh-master.log"
#define MASTER_LOCK	"ssh.lock"	/* flock(2): one master starter at a time */

int
qq_guest_ctl_path(const char *ws, char *out, size_t outsz, struct qq_err *e)
{
	char dir[64];

	/*
	 * ssh binds "PATH.XXXXXXXXXXXXXXXX" before renaming it to PATH
	 * (mux.c, muxserver_listen), so the socket must fit with 17 more
	 * bytes; and ssh_config parses the value: blanks split it, quotes and
	 * backslashes are syntax, '%' starts a token (ssh_config(5), TOKENS).
	 * A deep or oddly named workspace's socket goes where its QMP socket goes.
	 */
	if (strpbrk(ws, " \t\"'\\%#") == NULL &&
	    (size_t)snprintf(out, outsz, "%s/%s", ws, CTL_NAME) < outsz &&
	    strlen(out) <= QQ_SUN_PATH_MAX - 17)
		return 0;
	if (qq_vm_qmp_dir(ws, dir, sizeof(dir)) == -1 ||
	    (size_t)snprintf(out, outsz, "%s/%s", dir, CTL_NAME) >= outsz)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to name the SSH control socket");
	return qq_vm_dir_private(dir, e);
}

/* Runs argv with stdin, stdout and stderr on /dev/null and waits; the exit status, or -1. */
static int
run_quiet(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ws, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &ws, 0) == -1)
		if (errno != EINTR)
			return -1;
	return qq_err_wstatus(ws);
}

/* "ssh [qq's options] -o ControlPath=CTL [extra...] root@127.0.0.1 [cmd]". */
static int
ctl_argv(struct qq_guest_argv *a, const struct qq_guest_conn *c, const char *const extra[],
    char *const cmd[], struct qq_err *e)
{
	char opt[QQ_VALUE_MAX + 32];

	memset(a, 0, sizeof(*a));
	if (qq_guest_argv_init(a, &c->g, QQ_GUEST_BATCH | QQ_GUEST_QUIET, e) != 0)
		goto fail;
	snprintf(opt, sizeof(opt), "ControlPath=%s", c->ctl);
	if (qq_guest_argv_opt(a, opt, e) != 0)
		goto fail;
	for (; extra != NULL && *extra != NULL; extra++)
		if (qq_guest_argv_add(a, *extra, e) != 0)
			goto fail;
	if (qq_guest_argv_finish(a, cmd, e) != 0)
		goto fail;
	return 0;
fail:
	qq_guest_argv_free(a);
	return e->status;
}

/* The pid of the master answering on ctl (MUX_C_ALIVE_CHECK, no ssh process), 0 for none. */
static long
master_pid(const char *ctl)
{
	struct qq_err e;
	long pid = 0;
	int fd;

	if (qq_mux_open(ctl, &fd, &e) != 0)
		return 0;
	if (qq_mux_alive(fd, &pid, &e) != 0)
		pid = 0;
	close(fd);
	return pid;
}

int
qq_guest_job_ran_nothing(const struct qq_guest_job *j)
{
	return !j->head && j->holdlen == 0 && j->linelen == 0 && j->werr == 0;
}

int
qq_guest_retry_pause(int attempt)
{
	struct timespec ts = { 0, 50000000L * attempt };

	if (attempt >= QQ_GUEST_TRIES)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

static int master_start(struct qq_guest_conn *, const struct qq_guest *, struct qq_err *);

int
qq_guest_master_open(struct qq_guest_conn *c, const struct qq_guest *g, struct qq_err *e)
{
	char lock[QQ_VALUE_MAX + 16];
	int rc, lockfd;

	memset(c, 0, sizeof(*c));
	c->g = *g;
	if (*g->ws == '\0')
		return qq_err_set(e, QQ_EXIT_INPUT, "running commands in the guest needs a workspace");
	if (qq_guest_ctl_path(g->ws, c->ctl, sizeof(c->ctl), e) != 0 ||
	    qq_file_join(c->log, sizeof(c->log), g->ws, MASTER_LOG, e) != 0)
		return e->status;
	/*
	 * One starter at a time (qq-exec under ctest -j runs many at once):
	 * without the lock a second caller would unlink the first's fresh
	 * socket and start a master of its own, orphaning the first.
	 */
	if (qq_file_join(lock, sizeof(lock), g->ws, MASTER_LOCK, e) != 0)
		return e->status;
	if ((lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open %s", lock);
	while (flock(lockfd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(lockfd);
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to lock %s", lock);
		}
	rc = master_start(c, g, e);
	close(lockfd);
	return rc;
}

/* Under the lock: the running master, or a new one. */
static int
master_start(struct qq_guest_conn *c, const struct qq_guest *g, struct qq_err *e)
{
	/*
	 * -f: ssh forks into the background once logged in, so its exit says the
	 * master is ready (ssh(1)); -N: no command; ServerAlive notices a guest
	 * that hangs without closing the connection. Its log goes to a file
	 * (-E): a master holding our stderr would keep a caller's pipe open.
	 */
	static const char *const master[] = { "-M", "-N", "-f", "-o", "ControlPersist=no",
	    "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "-E", NULL, NULL };
	const char *extra[sizeof(master) / sizeof(master[0])];
	struct qq_guest_argv a;
	char *log = NULL, line[QQ_ERR_MAX];
	size_t i, len;
	int rc;

	if (master_pid(c->ctl) > 0)
		return 0;	/* another run's master: use it, leave it */
	/*
	 * A master started here would live in our PID namespace, not the VM's:
	 * Bazel's linux-sandbox kills it when this test ends, cutting the other
	 * tests' commands over it. Measured: tests/e2e/exec-bazel.sh.
	 */
	if (g->hidden)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "no SSH connection to the guest is open, "
		    "and one opened from this sandbox (another PID namespace than the VM's) "
		    "would end with it: open it outside first (one qq-exec call of any "
		    "binary)");
	(void)unlink(c->ctl);	/* a dead master's socket (only ever a socket of ours here) */
	(void)unlink(c->log);
	for (i = 0; master[i] != NULL; i++)
		extra[i] = master[i];
	extra[i++] = c->log;
	extra[i] = NULL;
	if ((rc = ctl_argv(&a, c, extra, NULL, e)) != 0)
		return rc;
	rc = run_quiet(a.argv);
	qq_guest_argv_free(&a);
	if (rc == 0 && master_pid(c->ctl) > 0)
		return 0;
	line[0] = '\0';
	if (qq_file_read(c->log, 1 << 20, &log, &len, e) == 0) {
		while (len > 0 && log[len - 1] == '\n')
			log[--len] = '\0';
		strlcpy(line, strrchr(log, '\n') ? strrchr(log, '\n') + 1 : log, sizeof(line));
		free(log);
	}
	return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to open the SSH connection to the guest on "
	    "port %d%s%s", g->port, *line ? ": " : "", line);
}

void
qq_sbuf_add(struct qq_sbuf *b, const char *s)
{
	size_t n = strlen(s);
	char *np;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

void
qq_sbuf_sq(struct qq_sbuf *b, const char *s)
{
	char one[2] = { 0, 0 };

	qq_sbuf_add(b, "'");
	for (; *s != '\0'; s++) {
		one[0] = *s;
		qq_sbuf_add(b, *s == '\'' ? "'\\''" : one);
	}
	qq_sbuf_add(b, "'");
}

int
qq_guest_script(const char *token, char *const argv[], int stdin_null, char **out,
    struct qq_err *e)
{
	/*
	 * POSIX sh, for busybox ash and QNX's ksh (pdksh) alike. The command runs
	 * in a process group that qq may kill (a timeout) without touching sshd:
	 *
	 * - OpenSSH's sshd (QNX's) starts each session's shell as a session
	 *   leader (session.c, do_exec_no_pty: setsid()), so its group is the
	 *   session's own: the command runs right there, at the cost of the one
	 *   fork and exec any command costs.
	 * - Dropbear (the Linux test guest's) leaves the shell in the group of
	 *   the connection's dropbear (measured: pgid == the dropbear's pid), a
	 *   group that must not be killed. `kill -0 -$$` (a builtin, no
	 *   process) tells the two apart; then setsid(1) makes a new shell a
	 *   leader, else (no setsid) the shell's job control does (set -m:
	 *   background jobs get groups of their own; pdksh's works without a tty).
	 *
	 * The command runs in a subshell that execs it, in the foreground: a
	 * background command of a shell without job control would start with
	 * SIGINT and SIGQUIT ignored (POSIX sh 2.11). The waiting shell's own
	 * stderr is /dev/null meanwhile (an exec redirection), so its report of a
	 * death by a signal ("Segmentation fault" in busybox ash, which writes it
	 * where the shell's stderr was before a compound command's redirection)
	 * is not mixed into the command's; the subshell gets stderr back through
	 * fd 4. Protocol on stderr: first "TOKEN p PGID", last "\nTOKEN x STATUS
	 * [SIGNAME]" with the name from the guest's own kill -l (signal numbers
	 * differ between QNX and Linux). At the end the whole group is killed:
	 * nothing the command left running keeps the session open. echo, not
	 * printf: printf is no builtin of pdksh.
	 */
	const char *in = stdin_null ? " </dev/null" : "";
	int is_eval = strcmp(argv[0], "eval") == 0;
	struct qq_sbuf body = { 0 }, b = { 0 };
	size_t i;

	/*
	 * The body and the arguments are written once (the body is kept in
	 * qq_b and run with eval or sh -c): dropbear refuses a command longer
	 * than 9000 bytes (sysoptions.h, MAX_CMD_LEN).
	 */
	qq_sbuf_add(&body, "t=$1; shift; echo \"$t p $$\" >&2; exec 4>&2 2>/dev/null; "
	    "( exec 2>&4 4>&-; ");
	qq_sbuf_add(&body, is_eval ? "\"$@\" )" : "exec \"$@\" )");
	qq_sbuf_add(&body, in);
	qq_sbuf_add(&body, "; s=$?; exec 2>&4 4>&-; n=; [ $s -gt 128 ] && "
	    "n=$(kill -l $s 2>/dev/null); echo \"\n$t x $s $n\" >&2; kill -9 0");
	qq_sbuf_add(&b, "qq_b=");
	qq_sbuf_sq(&b, body.err ? "" : body.p);
	qq_sbuf_add(&b, "; set -- ");
	qq_sbuf_sq(&b, token);
	for (i = 0; argv[i] != NULL; i++) {
		qq_sbuf_add(&b, " ");
		qq_sbuf_sq(&b, argv[i]);
	}
	qq_sbuf_add(&b, "; if kill -0 -$$ 2>/dev/null; then eval \"$qq_b\"; fi; "
	    "if command -v setsid >/dev/null 2>&1; then exec setsid sh -c \"$qq_b\" sh \"$@\"; fi; "
	    "t=$1; shift; set -m 2>/dev/null; \"$@\"");
	qq_sbuf_add(&b, in);
	qq_sbuf_add(&b, " & p=$!; echo \"$t p $p\" >&2; wait $p; s=$?; n=; [ $s -gt 128 ] && "
	    "n=$(kill -l $s 2>/dev/null); kill -9 -$p 2>/dev/null; echo \"\n$t x $s $n\" >&2");
	free(body.p);
	if (b.err || body.err) {
		free(b.p);
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to build the guest command: out of memory");
	}
	*out = b.p;
	return 0;
}

/*
 * Opens the session over the master's socket: no ssh process at all (an
 * ssh client costs ~10 ms of the host's CPU to start). A refusal (the
 * guest's sshd refusing the channel) ran nothing, so it is retried after
 * qq_guest_retry_pause. 1 when no master answers (the caller starts ssh
 * instead).
 */
static int
start_mux(struct qq_guest_conn *c, const char *cmd, const int fds[3], struct qq_guest_job *j,
    struct qq_err *e)
{
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		if (qq_mux_open(c->ctl, &j->mux, e) != 0)
			return e->status == QQ_EXIT_NO ? 1 : e->status;
		/* As ssh's own mux client does first (mux.c, mux_client_request_session). */
		if ((rc = qq_mux_alive(j->mux, &j->master_pid, e)) == 0 &&
		    (rc = qq_mux_session(j->mux, cmd, fds, &j->sid, e)) == 0)
			return 0;
		close(j->mux);
		j->mux = -1;
		if (rc != QQ_MUX_REFUSED || !qq_guest_retry_pause(attempt))
			break;
	}
	j->refused = rc == QQ_MUX_REFUSED;
	return e->status = QQ_EXIT_RUNTIME;
}

int
qq_guest_job_start(struct qq_guest_conn *c, char *const argv[], int infd, int outfd, int errfd,
    struct qq_guest_job *j, struct qq_err *e)
{
	static const char *const client[] = { "-T", "-o", "ControlMaster=no", NULL };
	posix_spawn_file_actions_t fa;
	struct qq_guest_argv a;
	char *script = NULL, *cmd[2];
	int p[2] = { -1, -1 }, fds[3], nullfd = -1, rc;

	memset(j, 0, sizeof(*j));
	j->errfd = j->mux = -1;
	j->errout = errfd;
	j->conn = c;
	j->status = -1;
	/* A per-command token: a command's own output cannot end like the trailer by chance. */
	snprintf(j->token, sizeof(j->token), "qq-%08x%08x", arc4random(), arc4random());
	if ((rc = qq_guest_script(j->token, argv, infd == -1, &script, e)) != 0)
		return rc;
	if (pipe2(p, O_CLOEXEC) == -1) {
		free(script);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to make a pipe");
	}
	j->t0_us = qq_vm_now_us();
	if (infd == -1 && (nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open /dev/null");
		goto fail;
	}
	fds[0] = infd == -1 ? nullfd : infd;
	fds[1] = outfd;
	fds[2] = p[1];
	rc = start_mux(c, script, fds, j, e);
	if (nullfd != -1)
		close(nullfd);
	if (rc == 0) {
		close(p[1]);
		j->errfd = p[0];
		free(script);
		return 0;
	}
	if (rc != 1)
		goto fail;

	/* No master answers: an ssh client of its own (it falls back to a connection of its own). */
	cmd[0] = script;
	cmd[1] = NULL;
	if ((rc = ctl_argv(&a, c, client, cmd, e)) != 0)
		goto fail;
	posix_spawn_file_actions_init(&fa);
	if (infd == -1)
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, infd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, outfd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	rc = posix_spawnp(&j->pid, a.argv[0], &fa, NULL, a.argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		j->pid = 0;
		rc = qq_err_sys(e, rc == ENOENT ? QQ_EXIT_NOTFOUND : QQ_EXIT_RUNTIME,
		    "unable to run %s", a.argv[0]);
		qq_guest_argv_free(&a);
		goto fail;
	}
	qq_guest_argv_free(&a);
	close(p[1]);
	j->errfd = p[0];
	free(script);
	return 0;
fail:
	close(p[0]);
	close(p[1]);
	free(script);
	return rc;
}

static void
put(struct qq_guest_job *j, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0 && j->werr == 0) {
		if ((n = write(j->errout, buf, len)) == -1) {
			if (errno != EINTR)
				j->werr = errno;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Passes on the held bytes that cannot be part of the status line
 * "\nTOKEN x STATUS [NAME]\n": everything before the last newline that
 * starts a prefix of it (or the line itself, once begun), so a command's
 * stderr streams as it comes, less at most that line.
 */
static void
flush_safe(struct qq_guest_job *j)
{
	char want[64];
	size_t wl, p, rest, from = j->holdlen;

	wl = (size_t)snprintf(want, sizeof(want), "\n%s x ", j->token);
	/* The earliest newline from which the rest may still be the status line. */
	for (p = 0; p < j->holdlen && from == j->holdlen; p++) {
		if (j->hold[p] != '\n')
			continue;
		rest = j->holdlen - p;
		if (memcmp(j->hold + p, want, rest < wl ? rest : wl) == 0 &&
		    (rest <= wl || memchr(j->hold + p + 1, '\n', rest - 2) == NULL))
			from = p;
	}
	p = from;
	put(j, j->hold, p);
	memmove(j->hold, j->hold + p, j->holdlen - p);
	j->holdlen -= p;
}

/* Output after the header: passed on, less what may be the status line. */
static void
body(struct qq_guest_job *j, const char *buf, size_t len)
{
	size_t keep = sizeof(j->hold) / 2, out;

	if (len >= keep) {
		put(j, j->hold, j->holdlen);
		put(j, buf, len - keep);
		memcpy(j->hold, buf + len - keep, keep);
		j->holdlen = keep;
	} else {
		if (j->holdlen + len > sizeof(j->hold)) {
			out = j->holdlen + len - sizeof(j->hold);
			put(j, j->hold, out);
			memmove(j->hold, j->hold + out, j->holdlen - out);
			j->holdlen -= out;
		}
		memcpy(j->hold + j->holdlen, buf, len);
		j->holdlen += len;
	}
	flush_safe(j);
}

/* Before the header: ssh's own words pass through; the header line gives the process group. */
static size_t
head(struct qq_guest_job *j, const char *buf, size_t len)
{
	size_t i, tl = strlen(j->token);
	char *end;
	long pg;

	for (i = 0; i < len && !j->head; i++) {
		if (buf[i] != '\n' && j->linelen < sizeof(j->line) - 1) {
			j->line[j->linelen++] = buf[i];
			continue;
		}
		j->line[j->linelen] = '\0';
		if (buf[i] == '\n' && strncmp(j->line, j->token, tl) == 0 &&
		    strncmp(j->line + tl, " p ", 3) == 0) {
			pg = strtol(j->line + tl + 3, &end, 10);
			if (*end == '\0' && pg > 1)
				j->pgid = pg;
			j->head = 1;
		} else {
			put(j, j->line, j->linelen);
			if (buf[i] == '\n')
				put(j, "\n", 1);
			else
				put(j, buf + i, 1);
		}
		j->linelen = 0;
	}
	return i;
}

int
qq_guest_job_read(struct qq_guest_job *j)
{
	char buf[65536];
	ssize_t n;
	size_t used;

	if (j->errfd == -1)
		return 0;
	if ((n = read(j->errfd, buf, sizeof(buf))) == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		close(j->errfd);
		j->errfd = -1;
		return 0;
	}
	used = j->head ? 0 : head(j, buf, (size_t)n);
	if ((size_t)n > used)
		body(j, buf + used, (size_t)n - used);
	return 1;
}

/* At the end: strips and parses the trailer "\nTOKEN x STATUS [NAME]\n" from the held bytes. */
static void
trailer(struct qq_guest_job *j)
{
	char want[64], t[sizeof(j->hold) + 1], *p, *end, *name;
	size_t wl, i;
	long st;

	if (!j->head) {
		put(j, j->line, j->linelen);
		j->linelen = 0;
	}
	wl = (size_t)snprintf(want, sizeof(want), "\n%s x ", j->token);
	for (i = j->holdlen; i-- > 0; ) {
		p = j->hold + i;
		if (j->holdlen - i < wl || memcmp(p, want, wl) != 0)
			continue;
		if (j->hold[j->holdlen - 1] != '\n')
			break;
		memcpy(t, p + wl, j->holdlen - i - wl - 1);
		t[j->holdlen - i - wl - 1] = '\0';
		st = strtol(t, &end, 10);
		if (end == t || st < 0 || st > 255 || (*end != ' ' && *end != '\0'))
			break;
		name = *end == ' ' ? end + 1 : end;
		strlcpy(j->signame, name, sizeof(j->signame));
		j->status = (int)st;
		put(j, j->hold, i);
		j->holdlen = 0;
		return;
	}
	put(j, j->hold, j->holdlen);
	j->holdlen = 0;
}

int
qq_guest_job_wait(struct qq_guest_job *j, struct qq_err *e)
{
	int ws = 0, exitval = -1;

	while (qq_guest_job_read(j) == 1)
		;
	if (j->mux != -1) {
		(void)qq_mux_wait(j->mux, j->sid, &exitval);
		close(j->mux);
		j->mux = -1;
		ws = (exitval == -1 ? 255 : exitval) << 8;
		/*
		 * No exit message: the command's shell died by a signal (it ends
		 * with kill -9 0), or the connection to the guest died under the
		 * session. The master passes the command's output straight to
		 * the caller's descriptors and exits when the connection dies,
		 * with what it still held unwritten: so the status line counts
		 * only if the same master still answers. (Dropbear 2022.83, the
		 * test guest's, can abort the whole connection when sessions open
		 * while others end: mkj/dropbear#321, fixed by PR #326.)
		 */
		if (exitval == -1 && (j->conn == NULL || master_pid(j->conn->ctl) != j->master_pid)) {
			j->lost = 1;
			j->status = -1;
		}
	}
	if (j->pid > 0)
		while (waitpid(j->pid, &ws, 0) == -1)
			if (errno != EINTR) {
				ws = 255 << 8;
				break;
			}
	j->pid = 0;
	j->us = qq_vm_now_us() - j->t0_us;
	trailer(j);
	if (j->lost) {
		j->status = -1;
		return qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH connection to the guest was lost "
		    "during the command%s: its output may be incomplete", j->head ? "" :
		    " (before it started)");
	}
	if (j->werr != 0) {
		errno = j->werr;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to keep the command's output");
	}
	if (j->status == -1 && !j->head)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH session ended before the command "
		    "started in the guest (%s %d): the guest or the connection was lost",
		    exitval == -1 && ws == 255 << 8 ? "no exit status; ssh's would be" :
		    "exit status", qq_err_wstatus(ws));
	if (j->status == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "the SSH session ended without the "
		    "command's status, after it started in the guest as process group %ld (%s "
		    "%d): the guest or the connection was lost", j->pgid,
		    exitval == -1 && ws == 255 << 8 ? "no exit status; ssh's would be" :
		    "exit status", qq_err_wstatus(ws));
	return 0;
}

/* Runs cmd in the guest over c, stdin, stdout and stderr on /dev/null; its exit status, or -1. */
static int
run_ctl(struct qq_guest_conn *c, const char *cmd)
{
	static const char *const client[] = { "-T", "-o", "ControlMaster=no", NULL };
	struct qq_guest_argv a;
	struct qq_err e;
	unsigned sid;
	char *argv[2] = { (char *)cmd, NULL };
	int fd, nul, fds[3], rc = -1;

	if (qq_mux_open(c->ctl, &fd, &e) == 0) {
		if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
			fds[0] = fds[1] = fds[2] = nul;
			if (qq_mux_session(fd, cmd, fds, &sid, &e) == 0) {
				close(nul);
				nul = -1;
				(void)qq_mux_wait(fd, sid, &rc);
			}
			if (nul != -1)
				close(nul);
		}
		close(fd);
		return rc;
	}
	if (ctl_argv(&a, c, client, argv, &e) != 0)
		return -1;
	rc = run_quiet(a.argv);
	qq_guest_argv_free(&a);
	return rc;
}

int
qq_guest_job_kill(struct qq_guest_conn *c, struct qq_guest_job *j, struct qq_err *e)
{
	char cmd[128];
	int rc;

	if (j->pgid <= 1) {
		/* Not started in the guest yet: end our side; the session's close ends it. */
		if (j->pid > 0)
			kill(j->pid, SIGTERM);
		if (j->mux != -1) {
			close(j->mux);
			j->mux = -1;
		}
		return qq_err_set(e, QQ_EXIT_RUNTIME, "the command's process group is unknown");
	}
	/* The group, or (no job control after all) at least the command itself. */
	snprintf(cmd, sizeof(cmd), "kill -9 -%ld 2>/dev/null || kill -9 %ld", j->pgid, j->pgid);
	if ((rc = run_ctl(c, cmd)) != 0)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to kill process group %ld in the "
		    "guest (status %d)", j->pgid, rc);
	return 0;
}

void
qq_guest_job_abandon(struct qq_guest_job *j)
{
	int ws;

	if (j->errfd != -1) {
		close(j->errfd);
		j->errfd = -1;
	}
	if (j->mux != -1) {
		close(j->mux);	/* the master closes the session */
		j->mux = -1;
	}
	if (j->pid > 0) {
		kill(j->pid, SIGKILL);
		while (waitpid(j->pid, &ws, 0) == -1 && errno == EINTR)
			;
		j->pid = 0;
	}
}
