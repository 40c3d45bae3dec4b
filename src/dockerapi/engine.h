/* The Docker API server's engine: containers and execs on native sbx
 * sandboxes. A container is an owned sandbox (taken from the server's warm
 * pool when its options match the pool's, else made for it) whose main
 * process is an exec of its command; the container lives while that
 * process runs. Its output goes to a bounded in-memory log that attach and
 * logs read. Execs run in the container's sandbox. Thread-safe: one lock
 * for the tables, one per container. */
#ifndef SBX_DAPI_ENGINE_H
#define SBX_DAPI_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "sbx.h"
#include "base/buf.h"
#include "base/util.h"
#include "dockerapi/ctr_log.h"
#include "dockerapi/image.h"
#include "dockerapi/ports.h"
#include "dockerapi/proc.h"

#define DAPI_POOLS 2

typedef enum {
	DAPI_CREATED,
	DAPI_RUNNING,
	DAPI_EXITED,
	DAPI_REMOVING,
} dapi_state;

/* What POST /containers/create asked for (dapi_spec_parse). */
typedef struct dapi_spec {
	char *name; /* "" : generated */
	char *image;
	char **cmd;	   /* NULL: the image's */
	char **entrypoint; /* NULL: the image's */
	bool entrypoint_set;
	char **env;
	char *workdir;
	char *user;
	char *hostname;
	char **label_keys, **label_vals;
	size_t n_labels;
	bool tty, open_stdin, stdin_once;
	/* HostConfig */
	uint64_t memory;     /* 0: the server's default */
	int64_t memory_swap; /* accepted; -1 unlimited */
	uint32_t cpu_millis; /* 0: the server's default */
	uint32_t pids;	     /* 0: the server's default */
	char *network_mode;  /* "none", "default", "bridge", ... */
	dapi_port *ports;    /* PortBindings, NULL: none */
	size_t n_ports;
	const char **publish; /* ports[i].publish: the sandbox's net_publish */
	char *bind_src;	      /* the one bind on /workspace, NULL: none */
	bool bind_ro;
	uint64_t tmp_size; /* Tmpfs {"/tmp": "size=..."}; 0: default */
	bool readonly_root;
	bool auto_remove;
} dapi_spec;

void dapi_spec_free(dapi_spec *s);
struct sbx_jval;
/* Docker's zero value: null, false, 0, "", [], or an object of such. */
bool dapi_json_zero(const struct sbx_jval *v);
/* body as a JSON object of at most max_values values (sbx_jparse_max). */
int dapi_json_object(const char *body, size_t len, size_t max_values, struct sbx_jval **out,
		     sbx_error *err);
/* A JSON array of strings (no NUL inside) into *out (NULL: null). */
int dapi_json_strs(const struct sbx_jval *v, const char *what, char ***out, sbx_error *err);
/* Parse a create body: 0, or -SBX_E_INVALID (400) with err naming the
 * field. Unknown fields are accepted only with Docker's zero value. */
int dapi_spec_parse(const char *body, size_t len, dapi_spec *s, sbx_error *err);

typedef struct dapi_engine dapi_engine;

typedef struct dapi_ctr {
	dapi_engine *eng;
	int refs; /* under eng->mu */
	char id[65];
	char name[128]; /* without the leading '/' */
	dapi_spec spec;
	dapi_image img;
	char **argv; /* entrypoint + cmd */
	char **env;  /* image env + spec env */
	int64_t created_ns;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	dapi_state state;
	sbx_pool *pool;		 /* its sandbox is that pool's, NULL: made for it */
	sbx_config cfg;		 /* the sandbox's (strings borrowed from spec/img/eng) */
	struct sbx_sbconf *conf; /* a sandbox made for it (not the pool's): its config */
	sbx_sandbox *sb;	 /* while created or running, NULL once exited */
	int sb_users;		 /* execs running in sb */
	bool py_busy; /* one process at a time runs through the pre-started interpreter */
	struct dapi_exec *execs;
	dapi_proc main;	      /* the main process while it runs */
	int stdin_r, stdin_w; /* the main process's stdin pipe (OpenStdin), -1 */
	bool stdin_taken;     /* one attach owns stdin */
	int exit_code;
	bool oom_killed;
	char error[256];
	int64_t started_ns, finished_ns;
	uint64_t restarts;
	uint64_t exits; /* count of main-process ends (wait next-exit) */
	bool pump_running;
	bool removed;
	bool remove_pending; /* a remove killed it: its sandbox goes, no reaping */
	dapi_log log;
} dapi_ctr;

