/* The sandbox's pid 1: set-up inside the namespaces, then reaper. */
#include <fcntl.h>
#include <net/if.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/fdutil.h"
#include "base/util.h"
#include "core/launch.h"
#include "proto/proto.h"

_Static_assert((int)SBX_MSG_ERROR == (int)SBX_REP_ERROR, "sbx_msg_send_error sends both");

/* A set-up failure: its text to the parent (sbx_launcher_wait_ready or the
 * supervisor reads it), and the end. e is on our stack: no allocation. */
static _Noreturn void fail(const sbx_launch *l, const sbx_error *e)
{
	sbx_msg_send_error(l->sock, e, NULL);
	_exit(1);
}

/* SBX_DEBUG step timings from inside (stderr is still the caller's). */
static void stamp(const sbx_launch *l, const char *what)
{
	if (!l->debug)
		return;
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "sbx-debug: time child-%s %lluus\n", what,
			 (unsigned long long)((sbx_now_ns() - l->t0) / 1000));
	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n);
}

/* GO carries fds of the v1 cgroups' "tasks" files, opened by the parent.
 * We move ourselves: a task writing "0" there skips the global threadgroup
 * lock, whose write side waits for an RCU grace period (5-10 ms) when the
 * parent moves us instead. The kernel checks the opener's credentials. */
static void join_cgroups(const sbx_launch *l)
{
	char buf[8];
	int fds[4], nfds = 0;
	ssize_t n = sbx_msg_recv(l->sock, buf, sizeof(buf), fds, &nfds, 4, NULL);
	if (n < 1 || buf[0] != SBX_MSG_GO)
		_exit(1); /* the parent gave up */
	for (int i = 0; i < nfds; i++) {
		ssize_t w = write(fds[i], "0", 1);
		int e = errno;
		close(fds[i]);
		if (w != 1) {
			sbx_error err;
			sbx_fail_errno(&err, SBX_E_CGROUP, e, "join cgroup");
			fail(l, &err);
		}
	}
}

static int loopback_up(sbx_error *err)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "bring up lo");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int r = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = sbx_fail_errno(err, SBX_E_SETUP, errno, "bring up lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = sbx_fail_errno(err, SBX_E_SETUP, errno, "bring up lo");
	close(s);
	return r;
}

/* The command, once spawned: signals the host passes on (supervise.c)
 * reach it through init's handler. */
static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	int e = errno;
	pid_t p = forward_to;
	/* Its process group (it called setsid), as a terminal's ^C would;
	 * the command itself if it has not got that far. */
	if (p > 0 && kill(-p, sig) < 0)
		kill(p, sig);
	errno = e;
}

/* pid 1 of the pid namespace gets from outside only the signals it has a
 * handler for: catch exactly the ones sbx passes on. */
static void catch_forwarded(void)
{
	struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
	sigset_t set;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sbx_sig_forwardable(sig)) {
			sigaction(sig, &sa, NULL);
			sigaddset(&set, sig);
		}
	}
	/* The caller may block them (the CLI does, for its signalfd). */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* We are a copy of the caller: our /proc/PID/cmdline shows its command
 * line (host paths, options, --env values) to everything in the sandbox.
 * Overwrite that memory in place (the copy is ours). */
static void hide_cmdline(void)
{
	extern char *program_invocation_name;
	char buf[4096];
	size_t len = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		len += (size_t)n;
	if (fd >= 0)
		close(fd);
	char *p = program_invocation_name;
	if (p && len > 0) {
		memset(p, 0, len);
		memcpy(p, "sbx-init", len > 8 ? 8 : len - 1);
	}
	prctl(PR_SET_NAME, "sbx-init");
}

