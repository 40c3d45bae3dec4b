/* Clients of a long-lived sandbox's server: exec, read and write files. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "base/buf.h"
#include "base/env.h"
#include "base/status.h"
#include "base/util.h"
#include "core/launcher.h"
#include "core/supervise.h"
#include "drivers/native.h"
#include "proto/proto.h"
#include "state/exec.h"
#include "core/loop.h"

static const char *sb_name(const sbx_sandbox *sb)
{
	return sbx_sandbox_label(sb);
}

/* After the command ended, output still held open by its background
 * processes is not waited for longer than this. */
#define EXEC_DRAIN_NS (200ull * 1000 * 1000)
/* After the kill request (timeout, cancel), the sandbox gets this long to
 * end the command and say so before the exec is given up. */
#define EXEC_KILL_GRACE_NS (10000ull * 1000 * 1000)
/* The sandbox's first answer to an exec request (the command started, or
 * why not) must come this long after the call at most, whatever the
 * command's own timeout: connecting, sending the request and the spawn all
 * count. Without it the exec is given up EXEC_ANSWER_GRACE_NS after its
 * kill request. */
#define EXEC_ANSWER_NS (30000ull * 1000 * 1000)
#define EXEC_ANSWER_GRACE_NS (1000ull * 1000 * 1000)
/* read/write: the whole call (connect, request, transfer, answer), unless
 * the handle says otherwise (sbx_sandbox_set_io_timeout). */
#define FILE_IO_TIMEOUT_MS 60000ull

/* The sandbox's pids cgroup: fork failures at its limit so far (the "max"
 * line of pids.events, cgroup v1 and v2), -1 if unknown; *limit gets
 * pids.max (-1: none or unknown). */
static long pids_limit_hits(sbx_sandbox *sb, long *limit)
{
	sbx_sbstate st;
	sbx_native_cgroups(sb, &st);
	if (limit)
		*limit = -1;
	for (int c = 0; c < SBX_CG_N; c++) {
		if (!st.cg[c][0])
			continue;
		_cleanup_close_ int d = open(st.cg[c], O_PATH | O_DIRECTORY | O_CLOEXEC);
		int64_t v, m;
		if (d < 0 || sbx_read_key(d, "pids.events", "max", &v, NULL) < 0)
			continue;
		if (limit && sbx_read_key(d, "pids.max", NULL, &m, NULL) == 0)
			*limit = (long)m;
		return (long)v;
	}
	return -1;
}

/* "pids limit reached (N)" if the sandbox's pids cgroup refused a fork
 * since `before` (pids_limit_hits), else NULL. */
static const char *pids_cause(sbx_sandbox *sb, long before, char *buf, size_t cap)
{
	long limit;
	long now = pids_limit_hits(sb, &limit);
	if (before < 0 || now <= before)
		return NULL;
	if (limit >= 0)
		snprintf(buf, cap, "pids limit reached (%ld)", limit);
	else
		snprintf(buf, cap, "pids limit reached");
	return buf;
}

long sbx_sandbox_oom_count(sbx_sandbox *sb)
{
	sbx_sbstate stt;
	sbx_native_cgroups(sb, &stt);
	const sbx_sbstate *st = &stt;
	long total = -1;
	for (int c = 0; c < SBX_CG_N; c++) {
		if (!st->cg[c][0])
			continue;
		/* The memory controller's cgroup is the one that counts. */
		long k = sbx_cgroup_oom_count_at(st->cg[c]);
		if (k >= 0) {
			total = k;
			break;
		}
	}
	return total;
}

/* argv, then env, then cwd: NUL-terminated strings. */
static int build_blob(sbx_buf *b, const sbx_exec_opts *o, char **env, const char *cwd)
{
	size_t argc = 0;
	for (; o->argv[argc]; argc++)
		sbx_buf_append(b, o->argv[argc], strlen(o->argv[argc]) + 1);
	for (char **e = env; *e; e++)
		sbx_buf_append(b, *e, strlen(*e) + 1);
	sbx_buf_append(b, cwd, strlen(cwd) + 1);
	return b->oom || b->len > SBX_PROTO_MAX_ARGS ? -1 : (int)argc;
}

