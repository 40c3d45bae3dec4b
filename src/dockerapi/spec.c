/* POST /containers/create: the body (Docker's container config with its
 * HostConfig) into a dapi_spec. Clients send every field of Docker's
 * structs, most of them with their zero value: a field we do not support
 * is accepted only with that value (null, false, 0, "", [], {} or an
 * object of such), otherwise the request fails naming it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/parse.h"
#include "dockerapi/engine.h"
#include "dockerapi/strv.h"
#include "proto/jsonparse.h"

#define SPEC_MAX_VALUES 100000

bool dapi_json_zero(const sbx_jval *v)
{
	switch (v->type) {
	case SBX_J_NULL:
		return true;
	case SBX_J_BOOL:
		return !v->b;
	case SBX_J_NUM:
		return v->num == 0;
	case SBX_J_STR:
		return v->len == 0;
	case SBX_J_ARR:
		return v->n == 0;
	case SBX_J_OBJ:
		for (size_t i = 0; i < v->n; i++)
			if (!dapi_json_zero(&v->items[i]))
				return false;
		return true;
	}
	return false;
}

void dapi_spec_free(dapi_spec *s)
{
	free(s->name);
	free(s->image);
	dapi_strv_free(s->cmd);
	dapi_strv_free(s->entrypoint);
	dapi_strv_free(s->env);
	free(s->workdir);
	free(s->user);
	free(s->hostname);
	dapi_strv_free(s->label_keys);
	dapi_strv_free(s->label_vals);
	free(s->network_mode);
	free(s->ports);
	free(s->publish);
	free(s->bind_src);
	memset(s, 0, sizeof(*s));
}

int dapi_json_strs(const sbx_jval *v, const char *what, char ***out, sbx_error *err)
{
	*out = NULL;
	if (!v || v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_ARR)
		return sbx_fail(err, SBX_E_INVALID, "%s: not an array of strings", what);
	_cleanup_free_ const char **a = calloc(v->n + 1, sizeof(char *));
	if (!a)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i].type != SBX_J_STR || strlen(v->items[i].str) != v->items[i].len)
			return sbx_fail(err, SBX_E_INVALID, "%s: not an array of strings", what);
		a[i] = v->items[i].str;
	}
	*out = dapi_strv_dup(a);
	return *out ? 0 : sbx_fail(err, SBX_E_SYSTEM, "out of memory");
}

/* A string slice: a JSON array of strings or one string; NULL stays NULL. */
static int strslice(const sbx_jval *v, const char *what, char ***out, sbx_error *err)
{
	if (!v || v->type != SBX_J_STR)
		return dapi_json_strs(v, what, out, err);
	const char *one[] = {v->str, NULL};
	*out = dapi_strv_dup(one);
	return *out ? 0 : sbx_fail(err, SBX_E_SYSTEM, "out of memory");
}

static int str_field(const sbx_jval *v, const char *what, char **out, sbx_error *err)
{
	if (!v || v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_STR || strlen(v->str) != v->len)
		return sbx_fail(err, SBX_E_INVALID, "%s: not a string", what);
	free(*out);
	*out = strdup(v->str);
	return *out ? 0 : sbx_fail(err, SBX_E_SYSTEM, "out of memory");
}

static int bool_field(const sbx_jval *v, const char *what, bool *out, sbx_error *err)
{
	if (!v || v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_BOOL)
		return sbx_fail(err, SBX_E_INVALID, "%s: not a boolean", what);
	*out = v->b;
	return 0;
}

static int int_field(const sbx_jval *v, const char *what, int64_t *out, sbx_error *err)
{
	if (!v || v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_NUM || !v->is_int)
		return sbx_fail(err, SBX_E_INVALID, "%s: not an integer", what);
	*out = v->i;
	return 0;
}

static bool str_in(const sbx_jval *v, const char *const *ok)
{
	if (v->type == SBX_J_NULL)
		return true;
	if (v->type != SBX_J_STR)
		return false;
	for (; *ok; ok++)
		if (strcmp(v->str, *ok) == 0)
			return true;
	return false;
}

/* Fields accepted with some non-zero values we can honour or safely
 * ignore; NULL: any value. */
typedef struct tolerated {
	const char *key;
	const char *const *values; /* allowed strings; NULL: any value */
} tolerated;

static const char *const restart_no[] = {"", "no", NULL};
static const char *const ns_private[] = {"", "private", NULL};
static const char *const ipc_ok[] = {"", "private", "none", "shareable", NULL};
static const char *const isolation_ok[] = {"", "default", NULL};

static const tolerated top_tolerated[] = {
    {"AttachStdin", NULL}, {"AttachStdout", NULL}, {"AttachStderr", NULL}, {"StopSignal", NULL},
    {"StopTimeout", NULL}, {"ArgsEscaped", NULL},  {"Volumes", NULL}, /* the mount points come from
									 Binds */
    {"Domainname", NULL},  {"name", NULL}, /* dockerode sends the ?name= query in the body too */
};

