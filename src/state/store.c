/* Where long-lived sandboxes keep their config and runtime state. */
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/util.h"
#include "base/netspec.h"
#include "base/parse.h"
#include "base/readall.h"
#include "state/store.h"

const char *sbx_state_root(void)
{
	const char *v = getenv("SBX_STATE_DIR");
	return v && *v ? v : "/var/lib/sbx";
}

const char *sbx_run_root(void)
{
	const char *v = getenv("SBX_RUN_DIR");
	return v && *v ? v : "/run/sbx";
}

int sbx_paths_for(const char *name, sbx_paths *p, sbx_error *err)
{
	if (!name || sbx_valid_name(name, NULL) < 0)
		return sbx_fail(err, SBX_E_INVALID,
				"invalid sandbox name '%s' (letters, digits, _ . -; at most 64; "
				"starting with a letter or digit)",
				name ? name : "");
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	const char *st = sbx_state_root(), *rn = sbx_run_root();
	if (strlen(st) > PATH_MAX - 200 || strlen(rn) > 100)
		return sbx_fail(err, SBX_E_INVALID, "state or run directory path too long");
	snprintf(p->dir, sizeof(p->dir), "%s/sandboxes/%s", st, name);
	snprintf(p->config, sizeof(p->config), "%s/config", p->dir);
	snprintf(p->lock, sizeof(p->lock), "%s/lock", p->dir);
	snprintf(p->sup, sizeof(p->sup), "%s/supervisor", p->dir);
	snprintf(p->own_ws, sizeof(p->own_ws), "%s/workspace", p->dir);
	snprintf(p->run, sizeof(p->run), "%s/%s", rn, name);
	snprintf(p->state, sizeof(p->state), "%s/state", p->run);
	snprintf(p->sock, sizeof(p->sock), "%s/ctl.sock", p->run);
	return 0;
}

static int copy_str(char *dst, size_t cap, const char *src, const char *what, sbx_error *err)
{
	if (!src) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(src) >= cap)
		return sbx_fail(err, SBX_E_INVALID, "%s too long", what);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static void point_strings(sbx_sbconf *c)
{
	c->cfg.rootfs = c->rootfs[0] ? c->rootfs : NULL;
	c->cfg.workspace = c->workspace[0] ? c->workspace : NULL;
	c->cfg.cwd = c->cwd[0] ? c->cwd : NULL;
	c->cfg.hostname = c->hostname[0] ? c->hostname : NULL;
	c->cfg.cgroup_parent = c->cgroup_parent[0] ? c->cgroup_parent : NULL;
	c->cfg.driver = c->driver[0] ? c->driver : NULL;
	c->cfg.image = c->image[0] ? c->image : NULL;
	c->cfg.env = (const char *const *)c->env;
	c->cfg.n_env = c->n_env;
	c->cfg.net_allow = (const char *const *)c->net_allow;
	c->cfg.n_net_allow = c->n_net_allow;
	c->cfg.net_publish = (const char *const *)c->net_publish;
	c->cfg.n_net_publish = c->n_net_publish;
	c->cfg.net_dns = c->net_dns[0] ? c->net_dns : NULL;
	c->cfg.argv = NULL;
}

/* A copy of s at the end of the NULL-terminated list *v of *n. */
static int list_add(char ***v, size_t *n, const char *s)
{
	char **g = realloc(*v, (*n + 2) * sizeof(char *));
	if (!g)
		return -1;
	*v = g;
	if (!(g[*n] = strdup(s)))
		return -1;
	g[++*n] = NULL;
	return 0;
}

static void list_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int add_env(sbx_sbconf *c, const char *kv)
{
	return list_add(&c->env, &c->n_env, kv);
}

/* What an --allow, --publish or --dns value is made of (their syntax is
 * sbx_config_validate's): printable ASCII, no space, 1 to 300 bytes. */
static bool net_word(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 300)
		return false;
	for (; *v; v++)
		if (*v <= ' ' || *v > '~')
			return false;
	return true;
}