typedef struct exec_call {
	sbx_loop l; /* ctl: the exec connection; report: the python runner's */
	bool have_st;
	sbx_exec_status st;
	bool started;	      /* the sandbox's "started" came */
	bool late;	      /* ... after the answer's deadline had passed */
	uint64_t deadline_ns; /* the command's own (0: none) */
} exec_call;

static void on_message(sbx_loop *l, char *rec, size_t n)
{
	exec_call *x = l->ctx;
	if (rec[0] == SBX_REP_STARTED && !x->started) {
		/* From now on the command's own timeout and grace apply. */
		x->started = true;
		x->late = l->stopped;
		if (!l->stopped) {
			l->deadline_ns = x->deadline_ns;
			l->stop_grace_ns = EXEC_KILL_GRACE_NS;
		}
	} else if (rec[0] == SBX_REP_STATUS && n >= 1 + sizeof(x->st)) {
		if (!x->have_st)
			memcpy(&x->st, rec + 1, sizeof(x->st));
		x->have_st = true;
		l->done = true;
	} else if (rec[0] == SBX_REP_ERROR) {
		sbx_loop_error(l, rec + 1, n - 1);
	}
}

/* The runner's report: 'D', int32 exit code, int64 cpu us, int64 max rss.
 * Without one (killed, os._exit, a partial or garbled one) the shim's
 * status decides. */
#define REPORT_SIZE (1 + 4 + 8 + 8)

static bool on_report(sbx_loop *l, const unsigned char *b, size_t n)
{
	exec_call *x = l->ctx;
	if (n != REPORT_SIZE || b[0] != 'D' || x->have_st)
		return false;
	int32_t rc;
	int64_t cpu, rss;
	memcpy(&rc, b + 1, 4);
	memcpy(&cpu, b + 5, 8);
	memcpy(&rss, b + 13, 8);
	x->st.wstatus = (rc & 0xff) << 8;
	x->st.cpu_us = cpu;
	x->st.maxrss_kb = rss;
	x->have_st = true;
	return true;
}

/* Timeout or cancel: ask the sandbox to kill the command's tree. */
static void send_kill(sbx_loop *l)
{
	if (l->ctl >= 0)
		sbx_msg_send(l->ctl, SBX_MSG_KILL, NULL, 0, NULL, 0, NULL);
}

/* A signal request: the sandbox's exec shim passes it to the command's
 * process group (server_exec.c). */
static void send_signal(sbx_loop *l, int sig)
{
	int32_t v = sig;
	if (l->ctl >= 0)
		sbx_msg_send(l->ctl, SBX_MSG_SIGNAL, &v, sizeof(v), NULL, 0, NULL);
}

