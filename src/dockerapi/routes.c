/* The Docker Engine API routes: one request in, one response out (or a
 * stream that ends the connection). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dockerapi/archive.h"
#include "dockerapi/ctr_json.h"
#include "dockerapi/routes.h"
#include "dockerapi/stream.h"
#include "dockerapi/strv.h"
#include "proto/json.h"
#include "proto/jsonparse.h"

#define JSON_BODY_MAX (1u << 20)
#define DAPI_API_VERSION "1.41"

/* Results of a handler: keep the connection, or close it. */
enum { KEEP = 0, CLOSE = 1 };

static int fail(dapi_conn *c, const dapi_req *r, int status, const sbx_error *err)
{
	dapi_respond_error(c, r, status ? status : 500, "%s", err->msg);
	return r->keep_alive ? KEEP : CLOSE;
}

static int reply_json(dapi_conn *c, const dapi_req *r, int status, sbx_buf *b)
{
	if (b->oom) {
		dapi_respond_error(c, r, 500, "out of memory");
	} else {
		dapi_respond_json(c, r, status, b);
	}
	sbx_buf_free(b);
	return r->keep_alive ? KEEP : CLOSE;
}

static int body_json(dapi_conn *c, dapi_req *r, sbx_buf *out, int *status, sbx_error *err)
{
	return dapi_body_all(c, r, JSON_BODY_MAX, out, status, err);
}

static int64_t query_int(const dapi_req *r, const char *k, int64_t def)
{
	_cleanup_free_ char *v = NULL;
	if (dapi_query(r, k, &v) != 1 || !v[0])
		return def;
	char *end;
	long long n = strtoll(v, &end, 10);
	return *end ? def : n;
}

/* ---- system ---------------------------------------------------------------- */

static int h_ping(dapi_conn *c, dapi_req *r)
{
	bool head = strcmp(r->method, "HEAD") == 0;
	dapi_respond(c, r, 200, "text/plain; charset=utf-8",
		     "Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\n",
		     "OK", 2, head);
	return r->keep_alive ? KEEP : CLOSE;
}

static int h_version(dapi_conn *c, dapi_req *r)
{
	struct utsname u;
	uname(&u);
	sbx_buf b = {0};
	sbx_buf_printf(&b,
		       "{\"Platform\":{\"Name\":\"sbx\"},\"Components\":[{\"Name\":\"Engine\","
		       "\"Version\":\"%s\",\"Details\":{\"ApiVersion\":\"%s\",\"MinAPIVersion\":"
		       "\"1.24\",\"Os\":\"linux\",\"Arch\":\"amd64\"}}],\"Version\":\"%s\","
		       "\"ApiVersion\":\"%s\",\"MinAPIVersion\":\"1.24\",\"GitCommit\":\"sbx\","
		       "\"GoVersion\":\"none (C)\",\"Os\":\"linux\",\"Arch\":\"amd64\","
		       "\"KernelVersion\":",
		       SBX_VERSION, DAPI_API_VERSION, SBX_VERSION, DAPI_API_VERSION);
	sbx_json_string(&b, u.release, strlen(u.release));
	sbx_buf_puts(&b, ",\"BuildTime\":\"\"}");
	return reply_json(c, r, 200, &b);
}

