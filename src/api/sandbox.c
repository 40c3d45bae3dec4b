/* Long-lived sandboxes: create, start, stop, destroy, inspect, list. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>

#include "base/procfs.h"
#include "base/util.h"
#include "drivers/sandbox.h"
#include "drivers/oci.h"
#include "drivers/native_supervisor.h"

SBX_API void sbx_exec_opts_init(sbx_exec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 30000;
	o->output_limit = 100 << 10;
	o->stdin_fd = o->stdout_fd = o->stderr_fd = o->cancel_fd = -1;
}

static int handle_new(const char *name, sbx_sandbox **out, sbx_error *err)
{
	sbx_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	int r = sbx_paths_for(name, &sb->p, err);
	if (r < 0) {
		free(sb);
		return r;
	}
	*out = sb;
	return 0;
}

SBX_API void sbx_sandbox_close(sbx_sandbox *sb)
{
	free(sb);
}

SBX_API int sbx_sandbox_open(const char *name, sbx_sandbox **out, sbx_error *err)
{
	sbx_sandbox *sb = NULL;
	int r = handle_new(name, &sb, err);
	if (r < 0)
		return r;
	struct stat st;
	if (stat(sb->p.config, &st) < 0) {
		free(sb);
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", name);
	}
	*out = sb;
	return 0;
}

static bool running(const sbx_paths *p, sbx_sbstate *st)
{
	return sbx_sbstate_load(p, st, NULL) == 0 && sbx_sbstate_alive(st);
}

SBX_API bool sbx_sandbox_is_running(sbx_sandbox *sb)
{
	char eng[16];
	if (sbx_sandbox_engine(sb, eng))
		return sbx_oci_is_running(eng, sb->p.name);
	sbx_sbstate st;
	return running(&sb->p, &st);
}

/* Remove what a dead supervisor left behind. Caller holds the lock. */
static void clean_stale(const sbx_paths *p)
{
	sbx_sbstate st;
	if (sbx_sbstate_load(p, &st, NULL) == 0 && !sbx_sbstate_alive(&st))
		sbx_sbstate_cleanup(p, &st);
	else if (access(p->state, F_OK) < 0)
		sbx_sbstate_cleanup(p, &(sbx_sbstate){0});
}

static int start_locked(sbx_sandbox *sb, sbx_error *err)
{
	char eng[16];
	if (sbx_sandbox_engine(sb, eng))
		return sbx_oci_start(eng, sb->p.name, err);
	sbx_sbstate st;
	if (running(&sb->p, &st))
		return 0;
	clean_stale(&sb->p);
	sbx_sbconf c;
	int r = sbx_sbconf_load(&sb->p, &c, err);
	if (r == 0 && c.own_workspace && mkdir(c.workspace, 0755) < 0 && errno != EEXIST)
		r = sbx_fail(err, SBX_E_SYSTEM, "cannot create workspace %s: %s", c.workspace,
			     strerror(errno));
	if (r == 0)
		r = sbx_supervisor_spawn(&sb->p, &c, err);
	sbx_sbconf_free(&c);
	return r;
}

SBX_API int sbx_sandbox_start(sbx_sandbox *sb, sbx_error *err)
{
	int lk = sbx_lock(&sb->p);
	if (lk < 0)
		return sbx_fail(err, lk == -ENOENT ? SBX_E_NOTFOUND : SBX_E_SYSTEM,
				lk == -ENOENT ? "no such sandbox: %s" : "cannot lock sandbox %s",
				sb->p.name);
	int r = start_locked(sb, err);
	close(lk);
	return r;
}

/* Ask the supervisor to stop and wait for it; force it if it hangs. */
static int stop_locked(sbx_sandbox *sb, sbx_error *err)
{
	char eng[16];
	if (sbx_sandbox_engine(sb, eng))
		return sbx_oci_stop(eng, sb->p.name, err);
	sbx_sbstate st;
	if (!running(&sb->p, &st)) {
		clean_stale(&sb->p);
		return 0;
	}
	int pfd = (int)syscall(SYS_pidfd_open, st.sup_pid, 0);
	if (pfd >= 0 && sbx_proc_start(st.sup_pid) != st.sup_start) {
		close(pfd); /* the pid was reused after we looked */
		clean_stale(&sb->p);
		return 0;
	}
	if (pfd >= 0)
		syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0);
	struct pollfd pf = {pfd, POLLIN, 0};
	if (pfd < 0 || poll(&pf, 1, 10000) <= 0) {
		/* Unresponsive: kill the supervisor; its init follows it
		 * (parent-death signal), then we clean up. */
		if (pfd >= 0)
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		if (st.init_pid > 0)
			kill(st.init_pid, SIGKILL);
		if (pfd >= 0)
			poll(&pf, 1, 2000);
	}
	if (pfd >= 0)
		close(pfd);
	/* The supervisor removes its state; finish the job if it could not. */
	if (access(sb->p.state, F_OK) == 0)
		sbx_sbstate_cleanup(&sb->p, &st);
	return 0;
}

