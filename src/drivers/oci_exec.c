/* docker/podman driver: running a command in a long-lived sandbox's
 * container (sbx_oci_exec).
 *
 * `ENGINE exec -i` runs the wrapper script, which prints its pid (the
 * engine makes every exec'd process a session and process-group leader)
 * and becomes the command. On timeout or cancellation another exec kills
 * that process group and everything left in that session
 * (sbx_oci_kill_script), so only this command's tree goes: the container
 * and other execs keep running. Processes that start a session of their
 * own escape that kill (the native runtime tracks them as a subreaper).
 *
 * The environment is the native one: base + the sandbox's create-time env
 * + the exec's. cpu_ms, max_rss_kb are 0 and oom_killed is false: the
 * engines do not report them per exec. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/env.h"
#include "base/parse.h"
#include "base/util.h"
#include "drivers/oci_int.h"
#include "state/exec.h"

typedef struct tree_ctx {
	const char *engine;
	const sbx_oci_host *h;
	const char *cname;
	bool killed;
} tree_ctx;

static void kill_tree(void *p, sbx_oci_client *c)
{
	tree_ctx *k = p;
	if (c->mark_pid <= 1)
		return; /* not started yet: the retry will come back */
	char pid[24];
	snprintf(pid, sizeof(pid), "%ld", c->mark_pid);
	const char *args[] = {pid, NULL};
	sbx_strv a = {0};
	sbx_oci_args_sh(&a, k->engine, k->h, k->cname, false, sbx_oci_kill_script, args);
	sbx_oci_out o;
	if (!a.oom && sbx_oci_cmd(k->engine, a.v, -1, 4096, 10000, &o, NULL) == 0) {
		sbx_debug("%s exec kill %s pid %ld: %d", k->engine, k->cname, c->mark_pid, o.code);
		k->killed = o.code == 0;
		sbx_oci_out_free(&o);
	}
	sbx_strv_free(&a);
}

/* The exec never started: say why (container gone, stopped, engine). */
static int not_started(const char *engine, const char *name, const char *cname,
		       const sbx_oci_client *c, sbx_error *err)
{
	char line[400];
	sbx_oci_first_line(c->held.data, c->held.len, line, sizeof(line));
	int st = sbx_oci_state(engine, cname);
	if (st == -1)
		return sbx_fail(err, SBX_E_NOTFOUND, "%s: no container %s for sandbox %s", engine,
				cname, name);
	if (st == 0)
		return sbx_fail(err, SBX_E_STATE, "sandbox %s is not running (sbx start %s)", name,
				name);
	return sbx_oci_diagnose(engine, NULL, "exec", line, err);
}

int sbx_oci_exec(const char *engine, const char *name, const sbx_sbconf *c, const sbx_exec_opts *o,
		 sbx_result *res, sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	memset(res, 0, sizeof(*res));
	char cname[96];
	sbx_oci_host h = {0};
	int r = sbx_oci_check_engine(engine, err);
	if (r == 0)
		r = sbx_oci_cname(name, cname, sizeof(cname), err);
	if (r == 0)
		r = sbx_exec_opts_check(o, true, err);
	if (r == 0)
		r = sbx_oci_runtime(engine, &h.runtime, err);
	if (r < 0)
		return r;
	char **env = sbx_sandbox_env(c, o);
	sbx_strv a = {0};
	if (!env || sbx_oci_args_exec(&a, engine, &h, cname, env, o->cwd, o->argv) < 0) {
		sbx_env_free(env);
		sbx_strv_free(&a);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	sbx_env_free(env);
	tree_ctx k = {engine, &h, cname, false};
	sbx_oci_io io = {.stdout_fd = o->stdout_fd,
			 .stderr_fd = o->stderr_fd,
			 .capture = o->capture,
			 .limit = o->output_limit ? o->output_limit : SBX_OCI_OUTPUT_DEFAULT,
			 .timeout_ms = o->timeout_ms,
			 /* No forwarding here: a signal request stops at once. */
			 .cancel_fd = o->cancel_fd >= 0 ? o->cancel_fd : o->signal_fd};
	sbx_oci_client cl;
	sbx_oci_client_attach(&cl, &io, t0, kill_tree, &k);
	r = sbx_oci_client_run(&cl, a.v, o->stdin_fd, engine, err);
	sbx_strv_free(&a);
	bool stopped = cl.l.timed_out || cl.l.cancelled;
	/* The client was SIGKILLed before the tree was: do it now. */
	if (stopped && cl.seen_mark && !k.killed)
		kill_tree(&k, &cl);
	if (r == 0 && !cl.seen_mark && !stopped)
		r = not_started(engine, name, cname, &cl, err);
	if (r == 0)
		r = sbx_loop_result(&cl.l,
				    &(sbx_ending){.wstatus = sbx_oci_cmd_wstatus(cl.l.wstatus)}, t0,
				    res, err);
	sbx_oci_client_free(&cl);
	return r;
}
