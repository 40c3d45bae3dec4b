/* tcp_listen SECONDS: listen on 0.0.0.0 (an ephemeral port), print
 * "PORT <n>", then for SECONDS seconds accept connections, printing
 * "ACCEPT <peer address>" for each; finally "DONE <count>".
 * Runs on the host only (network isolation tests).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 10, n = 0, one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 16) ||
	    getsockname(s, (struct sockaddr *)&sa, &len)) {
		perror("tcp_listen");
		return 1;
	}
	printf("PORT %d\n", ntohs(sa.sin_port));
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int c = accept(s, (struct sockaddr *)&peer, &pl);
		if (c < 0)
			continue;
		printf("ACCEPT %s\n", inet_ntoa(peer.sin_addr));
		n++;
		close(c);
	}
	printf("DONE %d\n", n);
	return 0;
}