/* cfg's network lists and resolver, copied: what the file can hold. */
static int net_from(sbx_sbconf *c, const sbx_config *cfg, sbx_error *err)
{
	if (cfg->n_net_allow > SBX_STORE_MAX_ALLOW || cfg->n_net_publish > SBX_STORE_MAX_PUBLISH)
		return sbx_fail(err, SBX_E_INVALID,
				"too many allow (at most %d) or publish (at "
				"most %d) entries",
				SBX_STORE_MAX_ALLOW, SBX_STORE_MAX_PUBLISH);
	for (size_t i = 0; i < cfg->n_net_allow; i++)
		if (!cfg->net_allow[i] || !net_word(cfg->net_allow[i]))
			return sbx_fail(err, SBX_E_INVALID, "invalid allow entry %zu", i + 1);
		else if (list_add(&c->net_allow, &c->n_net_allow, cfg->net_allow[i]) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < cfg->n_net_publish; i++)
		if (!cfg->net_publish[i] || !net_word(cfg->net_publish[i]))
			return sbx_fail(err, SBX_E_INVALID, "invalid publish entry %zu", i + 1);
		else if (list_add(&c->net_publish, &c->n_net_publish, cfg->net_publish[i]) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	if (cfg->net_dns && !net_word(cfg->net_dns))
		return sbx_fail(err, SBX_E_INVALID, "invalid dns");
	return copy_str(c->net_dns, sizeof(c->net_dns), cfg->net_dns, "dns", err);
}

int sbx_sbconf_from(sbx_sbconf *c, const sbx_config *cfg, sbx_error *err)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	char real[PATH_MAX];
	const char *rootfs = cfg->rootfs ? cfg->rootfs : sbx_default_rootfs();
	if (!realpath(rootfs, real))
		return sbx_fail(err, SBX_E_ROOTFS,
				"rootfs not found: %s (build it with: make rootfs)", rootfs);
	int r = copy_str(c->rootfs, sizeof(c->rootfs), real, "rootfs path", err);
	if (r == 0 && cfg->workspace && cfg->workspace_mode != SBX_WS_NONE) {
		if (!realpath(cfg->workspace, real))
			return sbx_fail(err, SBX_E_PATH, "workspace not found: %s", cfg->workspace);
		r = copy_str(c->workspace, sizeof(c->workspace), real, "workspace path", err);
	}
	if (r == 0)
		r = copy_str(c->cwd, sizeof(c->cwd), cfg->cwd, "cwd", err);
	if (r == 0)
		r = copy_str(c->hostname, sizeof(c->hostname), cfg->hostname, "hostname", err);
	if (r == 0)
		r = copy_str(c->cgroup_parent, sizeof(c->cgroup_parent), cfg->cgroup_parent,
			     "cgroup parent", err);
	if (r == 0 && cfg->driver && strcmp(cfg->driver, "native") != 0)
		r = copy_str(c->driver, sizeof(c->driver), cfg->driver, "driver", err);
	if (r == 0)
		r = copy_str(c->image, sizeof(c->image), cfg->image, "image", err);
	for (size_t i = 0; r == 0 && i < cfg->n_env; i++)
		if (add_env(c, cfg->env[i]) < 0)
			r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	r = r < 0 ? r : net_from(c, cfg, err);
	point_strings(c);
	return r;
}

/* ---- The config and state files as text (no I/O) ------------------------ */

/* key=value, with \ and newline escaped (\\, \n) in the value. */
static void put(sbx_buf *b, const char *key, const char *v)
{
	sbx_buf_puts(b, key);
	sbx_buf_puts(b, "=");
	for (; *v; v++) {
		if (*v == '\\')
			sbx_buf_puts(b, "\\\\");
		else if (*v == '\n')
			sbx_buf_puts(b, "\\n");
		else
			sbx_buf_append(b, v, 1);
	}
	sbx_buf_puts(b, "\n");
}

static int buf_result(const sbx_buf *b, sbx_error *err)
{
	return b->oom ? sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "out of memory") : 0;
}

