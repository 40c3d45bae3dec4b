/* config.json's process (and exec's process.json). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "ocirt/spec_json.h"

static const char *const cap_sets[SBX_OCI_CAP_NSETS] = {
    [SBX_OCI_CAP_BOUNDING] = "bounding",       [SBX_OCI_CAP_EFFECTIVE] = "effective",
    [SBX_OCI_CAP_INHERITABLE] = "inheritable", [SBX_OCI_CAP_PERMITTED] = "permitted",
    [SBX_OCI_CAP_AMBIENT] = "ambient",
};

static int parse_caps(oci_pctx *c, const sbx_jval *obj, sbx_oci_process *p)
{
	for (int set = 0; set < SBX_OCI_CAP_NSETS; set++) {
		const sbx_jval *a;
		int r = oci_get_arr(c, obj, cap_sets[set], &a);
		if (r < 0)
			return r;
		for (size_t i = 0; a && i < a->n; i++) {
			size_t old = oci_push_key(c, cap_sets[set]);
			oci_push_idx(c, i);
			const sbx_jval *v = &a->items[i];
			int cap = -1;
			if (v->type != SBX_J_STR)
				r = oci_bad(c, "not a string");
			else if ((cap = sbx_oci_cap_from_name(v->str)) < 0)
				r = oci_bad(c, "unknown capability '%.64s'", v->str);
			oci_pop(c, old);
			if (r < 0)
				return r;
			p->caps[set] |= UINT64_C(1) << cap;
		}
	}
	return 0;
}

static int parse_rlimits(oci_pctx *c, const sbx_jval *a, sbx_oci_process *p)
{
	p->rlimits = calloc(a->n ? a->n : 1, sizeof(*p->rlimits));
	if (!p->rlimits)
		return oci_oom(c);
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t old = oci_push_idx(c, i);
		const sbx_jval *o = &a->items[i];
		sbx_oci_rlimit *rl = &p->rlimits[i];
		const sbx_jval *t = oci_field(o, "type");
		if (o->type != SBX_J_OBJ)
			r = oci_bad(c, "not an object");
		else if ((r = oci_need(c, o, "type")) < 0)
			;
		else if (t->type != SBX_J_STR)
			r = oci_bad_key(c, "type", "not a string");
		else if ((rl->resource = sbx_oci_rlimit_from_name(t->str)) < 0)
			r = oci_bad_key(c, "type", "unknown rlimit '%.64s'", t->str);
		else if ((r = oci_need(c, o, "soft")) < 0 || (r = oci_need(c, o, "hard")) < 0)
			;
		else if ((r = oci_get_u64(c, o, "soft", &rl->soft, NULL)) < 0 ||
			 (r = oci_get_u64(c, o, "hard", &rl->hard, NULL)) < 0)
			;
		else if (rl->soft > rl->hard)
			r = oci_bad(c, "soft limit above the hard one");
		for (size_t j = 0; r == 0 && j < i; j++)
			if (p->rlimits[j].resource == rl->resource)
				r = oci_bad_key(c, "type", "'%s' listed twice", t->str);
		oci_pop(c, old);
		p->n_rlimits = i + 1;
	}
	return r;
}

static int parse_user(oci_pctx *c, const sbx_jval *u, sbx_oci_process *p)
{
	int r;
	uint32_t umask = 0;
	if ((r = oci_get_u32(c, u, "uid", &p->uid, NULL)) < 0 ||
	    (r = oci_get_u32(c, u, "gid", &p->gid, NULL)) < 0 ||
	    (r = oci_get_u32(c, u, "umask", &umask, &p->has_umask)) < 0)
		return r;
	if (p->has_umask && umask > 0777)
		return oci_bad_key(c, "umask", "%u is not a umask (at most 0777)", umask);
	p->umask = (mode_t)umask;
	const sbx_jval *a;
	if ((r = oci_get_arr(c, u, "additionalGids", &a)) < 0 || !a)
		return r;
	p->additional_gids = calloc(a->n ? a->n : 1, sizeof(uint32_t));
	if (!p->additional_gids)
		return oci_oom(c);
	size_t old = oci_push_key(c, "additionalGids");
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t o2 = oci_push_idx(c, i);
		const sbx_jval *v = &a->items[i];
		if (v->type != SBX_J_NUM)
			r = oci_bad(c, "not a number");
		else if (!v->is_int || v->i < 0 || v->i > UINT32_MAX)
			r = oci_bad(c, "not a group id");
		else
			p->additional_gids[i] = (uint32_t)v->i;
		oci_pop(c, o2);
	}
	oci_pop(c, old);
	p->n_additional_gids = a->n;
	return r;
}

/* "" means none for the LSM labels. */
static int get_label(oci_pctx *c, const sbx_jval *obj, const char *key, char **out)
{
	int r = oci_get_str(c, obj, key, out);
	if (r == 0 && *out && !**out) {
		free(*out);
		*out = NULL;
	}
	return r;
}