int sbx_exec_finish(sbx_sandbox *sb, int conn, int early, int out, int err_fd,
		    const sbx_exec_opts *o, const sbx_exec_probe *pr, sbx_result *res,
		    sbx_error *err)
{
	uint64_t t0 = pr->t0;
	uint64_t limit = o->output_limit ? o->output_limit : 100 << 10;
	exec_call x = {0};
	sbx_loop_init(&x.l);
	x.l.ctx = &x;
	x.l.ctl = conn;
	x.l.on_msg = on_message;
	x.l.report = (sbx_report){.fd = early, .size = REPORT_SIZE, .take = on_report};
	x.l.out =
	    (sbx_stream){.fd = out, .tee_fd = o->stdout_fd, .capture = o->capture, .limit = limit};
	x.l.err = (sbx_stream){
	    .fd = err_fd, .tee_fd = o->stderr_fd, .capture = o->capture, .limit = limit};
	x.l.cancel_fd = o->cancel_fd;
	x.l.signal_fd = o->signal_fd;
	x.l.forward = send_signal;
	x.l.stop_timeout_ns = sbx_ms_to_ns_sat(o->stop_timeout_ms);
	x.deadline_ns = sbx_deadline_ns(t0, o->timeout_ms);
	x.started = pr->started;
	x.l.deadline_ns = x.deadline_ns;
	x.l.stop_grace_ns = EXEC_KILL_GRACE_NS;
	/* Until the sandbox answers, its answer's deadline applies if sooner. */
	uint64_t answer_by = t0 + EXEC_ANSWER_NS;
	bool answer_first =
	    !x.started && (!o->timeout_ms || o->timeout_ms > EXEC_ANSWER_NS / 1000000);
	if (answer_first) {
		x.l.deadline_ns = answer_by;
		x.l.stop_grace_ns = EXEC_ANSWER_GRACE_NS;
	}
	x.l.stop = send_kill;
	x.l.drain_ns = EXEC_DRAIN_NS;
	int r = sbx_loop_run(&x.l, err);
	const char *name = sb_name(sb);
	char pbuf[64];
	const char *pids = NULL;
	if (x.l.have_error || (r >= 0 && !x.have_st))
		pids = pids_cause(sb, pr->pids_hits, pbuf, sizeof(pbuf));
	if (x.l.have_error && pids) {
		r = sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s (%s)", name, pids, x.l.error);
	} else if (x.l.have_error) {
		r = sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s", name, x.l.error);
	} else if (r < 0) {
		r = sbx_error_wrap(err, r, "exec in %s", name);
	} else if (!x.have_st && pids) {
		r = sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s", name, pids);
	} else if (answer_first && x.l.timed_out && (!x.started || x.late)) {
		r = sbx_fail(
		    err, SBX_E_STATE,
		    "exec in %s: the sandbox did not answer the exec request within %llu s "
		    "(its sbx-init processes may be stopped or starved)",
		    name, EXEC_ANSWER_NS / 1000000000ull);
	} else if (x.l.gave_up && !x.started) {
		r = sbx_fail(err, SBX_E_STATE,
			     "exec in %s: the sandbox did not answer the exec request, nor end it "
			     "within %llu s of the kill request (its sbx-init processes may be "
			     "stopped or starved)",
			     name, (unsigned long long)(x.l.stop_grace_ns / 1000000000ull));
	} else if (x.l.gave_up) {
		r = sbx_fail(err, SBX_E_STATE,
			     "exec in %s: the sandbox did not end the command within %llu s of "
			     "the kill request",
			     name, (unsigned long long)(x.l.stop_grace_ns / 1000000000ull));
	} else if (!x.have_st) {
		r = sbx_fail(err, SBX_E_STATE, "%s stopped during the exec", name);
	} else {
		int sig = WIFSIGNALED(x.st.wstatus) ? WTERMSIG(x.st.wstatus) : 0;
		long oom_after = sbx_sandbox_oom_count(sb);
		sbx_ending e = {.wstatus = x.st.wstatus,
				.cpu_ms = (uint64_t)x.st.cpu_us / 1000,
				.max_rss_kb = (uint64_t)x.st.maxrss_kb,
				.oom_killed = pr->oom_before >= 0 && oom_after > pr->oom_before &&
					      sig == SIGKILL};
		r = sbx_loop_result(&x.l, &e, t0, res, err);
	}
	sbx_loop_free(&x.l);
	return r;
}

void sbx_exec_probe_init(sbx_sandbox *sb, sbx_exec_probe *pr)
{
	pr->t0 = sbx_now_ns();
	pr->oom_before = sbx_sandbox_oom_count(sb);
	pr->pids_hits = pids_limit_hits(sb, NULL);
	pr->started = false;
}

/* After a refused or failed request: the sandbox's error record, if it sent
 * one before closing (init that could not fork a handler, a handler that
 * refused the request), else NULL. buf gets the text. */
static const char *refusal(int conn, char *buf, size_t cap)
{
	sbx_until u = {.deadline_ns = sbx_now_ns() + 200ull * 1000000, .cancel_fd = -1};
	for (int i = 0; i < 4; i++) {
		ssize_t n = sbx_msg_recv_until(conn, buf, cap - 1, NULL, NULL, 0, &u, NULL);
		if (n <= 0)
			return NULL;
		if (buf[0] == SBX_REP_ERROR) {
			buf[n] = '\0';
			return buf + 1;
		}
	}
	return NULL;
}

