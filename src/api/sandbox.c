/* Long-lived sandboxes: the public sbx_sandbox_* calls. What is common to
 * every driver (the store: names, config, lock, directory) is done here;
 * the rest goes through the sandbox's driver. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/procfs.h"
#include "base/util.h"
#include "core/idrange.h"
#include "core/userns.h"
#include "drivers/driver.h"
#include "state/exec.h"

#define DEFAULT_FILE_MAX (10ull << 20)

static void handle_freep(sbx_sandbox **sb)
{
	if (!*sb)
		return;
	sbx_sbconf_free(&(*sb)->stored);
	free((*sb)->paths);
	free(*sb);
	*sb = NULL;
}

/* A handle on the named sandbox `name`, its config not loaded yet. */
static int handle_new(const char *name, sbx_sandbox **out, sbx_error *err)
{
	_cleanup_(handle_freep) sbx_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb || !(sb->paths = calloc(1, sizeof(*sb->paths))))
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	int r = sbx_paths_for(name, sb->paths, err);
	if (r < 0)
		return r;
	snprintf(sb->name, sizeof(sb->name), "%s", name);
	sb->conf = &sb->stored;
	*out = sb;
	sb = NULL;
	return 0;
}

SBX_API void sbx_sandbox_close(sbx_sandbox *sb)
{
	/* An owned (pool) sandbox belongs to its pool: sbx_pool_release. */
	if (sb && sb->paths)
		handle_freep(&sb);
}

SBX_API int sbx_sandbox_open(const char *name, sbx_sandbox **out, sbx_error *err)
{
	_cleanup_(handle_freep) sbx_sandbox *sb = NULL;
	int r = handle_new(name, &sb, err);
	if (r < 0)
		return r;
	struct stat st;
	r = sbx_sbconf_load(sb->paths, &sb->stored, err);
	if (r == -SBX_E_NOTFOUND && lstat(sb->paths->dir, &st) == 0)
		return sbx_fail(
		    err, SBX_E_STATE,
		    "sandbox %s is broken: it has no config (remove it with sbx rm -f %s)", name,
		    name);
	if (r < 0)
		return r == -SBX_E_NOTFOUND
			   ? r
			   : sbx_error_wrap(err, r, "sandbox %s is broken (sbx rm -f %s)", name,
					    name);
	if (lstat(sb->paths->lock, &st) == 0 && !S_ISREG(st.st_mode))
		return sbx_fail(err, SBX_E_STATE,
				"sandbox %s is broken: its lock is not a regular file (remove it "
				"with sbx rm -f %s)",
				name, name);
	sb->drv = sbx_driver_by_name(sb->stored.cfg.driver, err);
	if (!sb->drv)
		return sbx_error_wrap(err, -SBX_E_INVALID, "sandbox %s", name);
	*out = sb;
	sb = NULL;
	return 0;
}

/* start, stop, destroy and info are about named sandboxes. */
static int need_named(const sbx_sandbox *sb, sbx_error *err)
{
	if (sb->paths)
		return 0;
	return sbx_fail(err, SBX_E_STATE,
			"%s has no name (keep it by name with sbx_pool_release_named)",
			sbx_sandbox_label(sb));
}

typedef struct locked {
	int fd;
} locked;

static void unlockp(locked *l)
{
	sbx_closep(&l->fd);
}

/* The store's lock on sb, with the error for a sandbox that is gone. */
static int lock(sbx_sandbox *sb, locked *l, sbx_error *err)
{
	int r = need_named(sb, err);
	if (r < 0)
		return r;
	l->fd = sbx_lock(sb->paths);
	if (l->fd == -ENOENT)
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", sb->name);
	if (l->fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, -l->fd, "cannot lock sandbox %s",
				      sb->name);
	return 0;
}

SBX_API bool sbx_sandbox_is_running(sbx_sandbox *sb)
{
	return sb->drv->is_running(sb);
}

SBX_API int sbx_sandbox_start(sbx_sandbox *sb, sbx_error *err)
{
	_cleanup_(unlockp) locked l = {-1};
	int r = lock(sb, &l, err);
	return r < 0 ? r : sb->drv->start(sb, err);
}

SBX_API int sbx_sandbox_stop(sbx_sandbox *sb, sbx_error *err)
{
	_cleanup_(unlockp) locked l = {-1};
	int r = lock(sb, &l, err);
	return r < 0 ? r : sb->drv->stop(sb, err);
}

/* Its own persistent workspace, owned by the id root inside maps to, so
 * nothing in it belongs to host root. */