int sbx_sbconf_format(const sbx_sbconf *c, sbx_buf *b, sbx_error *err)
{
	const sbx_config *g = &c->cfg;
	sbx_buf_printf(b, "version=1\ncreated=%lld\n", (long long)c->created);
	put(b, "rootfs", c->rootfs);
	sbx_buf_printf(b,
		       "memory=%llu\ncpu_millis=%u\npids=%u\ntimeout_ms=%llu\noutput_limit=%llu\n",
		       (unsigned long long)g->memory_bytes, g->cpu_millis, g->pids_max,
		       (unsigned long long)g->timeout_ms, (unsigned long long)g->output_limit);
	sbx_buf_printf(b, "tmp_size=%llu\nroot_size=%llu\nfsize=%llu\nnofile=%u\nnet=%s\n",
		       (unsigned long long)g->tmp_size, (unsigned long long)g->root_size,
		       (unsigned long long)g->fsize_limit, g->nofile,
		       g->net == SBX_NET_EGRESS	    ? "egress"
		       : g->net == SBX_NET_LOOPBACK ? "loopback"
						    : "none");
	put(b, "dns", c->net_dns);
	put(b, "workspace", c->workspace);
	sbx_buf_printf(b, "workspace_mode=%s\nown_workspace=%d\n",
		       g->workspace_mode == SBX_WS_RO	? "ro"
		       : g->workspace_mode == SBX_WS_RW ? "rw"
							: "none",
		       c->own_workspace);
	put(b, "cwd", c->cwd);
	put(b, "hostname", c->hostname);
	put(b, "cgroup_parent", c->cgroup_parent);
	put(b, "driver", c->driver);
	put(b, "image", c->image);
	sbx_buf_printf(b, "map_uid=%u\nmap_gid=%u\nmap_count=%u\nidle_timeout_ms=%llu\n",
		       g->map_uid, g->map_gid, g->map_count,
		       (unsigned long long)c->idle_timeout_ms);
	for (size_t i = 0; i < c->n_env; i++)
		put(b, "env", c->env[i]);
	for (size_t i = 0; i < c->n_net_allow; i++)
		put(b, "allow", c->net_allow[i]);
	for (size_t i = 0; i < c->n_net_publish; i++)
		put(b, "publish", c->net_publish[i]);
	return buf_result(b, err);
}

int sbx_sbstate_format(const sbx_sbstate *s, sbx_buf *b, sbx_error *err)
{
	sbx_buf_printf(b, "sup_pid=%d\nsup_start=%llu\ninit_pid=%d\nstarted=%lld\n",
		       (int)s->sup_pid, (unsigned long long)s->sup_start, (int)s->init_pid,
		       (long long)s->started);
	for (int c = 0; c < SBX_CG_N; c++)
		if (s->cg[c][0])
			put(b, "cgroup", s->cg[c]);
	return buf_result(b, err);
}

/* The reading side: a table of the keys a file may hold, where each value
 * goes (an offset into the struct being filled) and how it is checked. */
typedef enum key_kind {
	K_VERSION, /* must be 1 */
	K_U64,
	K_U32,
	K_PID, /* int, 0..INT32_MAX */
	K_I64,
	K_BOOL, /* 0 or 1 */
	K_STR,	/* char[cap] */
	K_NET,	/* none, loopback, egress */
	K_WORD, /* char[cap]: empty, or as net_word */
	K_WS,	/* none, ro, rw */
	K_LIST, /* may repeat: each value goes to file_spec.list */
} key_kind;

typedef struct key_spec {
	const char *key;
	key_kind kind;
	size_t off, cap;
	bool required;
} key_spec;

typedef struct file_spec {
	const key_spec *fields;
	size_t n;
	/* key: the list's, for files with more than one */
	int (*list)(void *obj, const char *key, unsigned line, const char *v, sbx_error *err);
} file_spec;

/* Decimal digits only (no sign, space or empty string), at most max. */
static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	if (!*v)
		return -1;
	uint64_t n = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		uint64_t d = (uint64_t)(*v - '0');
		if (d > max || n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

static int parse_i64(const char *v, int64_t *out)
{
	uint64_t u;
	bool neg = *v == '-';
	if (parse_u64(v + neg, INT64_MAX, &u) < 0)
		return -1;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* Undo put()'s escaping of n bytes of s into out (n+1 bytes). -1 on an
 * escape put() does not write. */
static int unescape(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			*out++ = s[i];
			continue;
		}
		if (++i == n || (s[i] != '\\' && s[i] != 'n'))
			return -1;
		*out++ = s[i] == 'n' ? '\n' : '\\';
	}
	*out = '\0';
	return 0;
}

