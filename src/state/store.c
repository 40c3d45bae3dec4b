/* Where long-lived sandboxes keep their config and runtime state. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/util.h"
#include "base/parse.h"
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
	if (!name || sbx_valid_name(name) < 0)
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
	snprintf(p->own_ws, sizeof(p->own_ws), "%s/workspace", p->dir);
	snprintf(p->run, sizeof(p->run), "%s/%s", rn, name);
	snprintf(p->state, sizeof(p->state), "%s/state", p->run);
	snprintf(p->sock, sizeof(p->sock), "%s/ctl.sock", p->run);
	return 0;
}

/* Values are written with \\ and \n escaped, one key=value per line. */
static void put(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s=", key);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('\n', f);
}

static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
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
	c->cfg.argv = NULL;
}

static int add_env(sbx_sbconf *c, const char *kv)
{
	char **g = realloc(c->env, (c->n_env + 2) * sizeof(char *));
	if (!g)
		return -1;
	c->env = g;
	if (!(c->env[c->n_env] = strdup(kv)))
		return -1;
	c->env[++c->n_env] = NULL;
	return 0;
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
	point_strings(c);
	return r;
}

int sbx_sbconf_save(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->config);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return sbx_fail(err, SBX_E_SYSTEM, "cannot write %s: %s", tmp, strerror(errno));
	const sbx_config *g = &c->cfg;
	fprintf(f, "version=1\ncreated=%lld\n", (long long)c->created);
	put(f, "rootfs", c->rootfs);
	fprintf(f, "memory=%llu\ncpu_millis=%u\npids=%u\ntimeout_ms=%llu\noutput_limit=%llu\n",
		(unsigned long long)g->memory_bytes, g->cpu_millis, g->pids_max,
		(unsigned long long)g->timeout_ms, (unsigned long long)g->output_limit);
	fprintf(f, "tmp_size=%llu\nfsize=%llu\nnofile=%u\nnet=%s\n",
		(unsigned long long)g->tmp_size, (unsigned long long)g->fsize_limit, g->nofile,
		g->net == SBX_NET_LOOPBACK ? "loopback" : "none");
	put(f, "workspace", c->workspace);
	fprintf(f, "workspace_mode=%s\nown_workspace=%d\n",
		g->workspace_mode == SBX_WS_RO	 ? "ro"
		: g->workspace_mode == SBX_WS_RW ? "rw"
						 : "none",
		c->own_workspace);
	put(f, "cwd", c->cwd);
	put(f, "hostname", c->hostname);
	put(f, "cgroup_parent", c->cgroup_parent);
	put(f, "driver", c->driver);
	put(f, "image", c->image);
	fprintf(f, "map_uid=%u\nmap_gid=%u\nmap_count=%u\nidle_timeout_ms=%llu\n", g->map_uid,
		g->map_gid, g->map_count, (unsigned long long)c->idle_timeout_ms);
	for (size_t i = 0; i < c->n_env; i++)
		put(f, "env", c->env[i]);
	bool bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, p->config) < 0) {
		unlink(tmp);
		return sbx_fail(err, SBX_E_SYSTEM, "cannot write %s: %s", p->config,
				strerror(errno));
	}
	return 0;
}