typedef struct dapi_exec {
	struct dapi_exec *next;
	char id[65];
	dapi_ctr *ctr; /* referenced */
	char **argv, **env;
	char *workdir;
	bool tty, attach_stdin, attach_stdout, attach_stderr;
	int stdin_w; /* its stdin pipe between begin and stream, -1 */
	/* under ctr->mu */
	bool running, ended, started;
	int exit_code;
	dapi_proc proc;
} dapi_exec;

typedef struct dapi_opts {
	uint32_t pool_size;
	const char *image_dir;
	sbx_config defaults; /* limits for containers that set none */
	const char *preload;
	uint32_t max_total; /* the pool's cap; 0: its default */
	bool pool_fork;
} dapi_opts;

struct dapi_engine {
	dapi_opts opts;
	pthread_mutex_t mu;
	dapi_ctr **ctrs;
	size_t n_ctrs, cap_ctrs;
	pthread_cond_t cv;	     /* pumps ended */
	int pumps;		     /* pump threads running */
	sbx_pool *pools[DAPI_POOLS]; /* default network, none; NULL: no pool */
	/* The rootfs cannot be idmapped here (docs/runtime.md): roots are
	 * read-only, and why. */
	bool no_writable_root;
	char why_ro[256];
	sbx_config pool_tmpl; /* the pools' (net aside) */
};

int dapi_engine_init(dapi_engine *e, const dapi_opts *o, sbx_error *err);
/* Kill and remove every container, stop the pool (idempotent). */
void dapi_engine_stop(dapi_engine *e);
/* Stop, then free everything (no request may be in flight). */
void dapi_engine_free(dapi_engine *e);

/* A container by full id, unique id prefix or name (with or without '/'):
 * referenced (dapi_ctr_put), or NULL with err (404, or 400 ambiguous). */
dapi_ctr *dapi_ctr_get(dapi_engine *e, const char *ref, int *status, sbx_error *err);
void dapi_ctr_put(dapi_ctr *c);
/* Every container (referenced); free with dapi_ctr_put each + free. */
int dapi_ctr_all(dapi_engine *e, dapi_ctr ***out, size_t *n);

/* The handlers' operations: 0 or negative with err and *status. */
int dapi_ctr_create(dapi_engine *e, dapi_spec *spec, const char *name, dapi_ctr **out, int *status,
		    sbx_error *err);
int dapi_ctr_start(dapi_ctr *c, int *status, sbx_error *err);
int dapi_ctr_kill(dapi_ctr *c, int sig, int *status, sbx_error *err);
/* SIGTERM (or the image's stop signal), then after t seconds SIGKILL;
 * returns when it has exited. */
int dapi_ctr_stop(dapi_ctr *c, int64_t t, int *status, sbx_error *err);
int dapi_ctr_restart(dapi_ctr *c, int64_t t, int *status, sbx_error *err);
int dapi_ctr_remove(dapi_ctr *c, bool force, int *status, sbx_error *err);
/* Wait for a condition: "not-running" (default), "next-exit", "removed";
 * deadline_ns 0: none; *code the exit status. cancel_fd readable (the
 * client went away) ends the wait with -SBX_E_STATE. */
int dapi_ctr_wait(dapi_ctr *c, const char *cond, int cancel_fd, int *code, char *errmsg,
		  size_t errcap, int *status, sbx_error *err);
const char *dapi_state_name(dapi_state s);

/* Followers: an eventfd written on new output and at the end of the run. */
int dapi_ctr_follow(dapi_ctr *c, dapi_follower *f);
void dapi_ctr_unfollow(dapi_ctr *c, dapi_follower *f);

/* Execs. */
int dapi_exec_create(dapi_ctr *c, const char *body, size_t len, dapi_exec **out, int *status,
		     sbx_error *err);
/* Lookup by id: the exec, its container referenced (dapi_ctr_put). */
dapi_exec *dapi_exec_get(dapi_engine *e, const char *id);
void dapi_exec_free_all(dapi_ctr *c);
void dapi_exec_free(dapi_exec *x);

/* Internal to the engine's files. */
int dapi_ctr_sandbox_get(dapi_ctr *c, sbx_error *err); /* c->mu held: c->sb set */
int dapi_ctr_stdin_pipe(dapi_ctr *c, sbx_error *err);  /* c->mu held */

#endif
