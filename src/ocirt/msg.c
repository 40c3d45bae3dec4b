/* The create path's messages: one SOCK_SEQPACKET datagram each, a type
 * byte and a payload; receives have a deadline. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ocirt/container.h"

int sbx_oci_msg_send(int fd, char type, const char *payload, sbx_error *err)
{
	char buf[1024];
	size_t n = strlen(payload);
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	buf[0] = type;
	memcpy(buf + 1, payload, n);
	if (send(fd, buf, n + 1, MSG_NOSIGNAL) != (ssize_t)(n + 1))
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "send");
	return 0;
}

int sbx_oci_msg_recv(int fd, char *type, char *buf, size_t cap, uint64_t deadline_ns,
		     sbx_error *err)
{
	char msg[1024];
	for (;;) {
		int timeout = -1;
		if (deadline_ns) {
			uint64_t now = sbx_now_ns();
			if (now >= deadline_ns)
				return sbx_fail(err, SBX_E_SETUP,
						"timed out waiting for the container");
			timeout = (int)((deadline_ns - now) / 1000000) + 1;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "poll");
		if (r == 0)
			continue;
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "recv");
		if (n == 0)
			return sbx_fail(err, SBX_E_SETUP,
					"the container's set-up ended without a word");
		msg[n] = 0;
		*type = msg[0];
		snprintf(buf, cap, "%s", msg + 1);
		return 0;
	}
}

int sbx_oci_console_connect(const char *path, sbx_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return sbx_fail(err, SBX_E_INVALID, "console socket path too long: %.100s", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return sbx_fail_errno(err, SBX_E_INVALID, e, "cannot connect to console socket %s",
				      path);
	}
	return fd;
}
