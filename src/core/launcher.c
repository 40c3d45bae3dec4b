/* Starting a sandbox: validation, cgroups, clone, id maps, GO (see launcher.h). */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "core/cgroup.h"
#include "base/env.h"
#include "base/util.h"
#include "core/launch.h"
#include "core/launcher.h"
#include "base/parse.h"
#include "proto/proto.h"
#include "core/seccomp_policy.h"
#include "core/spawn.h"
#include "base/status.h"
#include "core/supervise.h"
#include "core/userns.h"

void sbx_launcher_init(sbx_launcher *s)
{
	memset(s, 0, sizeof(*s));
	sbx_cgroup_init(&s->cg);
	s->l.ws_fd = -1;
	s->l.stdin_fd = s->l.stdout_fd = s->l.stderr_fd = -1;
	for (int i = 0; i < 2; i++)
		s->out[i] = s->err[i] = s->sock[i] = -1;
	s->pidfd = -1;
	s->ids.lock_fd = -1;
	sbx_netd_init(&s->net);
}

void sbx_launcher_forget(sbx_launcher *s)
{
	for (int c = 0; c < SBX_CG_N; c++) {
		sbx_closep(&s->cg.dirfd[c]);
		s->cg.path[c][0] = '\0';
	}
	sbx_closep(&s->cg.v2_fd);
	s->pid = 0;
	sbx_netd_forget(&s->net); /* it ends with the sandbox */
	sbx_launcher_release(s);
}

