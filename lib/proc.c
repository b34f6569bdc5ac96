/* proc.c: running a program with posix_spawn(3) and capturing what it prints. */
#include "config.h"

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
#include <unistd.h>

#include "qq.h"

extern char **environ;

#define DRAIN_MS 200	/* after the child exits, for what its pipes still hold */

int
qq_proc_which(const char *argv0, char *out, size_t outsz)
{
	const char *path, *p, *end;
	char cand[PATH_MAX];
	struct stat st;

	if (strchr(argv0, '/') != NULL) {
		if (stat(argv0, &st) == -1)
			return -1;
		if (strlcpy(out, argv0, outsz) >= outsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		size_t len;

		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		if ((size_t)snprintf(cand, sizeof(cand), "%.*s/%s", (int)len,
		    len ? p : ".", argv0) < sizeof(cand) &&
		    stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return strlcpy(out, cand, outsz) < outsz ? 0 : (errno = ENAMETOOLONG, -1);
		if (end == NULL)
			break;
	}
	errno = ENOENT;
	return -1;
}

static int
grow(char **buf, size_t *len, size_t *cap, int fd)
{
	char *nb;
	ssize_t n;

	if (*len + 4096 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 8192;

		if ((nb = realloc(*buf, ncap)) == NULL)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	n = read(fd, *buf + *len, *cap - *len - 1);
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return n == 0 ? 0 : 1;
}

/* Kills a child we gave up on (timeout, signal) and reaps it. */
static void
kill_child(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* What is left of a deadline in ms for poll(2): -1 none; 0 passed. */
static int
left_ms(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - qq_vm_now_ms();
	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

int
qq_proc_run(char *const argv[], char *const envp[], struct qq_proc_out *r, struct qq_err *e)
{
	return qq_proc_run_for(argv, envp, QQ_PROC_TIMEOUT_MS, r, e);
}

int
qq_proc_run_for(char *const argv[], char *const envp[], int timeout_ms, struct qq_proc_out *r,
    struct qq_err *e)
{
	posix_spawn_file_actions_t fa;
	struct pollfd pfd[3];
	char path[PATH_MAX];
	size_t cap[2] = { 0, 0 };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int rc, ws, open_fds, pidfd = -1, exited = 0;
	long long deadline = timeout_ms < 0 ? -1 : qq_vm_now_ms() + timeout_ms, drain = -1;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (qq_proc_runnable(argv[0], NULL, path, sizeof(path), e) != 0)
		return e->status;
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run %s", argv[0]);
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	rc = posix_spawn(&pid, path, &fa, NULL, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	if (rc != 0) {
		errno = rc;
		qq_err_sys(e, rc == ENOENT ? QQ_EXIT_NOTFOUND : QQ_EXIT_NOEXEC,
		    "unable to run %s", path);
		goto fail;
	}
	/*
	 * Every wait is bounded: by the deadline, by a signal (sig.c), and by the
	 * child's exit: a grandchild that keeps our pipes open (a daemon that did not
	 * close stderr) gets DRAIN_MS to finish writing, then we stop reading.
	 */
	pidfd = qq_vm_pidfd(pid);
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[2].fd = pidfd;
	pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
	for (open_fds = 2; open_fds > 0 || (!exited && pidfd != -1); ) {
		int wait = left_ms(deadline);

		if (qq_sig_check(e) != 0) {
			kill_child(pid);
			goto fail;
		}
		if (wait == 0) {
			kill_child(pid);
			qq_err_set(e, QQ_EXIT_RUNTIME, "%s did not finish within %d s; killed", path,
			    timeout_ms / 1000);
			goto fail;
		}
		if (exited) {
			if (left_ms(drain) == 0)
				break;
			wait = wait < 0 || left_ms(drain) < wait ? left_ms(drain) : wait;
		}
		if (poll(pfd, 3, wait) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].fd != -1 && pfd[2].revents != 0) {
			exited = 1;
			pfd[2].fd = -1;
			drain = qq_vm_now_ms() + DRAIN_MS;
		}
		for (int i = 0; i < 2; i++) {
			char **b = i ? &r->errout : &r->out;
			size_t *l = i ? &r->errlen : &r->outlen;

			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((rc = grow(b, l, &cap[i], pfd[i].fd)) <= 0) {
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	while (waitpid(pid, &ws, 0) == -1)
		if (errno != EINTR) {
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to wait for %s", path);
			goto fail;
		}
	r->status = qq_err_wstatus(ws);
	close(out[0]);
	close(err[0]);
	if (pidfd != -1)
		close(pidfd);
	/* Callers may always treat out and errout as strings. */
	if ((r->out == NULL && (r->out = strdup("")) == NULL) ||
	    (r->errout == NULL && (r->errout = strdup("")) == NULL)) {
		qq_proc_out_free(r);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run %s", path);
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
	}
	if (pidfd != -1)
		close(pidfd);
	qq_proc_out_free(r);
	return e->status;
}

void
qq_proc_out_free(struct qq_proc_out *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
	r->outlen = r->errlen = 0;
}

int
qq_proc_runnable(const char *argv0, const char *what, char *path, size_t pathsz,
    struct qq_err *e)
{
	struct stat st;

	if (qq_proc_which(argv0, path, pathsz) == -1)
		return qq_err_sys(e, QQ_EXIT_NOTFOUND, "unable to find %s%s%s", what ? what : "",
		    what ? " " : "", argv0);
	if (stat(path, &st) == -1 || access(path, X_OK) == -1)
		return qq_err_sys(e, QQ_EXIT_NOEXEC, "unable to run %s%s%s", what ? what : "",
		    what ? " " : "", path);
	if (!S_ISREG(st.st_mode))
		return qq_err_set(e, QQ_EXIT_NOEXEC, "unable to run %s%s%s: not a regular file",
		    what ? what : "", what ? " " : "", path);
	return 0;
}
