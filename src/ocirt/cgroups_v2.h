/* linux.resources on cgroup v2 (for the controllers not on a v1 hierarchy). */
#ifndef SBX_OCIRT_CGROUPS_V2_H
#define SBX_OCIRT_CGROUPS_V2_H

#include <stdint.h>
#include "base/util.h"
#include "ocirt/spec.h"

enum {
	SBX_OCI_CG_MEMORY = 1,
	SBX_OCI_CG_CPU = 2,
	SBX_OCI_CG_CPUSET = 4,
	SBX_OCI_CG_PIDS = 8,
};

/* The controllers r sets a limit for (SBX_OCI_CG_* bits). */
unsigned sbx_oci_cg_wanted(const sbx_oci_resources *r);
/* The controllers named in a cgroup.controllers / subtree_control text. */
unsigned sbx_oci_cg_v2_parse_list(const char *text);
/* "+memory +cpu ..." for the bits of mask into out. -1 if it does not fit. */
int sbx_oci_cg_v2_enable_text(unsigned mask, char *out, size_t cap);

/* memory.swap.max from the OCI memory + swap total: "max" for -1 (or
 * absent with no limit), swap - limit otherwise. -1 when swap is set
 * without a limit or is below it. */
int sbx_oci_cg_v2_swap(int64_t limit, int64_t swap, char *out, size_t cap);

/* Write into dir the limits of r for the controllers in mask:
 * memory.max, memory.low, memory.swap.max; cpu.weight (from shares),
 * cpu.max "QUOTA PERIOD" (quota -1/absent: "max"; period absent: 100000);
 * cpuset.cpus, cpuset.mems; pids.max. swappiness, disableOOMKiller and
 * kernel memory have no v2 file and are ignored (a debug line). 0, or
 * -SBX_E_CGROUP / -SBX_E_INVALID with err. */
int sbx_oci_cg_v2_apply(const char *dir, unsigned mask, const sbx_oci_resources *r, sbx_error *err);

#endif
