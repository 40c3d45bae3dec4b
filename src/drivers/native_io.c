/* Clients of a long-lived sandbox's server: exec, read and write files. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/env.h"
#include "base/status.h"
#include "base/util.h"
#include "core/supervise.h"
#include "drivers/native.h"
#include "proto/proto.h"
#include "state/exec.h"

static const char *sb_name(const sbx_sandbox *sb)
{
	return sbx_sandbox_label(sb);
}

/* After the command ended, output still held open by its background
 * processes is not waited for longer than this. */
#define EXEC_DRAIN_NS (200ull * 1000 * 1000)

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
	int conn;
	int early; /* python runner's channel: "D" + status before its exit */
	sbx_stream out, err;
	bool done, have_error, timed_out, cancelled;
	sbx_exec_status st;
	char error[480];
} exec_call;

static void on_message(exec_call *x)
{
	char buf[600];
	ssize_t n = sbx_msg_recv(x->conn, buf, sizeof(buf) - 1, NULL, NULL, 0);
	if (n <= 0) {
		sbx_closep(&x->conn);
		return;
	}
	if (buf[0] == SBX_REP_STATUS && (size_t)n >= 1 + sizeof(x->st)) {
		memcpy(&x->st, buf + 1, sizeof(x->st));
		x->done = true;
	} else if (buf[0] == SBX_REP_ERROR && !x->have_error) {
		buf[n] = '\0';
		snprintf(x->error, sizeof(x->error), "%s", buf + 1);
		x->have_error = true;
	}
}

/* The runner's report: 'D', int32 exit code, int64 cpu us, int64 max rss. */
static void on_early(exec_call *x)
{
	unsigned char b[1 + 4 + 8 + 8];
	ssize_t n = recv(x->early, b, sizeof(b), MSG_WAITALL);
	if (n == (ssize_t)sizeof(b) && b[0] == 'D' && !x->done) {
		int32_t rc;
		int64_t cpu, rss;
		memcpy(&rc, b + 1, 4);
		memcpy(&cpu, b + 5, 8);
		memcpy(&rss, b + 13, 8);
		x->st.wstatus = (rc & 0xff) << 8;
		x->st.cpu_us = cpu;
		x->st.maxrss_kb = rss;
		x->done = true;
	}
	/* Without a report (killed, os._exit) the shim's status decides. */
	sbx_closep(&x->early);
}

