/* config.json's linux object: namespaces, id mappings, sysctl, resources,
 * devices, paths, propagation, personality (seccomp: spec_seccomp.c). */
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include "ocirt/spec_json.h"

static const struct {
	const char *name;
	int kind;
} ns_names[] = {
    {"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},	 {"uts", CLONE_NEWUTS},	    {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP},
};

/* A string field that must be an absolute path when present. */
static int get_abs(oci_pctx *c, const sbx_jval *o, const char *key, char **out)
{
	int r = oci_get_str(c, o, key, out);
	if (r == 0 && *out && (*out)[0] != '/')
		r = oci_bad_key(c, key, "'%.200s' is not an absolute path", *out);
	return r;
}

static int parse_ns(oci_pctx *c, const sbx_jval *o, sbx_oci_spec *s, size_t i)
{
	sbx_oci_ns *ns = &s->namespaces[i];
	const sbx_jval *t = oci_field(o, "type");
	int r;
	if (o->type != SBX_J_OBJ)
		return oci_bad(c, "not an object");
	if ((r = oci_need(c, o, "type")) < 0)
		return r;
	if (t->type != SBX_J_STR)
		return oci_bad_key(c, "type", "not a string");
	ns->kind = 0;
	for (size_t k = 0; k < ARRAY_LEN(ns_names); k++)
		if (!strcmp(t->str, ns_names[k].name))
			ns->kind = ns_names[k].kind;
	if (!ns->kind && !strcmp(t->str, "time"))
		return oci_bad_key(c, "type", "time namespace not supported");
	if (!ns->kind)
		return oci_bad_key(c, "type", "unknown namespace '%.64s'", t->str);
	for (size_t j = 0; j < i; j++)
		if (s->namespaces[j].kind == ns->kind)
			return oci_bad_key(c, "type", "'%s' listed twice", t->str);
	if ((r = get_abs(c, o, "path", &ns->path)) < 0)
		return r;
	if (ns->path && !ns->path[0]) {
		free(ns->path);
		ns->path = NULL;
	}
	return 0;
}

static int parse_idmaps(oci_pctx *c, const sbx_jval *a, sbx_oci_idmap **out, size_t *n)
{
	*out = calloc(a->n ? a->n : 1, sizeof(**out));
	if (!*out)
		return oci_oom(c);
	*n = a->n;
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t old = oci_push_idx(c, i);
		const sbx_jval *o = &a->items[i];
		sbx_oci_idmap *m = &(*out)[i];
		if (o->type != SBX_J_OBJ)
			r = oci_bad(c, "not an object");
		else if ((r = oci_need(c, o, "containerID")) < 0 ||
			 (r = oci_need(c, o, "hostID")) < 0 || (r = oci_need(c, o, "size")) < 0 ||
			 (r = oci_get_u32(c, o, "containerID", &m->container_id, NULL)) < 0 ||
			 (r = oci_get_u32(c, o, "hostID", &m->host_id, NULL)) < 0 ||
			 (r = oci_get_u32(c, o, "size", &m->size, NULL)) < 0)
			;
		else if (m->size == 0)
			r = oci_bad_key(c, "size", "must be positive");
		else if ((uint64_t)m->container_id + m->size - 1 > UINT32_MAX ||
			 (uint64_t)m->host_id + m->size - 1 > UINT32_MAX)
			r = oci_bad_key(c, "size", "range past 2^32");
		oci_pop(c, old);
	}
	return r;
}

static int parse_devices(oci_pctx *c, const sbx_jval *a, sbx_oci_spec *s)
{
	s->devices = calloc(a->n ? a->n : 1, sizeof(*s->devices));
	if (!s->devices)
		return oci_oom(c);
	s->n_devices = a->n;
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t old = oci_push_idx(c, i);
		const sbx_jval *o = &a->items[i];
		sbx_oci_device *d = &s->devices[i];
		_cleanup_free_ char *type = NULL;
		uint32_t mode = 0;
		bool has_major = false, has_minor = false;
		if (o->type != SBX_J_OBJ)
			r = oci_bad(c, "not an object");
		else if ((r = oci_need(c, o, "type")) < 0 || (r = oci_need(c, o, "path")) < 0 ||
			 (r = oci_get_str(c, o, "type", &type)) < 0 ||
			 (r = get_abs(c, o, "path", &d->path)) < 0 ||
			 (r = oci_get_int(c, o, "major", 0, UINT32_MAX, &d->major, &has_major)) <
			     0 ||
			 (r = oci_get_int(c, o, "minor", 0, UINT32_MAX, &d->minor, &has_minor)) <
			     0 ||
			 (r = oci_get_u32(c, o, "fileMode", &mode, &d->has_mode)) < 0 ||
			 (r = oci_get_u32(c, o, "uid", &d->uid, &d->has_uid)) < 0 ||
			 (r = oci_get_u32(c, o, "gid", &d->gid, &d->has_gid)) < 0)
			;
		else if (strlen(type) != 1 || !strchr("cbup", type[0]))
			r = oci_bad_key(c, "type", "'%.64s' is not c, b, u or p", type);
		else if (type[0] != 'p' && (!has_major || !has_minor))
			r = oci_bad(c, "major and minor numbers needed");
		else if (d->has_mode && mode > 07777)
			r = oci_bad_key(c, "fileMode", "%u has more than permission bits", mode);
		if (r == 0) {
			d->type = type[0];
			d->mode = (mode_t)mode;
		}
		oci_pop(c, old);
	}
	return r;
}

