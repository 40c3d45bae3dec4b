/* Records on a SOCK_SEQPACKET socket, with fds and chunked payloads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "base/util.h"
#include "proto/proto.h"

/* ---- bounds -------------------------------------------------------------- */

/* Longest blocking step while a deadline or a cancel fd is watched. */
#define SLICE_MS 250

static bool cancelled(const sbx_until *u)
{
	struct pollfd pf = {u->cancel_fd, POLLIN, 0};
	return u->cancel_fd >= 0 && poll(&pf, 1, 0) > 0 && pf.revents;
}

/* Before a blocking step under u: fail past the deadline or once cancelled,
 * else *ms is how long the step may block (-1: no bound at all). */
static int step_ms(const sbx_until *u, const char *what, int *ms, sbx_error *err)
{
	*ms = -1;
	if (!u)
		return 0;
	if (cancelled(u))
		return sbx_fail_errno(err, SBX_E_SYSTEM, ECANCELED, "%s", what);
	if (u->cancel_fd >= 0)
		*ms = SLICE_MS;
	if (u->deadline_ns) {
		uint64_t now = sbx_now_ns();
		if (now >= u->deadline_ns)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ETIMEDOUT, "%s", what);
		uint64_t left = (u->deadline_ns - now + 999999) / 1000000;
		if (*ms < 0 || left < (uint64_t)*ms)
			*ms = left > INT_MAX ? INT_MAX : (int)left;
	}
	return 0;
}

/* Blocking fd, and a kernel timeout of ms (0: none) on its sends. */
static void arm(int fd, int opt, int ms)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static void disarm(int fd, int opt)
{
	struct timeval tv = {0};
	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* sendmsg of a whole record (or a stream's bytes) within u. */
static ssize_t sendmsg_until(int fd, struct msghdr *mh, const sbx_until *u, const char *what,
			     sbx_error *err)
{
	ssize_t r;
	bool armed = false;
	for (;;) {
		int ms;
		r = step_ms(u, what, &ms, err);
		if (r < 0)
			break;
		if (ms >= 0) {
			arm(fd, SO_SNDTIMEO, ms ? ms : 1);
			armed = true;
		}
		r = sendmsg(fd, mh, MSG_NOSIGNAL);
		if (r >= 0)
			break;
		if (errno == EINTR || (armed && (errno == EAGAIN || errno == EWOULDBLOCK)))
			continue;
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "%s", what);
		break;
	}
	if (armed)
		disarm(fd, SO_SNDTIMEO);
	return r;
}

static void put_fds(struct msghdr *mh, void *ctl, size_t ctl_size, const int *fds, int nfds)
{
	memset(ctl, 0, ctl_size);
	mh->msg_control = ctl;
	mh->msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	struct cmsghdr *c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
}

int sbx_msg_send(int fd, char type, const void *p, size_t n, const int *fds, int nfds,
		 sbx_error *err)
{
	return sbx_msg_send_until(fd, type, p, n, fds, nfds, NULL, err);
}

int sbx_msg_send_until(int fd, char type, const void *p, size_t n, const int *fds, int nfds,
		       const sbx_until *u, sbx_error *err)
{
	struct iovec iov[2] = {{&type, 1}, {(void *)p, n}};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};
	if (nfds > 0) {
		if (nfds > 4)
			return sbx_fail_errno(err, SBX_E_SYSTEM, EINVAL,
					      "send on control socket: %d fds", nfds);
		put_fds(&mh, ctl.buf, sizeof(ctl.buf), fds, nfds);
	}
	ssize_t r = sendmsg_until(fd, &mh, u, "send on control socket", err);
	if (r < 0)
		return (int)r;
	if ((size_t)r != n + 1)
		return sbx_fail_errno(err, SBX_E_SYSTEM, EMSGSIZE, "send on control socket");
	return 0;
}

ssize_t sbx_msg_recv(int fd, void *buf, size_t cap, int *fds, int *nfds, int maxfds, sbx_error *err)
{
	return sbx_msg_recv_until(fd, buf, cap, fds, nfds, maxfds, NULL, err);
}