void sbx_launcher_release(sbx_launcher *s)
{
	if (s->pid > 0) { /* only on a failure before supervision */
		if (s->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
		else
			kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	sbx_closep(&s->pidfd);
	sbx_netd_stop(&s->net); /* in the cgroups: before their removal */
	for (int i = 0; i < 2; i++) {
		sbx_closep(&s->out[i]);
		sbx_closep(&s->err[i]);
		sbx_closep(&s->sock[i]);
	}
	sbx_closep(&s->l.ws_fd);
	sbx_cgroup_destroy(&s->cg);
	sbx_env_free(s->envp);
	sbx_env_free(s->argv);
	s->envp = s->argv = NULL;
	/* Last: the init is reaped and the cgroups are gone (or, after
	 * sbx_launcher_forget, a copy of the lock went with the sandbox). */
	sbx_idrange_release(&s->ids);
	for (uint32_t i = 0; s->tmpl_ids && i < s->tmpl_slots; i++)
		sbx_idrange_release(&s->tmpl_ids[i]);
	free(s->tmpl_ids);
	s->tmpl_ids = NULL;
}

int sbx_stdio_fd_check(int fd, const char *what, sbx_error *err)
{
	if (fd < 0)
		return 0;
	int fl = fcntl(fd, F_GETFL);
	struct stat st;
	if (fl < 0 || fstat(fd, &st) < 0)
		return sbx_fail_errno(err, SBX_E_INVALID, errno, "%s (fd %d) is not usable", what,
				      fd);
	const char *kind = NULL;
	switch (st.st_mode & S_IFMT) {
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFREG:
	case S_IFCHR:
		break;
	case S_IFDIR:
		kind = "a directory";
		break;
	case S_IFLNK:
		kind = "a symbolic link";
		break;
	case S_IFBLK:
		kind = "a block device";
		break;
	default:
		kind = "not a file, pipe, socket or device"; /* an anonymous inode */
		break;
	}
	if (!kind && (fl & O_PATH))
		kind = "an O_PATH descriptor";
	if (kind)
		return sbx_fail(err, SBX_E_INVALID,
				"%s is %s: only a pipe, socket, regular file or character device "
				"may be handed to a sandbox",
				what, kind);
	return 0;
}

/* A rootfs must be a directory with the mount points the sandbox needs. */
static int check_rootfs(const char *path, char *out, sbx_error *err)
{
	if (!path || !*path)
		return sbx_fail(err, SBX_E_ROOTFS, "no rootfs given (use --rootfs or SBX_ROOTFS)");
	if (!realpath(path, out))
		return sbx_fail(err, SBX_E_ROOTFS,
				"rootfs not found: %s (build it with: make rootfs)", path);
	static const char *const need[] = {"proc", "dev", "tmp"};
	for (size_t i = 0; i < ARRAY_LEN(need); i++) {
		char p[PATH_MAX + 16];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", out, need[i]);
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			return sbx_fail(err, SBX_E_ROOTFS,
					"rootfs %s is not usable: no /%s directory", out, need[i]);
	}
	return 0;
}

static int validate(const sbx_config *cfg, bool server, sbx_error *err)
{
	int r = sbx_config_validate(cfg, !server, err);
	if (r == 0 && !server)
		r = sbx_stdio_fd_check(cfg->stdin_fd, "stdin", err);
	if (r < 0)
		return r;
	/* Native only: the user namespace's id map. */
	if (cfg->map_uid == 0 || cfg->map_gid == 0)
		return sbx_fail(err, SBX_E_INVALID, "root inside must not map to host root");
	if (cfg->map_count == 0 || cfg->map_count > 1u << 24)
		return sbx_fail(err, SBX_E_INVALID, "invalid id map size %u", cfg->map_count);
	bool automatic = cfg->map_uid == SBX_MAP_AUTO || cfg->map_gid == SBX_MAP_AUTO;
	if (automatic && cfg->map_count > SBX_IDRANGE_SLOT)
		return sbx_fail(err, SBX_E_INVALID,
				"id map size %u exceeds a per-sandbox range (%u): give --map-uid "
				"and --map-gid",
				cfg->map_count, SBX_IDRANGE_SLOT);
	if (geteuid() != 0)
		return sbx_fail(err, SBX_E_PRIVILEGE, "sbx must run as root (namespaces, cgroups)");
	return 0;
}

/* Parent-side preparation of everything the child reads. */
static int prepare(sbx_launcher *s, const sbx_config *cfg, sbx_error *err)
{
	sbx_launch *l = &s->l;
	int r = check_rootfs(cfg->rootfs ? cfg->rootfs : sbx_default_rootfs(), l->rootfs, err);
	if (r < 0)
		return r;
	bool ws = cfg->workspace && cfg->workspace_mode != SBX_WS_NONE;
	if (ws) {
		char real[PATH_MAX];
		if (!realpath(cfg->workspace, real))
			return sbx_fail(err, SBX_E_PATH, "workspace not found: %s", cfg->workspace);
		bool idmapped;
		l->ws_ro = cfg->workspace_mode == SBX_WS_RO;
		char marker[PATH_MAX + 8];
		snprintf(marker, sizeof(marker), "%s.shift", real);
		l->ws_fd = sbx_workspace_mount(real, l->ws_ro, s->map_uid, s->map_gid, s->map_count,
					       s->ws_own ? marker : NULL, &idmapped, err);
		if (l->ws_fd < 0)
			return l->ws_fd;
		sbx_debug("workspace %s %s%s", real, l->ws_ro ? "ro" : "rw",
			  idmapped ? " idmapped" : "");
	}
	snprintf(l->cwd, sizeof(l->cwd), "%s", cfg->cwd ? cfg->cwd : ws ? "/workspace" : "/tmp");
	snprintf(l->hostname, sizeof(l->hostname), "%s", cfg->hostname ? cfg->hostname : "sandbox");
	l->tmp_size = cfg->tmp_size;
	l->root_size = cfg->root_size;
	l->net_loopback = cfg->net != SBX_NET_NONE;
	/* A copy: cfg->argv usually points into the caller's own argument
	 * area, which init overwrites (it hides the caller's command line). */
	size_t argc = 0;
	while (cfg->argv && cfg->argv[argc])
		argc++;
	s->argv = calloc(argc + 1, sizeof(char *));
	for (size_t i = 0; s->argv && i < argc; i++)
		if (!(s->argv[i] = strdup(cfg->argv[i])))
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "preparing the command");
	l->argv = s->argv;
	s->envp = sbx_env_build(l->hostname, cfg->env, cfg->n_env);
	if (!s->envp || !s->argv)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "preparing the command");
	l->envp = s->envp;
	r = sbx_seccomp_program(&l->seccomp, err);
	if (r == 0)
		r = sbx_privs_prepare(&l->privs, cfg, err);
	return r;
}

static int make_channels(sbx_launcher *s, bool pipes, sbx_error *err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->sock) < 0 ||
	    (pipes && (pipe2(s->out, O_CLOEXEC) < 0 || pipe2(s->err, O_CLOEXEC) < 0)))
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pipes");
	s->l.sock = s->sock[1];
	s->l.stdout_fd = s->out[1];
	s->l.stderr_fd = s->err[1];
	return 0;
}

