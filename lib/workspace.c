/* workspace.c: the VM workspace: its .qq marker, its lock and paths inside it. */
#include "config.h"

#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

static int
is_empty_dir(const char *path)
{
	struct dirent *d;
	DIR *dir;
	int empty = 1;

	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(dir);
	return empty;
}

int
qq_ws_open(struct qq_ws *ws, const char *path, int create, struct qq_err *e)
{
	char marker[QQ_VALUE_MAX + 8];
	struct stat st;
	int fd;

	ws->lockfd = -1;
	if (qq_file_abspath(path, ws->path, sizeof(ws->path), e) != 0)
		return e->status;
	if (qq_file_join(marker, sizeof(marker), ws->path, QQ_WS_MARKER, e) != 0)
		return e->status;
	if (stat(ws->path, &st) == -1) {
		if (errno != ENOENT || !create)
			return qq_err_sys(e, errno == ENOENT ? QQ_EXIT_INPUT : QQ_EXIT_RUNTIME,
			    "unable to open workspace %s", ws->path);
		if (qq_file_mkdirs(ws->path, 0755, e) != 0)
			return e->status;
	} else if (!S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "unable to open workspace %s: Not a directory", ws->path);
	if (lstat(marker, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	/*
	 * The marker is the first entry of a new workspace, made with O_EXCL: a run
	 * racing to create the same workspace either finds it (then waits its turn
	 * at the lock, "busy") or loses the O_EXCL and finds it then.
	 */
	if (!create || (!is_empty_dir(ws->path) && lstat(marker, &st) == -1))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "%s is not a qq workspace (no %s marker); choose another --workspace",
		    ws->path, QQ_WS_MARKER);
	if (lstat(marker, &st) == 0)
		goto exists;
	if ((fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) == -1) {
		if (errno == EEXIST)
			goto exists;
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", marker);
	}
	if (write(fd, "qq workspace\n", 13) != 13) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", marker);
		close(fd);
		return e->status;
	}
	close(fd);
	return 0;
exists:
	if (lstat(marker, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	return qq_err_set(e, QQ_EXIT_INPUT, "%s is not a qq workspace (%s is not a file)",
	    ws->path, QQ_WS_MARKER);
}

/*
 * The pid holding a flock(2) on fd's file, from /proc/locks (proc(5): "FLOCK
 * ADVISORY WRITE PID MAJOR:MINOR:INODE START END", device numbers in hex);
 * 0 when none is listed.
 */
static long
flock_holder(int fd)
{
	char line[256], type[16];
	unsigned int maj, min;
	unsigned long long ino;
	struct stat st;
	long pid, found = 0;
	FILE *fp;

	if (fstat(fd, &st) == -1 || (fp = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL) {
		const char *p = strchr(line, ':');

		if (p == NULL || sscanf(p + 1, " %15s %*s %*s %ld %x:%x:%llu", type, &pid, &maj,
		    &min, &ino) != 5)
			continue;
		if (strcmp(type, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) && pid > 0)
			found = pid;
	}
	fclose(fp);
	return found;
}

int
qq_ws_lock(struct qq_ws *ws, struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 8], buf[32];
	ssize_t n;
	long holder;
	int fd;

	if (ws->lockfd != -1)
		return 0;
	if (qq_file_join(path, sizeof(path), ws->path, "lock", e) != 0)
		return e->status;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to lock %s", path);
			close(fd);
			return e->status;
		}
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		/* The holder may not have written its pid yet: ask the kernel. */
		if (*buf == '\0' && (holder = flock_holder(fd)) > 0)
			snprintf(buf, sizeof(buf), "%ld", holder);
		close(fd);
		return qq_err_set(e, QQ_EXIT_RUNTIME, "workspace %s is busy: locked by pid %s",
		    ws->path, *buf ? buf : "(unknown)");
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
		close(fd);
		return e->status;
	}
	ws->lockfd = fd;
	return 0;
}

void
qq_ws_close(struct qq_ws *ws)
{
	if (ws->lockfd != -1) {
		close(ws->lockfd);
		ws->lockfd = -1;
	}
}

