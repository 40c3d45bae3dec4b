/* Where long-lived sandboxes keep their config and runtime state. */
#ifndef SBX_STORE_H
#define SBX_STORE_H

#include <limits.h>
#include <stdbool.h>
#include "base/buf.h"
#include "base/procfs.h"
#include "core/cgroup.h"
#include "sbx.h"

#define SBX_STORE_MAX_ALLOW 256
#define SBX_STORE_MAX_PUBLISH 64

typedef struct sbx_paths {
	char name[72];
	char dir[PATH_MAX];    /* $SBX_STATE_DIR/sandboxes/NAME */
	char config[PATH_MAX]; /* .../config */
	char lock[PATH_MAX];   /* .../lock */
	char sup[PATH_MAX];    /* .../supervisor: write-locked by the live supervisor */
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
	char **net_allow, **net_publish; /* NULL-terminated, like env */
	size_t n_net_allow, n_net_publish;
	char net_dns[64]; /* "" = the host's resolver */
	uint64_t idle_timeout_ms;
	int64_t created;
	bool own_workspace;
} sbx_sbconf;

/* Copy cfg's values into c (strings copied). */
int sbx_sbconf_from(sbx_sbconf *c, const sbx_config *cfg, sbx_error *err);
/* Write / read p->config (written whole to a temporary file, then renamed).
 * load: SBX_E_NOTFOUND if there is no config, else as sbx_sbconf_parse. */
int sbx_sbconf_save(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err);
int sbx_sbconf_load(const sbx_paths *p, sbx_sbconf *c, sbx_error *err);
void sbx_sbconf_free(sbx_sbconf *c); /* safe on a failed load and twice */

/* The config file, without I/O. One key=value per line, "\\" and "\n"
 * escaped in values; "env", "allow" and "publish" repeat, once per entry,
 * in order (at most SBX_STORE_MAX_ALLOW and SBX_STORE_MAX_PUBLISH; their
 * entries and "dns" printable ASCII without spaces, at most 300 bytes, that
 * parse as base/netspec.h's --allow, --publish and --dns, and only with
 * net=egress).
 * format appends c's file text to out (SBX_E_SYSTEM when out of memory).
 * parse fills c from text (len bytes, no NUL needed): keys it does not know
 * are skipped (a newer sbx may add some), absent ones keep the defaults of
 * sbx_config_init. Anything else that is not what format writes fails with
 * SBX_E_STATE and the line in the message: an empty file, no "version=1",
 * a last line without its newline (truncated), a line without '=', a key
 * given twice, a number that is not decimal digits or out of the field's
 * range, an unknown word (net, workspace_mode), a bad escape, a NUL byte, a
 * network entry as above that is not, too many of them.
 * An env entry without '=' fails with SBX_E_INVALID, a value too long for
 * its field too. On failure c owns nothing. */
int sbx_sbconf_format(const sbx_sbconf *c, sbx_buf *out, sbx_error *err);
int sbx_sbconf_parse(const char *text, size_t len, sbx_sbconf *c, sbx_error *err);

/* Runtime state of a started sandbox, written by its supervisor. */
typedef struct sbx_sbstate {
	pid_t sup_pid;
	uint64_t sup_start; /* start time of sup_pid (guards against pid reuse) */
	pid_t init_pid;
	int64_t started;
	char cg[SBX_CG_N][PATH_MAX];
} sbx_sbstate;

/* Write / read p->state. load: SBX_E_NOTFOUND if there is none, else as
 * sbx_sbstate_parse. */
int sbx_sbstate_save(const sbx_paths *p, const sbx_sbstate *s, sbx_error *err);
int sbx_sbstate_load(const sbx_paths *p, sbx_sbstate *s, sbx_error *err);
/* The state file, without I/O: sup_pid, sup_start, init_pid, started (all
 * required) and one "cgroup" line per cgroup (at most SBX_CG_N), escaped as
 * in the config file. parse refuses what sbx_sbconf_parse refuses, with
 * SBX_E_STATE; cgroup paths land in s->cg in the order of the file. */
int sbx_sbstate_format(const sbx_sbstate *s, sbx_buf *out, sbx_error *err);
int sbx_sbstate_parse(const char *text, size_t len, sbx_sbstate *s, sbx_error *err);
/* Is the supervisor recorded in the state alive? Advisory only: the state
 * file may be stale or corrupt; sbx_sup_holder is what the kernel says. */
bool sbx_sbstate_alive(const sbx_sbstate *s);

/* Liveness from the kernel: the supervisor holds a POSIX write lock on
 * p->sup for its whole life (taken by sbx_sup_lock, released by the kernel
 * when it dies, not inherited by its children). sbx_sup_lock: the fd to
 * keep open, or a negative sbx error (SBX_E_STATE if another supervisor
 * holds it). sbx_sup_holder: the pid holding the lock (F_GETLK), or 0. */
int sbx_sup_lock(const sbx_paths *p, sbx_error *err);
pid_t sbx_sup_holder(const sbx_paths *p);
/* Remove what a dead sandbox left: cgroup dirs, socket, state, run dir. */
void sbx_sbstate_cleanup(const sbx_paths *p, const sbx_sbstate *s);

/* Make the sandbox's dir (and the state root's sandboxes/ as needed) and
 * take its lock: the lock fd, or -SBX_E_EXISTS if the name is taken, or
 * another negative sbx error. */
int sbx_sbdir_create(const sbx_paths *p, sbx_error *err);

/* Exclusive lock on the sandbox (create/start/stop/rm). fd or -errno
 * (-EISDIR etc. when "lock" is not a regular file; never follows a
 * symlink). */
int sbx_lock(const sbx_paths *p);

/* Remove a tree (or a file) without following symlinks, fd-relative, at
 * any depth with a bounded number of fds; mounts inside are detached, never
 * entered. 0 (also when absent) or -errno. */
int sbx_rm_tree(const char *path);
int sbx_rm_tree_at(int dirfd, const char *name);

#endif