static int send_msg(int sock, char type, const int *fds, int nfds, sbx_error *err)
{
	sbx_error e;
	if (sbx_msg_send(sock, type, NULL, 0, fds, nfds, &e) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, e.sys_errno,
				      "sandbox init exited during set-up");
	return 0;
}

static uint64_t t_us(uint64_t since)
{
	return (sbx_now_ns() - since) / 1000;
}

int sbx_launcher_start(sbx_launcher *s, const sbx_config *cfg, bool server,
		       uint64_t idle_timeout_ms, sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	s->l.debug = sbx_debug_on();
	s->l.t0 = t0;
	int r = validate(cfg, server, err);
	if (r < 0)
		return r;
	/* Its own host ids unless given: per-user kernel counts are its own. */
	s->map_uid = cfg->map_uid;
	s->map_gid = cfg->map_gid;
	s->map_count = cfg->map_count;
	if (s->tmpl_slots) {
		if (cfg->root_size)
			return sbx_fail(err, SBX_E_INVALID,
					"a pre-forked pool's template cannot have a writable root");
		if (cfg->net == SBX_NET_EGRESS)
			return sbx_fail(err, SBX_E_INVALID,
					"a pre-forked pool's template cannot have --net egress");
		if (cfg->map_uid != SBX_MAP_AUTO || cfg->map_gid != SBX_MAP_AUTO ||
		    s->tmpl_slots > SBX_USERNS_MAX_LINES)
			return sbx_fail(err, SBX_E_INVALID,
					"a pre-forked pool needs its own id ranges (no --map-uid/"
					"--map-gid) and at most %u of them",
					SBX_USERNS_MAX_LINES);
		s->tmpl_ids = calloc(s->tmpl_slots, sizeof(*s->tmpl_ids));
		if (!s->tmpl_ids)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		for (uint32_t i = 0; i < s->tmpl_slots; i++)
			s->tmpl_ids[i].lock_fd = -1;
		for (uint32_t i = 0; i < s->tmpl_slots && r == 0; i++)
			r = sbx_idrange_acquire(&s->tmpl_ids[i], err);
		if (r < 0)
			return r;
		s->map_uid = s->tmpl_ids[0].uid;
		s->map_gid = s->tmpl_ids[0].gid;
		s->map_count = SBX_IDRANGE_SLOT;
		s->l.template_mode = true;
		sbx_debug("time ids %lluus", (unsigned long long)t_us(t0));
	} else if (cfg->map_uid == SBX_MAP_AUTO || cfg->map_gid == SBX_MAP_AUTO) {
		r = sbx_idrange_acquire(&s->ids, err);
		if (r < 0)
			return r;
		if (cfg->map_uid == SBX_MAP_AUTO)
			s->map_uid = s->ids.uid;
		if (cfg->map_gid == SBX_MAP_AUTO)
			s->map_gid = s->ids.gid;
		sbx_debug("time ids %lluus", (unsigned long long)t_us(t0));
	}
	r = prepare(s, cfg, err);
	if (r < 0)
		return r;
	sbx_debug("time prepare %lluus", (unsigned long long)t_us(t0));
	/* cgroup v2 needs the cgroup before clone (CLONE_INTO_CGROUP); on v1
	 * hosts it is created while the child sets up its mounts. */
	sbx_cg_limits lim = {cfg->memory_bytes, cfg->cpu_millis, cfg->pids_max};
	bool early = sbx_cgroup_host_any_v2();
	sbx_debug("time discover %lluus", (unsigned long long)t_us(t0));
	if (early) {
		r = sbx_cgroup_create(&s->cg, cfg->cgroup_parent, &lim, err);
		if (r < 0)
			return r;
		sbx_debug("time cgroup %lluus", (unsigned long long)t_us(t0));
	}
	r = make_channels(s, !server, err);
	if (r < 0)
		return r;
	sbx_debug("time channels %lluus", (unsigned long long)t_us(t0));
	s->l.stdin_fd = server ? -1 : cfg->stdin_fd;
	s->l.server = server;
	s->l.idle_timeout_ms = idle_timeout_ms;

	bool into_cg = false;
	/* The user namespace's owner is the sandbox's root: per-user counts
	 * charged up the namespace chain are the sandbox's, not host root's. */
	int bits;
	r = sbx_userns_owner_enter(s->map_uid, &bits, err);
	if (r < 0)
		return r;
	pid_t pid =
	    sbx_clone_ns(SBX_NS_FLAGS, s->cg.all_v2 ? s->cg.v2_fd : -1, &s->pidfd, &into_cg, err);
	if (pid == 0) {
		sbx_userns_owner_child(bits);
		sbx_init_main(&s->l);
	}
	sbx_userns_owner_leave(bits);
	sbx_debug("time clone3 %lluus", (unsigned long long)t_us(t0));
	if (pid < 0)
		return pid;
	s->pid = pid;
	if (s->cg.all_v2)
		sbx_debug("clone_into_cgroup %s", into_cg ? "yes" : "no fallback");
	sbx_debug("time clone %lluus", (unsigned long long)t_us(t0));
	sbx_closep(&s->sock[1]);
	sbx_closep(&s->out[1]);
	sbx_closep(&s->err[1]);

	if (s->tmpl_slots)
		r = sbx_userns_write_slot_maps(pid, s->tmpl_ids, s->tmpl_slots, err);
	else
		r = sbx_userns_write_maps(pid, s->map_uid, s->map_gid, s->map_count, err);
	if (r == 0) {
		/* A writable root's lower layer, idmapped with the sandbox's own
		 * user namespace now that its maps are written. */
		_cleanup_close_ int tree =
		    s->l.root_size ? sbx_rootfs_idmap(s->l.rootfs, pid, err) : -1;
		if (s->l.root_size && tree < 0)
			r = tree;
		else
			r = send_msg(s->sock[0], SBX_MSG_MAPPED, &tree, tree >= 0, err);
	}
	if (r == 0 && !early) {
		r = sbx_cgroup_create(&s->cg, cfg->cgroup_parent, &lim, err);
		sbx_debug("time cgroup %lluus", (unsigned long long)t_us(t0));
	}
	if (r == 0)
		r = sbx_cgroup_attach(&s->cg, pid, into_cg, err);
	if (r == 0 && cfg->net == SBX_NET_EGRESS) {
		r = sbx_netd_start(&s->net, cfg, pid, &s->cg, err);
		sbx_debug("time network %lluus", (unsigned long long)t_us(t0));
	}
	int fds[SBX_CG_N];
	int nfds = r == 0 ? sbx_cgroup_v1_task_fds(&s->cg, fds, SBX_CG_N, err) : 0;
	if (nfds < 0)
		r = nfds;
	if (r == 0)
		r = send_msg(s->sock[0], SBX_MSG_GO, fds, nfds, err);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	sbx_debug("time go %lluus", (unsigned long long)t_us(t0));
	return r;
}

