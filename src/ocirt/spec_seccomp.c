/* config.json's linux.seccomp: actions, architectures (named as
 * libseccomp names them), flags, rules and their argument checks. */
#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include "ocirt/spec_json.h"

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

enum { ACT_PLAIN, ACT_WITH_ERRNO, ACT_WITH_TRACE };

static const struct {
	const char *name;
	uint32_t action;
	int kind;
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, ACT_PLAIN},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ACT_PLAIN},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ACT_PLAIN},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, ACT_PLAIN},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), ACT_WITH_ERRNO},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), ACT_WITH_TRACE},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ACT_PLAIN},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, ACT_PLAIN},
};

static const struct {
	const char *name;
	int op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned flag;
} flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

/* The field key of o: a string, named in table (name member), its index
 * into *idx. */
#define LOOKUP(c, o, key, table, what, idx)                                                        \
	lookup(c, o, key, what, idx, &(table)[0].name, sizeof((table)[0]), ARRAY_LEN(table))

static int lookup(oci_pctx *c, const sbx_jval *o, const char *key, const char *what, size_t *idx,
		  const char *const *first, size_t stride, size_t n)
{
	const sbx_jval *v = oci_field(o, key);
	if (!v)
		return oci_bad_key(c, key, "missing");
	if (v->type != SBX_J_STR)
		return oci_bad_key(c, key, "not a string");
	for (size_t i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)first + i * stride);
		if (!strcmp(v->str, name)) {
			*idx = i;
			return 0;
		}
	}
	if (!strcmp(v->str, "SCMP_ACT_NOTIFY"))
		return oci_bad_key(c, key, "SCMP_ACT_NOTIFY not supported");
	return oci_bad_key(c, key, "unknown %s '%.64s'", what, v->str);
}

/* action (and errnoRet) of o into *out; ret_key: "errnoRet" or
 * "defaultErrnoRet". */
static int get_action(oci_pctx *c, const sbx_jval *o, const char *key, const char *ret_key,
		      uint32_t *out)
{
	size_t i;
	int64_t ret = EPERM;
	int r = LOOKUP(c, o, key, actions, "action", &i);
	if (r < 0 || (r = oci_get_int(c, o, ret_key, 0, 0xffff, &ret, NULL)) < 0)
		return r;
	*out = actions[i].action;
	if (actions[i].kind != ACT_PLAIN)
		*out |= (uint32_t)ret;
	return 0;
}

static int parse_arch(oci_pctx *c, const sbx_jval *v, uint32_t *out)
{
	if (v->type != SBX_J_STR)
		return oci_bad(c, "not a string");
	const char *s = v->str;
	if (!strncmp(s, "SCMP_ARCH_", 10))
		s += 10;
	char lower[32];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(lower))
		return oci_bad(c, "unknown architecture '%.64s'", v->str);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	uint32_t arch = seccomp_arch_resolve_name(lower);
	if (arch == 0)
		return oci_bad(c, "unknown architecture '%.64s'", v->str);
	*out = arch;
	return 0;
}

static int parse_arg(oci_pctx *c, const sbx_jval *o, sbx_oci_sc_arg *a)
{
	int r;
	int64_t index;
	size_t op;
	if (o->type != SBX_J_OBJ)
		return oci_bad(c, "not an object");
	if ((r = oci_need(c, o, "index")) < 0 || (r = oci_need(c, o, "value")) < 0 ||
	    (r = oci_get_int(c, o, "index", 0, 5, &index, NULL)) < 0 ||
	    (r = oci_get_u64(c, o, "value", &a->value, NULL)) < 0 ||
	    (r = oci_get_u64(c, o, "valueTwo", &a->value_two, NULL)) < 0 ||
	    (r = LOOKUP(c, o, "op", ops, "operator", &op)) < 0)
		return r;
	a->index = (unsigned)index;
	a->op = ops[op].op;
	return 0;
}

