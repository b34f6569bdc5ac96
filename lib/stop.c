/* stop.c: stopping a workspace's QEMU up a bounded ladder, and wiping a workspace (clean). */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

#define QMP_CONNECT_MS	1000	/* a live QEMU answers its greeting in milliseconds */
#define QMP_CMD_MS	1000

static const char *const steps[] = { "powerdown", "quit", "sigterm", "sigkill" };

const char *
qq_stop_step_name(enum qq_stop_step step)
{
	return steps[step];
}

void
qq_stop_defaults(struct qq_stop_opts *o)
{
	o->powerdown_ms = 5000;
	o->quit_ms = 3000;
	o->term_ms = 3000;
	o->kill_ms = 5000;
	o->force = 0;
}

/* Sends one QMP command on a fresh connection; 0 when QEMU accepted it. */
static int
qmp_send(const char *qmp, const char *cmd)
{
	struct qq_qmp q;
	struct qq_err e;
	int rc;

	if (qmp == NULL || *qmp == '\0' || qq_qmp_open(&q, qmp, QMP_CONNECT_MS, &e) != 0)
		return -1;
	rc = qq_qmp_cmd(&q, cmd, QMP_CMD_MS, NULL, &e);
	qq_qmp_close(&q);
	return rc == 0 ? 0 : -1;
}

int
qq_stop_vm(const char *pidfile, const char *qmp, const struct qq_stop_opts *o,
    enum qq_stop_step *by, struct qq_err *e)
{
	char exe[PATH_MAX];
	pid_t pid, named;
	int pidfd, rc;

	named = qq_vm_pidfile_read(pidfile);
	if ((pid = qq_vm_holder(pidfile)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the lock of %s", pidfile);
	if (pid == 0) {
		if (access(pidfile, F_OK) == -1)
			return qq_err_set(e, QQ_EXIT_NO, "not running (no %s)", pidfile);
		/* Nobody holds the lock: whatever pid the file names is not our QEMU. */
		if (unlink(pidfile) == -1 && errno != ENOENT)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove stale %s",
			    pidfile);
		if (named > 0)
			return qq_err_set(e, QQ_EXIT_NO,
			    "not running: removed stale %s (pid %ld is not our QEMU)", pidfile,
			    (long)named);
		return qq_err_set(e, QQ_EXIT_NO, "not running: removed stale %s", pidfile);
	}
	if (!qq_vm_is_qemu(pid, exe, sizeof(exe)))
		return qq_err_set(e, QQ_EXIT_RUNTIME,
		    "pid %ld holds %s but runs %s, not qemu-system-*; not signalled", (long)pid,
		    pidfile, exe);
	/* From here on the pidfd pins the process: a reused pid is never signalled. */
	pidfd = qq_vm_pidfd(pid);
	if (!o->force && qmp_send(qmp, "{\"execute\": \"system_powerdown\"}") == 0 &&
	    qq_vm_wait_gone(pid, pidfd, o->powerdown_ms) == 0) {
		*by = QQ_STOP_POWERDOWN;
		goto gone;
	}
	if (qmp_send(qmp, "{\"execute\": \"quit\"}") == 0 &&
	    qq_vm_wait_gone(pid, pidfd, o->quit_ms) == 0) {
		*by = QQ_STOP_QUIT;
		goto gone;
	}
	if (qq_vm_signal(pid, pidfd, SIGTERM) == 0 &&
	    qq_vm_wait_gone(pid, pidfd, o->term_ms) == 0) {
		*by = QQ_STOP_SIGTERM;
		goto gone;
	}
	if (qq_vm_alive(pid) && qq_vm_signal(pid, pidfd, SIGKILL) == -1 && errno != ESRCH) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to kill pid %ld", (long)pid);
		goto out;
	}
	if (qq_vm_wait_gone(pid, pidfd, o->kill_ms) == -1) {
		qq_err_set(e, QQ_EXIT_RUNTIME, "pid %ld survived SIGKILL for %d ms", (long)pid,
		    o->kill_ms);
		goto out;
	}
	*by = QQ_STOP_SIGKILL;
gone:
	e->status = 0;
out:
	rc = e->status;
	if (pidfd != -1)
		close(pidfd);
	return rc;
}