int sbx_launcher_wait_ready(sbx_launcher *s, sbx_error *err)
{
	char buf[SBX_PROTO_ERROR_MAX + 32];
	/* Set-up takes milliseconds; a minute means it hangs (and would hang
	 * a pool's refill and shutdown with it). */
	struct pollfd pf = {s->sock[0], POLLIN, 0};
	int pr;
	do
		pr = poll(&pf, 1, 60000);
	while (pr < 0 && errno == EINTR);
	if (pr == 0)
		return sbx_fail(err, SBX_E_SETUP, "sandbox set-up did not finish within 60 s");
	sbx_error e;
	ssize_t n = sbx_msg_recv(s->sock[0], buf, sizeof(buf) - 1, NULL, NULL, 0, &e);
	if (n > 0 && buf[0] == SBX_MSG_READY)
		return 0;
	if (n > 0 && buf[0] == SBX_MSG_ERROR) {
		buf[n] = '\0';
		return sbx_fail(err, SBX_E_SETUP, "sandbox set-up failed: %s", buf + 1);
	}
	if (n < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, e.sys_errno,
				      "sandbox init ended during set-up");
	return sbx_fail(err, SBX_E_SETUP, "sandbox init ended during set-up");
}

int sbx_launcher_connect(int sock, sbx_error *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socketpair");
	_cleanup_close_ int ours = sp[0], theirs = sp[1];
	sbx_error e;
	if (sbx_msg_send(sock, SBX_MSG_CONN, NULL, 0, &theirs, 1, &e) < 0)
		return sbx_fail_errno(err, SBX_E_STATE, e.sys_errno, "the sandbox is not running");
	return sbx_steal_fd(&ours);
}