static int h_info(dapi_engine *e, dapi_conn *c, dapi_req *r)
{
	struct utsname u;
	uname(&u);
	dapi_ctr **all = NULL;
	size_t n = 0, running = 0, stopped = 0;
	if (dapi_ctr_all(e, &all, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			pthread_mutex_lock(&all[i]->mu);
			running += all[i]->state == DAPI_RUNNING;
			stopped += all[i]->state != DAPI_RUNNING;
			pthread_mutex_unlock(&all[i]->mu);
			dapi_ctr_put(all[i]);
		}
		free(all);
	}
	dapi_image *imgs = NULL;
	size_t nimg = 0;
	sbx_error err;
	if (dapi_image_list(e->opts.image_dir, &imgs, &nimg, &err) < 0)
		nimg = 0;
	dapi_image_list_free(imgs, nimg);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long mem =
	    (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE);
	sbx_buf b = {0};
	sbx_buf_printf(&b,
		       "{\"ID\":\"sbx\",\"Containers\":%zu,\"ContainersRunning\":%zu,"
		       "\"ContainersPaused\":0,\"ContainersStopped\":%zu,\"Images\":%zu,"
		       "\"Driver\":\"sbx\",\"DriverStatus\":[],\"Plugins\":{},\"MemoryLimit\":true,"
		       "\"SwapLimit\":false,\"CpuCfsPeriod\":true,\"CpuCfsQuota\":true,"
		       "\"PidsLimit\":true,\"IPv4Forwarding\":false,\"Debug\":false,\"NFd\":0,"
		       "\"NGoroutines\":0,\"LoggingDriver\":\"json-file\",\"CgroupDriver\":"
		       "\"cgroupfs\",\"CgroupVersion\":\"%s\",\"KernelVersion\":",
		       n, running, stopped, nimg,
		       access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "2" : "1");
	sbx_json_string(&b, u.release, strlen(u.release));
	sbx_buf_printf(&b,
		       ",\"OperatingSystem\":\"sbx\",\"OSType\":\"linux\",\"Architecture\":"
		       "\"%s\",\"NCPU\":%ld,\"MemTotal\":%llu,\"Name\":",
		       u.machine, ncpu, mem);
	sbx_json_string(&b, u.nodename, strlen(u.nodename));
	sbx_buf_printf(&b,
		       ",\"ServerVersion\":\"%s\",\"Runtimes\":{\"sbx\":{\"path\":\"sbx\"}},"
		       "\"DefaultRuntime\":\"sbx\",\"Swarm\":{\"LocalNodeState\":\"inactive\"},"
		       "\"SecurityOptions\":[\"name=seccomp,profile=sbx\",\"name=userns\","
		       "\"name=no-new-privileges\"],\"Warnings\":[]}",
		       SBX_VERSION);
	return reply_json(c, r, 200, &b);
}

/* ---- containers --------------------------------------------------------------- */

static int h_create(dapi_engine *e, dapi_conn *c, dapi_req *r)
{
	sbx_buf body = {0};
	int status = 400;
	sbx_error err;
	if (body_json(c, r, &body, &status, &err) < 0) {
		sbx_buf_free(&body);
		return fail(c, r, status, &err);
	}
	dapi_spec spec;
	int rc = dapi_spec_parse(body.data ? body.data : "", body.len, &spec, &err);
	sbx_buf_free(&body);
	if (rc < 0) {
		dapi_spec_free(&spec);
		return fail(c, r, rc == -SBX_E_SYSTEM ? 500 : 400, &err);
	}
	_cleanup_free_ char *name = NULL;
	if (dapi_query(r, "name", &name) < 0) {
		dapi_spec_free(&spec);
		sbx_fail(&err, SBX_E_INVALID, "bad name parameter");
		return fail(c, r, 400, &err);
	}
	dapi_ctr *ctr = NULL;
	rc = dapi_ctr_create(e, &spec, name, &ctr, &status, &err);
	dapi_spec_free(&spec);
	if (rc < 0)
		return fail(c, r, status, &err);
	sbx_buf b = {0};
	sbx_buf_printf(&b, "{\"Id\":\"%s\",\"Warnings\":[]}", ctr->id);
	dapi_ctr_put(ctr);
	return reply_json(c, r, 201, &b);
}

static int filter_values(const sbx_jval *f, const char *key, const sbx_jval **out)
{
	*out = sbx_jget(f, key);
	return *out ? 1 : 0;
}

/* A filter's values: an array of strings, or (old clients) a map of
 * string -> true. */
static bool filter_any(const sbx_jval *vals, bool (*match)(const dapi_ctr *, const char *),
		       const dapi_ctr *c)
{
	if (vals->type == SBX_J_ARR) {
		for (size_t i = 0; i < vals->n; i++)
			if (vals->items[i].type == SBX_J_STR && match(c, vals->items[i].str))
				return true;
		return false;
	}
	if (vals->type == SBX_J_OBJ) {
		for (size_t i = 0; i < vals->n; i++)
			if (match(c, vals->keys[i]))
				return true;
	}
	return false;
}

static bool m_label(const dapi_ctr *c, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t kl = eq ? (size_t)(eq - want) : strlen(want);
	for (size_t i = 0; i < c->spec.n_labels; i++)
		if (strlen(c->spec.label_keys[i]) == kl &&
		    strncmp(c->spec.label_keys[i], want, kl) == 0 &&
		    (!eq || strcmp(c->spec.label_vals[i], eq + 1) == 0))
			return true;
	return false;
}

static bool m_name(const dapi_ctr *c, const char *want)
{
	const char *w = want[0] == '/' ? want + 1 : want;
	return strstr(c->name, w) != NULL; /* Docker matches names as a regexp; substring here */
}

