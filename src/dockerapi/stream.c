/* Streams between a client connection and a container: exec start (the
 * command's output framed to the client, the client's bytes to its
 * stdin), attach and logs (the container's log, followed). Every write to
 * the client has the connection's deadline; a client that goes away stops
 * the writing, never the command. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dockerapi/stream.h"
#include "dockerapi/strv.h"

/* The client's bytes for a command's stdin: what the connection already
 * buffered, then its socket; a full pipe stops the reading. */
typedef struct stdin_pump {
	int to; /* stdin pipe (non-blocking), -1 when closed */
	char buf[16384];
	size_t off, len;
	bool client_eof;
} stdin_pump;

static void stdin_flush(stdin_pump *s)
{
	while (s->to >= 0 && s->off < s->len) {
		ssize_t w = write(s->to, s->buf + s->off, s->len - s->off);
		if (w > 0) {
			s->off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return;
		} else {
			sbx_closep(&s->to); /* the reader is gone */
			s->off = s->len = 0;
		}
	}
	if (s->off == s->len) {
		s->off = s->len = 0;
		if (s->client_eof)
			sbx_closep(&s->to);
	}
}

static void stdin_read(stdin_pump *s, int fd)
{
	ssize_t n = recv(fd, s->buf, sizeof(s->buf), MSG_DONTWAIT);
	if (n > 0) {
		s->off = 0;
		s->len = (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		s->client_eof = true;
	}
	stdin_flush(s);
}

static void stdin_init(stdin_pump *s, dapi_conn *conn, int to)
{
	memset(s, 0, sizeof(*s));
	s->to = to;
	const char *pre;
	size_t n;
	dapi_conn_take_buffered(conn, &pre, &n);
	while (n > 0 && s->to >= 0) {
		size_t k = n < sizeof(s->buf) ? n : sizeof(s->buf);
		memcpy(s->buf, pre, k);
		s->off = 0;
		s->len = k;
		pre += k;
		n -= k;
		/* early bytes: a bounded wait for the pipe to take them */
		for (int i = 0; i < 100 && s->len; i++) {
			stdin_flush(s);
			if (s->len) {
				struct pollfd p = {s->to, POLLOUT, 0};
				poll(&p, 1, 50);
			}
		}
	}
}

/* Send one chunk of output: framed (stream 1/2) or raw (tty). */
static int send_out(dapi_conn *conn, bool tty, int stream, const char *d, size_t n)
{
	return tty ? dapi_write_all(conn, d, n) : dapi_mux_write(conn, stream, d, n);
}

static void pump_fd(dapi_conn *conn, bool *conn_ok, bool tty, int *fd, int stream, bool want)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			char crlf[2 * sizeof(buf)];
			size_t len = tty ? dapi_onlcr(buf, (size_t)n, crlf) : (size_t)n;
			if (want && *conn_ok &&
			    send_out(conn, tty, stream, tty ? crlf : buf, len) < 0)
				*conn_ok = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		sbx_closep(fd);
		return;
	}
}

int dapi_exec_stream(dapi_exec *x, dapi_conn *conn, bool detached)
{
	dapi_ctr *c = x->ctr;
	dapi_proc *p = &x->proc;
	int out = p->out_r, errf = p->err_r;
	p->out_r = p->err_r = -1;
	stdin_pump sp;
	memset(&sp, 0, sizeof(sp));
	sp.to = -1;
	if (conn && !detached && x->attach_stdin)
		stdin_init(&sp, conn, x->stdin_w);
	else
		sbx_closep(&x->stdin_w);
	x->stdin_w = -1;
	bool conn_ok = conn != NULL && !detached;
	bool done = false;
	while (out >= 0 || errf >= 0) {
		struct pollfd fds[5] = {{out, POLLIN, 0},
					{errf, POLLIN, 0},
					{p->done_efd, POLLIN, 0},
					{-1, POLLIN, 0},
					{-1, POLLOUT, 0}};
		if (conn_ok && x->attach_stdin && sp.to >= 0 && !sp.client_eof && sp.len == 0)
			fds[3].fd = conn->fd;
		if (sp.to >= 0 && sp.len)
			fds[4].fd = sp.to;
		int n = poll(fds, 5, done ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (out >= 0 && (fds[0].revents || done))
			pump_fd(conn, &conn_ok, x->tty, &out, 1, x->attach_stdout);
		if (errf >= 0 && (fds[1].revents || done))
			pump_fd(conn, &conn_ok, x->tty, &errf, 2, x->attach_stderr);
		if (fds[3].revents)
			stdin_read(&sp, conn->fd);
		if (fds[4].revents)
			stdin_flush(&sp);
		if (done)
			break;
		if (fds[2].revents)
			done = true;
	}
	sbx_closep(&out);
	sbx_closep(&errf);
	sbx_closep(&sp.to);
	dapi_proc_join(p);
	pthread_mutex_lock(&c->mu);
	x->exit_code = dapi_proc_exit_code(p);
	x->running = false;
	x->ended = true;
	if (p->python)
		c->py_busy = false;
	c->sb_users--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int dapi_exec_begin(dapi_exec *x, int *status, sbx_error *err)
{
	dapi_ctr *c = x->ctr;
	pthread_mutex_lock(&c->mu);
	if (x->started) {
		pthread_mutex_unlock(&c->mu);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE, "exec %s has already been started", x->id);
	}
	if (c->state != DAPI_RUNNING || !c->sb) {
		pthread_mutex_unlock(&c->mu);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE, "Container %s is not running", c->id);
	}
	const char *cwd = x->workdir				  ? x->workdir
			  : c->spec.workdir && c->spec.workdir[0] ? c->spec.workdir
			  : c->img.workdir && c->img.workdir[0]	  ? c->img.workdir
								  : "/";
	_cleanup_(dapi_strv_freep) char **env =
	    dapi_strv_concat(DAPI_CSTRV(c->env), DAPI_CSTRV(x->env));
	if (!env) {
		pthread_mutex_unlock(&c->mu);
		*status = 500;
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	dapi_strv_free(x->env);
	x->env = env;
	env = NULL;
	int stdin_w = -1;
	bool python_ok = c->pool && !x->tty && !x->attach_stdin && !c->py_busy;
	int r = dapi_proc_start(&x->proc, c->sb, DAPI_CSTRV(x->argv), DAPI_CSTRV(x->env), cwd,
				x->attach_stdin, &stdin_w, python_ok, err);
	if (r < 0) {
		pthread_mutex_unlock(&c->mu);
		*status = 500;
		return r;
	}
	x->started = x->running = true;
	c->py_busy = c->py_busy || x->proc.python;
	c->sb_users++;
	pthread_mutex_unlock(&c->mu);
	x->stdin_w = stdin_w;
	return 0;
}