/* Absolute paths, each. */
static int get_paths(oci_pctx *c, const sbx_jval *o, const char *key, char ***out, size_t *n)
{
	int r = oci_get_strv(c, o, key, out, n);
	for (size_t i = 0; r == 0 && i < *n; i++)
		if ((*out)[i][0] != '/') {
			size_t old = oci_push_key(c, key);
			oci_push_idx(c, i);
			r = oci_bad(c, "'%.200s' is not an absolute path", (*out)[i]);
			oci_pop(c, old);
		}
	return r;
}

static const struct {
	const char *name;
	unsigned long flags;
} propagations[] = {
    {"shared", MS_SHARED},
    {"slave", MS_SLAVE},
    {"private", MS_PRIVATE},
    {"unbindable", MS_UNBINDABLE},
    {"rshared", MS_SHARED | MS_REC},
    {"rslave", MS_SLAVE | MS_REC},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_propagation(oci_pctx *c, const sbx_jval *o, sbx_oci_spec *s)
{
	_cleanup_free_ char *p = NULL;
	int r = oci_get_str(c, o, "rootfsPropagation", &p);
	if (r < 0 || !p || !p[0])
		return r;
	for (size_t i = 0; i < ARRAY_LEN(propagations); i++)
		if (!strcmp(p, propagations[i].name)) {
			s->rootfs_propagation = propagations[i].flags;
			return 0;
		}
	return oci_bad_key(c, "rootfsPropagation", "unknown propagation '%.64s'", p);
}

static int parse_personality(oci_pctx *c, const sbx_jval *o, sbx_oci_spec *s)
{
	_cleanup_free_ char *domain = NULL;
	int r = oci_need(c, o, "domain");
	if (r == 0)
		r = oci_get_str(c, o, "domain", &domain);
	if (r < 0)
		return r;
	if (!strcmp(domain, "LINUX"))
		s->personality = PER_LINUX;
	else if (!strcmp(domain, "LINUX32"))
		s->personality = PER_LINUX32;
	else
		return oci_bad_key(c, "domain", "unknown domain '%.64s'", domain);
	s->has_personality = true;
	return 0;
}

/* ---- resources ---- */

/* An int64 of memory that is -1 when absent; -1 in the JSON also means
 * unlimited, below -1 is refused. */
static int get_mem(oci_pctx *c, const sbx_jval *o, const char *key, int64_t *out)
{
	*out = -1;
	return oci_get_int(c, o, key, -1, INT64_MAX, out, NULL);
}

static int parse_memory(oci_pctx *c, const sbx_jval *o, sbx_oci_resources *res)
{
	int r;
	if ((r = get_mem(c, o, "limit", &res->mem_limit)) < 0 ||
	    (r = get_mem(c, o, "reservation", &res->mem_reservation)) < 0 ||
	    (r = get_mem(c, o, "swap", &res->mem_swap)) < 0 ||
	    (r = get_mem(c, o, "kernel", &res->mem_kernel)) < 0 ||
	    (r = get_mem(c, o, "kernelTCP", &res->mem_kernel_tcp)) < 0 ||
	    (r = oci_get_bool(c, o, "disableOOMKiller", &res->disable_oom_killer,
			      &res->has_disable_oom_killer)) < 0)
		return r;
	/* swappiness is a uint64 where some clients write -1 (2^64-1): unset */
	const sbx_jval *v = oci_field(o, "swappiness");
	if (!v)
		return 0;
	size_t old = oci_push_key(c, "swappiness");
	uint64_t sw = 0;
	if (v->type == SBX_J_NUM && v->is_int && v->i == -1)
		r = 0;
	else if ((r = oci_val_u64(c, v, &sw)) < 0)
		;
	else if (sw == UINT64_MAX)
		r = 0;
	else if (sw > 100)
		r = oci_bad(c, "%llu out of range [0, 100]", (unsigned long long)sw);
	else
		res->mem_swappiness = (int64_t)sw;
	oci_pop(c, old);
	return r;
}

static int parse_cpu(oci_pctx *c, const sbx_jval *o, sbx_oci_resources *res)
{
	int r;
	if ((r = oci_get_u64(c, o, "shares", &res->cpu_shares, NULL)) < 0 ||
	    (r = oci_get_int(c, o, "quota", -1, INT64_MAX, &res->cpu_quota, NULL)) < 0 ||
	    (r = oci_get_u64(c, o, "period", &res->cpu_period, NULL)) < 0 ||
	    (r = oci_get_int(c, o, "realtimeRuntime", -1, INT64_MAX, &res->cpu_rt_runtime, NULL)) <
		0 ||
	    (r = oci_get_u64(c, o, "realtimePeriod", &res->cpu_rt_period, NULL)) < 0 ||
	    (r = oci_get_str(c, o, "cpus", &res->cpus)) < 0 ||
	    (r = oci_get_str(c, o, "mems", &res->mems)) < 0)
		return r;
	if (res->cpus && !res->cpus[0]) {
		free(res->cpus);
		res->cpus = NULL;
	}
	if (res->mems && !res->mems[0]) {
		free(res->mems);
		res->mems = NULL;
	}
	return 0;
}

static int parse_devrule(oci_pctx *c, const sbx_jval *o, sbx_oci_devrule *d)
{
	_cleanup_free_ char *type = NULL, *access = NULL;
	bool has_allow = false;
	int r;
	d->major = d->minor = -1;
	if (o->type != SBX_J_OBJ)
		return oci_bad(c, "not an object");
	if ((r = oci_get_bool(c, o, "allow", &d->allow, &has_allow)) < 0 ||
	    (r = oci_get_str(c, o, "type", &type)) < 0 ||
	    (r = oci_get_int(c, o, "major", -1, UINT32_MAX, &d->major, NULL)) < 0 ||
	    (r = oci_get_int(c, o, "minor", -1, UINT32_MAX, &d->minor, NULL)) < 0 ||
	    (r = oci_get_str(c, o, "access", &access)) < 0)
		return r;
	if (!has_allow)
		return oci_bad_key(c, "allow", "missing");
	if (!type || !type[0])
		d->type = 'a';
	else if (strlen(type) == 1 && strchr("acb", type[0]))
		d->type = type[0];
	else
		return oci_bad_key(c, "type", "'%.64s' is not a, c or b", type);
	if (!access || !access[0]) {
		strcpy(d->access, "rwm");
		return 0;
	}
	bool rwm[3] = {false, false, false};
	for (const char *p = access; *p; p++) {
		const char *at = strchr("rwm", *p);
		if (!at)
			return oci_bad_key(c, "access", "'%.64s' is not a subset of rwm", access);
		rwm[at - "rwm"] = true;
	}
	size_t n = 0;
	for (int k = 0; k < 3; k++)
		if (rwm[k])
			d->access[n++] = "rwm"[k];
	d->access[n] = '\0';
	return 0;
}

/* An object or array that asks for something (non-empty). */
static int present(oci_pctx *c, const sbx_jval *o, const char *key, bool *out)
{
	const sbx_jval *v = oci_field(o, key);
	*out = false;
	if (!v)
		return 0;
	if (v->type != SBX_J_OBJ && v->type != SBX_J_ARR)
		return oci_bad_key(c, key, "not an object");
	*out = v->n > 0;
	return 0;
}

static int parse_resources(oci_pctx *c, const sbx_jval *o, sbx_oci_resources *res)
{
	const sbx_jval *v, *a;
	int r;
	size_t old;
	if ((r = oci_get_obj(c, o, "memory", &v)) < 0)
		return r;
	if (v) {
		old = oci_push_key(c, "memory");
		r = parse_memory(c, v, res);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_obj(c, o, "cpu", &v)) < 0)
		return r;
	if (v) {
		old = oci_push_key(c, "cpu");
		r = parse_cpu(c, v, res);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_obj(c, o, "pids", &v)) < 0)
		return r;
	if (v) {
		old = oci_push_key(c, "pids");
		if ((r = oci_need(c, v, "limit")) == 0)
			r = oci_get_int(c, v, "limit", INT64_MIN, INT64_MAX, &res->pids_limit,
					NULL);
		oci_pop(c, old);
		if (r < 0)
			return r;
		res->has_pids_limit = true;
		if (res->pids_limit <= 0)
			res->pids_limit = -1;
	}
	if ((r = oci_get_arr(c, o, "devices", &a)) < 0)
		return r;
	if (a) {
		res->devices = calloc(a->n ? a->n : 1, sizeof(*res->devices));
		if (!res->devices)
			return oci_oom(c);
		res->n_devices = a->n;
		old = oci_push_key(c, "devices");
		for (size_t i = 0; r == 0 && i < a->n; i++) {
			size_t o2 = oci_push_idx(c, i);
			r = parse_devrule(c, &a->items[i], &res->devices[i]);
			oci_pop(c, o2);
		}
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = present(c, o, "blockIO", &res->has_blkio)) < 0 ||
	    (r = present(c, o, "hugepageLimits", &res->has_hugetlb)) < 0 ||
	    (r = present(c, o, "network", &res->has_network)) < 0 ||
	    (r = present(c, o, "rdma", &res->has_rdma)) < 0 ||
	    (r = present(c, o, "unified", &res->has_unified)) < 0)
		return r;
	return 0;
}