int sbx_sbconf_load(const sbx_paths *p, sbx_sbconf *c, sbx_error *err)
{
	memset(c, 0, sizeof(*c));
	sbx_config_init(&c->cfg);
	FILE *f = fopen(p->config, "re");
	if (!f)
		return errno == ENOENT
			   ? sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", p->name)
			   : sbx_fail(err, SBX_E_SYSTEM, "cannot read %s: %s", p->config,
				      strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;
	sbx_config *g = &c->cfg;
	while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *k = line, *v = eq + 1;
		unescape(v);
		unsigned long long u = strtoull(v, NULL, 10);
		if (!strcmp(k, "created"))
			c->created = (int64_t)u;
		else if (!strcmp(k, "rootfs"))
			r = copy_str(c->rootfs, sizeof(c->rootfs), v, k, err);
		else if (!strcmp(k, "memory"))
			g->memory_bytes = u;
		else if (!strcmp(k, "cpu_millis"))
			g->cpu_millis = (uint32_t)u;
		else if (!strcmp(k, "pids"))
			g->pids_max = (uint32_t)u;
		else if (!strcmp(k, "timeout_ms"))
			g->timeout_ms = u;
		else if (!strcmp(k, "output_limit"))
			g->output_limit = u;
		else if (!strcmp(k, "tmp_size"))
			g->tmp_size = u;
		else if (!strcmp(k, "fsize"))
			g->fsize_limit = u;
		else if (!strcmp(k, "nofile"))
			g->nofile = (uint32_t)u;
		else if (!strcmp(k, "net"))
			g->net = !strcmp(v, "loopback") ? SBX_NET_LOOPBACK : SBX_NET_NONE;
		else if (!strcmp(k, "workspace"))
			r = copy_str(c->workspace, sizeof(c->workspace), v, k, err);
		else if (!strcmp(k, "workspace_mode"))
			g->workspace_mode = !strcmp(v, "ro")   ? SBX_WS_RO
					    : !strcmp(v, "rw") ? SBX_WS_RW
							       : SBX_WS_NONE;
		else if (!strcmp(k, "own_workspace"))
			c->own_workspace = u != 0;
		else if (!strcmp(k, "cwd"))
			r = copy_str(c->cwd, sizeof(c->cwd), v, k, err);
		else if (!strcmp(k, "hostname"))
			r = copy_str(c->hostname, sizeof(c->hostname), v, k, err);
		else if (!strcmp(k, "cgroup_parent"))
			r = copy_str(c->cgroup_parent, sizeof(c->cgroup_parent), v, k, err);
		else if (!strcmp(k, "driver"))
			r = copy_str(c->driver, sizeof(c->driver), v, k, err);
		else if (!strcmp(k, "image"))
			r = copy_str(c->image, sizeof(c->image), v, k, err);
		else if (!strcmp(k, "map_uid"))
			g->map_uid = (uid_t)u;
		else if (!strcmp(k, "map_gid"))
			g->map_gid = (gid_t)u;
		else if (!strcmp(k, "map_count"))
			g->map_count = (uint32_t)u;
		else if (!strcmp(k, "idle_timeout_ms"))
			c->idle_timeout_ms = u;
		else if (!strcmp(k, "env") && add_env(c, v) < 0)
			r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	free(line);
	fclose(f);
	point_strings(c);
	return r;
}

void sbx_sbconf_free(sbx_sbconf *c)
{
	for (size_t i = 0; i < c->n_env; i++)
		free(c->env[i]);
	free(c->env);
	c->env = NULL;
	c->n_env = 0;
}

int sbx_sbstate_save(const sbx_paths *p, const sbx_sbstate *s)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->state);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "sup_pid=%d\nsup_start=%llu\ninit_pid=%d\nstarted=%lld\n", (int)s->sup_pid,
		(unsigned long long)s->sup_start, (int)s->init_pid, (long long)s->started);
	for (int c = 0; c < SBX_CG_N; c++)
		if (s->cg[c][0])
			put(f, "cgroup", s->cg[c]);
	bool bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, p->state) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
}

int sbx_sbstate_load(const sbx_paths *p, sbx_sbstate *s)
{
	memset(s, 0, sizeof(*s));
	FILE *f = fopen(p->state, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ncg = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *v = eq + 1;
		unescape(v);
		if (!strcmp(line, "sup_pid"))
			s->sup_pid = (pid_t)atoi(v);
		else if (!strcmp(line, "sup_start"))
			s->sup_start = strtoull(v, NULL, 10);
		else if (!strcmp(line, "init_pid"))
			s->init_pid = (pid_t)atoi(v);
		else if (!strcmp(line, "started"))
			s->started = strtoll(v, NULL, 10);
		else if (!strcmp(line, "cgroup") && ncg < SBX_CG_N)
			snprintf(s->cg[ncg++], PATH_MAX, "%s", v);
	}
	free(line);
	fclose(f);
	return 0;
}

bool sbx_sbstate_alive(const sbx_sbstate *s)
{
	return s->sup_pid > 0 && s->sup_start && sbx_proc_start(s->sup_pid) == s->sup_start;
}

void sbx_sbstate_cleanup(const sbx_paths *p, const sbx_sbstate *s)
{
	for (int c = 0; c < SBX_CG_N; c++) {
		/* Anything still in it (the init died with the supervisor, so
		 * nothing should be) is killed (core/cgroup.h). */
		if (s->cg[c][0] && strstr(s->cg[c], "/sbx-"))
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
	if (sbx_mkdir_p(sbdir, 0700) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", sbdir);
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
	int fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	return fd;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

int sbx_rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 ? -errno : 0;
}
