/* workspace.c: the VM workspace: its .qq marker, its lock and paths inside it. */
#include "config.h"

#include <sys/file.h>
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
	if (!create || !is_empty_dir(ws->path))
		return qq_err_set(e, QQ_EXIT_INPUT,
		    "%s is not a qq workspace (no %s marker); choose another --workspace",
		    ws->path, QQ_WS_MARKER);
	return qq_file_write_atomic(marker, "qq workspace\n", 13, 0644, e);
}

int
qq_ws_lock(struct qq_ws *ws, struct qq_err *e)
{
	char path[QQ_VALUE_MAX + 8], buf[32];
	ssize_t n;
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