static int set_field(const file_spec *fs, const key_spec *f, void *obj, unsigned no, const char *v,
		     sbx_error *err)
{
	char *at = (char *)obj + f->off;
	uint64_t u, max = UINT64_MAX;
	int64_t i;
	switch (f->kind) {
	case K_VERSION:
		if (strcmp(v, "1") != 0)
			return sbx_fail(err, SBX_E_STATE, "line %u: version %.20s is not supported",
					no, v);
		return 0;
	case K_U32:
	case K_PID:
		max = f->kind == K_U32 ? UINT32_MAX : INT32_MAX;
		/* fall through */
	case K_U64:
		if (parse_u64(v, max, &u) < 0)
			return sbx_fail(err, SBX_E_STATE,
					"line %u: %s=%.40s is not a number from 0 to %llu", no,
					f->key, v, (unsigned long long)max);
		if (f->kind == K_U64)
			*(uint64_t *)(void *)at = u;
		else if (f->kind == K_U32)
			*(uint32_t *)(void *)at = (uint32_t)u;
		else
			*(pid_t *)(void *)at = (pid_t)u;
		return 0;
	case K_I64:
		if (parse_i64(v, &i) < 0)
			return sbx_fail(err, SBX_E_STATE, "line %u: %s=%.40s is not a number", no,
					f->key, v);
		*(int64_t *)(void *)at = i;
		return 0;
	case K_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return sbx_fail(err, SBX_E_STATE, "line %u: %s=%.40s is not 0 or 1", no,
					f->key, v);
		*(bool *)(void *)at = v[0] == '1';
		return 0;
	case K_STR:
		if (strlen(v) >= f->cap)
			return sbx_fail(err, SBX_E_INVALID, "line %u: %s too long", no, f->key);
		memcpy(at, v, strlen(v) + 1);
		return 0;
	case K_NET:
		if (strcmp(v, "none") != 0 && strcmp(v, "loopback") != 0 &&
		    strcmp(v, "egress") != 0)
			return sbx_fail(err, SBX_E_STATE,
					"line %u: %s=%.40s is not none, loopback or egress", no,
					f->key, v);
		*(sbx_net_mode *)(void *)at = v[0] == 'l'   ? SBX_NET_LOOPBACK
					      : v[0] == 'e' ? SBX_NET_EGRESS
							    : SBX_NET_NONE;
		return 0;
	case K_WORD:
		if (v[0] && !net_word(v))
			return sbx_fail(
			    err, SBX_E_STATE,
			    "line %u: %s: not printable ASCII without spaces, or longer "
			    "than 300 bytes",
			    no, f->key);
		if (strlen(v) >= f->cap)
			return sbx_fail(err, SBX_E_STATE, "line %u: %s too long", no, f->key);
		memcpy(at, v, strlen(v) + 1);
		return 0;
	case K_WS:
		if (strcmp(v, "none") != 0 && strcmp(v, "ro") != 0 && strcmp(v, "rw") != 0)
			return sbx_fail(err, SBX_E_STATE, "line %u: %s=%.40s is not none, ro or rw",
					no, f->key, v);
		*(sbx_ws_mode *)(void *)at = !strcmp(v, "ro")	? SBX_WS_RO
					     : !strcmp(v, "rw") ? SBX_WS_RW
								: SBX_WS_NONE;
		return 0;
	case K_LIST:
		return fs->list(obj, f->key, no, v, err);
	}
	return 0;
}

static int parse_file(const file_spec *fs, const char *text, size_t len, void *obj, sbx_error *err)
{
	if (len == 0)
		return sbx_fail(err, SBX_E_STATE, "empty file");
	if (text[len - 1] != '\n')
		return sbx_fail(err, SBX_E_STATE, "truncated (no newline at the end)");
	uint64_t seen = 0;
	unsigned no = 0;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *line = p, *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)(nl - line);
		p = nl + 1;
		no++;
		if (ll == 0)
			continue;
		if (memchr(line, '\0', ll))
			return sbx_fail(err, SBX_E_STATE, "line %u: NUL byte", no);
		const char *eq = memchr(line, '=', ll);
		if (!eq || eq == line)
			return sbx_fail(err, SBX_E_STATE, "line %u is not key=value: %.*s", no,
					(int)(ll < 40 ? ll : 40), line);
		size_t kl = (size_t)(eq - line), vl = ll - kl - 1, k = 0;
		while (k < fs->n && !(strlen(fs->fields[k].key) == kl &&
				      memcmp(fs->fields[k].key, line, kl) == 0))
			k++;
		if (k == fs->n)
			continue; /* a key of a newer sbx */
		const key_spec *f = &fs->fields[k];
		if (f->kind != K_LIST && (seen & (1ull << k)))
			return sbx_fail(err, SBX_E_STATE, "line %u: %s given twice", no, f->key);
		seen |= 1ull << k;
		_cleanup_free_ char *v = malloc(vl + 1);
		if (!v)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "out of memory");
		if (unescape(eq + 1, vl, v) < 0)
			return sbx_fail(err, SBX_E_STATE, "line %u: %s: bad escape", no, f->key);
		int r = set_field(fs, f, obj, no, v, err);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < fs->n; k++)
		if (fs->fields[k].required && !(seen & (1ull << k)))
			return sbx_fail(err, SBX_E_STATE, "no %s line", fs->fields[k].key);
	return 0;
}

