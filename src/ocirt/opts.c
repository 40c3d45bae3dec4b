/* The commands' option parser (runc's conventions: long options with one
 * or two dashes, "=VALUE" or the next word). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "ocirt/cmd.h"

static const sbx_oci_opt *find(const sbx_oci_opt *opts, size_t n, const char *name, size_t len,
			       bool is_short)
{
	for (size_t i = 0; i < n; i++) {
		if (is_short && len == 1 && opts[i].short_name == name[0])
			return &opts[i];
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
			return &opts[i];
	}
	return NULL;
}

static int set_value(const char *cmd, const sbx_oci_opt *o, const char *v, sbx_error *err)
{
	switch (o->kind) {
	case SBX_OCI_OPT_FLAG:
		if (!v || !strcmp(v, "true"))
			*(bool *)o->value = true;
		else if (!strcmp(v, "false"))
			*(bool *)o->value = false;
		else
			return sbx_fail(err, SBX_E_INVALID,
					"%s: --%s takes true or false, not '%.64s'", cmd, o->name,
					v);
		return 0;
	case SBX_OCI_OPT_STR:
		*(const char **)o->value = v;
		return 0;
	case SBX_OCI_OPT_INT: {
		char *end;
		errno = 0;
		long x = strtol(v, &end, 10);
		if (errno || end == v || *end || x < 0 || x > INT_MAX)
			return sbx_fail(err, SBX_E_INVALID, "%s: --%s: not a number: '%.64s'", cmd,
					o->name, v);
		*(int *)o->value = (int)x;
		return 0;
	}
	case SBX_OCI_OPT_LIST: {
		sbx_oci_list *l = o->value;
		if (l->n >= (int)ARRAY_LEN(l->item))
			return sbx_fail(err, SBX_E_INVALID, "%s: too many --%s", cmd, o->name);
		l->item[l->n++] = v;
		return 0;
	}
	}
	return 0;
}

int sbx_oci_opts(const char *cmd, int argc, char **argv, const sbx_oci_opt *opts, size_t n,
		 int *first, sbx_error *err)
{
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == 0)
			break;
		bool is_short = a[1] != '-';
		const char *name = a + (is_short ? 1 : 2);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const sbx_oci_opt *o = find(opts, n, name, len, is_short);
		if (!o)
			return sbx_fail(err, SBX_E_INVALID, "%s: unknown option %.64s", cmd, a);
		const char *v = eq ? eq + 1 : NULL;
		if (o->kind != SBX_OCI_OPT_FLAG && !v) {
			if (i + 1 >= argc)
				return sbx_fail(err, SBX_E_INVALID, "%s: --%s needs a value", cmd,
						o->name);
			v = argv[++i];
		}
		int r = set_value(cmd, o, v, err);
		if (r < 0)
			return r;
	}
	*first = i;
	return 0;
}

int sbx_oci_need_args(const char *cmd, int argc, char **argv, int first, int want,
		      const char *usage, sbx_error *err)
{
	int have = argc - first;
	if (have == want)
		return 0;
	if (have < want)
		return sbx_fail(err, SBX_E_INVALID, "%s: missing argument (usage: %s %s)", cmd, cmd,
				usage);
	return sbx_fail(err, SBX_E_INVALID, "%s: unexpected argument '%.64s' (usage: %s %s)", cmd,
			argv[first + want], cmd, usage);
}