void oci_resources_defaults(sbx_oci_resources *res)
{
	res->mem_limit = res->mem_reservation = res->mem_swap = -1;
	res->mem_kernel = res->mem_kernel_tcp = res->mem_swappiness = -1;
	res->cpu_quota = res->cpu_rt_runtime = -1;
}

int oci_parse_linux(oci_pctx *c, const sbx_jval *o, sbx_oci_spec *s)
{
	const sbx_jval *a, *v;
	int r;
	size_t old;
	if ((r = oci_get_arr(c, o, "namespaces", &a)) < 0)
		return r;
	if (a) {
		s->namespaces = calloc(a->n ? a->n : 1, sizeof(*s->namespaces));
		if (!s->namespaces)
			return oci_oom(c);
		s->n_namespaces = a->n;
		old = oci_push_key(c, "namespaces");
		for (size_t i = 0; r == 0 && i < a->n; i++) {
			size_t o2 = oci_push_idx(c, i);
			r = parse_ns(c, &a->items[i], s, i);
			oci_pop(c, o2);
		}
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	static const char *const map_keys[2] = {"uidMappings", "gidMappings"};
	for (int k = 0; k < 2; k++) {
		if ((r = oci_get_arr(c, o, map_keys[k], &a)) < 0)
			return r;
		if (!a)
			continue;
		old = oci_push_key(c, map_keys[k]);
		r = k == 0 ? parse_idmaps(c, a, &s->uid_mappings, &s->n_uid_mappings)
			   : parse_idmaps(c, a, &s->gid_mappings, &s->n_gid_mappings);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_kv(c, o, "sysctl", &s->sysctl, &s->n_sysctl)) < 0 ||
	    (r = oci_get_obj(c, o, "resources", &v)) < 0)
		return r;
	if (v) {
		s->has_resources = true;
		old = oci_push_key(c, "resources");
		r = parse_resources(c, v, &s->resources);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_str(c, o, "cgroupsPath", &s->cgroups_path)) < 0 ||
	    (r = oci_get_arr(c, o, "devices", &a)) < 0)
		return r;
	if (s->cgroups_path && !s->cgroups_path[0]) {
		free(s->cgroups_path);
		s->cgroups_path = NULL;
	}
	if (a) {
		old = oci_push_key(c, "devices");
		r = parse_devices(c, a, s);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = get_paths(c, o, "maskedPaths", &s->masked_paths, &s->n_masked_paths)) < 0 ||
	    (r = get_paths(c, o, "readonlyPaths", &s->readonly_paths, &s->n_readonly_paths)) < 0 ||
	    (r = parse_propagation(c, o, s)) < 0 ||
	    (r = oci_get_str(c, o, "mountLabel", &s->mount_label)) < 0)
		return r;
	if (s->mount_label && !s->mount_label[0]) {
		free(s->mount_label);
		s->mount_label = NULL;
	}
	if ((r = oci_get_obj(c, o, "seccomp", &v)) < 0)
		return r;
	if (v) {
		s->has_seccomp = true;
		old = oci_push_key(c, "seccomp");
		r = oci_parse_seccomp(c, v, &s->seccomp);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_obj(c, o, "personality", &v)) < 0)
		return r;
	if (v) {
		old = oci_push_key(c, "personality");
		r = parse_personality(c, v, s);
		oci_pop(c, old);
	}
	return r;
}

void oci_linux_free(sbx_oci_spec *s)
{
	for (size_t i = 0; s->namespaces && i < s->n_namespaces; i++)
		free(s->namespaces[i].path);
	free(s->namespaces);
	free(s->uid_mappings);
	free(s->gid_mappings);
	oci_kv_free(s->sysctl, s->n_sysctl);
	free(s->resources.cpus);
	free(s->resources.mems);
	free(s->resources.devices);
	free(s->cgroups_path);
	for (size_t i = 0; s->devices && i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	oci_strv_free(s->masked_paths);
	oci_strv_free(s->readonly_paths);
	free(s->mount_label);
	oci_seccomp_clear(&s->seccomp);
}