static bool m_status(const dapi_ctr *c, const char *want)
{
	return strcmp(dapi_state_name(c->state), want) == 0;
}

static bool m_id(const dapi_ctr *c, const char *want)
{
	return strncmp(c->id, want, strlen(want)) == 0;
}

static bool label_all(const sbx_jval *vals, const dapi_ctr *c)
{
	/* every label filter must match */
	if (vals->type == SBX_J_ARR) {
		for (size_t i = 0; i < vals->n; i++)
			if (vals->items[i].type != SBX_J_STR || !m_label(c, vals->items[i].str))
				return false;
		return true;
	}
	if (vals->type == SBX_J_OBJ) {
		for (size_t i = 0; i < vals->n; i++)
			if (!m_label(c, vals->keys[i]))
				return false;
	}
	return true;
}

static int h_list(dapi_engine *e, dapi_conn *c, dapi_req *r)
{
	bool all = dapi_query_bool(r, "all", false);
	int64_t limit = query_int(r, "limit", -1);
	_cleanup_free_ char *fs = NULL;
	_cleanup_jval_ sbx_jval *filters = NULL;
	sbx_error err;
	if (dapi_query(r, "filters", &fs) == 1 && fs[0]) {
		if (sbx_jparse_max(fs, strlen(fs), 10000, &filters, &err) < 0 ||
		    filters->type != SBX_J_OBJ) {
			sbx_fail(&err, SBX_E_INVALID, "invalid filters: %s", fs);
			return fail(c, r, 400, &err);
		}
		for (size_t i = 0; i < filters->n; i++) {
			const char *k = filters->keys[i];
			if (strcmp(k, "label") && strcmp(k, "name") && strcmp(k, "status") &&
			    strcmp(k, "id")) {
				sbx_fail(&err, SBX_E_INVALID, "invalid filter '%s'", k);
				return fail(c, r, 400, &err);
			}
		}
	}
	dapi_ctr **v = NULL;
	size_t n = 0;
	if (dapi_ctr_all(e, &v, &n) < 0) {
		sbx_fail(&err, SBX_E_SYSTEM, "out of memory");
		return fail(c, r, 500, &err);
	}
	/* newest first, as Docker lists them */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j]->created_ns > v[j - 1]->created_ns; j--) {
			dapi_ctr *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	sbx_buf b = {0};
	sbx_buf_puts(&b, "[");
	int64_t shown = 0;
	const sbx_jval *fv;
	bool status_filter = filters && filter_values(filters, "status", &fv);
	for (size_t i = 0; i < n; i++) {
		dapi_ctr *x = v[i];
		pthread_mutex_lock(&x->mu);
		bool ok = (all || x->state == DAPI_RUNNING || status_filter) && !x->removed;
		if (ok && filters) {
			if (filter_values(filters, "label", &fv))
				ok = ok && label_all(fv, x);
			if (filter_values(filters, "name", &fv))
				ok = ok && filter_any(fv, m_name, x);
			if (filter_values(filters, "status", &fv))
				ok = ok && filter_any(fv, m_status, x);
			if (filter_values(filters, "id", &fv))
				ok = ok && filter_any(fv, m_id, x);
		}
		if (ok && (limit <= 0 || shown < limit)) {
			if (shown++)
				sbx_buf_puts(&b, ",");
			dapi_ctr_list_json(&b, x);
		}
		pthread_mutex_unlock(&x->mu);
		dapi_ctr_put(x);
	}
	free(v);
	sbx_buf_puts(&b, "]");
	return reply_json(c, r, 200, &b);
}

static int sig_parse(const char *s)
{
	if (!s || !s[0])
		return SIGKILL;
	char *end;
	long n = strtol(s, &end, 10);
	if (!*end)
		return n > 0 && n < 65 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	static const struct {
		const char *n;
		int s;
	} t[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"KILL", SIGKILL},
		 {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"ALRM", SIGALRM},
		 {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"WINCH", SIGWINCH}, {"PIPE", SIGPIPE}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].n) == 0)
			return t[i].s;
	return -1;
}

