/* native driver: running Python scripts in an owned sandbox through its
 * pre-started interpreter (src/drivers/pyrunner.py): the script starts
 * without paying Python's start-up. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/env.h"
#include "base/util.h"
#include "drivers/native.h"
#include "proto/proto.h"
#include "state/exec.h"

extern const char sbx_pyrunner_src[];

#define PREWARM_TIMEOUT_MS 60000
/* Handing a script to a warm interpreter: at most this long (or the
 * script's timeout, if sooner). */
#define REQUEST_TIMEOUT_MS 30000

int sbx_native_prewarm(sbx_sandbox *sb, const char *preload, sbx_error *err)
{
	sbx_native_owned *pd = sb->priv;
	_cleanup_close_ int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "open /dev/null");
	int chan[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socketpair");
	_cleanup_close_ int ours = chan[0], theirs = chan[1];
	char mods[1024];
	const char *argv[64];
	sbx_native_interp_argv(argv, sbx_pyrunner_src, NULL, preload, mods);
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = argv;
	o.timeout_ms = PREWARM_TIMEOUT_MS; /* bounds the request, not the interpreter */
	/* Under SBX_DEBUG the interpreter's start-up errors reach our stderr. */
	int fds[3] = {theirs, nul, sbx_debug_on() ? STDERR_FILENO : nul};
	sbx_exec_probe pr;
	sbx_exec_probe_init(sb, &pr);
	int conn = sbx_exec_start(sb, &o, fds, &pr, err);
	sbx_closep(&theirs);
	sbx_closep(&nul);
	if (conn < 0)
		return conn;
	pd->py_chan = sbx_steal_fd(&ours);
	pd->py_conn = conn;
	char buf[SBX_PROTO_ERROR_MAX + 8];
	/* STARTED (or an error) comes first on the exec connection. */
	sbx_until u = {.deadline_ns = pr.t0 + PREWARM_TIMEOUT_MS * 1000000ull, .cancel_fd = -1};
	sbx_error e = {0};
	ssize_t k = sbx_msg_recv_until(conn, buf, sizeof(buf) - 1, NULL, NULL, 0, &u, &e);
	if (k > 0 && buf[0] == SBX_REP_ERROR) {
		buf[k] = '\0';
		return sbx_fail(err, SBX_E_SETUP, "python interpreter: %s", buf + 1);
	}
	if (k < 1 || buf[0] != SBX_REP_STARTED)
		return sbx_fail(err, SBX_E_SETUP, "python interpreter did not start%s",
				e.sys_errno == ETIMEDOUT ? " (no answer from the sandbox)" : "");
	return sbx_native_wait_runner(pd->py_chan, pd->py_conn,
				      sbx_deadline_ns(sbx_now_ns(), PREWARM_TIMEOUT_MS),
				      "python interpreter", " (is python3 in the rootfs?)", err);
}

static void put_u32(sbx_buf *b, uint32_t v)
{
	unsigned char be[4] = {v >> 24, v >> 16, v >> 8, v};
	sbx_buf_append(b, be, 4);
}

static void put_field(sbx_buf *b, const char *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	sbx_buf_append(b, p, n);
}

/* The runner's request (src/pyrunner.py): u32 length, u32 nargs, u32 nenv,
 * then length-prefixed source, filename, cwd, args..., env... */
static int request_bin(sbx_buf *b, const sbx_python_opts *o, char **env, const char *cwd)
{
	size_t nargs = 0, nenv = 0;
	while (o->args && o->args[nargs])
		nargs++;
	while (env[nenv])
		nenv++;
	put_u32(b, 0); /* length, filled in below */
	put_u32(b, (uint32_t)nargs);
	put_u32(b, (uint32_t)nenv);
	const char *fn = o->filename ? o->filename : "-";
	put_field(b, o->source ? o->source : "", o->source ? o->source_len : 0);
	put_field(b, fn, strlen(fn));
	put_field(b, cwd, strlen(cwd));
	for (size_t i = 0; i < nargs; i++)
		put_field(b, o->args[i], strlen(o->args[i]));
	for (size_t i = 0; i < nenv; i++)
		put_field(b, env[i], strlen(env[i]));
	if (b->oom || b->len - 4 > 0xffffffffu)
		return -1;
	uint32_t n = (uint32_t)(b->len - 4);
	unsigned char be[4] = {n >> 24, n >> 16, n >> 8, n};
	memcpy(b->data, be, 4);
	return 0;
}