int sbx_exec_start(sbx_sandbox *sb, const sbx_exec_opts *o, const int fds[3],
		   const sbx_exec_probe *pr, sbx_error *err)
{
	int r = sbx_exec_opts_check(o, true, err);
	if (r == 0) /* the others are our pipes */
		r = sbx_stdio_fd_check(fds[0], "stdin", err);
	if (r < 0)
		return r;
	_cleanup_(sbx_buf_free) sbx_buf blob = {0};
	_cleanup_(sbx_envp_free) char **env = sbx_sandbox_env(sb->conf, o);
	int argc = env ? build_blob(&blob, o, env, o->cwd ? o->cwd : "") : -1;
	if (argc < 0)
		return sbx_fail(err, SBX_E_INVALID, "command and environment too large");
	/* Connecting and sending are bounded by the sandbox's answer deadline
	 * or the command's timeout and grace, whichever comes first. */
	uint64_t by = pr->t0 + EXEC_ANSWER_NS;
	if (o->timeout_ms && o->timeout_ms < EXEC_ANSWER_NS / 1000000)
		by = sbx_deadline_ns(pr->t0, o->timeout_ms) + EXEC_KILL_GRACE_NS;
	if (by > pr->t0 + EXEC_ANSWER_NS)
		by = pr->t0 + EXEC_ANSWER_NS;
	sbx_until u = {.deadline_ns = by, .cancel_fd = o->cancel_fd};
	const char *name = sb_name(sb);
	_cleanup_close_ int conn = sbx_native_connect(sb, &u, err);
	if (conn < 0)
		return conn;
	sbx_exec_req h = {.argc = (uint32_t)argc, .blob_len = (uint32_t)blob.len};
	for (char **e = env; *e; e++)
		h.envc++;
	sbx_error e = {0};
	if (sbx_msg_send_until(conn, SBX_REQ_EXEC, &h, sizeof(h), fds, 3, &u, &e) < 0 ||
	    sbx_chunks_send_until(conn, blob.data, blob.len, &u, &e) < 0) {
		char buf[SBX_PROTO_ERROR_MAX + 8], pbuf[64];
		const char *why = refusal(conn, buf, sizeof(buf));
		const char *pids = pids_cause(sb, pr->pids_hits, pbuf, sizeof(pbuf));
		if (pids && why)
			return sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s (%s)", name, pids,
					why);
		if (pids)
			return sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s", name, pids);
		if (why)
			return sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s", name, why);
		if (e.sys_errno == ETIMEDOUT)
			return sbx_fail(err, SBX_E_STATE,
					"exec in %s: the sandbox did not take the exec request in "
					"time (its sbx-init processes may be stopped or starved)",
					name);
		if (e.sys_errno == ECANCELED)
			return sbx_fail(err, SBX_E_STATE,
					"exec in %s: cancelled before the command started", name);
		return sbx_fail_errno(err, SBX_E_STATE, e.sys_errno,
				      "exec in %s: the sandbox closed the exec request", name);
	}
	return sbx_steal_fd(&conn);
}

int sbx_native_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err)
{
	sbx_exec_probe pr;
	sbx_exec_probe_init(sb, &pr);
	sbx_fds_hold(); /* see base/util.h; released once the write ends are closed */
	_cleanup_(sbx_fds_releasep) bool held = true;
	_cleanup_(sbx_pipe_closep) int outp[2] = {-1, -1};
	_cleanup_(sbx_pipe_closep) int errp[2] = {-1, -1};
	_cleanup_close_ int nul = -1;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (o->stdin_fd < 0 && (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0))
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pipes");
	int fds[3] = {o->stdin_fd >= 0 ? o->stdin_fd : nul, outp[1], errp[1]};
	int conn = sbx_exec_start(sb, o, fds, &pr, err);
	if (conn < 0)
		return conn;
	sbx_closep(&outp[1]);
	sbx_closep(&errp[1]);
	sbx_closep(&nul);
	sbx_fds_releasep(&held);
	return sbx_exec_finish(sb, conn, -1, sbx_steal_fd(&outp[0]), sbx_steal_fd(&errp[0]), o, &pr,
			       res, err);
}

/* A file call's bounds: the handle's I/O timeout from now. */
static sbx_until file_until(const sbx_sandbox *sb)
{
	uint64_t ms = sb->io_timeout_ms ? sb->io_timeout_ms : FILE_IO_TIMEOUT_MS;
	uint64_t now = sbx_now_ns();
	/* No bound, or one past any time this process can run: none. */
	bool none = ms == UINT64_MAX || ms > (UINT64_MAX - now) / 1000000;
	return (sbx_until){.deadline_ns = none ? 0 : now + ms * 1000000ull, .cancel_fd = -1};
}