static int h_wait(dapi_ctr *ctr, dapi_conn *c, dapi_req *r)
{
	_cleanup_free_ char *cond = NULL;
	dapi_query(r, "condition", &cond);
	int status = 0;
	sbx_error err;
	if (cond && cond[0] && strcmp(cond, "not-running") && strcmp(cond, "next-exit") &&
	    strcmp(cond, "removed")) {
		sbx_fail(&err, SBX_E_INVALID, "invalid condition: \"%s\"", cond);
		return fail(c, r, 400, &err);
	}
	/* Headers now (the client knows the wait is set up), the body at the end. */
	if (dapi_chunked_begin(c, r, 200, "application/json", NULL) < 0)
		return CLOSE;
	int code = 0;
	char msg[256] = "";
	if (dapi_ctr_wait(ctr, cond, c->fd, &code, msg, sizeof(msg), &status, &err) < 0)
		return CLOSE;
	sbx_buf b = {0};
	sbx_buf_printf(&b, "{\"StatusCode\":%d,\"Error\":", code);
	if (msg[0]) {
		sbx_buf_puts(&b, "{\"Message\":");
		sbx_json_string(&b, msg, strlen(msg));
		sbx_buf_puts(&b, "}");
	} else {
		sbx_buf_puts(&b, "null");
	}
	sbx_buf_puts(&b, "}\n");
	int rc = b.oom ? -1 : dapi_chunk(c, b.data, b.len);
	sbx_buf_free(&b);
	if (rc < 0 || dapi_chunked_end(c) < 0)
		return CLOSE;
	return r->keep_alive ? KEEP : CLOSE;
}

static int h_attach(dapi_ctr *ctr, dapi_conn *c, dapi_req *r)
{
	dapi_log_opts o = {0};
	o.stdout_ = dapi_query_bool(r, "stdout", false);
	o.stderr_ = dapi_query_bool(r, "stderr", false);
	o.follow = dapi_query_bool(r, "stream", false);
	o.from_start = dapi_query_bool(r, "logs", false);
	o.tail = -1;
	o.tty = ctr->spec.tty;
	bool want_stdin = dapi_query_bool(r, "stdin", false);
	o.stdin_from = want_stdin && ctr->spec.open_stdin ? c->fd : -1;
	o.hijacked = true;
	/* A body (dockerode sends its options as one) is not the stream. */
	sbx_error err;
	if (dapi_body_discard(c, r, JSON_BODY_MAX, &err) < 0)
		return fail(c, r, 400, &err);
	if (dapi_hijack(c, r, ctr->spec.tty) < 0)
		return CLOSE;
	dapi_log_stream(ctr, c, &o);
	return CLOSE;
}

static int h_logs(dapi_ctr *ctr, dapi_conn *c, dapi_req *r)
{
	dapi_log_opts o = {0};
	o.stdout_ = dapi_query_bool(r, "stdout", false);
	o.stderr_ = dapi_query_bool(r, "stderr", false);
	sbx_error err;
	if (!o.stdout_ && !o.stderr_) {
		sbx_fail(&err, SBX_E_INVALID,
			 "Bad parameters: you must choose at least one stream");
		return fail(c, r, 400, &err);
	}
	o.follow = dapi_query_bool(r, "follow", false);
	o.from_start = true;
	o.timestamps = dapi_query_bool(r, "timestamps", false);
	_cleanup_free_ char *tail = NULL;
	o.tail = -1;
	if (dapi_query(r, "tail", &tail) == 1 && tail[0] && strcmp(tail, "all"))
		o.tail = query_int(r, "tail", -1);
	o.since_ns = query_int(r, "since", 0) * 1000000000;
	o.until_ns = query_int(r, "until", 0) * 1000000000;
	o.tty = ctr->spec.tty;
	o.stdin_from = -1;
	const char *ct = ctr->spec.tty ? "application/vnd.docker.raw-stream"
				       : "application/vnd.docker.multiplexed-stream";
	if (dapi_chunked_begin(c, r, 200, ct, NULL) < 0)
		return CLOSE;
	if (dapi_log_stream(ctr, c, &o) < 0)
		return CLOSE;
	return r->keep_alive ? KEEP : CLOSE;
}

