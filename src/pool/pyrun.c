/* Running Python scripts: the pre-started interpreter of src/pyrunner.py. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/env.h"
#include "base/util.h"
#include "pool/pooled.h"
#include "proto/proto.h"

extern const char sbx_pyrunner_src[];

#define PREWARM_TIMEOUT_MS 60000

SBX_API void sbx_python_opts_init(sbx_python_opts *o)
{
	memset(o, 0, sizeof(*o));
	sbx_exec_opts_init(&o->exec);
}

/* Wait for the interpreter's "R": it imported its modules and listens. */
static int wait_ready(sbx_pooled *pd, sbx_error *err)
{
	struct pollfd pf[2] = {{pd->py_chan, POLLIN, 0}, {pd->py_conn, POLLIN, 0}};
	int n = poll(pf, 2, PREWARM_TIMEOUT_MS);
	char c = 0;
	if (n > 0 && (pf[0].revents & POLLIN) && recv(pd->py_chan, &c, 1, 0) == 1 && c == 'R')
		return 0;
	/* Started badly: the exec connection says why, if it can. */
	char buf[600] = "";
	if (pf[1].revents) {
		ssize_t k = sbx_msg_recv(pd->py_conn, buf, sizeof(buf) - 1, NULL, NULL, 0, NULL);
		if (k > 0 && buf[0] == SBX_REP_ERROR) {
			buf[k] = '\0';
			return sbx_fail(err, SBX_E_SETUP, "python interpreter: %s", buf + 1);
		}
	}
	return sbx_fail(err, SBX_E_SETUP, "python interpreter did not start%s",
			n == 0 ? " (timed out)" : " (is python3 in the rootfs?)");
}

int sbx_pyrun_prewarm(sbx_sandbox *sb, const char *preload, sbx_error *err)
{
	sbx_pooled *pd = sb->pooled;
	int chan[2], nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0) {
		sbx_closep(&nul);
		return sbx_fail(err, SBX_E_SYSTEM, "socketpair: %s", strerror(errno));
	}
	/* argv: python3 -c RUNNER MODULE... */
	char mods[1024] = "";
	snprintf(mods, sizeof(mods), "%s", preload ? preload : "");
	const char *argv[64] = {"python3", "-c", sbx_pyrunner_src};
	size_t argc = 3;
	for (char *m = strtok(mods, ","); m && argc < 63; m = strtok(NULL, ","))
		argv[argc++] = m;
	argv[argc] = NULL;
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = argv;
	/* Under SBX_DEBUG the interpreter's start-up errors reach our stderr. */
	int fds[3] = {chan[1], nul, sbx_debug_on() ? STDERR_FILENO : nul};
	int conn = sbx_exec_start(sb, &o, fds, err);
	close(chan[1]);
	close(nul);
	if (conn < 0) {
		close(chan[0]);
		return conn;
	}
	pd->py_chan = chan[0];
	pd->py_conn = conn;
	char buf[16];
	/* STARTED (or an error) comes first on the exec connection. */
	ssize_t k = sbx_msg_recv(conn, buf, sizeof(buf), NULL, NULL, 0, NULL);
	if (k < 1 || buf[0] != SBX_REP_STARTED)
		return sbx_fail(err, SBX_E_SETUP, "python interpreter did not start");
	return wait_ready(pd, err);
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