#define CONF(k, kind, member)                                                                      \
	{                                                                                          \
		k, kind, offsetof(sbx_sbconf, member), 0, false                                    \
	}
#define CONF_STR(k, member)                                                                        \
	{                                                                                          \
		k, K_STR, offsetof(sbx_sbconf, member), sizeof(((sbx_sbconf *)0)->member), false   \
	}
#define CONF_WORD(k, member)                                                                       \
	{                                                                                          \
		k, K_WORD, offsetof(sbx_sbconf, member), sizeof(((sbx_sbconf *)0)->member), false  \
	}

static const key_spec conf_fields[] = {
    {"version", K_VERSION, 0, 0, true},
    CONF("created", K_I64, created),
    CONF_STR("rootfs", rootfs),
    CONF("memory", K_U64, cfg.memory_bytes),
    CONF("cpu_millis", K_U32, cfg.cpu_millis),
    CONF("pids", K_U32, cfg.pids_max),
    CONF("timeout_ms", K_U64, cfg.timeout_ms),
    CONF("output_limit", K_U64, cfg.output_limit),
    CONF("tmp_size", K_U64, cfg.tmp_size),
    CONF("root_size", K_U64, cfg.root_size),
    CONF("fsize", K_U64, cfg.fsize_limit),
    CONF("nofile", K_U32, cfg.nofile),
    CONF("net", K_NET, cfg.net),
    CONF_WORD("dns", net_dns),
    CONF_STR("workspace", workspace),
    CONF("workspace_mode", K_WS, cfg.workspace_mode),
    CONF("own_workspace", K_BOOL, own_workspace),
    CONF_STR("cwd", cwd),
    CONF_STR("hostname", hostname),
    CONF_STR("cgroup_parent", cgroup_parent),
    CONF_STR("driver", driver),
    CONF_STR("image", image),
    CONF("map_uid", K_U32, cfg.map_uid),
    CONF("map_gid", K_U32, cfg.map_gid),
    CONF("map_count", K_U32, cfg.map_count),
    CONF("idle_timeout_ms", K_U64, idle_timeout_ms),
    {"env", K_LIST, 0, 0, false},
    {"allow", K_LIST, 0, 0, false},
    {"publish", K_LIST, 0, 0, false},
};
_Static_assert(ARRAY_LEN(conf_fields) <= 64, "one bit per key in parse_file");
_Static_assert(sizeof(uid_t) == sizeof(uint32_t) && sizeof(gid_t) == sizeof(uint32_t),
	       "map_uid and map_gid are read as uint32_t");
_Static_assert(sizeof(bool) == 1, "own_workspace");

/* An allow, publish or dns value parses as sbx_config_validate wants it
 * (base/netspec.h): else SBX_E_STATE naming the line and what is wrong. */
static int net_entry_check(const char *key, const char *v, unsigned no, sbx_error *err)
{
	sbx_error pe = {0};
	int r;
	if (key[0] == 'a') {
		sbx_net_allow a;
		r = sbx_net_allow_parse(v, &a, &pe);
	} else if (key[0] == 'p') {
		sbx_net_publish pp;
		r = sbx_net_publish_parse(v, &pp, &pe);
	} else {
		sbx_net_dns d;
		r = sbx_net_dns_parse(v, &d, &pe);
	}
	return r < 0 ? sbx_fail(err, SBX_E_STATE, "line %u: %s", no, pe.msg) : 0;
}

static int conf_list(void *obj, const char *key, unsigned no, const char *v, sbx_error *err)
{
	sbx_sbconf *c = obj;
	if (strcmp(key, "env") != 0) {
		bool allow = strcmp(key, "allow") == 0;
		size_t *n = allow ? &c->n_net_allow : &c->n_net_publish;
		size_t max = allow ? SBX_STORE_MAX_ALLOW : SBX_STORE_MAX_PUBLISH;
		if (*n >= max)
			return sbx_fail(err, SBX_E_STATE, "line %u: more than %zu %s lines", no,
					max, key);
		if (!net_word(v))
			return sbx_fail(err, SBX_E_STATE,
					"line %u: %s: not printable ASCII without spaces, 1 to 300 "
					"bytes",
					no, key);
		if (net_entry_check(key, v, no, err) < 0)
			return -SBX_E_STATE;
		if (list_add(allow ? &c->net_allow : &c->net_publish, n, v) < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "out of memory");
		return 0;
	}
	const char *eq = strchr(v, '=');
	if (!eq || eq == v)
		return sbx_fail(err, SBX_E_INVALID, "line %u: invalid environment entry: %.100s",
				no, v);
	if (add_env(obj, v) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "out of memory");
	return 0;
}