static int h_stats(dapi_ctr *ctr, dapi_conn *c, dapi_req *r)
{
	bool stream = dapi_query_bool(r, "stream", true);
	bool one_shot = dapi_query_bool(r, "one-shot", false);
	dapi_stats pre, now;
	if (!stream) {
		dapi_stats_sample(ctr, &now);
		sbx_buf b = {0};
		pthread_mutex_lock(&ctr->mu);
		dapi_stats_json(&b, ctr, &now, NULL);
		pthread_mutex_unlock(&ctr->mu);
		if (!one_shot) {
			/* Docker samples twice, a second apart, for a CPU figure. */
			sbx_buf_free(&b);
			pre = now;
			usleep(100000);
			dapi_stats_sample(ctr, &now);
			pthread_mutex_lock(&ctr->mu);
			dapi_stats_json(&b, ctr, &now, &pre);
			pthread_mutex_unlock(&ctr->mu);
		}
		return reply_json(c, r, 200, &b);
	}
	if (dapi_chunked_begin(c, r, 200, "application/json", NULL) < 0)
		return CLOSE;
	bool have_pre = false;
	for (int i = 0; i < 3600; i++) {
		dapi_stats_sample(ctr, &now);
		sbx_buf b = {0};
		pthread_mutex_lock(&ctr->mu);
		bool running = ctr->state == DAPI_RUNNING;
		dapi_stats_json(&b, ctr, &now, have_pre ? &pre : NULL);
		pthread_mutex_unlock(&ctr->mu);
		sbx_buf_puts(&b, "\n");
		int rc = b.oom ? -1 : dapi_chunk(c, b.data, b.len);
		sbx_buf_free(&b);
		if (rc < 0)
			return CLOSE;
		if (!running)
			break;
		pre = now;
		have_pre = true;
		sleep(1);
	}
	dapi_chunked_end(c);
	return CLOSE;
}

/* 204 done, 304 nothing to do (already started/stopped), or the error. */
static int done_or_304(dapi_conn *c, const dapi_req *r, int opr, int status, const sbx_error *err)
{
	if (opr < 0 && status != 304)
		return fail(c, r, status, err);
	return dapi_respond_empty(c, r, opr < 0 ? 304 : 204) < 0 ? CLOSE : KEEP;
}

static int h_ctr_action(dapi_engine *e, dapi_conn *c, dapi_req *r, const char *id,
			const char *action)
{
	int status = 500;
	sbx_error err;
	dapi_ctr *ctr = dapi_ctr_get(e, id, &status, &err);
	if (!ctr)
		return fail(c, r, status, &err);
	int rc = KEEP;
	bool post = strcmp(r->method, "POST") == 0, get = strcmp(r->method, "GET") == 0;
	bool head = strcmp(r->method, "HEAD") == 0, put = strcmp(r->method, "PUT") == 0;
	int opr = 0;
	if (post && !strcmp(action, "start")) {
		opr = dapi_ctr_start(ctr, &status, &err);
		rc = done_or_304(c, r, opr, status, &err);
	} else if (post && !strcmp(action, "kill")) {
		_cleanup_free_ char *s = NULL;
		dapi_query(r, "signal", &s);
		int sig = sig_parse(s);
		if (sig == SIGSTOP) {
			sbx_fail(&err, SBX_E_INVALID,
				 "signal STOP is not supported by sbx (pausing is not)");
			rc = fail(c, r, 400, &err);
		} else if (sig < 0) {
			sbx_fail(&err, SBX_E_INVALID, "Invalid signal: %s", s);
			rc = fail(c, r, 400, &err);
		} else if (dapi_ctr_kill(ctr, sig, &status, &err) < 0) {
			rc = fail(c, r, status, &err);
		} else {
			rc = dapi_respond_empty(c, r, 204) < 0 ? CLOSE : KEEP;
		}
	} else if (post && (!strcmp(action, "stop") || !strcmp(action, "restart"))) {
		int64_t t = query_int(r, "t", -1);
		opr = !strcmp(action, "stop") ? dapi_ctr_stop(ctr, t, &status, &err)
					      : dapi_ctr_restart(ctr, t, &status, &err);
		rc = done_or_304(c, r, opr, status, &err);
	} else if (post && !strcmp(action, "wait")) {
		rc = h_wait(ctr, c, r);
	} else if (post && !strcmp(action, "attach")) {
		rc = h_attach(ctr, c, r);
	} else if (get && !strcmp(action, "logs")) {
		rc = h_logs(ctr, c, r);
	} else if (get && !strcmp(action, "json")) {
		sbx_buf b = {0};
		pthread_mutex_lock(&ctr->mu);
		dapi_ctr_inspect_json(&b, ctr);
		pthread_mutex_unlock(&ctr->mu);
		rc = reply_json(c, r, 200, &b);
	} else if (get && !strcmp(action, "stats")) {
		rc = h_stats(ctr, c, r);
	} else if (post && !strcmp(action, "resize")) {
		rc = dapi_respond(c, r, 200, "text/plain", NULL, "", 0, false) < 0 ? CLOSE : KEEP;
	} else if (post && !strcmp(action, "exec")) {
		sbx_buf body = {0};
		if (body_json(c, r, &body, &status, &err) < 0) {
			rc = fail(c, r, status, &err);
		} else {
			dapi_exec *x = NULL;
			if (dapi_exec_create(ctr, body.data ? body.data : "", body.len, &x, &status,
					     &err) < 0) {
				rc = fail(c, r, status, &err);
			} else {
				sbx_buf b = {0};
				sbx_buf_printf(&b, "{\"Id\":\"%s\"}", x->id);
				rc = reply_json(c, r, 201, &b);
			}
		}
		sbx_buf_free(&body);
	} else if ((get || head || put) && !strcmp(action, "archive")) {
		rc = dapi_archive(ctr, c, r);
	} else if (get && !strcmp(action, "top")) {
		sbx_fail(&err, SBX_E_INVALID, "top is not supported by sbx");
		rc = fail(c, r, 501, &err);
	} else {
		sbx_fail(&err, SBX_E_INVALID, "page not found");
		rc = fail(c, r, 404, &err);
	}
	dapi_ctr_put(ctr);
	return rc;
}