ssize_t sbx_msg_recv_until(int fd, void *buf, size_t cap, int *fds, int *nfds, int maxfds,
			   const sbx_until *u, sbx_error *err)
{
	struct iovec iov = {buf, cap};
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	if (nfds)
		*nfds = 0;
	ssize_t r;
	/* A peer that exits with our data unread leaves ECONNRESET pending,
	 * reported once, ahead of whatever it sent before exiting. */
	int resets = 0;
	for (;;) {
		int ms, e = step_ms(u, "receive on control socket", &ms, err);
		if (e < 0)
			return e;
		int flags = MSG_CMSG_CLOEXEC;
		if (u) {
			/* Wait for a record (or the end) without blocking in
			 * recvmsg: a record is whole when readable. */
			struct pollfd pf[2] = {{fd, POLLIN, 0}, {u->cancel_fd, POLLIN, 0}};
			int k = poll(pf, u->cancel_fd >= 0 ? 2 : 1, ms);
			if (k < 0 && errno != EINTR)
				return sbx_fail_errno(err, SBX_E_SYSTEM, errno,
						      "receive on control socket");
			if (k <= 0 || !pf[0].revents)
				continue; /* step_ms says why, or waits on */
			flags |= MSG_DONTWAIT;
		}
		r = recvmsg(fd, &mh, flags);
		if (r >= 0)
			break;
		if (errno == EINTR || (errno == ECONNRESET && resets++ == 0) ||
		    (u && (errno == EAGAIN || errno == EWOULDBLOCK)))
			continue;
		break;
	}
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "receive on control socket");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int got[4];
		memcpy(got, CMSG_DATA(c), sizeof(int) * (size_t)(n > 4 ? 4 : n));
		for (int i = 0; i < n && i < 4; i++) {
			if (fds && nfds && *nfds < maxfds)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]); /* unexpected fds are not kept */
		}
	}
	if (mh.msg_flags & MSG_TRUNC)
		return sbx_fail_errno(err, SBX_E_SYSTEM, EMSGSIZE, "receive on control socket");
	return r;
}

int sbx_chunks_send(int fd, const void *p, size_t n, sbx_error *err)
{
	return sbx_chunks_send_until(fd, p, n, NULL, err);
}

int sbx_chunks_send_until(int fd, const void *p, size_t n, const sbx_until *u, sbx_error *err)
{
	const char *c = p;
	while (n > 0) {
		size_t k = n < SBX_PROTO_CHUNK ? n : SBX_PROTO_CHUNK;
		int r = sbx_msg_send_until(fd, SBX_MSG_CHUNK, c, k, NULL, 0, u, err);
		if (r < 0)
			return r;
		c += k;
		n -= k;
	}
	return 0;
}

int sbx_chunks_recv(int fd, void *p, size_t n, sbx_error *err)
{
	return sbx_chunks_recv_until(fd, p, n, NULL, err);
}

int sbx_chunks_recv_until(int fd, void *p, size_t n, const sbx_until *u, sbx_error *err)
{
	char *c = p;
	char buf[SBX_PROTO_CHUNK + 1];
	while (n > 0) {
		ssize_t r = sbx_msg_recv_until(fd, buf, sizeof(buf), NULL, NULL, 0, u, err);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, EPIPE, "receive data");
		if (buf[0] != SBX_MSG_CHUNK || (size_t)(r - 1) > n)
			return sbx_fail_errno(err, SBX_E_SYSTEM, EPROTO, "receive data");
		memcpy(c, buf + 1, (size_t)(r - 1));
		c += r - 1;
		n -= (size_t)(r - 1);
	}
	return 0;
}

int sbx_msg_send_error(int fd, const sbx_error *e, sbx_error *err)
{
	size_t n = strnlen(e->msg, SBX_PROTO_ERROR_MAX);
	return sbx_msg_send(fd, SBX_REP_ERROR, e->msg, n, NULL, 0, err);
}

int sbx_connect_until(int fd, const void *addr, size_t addrlen, const sbx_until *u, sbx_error *err)
{
	bool armed = false;
	int r;
	for (;;) {
		int ms;
		r = step_ms(u, "connect", &ms, err);
		if (r < 0)
			break;
		if (ms >= 0) {
			/* A Unix connect waits for room in the listener's
			 * backlog for at most SO_SNDTIMEO. */
			arm(fd, SO_SNDTIMEO, ms ? ms : 1);
			armed = true;
		}
		if (connect(fd, addr, (socklen_t)addrlen) == 0) {
			r = 0;
			break;
		}
		if (errno == EINTR || (armed && errno == EAGAIN))
			continue;
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "connect");
		break;
	}
	if (armed)
		disarm(fd, SO_SNDTIMEO);
	return r;
}

int sbx_stream_send_until(int fd, const void *p, size_t n, const int *fds, int nfds,
			  const sbx_until *u, sbx_error *err)
{
	const char *c = p;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	if (nfds > 4)
		return sbx_fail_errno(err, SBX_E_SYSTEM, EINVAL, "send: %d fds", nfds);
	while (n > 0) {
		struct iovec iov = {(void *)c, n};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		if (nfds > 0)
			put_fds(&mh, ctl.buf, sizeof(ctl.buf), fds, nfds);
		ssize_t r = sendmsg_until(fd, &mh, u, "send", err);
		if (r < 0)
			return (int)r;
		nfds = 0; /* the fds went with the first bytes */
		c += r;
		n -= (size_t)r;
	}
	return 0;
}
