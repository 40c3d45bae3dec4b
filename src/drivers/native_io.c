/* Clients of a long-lived sandbox's server: exec, read and write files. */
#include <fcntl.h>
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
} exec_call;

static void on_message(sbx_loop *l, char *rec, size_t n)
{
	exec_call *x = l->ctx;
	if (rec[0] == SBX_REP_STATUS && n >= 1 + sizeof(x->st)) {
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
		    const sbx_exec_opts *o, uint64_t t0, long oom_before, sbx_result *res,
		    sbx_error *err)
{
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
	x.l.deadline_ns = o->timeout_ms ? t0 + o->timeout_ms * 1000000ull : 0;
	x.l.stop = send_kill;
	x.l.stop_grace_ns = EXEC_KILL_GRACE_NS;
	x.l.drain_ns = EXEC_DRAIN_NS;
	int r = sbx_loop_run(&x.l, err);
	const char *name = sb_name(sb);
	if (x.l.have_error) {
		r = sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s", name, x.l.error);
	} else if (r < 0) {
		r = sbx_error_wrap(err, r, "exec in %s", name);
	} else if (x.l.gave_up) {
		r = sbx_fail(err, SBX_E_STATE,
			     "exec in %s: the sandbox did not end the command within %llu s of "
			     "the kill request",
			     name, EXEC_KILL_GRACE_NS / 1000000000ull);
	} else if (!x.have_st) {
		r = sbx_fail(err, SBX_E_STATE, "%s stopped during the exec", name);
	} else {
		int sig = WIFSIGNALED(x.st.wstatus) ? WTERMSIG(x.st.wstatus) : 0;
		long oom_after = sbx_sandbox_oom_count(sb);
		sbx_ending e = {.wstatus = x.st.wstatus,
				.cpu_ms = (uint64_t)x.st.cpu_us / 1000,
				.max_rss_kb = (uint64_t)x.st.maxrss_kb,
				.oom_killed =
				    oom_before >= 0 && oom_after > oom_before && sig == SIGKILL};
		r = sbx_loop_result(&x.l, &e, t0, res, err);
	}
	sbx_loop_free(&x.l);
	return r;
}

int sbx_exec_start(sbx_sandbox *sb, const sbx_exec_opts *o, const int fds[3], sbx_error *err)
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
	_cleanup_close_ int conn = sbx_native_connect(sb, err);
	if (conn < 0)
		return conn;
	sbx_exec_req h = {.argc = (uint32_t)argc, .blob_len = (uint32_t)blob.len};
	for (char **e = env; *e; e++)
		h.envc++;
	if (sbx_msg_send(conn, SBX_REQ_EXEC, &h, sizeof(h), fds, 3, NULL) < 0 ||
	    sbx_chunks_send(conn, blob.data, blob.len, NULL) < 0)
		return sbx_fail(err, SBX_E_STATE, "the sandbox refused the exec request");
	return sbx_steal_fd(&conn);
}

int sbx_native_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	sbx_fds_hold(); /* see base/util.h; released once the write ends are closed */
	_cleanup_(sbx_fds_releasep) bool held = true;
	_cleanup_(sbx_pipe_closep) int outp[2] = {-1, -1};
	_cleanup_(sbx_pipe_closep) int errp[2] = {-1, -1};
	_cleanup_close_ int nul = -1;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (o->stdin_fd < 0 && (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0))
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pipes");
	long oom_before = sbx_sandbox_oom_count(sb);
	int fds[3] = {o->stdin_fd >= 0 ? o->stdin_fd : nul, outp[1], errp[1]};
	int conn = sbx_exec_start(sb, o, fds, err);
	if (conn < 0)
		return conn;
	sbx_closep(&outp[1]);
	sbx_closep(&errp[1]);
	sbx_closep(&nul);
	sbx_fds_releasep(&held);
	return sbx_exec_finish(sb, conn, -1, sbx_steal_fd(&outp[0]), sbx_steal_fd(&errp[0]), o, t0,
			       oom_before, res, err);
}

static int file_request(sbx_sandbox *sb, char type, const char *path, uint64_t size, uint64_t max,
			sbx_error *err)
{
	size_t pl = path ? strlen(path) : 0;
	if (!pl || pl >= PATH_MAX)
		return sbx_fail(err, SBX_E_PATH, "invalid path");
	_cleanup_close_ int conn = sbx_native_connect(sb, err);
	if (conn < 0)
		return conn;
	char req[sizeof(sbx_file_req) + PATH_MAX];
	sbx_file_req h = {.size = size, .max = max};
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), path, pl);
	if (sbx_msg_send(conn, type, req, sizeof(h) + pl, NULL, 0, NULL) < 0)
		return sbx_fail(err, SBX_E_STATE, "the sandbox refused the request");
	return sbx_steal_fd(&conn);
}

/* Wait for OK, or turn the server's error into ours. */
static int file_reply(int conn, const char *name, sbx_error *err)
{
	char buf[700];
	ssize_t n = sbx_msg_recv(conn, buf, sizeof(buf) - 1, NULL, NULL, 0, NULL);
	if (n > 0 && buf[0] == SBX_REP_OK)
		return 0;
	if (n > 0 && buf[0] == SBX_REP_ERROR) {
		buf[n] = '\0';
		return sbx_fail(err, SBX_E_PATH, "%s", buf + 1);
	}
	return sbx_fail(err, SBX_E_STATE, "sandbox %s ended the request", name);
}

int sbx_native_read_file(sbx_sandbox *sb, const char *path, uint64_t max, char **data, size_t *len,
			 sbx_error *err)
{
	_cleanup_close_ int conn = file_request(sb, SBX_REQ_READ, path, 0, max, err);
	if (conn < 0)
		return conn;
	char buf[700];
	ssize_t n = sbx_msg_recv(conn, buf, sizeof(buf) - 1, NULL, NULL, 0, NULL);
	if (n > 0 && buf[0] == SBX_REP_ERROR) {
		buf[n] = '\0';
		return sbx_fail(err, SBX_E_PATH, "%s", buf + 1);
	}
	uint64_t size;
	if (n != 1 + (ssize_t)sizeof(size) || buf[0] != SBX_REP_DATA)
		return sbx_fail(err, SBX_E_STATE, "sandbox %s ended the request", sb_name(sb));
	memcpy(&size, buf + 1, sizeof(size));
	_cleanup_free_ char *d = size < SIZE_MAX ? malloc(size + 1) : NULL;
	if (!d)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	sbx_error e;
	int r = sbx_chunks_recv(conn, d, size, &e);
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_STATE, e.sys_errno, "read %s", path);
	r = file_reply(conn, sb_name(sb), err);
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
	_cleanup_close_ int conn = file_request(sb, SBX_REQ_WRITE, path, len, max, err);
	if (conn < 0)
		return conn;
	sbx_error e;
	int r = sbx_chunks_send(conn, data, len, &e);
	/* On a send failure the server has already answered with its error. */
	int rr = file_reply(conn, sb_name(sb), err);
	if (rr < 0)
		return rr;
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_STATE, e.sys_errno, "write %s", path);
	return 0;
}