int
qq_ws_path(const struct qq_ws *ws, const char *rel, char *out, size_t outsz, struct qq_err *e)
{
	return qq_file_join(out, outsz, ws->path, rel, e);
}

int
qq_ws_idle(const char *ws, struct qq_err *e)
{
	char pidfile[QQ_VALUE_MAX + 32];
	pid_t pid;

	if (qq_file_join(pidfile, sizeof(pidfile), ws, "output/qemu.pid", e) != 0)
		return e->status;
	if ((pid = qq_vm_holder(pidfile)) > 0)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "a VM is running in workspace %s (pid %ld); "
		    "nothing was changed: stop it first (qq-run stop)", ws, (long)pid);
	return 0;
}

/* Names our writers give temporaries: NAME.tmp, NAME.tmpDIGITS, NAME.tmpXXXXXX (mkstemp). */
static int
is_tmp_name(const char *name)
{
	const char *t = NULL, *p;
	size_t n;

	for (p = name; (p = strstr(p, ".tmp")) != NULL; p++)
		t = p + 4;
	if (t == NULL || t == name + 4)
		return 0;
	n = strlen(t);
	if (n == 0 || strspn(t, "0123456789") == n)
		return 1;
	return n == 6 && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789") == 6;
}

/* Removes the temporary files of ours in dir (relative to the workspace); only files and links. */
static int
sweep_dir(const struct qq_ws *ws, const char *rel, struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 64];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd;

	if (qq_file_join(path, sizeof(path), ws->path, rel, e) != 0)
		return e->status;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;	/* not there (yet) */
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", path);
	}
	while ((d = readdir(dir)) != NULL) {
		if (!is_tmp_name(d->d_name) ||
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    S_ISDIR(st.st_mode))
			continue;
		if (unlinkat(dirfd(dir), d->d_name, 0) == -1 && errno != ENOENT) {
			qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s/%s", path, d->d_name);
			closedir(dir);
			return e->status;
		}
	}
	closedir(dir);
	return 0;
}

int
qq_ws_sweep(const struct qq_ws *ws, struct qq_err *e)
{
	static const char *dirs[] = { ".", "output", "local/snippets", QQ_STAGE_DIR };
	char path[QQ_VALUE_MAX + 64];

	if (ws->lockfd == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "sweeping %s without its lock", ws->path);
	/* A staging tree being built when a step was killed (stage.c builds it there). */
	if (qq_file_join(path, sizeof(path), ws->path, QQ_STAGE_DIR ".new", e) != 0)
		return e->status;
	if (qq_file_rmtree(path) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s", path);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (sweep_dir(ws, dirs[i], e) != 0)
			return e->status;
	return 0;
}

int
qq_ws_check(struct qq_ws *ws, const char *path, struct qq_err *e)
{
	char marker[QQ_VALUE_MAX + 8];
	struct stat st;

	ws->lockfd = -1;
	if (qq_file_abspath(path, ws->path, sizeof(ws->path), e) != 0 ||
	    qq_file_join(marker, sizeof(marker), ws->path, QQ_WS_MARKER, e) != 0)
		return e->status;
	if (stat(ws->path, &st) == -1) {
		if (errno == ENOENT)
			return 0;	/* qq_ws_open would create it */
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to open workspace %s", ws->path);
	}
	if (!S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "unable to open workspace %s: Not a directory", ws->path);
	if (lstat(marker, &st) == 0 && S_ISREG(st.st_mode))
		return qq_ws_idle(ws->path, e);
	if (!is_empty_dir(ws->path))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "%s is not a qq workspace (no %s marker); choose another --workspace",
		    ws->path, QQ_WS_MARKER);
	return 0;
}

int
qq_ws_begin(struct qq_ws *ws, const char *path, int create, struct qq_err *e)
{
	if (qq_ws_open(ws, path, create, e) != 0 || qq_ws_lock(ws, e) != 0)
		return e->status;
	if (qq_ws_idle(ws->path, e) != 0 || qq_ws_sweep(ws, e) != 0) {
		qq_ws_close(ws);
		return e->status;
	}
	return 0;
}
