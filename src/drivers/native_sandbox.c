/* native driver: reaching a sandbox (named or owned), and the lifecycle of
 * named ones: a detached supervisor (native_supervisor.c) owns the
 * sandbox's cgroups and records its state in the store. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "base/procfs.h"
#include "base/util.h"
#include "core/userns.h"
#include "drivers/native.h"
#include "drivers/native_supervisor.h"
#include "proto/proto.h"

static sbx_native_owned *owned(const sbx_sandbox *sb)
{
	return sb->priv;
}

int sbx_native_connect(sbx_sandbox *sb, const sbx_until *u, sbx_error *err)
{
	if (owned(sb) && owned(sb)->zy)
		return sbx_fail(err, SBX_E_STATE,
				"a pre-forked pool sandbox takes one python or run request, no "
				"file requests (use a fresh pool)");
	if (owned(sb))
		return sbx_launcher_connect(owned(sb)->ln.sock[0], err);
	const sbx_paths *p = sb->paths;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->sock);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socket");
	sbx_error ce;
	if (sbx_connect_until(fd, &sa, sizeof(sa), u, &ce) < 0) {
		int e = ce.sys_errno;
		if (e == ETIMEDOUT)
			return sbx_fail(err, SBX_E_STATE,
					"sandbox %s did not accept the connection in time",
					p->name);
		if (e == ECANCELED)
			return sbx_fail(err, SBX_E_STATE, "connecting to sandbox %s: cancelled",
					p->name);
		if (access(p->config, F_OK) < 0)
			return sbx_fail(err, SBX_E_NOTFOUND, "no such sandbox: %s", p->name);
		if (e == ENOENT)
			return sbx_fail(err, SBX_E_STATE,
					"sandbox %s is not running (sbx start %s)", p->name,
					p->name);
		return sbx_fail_errno(err, SBX_E_STATE, e,
				      "sandbox %s is not running (sbx start %s)", p->name, p->name);
	}
	return sbx_steal_fd(&fd);
}

void sbx_native_cgroups(sbx_sandbox *sb, sbx_sbstate *st)
{
	memset(st, 0, sizeof(*st));
	if (!owned(sb)) {
		sbx_sbstate_load(sb->paths, st, NULL);
		return;
	}
	for (int c = 0, k = 0; c < SBX_CG_N; c++)
		if (owned(sb)->ln.cg.path[c][0])
			snprintf(st->cg[k++], PATH_MAX, "%s", owned(sb)->ln.cg.path[c]);
}

/* ---- owned sandboxes ----------------------------------------------------- */

bool sbx_native_owned_dead(sbx_sandbox *sb)
{
	sbx_native_owned *o = owned(sb);
	struct pollfd pf = {o->ln.pidfd, POLLIN, 0};
	if (pf.fd < 0 || poll(&pf, 1, 0) != 0)
		return true;
	/* The interpreter may have died while the sandbox lives on. */
	if (o->py_conn >= 0) {
		struct pollfd pc = {o->py_conn, POLLIN, 0};
		if (poll(&pc, 1, 0) != 0)
			return true;
	}
	return false;
}

bool sbx_native_owned_alive(sbx_sandbox *sb)
{
	struct pollfd pf = {owned(sb)->ln.pidfd, POLLIN, 0};
	return pf.fd >= 0 && poll(&pf, 1, 0) == 0;
}

void sbx_native_owned_stop(sbx_sandbox *sb)
{
	/* SIGKILL to its init ends it (a pid namespace's init): the destroy
	 * then finds it gone instead of waiting for it. */
	if (owned(sb) && owned(sb)->ln.pidfd >= 0)
		syscall(SYS_pidfd_send_signal, owned(sb)->ln.pidfd, SIGKILL, NULL, 0);
}

void sbx_native_owned_activate(sbx_sandbox *sb)
{
	sbx_cgroup_set_weight(&owned(sb)->ln.cg, false);
}

/* ---- named sandboxes -----------------------------------------------------
 * Whether one runs is the kernel's word: the lock its supervisor holds for
 * its whole life (sbx_sup_holder). The state file (pid, cgroups, start
 * time) is advisory: it may be stale, truncated or corrupt. */

/* A supervisor started by an sbx from before the supervisor lock (a
 * sandbox that outlived an upgrade): the state's pid, believed only where
 * the kernel agrees, i.e. that process holds open a cgroup the state names. */
static pid_t legacy_supervisor(const sbx_sbstate *st)
{
	char held[2 * SBX_CG_N][PATH_MAX];
	int n = st->sup_pid > 0 ? sbx_cgroup_held_by(st->sup_pid, held, 2 * SBX_CG_N) : 0;
	for (int i = 0; i < n; i++)
		for (int c = 0; c < SBX_CG_N; c++)
			if (st->cg[c][0] && strstr(st->cg[c], "/sbx-") &&
			    !strcmp(held[i], st->cg[c]))
				return st->sup_pid;
	return 0;
}

/* The live supervisor's pid (0: none), and the state when it matches. */
static pid_t running(const sbx_paths *p, sbx_sbstate *st)
{
	pid_t sup = sbx_sup_holder(p);
	bool loaded = sbx_sbstate_load(p, st, NULL) == 0;
	if (sup == 0 && loaded)
		sup = legacy_supervisor(st);
	if (!loaded || st->sup_pid != sup)
		memset(st, 0, sizeof(*st));
	return sup;
}