static uint64_t file_timeout_s(const sbx_sandbox *sb)
{
	uint64_t ms = sb->io_timeout_ms ? sb->io_timeout_ms : FILE_IO_TIMEOUT_MS;
	return (ms + 999) / 1000;
}

/* The one-line error of a file call that went wrong on the connection. */
static int file_failed(sbx_sandbox *sb, const char *op, const char *full, const sbx_error *e,
		       sbx_error *err)
{
	const char *name = sb_name(sb);
	/* A long path is shown by its ends, so the cause still fits. */
	char path[256];
	size_t pl = strlen(full);
	if (pl <= 200)
		snprintf(path, sizeof(path), "%s", full);
	else
		snprintf(path, sizeof(path), "%.96s...%s", full, full + pl - 96);
	if (e->sys_errno == ETIMEDOUT)
		return sbx_fail(err, SBX_E_STATE,
				"%s %s: sandbox %s did not complete the request within %llu s "
				"(its sbx-init processes may be stopped or starved)",
				op, path, name, (unsigned long long)file_timeout_s(sb));
	if (e->sys_errno == EPROTO || e->sys_errno == EMSGSIZE)
		return sbx_fail(err, SBX_E_STATE, "%s %s: sandbox %s sent a malformed reply", op,
				path, name);
	if (e->sys_errno == EPIPE || e->sys_errno == ECONNRESET || e->sys_errno == 0)
		return sbx_fail(err, SBX_E_STATE, "%s %s: sandbox %s ended the request", op, path,
				name);
	return sbx_fail_errno(err, SBX_E_STATE, e->sys_errno, "%s %s in sandbox %s", op, path,
			      name);
}

static int file_request(sbx_sandbox *sb, char type, const char *path, uint64_t size, uint64_t max,
			const sbx_until *u, sbx_error *err)
{
	size_t pl = path ? strlen(path) : 0;
	if (!pl || pl >= PATH_MAX)
		return sbx_fail(err, SBX_E_PATH, "invalid path (empty, or %d bytes or more)",
				PATH_MAX);
	const char *op = type == SBX_REQ_READ ? "read" : "write";
	_cleanup_close_ int conn = sbx_native_connect(sb, u, err);
	if (conn < 0)
		return conn;
	char req[sizeof(sbx_file_req) + PATH_MAX];
	sbx_file_req h = {.size = size, .max = max};
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), path, pl);
	sbx_error e = {0};
	if (sbx_msg_send_until(conn, type, req, sizeof(h) + pl, NULL, 0, u, &e) < 0) {
		char buf[SBX_PROTO_ERROR_MAX + 8];
		const char *why = refusal(conn, buf, sizeof(buf));
		if (why)
			return sbx_fail(err, SBX_E_PATH, "%s", why);
		return file_failed(sb, op, path, &e, err);
	}
	return sbx_steal_fd(&conn);
}

/* Wait for OK, or turn the server's error into ours. */
static int file_reply(sbx_sandbox *sb, int conn, const char *op, const char *path,
		      const sbx_until *u, sbx_error *err)
{
	char buf[SBX_PROTO_ERROR_MAX + 8];
	sbx_error e = {0};
	ssize_t n = sbx_msg_recv_until(conn, buf, sizeof(buf) - 1, NULL, NULL, 0, u, &e);
	if (n > 0 && buf[0] == SBX_REP_OK && n == 1)
		return 0;
	if (n > 0 && buf[0] == SBX_REP_ERROR) {
		buf[n] = '\0';
		return sbx_fail(err, SBX_E_PATH, "%s", buf + 1);
	}
	if (n > 0)
		e.sys_errno = EPROTO;
	return file_failed(sb, op, path, &e, err);
}

