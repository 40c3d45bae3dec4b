/* Parsing `sbx run` options into a config (reentrant, no getopt). */
#include <stdio.h>
#include <string.h>

#include "base/parse.h"
#include "base/util.h"
#include "cli/options.h"
#include "drivers/driver.h"

enum opt_id {
	O_ROOTFS,
	O_MEMORY,
	O_CPUS,
	O_PIDS,
	O_TIMEOUT,
	O_OUTPUT,
	O_TMP,
	O_NET,
	O_WORKSPACE,
	O_ENV,
	O_CWD,
	O_HOSTNAME,
	O_CGPARENT,
	O_MAPUID,
	O_MAPGID,
	O_JSON,
	O_HELP,
	O_VERSION,
	O_IDLE,
	O_MAXSIZE,
	O_FORCE,
	O_POOL,
	O_DRIVER,
	O_IMAGE,
	O_SOCKET,
	O_SIZE,
	O_MAXTOTAL,
	O_MAXAGE,
	O_ACQTIMEOUT,
	O_PYTHON,
	O_NOPYTHON,
	O_PRELOAD,
	O_GROUP,
	O_STOPTIMEOUT,
	O_FRESH,
	O_WRROOT,
	O_ALLOW,
	O_PUBLISH,
	O_DNS,
};

#define ARG_OPT 2

/* clang-format off */
static const struct {
	const char *name;
	enum opt_id id;
	int has_arg; /* false, true, or ARG_OPT: only as --name=VALUE */
} table[] = {
	{"rootfs", O_ROOTFS, true},     {"memory", O_MEMORY, true},
	{"cpus", O_CPUS, true},         {"pids", O_PIDS, true},
	{"timeout", O_TIMEOUT, true},   {"output-limit", O_OUTPUT, true},
	{"tmp-size", O_TMP, true},      {"net", O_NET, true},
	{"workspace", O_WORKSPACE, true}, {"env", O_ENV, true},
	{"cwd", O_CWD, true},           {"hostname", O_HOSTNAME, true},
	{"cgroup-parent", O_CGPARENT, true}, {"map-uid", O_MAPUID, true},
	{"map-gid", O_MAPGID, true},    {"json", O_JSON, false},
	{"help", O_HELP, false},        {"version", O_VERSION, false},
	{"idle-timeout", O_IDLE, true}, {"max-size", O_MAXSIZE, true},
	{"force", O_FORCE, false},      {"pool", O_POOL, true},
	{"driver", O_DRIVER, true},     {"image", O_IMAGE, true},
	{"socket", O_SOCKET, true},     {"size", O_SIZE, true},
	{"max-total", O_MAXTOTAL, true}, {"max-age", O_MAXAGE, true},
	{"acquire-timeout", O_ACQTIMEOUT, true}, {"python", O_PYTHON, false},
	{"no-python", O_NOPYTHON, false}, {"preload", O_PRELOAD, true},
	{"group", O_GROUP, true},       {"stop-timeout", O_STOPTIMEOUT, true},
	{"fresh", O_FRESH, false},
	{"writable-root", O_WRROOT, ARG_OPT},
	{"allow", O_ALLOW, true},       {"publish", O_PUBLISH, true},
	{"dns", O_DNS, true},
};
/* clang-format on */

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(msg, cap, __VA_ARGS__);                                                   \
		return -1;                                                                         \
	} while (0)

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* One more borrowed string in a growable array. */
static int push(const char ***arr, size_t *n, const char *v)
{
	const char **g = realloc(*arr, (*n + 1) * sizeof(*g));
	if (!g)
		return -1;
	*arr = g;
	g[(*n)++] = v;
	return 0;
}

/* Printable ASCII without spaces: what any --allow, --publish or --dns
 * value is made of (the values themselves are checked with the whole
 * config, sbx_config_validate). */
static bool net_word(const char *v)
{
	if (!*v || strlen(v) > 300)
		return false;
	for (; *v; v++)
		if (*v <= ' ' || *v > '~')
			return false;
	return true;
}

/* v for a one-line message: at most 64 bytes, unprintable ones as '?'. */
static const char *shown(const char *v, char *out, size_t cap)
{
	size_t i = 0;
	for (; v[i] && i < 64 && i + 1 < cap; i++)
		out[i] = v[i] < ' ' || v[i] > '~' ? '?' : v[i];
	out[i] = '\0';
	return out;
}

