/* Per-sandbox cgroups: memory, cpu and pids, on v2 where the controller is
 * on the unified hierarchy, on v1 where the host still has it there. */
#ifndef SBX_CGROUP_H
#define SBX_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/cgroup_host.h" /* SBX_CG_MEMORY, _CPU, _PIDS, SBX_CG_N */
#include "sbx.h"

typedef struct sbx_cg_limits {
	uint64_t memory_bytes; /* 0: unlimited */
	uint32_t cpu_millis;   /* 0: unlimited */
	uint32_t pids_max;     /* 0: unlimited */
} sbx_cg_limits;

typedef struct sbx_cgroup {
	char name[32];		       /* "sbx-<creator pid>-<8 hex>" */
	int version[SBX_CG_N];	       /* 0 (controller unavailable), 1 or 2 */
	int dirfd[SBX_CG_N];	       /* the sandbox's cgroup dir per controller */
	char path[SBX_CG_N][PATH_MAX]; /* its absolute path */
	int v2_fd;		       /* the unified sandbox cgroup, or -1 */
	bool all_v2;		       /* every available controller is on v2 */
} sbx_cgroup;

/* Create the sandbox's cgroups beneath `parent` (NULL: the caller's own
 * cgroup; absolute: from each hierarchy's root; relative: beneath the
 * caller's cgroup) and write the limits. On failure nothing is left. */
int sbx_cgroup_create(sbx_cgroup *cg, const char *parent, const sbx_cg_limits *lim, sbx_error *err);

/* Move pid into the v2 cgroup unless it joined it with CLONE_INTO_CGROUP
 * (joined_v2). v1 cgroups the child joins itself (init.c). */
int sbx_cgroup_attach(sbx_cgroup *cg, pid_t pid, bool joined_v2, sbx_error *err);

/* Move the running process pid (all its threads) into every cgroup of the
 * sandbox, v1 and v2: a zygote's child, forked outside them. */
int sbx_cgroup_move(sbx_cgroup *cg, pid_t pid, sbx_error *err);

/* Open the "tasks" file of every v1 controller cgroup (write-only), for the
 * child to join itself. Returns how many fds were stored (at most max), or
 * -SBX_E_CGROUP with err (none left open). */
int sbx_cgroup_v1_task_fds(const sbx_cgroup *cg, int *fds, int max, sbx_error *err);

/* Is any of memory, cpu, pids on the v2 hierarchy on this host? */
bool sbx_cgroup_host_any_v2(void);

/* Kill every process in the sandbox's cgroups (cgroup.kill on v2, SIGKILL
 * of each listed pid on v1). Returns a short word saying how. */
const char *sbx_cgroup_kill(sbx_cgroup *cg);

/* Was anything in the cgroup killed by the OOM killer? */
bool sbx_cgroup_oom_killed(const sbx_cgroup *cg);

/* CPU weight relative to other sandboxes: low for a pool's sandboxes
 * while they are made and wait, normal once handed out. Best effort: a
 * failure leaves the weight as it was. */
void sbx_cgroup_set_weight(sbx_cgroup *cg, bool low);

/* OOM kills so far in the memory cgroup at dir (v1 or v2), -1 if unknown. */
long sbx_cgroup_oom_count_at(const char *dir);

/* The one kill-and-rmdir policy for a sandbox's cgroup dir (used by
 * destroy, by the clean-up after a dead supervisor and by the sweep):
 * rmdir; while that fails with EBUSY (tasks still listed: exiting, or
 * alive), kill them all (cgroup.kill where the kernel has it, else SIGKILL
 * to each pid in cgroup.procs), wait 10 ms and try again, for
 * SBX_CG_REMOVE_MS in all at most. dirfd: the dir, or -1 (opened here when
 * needed). 0 (removed, or already gone), or a negative sbx error. */
#define SBX_CG_REMOVE_MS 10000
int sbx_cgroup_remove(int dirfd, const char *path, sbx_error *err);

/* Remove the cgroups (sbx_cgroup_remove) and close the fds. Safe on a
 * zeroed/failed cgroup and twice. */
void sbx_cgroup_destroy(sbx_cgroup *cg);

/* Initialise fds to -1 so destroy is safe before create. */
void sbx_cgroup_init(sbx_cgroup *cg);

/* Compare our discovery of controller mount points with libcgroup's.
 * 0 if they agree; -SBX_E_CGROUP with the difference in err. */
int sbx_cgroup_crosscheck(sbx_error *err);

/* The one sweep (sbx cleanup, a pool daemon at start): every sbx-<pid>-<hex>
 * cgroup of every hierarchy (v1 and cgroup2) that no process outside it
 * holds an fd on (its owner is gone, however it died) is killed and removed
 * (sbx_cgroup_remove), processes in it or not. Cgroups of live owners
 * (concurrent sbx processes, supervisors of any state dir) are left alone.
 * Returns how many cgroup dirs were removed. */
int sbx_cgroup_sweep(void);

/* Does a live process outside the sbx cgroup at path hold an fd on it (or
 * is path not an sbx cgroup)? The sweep's test, for one cgroup. */
bool sbx_cgroup_owned(const char *path);

/* The sbx cgroup dirs process pid holds fds on (at most max paths into
 * out; each once): a supervisor's cgroups, from the kernel. */
int sbx_cgroup_held_by(pid_t pid, char (*out)[PATH_MAX], int max);

/* For `sbx check` and debug: describe controller placement ("memory v1 ..."). */
const char *sbx_cgroup_ctrl_name(int ctrl);
int sbx_cgroup_host_version(int ctrl, const char **mount, const char **own);

#endif
