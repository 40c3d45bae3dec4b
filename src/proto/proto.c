/* Records on a SOCK_SEQPACKET socket, with fds and chunked payloads. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "base/util.h"
#include "proto/proto.h"

int sbx_msg_send(int fd, char type, const void *p, size_t n, const int *fds, int nfds,
		 sbx_error *err)
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
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ssize_t r;
	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "send on control socket");
	if ((size_t)r != n + 1)
		return sbx_fail_errno(err, SBX_E_SYSTEM, EMSGSIZE, "send on control socket");
	return 0;
}

ssize_t sbx_msg_recv(int fd, void *buf, size_t cap, int *fds, int *nfds, int maxfds, sbx_error *err)
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
	do
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
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
	const char *c = p;
	while (n > 0) {
		size_t k = n < SBX_PROTO_CHUNK ? n : SBX_PROTO_CHUNK;
		int r = sbx_msg_send(fd, SBX_MSG_CHUNK, c, k, NULL, 0, err);
		if (r < 0)
			return r;
		c += k;
		n -= k;
	}
	return 0;
}

int sbx_chunks_recv(int fd, void *p, size_t n, sbx_error *err)
{
	char *c = p;
	char buf[SBX_PROTO_CHUNK + 1];
	while (n > 0) {
		ssize_t r = sbx_msg_recv(fd, buf, sizeof(buf), NULL, NULL, 0, err);
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