/* ---- execs ------------------------------------------------------------------------- */

static int h_exec(dapi_engine *e, dapi_conn *c, dapi_req *r, const char *id, const char *action)
{
	sbx_error err;
	int status = 500;
	sbx_buf body = {0};
	if (strcmp(r->method, "POST") == 0 && body_json(c, r, &body, &status, &err) < 0) {
		sbx_buf_free(&body);
		return fail(c, r, status, &err);
	}
	dapi_exec *x = dapi_exec_get(e, id);
	if (!x) {
		sbx_buf_free(&body);
		sbx_fail(&err, SBX_E_NOTFOUND, "No such exec instance: %s", id);
		return fail(c, r, 404, &err);
	}
	dapi_ctr *ctr = x->ctr;
	int rc;
	if (strcmp(r->method, "GET") == 0 && strcmp(action, "json") == 0) {
		sbx_buf b = {0};
		pthread_mutex_lock(&ctr->mu);
		dapi_exec_inspect_json(&b, x);
		pthread_mutex_unlock(&ctr->mu);
		rc = reply_json(c, r, 200, &b);
	} else if (strcmp(r->method, "POST") == 0 && strcmp(action, "resize") == 0) {
		rc = dapi_respond(c, r, 201, "text/plain", NULL, "", 0, false) < 0 ? CLOSE : KEEP;
	} else if (strcmp(r->method, "POST") == 0 && strcmp(action, "start") == 0) {
		_cleanup_jval_ sbx_jval *j = NULL;
		bool detach = false;
		if (body.len && sbx_jparse_max(body.data, body.len, 1000, &j, &err) < 0) {
			rc = fail(c, r, 400, &err);
			goto out;
		}
		sbx_jget_bool(j, "Detach", &detach);
		if (dapi_exec_begin(x, &status, &err) < 0) {
			rc = fail(c, r, status, &err);
			goto out;
		}
		if (detach) {
			/* Docker answers at once; the command runs on, its output dropped */
			rc = dapi_respond(c, r, 200, "application/json", NULL, "", 0, false) < 0
				 ? CLOSE
				 : KEEP;
			dapi_exec_stream(x, NULL, true);
		} else if (dapi_hijack(c, r, x->tty) < 0) {
			dapi_exec_stream(x, NULL, true);
			rc = CLOSE;
		} else {
			dapi_exec_stream(x, c, false);
			rc = CLOSE;
		}
	} else {
		sbx_fail(&err, SBX_E_INVALID, "page not found");
		rc = fail(c, r, 404, &err);
	}
out:
	sbx_buf_free(&body);
	dapi_ctr_put(ctr);
	return rc;
}

/* ---- images ---------------------------------------------------------------------- */

/* An image as GET /images/json lists it (Created: unix time) or as
 * GET /images/{name}/json shows it (Created: RFC 3339, and its config). */