static const tolerated host_tolerated[] = {
    {"ConsoleSize", NULL},
    {"MemorySwappiness", NULL}, /* no swap accounting: ignored */
    {"CapDrop", NULL},		/* every capability is dropped */
    {"Init", NULL},		/* sbx's own init is pid 1 */
    {"ShmSize", NULL},
    {"OomScoreAdj", NULL},
    {"LogConfig", NULL},
    {"CgroupnsMode", ns_private},
    {"IpcMode", ipc_ok},
    {"Isolation", isolation_ok},
    {"ContainerIDFile", NULL},
};

static const tolerated *find_tol(const tolerated *t, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].key, key) == 0)
			return &t[i];
	return NULL;
}

/* The one bind we support: SRC:/workspace[:ro|rw[,...]]. */
static int parse_bind(dapi_spec *s, const char *b, sbx_error *err)
{
	_cleanup_free_ char *copy = strdup(b);
	if (!copy)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	char *dst = strchr(copy, ':');
	if (!dst || copy[0] != '/')
		return sbx_fail(err, SBX_E_INVALID,
				"HostConfig.Binds: %s: the source must be an absolute host path "
				"(named volumes are not supported)",
				b);
	*dst++ = 0;
	char *opts = strchr(dst, ':');
	if (opts)
		*opts++ = 0;
	size_t dl = strlen(dst);
	while (dl > 1 && dst[dl - 1] == '/')
		dst[--dl] = 0;
	if (strcmp(dst, "/workspace") != 0)
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "HostConfig.Binds: %s: sbx mounts one host directory, on /workspace", b);
	if (s->bind_src)
		return sbx_fail(err, SBX_E_INVALID,
				"HostConfig.Binds: more than one bind on /workspace");
	bool ro = false;
	if (opts) {
		char *save = NULL;
		for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			if (strcmp(o, "ro") == 0)
				ro = true;
			else if (strcmp(o, "rw") == 0)
				ro = false;
			else if (strcmp(o, "z") && strcmp(o, "Z") && strcmp(o, "rprivate") &&
				 strcmp(o, "private") && strcmp(o, "nocopy"))
				return sbx_fail(err, SBX_E_INVALID,
						"HostConfig.Binds: %s: option %s is not supported",
						b, o);
		}
	}
	s->bind_src = strdup(copy);
	s->bind_ro = ro;
	return s->bind_src ? 0 : sbx_fail(err, SBX_E_SYSTEM, "out of memory");
}

static int parse_tmpfs(dapi_spec *s, const sbx_jval *v, sbx_error *err)
{
	if (v->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, "HostConfig.Tmpfs: not an object");
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->keys[i], "/tmp") != 0)
			return sbx_fail(
			    err, SBX_E_INVALID,
			    "HostConfig.Tmpfs: %s: only /tmp can be a tmpfs (it always is)",
			    v->keys[i]);
		const sbx_jval *o = &v->items[i];
		if (o->type != SBX_J_STR)
			return sbx_fail(err, SBX_E_INVALID, "HostConfig.Tmpfs: not a string");
		_cleanup_free_ char *copy = strdup(o->str);
		if (!copy)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (strncmp(t, "size=", 5) == 0) {
				if (sbx_parse_size(t + 5, &s->tmp_size) < 0 || !s->tmp_size)
					return sbx_fail(err, SBX_E_INVALID,
							"HostConfig.Tmpfs: bad size %s", t + 5);
			}
			/* mode, exec, noexec ...: /tmp is sbx's own tmpfs */
		}
	}
	return 0;
}

static int parse_ports(dapi_spec *s, const sbx_jval *v, sbx_error *err)
{
	free(s->ports);
	free(s->publish);
	s->publish = NULL;
	int r = dapi_ports_parse(v, &s->ports, &s->n_ports, err);
	if (r < 0 || !s->n_ports)
		return r;
	s->publish = calloc(s->n_ports + 1, sizeof(*s->publish));
	if (!s->publish)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < s->n_ports; i++)
		s->publish[i] = s->ports[i].publish;
	return 0;
}

