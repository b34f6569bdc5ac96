/*
 * qmp-powerdown.c: the bench's reference for a guest's own shutdown time: connect
 * to QMP, send system_powerdown, wait (pidfd) until QEMU has exited; prints the
 * milliseconds from connecting to the exit. usage: qmp-powerdown SOCKET PID
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Reads until a line holding want arrives (QMP greeting and replies are one line each). */
static int
expect(int fd, const char *want)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, want) != NULL)
			return 0;
	}
	return -1;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd p;
	const char *cap = "{\"execute\":\"qmp_capabilities\"}\n";
	const char *pd = "{\"execute\":\"system_powerdown\"}\n";
	double t0;
	int fd, pfd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path))
		return 2;
	strcpy(sun.sun_path, argv[1]);
	if ((pfd = (int)syscall(SYS_pidfd_open, atoi(argv[2]), 0)) == -1)
		return 1;
	t0 = ms();
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 || expect(fd, "QMP") == -1 ||
	    write(fd, cap, strlen(cap)) == -1 || expect(fd, "return") == -1 ||
	    write(fd, pd, strlen(pd)) == -1 || expect(fd, "return") == -1)
		return 1;
	p.fd = pfd;
	p.events = POLLIN;
	if (poll(&p, 1, 30000) != 1)
		return 1;
	printf("%.1f\n", ms() - t0);
	return 0;
}
