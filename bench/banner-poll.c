/*
 * banner-poll.c: the bench's hand-written SSH readiness loop, apart from qq:
 * connect, wait up to 250 ms for the first bytes, retry 5 ms later; return
 * when they start "SSH-" (slirp accepts before the guest listens, then closes).
 * usage: banner-poll PORT SECONDS; exit 0 when the banner came, 1 on timeout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
try_once(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	struct pollfd p;
	char buf[256];
	size_t len = 0;
	ssize_t n;
	int fd, ok = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 && errno != EINPROGRESS)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	while (len < 4 && poll(&p, 1, 250) == 1) {
		if ((n = read(fd, buf + len, sizeof(buf) - len)) <= 0)
			break;
		len += (size_t)n;
	}
	ok = len >= 4 && memcmp(buf, "SSH-", 4) == 0;
out:
	close(fd);
	return ok;
}

int
main(int argc, char *argv[])
{
	struct timespec ts = { 0, 5 * 1000000 };
	struct timespec now, end;

	if (argc != 3)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += atoi(argv[2]);
	do {
		if (try_once(atoi(argv[1])))
			return 0;
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec);
	return 1;
}