static int parse_host(dapi_spec *s, const sbx_jval *h, sbx_error *err)
{
	if (h->type == SBX_J_NULL)
		return 0;
	if (h->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, "HostConfig: not an object");
	int64_t memory = 0, swap = 0, nano = 0, quota = 0, period = 0, pids = 0;
	for (size_t i = 0; i < h->n; i++) {
		const char *k = h->keys[i];
		const sbx_jval *v = &h->items[i];
		int r = 0;
		if (strcmp(k, "Memory") == 0)
			r = int_field(v, "HostConfig.Memory", &memory, err);
		else if (strcmp(k, "MemorySwap") == 0)
			r = int_field(v, "HostConfig.MemorySwap", &swap, err);
		else if (strcmp(k, "NanoCpus") == 0 || strcmp(k, "NanoCPUs") == 0)
			r = int_field(v, "HostConfig.NanoCpus", &nano, err);
		else if (strcmp(k, "CpuQuota") == 0)
			r = int_field(v, "HostConfig.CpuQuota", &quota, err);
		else if (strcmp(k, "CpuPeriod") == 0)
			r = int_field(v, "HostConfig.CpuPeriod", &period, err);
		else if (strcmp(k, "PidsLimit") == 0)
			r = int_field(v, "HostConfig.PidsLimit", &pids, err);
		else if (strcmp(k, "NetworkMode") == 0)
			r = str_field(v, "HostConfig.NetworkMode", &s->network_mode, err);
		else if (strcmp(k, "PortBindings") == 0)
			r = parse_ports(s, v, err);
		else if (strcmp(k, "ReadonlyRootfs") == 0)
			r = bool_field(v, "HostConfig.ReadonlyRootfs", &s->readonly_root, err);
		else if (strcmp(k, "AutoRemove") == 0)
			r = bool_field(v, "HostConfig.AutoRemove", &s->auto_remove, err);
		else if (strcmp(k, "Binds") == 0) {
			_cleanup_(dapi_strv_freep) char **binds = NULL;
			r = strslice(v, "HostConfig.Binds", &binds, err);
			for (size_t j = 0; r == 0 && binds && binds[j]; j++)
				r = parse_bind(s, binds[j], err);
		} else if (strcmp(k, "Tmpfs") == 0) {
			r = v->type == SBX_J_NULL ? 0 : parse_tmpfs(s, v, err);
		} else if (strcmp(k, "RestartPolicy") == 0) {
			const sbx_jval *n = sbx_jget(v, "Name");
			if (v->type != SBX_J_NULL && !dapi_json_zero(v) &&
			    !(n && str_in(n, restart_no)))
				r = sbx_fail(err, SBX_E_INVALID,
					     "HostConfig.RestartPolicy: restart policies are not "
					     "supported");
		} else if (strcmp(k, "SecurityOpt") == 0) {
			_cleanup_(dapi_strv_freep) char **so = NULL;
			r = strslice(v, "HostConfig.SecurityOpt", &so, err);
			for (size_t j = 0; r == 0 && so && so[j]; j++)
				if (strncmp(so[j], "no-new-privileges", 17) != 0)
					r = sbx_fail(
					    err, SBX_E_INVALID,
					    "HostConfig.SecurityOpt: %s is not supported (sbx "
					    "applies its own seccomp filter and no_new_privs)",
					    so[j]);
		} else {
			const tolerated *t = find_tol(
			    host_tolerated, sizeof(host_tolerated) / sizeof(*host_tolerated), k);
			if (!dapi_json_zero(v) && !(t && (!t->values || str_in(v, t->values))))
				r = sbx_fail(err, SBX_E_INVALID,
					     "HostConfig.%s is not supported by sbx (only its zero "
					     "value is accepted)",
					     k);
		}
		if (r < 0)
			return r;
	}
	if (memory < 0 || pids < -1 || nano < 0 || quota < -1 || period < 0)
		return sbx_fail(err, SBX_E_INVALID, "HostConfig: negative limit");
	if (memory > 0 && memory < (6 << 20))
		return sbx_fail(err, SBX_E_INVALID, "Minimum memory limit allowed is 6MB");
	if (swap > 0 && memory > 0 && swap < memory)
		return sbx_fail(err, SBX_E_INVALID,
				"Minimum memoryswap limit should be larger than memory limit, see "
				"usage");
	s->memory = (uint64_t)memory;
	s->memory_swap = swap;
	if (nano && (quota > 0 || period > 0))
		return sbx_fail(err, SBX_E_INVALID,
				"Conflicting options: Nano CPUs and CPU Period cannot both be set");
	if (nano)
		s->cpu_millis = (uint32_t)((nano + 999999) / 1000000);
	else if (quota > 0)
		s->cpu_millis = (uint32_t)((quota * 1000 + (period ? period : 100000) - 1) /
					   (period ? period : 100000));
	if (pids > 0)
		s->pids = (uint32_t)pids;
	return 0;
}