static int own_workspace(sbx_sandbox *sb, sbx_error *err)
{
	sbx_sbconf *c = &sb->stored;
	c->own_workspace = true;
	snprintf(c->workspace, sizeof(c->workspace), "%s", sb->paths->own_ws);
	c->cfg.workspace = c->workspace;
	c->cfg.workspace_mode = SBX_WS_RW;
	/* Per-sandbox ranges change between starts (the idmapped mount maps
	 * the owner to root inside): the first id of the set owns it then. */
	uid_t u = c->cfg.map_uid;
	gid_t g = c->cfg.map_gid;
	sbx_idset set;
	if (u == SBX_MAP_AUTO || g == SBX_MAP_AUTO) {
		int r = sbx_idset_get(&set, err);
		if (r < 0)
			return r;
		u = u == SBX_MAP_AUTO ? set.uid_base : u;
		g = g == SBX_MAP_AUTO ? set.gid_base : g;
	}
	if (mkdir(c->workspace, 0755) < 0 || chown(c->workspace, u, g) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create workspace %s",
				      c->workspace);
	return 0;
}

SBX_API int sbx_sandbox_create(const char *name, const sbx_config *cfg, uint64_t idle_timeout_ms,
			       sbx_sandbox **out, sbx_error *err)
{
	if (out)
		*out = NULL;
	_cleanup_(handle_freep) sbx_sandbox *sb = NULL;
	int r = handle_new(name, &sb, err);
	if (r < 0)
		return r;
	if (geteuid() != 0)
		return sbx_fail(err, SBX_E_PRIVILEGE, "sbx must run as root (namespaces, cgroups)");
	r = sbx_sbconf_from(&sb->stored, cfg, err);
	if (r < 0)
		return r;
	sb->drv = sbx_driver_by_name(sb->stored.cfg.driver, err);
	if (!sb->drv)
		return -SBX_E_INVALID;
	/* A host workspace root inside could not use is refused before
	 * anything is stored (the native driver's start checks it again). */
	if (!strcmp(sb->drv->name, "native") && sb->stored.cfg.workspace &&
	    sb->stored.cfg.workspace_mode != SBX_WS_NONE) {
		r = sbx_workspace_check(sb->stored.cfg.workspace, sb->stored.cfg.map_uid,
					sb->stored.cfg.map_gid, err);
		if (r < 0)
			return r;
	}
	_cleanup_(unlockp) locked l = {sbx_sbdir_create(sb->paths, err)};
	if (l.fd < 0)
		return l.fd;
	sb->stored.created = (int64_t)time(NULL);
	sb->stored.idle_timeout_ms = idle_timeout_ms;
	if (!sb->stored.workspace[0])
		r = own_workspace(sb, err);
	if (r == 0)
		r = sbx_sbconf_save(sb->paths, &sb->stored, err);
	if (r == 0)
		r = sb->drv->create(sb, err);
	if (r < 0) { /* a failed create leaves nothing */
		sbx_rm_tree(sb->paths->dir);
		return r;
	}
	if (out) {
		*out = sb;
		sb = NULL;
	}
	return 0;
}

/* The driver's destroy, then the sandbox's directory: its own workspace
 * goes with it; a host directory given with --workspace is never touched. */
static int destroy_and_remove(sbx_sandbox *sb, sbx_error *err)
{
	int r = sb->drv->destroy(sb, err);
	if (r < 0)
		return r;
	r = sbx_rm_tree(sb->paths->dir);
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, -r, "cannot remove %s", sb->paths->dir);
	return 0;
}

SBX_API int sbx_sandbox_destroy(sbx_sandbox *sb, bool force, sbx_error *err)
{
	_cleanup_(unlockp) locked l = {-1};
	int r = lock(sb, &l, err);
	if (r < 0)
		return r;
	if (access(sb->paths->config, F_OK) < 0)
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", sb->name);
	if (!force && sb->drv->is_running(sb))
		return sbx_fail(err, SBX_E_STATE, "sandbox %s is running (stop it, or use rm -f)",
				sb->name);
	return destroy_and_remove(sb, err);
}

/* A broken sandbox (no or a corrupt config, an unusable lock): its
 * supervisor, if one lives, is found and killed through the kernel (the
 * native driver's stop needs only the paths), then its directory goes. */
static int remove_broken(const char *name, sbx_error *err)
{
	_cleanup_(handle_freep) sbx_sandbox *sb = NULL;
	int r = handle_new(name, &sb, err);
	if (r < 0)
		return r;
	struct stat st;
	if (lstat(sb->paths->dir, &st) < 0)
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", name);
	/* The lock when there is a usable one; without it otherwise (a name
	 * cannot be created again while its directory exists). */
	_cleanup_(unlockp) locked l = {sbx_lock(sb->paths)};
	sb->drv = sbx_driver_by_name(NULL, err);
	if (!sb->drv)
		return -SBX_E_INVALID;
	sbx_sbconf_free(&sb->stored);
	memset(&sb->stored, 0, sizeof(sb->stored));
	return destroy_and_remove(sb, err);
}

