/* The native driver's internals (src/drivers/native_*.c): sandboxes made
 * by this library itself (namespaces, cgroups, seccomp) whose init serves
 * exec and file requests on a control socket (core/server*.c).
 *
 * A named sandbox has no private state: its supervisor's socket and state
 * are found through sb->paths. An owned one's sb->priv is an
 * sbx_native_owned: the launcher that started it (its init is our child)
 * and, in Python mode, the pre-started interpreter. */
#ifndef SBX_NATIVE_H
#define SBX_NATIVE_H

#include "base/util.h"
#include "core/launcher.h"
#include "drivers/driver.h"
#include "proto/proto.h"
#include "state/store.h"

typedef struct sbx_native_owned {
	sbx_launcher ln;
	int py_chan; /* pre-started interpreter's request channel, or -1 */
	int py_conn; /* its exec connection (status, kill), or -1 */
	/* Forked from a zygote (native_zygote.c): ln has only its cgroups and
	 * the pidfd of its init (not our child), py_conn is that init's
	 * record channel (the exec protocol's records), slot its id range. */
	sbx_zygote *zy;
	uint32_t slot;
} sbx_native_owned;

/* Cleanup helpers: _cleanup_(sbx_pipe_closep) int p[2] closes both ends
 * unless taken; _cleanup_(sbx_fds_releasep) bool held = true after
 * sbx_fds_hold() releases it unless released already. */
static inline void sbx_pipe_closep(int (*p)[2])
{
	sbx_closep(&(*p)[0]);
	sbx_closep(&(*p)[1]);
}

static inline void sbx_fds_releasep(bool *held)
{
	if (*held)
		sbx_fds_release();
	*held = false;
}

/* ---- native_sandbox.c: reaching a sandbox, named lifecycle ----------- */

/* Connect to a running sandbox's server (SOCK_SEQPACKET), within u (NULL:
 * no bound). */
int sbx_native_connect(sbx_sandbox *sb, const sbx_until *u, sbx_error *err);
/* Cgroup paths of a running sandbox (for OOM accounting and usage). */
void sbx_native_cgroups(sbx_sandbox *sb, sbx_sbstate *st);
bool sbx_native_is_running(sbx_sandbox *sb);
int sbx_native_create(sbx_sandbox *sb, sbx_error *err);
int sbx_native_start(sbx_sandbox *sb, sbx_error *err);
int sbx_native_stop(sbx_sandbox *sb, sbx_error *err);
void sbx_native_info(sbx_sandbox *sb, sbx_sandbox_info *info);
bool sbx_native_owned_dead(sbx_sandbox *sb);
bool sbx_native_owned_alive(sbx_sandbox *sb);
void sbx_native_owned_activate(sbx_sandbox *sb);
void sbx_native_owned_stop(sbx_sandbox *sb);

/* ---- native_io.c: exec, files ----------------------------------------- */

int sbx_native_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err);
int sbx_native_read_file(sbx_sandbox *sb, const char *path, uint64_t max, char **data, size_t *len,
			 sbx_error *err);
int sbx_native_write_file(sbx_sandbox *sb, const char *path, const void *data, size_t len,
			  uint64_t max, sbx_error *err);

/* OOM kills so far in the sandbox's memory cgroup, -1 if unknown. */
long sbx_sandbox_oom_count(sbx_sandbox *sb);

/* What an exec starts from: its start time (its deadlines count from it),
 * the OOM kills and the pids-limit refusals of the sandbox so far, and
 * whether the sandbox's "started" already came (a pre-started runner). */
typedef struct sbx_exec_probe {
	uint64_t t0;
	long oom_before, pids_hits;
	bool started;
} sbx_exec_probe;

void sbx_exec_probe_init(sbx_sandbox *sb, sbx_exec_probe *pr);