/* The number of the "dns=" line of text (for messages; 0 if none). */
static unsigned dns_line(const char *text, size_t len)
{
	unsigned no = 1;
	for (size_t i = 0; i < len; i++) {
		if ((i == 0 || text[i - 1] == '\n') && len - i >= 4 && !memcmp(text + i, "dns=", 4))
			return no;
		no += text[i] == '\n';
	}
	return 0;
}

int sbx_sbconf_parse(const char *text, size_t len, sbx_sbconf *c, sbx_error *err)
{
	static const file_spec spec = {conf_fields, ARRAY_LEN(conf_fields), conf_list};
	memset(c, 0, sizeof(*c));
	sbx_config_init(&c->cfg);
	int r = parse_file(&spec, text, len, c, err);
	if (r == 0 && c->cfg.net != SBX_NET_EGRESS &&
	    (c->n_net_allow || c->n_net_publish || c->net_dns[0]))
		r = sbx_fail(err, SBX_E_STATE, "allow, publish or dns without net=egress");
	if (r == 0 && c->net_dns[0])
		r = net_entry_check("dns", c->net_dns, dns_line(text, len), err);
	if (r < 0) {
		sbx_sbconf_free(c);
		c->net_dns[0] = '\0';
	}
	point_strings(c);
	return r;
}

#define STATE(k, kind, member)                                                                     \
	{                                                                                          \
		k, kind, offsetof(sbx_sbstate, member), 0, true                                    \
	}

static const key_spec state_fields[] = {
    STATE("sup_pid", K_PID, sup_pid),	STATE("sup_start", K_U64, sup_start),
    STATE("init_pid", K_PID, init_pid), STATE("started", K_I64, started),
    {"cgroup", K_LIST, 0, 0, false},
};
_Static_assert(sizeof(pid_t) == sizeof(int32_t), "pids are read as int32");

static int state_cgroup(void *obj, const char *key, unsigned no, const char *v, sbx_error *err)
{
	(void)key;
	sbx_sbstate *s = obj;
	int k = 0;
	while (k < SBX_CG_N && s->cg[k][0])
		k++;
	if (k == SBX_CG_N)
		return sbx_fail(err, SBX_E_STATE, "line %u: more than %d cgroup lines", no,
				SBX_CG_N);
	if (!v[0] || strlen(v) >= sizeof(s->cg[k]))
		return sbx_fail(err, SBX_E_STATE, "line %u: cgroup path empty or too long", no);
	memcpy(s->cg[k], v, strlen(v) + 1);
	return 0;
}

int sbx_sbstate_parse(const char *text, size_t len, sbx_sbstate *s, sbx_error *err)
{
	static const file_spec spec = {state_fields, ARRAY_LEN(state_fields), state_cgroup};
	memset(s, 0, sizeof(*s));
	int r = parse_file(&spec, text, len, s, err);
	if (r < 0)
		memset(s, 0, sizeof(*s));
	return r;
}

/* ---- Saving and loading ------------------------------------------------- */

/* Bounds on what load reads: a config holds at most the env of a request
 * (SBX_PROTO_MAX_ARGS, 1 MiB), escaped; a state file a few paths. */
#define CONF_MAX (8u << 20)
#define STATE_MAX (64u << 10)

int sbx_sbconf_save(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err)
{
	_cleanup_(sbx_buf_free) sbx_buf b = {0};
	int r = sbx_sbconf_format(c, &b, err);
	return r < 0 ? r : sbx_write_file_atomic(p->config, b.data, b.len, 0666, err);
}

int sbx_sbconf_load(const sbx_paths *p, sbx_sbconf *c, sbx_error *err)
{
	memset(c, 0, sizeof(*c));
	sbx_config_init(&c->cfg);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = sbx_read_all(AT_FDCWD, p->config, CONF_MAX, &text, &len, err);
	if (r == -SBX_E_NOTFOUND)
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", p->name);
	if (r < 0)
		return r;
	r = sbx_sbconf_parse(text, len, c, err);
	return r < 0 ? sbx_error_wrap(err, r, "sandbox %s: %s", p->name, p->config) : 0;
}