SBX_API int sbx_sandbox_stop(sbx_sandbox *sb, sbx_error *err)
{
	int lk = sbx_lock(&sb->p);
	if (lk < 0)
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", sb->p.name);
	int r = stop_locked(sb, err);
	close(lk);
	return r;
}

SBX_API int sbx_sandbox_create(const char *name, const sbx_config *cfg, uint64_t idle_timeout_ms,
			       sbx_sandbox **out, sbx_error *err)
{
	sbx_sandbox *sb = NULL;
	int r = handle_new(name, &sb, err);
	if (r < 0)
		return r;
	if (geteuid() != 0) {
		free(sb);
		return sbx_fail(err, SBX_E_PRIVILEGE, "sbx must run as root (namespaces, cgroups)");
	}
	sbx_sbconf c;
	r = sbx_sbconf_from(&c, cfg, err);
	if (r < 0)
		goto fail_conf;
	int lk = sbx_sbdir_create(&sb->p, err);
	if (lk < 0) {
		r = lk;
		goto fail_conf;
	}
	c.created = (int64_t)time(NULL);
	if (!c.workspace[0]) {
		/* Its own persistent workspace, owned by the id root inside
		 * maps to, so nothing in it belongs to host root. */
		c.own_workspace = true;
		snprintf(c.workspace, sizeof(c.workspace), "%s", sb->p.own_ws);
		c.cfg.workspace = c.workspace;
		c.cfg.workspace_mode = SBX_WS_RW;
		if (mkdir(c.workspace, 0755) < 0 ||
		    chown(c.workspace, c.cfg.map_uid, c.cfg.map_gid) < 0)
			r = sbx_fail(err, SBX_E_SYSTEM, "cannot create workspace %s: %s",
				     c.workspace, strerror(errno));
	}
	c.idle_timeout_ms = idle_timeout_ms;
	if (r == 0)
		r = sbx_sbconf_save(&sb->p, &c, err);
	if (r == 0 && c.driver[0])
		r = sbx_oci_create(c.driver, name, &c, err);
	else if (r == 0)
		r = start_locked(sb, err);
	if (r < 0) { /* a failed create leaves nothing */
		sbx_rm_tree(sb->p.dir);
	}
	if (lk >= 0)
		close(lk);
	sbx_sbconf_free(&c);
	if (r < 0) {
		free(sb);
		return r;
	}
	if (out)
		*out = sb;
	else
		free(sb);
	return 0;
fail_conf:
	sbx_sbconf_free(&c);
	free(sb);
	return r;
}

SBX_API int sbx_sandbox_destroy(sbx_sandbox *sb, bool force, sbx_error *err)
{
	int lk = sbx_lock(&sb->p);
	if (lk < 0)
		return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", sb->p.name);
	int r = 0;
	char eng[16];
	const char *engine = sbx_sandbox_engine(sb, eng);
	if (access(sb->p.config, F_OK) < 0) {
		r = sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", sb->p.name);
	} else if (sbx_sandbox_is_running(sb) && !force) {
		r = sbx_fail(err, SBX_E_STATE, "sandbox %s is running (stop it, or use rm -f)",
			     sb->p.name);
	} else {
		r = engine ? sbx_oci_destroy(engine, sb->p.name, err) : stop_locked(sb, err);
		/* The sandbox's own workspace goes with it; a host directory
		 * given with --workspace is never touched. */
		if (r == 0 && sbx_rm_tree(sb->p.dir) < 0)
			r = sbx_fail(err, SBX_E_SYSTEM, "cannot remove %s: %s", sb->p.dir,
				     strerror(errno));
	}
	close(lk);
	return r;
}

SBX_API int sbx_sandbox_list(char ***names, size_t *n, sbx_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/sandboxes", sbx_state_root());
	*names = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
				       : sbx_fail(err, SBX_E_SYSTEM, "cannot list %s: %s", dir,
						  strerror(errno));
	struct dirent *e;
	size_t cap = 0;
	int r = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **g = realloc(*names, cap * sizeof(char *));
			if (!g) {
				r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
				break;
			}
			*names = g;
		}
		if (!((*names)[*n] = strdup(e->d_name))) {
			r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
			break;
		}
		(*n)++;
	}
	closedir(d);
	/* Sorted by name for stable output. */
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
			char *t = (*names)[j];
			(*names)[j] = (*names)[j - 1];
			(*names)[j - 1] = t;
		}
	if (r < 0) {
		sbx_sandbox_list_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return r;
}