static void image_json(sbx_buf *b, const dapi_image *img, bool inspect)
{
	sbx_buf_printf(b, "{\"Id\":\"%s\",\"ParentId\":\"\",\"RepoTags\":", img->id);
	dapi_json_strv(b, img->tags);
	sbx_buf_puts(b, ",\"RepoDigests\":[],\"Created\":");
	if (inspect)
		dapi_json_time(b, img->created * 1000000000);
	else
		sbx_buf_printf(b, "%lld", (long long)img->created);
	sbx_buf_printf(b, ",\"Size\":%llu,\"VirtualSize\":%llu", (unsigned long long)img->size,
		       (unsigned long long)img->size);
	if (!inspect) {
		sbx_buf_puts(b, ",\"SharedSize\":-1,\"Labels\":{},\"Containers\":-1}");
		return;
	}
	sbx_buf_puts(b, ",\"Os\":\"linux\",\"Architecture\":\"amd64\",\"Config\":{\"Env\":");
	dapi_json_strv(b, img->env);
	sbx_buf_puts(b, ",\"Cmd\":");
	dapi_json_strv(b, img->cmd);
	sbx_buf_puts(b, ",\"Entrypoint\":");
	dapi_json_strv(b, img->entrypoint);
	sbx_buf_puts(b, ",\"WorkingDir\":");
	sbx_json_string(b, img->workdir ? img->workdir : "",
			img->workdir ? strlen(img->workdir) : 0);
	sbx_buf_puts(b, ",\"User\":");
	sbx_json_string(b, img->user ? img->user : "", img->user ? strlen(img->user) : 0);
	sbx_buf_puts(b, "},\"RootFS\":{\"Type\":\"layers\",\"Layers\":[]}}");
}

static int h_images(dapi_engine *e, dapi_conn *c, dapi_req *r)
{
	dapi_image *imgs = NULL;
	size_t n = 0;
	sbx_error err;
	if (dapi_image_list(e->opts.image_dir, &imgs, &n, &err) < 0)
		return fail(c, r, 500, &err);
	sbx_buf b = {0};
	sbx_buf_puts(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbx_buf_puts(&b, ",");
		image_json(&b, &imgs[i], false);
	}
	sbx_buf_puts(&b, "]");
	dapi_image_list_free(imgs, n);
	return reply_json(c, r, 200, &b);
}

static int h_image_inspect(dapi_engine *e, dapi_conn *c, dapi_req *r, const char *name)
{
	dapi_image img;
	memset(&img, 0, sizeof(img));
	sbx_error err;
	int rc = dapi_image_find(e->opts.image_dir, name, &img, &err);
	if (rc < 0) {
		if (rc == -SBX_E_NOTFOUND)
			sbx_fail(&err, SBX_E_NOTFOUND, "No such image: %s", name);
		return fail(c, r, rc == -SBX_E_NOTFOUND ? 404 : 500, &err);
	}
	sbx_buf b = {0};
	image_json(&b, &img, true);
	dapi_image_free(&img);
	return reply_json(c, r, 200, &b);
}

typedef struct load_rd {
	dapi_conn *c;
	dapi_req *r;
} load_rd;