int
qq_stop_ws(const char *ws, const struct qq_stop_opts *o, struct qq_facts *f, struct qq_err *e)
{
	char pidfile[QQ_VALUE_MAX + 32], qmp[PATH_MAX];
	enum qq_stop_step by = QQ_STOP_SIGKILL;
	struct qq_ws w;
	struct stat st;
	int rc;

	/* Nothing in a directory that is not ours is touched, not even a stale pidfile. */
	if (stat(ws, &st) == -1 && errno == ENOENT)
		return qq_err_set(e, QQ_EXIT_NO, "not running: workspace %s does not exist", ws);
	if (qq_ws_open(&w, ws, 0, e) != 0)
		return e->status;
	if (qq_file_join(pidfile, sizeof(pidfile), w.path, "output/qemu.pid", e) != 0)
		return e->status;
	if (qq_vm_qmp_path(w.path, qmp, sizeof(qmp), e) != 0)
		return e->status;
	e->status = 0;
	if ((rc = qq_stop_vm(pidfile, qmp, o, &by, e)) != 0) {
		if (rc == QQ_EXIT_NO)
			qq_vm_cleanup(w.path, NULL, NULL);	/* the socket of a dead VM */
		return rc;
	}
	qq_vm_cleanup(w.path, pidfile, NULL);
	return qq_facts_set(f, "stopped_by", qq_stop_step_name(by), e);
}

/*
 * Walks name (in the directory at, shown as path) depth first, never following
 * a link. With del 0 it only checks that nothing below lies on another device
 * (a mount point, a bind-mounted file): clean checks the whole tree before it
 * deletes anything. With del 1 it removes; in the workspace itself (top) the
 * lock and the .qq marker go last, so an interrupted clean leaves a workspace
 * that is still ours.
 */
static int
walk_at(int at, const char *name, dev_t dev, const char *path, int del, int top,
    struct qq_err *e)
{
	char sub[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s",
		    path);
	if (st.st_dev != dev)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "%s is a mount point (another file system); "
		    "nothing was removed: unmount it first", path);
	if (!S_ISDIR(st.st_mode)) {
		if (del && unlinkat(at, name, 0) == -1 && errno != ENOENT)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s", path);
		return 0;
	}
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open %s", path);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open %s", path);
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    (top && del && (strcmp(d->d_name, QQ_WS_MARKER) == 0 ||
		    strcmp(d->d_name, "lock") == 0)))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name) >= sizeof(sub)) {
			closedir(dir);
			return qq_err_set(e, QQ_EXIT_RUNTIME, "path too long: %s/%s", path,
			    d->d_name);
		}
		if (walk_at(dirfd(dir), d->d_name, dev, sub, del, 0, e) != 0) {
			closedir(dir);
			return e->status;
		}
	}
	if (top && del && ((unlinkat(dirfd(dir), "lock", 0) == -1 && errno != ENOENT) ||
	    (unlinkat(dirfd(dir), QQ_WS_MARKER, 0) == -1 && errno != ENOENT))) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove the marker of %s", path);
		closedir(dir);
		return e->status;
	}
	closedir(dir);
	if (del && unlinkat(at, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s", path);
	return 0;
}

int
qq_stop_clean(const char *path, const struct qq_stop_opts *o, struct qq_facts *f,
    struct qq_err *e)
{
	char abs[QQ_VALUE_MAX], parent[QQ_VALUE_MAX], *slash;
	struct qq_ws ws;
	struct stat st;
	int rc, pfd;

	if (qq_file_abspath(path, abs, sizeof(abs), e) != 0)
		return e->status;
	if (lstat(abs, &st) == -1) {
		if (errno == ENOENT)
			return qq_facts_set(f, "cleaned", abs, e);	/* nothing to wipe */
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", abs);
	}
	if (S_ISLNK(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "workspace %s is a symbolic link; not cleaned (name the directory itself)",
		    abs);
	if (qq_ws_open(&ws, abs, 0, e) != 0)
		return e->status;
	if (qq_ws_lock(&ws, e) != 0)
		return e->status;
	strlcpy(parent, ws.path, sizeof(parent));
	if ((slash = strrchr(parent, '/')) == NULL || slash[1] == '\0') {
		rc = qq_err_set(e, QQ_EXIT_INPUT, "refusing to clean %s", ws.path);
		goto out;
	}
	*slash = '\0';
	if ((pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open %s", parent);
		goto out;
	}
	/* The whole tree is checked before anything is stopped or removed. */
	if ((rc = walk_at(pfd, slash + 1, st.st_dev, ws.path, 0, 1, e)) == 0) {
		rc = qq_stop_ws(ws.path, o, f, e);
		if (rc == 0 || rc == QQ_EXIT_NO)
			rc = walk_at(pfd, slash + 1, st.st_dev, ws.path, 1, 1, e);
	}
	close(pfd);
	if (rc == 0)
		rc = qq_facts_set(f, "cleaned", ws.path, e);
out:
	qq_ws_close(&ws);
	return rc;
}
