/* A process in a container's sandbox, run by a thread of its own. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/util.h"
#include "dockerapi/proc.h"

/* Output is streamed, not kept: Docker keeps all of it (the log is
 * bounded on our side, DAPI_LOG_MAX). */
#define PROC_OUTPUT_LIMIT (1ull << 40)

void dapi_proc_init(dapi_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->in_r = p->out_r = p->err_r = p->out_w = p->err_w = -1;
	p->cancel_efd = p->sig_w = p->sig_r = p->done_efd = -1;
}

size_t dapi_onlcr(const char *in, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n' && !(i > 0 && in[i - 1] == '\r'))
			out[k++] = '\r';
		out[k++] = in[i];
	}
	return k;
}

const char *dapi_python_code(const char *const *argv)
{
	if (!argv || !argv[0] || !argv[1] || !argv[2])
		return NULL;
	const char *a0 = argv[0];
	static const char *const names[] = {"python3", "/usr/bin/python3", "/usr/local/bin/python3",
					    "python", "/usr/bin/python"};
	bool ok = false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ok = ok || strcmp(a0, names[i]) == 0;
	return ok && strcmp(argv[1], "-c") == 0 ? argv[2] : NULL;
}

static void *proc_main(void *arg)
{
	dapi_proc *p = arg;
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = p->argv;
	o.env = p->env;
	o.n_env = p->n_env;
	o.cwd = p->cwd;
	o.timeout_ms = 0;
	o.output_limit = PROC_OUTPUT_LIMIT;
	o.stdin_fd = p->in_r;
	o.stdout_fd = p->out_w;
	o.stderr_fd = p->err_w;
	o.capture = false;
	o.cancel_fd = p->cancel_efd;
	o.signal_fd = p->sig_r;
	o.stop_timeout_ms = SBX_DURATION_MAX_MS;
	const char *code = p->python ? dapi_python_code(p->argv) : NULL;
	if (code) {
		sbx_python_opts po;
		sbx_python_opts_init(&po);
		po.source = code;
		po.source_len = strlen(code);
		po.filename = "-c";
		po.args = p->argv + 3;
		po.exec = o;
		po.exec.argv = NULL;
		p->rc = sbx_sandbox_python(p->sb, &po, &p->res, &p->err);
	} else {
		p->rc = sbx_sandbox_exec(p->sb, &o, &p->res, &p->err);
	}
	/* All its output went through our write ends: closing them ends the
	 * pipes for the pump (a process it left behind holds none of them). */
	sbx_closep(&p->out_w);
	sbx_closep(&p->err_w);
	sbx_closep(&p->in_r);
	uint64_t one = 1;
	if (write(p->done_efd, &one, sizeof(one)) < 0) {
		/* an eventfd write of 1 cannot fail short of a bug */
	}
	return NULL;
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int dapi_proc_start(dapi_proc *p, sbx_sandbox *sb, const char *const *argv, const char *const *env,
		    const char *cwd, bool with_stdin, int *stdin_w, bool python_ok, sbx_error *err)
{
	int o[2] = {-1, -1}, e[2] = {-1, -1}, s[2] = {-1, -1}, in[2] = {-1, -1};
	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 || pipe2(s, O_CLOEXEC) < 0 ||
	    (with_stdin && pipe2(in, O_CLOEXEC) < 0)) {
		int en = errno;
		for (int i = 0; i < 2; i++) {
			sbx_closep(&o[i]);
			sbx_closep(&e[i]);
			sbx_closep(&s[i]);
			sbx_closep(&in[i]);
		}
		return sbx_fail_errno(err, SBX_E_SYSTEM, en, "pipe");
	}
	p->sb = sb;
	p->argv = argv;
	p->env = env;
	p->n_env = 0;
	while (env && env[p->n_env])
		p->n_env++;
	p->cwd = cwd;
	p->python = python_ok && !with_stdin && p->in_r < 0 && dapi_python_code(argv);
	p->out_r = o[0];
	p->out_w = o[1];
	p->err_r = e[0];
	p->err_w = e[1];
	p->sig_r = s[0];
	p->sig_w = s[1];
	if (with_stdin)
		p->in_r = in[0];
	nonblock(p->out_r);
	nonblock(p->err_r);
	if (with_stdin) {
		nonblock(in[1]);
		*stdin_w = in[1];
	}
	p->cancel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->done_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->cancel_efd < 0 || p->done_efd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "eventfd");
	int r = pthread_create(&p->th, NULL, proc_main, p);
	if (r != 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, r, "starting a thread");
	p->th_running = true;
	return 0;
}

void dapi_proc_signal(dapi_proc *p, int sig)
{
	if (sig == SIGKILL || sig == SIGSTOP) {
		uint64_t one = 1;
		if (p->cancel_efd >= 0 && write(p->cancel_efd, &one, sizeof(one)) < 0) {
			/* full counter: already cancelled */
		}
		return;
	}
	if (p->sig_w >= 0)
		sbx_signal_request(p->sig_w, sig);
}

void dapi_proc_join(dapi_proc *p)
{
	if (p->th_running)
		pthread_join(p->th, NULL);
	p->th_running = false;
}

void dapi_proc_free(dapi_proc *p)
{
	dapi_proc_join(p);
	int *fds[] = {&p->in_r,	      &p->out_r, &p->err_r, &p->out_w,	 &p->err_w,
		      &p->cancel_efd, &p->sig_w, &p->sig_r, &p->done_efd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		sbx_closep(fds[i]);
	sbx_result_free(&p->res);
	memset(&p->res, 0, sizeof(p->res));
}

int dapi_proc_exit_code(const dapi_proc *p)
{
	if (p->rc < 0)
		return p->err.code == SBX_E_NOTFOUND ? 127 : 126;
	if (p->res.cancelled || p->res.oom_killed)
		return p->res.signal ? 128 + p->res.signal : 137;
	return p->res.exit_code;
}