static int apply(sbx_run_opts *o, enum opt_id id, const char *v, const char *name, char *msg,
		 size_t cap)
{
	sbx_config *c = &o->cfg;
	uint32_t u;
	char sv[72];
	switch (id) {
	case O_ROOTFS:
		if (!*v)
			BAD("invalid --rootfs: empty path");
		c->rootfs = v;
		return 0;
	case O_MEMORY:
		if (sbx_parse_size(v, &c->memory_bytes) < 0)
			BAD("invalid --memory size '%s' (e.g. 512M, 1G)", v);
		if (c->memory_bytes && c->memory_bytes < (4u << 20))
			BAD("invalid --memory size '%s': at least 4M", v);
		return 0;
	case O_CPUS:
		if (sbx_parse_cpus(v, &c->cpu_millis) < 0)
			BAD("invalid --cpus '%s' (e.g. 0.5, 2)", v);
		if (c->cpu_millis && c->cpu_millis < 10)
			BAD("invalid --cpus '%s': at least 0.01", v);
		return 0;
	case O_PIDS:
		if (parse_u32(v, 4194304, &c->pids_max) < 0)
			BAD("invalid --pids '%s' (a whole number, 0 for no limit)", v);
		return 0;
	case O_TIMEOUT:
		if (sbx_parse_duration(v, &c->timeout_ms) < 0)
			BAD("invalid --timeout '%s' (e.g. 500ms, 30s, 5m)", v);
		return 0;
	case O_OUTPUT:
		if (sbx_parse_size(v, &c->output_limit) < 0 || c->output_limit == 0)
			BAD("invalid --output-limit size '%s' (e.g. 100K)", v);
		return 0;
	case O_TMP:
		if (sbx_parse_size(v, &c->tmp_size) < 0 || c->tmp_size == 0)
			BAD("invalid --tmp-size size '%s' (e.g. 64M)", v);
		return 0;
	case O_NET:
		if (strcmp(v, "none") == 0)
			c->net = SBX_NET_NONE;
		else if (strcmp(v, "loopback") == 0)
			c->net = SBX_NET_LOOPBACK;
		else if (strcmp(v, "egress") == 0)
			c->net = SBX_NET_EGRESS;
		else
			BAD("invalid --net '%s' (none, loopback or egress)",
			    shown(v, sv, sizeof(sv)));
		return 0;
	case O_ALLOW:
		if (!net_word(v))
			BAD("invalid --allow '%s' (HOST|CIDR[:PORT])", shown(v, sv, sizeof(sv)));
		if (o->n_allow >= SBX_OPTS_MAX_ALLOW)
			BAD("too many --allow (at most %d)", SBX_OPTS_MAX_ALLOW);
		if (push(&o->allow, &o->n_allow, v) < 0)
			BAD("out of memory");
		c->net_allow = o->allow;
		c->n_net_allow = o->n_allow;
		return 0;
	case O_PUBLISH:
		if (!net_word(v))
			BAD("invalid --publish '%s' ([HOSTIP:]HOSTPORT:PORT)",
			    shown(v, sv, sizeof(sv)));
		if (o->n_publish >= SBX_OPTS_MAX_PUBLISH)
			BAD("too many --publish (at most %d)", SBX_OPTS_MAX_PUBLISH);
		if (push(&o->publish, &o->n_publish, v) < 0)
			BAD("out of memory");
		c->net_publish = o->publish;
		c->n_net_publish = o->n_publish;
		return 0;
	case O_DNS:
		if (!net_word(v))
			BAD("invalid --dns '%s' (IP[:PORT])", shown(v, sv, sizeof(sv)));
		c->net_dns = v;
		return 0;
	case O_WORKSPACE:
		free(o->workspace_dir);
		o->workspace_dir = NULL;
		if (sbx_parse_workspace(v, &o->workspace_dir, &c->workspace_mode, NULL) < 0)
			BAD("invalid --workspace '%s' (DIR, DIR:ro or DIR:rw)", v);
		c->workspace = o->workspace_dir;
		return 0;
	case O_ENV: {
		if (sbx_parse_env(v, NULL) < 0)
			BAD("invalid --env '%s' (KEY=VALUE)", v);
		const char **n = realloc(o->env, (o->n_env + 1) * sizeof(*n));
		if (!n)
			BAD("out of memory");
		o->env = n;
		o->env[o->n_env++] = v;
		c->env = o->env;
		c->n_env = o->n_env;
		return 0;
	}
	case O_CWD:
		if (sbx_valid_inside_path(v, NULL) < 0)
			BAD("invalid --cwd '%s': an absolute path inside the sandbox, without . or "
			    "..",
			    v);
		c->cwd = v;
		return 0;
	case O_HOSTNAME:
		if (sbx_valid_hostname(v, NULL) < 0)
			BAD("invalid --hostname '%s'", v);
		c->hostname = v;
		return 0;
	case O_CGPARENT:
		if (!*v || strstr(v, ".."))
			BAD("invalid --cgroup-parent '%s'", v);
		c->cgroup_parent = v;
		return 0;
	case O_MAPUID:
	case O_MAPGID:
		if (parse_u32(v, 0xfffffffe, &u) < 0 || u == 0)
			BAD("invalid --%s '%s': a host id other than 0", name, v);
		if (id == O_MAPUID)
			c->map_uid = u;
		else
			c->map_gid = u;
		return 0;
	case O_JSON:
		o->json = true;
		return 0;
	case O_HELP:
		o->help = true;
		return 0;
	case O_VERSION:
		o->version = true;
		return 0;
	case O_IDLE:
		if (sbx_parse_duration(v, &o->idle_timeout_ms) < 0)
			BAD("invalid --idle-timeout '%s' (e.g. 10m, 1h)", v);
		return 0;
	case O_MAXSIZE:
		if (sbx_parse_size(v, &o->max_size) < 0 || o->max_size == 0)
			BAD("invalid --max-size size '%s' (e.g. 10M)", v);
		return 0;
	case O_FORCE:
		return 0;
	case O_POOL:
	case O_SOCKET:
		if (!*v)
			BAD("invalid --%s: empty path", name);
		if (id == O_POOL)
			o->pool = v;
		else
			o->socket = v;
		return 0;
	case O_DRIVER:
		if (!sbx_driver_by_name(v, NULL)) {
			char names[128];
			sbx_driver_names(names, sizeof(names));
			BAD("invalid --driver '%s' (%s)", v, names);
		}
		c->driver = v;
		return 0;
	case O_IMAGE:
		if (!*v)
			BAD("invalid --image: empty");
		c->image = v;
		return 0;
	case O_SIZE:
	case O_MAXTOTAL:
		if (parse_u32(v, 4096, &u) < 0 || (id == O_MAXTOTAL && u == 0))
			BAD("invalid --%s '%s' (a whole number)", name, v);
		if (id == O_SIZE)
			o->size = u;
		else
			o->max_total = u;
		return 0;
	case O_MAXAGE:
		if (sbx_parse_duration(v, &o->max_age_ms) < 0)
			BAD("invalid --max-age '%s' (e.g. 10m)", v);
		return 0;
	case O_ACQTIMEOUT: {
		uint64_t ms;
		if (strcmp(v, "wait") == 0)
			o->acquire_timeout_ms = -1;
		else if (sbx_parse_duration(v, &ms) < 0 || ms > INT64_MAX)
			BAD("invalid --acquire-timeout '%s' (a duration, 0 = create now, or wait)",
			    v);
		else
			o->acquire_timeout_ms = (int64_t)ms;
		return 0;
	}
	case O_PYTHON:
	case O_NOPYTHON:
		o->python = id == O_PYTHON;
		break;
	case O_FRESH:
		o->fresh = true;
		return 0;
	case O_WRROOT:
		c->root_size = SBX_ROOT_SIZE_DEFAULT;
		if (v && (sbx_parse_size(v, &c->root_size) < 0 || c->root_size == 0))
			BAD("invalid --writable-root size '%s' (e.g. 256M)", v);
		return 0;
	case O_PRELOAD:
		for (const char *q = v; *q; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9') || *q == '_' || *q == '.' || *q == ','))
				BAD("invalid --preload '%s' (module names separated by commas)", v);
		o->preload = v;
		return 0;
	case O_GROUP:
		if (!*v)
			BAD("invalid --group: empty");
		o->group = v;
		return 0;
	case O_STOPTIMEOUT:
		/* A day at most: its nanoseconds fit in any deadline sum. */
		if (sbx_parse_duration(v, &c->stop_timeout_ms) < 0 ||
		    c->stop_timeout_ms > 24ull * 3600 * 1000)
			BAD("invalid --stop-timeout '%s' (e.g. 10s, 0 = kill at once; at most 24h)",
			    v);
		return 0;
	}
	return 0;
}

int sbx_opts_parse(sbx_run_opts *o, int argc, char **argv, int first, char *msg, size_t cap)
{
	memset(o, 0, sizeof(*o));
	sbx_config_init(&o->cfg);
	o->size = 2;
	o->max_total = 64;
	o->python = true;
	int i = first;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-f") == 0) { /* rm -f */
			o->seen |= 1ull << O_FORCE;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			if (a[0] == '-' && a[1])
				BAD("unknown option '%s'", a);
			break;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nl = eq ? (size_t)(eq - name) : strlen(name);
		size_t k = 0;
		while (k < ARRAY_LEN(table) &&
		       !(strlen(table[k].name) == nl && strncmp(table[k].name, name, nl) == 0))
			k++;
		if (k == ARRAY_LEN(table))
			BAD("unknown option '--%.*s'", (int)nl, name);
		const char *val = NULL;
		if (table[k].has_arg == true) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				BAD("option '--%s' needs a value", table[k].name);
		} else if (eq && table[k].has_arg == ARG_OPT) {
			val = eq + 1;
		} else if (eq) {
			BAD("option '--%s' takes no value", table[k].name);
		}
		if (apply(o, table[k].id, val, table[k].name, msg, cap) < 0)
			return -1;
		o->seen |= 1ull << table[k].id;
	}
	o->cmd_index = i;
	if (i < argc)
		o->cfg.argv = (const char *const *)&argv[i];
	return 0;
}

const char *sbx_opts_disallowed(const sbx_run_opts *o, uint64_t allowed)
{
	static char name[40];
	for (size_t i = 0; i < ARRAY_LEN(table); i++)
		if ((o->seen & ~allowed) & (1ull << table[i].id)) {
			snprintf(name, sizeof(name), "--%s", table[i].name);
			return name;
		}
	return NULL;
}

void sbx_opts_free(sbx_run_opts *o)
{
	free(o->env);
	free(o->allow);
	free(o->publish);
	free(o->workspace_dir);
	memset(o, 0, sizeof(*o));
}
