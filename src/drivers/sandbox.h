/* The handle behind the public sbx_sandbox type. */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include "core/launcher.h"
#include "state/store.h"

struct sbx_pool;

/* A sandbox of a pool: owned by this process, reached over its init's
 * control socket, never in the store. */
typedef struct sbx_pooled {
	sbx_launcher ln;
	struct sbx_pool *pool;
	const sbx_sbconf *conf; /* the pool's template */
	uint64_t born_ns;
	int py_chan;	     /* pre-started interpreter's request channel, or -1 */
	int py_conn;	     /* its exec connection (status, kill), or -1 */
	char oci_engine[16]; /* docker/podman pools: the engine, "" for native */
	char oci_name[64];   /* and the sandbox's name (container sbx-<name>) */
} sbx_pooled;

struct sbx_sandbox {
	sbx_paths p;	    /* named sandboxes */
	sbx_pooled *pooled; /* pool sandboxes */
};

/* The engine ("docker", "podman") of a named sandbox on an OCI driver, or
 * NULL for the native runtime (and pool sandboxes). engine: 16 bytes. */
const char *sbx_sandbox_engine(sbx_sandbox *sb, char *engine);

/* Connect to a running sandbox's server (SOCK_SEQPACKET). */
int sbx_sandbox_connect(sbx_sandbox *sb, sbx_error *err);

/* The sandbox's configuration (loaded for named ones, the pool template
 * for pooled ones; free with sbx_sbconf_free in both cases). */
int sbx_sandbox_conf(sbx_sandbox *sb, sbx_sbconf *c, sbx_error *err);

/* Cgroup paths of a running sandbox (for OOM accounting). */
void sbx_sandbox_cgroups(sbx_sandbox *sb, sbx_sbstate *st);

/* Wait for an exec's end on conn (STATUS, or KILL on timeout/cancel) while
 * draining out/err into the result; early (or -1) is a python runner's
 * channel that may report the end first. Closes conn, early, out, err. */
int sbx_exec_finish(sbx_sandbox *sb, int conn, int early, int out, int err_fd,
		    const sbx_exec_opts *o, uint64_t t0, long oom_before, sbx_result *res,
		    sbx_error *err);
long sbx_sandbox_oom_count(sbx_sandbox *sb);

/* Send an exec request for o (argv, env, cwd) with fds as the command's
 * stdio; returns the connection (the command has started or will report
 * an error on it) or negative with err. */
int sbx_exec_start(sbx_sandbox *sb, const sbx_exec_opts *o, const int fds[3], sbx_error *err);

/* Command (when need_argv), cwd and env of an exec request. */
int sbx_exec_opts_check(const sbx_exec_opts *o, bool need_argv, sbx_error *err);

/* The sandbox's environment with o's entries on top (sbx_env_free). */
char **sbx_sandbox_env(const sbx_sbconf *c, const sbx_exec_opts *o);

#endif
