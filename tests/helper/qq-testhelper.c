/* qq-testhelper: stand-ins for program tests and benches: port holder, fake sshd, lock holder, waiter. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qq.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * listen [DELAY_MS [BANNER]]: listens on 127.0.0.1 (an ephemeral port),
 * prints the port; closes every connection at once (like slirp when the
 * guest's sshd is not up) until DELAY_MS have passed, then sends BANNER.
 * Prints on stderr, as "answering=SECONDS", the wall clock of the switch.
 */
static int
do_listen(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	const char *banner = argc > 3 ? argv[3] : "SSH-2.0-qq-testhelper\r\n";
	long delay = argc > 2 ? atol(argv[2]) : -1;
	double start, answer;
	int fd, c, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 || listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		return 1;
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	start = now();
	answer = start + (delay < 0 ? 1e9 : delay / 1000.0);
	if (delay >= 0) {
		fprintf(stderr, "answering=%.6f\n", answer);
		fflush(stderr);
	}
	while ((c = accept(fd, NULL, NULL)) != -1) {
		if (now() >= answer)
			(void)write(c, banner, strlen(banner));
		close(c);
	}
	return 1;
}

/* lock FILE: holds a POSIX write lock on FILE (as QEMU does on its pidfile) until killed. */
static int
do_lock(const char *path)
{
	struct flock fl;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT, 0644)) == -1)
		return 1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1)
		return 1;
	puts("locked");
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * wait PORT TIMEOUT_MS [KEY [WS]]: qq-spawn's readiness wait alone (a login with KEY, pinned
 * in WS; without KEY the identification line); prints "ready=SECONDS" (wall clock).
 */
static int
do_wait(int argc, char *argv[])
{
	struct qq_ready_opts o;
	struct qq_guest g;
	enum qq_spawn_wait why;
	struct qq_err e;

	if (qq_guest_set(&g, argc > 5 ? argv[5] : "", atoi(argv[2]), argc > 4 ? argv[4] : NULL,
	    &e) != 0) {
		fprintf(stderr, "qq-testhelper: %s\n", e.msg);
		return e.status;
	}
	memset(&o, 0, sizeof(o));
	o.guest = &g;
	o.timeout_ms = atoi(argv[3]);
	o.pidfd = -1;
	if (qq_ready_wait(&o, &why, &e) != 0) {
		fprintf(stderr, "qq-testhelper: %s\n", e.msg);
		return e.status;
	}
	printf("ready=%.6f\n", now());
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 2 && strcmp(argv[1], "listen") == 0)
		return do_listen(argc, argv);
	if (argc == 3 && strcmp(argv[1], "lock") == 0)
		return do_lock(argv[2]);
	if (argc >= 4 && argc <= 6 && strcmp(argv[1], "wait") == 0)
		return do_wait(argc, argv);
	fputs("usage: qq-testhelper listen [DELAY_MS [BANNER]] | lock FILE | wait PORT MS [KEY [WS]]\n",
	    stderr);
	return 2;
}
