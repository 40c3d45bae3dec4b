/* The one supervision loop (see loop.h). */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/status.h"
#include "base/util.h"
#include "core/loop.h"
#include "proto/proto.h"

/* Records read from ctl per wake-up, at most: a flood cannot hold the loop
 * away from its deadline. */
#define CTL_BURST 64
/* After an internal failure, the killed child gets this long to be reaped. */
#define ABORT_REAP_MS 10000

void sbx_loop_init(sbx_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->out.fd = l->out.tee_fd = l->err.fd = l->err.tee_fd = -1;
	l->pidfd = l->ctl = l->report.fd = l->cancel_fd = l->signal_fd = -1;
}

/* SIGPIPE is the caller's business (the CLI ignores it); EPIPE is ours. */
static void write_all(sbx_stream *s, const char *p, size_t n)
{
	while (n > 0 && s->tee_fd >= 0) {
		ssize_t w = write(s->tee_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w < 0 && errno == EPIPE)
				s->tee_gone = true; /* the loop stops the workload */
			s->tee_fd = -1;		    /* keep draining, stop copying */
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

int sbx_stream_feed(sbx_stream *s, const char *p, size_t n, sbx_error *err)
{
	if (s->tee_gone && !s->capture)
		return 0; /* nobody reads it: nothing to pass on or to report */
	uint64_t room = s->limit > s->kept ? s->limit - s->kept : 0;
	size_t take = n < room ? n : (size_t)room;
	if (take < n)
		s->truncated = true;
	if (take == 0)
		return 0;
	s->kept += take;
	if (s->tee_fd >= 0)
		write_all(s, p, take);
	if (s->capture && sbx_buf_append(&s->buf, p, take) < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory capturing the output");
	return 0;
}

/* One read of what is there; the fd is closed at EOF (or error). */
static int stream_read(sbx_stream *s, sbx_error *err)
{
	char buf[65536];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		sbx_closep(&s->fd);
		return 0;
	}
	return s->filter ? s->filter(s->filter_ctx, s, buf, (size_t)n, err)
			 : sbx_stream_feed(s, buf, (size_t)n, err);
}

void sbx_loop_error(sbx_loop *l, const char *text, size_t n)
{
	if (l->have_error)
		return;
	snprintf(l->error, sizeof(l->error), "%.*s", (int)n, text);
	l->have_error = true;
}

/* The records queued on ctl, without waiting for more. */
static void read_ctl(sbx_loop *l)
{
	for (int i = 0; i < CTL_BURST && l->ctl >= 0; i++) {
		char buf[4096];
		sbx_error e = {0};
		ssize_t n = sbx_msg_recv(l->ctl, buf, sizeof(buf) - 1, NULL, NULL, 0, &e);
		if (n < 0 && (e.sys_errno == EAGAIN || e.sys_errno == EWOULDBLOCK))
			return;
		if (n < 0 && e.sys_errno == EMSGSIZE)
			continue; /* an oversized record is dropped */
		if (n <= 0) {
			sbx_closep(&l->ctl);
			/* Without a child, the connection is the workload. */
			if (l->pidfd < 0 && !l->reaped)
				l->done = true;
			return;
		}
		buf[n] = '\0';
		if (l->on_msg)
			l->on_msg(l, buf, (size_t)n);
	}
}

/* The report channel: a complete report or nothing. */
static void read_report(sbx_loop *l)
{
	sbx_report *r = &l->report;
	ssize_t n = read(r->fd, r->data + r->got, r->size - r->got);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		sbx_closep(&r->fd); /* ended early: a partial report is none */
		return;
	}
	r->got += (size_t)n;
	if (r->got < r->size)
		return;
	sbx_closep(&r->fd);
	if (r->take && r->take(l, r->data, r->size))
		l->done = true;
}

int sbx_signal_request_read(int fd)
{
	char link[64], path[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t k = readlink(path, link, sizeof(link) - 1);
	if (k > 0)
		link[k] = '\0';
	ssize_t r;
	if (k > 0 && strcmp(link, "anon_inode:[signalfd]") == 0) {
		struct signalfd_siginfo si;
		do
			r = read(fd, &si, sizeof(si));
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r != (ssize_t)sizeof(si))
			return -1;
		return sbx_sig_forwardable((int)si.ssi_signo) ? (int)si.ssi_signo : 0;
	}
	unsigned char c;
	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return 0;
	if (r != 1)
		return -1;
	return sbx_sig_forwardable(c) ? c : 0;
}

static void kill_child(sbx_loop *l)
{
	if (l->pidfd >= 0 && !l->reaped)
		syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
}

static void reap(sbx_loop *l)
{
	int st = 0;
	pid_t p;
	if (l->pid <= 0) {
		p = -1;
		errno = ECHILD;
	} else {
		do
			p = wait4(l->pid, &st, __WALL | WNOHANG, &l->ru);
		while (p < 0 && errno == EINTR);
	}
	if (p == 0)
		return; /* not quite gone yet: the pidfd will say again */
	l->wstatus = p == l->pid ? st : (SIGKILL & 0x7f);
	l->reaped = true;
	l->done = true;
	sbx_closep(&l->pidfd);
}

static void run_stop(sbx_loop *l)
{
	l->stopped = true;
	if (l->stop)
		l->stop(l);
	else
		kill_child(l);
}

/* After an internal failure: the workload goes, the child is reaped (for a
 * bounded time). */
static void abort_run(sbx_loop *l)
{
	if (!l->done && !l->stopped)
		run_stop(l);
	if (l->pidfd < 0 || l->reaped)
		return;
	kill_child(l);
	uint64_t end = sbx_now_ns() + ABORT_REAP_MS * 1000000ull;
	while (!l->reaped) {
		uint64_t now = sbx_now_ns();
		if (now >= end)
			break;
		struct pollfd pf = {l->pidfd, POLLIN, 0};
		if (poll(&pf, 1, (int)((end - now) / 1000000) + 1) < 0 && errno != EINTR)
			break;
		if (pf.revents)
			reap(l);
	}
	if (!l->reaped)
		sbx_debug("loop: child %d not reaped %d ms after SIGKILL", (int)l->pid,
			  ABORT_REAP_MS);
}

static void nonblock(int fd)
{
	int fl;
	if (fd >= 0 && (fl = fcntl(fd, F_GETFL)) >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Shorten the poll timeout *ms (-1: none yet) to reach `at`. */
static void soonest(int *ms, uint64_t at, uint64_t now)
{
	uint64_t d = at > now ? (at - now + 999999) / 1000000 : 0;
	int v = d > INT_MAX ? INT_MAX : (int)d;
	if (*ms < 0 || v < *ms)
		*ms = v;
}

enum { W_OUT, W_ERR, W_CTL, W_PIDFD, W_CANCEL, W_REPORT, W_SIGNAL, W_N };

/* Signal requests: forwarded; the stop is scheduled stop_timeout_ns after
 * the first (*force_at), or comes at once without a forward action. */
static void take_signals(sbx_loop *l, uint64_t *stop_at, uint64_t *force_at)
{
	/* One request per wake-up: the fd may be blocking (it is the
	 * caller's, its flags stay), and poll said one is there. */
	int sig = sbx_signal_request_read(l->signal_fd);
	if (sig < 0) {
		l->signal_fd = -1; /* the caller's fd: not ours to close */
		return;
	}
	if (sig == 0)
		return;
	if (!l->signal_got)
		l->signal_got = sig;
	if (*stop_at)
		return; /* already stopping */
	if (!l->forward) {
		l->cancelled = true;
		*stop_at = sbx_now_ns();
		return;
	}
	sbx_debug("loop: forwarding signal %d", sig);
	l->forward(l, sig);
	if (!*force_at)
		*force_at = sbx_now_ns() + l->stop_timeout_ns;
}

int sbx_loop_run(sbx_loop *l, sbx_error *err)
{
	int r = 0;
	/* Times (sbx_now_ns) of what is pending; 0: not pending. */
	uint64_t done_at = 0, stop_at = 0, next_stop = 0, kill_at = 0, give_up_at = 0;
	uint64_t force_at = 0; /* the stop after a forwarded signal's grace */
	bool killed = false;
	nonblock(l->out.fd);
	nonblock(l->err.fd);
	nonblock(l->ctl);
	nonblock(l->report.fd);
	if (l->report.size > SBX_REPORT_MAX)
		l->report.size = SBX_REPORT_MAX;
	for (;;) {
		uint64_t now = sbx_now_ns();
		if (l->done && !done_at) {
			done_at = now;
			read_ctl(l); /* what was sent before the end */
		}
		if (done_at) {
			if ((l->out.fd < 0 && l->err.fd < 0) || now - done_at >= l->drain_ns)
				break;
		} else {
			if (!stop_at && l->deadline_ns && now >= l->deadline_ns) {
				l->timed_out = true;
				stop_at = now;
			}
			if (!stop_at && force_at && now >= force_at) {
				sbx_debug("loop: still running %llu ms after the signal: stopping",
					  (unsigned long long)(l->stop_timeout_ns / 1000000));
				l->cancelled = true;
				stop_at = now;
			}
			if (!stop_at && (l->out.tee_gone || l->err.tee_gone)) {
				sbx_debug("loop: the output's reader went away: stopping");
				l->reader_gone = true;
				stop_at = now;
			}
			if (stop_at && !l->stopped) { /* the first stop (deadline or cancel) */
				uint64_t g = l->stop_grace_ns;
				if (g && l->pidfd >= 0)
					kill_at = stop_at + g;
				if (g)
					give_up_at = stop_at + (l->pidfd >= 0 ? 2 * g : g);
				run_stop(l);
				next_stop = sbx_now_ns() + l->stop_every_ns;
				continue;
			}
			if (kill_at && now >= kill_at) {
				kill_at = 0;
				killed = true; /* no more stop actions: the child goes */
				kill_child(l);
				continue;
			}
			if (give_up_at && now >= give_up_at) {
				sbx_debug("loop: no end %llu ms after the stop: giving up",
					  (unsigned long long)((now - stop_at) / 1000000));
				l->gave_up = true;
				l->done = true;
				continue;
			}
			if (stop_at && l->stop_every_ns && !killed && now >= next_stop) {
				run_stop(l);
				next_stop = sbx_now_ns() + l->stop_every_ns;
				continue;
			}
		}

		int timeout = -1;
		if (done_at) {
			soonest(&timeout, done_at + l->drain_ns, now);
		} else {
			if (!stop_at && l->deadline_ns)
				soonest(&timeout, l->deadline_ns, now);
			if (!stop_at && force_at)
				soonest(&timeout, force_at, now);
			if (stop_at && l->stop_every_ns && !killed)
				soonest(&timeout, next_stop, now);
			if (kill_at)
				soonest(&timeout, kill_at, now);
			if (give_up_at)
				soonest(&timeout, give_up_at, now);
		}
		struct pollfd pf[W_N];
		int what[W_N], n = 0;
		int fds[W_N] = {l->out.fd, l->err.fd, -1, -1, -1, -1, -1};
		if (!l->done) {
			fds[W_CTL] = l->ctl;
			fds[W_PIDFD] = l->reaped ? -1 : l->pidfd;
			fds[W_CANCEL] = l->cancelled ? -1 : l->cancel_fd;
			fds[W_REPORT] = l->report.fd;
			fds[W_SIGNAL] = l->signal_fd;
		}
		for (int i = 0; i < W_N; i++) {
			if (fds[i] < 0)
				continue;
			pf[n] = (struct pollfd){.fd = fds[i], .events = POLLIN};
			what[n++] = i;
		}
		if (n == 0) {
			l->done = true; /* nothing left that could end it */
			continue;
		}
		if (poll(pf, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "poll");
			break;
		}
		for (int k = 0; k < n && r == 0; k++) {
			if (!pf[k].revents)
				continue;
			switch (what[k]) {
			case W_OUT:
				r = stream_read(&l->out, err);
				break;
			case W_ERR:
				r = stream_read(&l->err, err);
				break;
			case W_CTL:
				read_ctl(l);
				break;
			case W_PIDFD:
				reap(l);
				break;
			case W_CANCEL:
				l->cancelled = true;
				if (!stop_at)
					stop_at = sbx_now_ns();
				break;
			case W_REPORT:
				read_report(l);
				break;
			case W_SIGNAL:
				take_signals(l, &stop_at, &force_at);
				break;
			}
		}
		if (r < 0)
			break;
	}
	if (r < 0)
		abort_run(l);
	/* Stragglers past the drain: stop listening. */
	sbx_closep(&l->out.fd);
	sbx_closep(&l->err.fd);
	return r;
}

void sbx_loop_free(sbx_loop *l)
{
	sbx_closep(&l->out.fd);
	sbx_closep(&l->err.fd);
	sbx_closep(&l->ctl);
	sbx_closep(&l->pidfd);
	sbx_closep(&l->report.fd);
	sbx_buf_free(&l->out.buf);
	sbx_buf_free(&l->err.buf);
}

uint64_t sbx_rusage_cpu_ms(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
}

int sbx_loop_result(sbx_loop *l, const sbx_ending *e, uint64_t t0, sbx_result *res, sbx_error *err)
{
	if (l->out.buf.oom || l->err.buf.oom)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory capturing the output");
	res->timed_out = l->timed_out;
	res->cancelled = l->cancelled;
	res->oom_killed = e->oom_killed;
	res->exit_code = sbx_exit_status(e->wstatus, l->timed_out, &res->signal);
	res->received_signal = l->signal_got;
	if (l->reader_gone && !l->timed_out && !l->cancelled) {
		/* We ended it because nobody reads its output: as SIGPIPE
		 * would have (a shell pipeline's 141). */
		res->signal = SIGPIPE;
		res->exit_code = 128 + SIGPIPE;
	}
	res->duration_ms = (sbx_now_ns() - t0) / 1000000;
	res->cpu_ms = e->cpu_ms;
	res->max_rss_kb = e->max_rss_kb;
	/* Nothing was cut for a reader that went away. */
	res->stdout_truncated = l->out.truncated && !(l->out.tee_gone && !l->out.capture);
	res->stderr_truncated = l->err.truncated && !(l->err.tee_gone && !l->err.capture);
	res->stdout_len = l->out.buf.len;
	res->stderr_len = l->err.buf.len;
	res->stdout_buf = sbx_buf_steal(&l->out.buf);
	res->stderr_buf = sbx_buf_steal(&l->err.buf);
	return 0;
}
