/* native driver: one command in a fresh sandbox, start to finish (sbx_run). */
#include <signal.h>
#include <string.h>

#include "base/status.h"
#include "base/util.h"
#include "core/cgroup.h"
#include "core/launcher.h"
#include "core/supervise.h"
#include "drivers/native.h"

static uint64_t t_us(uint64_t since)
{
	return (sbx_now_ns() - since) / 1000;
}

static void fill_result(const sbx_watch *w, uint64_t t0, bool oom, sbx_result *res)
{
	int status = w->have_status ? w->cmd_status : (SIGKILL & 0x7f);
	res->timed_out = w->timed_out;
	res->cancelled = w->cancelled;
	res->oom_killed = oom;
	res->exit_code = sbx_exit_status(status, w->timed_out, &res->signal);
	res->duration_ms = (sbx_now_ns() - t0) / 1000000;
	res->cpu_ms = (uint64_t)(w->ru.ru_utime.tv_sec + w->ru.ru_stime.tv_sec) * 1000 +
		      (uint64_t)(w->ru.ru_utime.tv_usec + w->ru.ru_stime.tv_usec) / 1000;
	res->max_rss_kb = (uint64_t)w->ru.ru_maxrss;
	res->stdout_truncated = w->out.truncated;
	res->stderr_truncated = w->err.truncated;
}

int sbx_native_run(const sbx_driver *d, const sbx_config *cfg, sbx_result *res, sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	memset(res, 0, sizeof(*res));
	sbx_launcher s;
	sbx_launcher_init(&s);
	int r = sbx_launcher_start(&s, cfg, false, 0, err);
	if (r < 0)
		goto out;
	sbx_watch w = {
	    .pid = s.pid,
	    .pidfd = s.pidfd,
	    .sock = s.sock[0],
	    .cancel_fd = cfg->cancel_fd,
	    .deadline_ns = cfg->timeout_ms ? t0 + cfg->timeout_ms * 1000000ull : 0,
	    .out = {.fd = s.out[0],
		    .tee_fd = cfg->stdout_fd,
		    .capture = cfg->capture,
		    .limit = cfg->output_limit},
	    .err = {.fd = s.err[0],
		    .tee_fd = cfg->stderr_fd,
		    .capture = cfg->capture,
		    .limit = cfg->output_limit},
	    .cg = &s.cg,
	};
	/* The watch owns these fds now. */
	s.pidfd = s.sock[0] = s.out[0] = s.err[0] = -1;
	s.pid = 0;
	int wr = sbx_watch_run(&w);
	sbx_debug("time done %lluus", (unsigned long long)t_us(t0));
	sbx_closep(&w.sock);
	if (w.have_error) {
		r = sbx_fail(err, SBX_E_SETUP, "sandbox set-up failed: %s", w.error);
	} else if (wr < 0) {
		r = sbx_fail(err, SBX_E_SYSTEM, "supervising the sandbox: %s", strerror(-wr));
	} else if (!w.have_status && !w.timed_out && !w.cancelled) {
		r = sbx_fail(err, SBX_E_SETUP, "sandbox init ended without reporting a status");
	} else {
		fill_result(&w, t0, sbx_cgroup_oom_killed(&s.cg), res);
		res->stdout_len = w.out.buf.len;
		res->stderr_len = w.err.buf.len;
		res->stdout_buf = sbx_buf_steal(&w.out.buf);
		res->stderr_buf = sbx_buf_steal(&w.err.buf);
	}
	sbx_buf_free(&w.out.buf);
	sbx_buf_free(&w.err.buf);
out:
	sbx_launcher_release(&s);
	return r;
}