void sbx_sbconf_free(sbx_sbconf *c)
{
	list_free(&c->env, &c->n_env);
	list_free(&c->net_allow, &c->n_net_allow);
	list_free(&c->net_publish, &c->n_net_publish);
	c->cfg.env = NULL;
	c->cfg.n_env = 0;
	c->cfg.net_allow = c->cfg.net_publish = NULL;
	c->cfg.n_net_allow = c->cfg.n_net_publish = 0;
}

int sbx_sbstate_save(const sbx_paths *p, const sbx_sbstate *s, sbx_error *err)
{
	_cleanup_(sbx_buf_free) sbx_buf b = {0};
	int r = sbx_sbstate_format(s, &b, err);
	return r < 0 ? r : sbx_write_file_atomic(p->state, b.data, b.len, 0666, err);
}

int sbx_sbstate_load(const sbx_paths *p, sbx_sbstate *s, sbx_error *err)
{
	memset(s, 0, sizeof(*s));
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = sbx_read_all(AT_FDCWD, p->state, STATE_MAX, &text, &len, err);
	if (r == 0)
		r = sbx_sbstate_parse(text, len, s, err);
	return r < 0 ? sbx_error_wrap(err, r, "sandbox %s", p->name) : 0;
}

bool sbx_sbstate_alive(const sbx_sbstate *s)
{
	return s->sup_pid > 0 && s->sup_start && sbx_proc_start(s->sup_pid) == s->sup_start;
}

void sbx_sbstate_cleanup(const sbx_paths *p, const sbx_sbstate *s)
{
	for (int c = 0; c < SBX_CG_N; c++) {
		/* Anything still in it (the init died with the supervisor, so
		 * nothing should be) is killed (core/cgroup.h). The file is
		 * not trusted: a cgroup someone alive holds is not touched. */
		if (s->cg[c][0] && strstr(s->cg[c], "/sbx-") && !sbx_cgroup_owned(s->cg[c]))
			sbx_cgroup_remove(-1, s->cg[c], NULL);
	}
	unlink(p->sock);
	unlink(p->state);
	rmdir(p->run);
}

int sbx_sbdir_create(const sbx_paths *p, sbx_error *err)
{
	char sbdir[PATH_MAX + 16];
	snprintf(sbdir, sizeof(sbdir), "%s/sandboxes", sbx_state_root());
	int r = sbx_mkdir_p(sbdir, 0700, err);
	if (r < 0)
		return r;
	if (mkdir(p->dir, 0700) < 0)
		return errno == EEXIST
			   ? sbx_fail(err, SBX_E_EXISTS, "sandbox %s already exists", p->name)
			   : sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", p->dir);
	int lk = sbx_lock(p);
	if (lk < 0) {
		sbx_rm_tree(p->dir);
		return sbx_fail_errno(err, SBX_E_SYSTEM, -lk, "cannot lock %s", p->lock);
	}
	return lk;
}

int sbx_lock(const sbx_paths *p)
{
	int fd = open(p->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	return fd;
}

int sbx_sup_lock(const sbx_paths *p, sbx_error *err)
{
	_cleanup_close_ int fd =
	    open(p->sup, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", p->sup);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES
			   ? sbx_fail(err, SBX_E_STATE, "sandbox %s: another supervisor is running",
				      p->name)
			   : sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot lock %s", p->sup);
	return sbx_steal_fd(&fd);
}

pid_t sbx_sup_holder(const sbx_paths *p)
{
	_cleanup_close_ int fd = open(p->sup, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK || fl.l_pid <= 0)
		return 0;
	return fl.l_pid;
}

/* ---- Removing a tree, fd-relative ------------------------------------------
 * Depth is unbounded (a sandbox may build a tree deeper than PATH_MAX in its
 * workspace) and fds are not: one directory is open at a time. Going down is
 * openat(name, O_NOFOLLOW | O_DIRECTORY), so a symlink is never followed (it
 * is unlinked like a file); going up is openat(".."), checked against the
 * device and inode recorded on the way down, so a directory moved meanwhile
 * cannot lead the walk outside the tree. A mount root (statx
 * STATX_ATTR_MOUNT_ROOT; on kernels without it, another device) is detached
 * (MNT_DETACH, never entered) and then removed like any directory, or the
 * removal fails (EBUSY) when something stays mounted there. */

typedef struct rm_level {
	dev_t dev;
	ino_t ino;
	char *name; /* in the parent */
} rm_level;

static bool is_mount_root(int dirfd, const char *name, dev_t top_dev)
{
	struct statx sx;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
		return false;
	/* The kernel says (5.8+); else another device is taken for a mount
	 * (older kernels: a btrfs subvolume would then be refused). */
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	return makedev(sx.stx_dev_major, sx.stx_dev_minor) != top_dev;
}

/* Detach what is mounted at dirfd/name (not followed: MNT_DETACH on the
 * mount itself through /proc/self/fd). */
static int detach_mount(int dirfd, const char *name)
{
	char p[64 + NAME_MAX];
	snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, name);
	return umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}

static void free_levels(rm_level *lv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lv[i].name);
	free(lv);
}

