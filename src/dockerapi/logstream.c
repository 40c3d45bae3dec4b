/* A container's log to a client: GET /logs (chunked) and attach (the
 * hijacked stream, with the client's bytes going to the container's
 * stdin). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dockerapi/stream.h"

typedef struct out_ctx {
	dapi_conn *conn;
	const dapi_log_opts *o;
	bool chunked;
	bool ok;
} out_ctx;

static void emit(out_ctx *x, int stream, int64_t ts_ns, const char *d, size_t n)
{
	if (!x->ok)
		return;
	char stamp[64] = "";
	size_t sl = 0;
	if (x->o->timestamps) {
		time_t s = (time_t)(ts_ns / 1000000000);
		struct tm tm;
		gmtime_r(&s, &tm);
		char base[32];
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		sl = (size_t)snprintf(stamp, sizeof(stamp), "%s.%09lldZ ", base,
				      (long long)(ts_ns % 1000000000));
	}
	if (!x->chunked) {
		if (sl) {
			/* one frame: stamp + data */
			char *b = malloc(sl + n);
			if (!b) {
				x->ok = false;
				return;
			}
			memcpy(b, stamp, sl);
			memcpy(b + sl, d, n);
			x->ok = (x->o->tty ? dapi_write_all(x->conn, b, sl + n)
					   : dapi_mux_write(x->conn, stream, b, sl + n)) == 0;
			free(b);
			return;
		}
		x->ok = (x->o->tty ? dapi_write_all(x->conn, d, n)
				   : dapi_mux_write(x->conn, stream, d, n)) == 0;
		return;
	}
	size_t hl = x->o->tty ? 0 : 8;
	char *b = malloc(hl + sl + n);
	if (!b) {
		x->ok = false;
		return;
	}
	if (hl) {
		uint32_t len = (uint32_t)(sl + n);
		b[0] = (char)stream;
		b[1] = b[2] = b[3] = 0;
		b[4] = (char)(len >> 24);
		b[5] = (char)(len >> 16);
		b[6] = (char)(len >> 8);
		b[7] = (char)len;
	}
	memcpy(b + hl, stamp, sl);
	memcpy(b + hl + sl, d, n);
	x->ok = dapi_chunk(x->conn, b, hl + sl + n) == 0;
	free(b);
}

static bool wanted(const dapi_log_opts *o, const dapi_log_entry *e)
{
	if ((e->stream == 1 && !o->stdout_) || (e->stream == 2 && !o->stderr_))
		return false;
	if (o->since_ns && e->ts_ns < o->since_ns)
		return false;
	if (o->until_ns && e->ts_ns > o->until_ns)
		return false;
	return true;
}

/* Copy the entries from *seq on (c->mu held, dropped while writing). */
static void send_from(dapi_ctr *c, uint64_t *seq, out_ctx *x)
{
	for (;;) {
		const dapi_log_entry *e = dapi_log_from(&c->log, *seq);
		if (!e)
			return;
		*seq = e->seq + 1;
		if (!wanted(x->o, e))
			continue;
		size_t n = e->len;
		char *copy = malloc(n);
		if (!copy) {
			x->ok = false;
			return;
		}
		memcpy(copy, e->data, n);
		int stream = e->stream;
		int64_t ts = e->ts_ns;
		pthread_mutex_unlock(&c->mu);
		emit(x, stream, ts, copy, n);
		free(copy);
		pthread_mutex_lock(&c->mu);
		if (!x->ok)
			return;
	}
}

/* The first seq of the last `tail` wanted entries. */
static uint64_t tail_start(const dapi_ctr *c, const dapi_log_opts *o)
{
	if (o->tail < 0)
		return c->log.head ? c->log.head->seq : c->log.next_seq;
	uint64_t n_wanted = 0;
	for (const dapi_log_entry *e = c->log.head; e; e = e->next)
		if (wanted(o, e))
			n_wanted++;
	uint64_t skip = n_wanted > (uint64_t)o->tail ? n_wanted - (uint64_t)o->tail : 0;
	for (const dapi_log_entry *e = c->log.head; e; e = e->next)
		if (wanted(o, e) && skip-- == 0)
			return e->seq;
	return c->log.next_seq;
}

