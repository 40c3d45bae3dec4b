/* The host's cgroup layout, from the texts of /proc/self/mountinfo,
 * /proc/self/cgroup and the v2 root's cgroup.controllers: pure parsing, no
 * I/O (core/cgroup.c reads the files, once per process). */
#ifndef SBX_CGROUP_HOST_H
#define SBX_CGROUP_HOST_H

#include <limits.h>
#include <stddef.h>

/* The controllers sbx uses. */
enum { SBX_CG_MEMORY, SBX_CG_CPU, SBX_CG_PIDS, SBX_CG_N };

typedef struct sbx_cg_host {
	int version[SBX_CG_N];		/* 0 (not available), 1 or 2 */
	char mount[SBX_CG_N][PATH_MAX]; /* the hierarchy's mount point */
	char own[SBX_CG_N][PATH_MAX];	/* our cgroup, relative to the mount */
} sbx_cg_host;

/* The mount point of the first cgroup2 mount in mountinfo (octal escapes
 * such as \040 undone) into out. 0, or -1 if there is none or it does not
 * fit in cap. */
int sbx_cg_v2_mount(const char *mountinfo, char *out, size_t cap);

/* Where memory, cpu and pids are. A controller is on v1 where a "cgroup"
 * mount of its hierarchy's root ("/") lists it among its options (the
 * first such mount) and /proc/self/cgroup has our path in that hierarchy;
 * otherwise on v2 when the first cgroup2 mount exists and v2_controllers
 * (that mount's cgroup.controllers; NULL if unknown) lists it, with our
 * path from the "0::" line ("/" without one); otherwise unavailable.
 * Controller names are matched whole ("cpu" is not "cpuacct"). Lines that
 * do not parse are skipped; a NULL text reads as empty. Returns how many
 * controllers are available. */
int sbx_cg_host_parse(const char *mountinfo, const char *proc_cgroup, const char *v2_controllers,
		      sbx_cg_host *h);

#endif