_Noreturn void sbx_init_main(const sbx_launch *l)
{
	sbx_error err; /* on the stack: nothing here may allocate */
	hide_cmdline();
	/* A one-shot sandbox dies with the thread that started it; a long-lived
	 * one when its owner closes the control socket (see server.c), so that
	 * ownership can move to another process. */
	if (!l->server)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Nothing in the sandbox may ptrace us or open our fds via /proc. */
	prctl(PR_SET_DUMPABLE, 0);

	/* Keep only what we need: a threaded parent may hold other sandboxes'
	 * pipes, which must not stay open here. */
	int keep[] = {l->sock, l->stdin_fd, l->stdout_fd, l->stderr_fd, l->ws_fd};
	sbx_close_all_except(keep, ARRAY_LEN(keep));

	/* MAPPED carries the idmapped rootfs of a writable root. */
	char m[8];
	int root_tree = -1, nfds = 0;
	ssize_t mn = sbx_msg_recv(l->sock, m, sizeof(m), &root_tree, &nfds, 1, NULL);
	if (mn < 1 || m[0] != SBX_MSG_MAPPED || (nfds == 1) != (l->root_size > 0))
		_exit(1); /* the parent gave up */
	stamp(l, "mapped");

	/* Our credentials are still the host's root, unmapped in the new user
	 * namespace: become its root (host uid map_uid) before touching files. */
	/* Raw system calls: glibc's wrappers would wait for every thread of
	 * the (possibly threaded) parent to change its ids too. */
	if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setgroups, 0, NULL) < 0 ||
	    syscall(SYS_setresuid, 0, 0, 0) < 0) {
		sbx_fail_errno(&err, SBX_E_SETUP, errno, "switch to namespace root");
		fail(l, &err);
	}
	/* A credential change resets dumpability to fs.suid_dumpable: set it
	 * again, or with suid_dumpable=1 the command could ptrace us. */
	prctl(PR_SET_DUMPABLE, 0);
	/* Mounts go on while the parent moves us into the cgroups (a v1
	 * migration waits for an RCU grace period). */
	if (sbx_mounts_setup(l, root_tree, &err) < 0)
		fail(l, &err);
	if (root_tree >= 0)
		close(root_tree);
	stamp(l, "mounted");
	if (sethostname(l->hostname, strlen(l->hostname)) < 0) {
		sbx_fail_errno(&err, SBX_E_SETUP, errno, "sethostname");
		fail(l, &err);
	}
	if (l->net_loopback && loopback_up(&err) < 0)
		fail(l, &err);
	struct stat st;
	int e = stat(l->cwd, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (e) {
		sbx_fail_errno(&err, SBX_E_SETUP, e, "working directory %s", l->cwd);
		fail(l, &err);
	}

	join_cgroups(l);
	stamp(l, "go");
	/* In the sandbox's cgroups now: make them the root of our view. */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		sbx_fail_errno(&err, SBX_E_SETUP, errno, "cgroup namespace");
		fail(l, &err);
	}
	if (l->server) {
		sbx_closep((int *)&l->ws_fd);
		sbx_msg_send(l->sock, SBX_MSG_READY, NULL, 0, NULL, 0, NULL);
		sbx_server_main(l);
	}
	stamp(l, "spawn");
	pid_t w = sbx_spawn_workload(l, l->stdin_fd, l->stdout_fd, l->stderr_fd, &err);
	if (w < 0)
		fail(l, &err);

	forward_to = w;
	catch_forwarded();
	/* Only the command (and what it starts) may hold the output pipes,
	 * and the caller's stdio (fds 0-2 of the process we were cloned from:
	 * a terminal, a host file) is none of init's business, except stderr
	 * for SBX_DEBUG's last timing (child-reaped). */
	int keep2[] = {l->sock};
	sbx_close_all_except(keep2, ARRAY_LEN(keep2));
	for (int fd = 0; fd < (l->debug ? 2 : 3); fd++)
		if (fd != l->sock)
			close(fd);
	/* We only reap from now on: give up every privilege. */
	sbx_privs_drop_all(&l->privs, NULL); /* best effort: it only waits now */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, __WALL);
		if (p == w) {
			stamp(l, "reaped");
			/* Returning ends the pid namespace: the kernel kills
			 * everything the command left behind. */
			sbx_msg_send(l->sock, SBX_MSG_STATUS, &status, sizeof(status), NULL, 0,
				     NULL);
			_exit(0);
		}
		if (p < 0 && errno != EINTR)
			_exit(1);
	}
}
