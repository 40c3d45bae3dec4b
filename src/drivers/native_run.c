/* native driver: one command in a fresh sandbox, start to finish (sbx_run). */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "base/util.h"
#include "core/cgroup.h"
#include "core/launcher.h"
#include "core/supervise.h"
#include "drivers/native.h"

static uint64_t t_us(uint64_t since)
{
	return (sbx_now_ns() - since) / 1000;
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
	sbx_watch w;
	sbx_watch_init(&w, &s.cg);
	/* The watch owns these fds now. */
	w.l.pid = s.pid;
	w.l.pidfd = sbx_steal_fd(&s.pidfd);
	w.l.ctl = sbx_steal_fd(&s.sock[0]);
	w.l.cancel_fd = cfg->cancel_fd;
	w.l.signal_fd = cfg->signal_fd;
	w.l.stop_timeout_ns = sbx_ms_to_ns_sat(cfg->stop_timeout_ms);
	w.l.deadline_ns = sbx_deadline_ns(t0, cfg->timeout_ms);
	w.l.out = (sbx_stream){.fd = sbx_steal_fd(&s.out[0]),
			       .tee_fd = cfg->stdout_fd,
			       .capture = cfg->capture,
			       .limit = cfg->output_limit};
	w.l.err = (sbx_stream){.fd = sbx_steal_fd(&s.err[0]),
			       .tee_fd = cfg->stderr_fd,
			       .capture = cfg->capture,
			       .limit = cfg->output_limit};
	s.pid = 0;
	int wr = sbx_watch_run(&w, err);
	sbx_debug("time done %lluus", (unsigned long long)t_us(t0));
	if (w.l.have_error) {
		r = sbx_fail(err, SBX_E_SETUP, "sandbox set-up failed: %s", w.l.error);
	} else if (wr < 0) {
		r = sbx_error_wrap(err, wr, "supervising the sandbox");
	} else if (!w.have_status && !w.l.timed_out && !w.l.cancelled && !w.l.reader_gone &&
		   !(w.l.reaped && WIFSIGNALED(w.l.wstatus))) {
		r = sbx_fail(err, SBX_E_SETUP, "sandbox init ended without reporting a status");
	} else {
		/* Without init's report: killed by us (timeout, cancel), or init
		 * was killed from outside (SIGKILL from the host), and the
		 * command with it: the signal that ended init ended the command. */
		int killed_by =
		    w.l.reaped && WIFSIGNALED(w.l.wstatus) ? w.l.wstatus : (SIGKILL & 0x7f);
		sbx_ending e = {.wstatus = w.have_status ? w.cmd_status : killed_by,
				.cpu_ms = sbx_rusage_cpu_ms(&w.l.ru),
				.max_rss_kb = (uint64_t)w.l.ru.ru_maxrss,
				.oom_killed = sbx_cgroup_oom_killed(&s.cg)};
		r = sbx_loop_result(&w.l, &e, t0, res, err);
	}
	sbx_loop_free(&w.l);
out:
	sbx_launcher_release(&s);
	sbx_debug("time released %lluus", (unsigned long long)t_us(t0));
	return r;
}