SBX_API void sbx_sandbox_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void usage_from(const sbx_sbstate *st, sbx_sandbox_info *info)
{
	for (int c = 0; c < SBX_CG_N; c++) {
		if (!st->cg[c][0])
			continue;
		_cleanup_close_ int d = open(st->cg[c], O_PATH | O_DIRECTORY | O_CLOEXEC);
		int64_t v;
		if (d < 0)
			continue;
		if ((sbx_read_key(d, "memory.current", NULL, &v, NULL) == 0 ||
		     sbx_read_key(d, "memory.usage_in_bytes", NULL, &v, NULL) == 0) &&
		    v >= 0)
			info->memory_current = (uint64_t)v;
		if (sbx_read_key(d, "pids.current", NULL, &v, NULL) == 0 && v >= 0)
			info->pids_current = v;
		if (sbx_read_key(d, "cpu.stat", "usage_usec", &v, NULL) == 0 && v >= 0)
			info->cpu_usage_us = v;
		else if (sbx_read_key(d, "cpuacct.usage", NULL, &v, NULL) == 0 && v >= 0)
			info->cpu_usage_us = v / 1000;
	}
}

SBX_API int sbx_sandbox_info_get(sbx_sandbox *sb, sbx_sandbox_info *info, sbx_error *err)
{
	memset(info, 0, sizeof(*info));
	sbx_sbconf c;
	int r = sbx_sbconf_load(&sb->p, &c, err);
	if (r < 0)
		return r;
	snprintf(info->name, sizeof(info->name), "%s", sb->p.name);
	info->created = c.created;
	info->memory_limit = c.cfg.memory_bytes;
	info->cpu_millis = c.cfg.cpu_millis;
	info->pids_max = c.cfg.pids_max;
	info->idle_timeout_ms = c.idle_timeout_ms;
	info->pids_current = -1;
	info->cpu_usage_us = -1;
	snprintf(info->workspace, sizeof(info->workspace), "%s", c.workspace);
	info->own_workspace = c.own_workspace;
	snprintf(info->workspace_mode, sizeof(info->workspace_mode), "%s",
		 c.cfg.workspace_mode == SBX_WS_RO   ? "ro"
		 : c.cfg.workspace_mode == SBX_WS_RW ? "rw"
						     : "none");
	sbx_sbstate st;
	if (c.driver[0]) {
		info->state = sbx_oci_is_running(c.driver, sb->p.name) ? SBX_RUNNING : SBX_STOPPED;
	} else if (running(&sb->p, &st)) {
		info->state = SBX_RUNNING;
		info->pid = st.sup_pid;
		info->started = st.started;
		usage_from(&st, info);
	}
	sbx_sbconf_free(&c);
	return 0;
}

const char *sbx_sandbox_engine(sbx_sandbox *sb, char *engine)
{
	if (sb->pooled) {
		snprintf(engine, 16, "%s", sb->pooled->oci_engine);
		return engine[0] ? engine : NULL;
	}
	sbx_sbconf c;
	if (sbx_sbconf_load(&sb->p, &c, NULL) < 0)
		return NULL;
	snprintf(engine, 16, "%s", c.driver);
	sbx_sbconf_free(&c);
	return engine[0] ? engine : NULL;
}

int sbx_sandbox_conf(sbx_sandbox *sb, sbx_sbconf *c, sbx_error *err)
{
	if (!sb->pooled)
		return sbx_sbconf_load(&sb->p, c, err);
	/* A shallow copy whose env array is our own, so free works alike. */
	*c = *sb->pooled->conf;
	c->env = calloc(c->n_env + 1, sizeof(char *));
	if (!c->env)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < c->n_env; i++)
		if (!(c->env[i] = strdup(sb->pooled->conf->env[i]))) {
			c->n_env = i;
			sbx_sbconf_free(c);
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		}
	c->cfg.env = (const char *const *)c->env;
	return 0;
}

void sbx_sandbox_cgroups(sbx_sandbox *sb, sbx_sbstate *st)
{
	memset(st, 0, sizeof(*st));
	if (!sb->pooled) {
		sbx_sbstate_load(&sb->p, st, NULL);
		return;
	}
	for (int c = 0, k = 0; c < SBX_CG_N; c++)
		if (sb->pooled->ln.cg.path[c][0])
			snprintf(st->cg[k++], PATH_MAX, "%s", sb->pooled->ln.cg.path[c]);
}

int sbx_sandbox_connect(sbx_sandbox *sb, sbx_error *err)
{
	if (sb->pooled)
		return sbx_launcher_connect(sb->pooled->ln.sock[0], err);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sb->p.sock);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (access(sb->p.config, F_OK) < 0)
			return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", sb->p.name);
		return sbx_fail(err, SBX_E_STATE, "sandbox %s is not running (sbx start %s)%s%s",
				sb->p.name, sb->p.name, e == ENOENT ? "" : ": ",
				e == ENOENT ? "" : strerror(e));
	}
	return fd;
}