/* Empty the directory fd (consumed) and everything below it; returns 0 or
 * -errno. top_dev: the tree's device. */
static int empty_tree(int fd, dev_t top_dev)
{
	rm_level *lv = NULL;
	size_t depth = 0, cap = 0;
	int r = 0;
	for (;;) {
		/* Scan the current directory: unlink files, descend into the
		 * first subdirectory found. */
		int dfd = dup(fd);
		DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
		if (!d) {
			r = -errno;
			if (dfd >= 0)
				close(dfd);
			break;
		}
		char *down = NULL;
		struct dirent *e;
		errno = 0;
		while (r == 0 && (e = readdir(d))) {
			const char *n = e->d_name;
			if (!strcmp(n, ".") || !strcmp(n, ".."))
				continue;
			if (unlinkat(fd, n, 0) == 0 || errno == ENOENT)
				continue;
			if (errno != EISDIR && errno != EPERM) {
				r = -errno;
				break;
			}
			if (is_mount_root(fd, n, top_dev)) {
				int m = detach_mount(fd, n);
				if (m < 0 && m != -EINVAL) {
					r = m;
					break;
				}
				if (is_mount_root(fd, n, top_dev)) { /* stacked, or not ours */
					r = -EBUSY;
					break;
				}
			}
			if (unlinkat(fd, n, AT_REMOVEDIR) == 0 || errno == ENOENT)
				continue;
			if (errno != ENOTEMPTY && errno != EEXIST) {
				r = -errno;
				break;
			}
			if (!(down = strdup(n)))
				r = -ENOMEM;
			break;
		}
		closedir(d);
		if (r < 0)
			break;
		if (down) {
			struct stat st;
			int c = openat(fd, down, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c < 0 || fstat(c, &st) < 0) {
				r = -errno;
				if (c >= 0)
					close(c);
				free(down);
				break;
			}
			if (depth == cap) {
				rm_level *g = realloc(lv, (cap = cap ? cap * 2 : 64) * sizeof(*lv));
				if (!g) {
					close(c);
					free(down);
					r = -ENOMEM;
					break;
				}
				lv = g;
			}
			struct stat ps;
			if (fstat(fd, &ps) < 0) {
				r = -errno;
				close(c);
				free(down);
				break;
			}
			lv[depth++] = (rm_level){ps.st_dev, ps.st_ino, down};
			close(fd);
			fd = c;
			continue;
		}
		/* This directory is empty: go up and remove it. */
		if (depth == 0)
			break;
		rm_level *up = &lv[depth - 1];
		int p = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat ps;
		if (p < 0 || fstat(p, &ps) < 0 || ps.st_dev != up->dev || ps.st_ino != up->ino) {
			r = p < 0 ? -errno : -ESTALE; /* moved under us: stop here */
			if (p >= 0)
				close(p);
			break;
		}
		close(fd);
		fd = p;
		if (unlinkat(fd, up->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		free(up->name);
		depth--;
	}
	close(fd);
	free_levels(lv, depth);
	return r;
}

int sbx_rm_tree_at(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = empty_tree(fd, st.st_dev);
	if (r < 0)
		return r;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int sbx_rm_tree(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	size_t l = strlen(copy);
	while (l > 1 && copy[l - 1] == '/')
		copy[--l] = '\0';
	char *slash = strrchr(copy, '/');
	const char *name = slash ? slash + 1 : copy;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	_cleanup_close_ int dfd = -1;
	if (slash) {
		*slash = '\0';
		dfd = open(slash == copy ? "/" : copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return errno == ENOENT ? 0 : -errno;
	}
	int r = sbx_rm_tree_at(slash ? dfd : AT_FDCWD, name);
	if (r < 0)
		errno = -r;
	return r;
}