static int send_request(int chan, const sbx_buf *b, const int fds[3])
{
	/* The fds ride on the first bytes; the rest follows on the stream. */
	size_t first = b->len < 65536 ? b->len : 65536;
	struct iovec iov = {b->data, first};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * 3);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * 3);
	ssize_t w = sendmsg(chan, &mh, MSG_NOSIGNAL);
	if (w <= 0)
		return -1;
	for (size_t off = (size_t)w; off < b->len;) {
		ssize_t k = send(chan, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* Engines cannot hand fds to a runner: write the script into the
 * sandbox's /tmp and run python3 on it (tracebacks show that path). */
static int python_by_file(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res,
			  sbx_error *err)
{
	const char *fn = o->filename ? strrchr(o->filename, '/') : NULL;
	fn = fn ? fn + 1 : o->filename && strcmp(o->filename, "-") ? o->filename : "stdin.py";
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/tmp/%s", fn);
	int r = sbx_sandbox_write_file(sb, path, o->source ? o->source : "", o->source_len, 0, err);
	if (r < 0)
		return r;
	size_t n = 0;
	while (o->args && o->args[n])
		n++;
	const char **argv = calloc(n + 3, sizeof(char *));
	if (!argv)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	argv[0] = "python3";
	argv[1] = path;
	for (size_t i = 0; i < n; i++)
		argv[2 + i] = o->args[i];
	sbx_exec_opts eo = o->exec;
	eo.argv = argv;
	r = sbx_sandbox_exec(sb, &eo, res, err);
	free(argv);
	return r;
}

SBX_API int sbx_sandbox_python(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res,
			       sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	memset(res, 0, sizeof(*res));
	if (o->exec.cwd && o->exec.cwd[0] != '/')
		return sbx_fail(err, SBX_E_PATH, "invalid working directory %s", o->exec.cwd);
	/* Without a warm interpreter, start one now: the same code runs the
	 * script either way. Only pool sandboxes can hold one. */
	if (!sb->pooled)
		return sbx_fail(err, SBX_E_STATE,
				"python runs need a pool sandbox (or sbx_run_python)");
	sbx_pooled *pd = sb->pooled;
	int r = 0;
	if (pd->oci_engine[0])
		return python_by_file(sb, o, res, err);
	if (pd->py_chan < 0 && (r = sbx_pyrun_prewarm(sb, NULL, err)) < 0)
		return r;
	sbx_sbconf c;
	if ((r = sbx_sandbox_conf(sb, &c, err)) < 0)
		return r;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, nul = -1;
	bool held = false;
	sbx_buf req = {0};
	char **env = sbx_sandbox_env(&c, &o->exec);
	const char *cwd = o->exec.cwd		 ? o->exec.cwd
			  : c.cwd[0]		 ? c.cwd
			  : c.cfg.workspace_mode ? "/workspace"
						 : "/tmp";
	if (!env || request_bin(&req, o, env, cwd) < 0) {
		r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		goto out;
	}
	held = true;
	sbx_fds_hold(); /* see internal.h */
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (o->exec.stdin_fd < 0 && (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
		r = sbx_fail(err, SBX_E_SYSTEM, "pipes: %s", strerror(errno));
		goto out;
	}
	long oom_before = sbx_sandbox_oom_count(sb);
	int fds[3] = {o->exec.stdin_fd >= 0 ? o->exec.stdin_fd : nul, outp[1], errp[1]};
	if (send_request(pd->py_chan, &req, fds) < 0) {
		r = sbx_fail(err, SBX_E_STATE, "the python interpreter went away");
		goto out;
	}
	sbx_closep(&outp[1]);
	sbx_closep(&errp[1]);
	sbx_closep(&nul);
	sbx_fds_release();
	held = false;
	/* One script per interpreter: both its fds go to the wait. */
	r = sbx_exec_finish(sb, sbx_steal_fd(&pd->py_conn), sbx_steal_fd(&pd->py_chan),
			    sbx_steal_fd(&outp[0]), sbx_steal_fd(&errp[0]), &o->exec, t0,
			    oom_before, res, err);
out:
	for (int i = 0; i < 2; i++) {
		sbx_closep(&outp[i]);
		sbx_closep(&errp[i]);
	}
	sbx_closep(&nul);
	if (held)
		sbx_fds_release();
	sbx_buf_free(&req);
	sbx_env_free(env);
	sbx_sbconf_free(&c);
	return r;
}

SBX_API int sbx_run_python(const sbx_config *cfg, const sbx_python_opts *o, sbx_result *res,
			   sbx_error *err)
{
	memset(res, 0, sizeof(*res));
	sbx_sbconf conf;
	int r = sbx_sbconf_from(&conf, cfg, err);
	sbx_sandbox *sb = NULL;
	if (r == 0)
		r = sbx_pooled_create(&conf, true, NULL, &sb, err);
	if (r == 0) {
		sbx_pooled_activate(sb);
		sbx_python_opts po = *o;
		if (!po.exec.timeout_ms && cfg->timeout_ms)
			po.exec.timeout_ms = cfg->timeout_ms;
		r = sbx_sandbox_python(sb, &po, res, err);
	}
	sbx_pooled_destroy(sb);
	sbx_sbconf_free(&conf);
	return r;
}
