/* The container's cgroups: linux.cgroupsPath and linux.resources on
 * cgroup v1 (each hierarchy) and v2. */
#ifndef SBX_OCIRT_CGROUPS_H
#define SBX_OCIRT_CGROUPS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/buf.h"
#include "ocirt/spec.h"

#define SBX_OCI_CG_MAX 16

/* The directories of one container, absolute host paths, one per
 * hierarchy (v1 controllers and/or the v2 mount). */
typedef struct sbx_oci_cg {
	size_t n;
	struct {
		int version;   /* 1 or 2 */
		char name[64]; /* v1: the hierarchy's controllers ("cpu,cpuacct"); v2: "" */
		unsigned made; /* how many components of path, from the leaf up, create
				  made (destroy removes those, when empty) */
		char path[PATH_MAX];
	} dir[SBX_OCI_CG_MAX];
} sbx_oci_cg;

/* Where the container's cgroups go, and make them: cgroupsPath (absolute or
 * relative; absent: "sbx-oci/ID") is taken beneath the cgroup the runtime
 * itself runs in, in every hierarchy the runtime is in (the host's
 * hierarchy roots are never written). systemd: --systemd-cgroup was given
 * and cgroupsPath is "slice:prefix:name" (mapped to slice/prefix-name.scope
 * beneath the same place). Limits from s->resources written (memory,
 * cpu, cpuset, pids, devices on v1; the v2 equivalents, devices on v2
 * refused unless allow-all). Unsupported resources (blkio, hugetlb,
 * network, rdma, unified) are refused before anything is made. On failure
 * nothing is left. 0, or -SBX_E_INVALID/-SBX_E_SETUP with err. */
int sbx_oci_cg_create(const sbx_oci_spec *s, const char *id, bool systemd, sbx_oci_cg *cg,
		      sbx_error *err);
/* Move pid into every directory. */
int sbx_oci_cg_attach(const sbx_oci_cg *cg, pid_t pid, sbx_error *err);
/* The host pids in the container's cgroup (from one hierarchy that has
 * them: v2, else pids, else memory, else the first). *pids malloc'd. */
int sbx_oci_cg_pids(const sbx_oci_cg *cg, pid_t **pids, size_t *n, sbx_error *err);
/* Send sig to every process of the cgroup (a few passes, until none new). */
int sbx_oci_cg_signal(const sbx_oci_cg *cg, int sig, sbx_error *err);
/* SIGKILL whatever remains, then remove the directories (leaf first),
 * retrying until deadline_ns (monotonic; the kernel frees a cgroup a
 * little after its last task exits). Missing directories are fine. */
int sbx_oci_cg_destroy(const sbx_oci_cg *cg, uint64_t deadline_ns, sbx_error *err);
/* The state file's form: one line per directory, "VERSION NAME MADE PATH\n"
 * (NAME "-" for v2; PATH the rest of the line). from_text refuses
 * malformed lines, more than SBX_OCI_CG_MAX of them, paths not under
 * /sys/fs/cgroup or with "." / ".." / empty components, and MADE larger than
 * the components below /sys/fs/cgroup. */
int sbx_oci_cg_to_text(const sbx_oci_cg *cg, sbx_buf *b);
int sbx_oci_cg_from_text(const char *text, sbx_oci_cg *cg, sbx_error *err);

#endif
