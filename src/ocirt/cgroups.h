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
 * itself runs in (or beneath parent, --cgroup-parent, when not NULL: see
 * sbx_oci_cg_layout_reparent; it must exist), in every hierarchy the runtime is in
 * (/proc/self/cgroup with the mounts of /proc/self/mountinfo under /sys/fs/cgroup: every v1
 * hierarchy, name=systemd included, and the v2 one). No file of the
 * runtime's own cgroup is written but v2's cgroup.subtree_control when a
 * limit needs a controller enabled there, and never one of a mount's root
 * cgroup; but a runtime that itself runs in a hierarchy's root cgroup makes
 * the container's directories beneath that root (its own cgroup), as runc
 * does for a relative path. In a cgroup namespace whose root is
 * bound over /sys/fs/cgroup/H (the validation suite's set-up) the own
 * cgroup is that mount, so an absolute path lands where the suite reads.
 * systemd: --systemd-cgroup was given and cgroupsPath is
 * "slice:prefix:name", mapped to SLICE-EXPANDED/prefix-name.scope beneath
 * the same place; the directories are made here (systemd is not asked).
 * An existing leaf is refused (-SBX_E_CGROUP), so destroy only ever removes
 * what create made. Known leftover: a parent made by one container's create
 * and used by a second one stays (empty) when the first is destroyed first. Limits from
 * s->resources: memory, cpu, cpuset, pids, devices on v1; on v2 for the controllers no v1 hierarchy
 * has (memory.max, memory.low, memory.swap.max, cpu.weight, cpu.max, cpuset, pids.max; see
 * cgroups_v1.h and cgroups_v2.h for the files and what is ignored: kernel
 * memory always, swappiness and disableOOMKiller on v2). Devices when no
 * v1 devices hierarchy exists (v2 would need a BPF program, not supported):
 * refused unless the rules leave every device allowed -- podman's and
 * containerd's usual deny-all-then-allow lists are refused there, honestly,
 * rather than run unenforced. Refused before anything is made
 * (-SBX_E_INVALID): blkio, hugetlb, network, rdma, unified ("linux.
 * resources.blockIO is not supported"), a bad cgroupsPath, realtime cpu on
 * v2, a limit whose controller this process has nowhere. On failure
 * nothing is left. 0, or -SBX_E_INVALID/-SBX_E_CGROUP with err. */
int sbx_oci_cg_create(const sbx_oci_spec *s, const char *id, bool systemd, const char *parent,
		      sbx_oci_cg *cg, sbx_error *err);
/* Move pid into every directory. */
int sbx_oci_cg_attach(const sbx_oci_cg *cg, pid_t pid, sbx_error *err);
/* The host pids in the container's cgroup and its sub-cgroups (from one
 * hierarchy: v2, else pids, else memory, else the first). *pids malloc'd
 * (NULL when none). */
int sbx_oci_cg_pids(const sbx_oci_cg *cg, pid_t **pids, size_t *n, sbx_error *err);
/* Send sig to every process of the cgroup and of its sub-cgroups (a few
 * passes, until a pass finds none new). With no freezer a pid read from
 * cgroup.procs may have exited and been reused before the kill: the window
 * is that of one read. */
int sbx_oci_cg_signal(const sbx_oci_cg *cg, int sig, sbx_error *err);
/* SIGKILL whatever remains, then remove the directories (sub-cgroups the
 * container made first, then the leaf, then the parents create made while
 * they are empty), retrying until deadline_ns (monotonic; the kernel frees
 * a cgroup a little after its last task exits; 0: one try). Missing
 * directories are fine. -SBX_E_CGROUP naming the one still busy. */
int sbx_oci_cg_destroy(const sbx_oci_cg *cg, uint64_t deadline_ns, sbx_error *err);
/* The state file's form: one line per directory, "VERSION NAME MADE PATH\n"
 * (NAME "-" for v2; PATH the rest of the line). from_text refuses
 * malformed lines, more than SBX_OCI_CG_MAX of them, paths not under
 * /sys/fs/cgroup or with "." / ".." / empty components, and MADE larger than
 * the components below /sys/fs/cgroup. */
int sbx_oci_cg_to_text(const sbx_oci_cg *cg, sbx_buf *b);
int sbx_oci_cg_from_text(const char *text, sbx_oci_cg *cg, sbx_error *err);

#endif