static int exec_loop(exec_call *x, const sbx_exec_opts *o, uint64_t t0)
{
	uint64_t deadline = o->timeout_ms ? t0 + o->timeout_ms * 1000000ull : 0;
	uint64_t done_at = 0;
	while ((!x->done && x->conn >= 0) || x->out.fd >= 0 || x->err.fd >= 0) {
		uint64_t now = sbx_now_ns();
		if ((x->done || x->conn < 0) && !done_at)
			done_at = now;
		if (done_at && now - done_at > EXEC_DRAIN_NS)
			break;
		if (!x->done && deadline && now >= deadline && !x->timed_out && x->conn >= 0) {
			x->timed_out = true;
			sbx_msg_send(x->conn, SBX_MSG_KILL, NULL, 0, NULL, 0);
		}
		int timeout = -1;
		if (done_at)
			timeout = (int)((done_at + EXEC_DRAIN_NS - now) / 1000000) + 1;
		else if (deadline && !x->timed_out)
			timeout = (int)((deadline - now + 999999) / 1000000);
		struct pollfd pf[5];
		int which[5], n = 0;
		int fds[5] = {x->out.fd, x->err.fd, x->done ? -1 : x->conn,
			      x->cancelled ? -1 : o->cancel_fd, x->done ? -1 : x->early};
		for (int i = 0; i < 5; i++)
			if (fds[i] >= 0) {
				pf[n] = (struct pollfd){fds[i], POLLIN, 0};
				which[n++] = i;
			}
		if (n == 0)
			break;
		if (poll(pf, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int k = 0; k < n; k++) {
			if (!pf[k].revents)
				continue;
			if (which[k] == 0 && sbx_stream_read(&x->out) < 0)
				return -ENOMEM;
			if (which[k] == 1 && sbx_stream_read(&x->err) < 0)
				return -ENOMEM;
			if (which[k] == 2)
				on_message(x);
			if (which[k] == 4)
				on_early(x);
			if (which[k] == 3) {
				x->cancelled = true;
				if (x->conn >= 0)
					sbx_msg_send(x->conn, SBX_MSG_KILL, NULL, 0, NULL, 0);
			}
		}
	}
	return 0;
}

int sbx_exec_finish(sbx_sandbox *sb, int conn, int early, int out, int err_fd,
		    const sbx_exec_opts *o, uint64_t t0, long oom_before, sbx_result *res,
		    sbx_error *err)
{
	uint64_t limit = o->output_limit ? o->output_limit : 100 << 10;
	exec_call x = {
	    .conn = conn,
	    .early = early,
	    .out = {.fd = out, .tee_fd = o->stdout_fd, .capture = o->capture, .limit = limit},
	    .err = {.fd = err_fd, .tee_fd = o->stderr_fd, .capture = o->capture, .limit = limit}};
	int r = 0;
	int lr = exec_loop(&x, o, t0);
	const char *name = sb_name(sb);
	if (x.have_error) {
		r = sbx_fail(err, SBX_E_SETUP, "exec in %s failed: %s", name, x.error);
	} else if (lr < 0) {
		r = sbx_fail(err, SBX_E_SYSTEM, "exec in %s: %s", name, strerror(-lr));
	} else if (!x.done) {
		r = sbx_fail(err, SBX_E_STATE, "%s stopped during the exec", name);
	} else {
		res->timed_out = x.timed_out;
		res->cancelled = x.cancelled;
		res->exit_code = sbx_exit_status(x.st.wstatus, x.timed_out, &res->signal);
		long oom_after = sbx_sandbox_oom_count(sb);
		res->oom_killed =
		    oom_before >= 0 && oom_after > oom_before && res->signal == SIGKILL;
		res->duration_ms = (sbx_now_ns() - t0) / 1000000;
		res->cpu_ms = (uint64_t)x.st.cpu_us / 1000;
		res->max_rss_kb = (uint64_t)x.st.maxrss_kb;
		res->stdout_truncated = x.out.truncated;
		res->stderr_truncated = x.err.truncated;
		res->stdout_len = x.out.buf.len;
		res->stderr_len = x.err.buf.len;
		res->stdout_buf = sbx_buf_steal(&x.out.buf);
		res->stderr_buf = sbx_buf_steal(&x.err.buf);
	}
	sbx_closep(&x.conn);
	sbx_closep(&x.early);
	sbx_closep(&x.out.fd);
	sbx_closep(&x.err.fd);
	sbx_buf_free(&x.out.buf);
	sbx_buf_free(&x.err.buf);
	return r;
}

int sbx_exec_start(sbx_sandbox *sb, const sbx_exec_opts *o, const int fds[3], sbx_error *err)
{
	int r = sbx_exec_opts_check(o, true, err);
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
	if (sbx_msg_send(conn, SBX_REQ_EXEC, &h, sizeof(h), fds, 3) < 0 ||
	    sbx_chunks_send(conn, blob.data, blob.len) < 0)
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
	if (sbx_msg_send(conn, type, req, sizeof(h) + pl, NULL, 0) < 0)
		return sbx_fail(err, SBX_E_STATE, "the sandbox refused the request");
	return sbx_steal_fd(&conn);
}

/* Wait for OK, or turn the server's error into ours. */
static int file_reply(int conn, const char *name, sbx_error *err)
{
	char buf[700];
	ssize_t n = sbx_msg_recv(conn, buf, sizeof(buf) - 1, NULL, NULL, 0);
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
	ssize_t n = sbx_msg_recv(conn, buf, sizeof(buf) - 1, NULL, NULL, 0);
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
	int r = sbx_chunks_recv(conn, d, size);
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_STATE, -r, "read %s", path);
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
	int r = sbx_chunks_send(conn, data, len);
	/* On a send failure the server has already answered with its error. */
	int rr = file_reply(conn, sb_name(sb), err);
	if (rr < 0)
		return rr;
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_STATE, -r, "write %s", path);
	return 0;
}
