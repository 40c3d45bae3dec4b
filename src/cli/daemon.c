/* `sbx pool serve`: a warm pool on a Unix socket, JSON lines. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "base/buf.h"
#include "cli/daemon.h"
#include "base/util.h"
#include "proto/json.h"
#include "proto/jsonparse.h"
#include "pool/pool.h"

#define MAX_CLIENTS 256

typedef struct conn_arg {
	sbx_pool *pool;
	int fd;
} conn_arg;

/* Connections in flight; on stop they are cancelled and waited for. */
static pthread_mutex_t clients_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clients_cv = PTHREAD_COND_INITIALIZER;
static int n_clients;
static int client_fds[MAX_CLIENTS];
static int cancel_efd = -1;  /* readable once stopping: kills running requests */
static atomic_bool stopping; /* set before cancel_efd fires */

/* Write a whole response line. */
static void reply(int fd, sbx_buf *b)
{
	sbx_buf_puts(b, "\n");
	for (size_t off = 0; !b->oom && off < b->len;) {
		ssize_t w = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static void head(sbx_buf *b, const sbx_jval *req)
{
	sbx_buf_printf(b, "{\"v\":%d", SBX_PROTO_VERSION);
	int64_t id;
	if (req && sbx_jget_int(req, "id", &id))
		sbx_buf_printf(b, ",\"id\":%lld", (long long)id);
}

static void reply_error(int fd, const sbx_jval *req, int code, const char *msg)
{
	_cleanup_buf_ sbx_buf b = {0};
	head(&b, req);
	sbx_buf_printf(&b, ",\"ok\":false,\"code\":%d,\"error\":", code);
	sbx_json_string(&b, msg, strlen(msg));
	sbx_buf_puts(&b, "}");
	reply(fd, &b);
}

/* An array of strings as a NULL-terminated vector pointing into the tree.
 * Absent: NULL and n 0. Wrong type: *bad. Over a limit: why says which
 * (the request is refused before anything is built from it). */
static const char **strings(const sbx_jval *arr, const char *name, size_t *n, size_t *total,
			    bool *bad, char *why, size_t whylen)
{
	*n = 0;
	if (!arr || *bad || why[0])
		return NULL;
	if (arr->type != SBX_J_ARR) {
		*bad = true;
		return NULL;
	}
	if (arr->n > SBX_DAEMON_MAX_ENTRIES) {
		snprintf(why, whylen, "%s: %zu entries, more than %u", name, arr->n,
			 SBX_DAEMON_MAX_ENTRIES);
		return NULL;
	}
	for (size_t i = 0; i < arr->n; i++) {
		const sbx_jval *x = &arr->items[i];
		if (x->type != SBX_J_STR || memchr(x->str, '\0', x->len)) {
			*bad = true;
			return NULL;
		}
		if (x->len > SBX_DAEMON_MAX_ENTRY) {
			snprintf(why, whylen, "%s: entry %zu has %zu bytes, more than %u", name, i,
				 x->len, SBX_DAEMON_MAX_ENTRY);
			return NULL;
		}
		*total += x->len + 1;
	}
	const char **v = calloc(arr->n + 1, sizeof(char *));
	if (!v) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < arr->n; i++)
		v[i] = arr->items[i].str;
	*n = arr->n;
	return v;
}

/* stdin text for the command: a pipe fed by a thread (it may be large). */
typedef struct feed {
	int fd;
	const char *data;
	size_t len;
} feed;

static void *feeder(void *arg)
{
	feed *f = arg;
	for (size_t off = 0; off < f->len;) {
		ssize_t w = write(f->fd, f->data + off, f->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

/* The operator's value is a maximum: a request may lower it, never raise
 * it, and its "0 = no limit" means the maximum. max 0: no limit. */
static uint64_t capped(int64_t want, uint64_t max)
{
	if (want <= 0)
		return max;
	return max && (uint64_t)want > max ? max : (uint64_t)want;
}

/* A request's cancel: the daemon stopping, or its client gone (the peer
 * closed the connection: POLLHUP; a half-close, shutdown(SHUT_WR) after the
 * request, is not a departure). Watched by a thread for the request's life;
 * its eventfd is the request's cancel_fd. */
typedef struct watch {
	int client, cancel, done;
	pthread_t th;
	bool started;
} watch;

static void *watcher(void *arg)
{
	watch *w = arg;
	for (;;) {
		struct pollfd p[3] = {
		    {w->done, POLLIN, 0}, {cancel_efd, POLLIN, 0}, {w->client, POLLRDHUP, 0}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			return NULL;
		if (p[1].revents || (p[2].revents & (POLLHUP | POLLERR | POLLNVAL))) {
			(void)!write(w->cancel, &(uint64_t){1}, sizeof(uint64_t));
			return NULL;
		}
		if (p[2].revents & POLLRDHUP) /* half-closed: watch the rest */
			w->client = -1;
	}
	return NULL;
}

static void watch_start(watch *w, int client)
{
	*w = (watch){.client = client, .cancel = -1, .done = -1};
	w->cancel = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->done = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->cancel >= 0 && w->done >= 0)
		w->started = pthread_create(&w->th, NULL, watcher, w) == 0;
}

static void watch_stop(watch *w)
{
	if (w->started) {
		(void)!write(w->done, &(uint64_t){1}, sizeof(uint64_t));
		pthread_join(w->th, NULL);
	}
	sbx_closep(&w->cancel);
	sbx_closep(&w->done);
}

static void do_run(conn_arg *c, const sbx_jval *req, bool python)
{
	bool bad = false;
	char why[160] = "";
	size_t argc = 0, envc = 0, nargs = 0, bytes = 0;
	_cleanup_free_ const char **argv =
	    strings(sbx_jget(req, "argv"), "argv", &argc, &bytes, &bad, why, sizeof(why));
	_cleanup_free_ const char **env =
	    strings(sbx_jget(req, "env"), "env", &envc, &bytes, &bad, why, sizeof(why));
	_cleanup_free_ const char **args =
	    strings(sbx_jget(req, "args"), "args", &nargs, &bytes, &bad, why, sizeof(why));
	const sbx_jval *src = sbx_jget(req, "source");
	const sbx_jval *in = sbx_jget(req, "stdin");
	const char *cwd = sbx_jget_str(req, "cwd");
	bytes += cwd ? strlen(cwd) + 1 : 0;
	if (!why[0] && bytes > SBX_DAEMON_MAX_ARGBYTES)
		snprintf(why, sizeof(why), "argv, env, args and cwd: %zu bytes, more than %u",
			 bytes, SBX_DAEMON_MAX_ARGBYTES);
	if (!why[0] && python && src && src->type == SBX_J_STR && src->len > SBX_DAEMON_MAX_SOURCE)
		snprintf(why, sizeof(why), "source: %zu bytes, more than %u", src->len,
			 SBX_DAEMON_MAX_SOURCE);
	if (why[0]) {
		reply_error(c->fd, req, SBX_EXIT_ERROR, why);
		return;
	}
	/* The pool's --timeout/--output-limit: defaults and maximums. */
	const sbx_config *tmpl = sbx_pool_template(c->pool);
	int64_t timeout = 0, limit = 0;
	bool has_limit = sbx_jget_int(req, "output_limit", &limit);
	sbx_jget_int(req, "timeout_ms", &timeout);
	for (size_t i = 0; !bad && i < envc; i++)
		bad = !strchr(env[i], '=') || env[i][0] == '=';
	if (bad || (!python && argc == 0) || (python && (!src || src->type != SBX_J_STR)) ||
	    (in && in->type != SBX_J_STR) || timeout < 0 || (has_limit && limit <= 0)) {
		reply_error(c->fd, req, SBX_EXIT_ERROR,
			    python
				? "python needs \"source\" (string); args, env: arrays of strings"
				: "run needs \"argv\" (non-empty array of strings); env: strings");
		return;
	}
	if ((uint64_t)timeout > SBX_DURATION_MAX_MS) {
		snprintf(why, sizeof(why), "timeout_ms: %lld, more than %llu (10 years)",
			 (long long)timeout, (unsigned long long)SBX_DURATION_MAX_MS);
		reply_error(c->fd, req, SBX_EXIT_ERROR, why);
		return;
	}
	sbx_exec_opts eo;
	sbx_exec_opts_init(&eo);
	eo.argv = argv;
	eo.env = env;
	eo.n_env = envc;
	eo.cwd = cwd;
	eo.timeout_ms = capped(timeout, tmpl->timeout_ms);
	eo.output_limit = capped(limit, tmpl->output_limit);
	eo.capture = true;
	watch w;
	watch_start(&w, c->fd);
	eo.cancel_fd = w.started ? w.cancel : cancel_efd;
	int sp[2] = {-1, -1};
	pthread_t th;
	feed f;
	bool fed = false;
	if (in && pipe2(sp, O_CLOEXEC) == 0) {
		f = (feed){sp[1], in->str, in->len};
		fed = pthread_create(&th, NULL, feeder, &f) == 0;
		if (!fed)
			close(sp[1]);
		eo.stdin_fd = sp[0];
	}
	sbx_sandbox *sb;
	sbx_error err = {0};
	sbx_result res;
	int r = 0;
	/* A forked sandbox cannot become a named one: say so before running. */
	if (sbx_jget_str(req, "keep") && sbx_pool_forks(c->pool))
		r = sbx_fail(&err, SBX_E_INVALID,
			     "keep: a pre-forked pool's sandboxes cannot be kept by name (start "
			     "the pool with --fresh)");
	if (r == 0)
		r = sbx_pool_acquire(c->pool, SBX_POOL_DEFAULT, &sb, &err);
	if (r == 0) {
		if (python) {
			sbx_python_opts po;
			sbx_python_opts_init(&po);
			po.exec = eo;
			po.source = src->str;
			po.source_len = src->len;
			po.filename = sbx_jget_str(req, "filename");
			po.args = args;
			r = sbx_sandbox_python(sb, &po, &res, &err);
		} else {
			r = sbx_sandbox_exec(sb, &eo, &res, &err);
		}
		/* "keep": the sandbox lives on as a named sandbox. */
		const char *keep = sbx_jget_str(req, "keep");
		sbx_error kerr = {0};
		int kr = keep ? sbx_pool_release_named(c->pool, sb, keep, &kerr) : 0;
		if (kr < 0) {
			sbx_pool_release(c->pool, sb);
			if (r == 0) {
				sbx_result_free(&res);
				r = kr;
				err = kerr;
			}
		} else if (!keep) {
			sbx_pool_release(c->pool, sb);
		}
	}
	if (sp[0] >= 0)
		close(sp[0]); /* the feeder sees EPIPE if the command did not read */
	if (fed)
		pthread_join(th, NULL);
	watch_stop(&w);
	/* Killed by the shutdown: no answer (the connection just closes), not
	 * a result that looks like the script's own SIGKILL. */
	if (atomic_load(&stopping)) {
		if (r == 0)
			sbx_result_free(&res);
		return;
	}
	if (r < 0) {
		reply_error(c->fd, req, SBX_EXIT_ERROR, err.msg);
		return;
	}
	_cleanup_free_ char *js = sbx_result_to_json(&res);
	_cleanup_buf_ sbx_buf b = {0};
	head(&b, req);
	sbx_buf_puts(&b, ",\"ok\":true,\"result\":");
	sbx_buf_puts(&b, js ? js : "null");
	sbx_buf_puts(&b, "}");
	reply(c->fd, &b);
	sbx_result_free(&res);
}

/* The pool's network, as the stats say it: ,"net":"egress","allow":[...],
 * "dns":"IP[:PORT]" or null. allow and dns only with egress. */
static void net_json(sbx_buf *b, const sbx_config *t)
{
	sbx_buf_printf(b, ",\"net\":\"%s\"",
		       t->net == SBX_NET_EGRESS	    ? "egress"
		       : t->net == SBX_NET_LOOPBACK ? "loopback"
						    : "none");
	if (t->net != SBX_NET_EGRESS)
		return;
	sbx_buf_puts(b, ",\"allow\":[");
	for (size_t i = 0; i < t->n_net_allow; i++) {
		if (i)
			sbx_buf_puts(b, ",");
		sbx_json_string(b, t->net_allow[i], strlen(t->net_allow[i]));
	}
	sbx_buf_puts(b, "],\"dns\":");
	if (t->net_dns)
		sbx_json_string(b, t->net_dns, strlen(t->net_dns));
	else
		sbx_buf_puts(b, "null");
}

static void do_stats(conn_arg *c, const sbx_jval *req)
{
	sbx_pool_stats st;
	sbx_pool_get_stats(c->pool, &st);
	_cleanup_buf_ sbx_buf b = {0};
	head(&b, req);
	sbx_buf_printf(
	    &b,
	    ",\"ok\":true,\"stats\":{\"idle\":%u,\"in_use\":%u,\"created\":%llu,"
	    "\"destroyed\":%llu,\"failures\":%llu,\"acquired\":%llu,"
	    "\"acquire_p50_ms\":%.3f,\"acquire_p95_ms\":%.3f,\"acquire_p99_ms\":%.3f,"
	    "\"creating\":%u,\"waited\":%llu,\"mode\":\"%s\",\"zygote_pid\":%d,"
	    "\"zygote_starts\":%llu,\"last_error\":",
	    st.idle, st.in_use, (unsigned long long)st.created, (unsigned long long)st.destroyed,
	    (unsigned long long)st.failures, (unsigned long long)st.acquired, st.acquire_p50_ms,
	    st.acquire_p95_ms, st.acquire_p99_ms, st.creating, (unsigned long long)st.waited,
	    st.fork ? "fork" : "fresh", st.zygote_pid, (unsigned long long)st.zygote_starts);
	sbx_json_string(&b, st.last_error, strlen(st.last_error));
	net_json(&b, sbx_pool_template(c->pool));
	sbx_buf_puts(&b, "}}");
	reply(c->fd, &b);
}

static void handle_line(conn_arg *c, const char *line, size_t len)
{
	sbx_error perr;
	_cleanup_jval_ sbx_jval *req = NULL;
	int r = sbx_jparse_max(line, len, SBX_DAEMON_MAX_VALUES, &req, &perr);
	if (r == 0 && req->type != SBX_J_OBJ)
		r = sbx_fail(&perr, SBX_E_INVALID, "not an object");
	if (r < 0) {
		sbx_error_wrap(&perr, r, "bad request");
		reply_error(c->fd, NULL, SBX_EXIT_ERROR, perr.msg);
		return;
	}
	int64_t v = 0;
	const char *op = sbx_jget_str(req, "op");
	if (!sbx_jget_int(req, "v", &v) || v != SBX_PROTO_VERSION)
		reply_error(c->fd, req, SBX_EXIT_ERROR,
			    "unsupported protocol version (expected \"v\":1)");
	else if (!op)
		reply_error(c->fd, req, SBX_EXIT_ERROR, "missing \"op\"");
	else if (!strcmp(op, "run"))
		do_run(c, req, false);
	else if (!strcmp(op, "python"))
		do_run(c, req, true);
	else if (!strcmp(op, "stats"))
		do_stats(c, req);
	else if (!strcmp(op, "ping")) {
		_cleanup_buf_ sbx_buf b = {0};
		head(&b, req);
		sbx_buf_puts(&b, ",\"ok\":true}");
		reply(c->fd, &b);
	} else {
		reply_error(c->fd, req, SBX_EXIT_ERROR, "unknown op (run, python, stats, ping)");
	}
}

/* After an over-long line: the answer went out; read and drop what the
 * client is still sending (a bounded while), so closing does not reset the
 * connection before the client has read the answer. */
static void drain(int fd)
{
	shutdown(fd, SHUT_WR);
	char buf[65536];
	uint64_t end = sbx_now_ns() + 2000000000ull;
	for (size_t total = 0; total < (64u << 20);) {
		uint64_t now = sbx_now_ns();
		if (now >= end)
			break;
		struct pollfd pf = {fd, POLLIN, 0};
		int n = poll(&pf, 1, (int)((end - now) / 1000000ull) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		total += (size_t)r;
	}
}

static void *client_main(void *arg)
{
	conn_arg *c = arg;
	sbx_buf in = {0};
	size_t scanned = 0; /* in.data[0..scanned) holds no newline */
	char buf[65536];
	for (;;) {
		char *nl;
		bool big = false;
		while (in.len > scanned &&
		       (nl = memchr(in.data + scanned, '\n', in.len - scanned))) {
			size_t n = (size_t)(nl - in.data);
			handle_line(c, in.data, n);
			big |= n > (1u << 20);
			memmove(in.data, nl + 1, in.len - n - 1);
			in.len -= n + 1;
			scanned = 0;
		}
		scanned = in.len;
		/* Memory of a large request goes back once it is answered: the
		 * line buffer, and what the allocator keeps of the parse. */
		if (in.cap > (256u << 10) && in.len < (64u << 10)) {
			sbx_buf small = {0};
			sbx_buf_append(&small, in.data, in.len);
			sbx_buf_free(&in);
			in = small;
			big = true;
		}
		if (big)
			malloc_trim(0);
		if (in.len > SBX_DAEMON_MAX_LINE) {
			sbx_buf_free(&in);
			malloc_trim(0);
			char msg[96];
			snprintf(msg, sizeof(msg), "request line too long (more than %u bytes)",
				 SBX_DAEMON_MAX_LINE);
			reply_error(c->fd, NULL, SBX_EXIT_ERROR, msg);
			drain(c->fd);
			break;
		}
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || sbx_buf_append(&in, buf, (size_t)r) < 0)
			break;
	}
	sbx_buf_free(&in);
	pthread_mutex_lock(&clients_mu);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (client_fds[i] == c->fd)
			client_fds[i] = -1;
	close(c->fd);
	free(c);
	n_clients--;
	pthread_cond_broadcast(&clients_cv);
	pthread_mutex_unlock(&clients_mu);
	return NULL;
}

int sbx_daemon_listen(const char *path, const char *group, sbx_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return sbx_fail(err, SBX_E_INVALID, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	gid_t gid = 0;
	if (group) {
		struct group *g = getgrnam(group);
		if (!g)
			return sbx_fail(err, SBX_E_INVALID, "no such group: %s", group);
		gid = g->gr_gid;
	}
	{
		_cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socket");
		/* A socket file nobody answers on is a leftover; a live one is
		 * not ours to take. */
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return sbx_fail(err, SBX_E_EXISTS, "a daemon already serves %s", path);
	}
	unlink(path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r == 0 && group && (chown(path, 0, gid) < 0 || chmod(path, 0660) < 0))
		r = -1;
	if (r < 0 || listen(fd, 128) < 0) {
		int e = errno;
		unlink(path);
		return sbx_fail_errno(err, SBX_E_SYSTEM, e, "listen on %s", path);
	}
	return sbx_steal_fd(&fd);
}

int sbx_daemon_serve(sbx_pool *p, int lfd, const char *path, int stop_fd, sbx_error *err)
{
	int rc = 0;
	atomic_store(&stopping, false);
	cancel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (int i = 0; i < MAX_CLIENTS; i++)
		client_fds[i] = -1;
	for (;;) {
		struct pollfd pf[2] = {{lfd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
		if (poll(pf, 2, -1) < 0 && errno != EINTR) {
			/* Served no more: stop as on a signal, and say why. */
			rc = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pool daemon: poll");
			break;
		}
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&clients_mu);
		int slot = -1;
		for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
			if (client_fds[i] < 0)
				slot = i;
		if (slot >= 0) {
			client_fds[slot] = fd;
			n_clients++;
		}
		pthread_mutex_unlock(&clients_mu);
		conn_arg *c = slot >= 0 ? malloc(sizeof(*c)) : NULL;
		pthread_t th;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		bool started = false;
		if (c) {
			*c = (conn_arg){p, fd};
			started = pthread_create(&th, &at, client_main, c) == 0;
			if (!started)
				free(c);
		}
		pthread_attr_destroy(&at);
		if (!started) {
			reply_error(fd, NULL, SBX_EXIT_ERROR, "too many clients");
			pthread_mutex_lock(&clients_mu);
			if (slot >= 0) {
				client_fds[slot] = -1;
				n_clients--;
			}
			pthread_mutex_unlock(&clients_mu);
			close(fd);
		}
	}
	close(lfd);
	unlink(path);
	/* Stop: running requests are killed (their cancel fd), idle
	 * connections closed, acquisitions refused; then wait for every
	 * connection thread, so the pool can go. */
	atomic_store(&stopping, true);
	if (cancel_efd >= 0)
		(void)!write(cancel_efd, &(uint64_t){1}, sizeof(uint64_t));
	sbx_pool_stop(p);
	pthread_mutex_lock(&clients_mu);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (client_fds[i] >= 0)
			shutdown(client_fds[i], SHUT_RDWR);
	while (n_clients > 0)
		pthread_cond_wait(&clients_cv, &clients_mu);
	pthread_mutex_unlock(&clients_mu);
	if (cancel_efd >= 0)
		close(cancel_efd);
	cancel_efd = -1;
	return rc;
}

int sbx_daemon_call(const char *path, const char *req, size_t len, char **resp, sbx_error *err)
{
	*resp = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return sbx_fail(err, SBX_E_INVALID, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sbx_fail_errno(err, SBX_E_STATE, errno, "cannot reach the pool at %s", path);
	int send_errno = 0;
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* The daemon may have refused the request and closed: its
			 * answer says why, better than our EPIPE. */
			send_errno = w < 0 ? errno : EPIPE;
			break;
		}
		off += (size_t)w;
	}
	_cleanup_buf_ sbx_buf in = {0};
	char buf[65536];
	char *nl = NULL;
	while (!(in.len && (nl = memchr(in.data, '\n', in.len)))) {
		/* Our stdout's reader may go away meanwhile (`| head`): a
		 * pipe's write end then polls POLLERR. Leave, as SIGPIPE would
		 * end a writer; closing the connection ends the request. */
		struct pollfd pf[2] = {{fd, POLLIN, 0}, {STDOUT_FILENO, 0, 0}};
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			return sbx_fail_errno(err, SBX_E_STATE, errno, "pool %s", path);
		if ((pf[1].revents & POLLERR) && !(pf[0].revents & POLLIN))
			return sbx_fail_errno(err, SBX_E_STATE, EPIPE, SBX_DAEMON_READER_GONE);
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || sbx_buf_append(&in, buf, (size_t)r) < 0) {
			if (send_errno)
				return sbx_fail_errno(err, SBX_E_STATE, send_errno, "pool %s",
						      path);
			return sbx_fail(err, SBX_E_STATE, "pool %s closed the connection", path);
		}
	}
	*nl = '\0';
	*resp = sbx_buf_steal(&in);
	return 0;
}
