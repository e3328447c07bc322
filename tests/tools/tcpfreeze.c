/*
 * tcpfreeze.c — a loopback TCP proxy that can black-hole its connections, for fault tests.
 *
 *   tcpfreeze LISTEN_PORT TARGET_PORT
 *
 * Forwards every connection to 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT.  SIGUSR1
 * freezes the connections open at that moment: nothing more is read or written on them,
 * but their sockets stay open (a network path that silently stops delivering, with no
 * FIN or RST).  Connections accepted later are forwarded normally.  SIGUSR2 thaws every
 * frozen connection.  Prints "ready" on stdout once listening; SIGTERM ends it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXPAIRS 256

struct pair {
	int fd[2];          /* client, server */
	bool frozen;
	bool used;
};

static struct pair pairs[MAXPAIRS];
static volatile sig_atomic_t freeze_req, thaw_req, stop_req;

static void on_usr1(int s) { (void) s; freeze_req = 1; }
static void on_usr2(int s) { (void) s; thaw_req = 1; }
static void on_term(int s) { (void) s; stop_req = 1; }

static int
connect_target(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
drop(struct pair *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
	p->used = false;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sigaction sa = { 0 };
	int lfd, one = 1, target;

	if (argc != 3) {
		fprintf(stderr, "usage: tcpfreeze LISTEN_PORT TARGET_PORT\n");
		return 2;
	}
	target = atoi(argv[2]);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons((uint16_t) atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(lfd, 64) != 0) {
		perror("tcpfreeze: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop_req) {
		struct pollfd pf[1 + 2 * MAXPAIRS];
		int map[1 + 2 * MAXPAIRS], n = 0;

		if (freeze_req) {
			freeze_req = 0;
			for (int i = 0; i < MAXPAIRS; i++)
				if (pairs[i].used)
					pairs[i].frozen = true;
		}
		if (thaw_req) {
			thaw_req = 0;
			for (int i = 0; i < MAXPAIRS; i++)
				pairs[i].frozen = false;
		}
		pf[n].fd = lfd;
		pf[n].events = POLLIN;
		map[n++] = -1;
		for (int i = 0; i < MAXPAIRS; i++) {
			if (!pairs[i].used || pairs[i].frozen)
				continue;
			for (int k = 0; k < 2; k++) {
				pf[n].fd = pairs[i].fd[k];
				pf[n].events = POLLIN;
				map[n++] = i * 2 + k;
			}
		}
		if (poll(pf, (nfds_t) n, 200) < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpfreeze: poll");
			return 1;
		}
		if (pf[0].revents & POLLIN) {
			int c = accept(lfd, NULL, NULL), s, i;

			if (c >= 0) {
				s = connect_target(target);
				for (i = 0; i < MAXPAIRS && pairs[i].used; i++)
					;
				if (s < 0 || i == MAXPAIRS) {
					close(c);
					if (s >= 0)
						close(s);
				} else {
					pairs[i] = (struct pair) { .fd = { c, s }, .used = true };
				}
			}
		}
		for (int j = 1; j < n; j++) {
			struct pair *p = &pairs[map[j] / 2];
			int k = map[j] % 2;
			char buf[65536];
			ssize_t r, w = 0;

			if (!p->used || p->frozen || !(pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(p->fd[k], buf, sizeof(buf));
			if (r <= 0) {
				drop(p);
				continue;
			}
			while (w < r) {
				ssize_t x = write(p->fd[1 - k], buf + w, (size_t) (r - w));

				if (x < 0) {
					if (errno == EINTR)
						continue;
					break;
				}
				w += x;
			}
			if (w < r)
				drop(p);
		}
	}
	return 0;
}