static int parse_rule(oci_pctx *c, const sbx_jval *o, sbx_oci_sc_rule *rule)
{
	int r;
	const sbx_jval *a;
	if (o->type != SBX_J_OBJ)
		return oci_bad(c, "not an object");
	if ((r = oci_need(c, o, "names")) < 0 ||
	    (r = oci_get_strv(c, o, "names", &rule->names, &rule->n_names)) < 0 ||
	    (r = get_action(c, o, "action", "errnoRet", &rule->action)) < 0 ||
	    (r = oci_get_arr(c, o, "args", &a)) < 0)
		return r;
	if (!a)
		return 0;
	rule->args = calloc(a->n ? a->n : 1, sizeof(*rule->args));
	if (!rule->args)
		return oci_oom(c);
	rule->n_args = a->n;
	size_t old = oci_push_key(c, "args");
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t o2 = oci_push_idx(c, i);
		r = parse_arg(c, &a->items[i], &rule->args[i]);
		oci_pop(c, o2);
	}
	oci_pop(c, old);
	return r;
}

int oci_parse_seccomp(oci_pctx *c, const sbx_jval *o, sbx_oci_seccomp *sc)
{
	const sbx_jval *a;
	int r = get_action(c, o, "defaultAction", "defaultErrnoRet", &sc->default_action);
	if (r < 0 || (r = oci_get_arr(c, o, "architectures", &a)) < 0)
		return r;
	if (a) {
		sc->archs = calloc(a->n ? a->n : 1, sizeof(*sc->archs));
		if (!sc->archs)
			return oci_oom(c);
		sc->n_archs = a->n;
		size_t old = oci_push_key(c, "architectures");
		for (size_t i = 0; r == 0 && i < a->n; i++) {
			size_t o2 = oci_push_idx(c, i);
			r = parse_arch(c, &a->items[i], &sc->archs[i]);
			oci_pop(c, o2);
		}
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_arr(c, o, "flags", &a)) < 0)
		return r;
	for (size_t i = 0; a && i < a->n; i++) {
		size_t old = oci_push_key(c, "flags");
		oci_push_idx(c, i);
		size_t k = 0;
		const sbx_jval *v = &a->items[i];
		if (v->type != SBX_J_STR)
			r = oci_bad(c, "not a string");
		else {
			for (k = 0; k < ARRAY_LEN(flags) && strcmp(v->str, flags[k].name); k++)
				;
			if (k == ARRAY_LEN(flags))
				r = oci_bad(c, "unknown or unsupported flag '%.64s'", v->str);
		}
		oci_pop(c, old);
		if (r < 0)
			return r;
		sc->flags |= flags[k].flag;
	}
	if ((r = oci_get_str(c, o, "listenerPath", &sc->listener_path)) < 0)
		return r;
	if (sc->listener_path && !sc->listener_path[0]) {
		free(sc->listener_path);
		sc->listener_path = NULL;
	}
	if (sc->listener_path)
		return oci_bad_key(c, "listenerPath", "seccomp notify not supported");
	if ((r = oci_get_arr(c, o, "syscalls", &a)) < 0 || !a)
		return r;
	sc->rules = calloc(a->n ? a->n : 1, sizeof(*sc->rules));
	if (!sc->rules)
		return oci_oom(c);
	sc->n_rules = a->n;
	size_t old = oci_push_key(c, "syscalls");
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t o2 = oci_push_idx(c, i);
		r = parse_rule(c, &a->items[i], &sc->rules[i]);
		oci_pop(c, o2);
	}
	oci_pop(c, old);
	return r;
}

void oci_seccomp_clear(sbx_oci_seccomp *sc)
{
	free(sc->archs);
	for (size_t i = 0; sc->rules && i < sc->n_rules; i++) {
		oci_strv_free(sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc->listener_path);
	memset(sc, 0, sizeof(*sc));
}
