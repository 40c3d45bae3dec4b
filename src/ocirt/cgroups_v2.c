/* linux.resources on cgroup v2. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ocirt/cgroups_path.h"
#include "ocirt/cgroups_v1.h"
#include "ocirt/cgroups_v2.h"

static const struct {
	unsigned bit;
	const char *name;
} ctrls[] = {
    {SBX_OCI_CG_MEMORY, "memory"},
    {SBX_OCI_CG_CPU, "cpu"},
    {SBX_OCI_CG_CPUSET, "cpuset"},
    {SBX_OCI_CG_PIDS, "pids"},
};

unsigned sbx_oci_cg_wanted(const sbx_oci_resources *r)
{
	unsigned m = 0;
	if (r->mem_limit > 0 || r->mem_reservation > 0 || r->mem_swap > 0 ||
	    r->mem_swappiness >= 0 || (r->has_disable_oom_killer && r->disable_oom_killer) ||
	    r->mem_kernel_tcp > 0)
		m |= SBX_OCI_CG_MEMORY;
	if (r->cpu_shares || r->cpu_quota > 0 || r->cpu_period || r->cpu_rt_runtime != -1 ||
	    r->cpu_rt_period)
		m |= SBX_OCI_CG_CPU;
	if ((r->cpus && *r->cpus) || (r->mems && *r->mems))
		m |= SBX_OCI_CG_CPUSET;
	if (r->has_pids_limit)
		m |= SBX_OCI_CG_PIDS;
	return m;
}

unsigned sbx_oci_cg_v2_parse_list(const char *text)
{
	unsigned m = 0;
	for (const char *p = text; p && *p;) {
		p += strspn(p, " \t\n");
		size_t l = strcspn(p, " \t\n");
		for (size_t i = 0; l && i < ARRAY_LEN(ctrls); i++)
			if (strlen(ctrls[i].name) == l && memcmp(p, ctrls[i].name, l) == 0)
				m |= ctrls[i].bit;
		p += l;
	}
	return m;
}

int sbx_oci_cg_v2_enable_text(unsigned mask, char *out, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return -1;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(ctrls); i++) {
		if (!(mask & ctrls[i].bit))
			continue;
		int n = snprintf(out + o, cap - o, "%s+%s", o ? " " : "", ctrls[i].name);
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	return 0;
}

int sbx_oci_cg_v2_swap(int64_t limit, int64_t swap, char *out, size_t cap)
{
	int n;
	if (swap <= 0)
		n = snprintf(out, cap, "max");
	else if (limit <= 0 || swap < limit)
		return -1;
	else
		n = snprintf(out, cap, "%" PRId64, swap - limit);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int memory(int dfd, const char *dir, const sbx_oci_resources *r, sbx_error *err)
{
	int rc = 0;
	if (r->mem_limit > 0 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "memory.max", r->mem_limit, err)))
		return rc;
	if (r->mem_reservation > 0 &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "memory.low", r->mem_reservation, err)))
		return rc;
	if (r->mem_swap > 0) {
		char s[24];
		if (sbx_oci_cg_v2_swap(r->mem_limit, r->mem_swap, s, sizeof(s)) < 0)
			return sbx_fail(err, SBX_E_INVALID,
					"linux.resources.memory.swap: must be at least the memory "
					"limit, and needs one");
		if ((rc = sbx_oci_cg_put(dfd, dir, "memory.swap.max", s, err)))
			return rc;
	}
	if (r->mem_swappiness >= 0 || r->has_disable_oom_killer || r->mem_kernel > 0 ||
	    r->mem_kernel_tcp > 0)
		sbx_debug("cgroup v2: memory swappiness, disableOOMKiller, kernel and kernelTCP "
			  "ignored");
	return 0;
}

static int cpu(int dfd, const char *dir, const sbx_oci_resources *r, sbx_error *err)
{
	int rc = 0;
	if (r->cpu_shares &&
	    (rc = sbx_oci_cg_put_i64(dfd, dir, "cpu.weight",
				     (int64_t)sbx_oci_cg_v2_weight(r->cpu_shares), err)))
		return rc;
	if (r->cpu_quota > 0 || r->cpu_period) {
		char s[48];
		uint64_t period = r->cpu_period ? r->cpu_period : 100000;
		if (r->cpu_quota > 0)
			snprintf(s, sizeof(s), "%" PRId64 " %" PRIu64, r->cpu_quota, period);
		else
			snprintf(s, sizeof(s), "max %" PRIu64, period);
		if ((rc = sbx_oci_cg_put(dfd, dir, "cpu.max", s, err)))
			return rc;
	}
	return 0;
}

int sbx_oci_cg_v2_apply(const char *dir, unsigned mask, const sbx_oci_resources *r, sbx_error *err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, errno, "cgroup %s", dir);
	int rc = 0;
	if ((mask & SBX_OCI_CG_MEMORY) && (rc = memory(dfd, dir, r, err)) < 0)
		return rc;
	if ((mask & SBX_OCI_CG_CPU) && (rc = cpu(dfd, dir, r, err)) < 0)
		return rc;
	if (mask & SBX_OCI_CG_CPUSET) {
		if (r->cpus && *r->cpus &&
		    (rc = sbx_oci_cg_put(dfd, dir, "cpuset.cpus", r->cpus, err)))
			return rc;
		if (r->mems && *r->mems &&
		    (rc = sbx_oci_cg_put(dfd, dir, "cpuset.mems", r->mems, err)))
			return rc;
	}
	if ((mask & SBX_OCI_CG_PIDS) && r->has_pids_limit) {
		rc = r->pids_limit <= 0
			 ? sbx_oci_cg_put(dfd, dir, "pids.max", "max", err)
			 : sbx_oci_cg_put_i64(dfd, dir, "pids.max", r->pids_limit, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
