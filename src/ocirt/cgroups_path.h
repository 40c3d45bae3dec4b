/* Where the container's cgroups go: pure logic, no I/O (cgroups.c reads
 * /proc/self/mountinfo and /proc/self/cgroup and makes the directories). */
#ifndef SBX_OCIRT_CGROUPS_PATH_H
#define SBX_OCIRT_CGROUPS_PATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/util.h"
#include "ocirt/spec.h"

#define SBX_OCI_CG_NHIER 16	 /* hierarchies taken at most (= SBX_OCI_CG_MAX) */
#define SBX_OCI_CG_PATH_CAP 1024 /* bytes of a cgroupsPath (and of its mapping) */

/* One hierarchy the runtime is in: base is the runtime's own cgroup there,
 * an absolute host path (mount point + own path). */
typedef struct sbx_oci_cg_hier {
	int version;	   /* 1 or 2 */
	char name[64];	   /* v1: the mount's controllers ("cpu,cpuacct", "name=systemd"); v2: "" */
	bool base_is_root; /* base is the mount point itself */
	char base[PATH_MAX];
	char mnt[PATH_MAX]; /* the mount point (the hierarchy's root as this process sees it) */
} sbx_oci_cg_hier;

typedef struct sbx_oci_cg_layout {
	size_t n;
	sbx_oci_cg_hier h[SBX_OCI_CG_NHIER];
} sbx_oci_cg_layout;

/* Every hierarchy of proc_cgroup's lines ("ID:CONTROLLERS:PATH"): a v1 line
 * is matched with the "cgroup" mounts whose super options hold each of its
 * controllers, a "0::" line with the "cgroup2" mounts; of those whose root
 * is a prefix of PATH, the last one in mountinfo is taken (in a cgroup
 * namespace the host's mounts show a root of "/.." and binds of the
 * namespace's root are mounted over them): base = its mount point + the
 * rest of PATH. Lines without such a mount, or whose base is not under
 * /sys/fs/cgroup, are skipped. 0, or -SBX_E_CGROUP when no hierarchy is
 * found or a path is too long. */
int sbx_oci_cg_layout_parse(const char *mountinfo, const char *proc_cgroup, sbx_oci_cg_layout *out,
			    sbx_error *err);

/* --cgroup-parent: every hierarchy's base moved to parent, an absolute
 * path taken from the hierarchy's mount point ("/" is the mount point
 * itself, as runc takes an absolute cgroupsPath), or a relative one
 * beneath the runtime's own cgroup. Its components are checked as
 * cgroupsPath's are. 0 or -SBX_E_INVALID ("--cgroup-parent: ..."). */
int sbx_oci_cg_layout_reparent(sbx_oci_cg_layout *l, const char *parent, sbx_error *err);

/* The container's cgroup relative to the runtime's own one, without a
 * leading '/': cgroupsPath absent (NULL): "sbx-oci/ID"; absolute or
 * relative: the same components ("/testdir/x" and "testdir/x" give
 * "testdir/x"); systemd: "SLICE:PREFIX:NAME" -> the expanded slice
 * ("a-b.slice" -> "a.slice/a-b.slice"; "" or "-.slice": none), then
 * "PREFIX-NAME.scope" (NAME alone when PREFIX is ""; NAME as is when it
 * ends in ".slice"). Refused (-SBX_E_INVALID): empty result, "." or ".."
 * components, empty components ("a//b", a trailing '/'), control
 * characters, more than SBX_OCI_CG_PATH_CAP bytes, a systemd form without
 * exactly three fields or with a bad slice name. */
int sbx_oci_cg_relpath(const char *cgroups_path, const char *id, bool systemd, char *out,
		       size_t cap, sbx_error *err);

/* cgroup v2's cpu.weight for v1 cpu.shares (as runc: 1 + ((shares - 2) *
 * 9999) / 262142, shares clamped to 2..262144); 0 for shares 0 (absent). */
uint64_t sbx_oci_cg_v2_weight(uint64_t shares);

/* The v1 devices.allow/deny text of a rule: "c 1:3 rwm", "a *:* rwm". -1 if
 * cap is too small or the rule is malformed (type, access). */
int sbx_oci_cg_devrule(const sbx_oci_devrule *r, char *out, size_t cap);

/* Whether the rules, applied in order to a device cgroup, leave every device
 * allowed (no rules at all; or the last "a" rule allows and no deny comes
 * after it). */
bool sbx_oci_cg_devices_allow_all(const sbx_oci_devrule *r, size_t n);

/* The refusals decided from the config alone, before anything is made:
 * blockIO, hugepageLimits, network, rdma, unified ("linux.resources.blockIO
 * is not supported"); swappiness above 100; cpu realtime or device rules
 * that are not allow-all when cpu or devices are on v2 (cpu_v2,
 * devices_v2). 0 or -SBX_E_INVALID. */
int sbx_oci_cg_check(const sbx_oci_resources *r, bool cpu_v2, bool devices_v2, sbx_error *err);

#endif