static ssize_t load_read(void *ctx, void *buf, size_t n)
{
	load_rd *l = ctx;
	size_t got = 0;
	sbx_error err;
	while (got < n) {
		ssize_t k = dapi_body_read(l->c, l->r, (char *)buf + got, n - got, &err);
		if (k <= 0)
			return got ? (ssize_t)got : k;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void load_progress(void *ctx, const char *line)
{
	sbx_buf *b = ctx;
	sbx_buf_puts(b, "{\"stream\":");
	size_t n = strlen(line);
	char *l = malloc(n + 2);
	if (!l)
		return;
	memcpy(l, line, n);
	l[n] = '\n';
	l[n + 1] = 0;
	sbx_json_string(b, l, n + 1);
	free(l);
	sbx_buf_puts(b, "}\r\n");
}

#define LOAD_MAX_BYTES (16ull << 30)

static int h_load(dapi_engine *e, dapi_conn *c, dapi_req *r)
{
	load_rd l = {c, r};
	dapi_tar_reader rd;
	dapi_tar_reader_init(&rd, load_read, &l);
	sbx_buf lines = {0};
	sbx_error err;
	int rc =
	    dapi_image_load(e->opts.image_dir, &rd, LOAD_MAX_BYTES, load_progress, &lines, &err);
	if (rc < 0) {
		sbx_buf_free(&lines);
		dapi_body_discard(c, r, 64u << 20, NULL);
		int st = rc == -SBX_E_SYSTEM ? 500 : 400;
		dapi_respond_error(c, r, st, "%s", err.msg);
		return CLOSE;
	}
	dapi_body_discard(c, r, 64u << 20, NULL);
	return reply_json(c, r, 200, &lines);
}

/* Does a container use image ref (its rootfs would go from under it)? */
static bool image_in_use(dapi_engine *e, const char *ref, sbx_error *err)
{
	dapi_image img;
	memset(&img, 0, sizeof(img));
	if (dapi_image_find(e->opts.image_dir, ref, &img, err) < 0)
		return false; /* the remove says what is wrong */
	dapi_ctr **all = NULL;
	size_t n = 0;
	bool used = false;
	if (dapi_ctr_all(e, &all, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!used && !strcmp(all[i]->img.id, img.id)) {
				used = true;
				sbx_fail(
				    err, SBX_E_STATE,
				    "conflict: unable to remove repository reference \"%s\" "
				    "(must force) - container %.12s is using its referenced image",
				    ref, all[i]->id);
			}
			dapi_ctr_put(all[i]);
		}
		free(all);
	}
	dapi_image_free(&img);
	return used;
}

/* ---- the router ------------------------------------------------------------------------ */

int dapi_route(dapi_engine *e, dapi_conn *c, dapi_req *r)
{
	const char *p = r->path;
	const char *m = r->method;
	bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), head = !strcmp(m, "HEAD");
	sbx_error err;
	unsigned vmaj = 0, vmin = 0;
	if (r->version[0] && (sscanf(r->version, "%u.%u", &vmaj, &vmin) != 2 || vmaj > 1 ||
			      (vmaj == 1 && vmin > 41))) {
		/* 1.42 and above: the client asked for more than we speak */
		sbx_fail(&err, SBX_E_INVALID,
			 "client version %s is too new. Maximum supported API version is %s",
			 r->version, DAPI_API_VERSION);
		return fail(c, r, 400, &err);
	}
	if (!strcmp(p, "/_ping") && (get || head))
		return h_ping(c, r);
	if (!strcmp(p, "/version") && get)
		return h_version(c, r);
	if (!strcmp(p, "/info") && get)
		return h_info(e, c, r);
	if (!strcmp(p, "/containers/json") && get)
		return h_list(e, c, r);
	if (!strcmp(p, "/containers/create") && post)
		return h_create(e, c, r);
	if (!strcmp(p, "/images/json") && get)
		return h_images(e, c, r);
	if (!strcmp(p, "/images/load") && post)
		return h_load(e, c, r);
	if (!strcmp(p, "/images/create") && post) {
		sbx_fail(&err, SBX_E_INVALID,
			 "pulling images is not supported by sbx (no registry access): load the "
			 "image with docker load");
		return fail(c, r, 501, &err);
	}
	if (!strncmp(p, "/images/", 8) && !strcmp(m, "DELETE") && p[8]) {
		if (image_in_use(e, p + 8, &err))
			return fail(c, r, 409, &err);
		int rc = dapi_image_remove(e->opts.image_dir, p + 8, &err);
		if (rc < 0)
			return fail(c, r,
				    rc == -SBX_E_NOTFOUND  ? 404
				    : rc == -SBX_E_INVALID ? 409
							   : 500,
				    &err);
		sbx_buf b = {0};
		sbx_buf_puts(&b, "[{\"Untagged\":");
		sbx_json_string(&b, p + 8, strlen(p + 8));
		sbx_buf_puts(&b, "}]");
		return reply_json(c, r, 200, &b);
	}
	if (!strncmp(p, "/images/", 8) && get) {
		size_t n = strlen(p);
		if (n > 13 && !strcmp(p + n - 5, "/json")) {
			_cleanup_free_ char *name = strndup(p + 8, n - 13);
			if (name)
				return h_image_inspect(e, c, r, name);
		}
	}
	if (!strncmp(p, "/containers/", 12) || !strncmp(p, "/exec/", 6)) {
		bool is_exec = p[1] == 'e';
		const char *id = p + (is_exec ? 6 : 12);
		const char *slash = strchr(id, '/');
		_cleanup_free_ char *idc = strndup(id, slash ? (size_t)(slash - id) : strlen(id));
		if (!idc)
			return CLOSE;
		if (!slash && !strcmp(m, "DELETE") && !is_exec && idc[0]) {
			int status = 500;
			dapi_ctr *ctr = dapi_ctr_get(e, idc, &status, &err);
			if (!ctr)
				return fail(c, r, status, &err);
			int rc =
			    dapi_ctr_remove(ctr, dapi_query_bool(r, "force", false), &status, &err);
			dapi_ctr_put(ctr);
			if (rc < 0)
				return fail(c, r, status, &err);
			return dapi_respond_empty(c, r, 204) < 0 ? CLOSE : KEEP;
		}
		if (slash && idc[0] && slash[1] && !strchr(slash + 1, '/'))
			return is_exec ? h_exec(e, c, r, idc, slash + 1)
				       : h_ctr_action(e, c, r, idc, slash + 1);
	}
	sbx_fail(&err, SBX_E_NOTFOUND, "page not found");
	return fail(c, r, 404, &err);
}
