/* Where long-lived sandboxes keep their config and runtime state. */
#ifndef SBX_STORE_H
#define SBX_STORE_H

#include <limits.h>
#include <stdbool.h>
#include "base/procfs.h"
#include "core/cgroup.h"
#include "sbx.h"

typedef struct sbx_paths {
	char name[72];
	char dir[PATH_MAX];    /* $SBX_STATE_DIR/sandboxes/NAME */
	char config[PATH_MAX]; /* .../config */
	char lock[PATH_MAX];   /* .../lock */
	char own_ws[PATH_MAX]; /* .../workspace */
	char run[PATH_MAX];    /* $SBX_RUN_DIR/NAME */
	char state[PATH_MAX];  /* .../state */
	char sock[PATH_MAX];   /* .../ctl.sock */
} sbx_paths;

/* Validate name and compute its paths. */
int sbx_paths_for(const char *name, sbx_paths *p, sbx_error *err);
const char *sbx_state_root(void); /* $SBX_STATE_DIR or /var/lib/sbx */
const char *sbx_run_root(void);	  /* $SBX_RUN_DIR or /run/sbx */

/* A sandbox's saved configuration (owns its strings). */
typedef struct sbx_sbconf {
	sbx_config cfg;
	char rootfs[PATH_MAX], workspace[PATH_MAX], cwd[PATH_MAX], hostname[64];
	char cgroup_parent[PATH_MAX];
	char driver[16], image[256]; /* "" = native / default image */
	char **env;
	size_t n_env;
	uint64_t idle_timeout_ms;
	int64_t created;
	bool own_workspace;
} sbx_sbconf;

/* Copy cfg's values into c (strings copied). */
int sbx_sbconf_from(sbx_sbconf *c, const sbx_config *cfg, sbx_error *err);
int sbx_sbconf_save(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err);
int sbx_sbconf_load(const sbx_paths *p, sbx_sbconf *c, sbx_error *err);
void sbx_sbconf_free(sbx_sbconf *c);

/* Runtime state of a started sandbox, written by its supervisor. */
typedef struct sbx_sbstate {
	pid_t sup_pid;
	uint64_t sup_start; /* start time of sup_pid (guards against pid reuse) */
	pid_t init_pid;
	int64_t started;
	char cg[SBX_CG_N][PATH_MAX];
} sbx_sbstate;

int sbx_sbstate_save(const sbx_paths *p, const sbx_sbstate *s);
int sbx_sbstate_load(const sbx_paths *p, sbx_sbstate *s); /* -ENOENT if none */
/* Is the supervisor recorded in the state alive? */
bool sbx_sbstate_alive(const sbx_sbstate *s);
/* Remove what a dead sandbox left: cgroup dirs, socket, state, run dir. */
void sbx_sbstate_cleanup(const sbx_paths *p, const sbx_sbstate *s);

/* Make the sandbox's dir (and the state root's sandboxes/ as needed) and
 * take its lock: the lock fd, or -SBX_E_EXISTS if the name is taken, or
 * another negative sbx error. */
int sbx_sbdir_create(const sbx_paths *p, sbx_error *err);

/* Exclusive lock on the sandbox (create/start/stop/rm). fd or -errno. */
int sbx_lock(const sbx_paths *p);

/* Remove a directory tree without following symlinks. */
int sbx_rm_tree(const char *path);

#endif
