/* docker/podman driver: one-shot runs (sbx_oci_run).
 *
 * `ENGINE run -i` (no --rm: the container is inspected after it ended, for
 * OOMKilled, then removed by us) with the wrapper script as the command, so
 * that the engine's own messages (stderr before the wrapper's marker line)
 * are told apart from the command's. Timeout and cancellation kill the
 * container (`ENGINE kill`, retried until the client exits; the client
 * itself is SIGKILLed if it still has not exited 10 s later).
 *
 * Not available through the engines' clients: cpu_ms and max_rss_kb are
 * reported as 0. oom_killed is the engine's State.OOMKilled, best effort:
 * podman with conmon on a cgroup v1 host reports false even when the
 * kernel's OOM killer ended the command (it still exits 137). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "base/util.h"
#include "drivers/oci_int.h"
#include "base/parse.h"

typedef struct kill_ctx {
	const char *engine;
	const sbx_oci_host *h;
	const char *cname;
} kill_ctx;

/* `ENGINE kill NAME`: the container's init gets SIGKILL, and with it its
 * whole pid namespace. Harmless if the container does not exist (yet). */
static void kill_container(void *p, sbx_oci_client *c)
{
	(void)c;
	kill_ctx *k = p;
	sbx_strv a = {0};
	sbx_oci_args_engine(&a, k->engine, k->h);
	sbx_strv_add(&a, "kill");
	sbx_strv_add(&a, k->cname);
	sbx_oci_out o;
	if (!a.oom && sbx_oci_cmd(k->engine, a.v, -1, 4096, 10000, &o, NULL) == 0) {
		sbx_debug("%s kill %s: %d", k->engine, k->cname, o.code);
		sbx_oci_out_free(&o);
	}
	sbx_strv_free(&a);
}

/* Best effort: the container goes, whatever state it is in. */
void sbx_oci_remove(const char *engine, const sbx_oci_host *h, const char *cname)
{
	sbx_strv a = {0};
	sbx_oci_args_engine(&a, engine, h);
	sbx_strv_add(&a, "rm");
	sbx_strv_add(&a, "-f");
	sbx_strv_add(&a, cname);
	sbx_oci_out o;
	if (!a.oom && sbx_oci_cmd(engine, a.v, -1, 4096, 60000, &o, NULL) == 0)
		sbx_oci_out_free(&o);
	sbx_strv_free(&a);
}

static bool oom_killed(const char *engine, const sbx_oci_host *h, const char *cname)
{
	sbx_strv a = {0};
	sbx_oci_args_engine(&a, engine, h);
	const char *args[] = {"inspect", "--type", "container", "--format", "{{.State.OOMKilled}}",
			      cname};
	for (size_t i = 0; i < ARRAY_LEN(args); i++)
		sbx_strv_add(&a, args[i]);
	sbx_oci_out o;
	bool oom = false;
	if (!a.oom && sbx_oci_cmd(engine, a.v, -1, 4096, 30000, &o, NULL) == 0) {
		oom = o.code == 0 && o.out.data && !strncmp(o.out.data, "true", 4);
		sbx_oci_out_free(&o);
	}
	sbx_strv_free(&a);
	return oom;
}

int sbx_oci_run(const char *engine, const sbx_config *cfg, sbx_result *res, sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	memset(res, 0, sizeof(*res));
	int r = sbx_oci_check_engine(engine, err);
	if (r == 0)
		r = sbx_config_validate(cfg, true, err);
	sbx_oci_host h;
	char ws[PATH_MAX];
	if (r == 0)
		r = sbx_oci_host_for(engine, cfg, &h, ws, sizeof(ws), err);
	if (r < 0)
		return r;
	char id[13], cname[32];
	sbx_random_id(id, 12);
	snprintf(cname, sizeof(cname), "sbx-run-%s", id);
	sbx_strv a = {0};
	if (sbx_oci_args_run(&a, engine, cfg, &h, cname, false) < 0) {
		sbx_strv_free(&a);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	kill_ctx k = {engine, &h, cname};
	sbx_oci_io io = {.stdout_fd = cfg->stdout_fd,
			 .stderr_fd = cfg->stderr_fd,
			 .capture = cfg->capture,
			 .limit = cfg->output_limit,
			 .timeout_ms = cfg->timeout_ms,
			 /* No forwarding here: a signal request stops at once. */
			 .cancel_fd = cfg->cancel_fd >= 0 ? cfg->cancel_fd : cfg->signal_fd};
	sbx_oci_client c;
	sbx_oci_client_attach(&c, &io, t0, kill_container, &k);
	r = sbx_oci_client_run(&c, a.v, cfg->stdin_fd, engine, err);
	sbx_strv_free(&a);
	int cmd_ws = sbx_oci_cmd_wstatus(c.l.wstatus);
	bool stopped = c.l.timed_out || c.l.cancelled;
	if (r == 0 && !c.seen_mark && !stopped) {
		/* The command never started: the engine failed. */
		char line[400];
		sbx_oci_first_line(c.held.data, c.held.len, line, sizeof(line));
		sbx_debug("%s run exited %d before the command started: %s", engine,
			  sbx_oci_code(c.l.wstatus), c.held.data ? c.held.data : "");
		r = sbx_oci_diagnose(engine, cfg->image ? cfg->image : SBX_OCI_DEFAULT_IMAGE, "run",
				     line, err);
	}
	if (r == 0) {
		bool killed = WIFSIGNALED(cmd_ws) && WTERMSIG(cmd_ws) == SIGKILL;
		sbx_ending e = {.wstatus = cmd_ws,
				.oom_killed = killed && !stopped && oom_killed(engine, &h, cname)};
		r = sbx_loop_result(&c.l, &e, t0, res, err);
	}
	sbx_oci_client_free(&c);
	sbx_oci_remove(engine, &h, cname);
	return r;
}
