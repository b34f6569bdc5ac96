/* banner-poll.c: the bench's "ideal" SSH readiness loop: a new connection every 5 ms, return on "SSH-". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
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
	int fd, ok = 0;
	ssize_t n;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 && errno != EINPROGRESS)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	/* slirp accepts before the guest listens, then closes: wait for bytes or EOF. */
	while (len < 4 && poll(&p, 1, 500) == 1) {
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
	int port, limit;

	if (argc != 3)
		return 2;
	port = atoi(argv[1]);
	limit = atoi(argv[2]) * 200;
	while (limit-- > 0) {
		if (try_once(port))
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}