static int parse_labels(dapi_spec *s, const sbx_jval *v, sbx_error *err)
{
	if (v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, "Labels: not an object");
	_cleanup_free_ const char **k = calloc(v->n + 1, sizeof(char *));
	_cleanup_free_ const char **val = calloc(v->n + 1, sizeof(char *));
	if (!k || !val)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i].type != SBX_J_STR || strlen(v->items[i].str) != v->items[i].len)
			return sbx_fail(err, SBX_E_INVALID, "Labels.%s: not a string", v->keys[i]);
		k[i] = v->keys[i];
		val[i] = v->items[i].str;
	}
	s->label_keys = dapi_strv_dup(k);
	s->label_vals = dapi_strv_dup(val);
	s->n_labels = v->n;
	return s->label_keys && s->label_vals ? 0 : sbx_fail(err, SBX_E_SYSTEM, "out of memory");
}

int dapi_json_object(const char *body, size_t len, size_t max_values, sbx_jval **out,
		     sbx_error *err)
{
	int r = sbx_jparse_max(body, len, max_values, out, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "invalid JSON");
	if ((*out)->type != SBX_J_OBJ) {
		sbx_jfreep(out);
		return sbx_fail(err, SBX_E_INVALID, "invalid JSON: not an object");
	}
	return 0;
}

int dapi_spec_parse(const char *body, size_t len, dapi_spec *s, sbx_error *err)
{
	memset(s, 0, sizeof(*s));
	_cleanup_jval_ sbx_jval *root = NULL;
	int r = dapi_json_object(body, len, SPEC_MAX_VALUES, &root, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < root->n; i++) {
		const char *k = root->keys[i];
		const sbx_jval *v = &root->items[i];
		r = 0;
		if (strcmp(k, "Image") == 0)
			r = str_field(v, "Image", &s->image, err);
		else if (strcmp(k, "Cmd") == 0)
			r = strslice(v, "Cmd", &s->cmd, err);
		else if (strcmp(k, "Entrypoint") == 0) {
			r = strslice(v, "Entrypoint", &s->entrypoint, err);
			s->entrypoint_set = v->type != SBX_J_NULL;
		} else if (strcmp(k, "Env") == 0) {
			r = strslice(v, "Env", &s->env, err);
			for (size_t j = 0; r == 0 && s->env && s->env[j]; j++)
				if (!strchr(s->env[j], '=') || s->env[j][0] == '=')
					r = sbx_fail(err, SBX_E_INVALID, "Env: %s: not NAME=VALUE",
						     s->env[j]);
		} else if (strcmp(k, "WorkingDir") == 0)
			r = str_field(v, "WorkingDir", &s->workdir, err);
		else if (strcmp(k, "User") == 0)
			r = str_field(v, "User", &s->user, err);
		else if (strcmp(k, "Hostname") == 0)
			r = str_field(v, "Hostname", &s->hostname, err);
		else if (strcmp(k, "Labels") == 0)
			r = parse_labels(s, v, err);
		else if (strcmp(k, "Tty") == 0)
			r = bool_field(v, "Tty", &s->tty, err);
		else if (strcmp(k, "OpenStdin") == 0)
			r = bool_field(v, "OpenStdin", &s->open_stdin, err);
		else if (strcmp(k, "StdinOnce") == 0)
			r = bool_field(v, "StdinOnce", &s->stdin_once, err);
		else if (strcmp(k, "NetworkDisabled") == 0) {
			bool off = false;
			r = bool_field(v, "NetworkDisabled", &off, err);
			if (r == 0 && off) {
				free(s->network_mode);
				s->network_mode = strdup("none");
			}
		} else if (strcmp(k, "HostConfig") == 0)
			r = parse_host(s, v, err);
		else if (strcmp(k, "NetworkingConfig") == 0) {
			/* {"EndpointsConfig": {"none": {...}}}: only the mode counts */
		} else {
			const tolerated *t = find_tol(
			    top_tolerated, sizeof(top_tolerated) / sizeof(*top_tolerated), k);
			if (!dapi_json_zero(v) && !t)
				r = sbx_fail(err, SBX_E_INVALID,
					     "%s is not supported by sbx (only its zero value is "
					     "accepted)",
					     k);
		}
		if (r < 0)
			return r;
	}
	if (!s->image || !s->image[0])
		return sbx_fail(err, SBX_E_INVALID, "config: Image is required");
	if (s->user && s->user[0] && strcmp(s->user, "root") && strcmp(s->user, "0") &&
	    strcmp(s->user, "0:0") && strcmp(s->user, "root:root"))
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "User %s: sbx runs commands as the sandbox's root (uid 0, mapped to "
		    "an unprivileged host uid)",
		    s->user);
	if (s->workdir && s->workdir[0] && s->workdir[0] != '/')
		return sbx_fail(err, SBX_E_INVALID,
				"the working directory '%s' is invalid, it needs to be an absolute "
				"path",
				s->workdir);
	if (s->hostname && strlen(s->hostname) > 63)
		return sbx_fail(err, SBX_E_INVALID, "Hostname: longer than 63 characters");
	return 0;
}
