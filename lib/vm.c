/* vm.c: facts about a VM process: its pidfile lock, its executable, its exit, its port, its QMP path. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sha2.h>

#include "qq.h"

long long
qq_vm_now_ms(void)
{
	return qq_vm_now_us() / 1000;
}

long long
qq_vm_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * F_GETLK on pidfile: 1 and the holder's pid in *pid when a process holds the
 * lock, 0 when none does or there is no file, -1 on error. QEMU takes lockf(3),
 * a POSIX record lock on the whole file, which F_GETLK names. The pid is 0 for
 * a holder in a PID namespace this process cannot see (Linux fs/locks.c,
 * locks_translate_pid: pid_nr_ns() of a pid outside the namespace is 0), as in
 * Bazel's linux-sandbox, which runs each test in its own.
 */
static int
getlk(const char *pidfile, pid_t *pid)
{
	struct flock fl;
	int fd;

	*pid = 0;
	if ((fd = open(pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	if (fl.l_type == F_UNLCK)
		return 0;
	*pid = fl.l_pid;
	return 1;
}

pid_t
qq_vm_holder(const char *pidfile)
{
	pid_t pid;

	return getlk(pidfile, &pid) == -1 ? -1 : pid;
}

int
qq_vm_held(const char *pidfile, pid_t *pid)
{
	pid_t p;

	return getlk(pidfile, pid != NULL ? pid : &p);
}

pid_t
qq_vm_pidfile_read(const char *pidfile)
{
	char buf[32];
	const char *errstr;
	ssize_t n;
	long long v;
	int fd;

	if ((fd = open(pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	v = strtonum(buf, 1, INT_MAX, &errstr);
	return errstr == NULL ? (pid_t)v : -1;
}

int
qq_vm_is_qemu(pid_t pid, char *exe, size_t exesz)
{
	char link[64], buf[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%ld/exe", (long)pid);
	if ((n = readlink(link, buf, sizeof(buf) - 1)) == -1) {
		if (exe != NULL)
			strlcpy(exe, "(unknown)", exesz);
		return 0;
	}
	buf[n] = '\0';
	if (exe != NULL)
		strlcpy(exe, buf, exesz);
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	return strncmp(base, "qemu-system-", 12) == 0;
}

/* The state letter of /proc/PID/stat, or 0 when the process is gone. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold anything, so take the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2];
}

int
qq_vm_alive(pid_t pid)
{
	char s = proc_state(pid);

	/* A daemonized QEMU lingers as a zombie for a while: kill(pid, 0) is not enough. */
	return s != 0 && s != 'Z' && s != 'X';
}

int
qq_vm_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int
qq_vm_signal(pid_t pid, int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	/* Through the pidfd the signal cannot reach a process that reused the pid. */
	if (pidfd != -1)
		return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
	(void)pidfd;
#endif
	return kill(pid, sig);
}

int
qq_vm_wait_gone(pid_t pid, int pidfd, int timeout_ms)
{
	long long deadline = qq_vm_now_ms() + timeout_ms;
	struct pollfd pfd;
	long long left;

	for (;;) {
		if (!qq_vm_alive(pid))
			return 0;
		if ((left = deadline - qq_vm_now_ms()) <= 0)
			return -1;
		if (pidfd != -1) {
			/* A pidfd turns readable when the process exits, child or not. */
			pfd.fd = pidfd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, (int)left) > 0)
				return 0;
		} else {
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

int
qq_vm_port_busy(int port)
{
	struct sockaddr_in sin;
	int fd, one = 1, busy = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* slirp binds its forward with SO_REUSEADDR: do the same, so TIME_WAIT does not count. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		busy = errno == EADDRINUSE || errno == EACCES ? 1 : -1;
	close(fd);
	return busy;
}

/* The inode of a socket bound to local port in /proc/net/tcp or tcp6, or 0. */
static unsigned long
port_inode(const char *table, int port)
{
	char line[512], local[128];
	unsigned long inode;
	unsigned int lport;
	FILE *fp;

	if ((fp = fopen(table, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *colon;

		/* "  0: 0100007F:08AE 00000000:0000 0A ... uid timeout inode" */
		if (sscanf(line, " %*s %127s %*s %*s %*s %*s %*s %*s %*s %lu", local, &inode) != 2)
			continue;
		if ((colon = strrchr(local, ':')) == NULL ||
		    sscanf(colon + 1, "%x", &lport) != 1 || (int)lport != port || inode == 0)
			continue;
		fclose(fp);
		return inode;
	}
	fclose(fp);
	return 0;
}

int
qq_vm_port_holder(int port, char *out, size_t outsz)
{
	char want[64], path[600], link[64], comm[64];
	struct dirent *p, *f;
	unsigned long inode;
	DIR *proc, *fds;
	ssize_t n;

	if ((inode = port_inode("/proc/net/tcp", port)) == 0 &&
	    (inode = port_inode("/proc/net/tcp6", port)) == 0)
		return -1;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if ((proc = opendir("/proc")) == NULL)
		return -1;
	while ((p = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;
		while ((f = readdir(fds)) != NULL) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) != 0)
				continue;
			comm[0] = '\0';
			snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
			{
				FILE *cf = fopen(path, "re");

				if (cf != NULL) {
					if (fgets(comm, sizeof(comm), cf) == NULL)
						comm[0] = '\0';
					fclose(cf);
				}
			}
			comm[strcspn(comm, "\n")] = '\0';
			snprintf(out, outsz, "pid %s (%s)", p->d_name, *comm ? comm : "?");
			closedir(fds);
			closedir(proc);
			return 0;
		}
		closedir(fds);
	}
	closedir(proc);
	return -1;
}

int
qq_vm_qmp_dir(const char *ws, char *out, size_t outsz)
{
	char hex[SHA256_DIGEST_STRING_LENGTH];

	SHA256Data((const uint8_t *)ws, strlen(ws), hex);
	return (size_t)snprintf(out, outsz, "/tmp/qq-%.16s", hex) < outsz ? 0 : -1;
}

int
qq_vm_qmp_path(const char *ws, char *out, size_t outsz, struct qq_err *e)
{
	char link[QQ_VALUE_MAX + 16], target[PATH_MAX], dir[64], want[80];
	struct stat st;
	ssize_t n;

	if (qq_file_join(link, sizeof(link), ws, "qmp.sock", e) != 0)
		return e->status;
	if (lstat(link, &st) == -1) {
		out[0] = '\0';
		return 0;
	}
	if (!S_ISLNK(st.st_mode))
		return strlcpy(out, link, outsz) < outsz ? 0 :
		    qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", link);
	/* A long workspace's socket lives in /tmp/qq-DIGEST; trust no other target. */
	if ((n = readlink(link, target, sizeof(target) - 1)) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", link);
	target[n] = '\0';
	if (qq_vm_qmp_dir(ws, dir, sizeof(dir)) == -1)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to name the QMP directory");
	snprintf(want, sizeof(want), "%s/qmp.sock", dir);
	if (strcmp(target, want) != 0)
		return qq_err_set(e, QQ_EXIT_INPUT, "%s points to %s, expected %s", link,
		    target, want);
	return strlcpy(out, target, outsz) < outsz ? 0 :
	    qq_err_set(e, QQ_EXIT_INPUT, "path too long: %s", target);
}

int
qq_vm_dir_private(const char *dir, struct qq_err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to create %s", dir);
	if (lstat(dir, &st) == -1)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return qq_err_set(e, QQ_EXIT_RUNTIME,
		    "%s is not a private directory of ours (owner, mode or type); remove it",
		    dir);
	return 0;
}

/* Only a socket: never a file a user put there. */
static void
unlink_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
}

void
qq_vm_cleanup(const char *ws, const char *pidfile, const char *qmp)
{
	char link[QQ_VALUE_MAX + 16], dir[64], target[PATH_MAX];
	struct qq_err e;

	if (pidfile != NULL && *pidfile)
		(void)unlink(pidfile);
	if (ws != NULL && *ws && qq_vm_qmp_path(ws, target, sizeof(target), &e) == 0 &&
	    *target) {
		unlink_socket(target);
		snprintf(link, sizeof(link), "%s/qmp.sock", ws);
		if (strcmp(target, link) != 0) {
			(void)unlink(link);
			if (qq_vm_qmp_dir(ws, dir, sizeof(dir)) == 0)
				(void)rmdir(dir);
		}
	}
	if (qmp != NULL && *qmp)
		unlink_socket(qmp);
}
