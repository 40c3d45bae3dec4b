/* A hostile stand-in for a sandbox's control socket (tests of issue 9):
 *   fake_ctl SOCKET MODE
 * listens on SOCKET (SOCK_SEQPACKET) and answers every connection's first
 * record according to MODE:
 *   silent   never answers, keeps the connection open
 *   garbage  records of unknown types, a short status, an oversized error
 *   half     read: announces 1000 bytes, sends 10, closes; exec: "started", closes
 *   huge     read: announces 2^62 bytes
 *   eof      closes at once
 * Exits after 300 s in any case. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void rec(int fd, char type, const void *p, size_t n)
{
	char *b = malloc(n + 1);
	b[0] = type;
	memcpy(b + 1, p, n);
	send(fd, b, n + 1, MSG_NOSIGNAL);
	free(b);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fake_ctl SOCKET MODE\n");
		return 2;
	}
	const char *mode = argv[2];
	alarm(300);
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(sa.sun_path);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 16) < 0) {
		perror("fake_ctl: bind");
		return 1;
	}
	int nk = 0;
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		static char req[1 << 17];
		ssize_t n = recv(c, req, sizeof(req), 0);
		char type = n > 0 ? req[0] : 0;
		if (!strcmp(mode, "eof")) {
			close(c);
			continue;
		}
		if (!strcmp(mode, "garbage")) {
			rec(c, 'Q', "junk", 4);
			rec(c, 'S', "x", 1);
			rec(c, 'D', "abc", 3);
			static char big[100000];
			memset(big, 'z', sizeof(big));
			rec(c, 'E', big, sizeof(big));
			rec(c, '\0', NULL, 0);
		} else if (!strcmp(mode, "half")) {
			if (type == 'R') {
				uint64_t size = 1000;
				rec(c, 'D', &size, sizeof(size));
				rec(c, 'd', "0123456789", 10);
			} else {
				int32_t pid = 2;
				rec(c, 'P', &pid, sizeof(pid));
			}
			close(c);
			continue;
		} else if (!strcmp(mode, "huge") && type == 'R') {
			uint64_t size = 1ull << 62;
			rec(c, 'D', &size, sizeof(size));
		}
		/* silent (and the rest): the connection stays open, unanswered */
		if (++nk > 256)
			close(c);
	}
}