bool sbx_native_is_running(sbx_sandbox *sb)
{
	if (owned(sb))
		return !sbx_native_owned_dead(sb);
	sbx_sbstate st;
	return running(sb->paths, &st) > 0;
}

/* The sandbox's cgroups: those the supervisor holds (the kernel's word),
 * and those the state names. */
static int sandbox_cgroups(pid_t sup, const sbx_sbstate *st, char (*cg)[PATH_MAX], int max)
{
	int n = sup > 0 ? sbx_cgroup_held_by(sup, cg, max) : 0;
	for (int c = 0; c < SBX_CG_N && n < max; c++) {
		bool dup = !st->cg[c][0] || !strstr(st->cg[c], "/sbx-");
		for (int k = 0; k < n && !dup; k++)
			dup = !strcmp(cg[k], st->cg[c]);
		if (!dup)
			snprintf(cg[n++], PATH_MAX, "%s", st->cg[c]);
	}
	return n;
}

/* Remove what a dead supervisor left behind. Caller holds the lock. A state
 * that cannot be read names nothing: its cgroups, if any, have no holder
 * left and are the sweep's (sbx cleanup). */
static void clean_stale(const sbx_paths *p)
{
	sbx_sbstate st;
	if (running(p, &st) > 0)
		return;
	if (sbx_sbstate_load(p, &st, NULL) < 0)
		memset(&st, 0, sizeof(st));
	sbx_sbstate_cleanup(p, &st);
}

int sbx_native_start(sbx_sandbox *sb, sbx_error *err)
{
	const sbx_paths *p = sb->paths;
	const sbx_sbconf *c = sb->conf;
	sbx_sbstate st;
	if (running(p, &st) > 0)
		return 0;
	clean_stale(p);
	/* A host directory root inside could not use: refused here, before
	 * the supervisor (its error code kept). */
	if (!c->own_workspace && c->cfg.workspace && c->cfg.workspace_mode != SBX_WS_NONE) {
		int r = sbx_workspace_check(c->cfg.workspace, c->cfg.map_uid, c->cfg.map_gid, err);
		if (r < 0)
			return r;
	}
	if (c->own_workspace && mkdir(c->workspace, 0755) < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create workspace %s",
				      c->workspace);
	return sbx_supervisor_spawn(p, c, err);
}

int sbx_native_create(sbx_sandbox *sb, sbx_error *err)
{
	return sbx_native_start(sb, err);
}

/* Ask the supervisor to stop and wait for it; force it if it hangs. The
 * supervisor is the lock's holder, its cgroups those it holds fds on (read
 * before it dies): both from the kernel, whatever the state file says. */
int sbx_native_stop(sbx_sandbox *sb, sbx_error *err)
{
	(void)err;
	const sbx_paths *p = sb->paths;
	sbx_sbstate st;
	pid_t sup = running(p, &st);
	if (sup <= 0) {
		clean_stale(p);
		return 0;
	}
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, sup, 0);
	sbx_sbstate now;
	if (pfd >= 0 && running(p, &now) != sup) {
		clean_stale(p); /* it ended (the pid may be reused) after we looked */
		return 0;
	}
	char cg[2 * SBX_CG_N][PATH_MAX];
	int ncg = sandbox_cgroups(sup, &st, cg, 2 * SBX_CG_N);
	if (pfd >= 0)
		syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0);
	struct pollfd pf = {pfd, POLLIN, 0};
	if (pfd < 0 || poll(&pf, 1, 10000) <= 0) {
		/* Unresponsive: kill the supervisor and its sandbox. */
		if (pfd >= 0)
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		if (pfd >= 0)
			poll(&pf, 1, 2000);
	}
	/* The supervisor removes its cgroups and state; finish the job if it
	 * could not (killed, or its state was wrong). */
	for (int i = 0; i < ncg; i++)
		sbx_cgroup_remove(-1, cg[i], NULL);
	if (running(p, &now) == 0)
		sbx_sbstate_cleanup(p, &st);
	return 0;
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

void sbx_native_info(sbx_sandbox *sb, sbx_sandbox_info *info)
{
	sbx_sbstate st;
	if (!sb->paths) {
		/* An owned sandbox: its cgroups are its launcher's. */
		memset(&st, 0, sizeof(st));
		if (!owned(sb) || sbx_native_owned_dead(sb))
			return;
		info->state = SBX_RUNNING;
		for (int c = 0; c < SBX_CG_N; c++)
			snprintf(st.cg[c], PATH_MAX, "%s", owned(sb)->ln.cg.path[c]);
		usage_from(&st, info);
		return;
	}
	pid_t sup = running(sb->paths, &st);
	if (sup <= 0)
		return;
	info->state = SBX_RUNNING;
	info->pid = sup;
	info->started = st.started; /* 0 when the state does not say */
	if (!st.cg[0][0]) {
		char cg[SBX_CG_N][PATH_MAX];
		int n = sbx_cgroup_held_by(sup, cg, SBX_CG_N);
		for (int c = 0; c < n; c++)
			snprintf(st.cg[c], PATH_MAX, "%s", cg[c]);
	}
	usage_from(&st, info);
}