SBX_API int sbx_sandbox_remove(const char *name, bool force, sbx_error *err)
{
	_cleanup_(handle_freep) sbx_sandbox *sb = NULL;
	sbx_error oe = {0};
	int r = sbx_sandbox_open(name, &sb, &oe);
	if (r == 0)
		return sbx_sandbox_destroy(sb, force, err);
	if (!force || r == -SBX_E_NOTFOUND) {
		if (err)
			*err = oe;
		return r;
	}
	return remove_broken(name, err);
}

SBX_API int sbx_sandbox_info_get(sbx_sandbox *sb, sbx_sandbox_info *info, sbx_error *err)
{
	memset(info, 0, sizeof(*info));
	int r = need_named(sb, err);
	if (r < 0)
		return r;
	const sbx_sbconf *c = sb->conf;
	snprintf(info->name, sizeof(info->name), "%s", sb->name);
	info->created = c->created;
	info->memory_limit = c->cfg.memory_bytes;
	info->cpu_millis = c->cfg.cpu_millis;
	info->pids_max = c->cfg.pids_max;
	info->idle_timeout_ms = c->idle_timeout_ms;
	info->pids_current = -1;
	info->cpu_usage_us = -1;
	snprintf(info->workspace, sizeof(info->workspace), "%s", c->workspace);
	info->own_workspace = c->own_workspace;
	snprintf(info->workspace_mode, sizeof(info->workspace_mode), "%s",
		 c->cfg.workspace_mode == SBX_WS_RO   ? "ro"
		 : c->cfg.workspace_mode == SBX_WS_RW ? "rw"
						      : "none");
	info->net = c->cfg.net;
	info->net_allow = c->cfg.net_allow;
	info->n_net_allow = c->cfg.n_net_allow;
	info->net_publish = c->cfg.net_publish;
	info->n_net_publish = c->cfg.n_net_publish;
	info->net_dns = c->cfg.net_dns;
	sb->drv->info(sb, info);
	return 0;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
	*d = NULL;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

SBX_API int sbx_sandbox_list(char ***names, size_t *n, sbx_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/sandboxes", sbx_state_root());
	*names = NULL;
	*n = 0;
	_cleanup_(closedirp) DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT
			   ? 0
			   : sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot list %s", dir);
	char **v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			char **g = realloc(v, cap * sizeof(char *));
			if (!g)
				break;
			v = g;
		}
		if (!(v[k] = strdup(e->d_name)))
			break;
		k++;
	}
	if (e) { /* stopped early: out of memory */
		sbx_sandbox_list_free(v, k);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	/* Sorted by name for stable output. */
	if (k)
		qsort(v, k, sizeof(char *), cmp_name);
	*names = v;
	*n = k;
	return 0;
}

SBX_API void sbx_sandbox_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

SBX_API int sbx_sandbox_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res,
			     sbx_error *err)
{
	memset(res, 0, sizeof(*res));
	int r = sbx_exec_opts_check(o, true, err);
	return r < 0 ? r : sb->drv->exec(sb, o, res, err);
}

SBX_API int sbx_sandbox_read_file(sbx_sandbox *sb, const char *path, uint64_t max, char **data,
				  size_t *len, sbx_error *err)
{
	*data = NULL;
	*len = 0;
	if (!path || !*path || strlen(path) >= PATH_MAX)
		return sbx_fail(err, SBX_E_PATH, "invalid path");
	return sb->drv->read_file(sb, path, max ? max : DEFAULT_FILE_MAX, data, len, err);
}

SBX_API void sbx_sandbox_set_io_timeout(sbx_sandbox *sb, uint64_t timeout_ms)
{
	sb->io_timeout_ms = timeout_ms ? timeout_ms : UINT64_MAX;
}

SBX_API int sbx_sandbox_write_file(sbx_sandbox *sb, const char *path, const void *data, size_t len,
				   uint64_t max, sbx_error *err)
{
	max = max ? max : DEFAULT_FILE_MAX;
	if (len > max)
		return sbx_fail(err, SBX_E_INVALID, "write %s: %zu bytes exceed the limit of %llu",
				path, len, (unsigned long long)max);
	if (!path || !*path || strlen(path) >= PATH_MAX)
		return sbx_fail(err, SBX_E_PATH, "invalid path");
	return sb->drv->write_file(sb, path, data, len, max, err);
}
