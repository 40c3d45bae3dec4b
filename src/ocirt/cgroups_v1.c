/* linux.resources on cgroup v1. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ocirt/cgroups_path.h"
#include "ocirt/cgroups_v1.h"

bool sbx_oci_cg_v1_has(const char *name, const char *ctrl)
{
	size_t cl = strlen(ctrl);
	for (const char *p = name; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == cl && memcmp(p, ctrl, l) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

int sbx_oci_cg_put(int dfd, const char *dir, const char *file, const char *value, sbx_error *err)
{
	sbx_error e = {0};
	if (sbx_write_fileat(dfd, file, value, &e) < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, e.sys_errno, "cgroup %s: write %s '%s'",
				      dir, file, value);
	return 0;
}

int sbx_oci_cg_put_i64(int dfd, const char *dir, const char *file, int64_t v, sbx_error *err)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRId64, v);
	return sbx_oci_cg_put(dfd, dir, file, s, err);
}

static bool exists(int dfd, const char *file)
{
	return faccessat(dfd, file, F_OK, 0) == 0;
}

static int memory(int dfd, const char *dir, const sbx_oci_resources *r, sbx_error *err)
{
	int rc = 0;
	if (r->mem_limit > 0 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "memory.limit_in_bytes", r->mem_limit, err)))
		return rc;
	if (r->mem_swap > 0) {
		if (!exists(dfd, "memory.memsw.limit_in_bytes"))
			return sbx_fail(err, SBX_E_CGROUP,
					"linux.resources.memory.swap: this kernel has no swap "
					"accounting (memory.memsw.limit_in_bytes)");
		if ((rc = sbx_oci_cg_put_i64(dfd, dir, "memory.memsw.limit_in_bytes", r->mem_swap,
					     err)))
			return rc;
	}
	if (r->mem_reservation > 0 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "memory.soft_limit_in_bytes", r->mem_reservation,
				     err)))
		return rc;
	if (r->mem_kernel > 0)
		sbx_debug("linux.resources.memory.kernel ignored (as runc 1.1)");
	if (r->mem_kernel_tcp > 0) {
		if (exists(dfd, "memory.kmem.tcp.limit_in_bytes")) {
			if ((rc = sbx_oci_cg_put_i64(dfd, dir, "memory.kmem.tcp.limit_in_bytes",
						     r->mem_kernel_tcp, err)))
				return rc;
		} else {
			sbx_debug("linux.resources.memory.kernelTCP ignored: no "
				  "memory.kmem.tcp.limit_in_bytes");
		}
	}
	if (r->mem_swappiness >= 0 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "memory.swappiness", r->mem_swappiness, err)))
		return rc;
	if (r->has_disable_oom_killer && r->disable_oom_killer &&
	    (rc = sbx_oci_cg_put(dfd, dir, "memory.oom_control", "1", err)))
		return rc;
	return 0;
}

static int cpu(int dfd, const char *dir, const sbx_oci_resources *r, sbx_error *err)
{
	int rc = 0;
	if (r->cpu_shares &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "cpu.shares", (int64_t)r->cpu_shares, err)))
		return rc;
	if (r->cpu_period &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "cpu.cfs_period_us", (int64_t)r->cpu_period, err)))
		return rc;
	if (r->cpu_quota > 0 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "cpu.cfs_quota_us", r->cpu_quota, err)))
		return rc;
	if (r->cpu_rt_period &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "cpu.rt_period_us", (int64_t)r->cpu_rt_period, err)))
		return rc;
	if (r->cpu_rt_runtime != -1 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "cpu.rt_runtime_us", r->cpu_rt_runtime, err)))
		return sbx_error_wrap(err, rc,
				      "linux.resources.cpu.realtimeRuntime (more than the parent "
				      "cgroup's realtime budget?)");
	return 0;
}

static int cpuset(int dfd, const char *dir, const sbx_oci_resources *r, sbx_error *err)
{
	int rc = 0;
	if (r->cpus && *r->cpus && (rc = sbx_oci_cg_put(dfd, dir, "cpuset.cpus", r->cpus, err)))
		return rc;
	if (r->mems && *r->mems && (rc = sbx_oci_cg_put(dfd, dir, "cpuset.mems", r->mems, err)))
		return rc;
	return 0;
}

static int devices(int dfd, const char *dir, const sbx_oci_resources *r, sbx_error *err)
{
	if (!r->n_devices)
		return 0;
	int rc = sbx_oci_cg_put(dfd, dir, "devices.deny", "a", err);
	for (size_t i = 0; rc == 0 && i < r->n_devices; i++) {
		char rule[64];
		if (sbx_oci_cg_devrule(&r->devices[i], rule, sizeof(rule)) < 0)
			return sbx_fail(err, SBX_E_INVALID,
					"linux.resources.devices[%zu]: bad rule", i);
		rc = sbx_oci_cg_put(
		    dfd, dir, r->devices[i].allow ? "devices.allow" : "devices.deny", rule, err);
	}
	return rc;
}

int sbx_oci_cg_v1_apply(const char *dir, const char *name, const sbx_oci_resources *r,
			sbx_error *err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, errno, "cgroup %s", dir);
	int rc = 0;
	if (sbx_oci_cg_v1_has(name, "memory") && (rc = memory(dfd, dir, r, err)) < 0)
		return rc;
	if (sbx_oci_cg_v1_has(name, "cpu") && (rc = cpu(dfd, dir, r, err)) < 0)
		return rc;
	if (sbx_oci_cg_v1_has(name, "cpuset") && (rc = cpuset(dfd, dir, r, err)) < 0)
		return rc;
	if (sbx_oci_cg_v1_has(name, "pids") && r->has_pids_limit) {
		rc = r->pids_limit <= 0
			 ? sbx_oci_cg_put(dfd, dir, "pids.max", "max", err)
			 : sbx_oci_cg_put_i64(dfd, dir, "pids.max", r->pids_limit, err);
		if (rc < 0)
			return rc;
	}
	if (sbx_oci_cg_v1_has(name, "devices") && (rc = devices(dfd, dir, r, err)) < 0)
		return rc;
	return 0;
}