/* The fds ride on the first bytes; the rest follows on the stream, within u
 * (an interpreter that does not read must not hold us). */
static int send_request(int chan, const sbx_buf *b, const int fds[3], const sbx_until *u,
			sbx_error *err)
{
	return sbx_stream_send_until(chan, b->data, b->len, fds, 3, u, err);
}

int sbx_native_python(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res, sbx_error *err)
{
	sbx_exec_probe pr;
	sbx_exec_probe_init(sb, &pr);
	pr.started = true; /* the interpreter's exec said so when it started */
	uint64_t t0 = pr.t0;
	sbx_native_owned *pd = sb->priv;
	if (!pd)
		return sbx_fail(err, SBX_E_STATE,
				"python runs need a pool sandbox (or sbx_run_python)");
	/* Without a warm interpreter, start one now: the same code runs the
	 * script either way. */
	int r = 0;
	if (pd->zy && pd->py_chan < 0 && (r = sbx_native_forked_runner(pd, err)) < 0)
		return r;
	if (pd->py_chan < 0 && (r = sbx_native_prewarm(sb, NULL, err)) < 0)
		return r;
	const sbx_sbconf *c = sb->conf;
	_cleanup_(sbx_buf_free) sbx_buf req = {0};
	_cleanup_(sbx_envp_free) char **env = sbx_sandbox_env(c, &o->exec);
	const char *cwd = o->exec.cwd		  ? o->exec.cwd
			  : c->cwd[0]		  ? c->cwd
			  : c->cfg.workspace_mode ? "/workspace"
						  : "/tmp";
	if (!env || request_bin(&req, o, env, cwd) < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	sbx_fds_hold(); /* see base/util.h; released once the write ends are closed */
	_cleanup_(sbx_fds_releasep) bool held = true;
	_cleanup_(sbx_pipe_closep) int outp[2] = {-1, -1};
	_cleanup_(sbx_pipe_closep) int errp[2] = {-1, -1};
	_cleanup_close_ int nul = -1;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (o->exec.stdin_fd < 0 && (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0))
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pipes");
	int fds[3] = {o->exec.stdin_fd >= 0 ? o->exec.stdin_fd : nul, outp[1], errp[1]};
	/* The script's timeout bounds handing it over too, and so does the
	 * sandbox's answer deadline of an exec. */
	uint64_t by = t0 + REQUEST_TIMEOUT_MS * 1000000ull;
	if (o->exec.timeout_ms && o->exec.timeout_ms < REQUEST_TIMEOUT_MS)
		by = sbx_deadline_ns(t0, o->exec.timeout_ms);
	sbx_until u = {.deadline_ns = by, .cancel_fd = o->exec.cancel_fd};
	sbx_error e = {0};
	if (send_request(pd->py_chan, &req, fds, &u, &e) < 0) {
		if (e.sys_errno == ETIMEDOUT)
			return sbx_fail(err, SBX_E_STATE,
					"the python interpreter did not take the script in time");
		if (e.sys_errno == ECANCELED)
			return sbx_fail(err, SBX_E_STATE,
					"python: cancelled before the script started");
		return sbx_fail(err, SBX_E_STATE, "the python interpreter went away");
	}
	sbx_closep(&outp[1]);
	sbx_closep(&errp[1]);
	sbx_closep(&nul);
	sbx_fds_releasep(&held);
	/* One script per interpreter: both its fds go to the wait. A forked
	 * sandbox's record channel is its init's, kept for further requests. */
	int conn = pd->zy ? fcntl(pd->py_conn, F_DUPFD_CLOEXEC, 3) : sbx_steal_fd(&pd->py_conn);
	if (conn < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "dup");
	return sbx_exec_finish(sb, conn, sbx_steal_fd(&pd->py_chan), sbx_steal_fd(&outp[0]),
			       sbx_steal_fd(&errp[0]), &o->exec, &pr, res, err);
}

/* ---- a command instead of a script ------------------------------------- */

int sbx_native_forked_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err)
{
	/* The runner's request (pyrunner.py) with the file name "\1exec":
	 * its args are the command's argv. */
	sbx_python_opts po = {.exec = *o, .source = "", .filename = "\001exec", .args = o->argv};
	return sbx_native_python(sb, &po, res, err);
}
