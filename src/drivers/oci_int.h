/* Internals shared by the docker/podman driver files (src/oci_*.c). */
#ifndef SBX_OCI_INT_H
#define SBX_OCI_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "drivers/oci.h"
#include "core/loop.h"

/* ---- argv building (oci_args.c; pure: no I/O) ---------------------------- */

/* A growable NULL-terminated array of owned strings. Appends after an
 * allocation failure are no-ops; oom tells. */
typedef struct sbx_strv {
	char **v;
	size_t n, cap;
	bool oom;
} sbx_strv;

void sbx_strv_add(sbx_strv *a, const char *s);
void sbx_strv_addf(sbx_strv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbx_strv_free(sbx_strv *a);

/* Facts about the host and the config, resolved before building argvs. */
typedef struct sbx_oci_host {
	const char *runtime;   /* podman --runtime (e.g. "runc"), NULL: the engine's default */
	const char *workspace; /* canonical host path, NULL: no workspace */
	bool workspace_ro;
	uid_t uid;	/* --user: the workspace's owner (root inside sees it as */
	gid_t gid;	/* its own under native idmapped mounts), else 0:0 */
	uint64_t nproc; /* --ulimit nproc (must not exceed the engine's own limit) */
	pid_t owner;	/* label sbx.pid: the process that made the container (0: none) */
} sbx_oci_host;

/* The command the wrapper prints on stderr before exec'ing the user's
 * command: "sbx-oci-started PID\n". */
#define SBX_OCI_MARK "sbx-oci-started "

/* ENGINE and its global flags. */
void sbx_oci_args_engine(sbx_strv *a, const char *engine, const sbx_oci_host *h);

/* `ENGINE run` for a one-shot run (detached = false: attached, the wrapped
 * cfg->argv) or a long-lived container (detached: idle process). name is the
 * container name. Returns 0, or -1 on ENOMEM/invalid input (then a->oom). */
int sbx_oci_args_run(sbx_strv *a, const char *engine, const sbx_config *cfg, const sbx_oci_host *h,
		     const char *name, bool detached);

/* `ENGINE exec -i [-e K=V]... [-w CWD] NAME <wrapper> argv...` */
int sbx_oci_args_exec(sbx_strv *a, const char *engine, const sbx_oci_host *h, const char *name,
		      char *const *env, const char *cwd, const char *const *argv);

/* `ENGINE exec NAME sh -c SCRIPT sh ARGS...` for file and kill helpers. */
void sbx_oci_args_sh(sbx_strv *a, const char *engine, const sbx_oci_host *h, const char *name,
		     bool interactive, const char *script, const char *const *args);

/* Shell scripts run inside the container. */
extern const char sbx_oci_wrap_script[];
extern const char sbx_oci_kill_script[];
extern const char sbx_oci_read_script[];
extern const char sbx_oci_write_script[];

/* Exit status of a client as the CLI would report it (128+N on signal). */
int sbx_oci_code(int wstatus);
/* Map a container/exec exit code to (exit_code, signal) as native does:
 * codes 129..192 are taken as death by signal code-128. */
int sbx_oci_signal_of(int code);

/* First meaningful line of engine output (trimmed, "Error: " and similar
 * prefixes removed) into out. */
void sbx_oci_first_line(const char *text, size_t len, char *out, size_t cap);

/* Trim leading and trailing white space in place; returns s. */
char *sbx_oci_trim(char *s);

/* ---- client processes (oci_proc.c) ---------------------------------------- */

/* Full path of prog (searched in $PATH unless it has a slash) into out. */
bool sbx_oci_which(const char *prog, char *out, size_t cap);
/* Spawn argv (looked up in PATH) with the given stdio, all other fds closed,
 * default signal state, in its own process group. 0 or -errno. */
int sbx_oci_spawn(char *const *argv, int in, int out, int err, pid_t *pid, int *pidfd);

typedef struct sbx_oci_client sbx_oci_client;
/* Called on timeout/cancel, then every retry interval until the client has
 * exited: stop what the client runs (e.g. `ENGINE kill`). */
typedef void (*sbx_oci_kill_fn)(void *ctx, sbx_oci_client *c);

struct sbx_oci_client {
	/* in: l.out/l.err tee, capture and limit, l.deadline_ns, l.cancel_fd;
	 * the rest of the loop is set by sbx_oci_client_run. out: l.wstatus,
	 * l.timed_out, l.cancelled, the captured output. */
	sbx_loop l;
	bool want_mark;	      /* hold stderr back until the wrapper's marker line */
	sbx_oci_kill_fn kill; /* NULL: SIGKILL the client */
	void *kill_ctx;
	/* out */
	bool seen_mark;
	long mark_pid; /* pid (inside) the wrapper reported, 0 if none */
	sbx_buf held;  /* stderr before the marker: the engine's own messages */
};

/* Nothing set: no streams kept, no deadline, no cancel, SIGKILL to stop. */
void sbx_oci_client_init(sbx_oci_client *c);

/* What a user's command (run, exec) asked for its output and its end. */
typedef struct sbx_oci_io {
	int stdout_fd, stderr_fd; /* tee, -1: none */
	bool capture;
	uint64_t limit;	     /* per stream */
	uint64_t timeout_ms; /* from t0; 0: none */
	int cancel_fd;
} sbx_oci_io;

/* Init c for a user's command run through the wrapper: io's streams,
 * deadline and cancel, and kill(kill_ctx, c) to stop it. */
void sbx_oci_client_attach(sbx_oci_client *c, const sbx_oci_io *io, uint64_t t0,
			   sbx_oci_kill_fn kill, void *kill_ctx);

/* Spawn argv with stdin in (-1: /dev/null) and supervise it (core/loop.h)
 * until it has exited and its output is drained. Returns 0, or a negative
 * sbx error (the client is killed and reaped all the same). */
int sbx_oci_client_run(sbx_oci_client *c, char *const *argv, int in, const char *engine,
		       sbx_error *err);
void sbx_oci_client_free(sbx_oci_client *c);

/* The command's wait status as the client passes it on: its exit code,
 * where 129..192 (128+N) is death by signal N. */
int sbx_oci_cmd_wstatus(int client_wstatus);

/* Run a short engine command to completion: stdout captured up to out_max
 * bytes, stderr up to 8K, killed after timeout_ms. 0 with *o filled, or a
 * negative sbx error (binary missing, ...). */
typedef struct sbx_oci_out {
	int code; /* 128+N on signal, as sbx_oci_code */
	bool timed_out;
	bool out_truncated;
	sbx_buf out, err;
} sbx_oci_out;

int sbx_oci_cmd(const char *engine, char *const *argv, int in, uint64_t out_max,
		uint64_t timeout_ms, sbx_oci_out *o, sbx_error *err);
void sbx_oci_out_free(sbx_oci_out *o);

/* ---- host facts (oci_host.c) ---------------------------------------------- */

/* Convenience: argv after ENGINE and its global flags, NULL-terminated. */
int sbx_oci_simple(const char *engine, const char *const *args, uint64_t timeout_ms, sbx_oci_out *o,
		   sbx_error *err);

/* Validate the engine name. 0 or -SBX_E_INVALID. */
int sbx_oci_check_engine(const char *engine, sbx_error *err);
/* The runtime podman must use on this host (NULL: its default), or an
 * error when the default cannot work and no alternative is installed. */
int sbx_oci_runtime(const char *engine, const char **runtime, sbx_error *err);
/* Fill h for cfg (workspace resolved and stat'ed). */
int sbx_oci_host_for(const char *engine, const sbx_config *cfg, sbx_oci_host *h, char *ws_buf,
		     size_t ws_cap, sbx_error *err);
/* After an engine client failed: the most useful one-line explanation
 * (engine unreachable, image missing, else the engine's own message). */
int sbx_oci_diagnose(const char *engine, const char *image, const char *what, const char *msg,
		     sbx_error *err);
/* State of container NAME: 1 running, 0 exists but not running, -1 does
 * not exist, -2 could not tell. */
int sbx_oci_state(const char *engine, const char *cname);

/* Remove container cname, whatever its state; best effort, errors ignored. */
void sbx_oci_remove(const char *engine, const sbx_oci_host *h, const char *cname);
/* Sandbox default exec output cap and file size cap, as native. */
#define SBX_OCI_OUTPUT_DEFAULT (100u << 10)
#define SBX_OCI_FILE_DEFAULT (10ull << 20)

/* "sbx-<name>" into out; 0 or -SBX_E_INVALID. */
int sbx_oci_cname(const char *name, char *out, size_t cap, sbx_error *err);

#endif
