/* linux.resources on one cgroup v1 hierarchy. */
#ifndef SBX_OCIRT_CGROUPS_V1_H
#define SBX_OCIRT_CGROUPS_V1_H

#include <stdbool.h>
#include <stdint.h>
#include "base/util.h"
#include "ocirt/spec.h"

/* Write into dir (a new cgroup of the hierarchy whose controllers are
 * `name`, e.g. "cpu,cpuacct") the limits of r that belong to it:
 *   memory: limit -> memory.limit_in_bytes, reservation ->
 *     memory.soft_limit_in_bytes, swap (memory + swap) ->
 *     memory.memsw.limit_in_bytes (refused when the kernel has no swap
 *     accounting), kernelTCP -> memory.kmem.tcp.limit_in_bytes when the file
 *     exists, kernel ignored (as runc 1.1), swappiness -> memory.swappiness,
 *     disableOOMKiller -> memory.oom_control;
 *   cpu: cpu.shares, cpu.cfs_period_us then cpu.cfs_quota_us,
 *     cpu.rt_period_us then cpu.rt_runtime_us;
 *   cpuset: cpuset.cpus, cpuset.mems;
 *   pids: pids.max (limit <= 0: "max");
 *   devices (only when r has rules): devices.deny "a", then each rule to
 *     devices.allow or devices.deny in order.
 * Values absent from r are not written. 0, or -SBX_E_CGROUP with err. */
int sbx_oci_cg_v1_apply(const char *dir, const char *name, const sbx_oci_resources *r,
			sbx_error *err);

/* Write value into file at dfd (the cgroup directory dir, named in the
 * message only). 0, or -SBX_E_CGROUP with err "cgroup DIR: write FILE
 * 'VALUE'" and the errno. Used for both cgroup versions. */
int sbx_oci_cg_put(int dfd, const char *dir, const char *file, const char *value, sbx_error *err);
/* sbx_oci_cg_put of v in decimal. */
int sbx_oci_cg_put_i64(int dfd, const char *dir, const char *file, int64_t v, sbx_error *err);

/* Whether the hierarchy's controllers (comma-separated) include ctrl. */
bool sbx_oci_cg_v1_has(const char *name, const char *ctrl);

#endif