/* Send an exec request for o (argv, env, cwd) with fds as the command's
 * stdio; returns the connection (the command has started or will report
 * an error on it) or negative with err. Connecting and sending are bounded
 * (the sandbox's answer deadline, o's timeout and cancel fd). */
int sbx_exec_start(sbx_sandbox *sb, const sbx_exec_opts *o, const int fds[3],
		   const sbx_exec_probe *pr, sbx_error *err);

/* Wait for an exec's end on conn (STATUS, or KILL on timeout/cancel) while
 * draining out/err into the result; early (or -1) is a python runner's
 * channel that may report the end first. Closes conn, early, out, err.
 * Until the sandbox says the command started it has 30 s to say so (or
 * the command's timeout, if sooner); a failure at the sandbox's pids limit
 * is named as such. */
/* argv of `python3 -c SRC [FLAG] MODULE...` for the comma-separated
 * preload (split in mods, which argv points into). */
void sbx_native_interp_argv(const char *argv[64], const char *src, const char *flag,
			    const char *preload, char mods[1024]);
/* A runner's "R" on chan (its interpreter is ready), until deadline_ns;
 * else the error record its exec connection or init sent on ctl, or "WHAT
 * did not start (timed out)" / "WHAT did not start HINT". */
int sbx_native_wait_runner(int chan, int ctl, uint64_t deadline_ns, const char *what,
			   const char *hint, sbx_error *err);
int sbx_exec_finish(sbx_sandbox *sb, int conn, int early, int out, int err_fd,
		    const sbx_exec_opts *o, const sbx_exec_probe *pr, sbx_result *res,
		    sbx_error *err);

/* ---- native_python.c: the pre-started interpreter ---------------------- */

/* Start the interpreter in the owned sandbox sb now. */
int sbx_native_prewarm(sbx_sandbox *sb, const char *preload, sbx_error *err);
int sbx_native_python(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res, sbx_error *err);
/* The command argv in a pre-forked sandbox: its runner execs it. */
int sbx_native_forked_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res,
			   sbx_error *err);

/* ---- native_owned.c: sandboxes owned by this process ------------------- */

int sbx_native_owned_create(sbx_sandbox *sb, bool python, const char *preload, sbx_error *err);
void sbx_native_owned_destroy(sbx_sandbox *sb);
int sbx_native_owned_keep(sbx_sandbox *sb, const sbx_paths *p, pid_t *reap, sbx_error *err);

/* ---- native_zygote.c: pre-forked sandboxes ------------------------------ */

int sbx_native_zygote_new(const sbx_sbconf *conf, const char *preload, uint32_t max_sandboxes,
			  sbx_zygote **out, sbx_error *err);
int sbx_native_owned_fork(sbx_zygote *z, sbx_sandbox *sb, sbx_error *err);
void sbx_native_zygote_info(sbx_zygote *z, int *pid, uint64_t *starts);
void sbx_native_zygote_free(sbx_zygote *z);
/* The zygote's configuration message: 'C' + JSON (zygote.py reads it):
 * seccomp (the SBX_SECCOMP_STAGES programs, hex), caps (kept capability
 * mask), secbits, last_cap, tmp_size, loopback, rlimits ([name, value],
 * -1: unlimited), hostname, proc_masked, proc_readonly, env. */
int sbx_zygote_config(const sbx_config *c, sbx_buf *b, sbx_error *err);
/* A further request to a forked sandbox: a new runner from its init. */
int sbx_native_forked_runner(sbx_native_owned *pd, sbx_error *err);
/* A forked sandbox is gone: kill what is left, remove its cgroups, give
 * its id range back. */
void sbx_native_forked_destroy(sbx_native_owned *pd);

/* ---- native_run.c, native_health.c -------------------------------------- */

int sbx_native_run(const sbx_driver *d, const sbx_config *cfg, sbx_result *res, sbx_error *err);
int sbx_native_health(const sbx_driver *d, const sbx_config *cfg, sbx_health_line line, void *ctx);

#endif