int oci_parse_process(oci_pctx *c, const sbx_jval *obj, sbx_oci_process *p)
{
	int r;
	const sbx_jval *u, *caps, *rl;
	int64_t oom;
	if ((r = oci_get_bool(c, obj, "terminal", &p->terminal, NULL)) < 0 ||
	    (r = oci_get_obj(c, obj, "user", &u)) < 0)
		return r;
	if (u) {
		size_t old = oci_push_key(c, "user");
		r = parse_user(c, u, p);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_need(c, obj, "args")) < 0 ||
	    (r = oci_get_strv(c, obj, "args", &p->args, &p->n_args)) < 0)
		return r;
	if (p->n_args == 0)
		return oci_bad_key(c, "args", "empty");
	if (!p->args[0][0])
		return oci_bad_key(c, "args", "empty command");
	if ((r = oci_get_strv(c, obj, "env", &p->env, &p->n_env)) < 0)
		return r;
	if (!p->env && !(p->env = calloc(1, sizeof(char *))))
		return oci_oom(c);
	for (size_t i = 0; i < p->n_env; i++)
		if (!strchr(p->env[i], '=')) {
			size_t old = oci_push_key(c, "env");
			oci_push_idx(c, i);
			r = oci_bad(c, "'%.64s' is not NAME=VALUE", p->env[i]);
			oci_pop(c, old);
			return r;
		}
	if ((r = oci_need(c, obj, "cwd")) < 0 || (r = oci_get_str(c, obj, "cwd", &p->cwd)) < 0)
		return r;
	if (p->cwd[0] != '/')
		return oci_bad_key(c, "cwd", "'%.200s' is not an absolute path", p->cwd);
	if ((r = oci_get_obj(c, obj, "capabilities", &caps)) < 0)
		return r;
	if (caps) {
		p->has_caps = true;
		size_t old = oci_push_key(c, "capabilities");
		r = parse_caps(c, caps, p);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_arr(c, obj, "rlimits", &rl)) < 0)
		return r;
	if (rl) {
		size_t old = oci_push_key(c, "rlimits");
		r = parse_rlimits(c, rl, p);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_bool(c, obj, "noNewPrivileges", &p->no_new_privileges, NULL)) < 0 ||
	    (r = oci_get_int(c, obj, "oomScoreAdj", -1000, 1000, &oom, &p->has_oom_score_adj)) <
		0 ||
	    (r = get_label(c, obj, "apparmorProfile", &p->apparmor_profile)) < 0 ||
	    (r = get_label(c, obj, "selinuxLabel", &p->selinux_label)) < 0)
		return r;
	if (p->has_oom_score_adj)
		p->oom_score_adj = (int)oom;
	return 0;
}

void sbx_oci_process_clear(sbx_oci_process *p)
{
	if (!p)
		return;
	free(p->additional_gids);
	oci_strv_free(p->args);
	oci_strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

int sbx_oci_process_parse(const char *json, size_t len, sbx_oci_process *out, sbx_error *err)
{
	memset(out, 0, sizeof(*out));
	if (len > SBX_OCI_CONFIG_MAX)
		return sbx_fail(err, SBX_E_INVALID, "process: more than %u bytes",
				SBX_OCI_CONFIG_MAX);
	_cleanup_jval_ sbx_jval *root = NULL;
	int r = sbx_jparse_max(json, len, OCI_MAX_VALUES, &root, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "process: invalid JSON");
	oci_pctx c = {.err = err};
	if (root->type != SBX_J_OBJ)
		return oci_bad(&c, "process: not an object");
	oci_push_key(&c, "process");
	r = oci_parse_process(&c, root, out);
	if (r < 0)
		sbx_oci_process_clear(out);
	return r;
}
