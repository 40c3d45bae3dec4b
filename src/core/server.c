/* Server mode of a long-lived sandbox's init: one handler process per
 * connection, inside the sandbox. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base/fdutil.h"
#include "base/util.h"
#include "core/launch.h"
#include "core/spawn.h"
#include "proto/proto.h"
#include "core/server.h"

/* The longest request record: a file request with a path of PATH_MAX - 1
 * bytes (an exec request's arguments follow in chunks). */
#define REQ_MAX (1 + sizeof(sbx_file_req) + PATH_MAX)

static _Noreturn void handle(const sbx_launch *l, int conn)
{
	char buf[REQ_MAX + 1];
	int fds[3], nfds = 0;
	sbx_error e;
	ssize_t n = sbx_msg_recv(conn, buf, sizeof(buf), fds, &nfds, 3, &e);
	if (n == 0)
		_exit(1); /* the client left without asking anything */
	if (n < 0) {
		/* Every refused request is answered with its cause. */
		if (e.sys_errno == EMSGSIZE)
			sbx_fail(&e, SBX_E_INVALID,
				 "request too large (more than %zu bytes; paths are limited to "
				 "%d bytes)",
				 REQ_MAX, PATH_MAX - 1);
		else
			sbx_error_wrap(&e, (int)n, "request");
		sbx_msg_send_error(conn, &e, NULL);
		_exit(1);
	}
	switch (buf[0]) {
	case SBX_REQ_EXEC:
		sbx_serve_exec(l, conn, buf, (size_t)n, fds, nfds);
	case SBX_REQ_READ:
	case SBX_REQ_WRITE:
		sbx_serve_file(l, conn, buf, (size_t)n);
	case SBX_REQ_PING:
		sbx_msg_send(conn, SBX_REP_OK, NULL, 0, NULL, 0, NULL);
		_exit(0);
	}
	sbx_fail(&e, SBX_E_INVALID, "unknown request type 0x%02x", (unsigned char)buf[0]);
	sbx_msg_send_error(conn, &e, NULL);
	_exit(1);
}

/* Handlers are tracked in a fixed table: the sandbox's init must not use
 * malloc (it was cloned from a possibly threaded process). */
#define MAX_HANDLERS 4096

_Noreturn void sbx_server_main(const sbx_launch *l)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);
	static pid_t handlers[MAX_HANDLERS];
	size_t nh = 0;
	uint64_t last = sbx_now_ns();
	for (;;) {
		int timeout = -1;
		if (l->idle_timeout_ms && nh == 0) {
			uint64_t idle_ns = sbx_deadline_ns(0, l->idle_timeout_ms),
				 now = sbx_now_ns();
			if (now - last >= idle_ns)
				_exit(0); /* idle: ending pid 1 ends the sandbox */
			uint64_t left_ms = (idle_ns - (now - last)) / 1000000 + 1;
			timeout = left_ms > INT_MAX ? INT_MAX : (int)left_ms;
		}
		struct pollfd pf[2] = {{l->sock, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(pf, 2, timeout) < 0 && errno != EINTR)
			_exit(1);
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			pid_t p;
			while ((p = waitpid(-1, NULL, WNOHANG | __WALL)) > 0) {
				for (size_t i = 0; i < nh; i++) {
					if (handlers[i] == p) {
						handlers[i] = handlers[--nh];
						last = sbx_now_ns();
						break;
					}
				}
			}
		}
		if (!pf[0].revents)
			continue;
		char m[8];
		int conn = -1, nfds = 0;
		sbx_error e;
		ssize_t n = sbx_msg_recv(l->sock, m, sizeof(m), &conn, &nfds, 1, &e);
		if (n == 0 || (n < 0 && e.sys_errno != EINTR && e.sys_errno != EAGAIN))
			_exit(0); /* the owner is gone: so is the sandbox */
		if (n < 1 || m[0] != SBX_MSG_CONN || nfds != 1) {
			if (nfds == 1)
				close(conn);
			continue;
		}
		last = sbx_now_ns();
		/* No handler (too many, or no fork): the client is told why
		 * (a fresh connection: the short record does not block). */
		pid_t h = nh < MAX_HANDLERS
			      ? sbx_raw_fork(&e)
			      : sbx_fail_errno(&e, SBX_E_SYSTEM, EAGAIN, "%d requests in progress",
					       MAX_HANDLERS);
		if (h == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			int keep[] = {conn};
			sbx_close_all_except(keep, ARRAY_LEN(keep));
			handle(l, conn);
		}
		if (h < 0) {
			sbx_error_wrap(&e, h, "the sandbox cannot start a handler for the request");
			sbx_msg_send_error(conn, &e, NULL);
		}
		close(conn);
		if (h > 0)
			handlers[nh++] = h;
	}
}