int sbx_native_read_file(sbx_sandbox *sb, const char *path, uint64_t max, char **data, size_t *len,
			 sbx_error *err)
{
	sbx_until u = file_until(sb);
	_cleanup_close_ int conn = file_request(sb, SBX_REQ_READ, path, 0, max, &u, err);
	if (conn < 0)
		return conn;
	char buf[SBX_PROTO_ERROR_MAX + 8];
	sbx_error e = {0};
	ssize_t n = sbx_msg_recv_until(conn, buf, sizeof(buf) - 1, NULL, NULL, 0, &u, &e);
	if (n > 0 && buf[0] == SBX_REP_ERROR) {
		buf[n] = '\0';
		return sbx_fail(err, SBX_E_PATH, "%s", buf + 1);
	}
	uint64_t size;
	if (n > 0 && (n != 1 + (ssize_t)sizeof(size) || buf[0] != SBX_REP_DATA))
		e.sys_errno = EPROTO;
	if (n <= 0 || e.sys_errno)
		return file_failed(sb, "read", path, &e, err);
	memcpy(&size, buf + 1, sizeof(size));
	/* The size is the sandbox's word: never more than was asked for. */
	if (size > max) {
		e.sys_errno = EPROTO;
		return file_failed(sb, "read", path, &e, err);
	}
	_cleanup_free_ char *d = malloc(size + 1);
	if (!d)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	int r = sbx_chunks_recv_until(conn, d, size, &u, &e);
	if (r < 0)
		return file_failed(sb, "read", path, &e, err);
	r = file_reply(sb, conn, "read", path, &u, err);
	if (r < 0)
		return r;
	d[size] = '\0';
	*data = d;
	*len = size;
	d = NULL;
	return 0;
}

int sbx_native_write_file(sbx_sandbox *sb, const char *path, const void *data, size_t len,
			  uint64_t max, sbx_error *err)
{
	sbx_until u = file_until(sb);
	_cleanup_close_ int conn = file_request(sb, SBX_REQ_WRITE, path, len, max, &u, err);
	if (conn < 0)
		return conn;
	sbx_error e = {0};
	int r = sbx_chunks_send_until(conn, data, len, &u, &e);
	/* On a send failure the server may have answered with its error. */
	sbx_error re = {0};
	int rr = file_reply(sb, conn, "write", path, &u, &re);
	if (r < 0 && e.sys_errno == ETIMEDOUT)
		return file_failed(sb, "write", path, &e, err);
	if (rr < 0) {
		if (err)
			*err = re;
		return rr;
	}
	if (r < 0)
		return file_failed(sb, "write", path, &e, err);
	return 0;
}

void sbx_native_interp_argv(const char *argv[64], const char *src, const char *flag,
			    const char *preload, char mods[1024])
{
	snprintf(mods, 1024, "%s", preload ? preload : "");
	size_t argc = 0;
	argv[argc++] = "python3";
	argv[argc++] = "-c";
	argv[argc++] = src;
	if (flag)
		argv[argc++] = flag;
	char *save = NULL;
	for (char *m = strtok_r(mods, ",", &save); m && argc < 63; m = strtok_r(NULL, ",", &save))
		argv[argc++] = m;
	argv[argc] = NULL;
}

int sbx_native_wait_runner(int chan, int ctl, uint64_t deadline_ns, const char *what,
			   const char *hint, sbx_error *err)
{
	struct pollfd pf[2] = {{chan, POLLIN, 0}, {ctl, POLLIN, 0}};
	bool timed_out = false;
	for (;;) {
		uint64_t now = sbx_now_ns();
		if (now >= deadline_ns) {
			timed_out = true;
			break;
		}
		int n = poll(pf, 2, (int)((deadline_ns - now) / 1000000 + 1));
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "poll");
	}
	char c = 0;
	if (pf[0].revents && recv(chan, &c, 1, MSG_DONTWAIT) == 1 && c == 'R')
		return 0;
	/* Started badly: the other side says why, if it can. */
	char buf[SBX_PROTO_ERROR_MAX + 8];
	ssize_t k = pf[1].revents ? recv(ctl, buf, sizeof(buf) - 1, MSG_DONTWAIT) : -1;
	if (k > 0 && buf[0] == SBX_REP_ERROR) {
		buf[k] = '\0';
		return sbx_fail(err, SBX_E_SETUP, "%s: %s", what, buf + 1);
	}
	return sbx_fail(err, SBX_E_SETUP, "%s did not start%s", what,
			timed_out ? " (timed out)" : hint);
}