/* The client's bytes to the container's stdin (a non-blocking pipe): a
 * main process that does not read them within 5 s loses them. */
static void stdin_write(int fd, const char *d, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, d + off, n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {fd, POLLOUT, 0};
			if (poll(&p, 1, 5000) > 0)
				continue;
		}
		return;
	}
}

int dapi_log_stream(dapi_ctr *c, dapi_conn *conn, const dapi_log_opts *o)
{
	out_ctx x = {conn, o, !o->hijacked, true};
	dapi_follower f = {NULL, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
	if (f.efd < 0)
		return -1;
	int stdin_w = -1;
	pthread_mutex_lock(&c->mu);
	uint64_t seq = o->from_start ? tail_start(c, o) : c->log.next_seq;
	f.next = c->log.followers;
	c->log.followers = &f;
	if (o->stdin_from >= 0 && c->stdin_w >= 0 && !c->stdin_taken) {
		c->stdin_taken = true;
		stdin_w = dup(c->stdin_w);
	}
	/* A run to follow: the container runs, or will (created, attach). */
	/* A run to follow: the current one, or (created, exited: docker start
	 * -a attaches first) the next one. logs --follow only follows a run. */
	bool follow_run = o->follow && !c->removed && (o->hijacked || c->state == DAPI_RUNNING);
	uint64_t exits = c->exits;
	const char *pre = NULL;
	size_t npre = 0;
	if (o->stdin_from >= 0)
		dapi_conn_take_buffered(conn, &pre, &npre);
	pthread_mutex_unlock(&c->mu);
	if (stdin_w >= 0 && npre)
		stdin_write(stdin_w, pre, npre); /* bytes that came with the request */
	bool client_eof = stdin_w < 0;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		send_from(c, &seq, &x);
		bool ended = c->removed || (c->exits != exits && !c->pump_running);
		if (!x.ok || !follow_run || (ended && !dapi_log_from(&c->log, seq)))
			break;
		pthread_mutex_unlock(&c->mu);
		/* The client: its bytes (stdin), or only whether it is gone (a
		 * half-closed one, e.g. after its stdin ended, still reads). */
		struct pollfd p[2] = {{f.efd, POLLIN, 0},
				      {conn->fd, client_eof ? 0 : POLLIN | POLLRDHUP, 0}};
		int n = poll(p, 2, 1000);
		if (n > 0 && p[0].revents) {
			uint64_t v;
			if (read(f.efd, &v, sizeof(v)) < 0) {
				/* nothing to take: a spurious wake */
			}
		}
		if (n > 0 && p[1].revents) {
			if (!client_eof) {
				char buf[16384];
				ssize_t r = recv(conn->fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (r > 0) {
					stdin_write(stdin_w, buf, (size_t)r);
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					client_eof = true;
					sbx_closep(&stdin_w);
					if (c->spec.stdin_once) {
						pthread_mutex_lock(&c->mu);
						sbx_closep(&c->stdin_w);
						pthread_mutex_unlock(&c->mu);
					}
				}
			} else if (p[1].revents & (POLLHUP | POLLERR)) {
				x.ok = false; /* the client is gone */
			}
		}
		pthread_mutex_lock(&c->mu);
	}
	for (dapi_follower **pp = &c->log.followers; *pp; pp = &(*pp)->next)
		if (*pp == &f) {
			*pp = f.next;
			break;
		}
	if (stdin_w >= 0)
		c->stdin_taken = false;
	pthread_mutex_unlock(&c->mu);
	sbx_closep(&stdin_w);
	close(f.efd);
	if (x.chunked)
		dapi_chunked_end(conn);
	return x.ok ? 0 : -1;
}
