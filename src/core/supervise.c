/* The parent's side of a running sandbox: output capture, timeout,
 * cancellation and reaping. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/util.h"
#include "core/launch.h"
#include "core/supervise.h"

/* After init is gone every writer is dead; give in-flight data this long. */
#define DRAIN_GRACE_NS (2000ull * 1000 * 1000)

static void write_all(int *fd, const char *p, size_t n)
{
	while (n > 0 && *fd >= 0) {
		ssize_t w = write(*fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*fd = -1; /* the reader went away: keep draining, stop copying */
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

int sbx_stream_feed(sbx_stream *s, const char *p, size_t n)
{
	uint64_t room = s->limit > s->kept ? s->limit - s->kept : 0;
	size_t take = n < room ? n : (size_t)room;
	if (take < n)
		s->truncated = true;
	if (take == 0)
		return 0;
	s->kept += take;
	if (s->tee_fd >= 0)
		write_all(&s->tee_fd, p, take);
	if (s->capture && sbx_buf_append(&s->buf, p, take) < 0)
		return -1;
	return 0;
}

static void kill_sandbox(sbx_watch *w)
{
	/* SIGKILL to the pid namespace's init takes every process in it down;
	 * the cgroup kill also covers anything in the cgroup outside it. */
	syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
	w->kill_how = w->cg ? sbx_cgroup_kill(w->cg) : "pidns";
	sbx_debug("kill %s", w->kill_how);
}

static void read_messages(sbx_watch *w, int flags)
{
	int resets = 0;
	for (;;) {
		char buf[512];
		ssize_t n = recv(w->sock, buf, sizeof(buf) - 1, flags);
		/* ECONNRESET (the init exited with a message of ours unread)
		 * comes once, before what it sent: read on. */
		if (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)))
			continue;
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				sbx_closep(&w->sock);
			return;
		}
		if (buf[0] == SBX_MSG_STATUS && n >= 1 + (ssize_t)sizeof(int)) {
			memcpy(&w->cmd_status, buf + 1, sizeof(int));
			w->have_status = true;
		} else if (buf[0] == SBX_MSG_ERROR && !w->have_error) {
			buf[n] = '\0';
			snprintf(w->error, sizeof(w->error), "%s", buf + 1);
			w->have_error = true;
		}
		if (!(flags & MSG_DONTWAIT))
			return;
	}
}

int sbx_stream_read(sbx_stream *s)
{
	char buf[65536];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		sbx_closep(&s->fd);
		return 0;
	}
	return sbx_stream_feed(s, buf, (size_t)n);
}

static void reap(sbx_watch *w)
{
	int status;
	pid_t p;
	do
		p = wait4(w->pid, &status, __WALL, &w->ru);
	while (p < 0 && errno == EINTR);
	w->reaped = true;
	sbx_closep(&w->pidfd);
	/* Whatever init sent before it exited is queued on the socket. */
	if (w->sock >= 0)
		read_messages(w, MSG_DONTWAIT);
}

int sbx_watch_run(sbx_watch *w)
{
	int rc = 0;
	uint64_t reaped_at = 0;
	while (!w->reaped || w->out.fd >= 0 || w->err.fd >= 0) {
		uint64_t now = sbx_now_ns();
		if (!w->reaped && w->deadline_ns && now >= w->deadline_ns && !w->timed_out) {
			w->timed_out = true;
			kill_sandbox(w);
		}
		if (w->reaped && now - reaped_at > DRAIN_GRACE_NS)
			break;
		int timeout = -1;
		if (w->reaped)
			timeout = (int)((reaped_at + DRAIN_GRACE_NS - now) / 1000000) + 1;
		else if (w->deadline_ns && !w->timed_out)
			timeout = (int)((w->deadline_ns - now + 999999) / 1000000);

		struct pollfd pf[5];
		int idx[5], n = 0;
		int fds[5] = {w->out.fd, w->err.fd, w->sock, w->reaped ? -1 : w->pidfd,
			      w->cancelled ? -1 : w->cancel_fd};
		for (int i = 0; i < 5; i++) {
			if (fds[i] < 0)
				continue;
			pf[n] = (struct pollfd){.fd = fds[i], .events = POLLIN};
			idx[n++] = i;
		}
		int pr = poll(pf, (nfds_t)n, timeout);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			kill_sandbox(w);
			reap(w);
			break;
		}
		for (int k = 0; k < n; k++) {
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			switch (idx[k]) {
			case 0:
				if (sbx_stream_read(&w->out) < 0)
					rc = -ENOMEM;
				break;
			case 1:
				if (sbx_stream_read(&w->err) < 0)
					rc = -ENOMEM;
				break;
			case 2:
				read_messages(w, 0);
				break;
			case 3:
				reap(w);
				reaped_at = sbx_now_ns();
				break;
			case 4:
				w->cancelled = true;
				if (!w->reaped)
					kill_sandbox(w);
				break;
			}
		}
	}
	/* Stragglers past the grace period: stop listening. */
	sbx_closep(&w->out.fd);
	sbx_closep(&w->err.fd);
	return rc;
}
