/* The supervisor of a long-lived sandbox. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "base/fdutil.h"
#include "base/util.h"
#include "core/launcher.h"
#include "proto/proto.h"
#include "drivers/native_supervisor.h"
#include <sys/signalfd.h>

static void report(int fd, char type, const char *msg)
{
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%c%s", type, msg);
	if (n > 0)
		(void)!write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static int block_stop_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int write_state(const sbx_paths *p, const sbx_launcher *s, sbx_error *err)
{
	sbx_sbstate st = {.sup_pid = getpid(), .init_pid = s->pid, .started = (int64_t)time(NULL)};
	st.sup_start = sbx_proc_start(st.sup_pid);
	for (int i = 0, k = 0; i < SBX_CG_N; i++)
		if (s->cg.path[i][0])
			snprintf(st.cg[k++], PATH_MAX, "%s", s->cg.path[i]);
	return sbx_sbstate_save(p, &st, err);
}

/* Until the init ends (idle, crash, killed) or we are told to stop, hand
 * each client connection to the sandbox's server; then clean up. */
static _Noreturn void serve_until_end(const sbx_paths *p, sbx_launcher *s, int listen_fd, int sfd)
{
	for (;;) {
		struct pollfd pf[3] = {
		    {s->pidfd, POLLIN, 0}, {listen_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(pf, sfd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN) {
			int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (conn >= 0) {
				sbx_msg_send(s->sock[0], SBX_MSG_CONN, NULL, 0, &conn, 1, NULL);
				close(conn);
			}
		}
		if (sfd >= 0 && pf[2].revents) {
			struct signalfd_siginfo si;
			(void)!read(sfd, &si, sizeof(si));
			syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
			sbx_cgroup_kill(&s->cg);
		}
	}
	close(listen_fd);
	/* Reap the init (when it is our child), remove its cgroups and our
	 * runtime state. */
	sbx_launcher_release(s);
	unlink(p->sock);
	unlink(p->state);
	rmdir(p->run);
	_exit(0);
}

static _Noreturn void supervise(const sbx_paths *p, const sbx_sbconf *c, int listen_fd, int ready)
{
	sbx_error err = {0};
	sbx_launcher s;
	sbx_launcher_init(&s);
	s.ws_own = c->own_workspace;
	int sfd = block_stop_signals();
	/* Held (never closed) until we die: our liveness for everyone else. */
	int r = sbx_sup_lock(p, &err);
	if (r >= 0)
		r = sbx_launcher_start(&s, &c->cfg, true, c->idle_timeout_ms, &err);
	if (r == 0)
		r = sbx_launcher_wait_ready(&s, &err);
	if (r == 0)
		r = write_state(p, &s, &err);
	if (r < 0) {
		close(listen_fd);
		report(ready, 'E', err.msg);
		sbx_launcher_release(&s);
		unlink(p->sock);
		rmdir(p->run);
		_exit(1);
	}
	report(ready, 'O', "");
	close(ready);
	serve_until_end(p, &s, listen_fd, sfd);
}

static int make_listener(const sbx_paths *p, sbx_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(p->sock) >= sizeof(sa.sun_path))
		return sbx_fail(err, SBX_E_INVALID, "socket path too long: %s", p->sock);
	strcpy(sa.sun_path, p->sock);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "socket: %s", strerror(errno));
	unlink(p->sock);
	mode_t old = umask(0177); /* 0600: only root may connect */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 128) < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "listen on %s: %s", p->sock, strerror(errno));
	return sbx_steal_fd(&fd);
}

/* Run body in a detached grandchild (new session, adopted by pid 1) and
 * wait for its 'O'/'E' report. The grandchild keeps only the fds listed. */
static int detach(const sbx_paths *p, int lfd, const int *keep, size_t nkeep,
		  void (*body)(const sbx_paths *, int, int, void *), void *arg, sbx_error *err)
{
	int pr[2];
	if (pipe2(pr, O_CLOEXEC) < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "pipe: %s", strerror(errno));
	sbx_clone_lock(); /* see internal.h */
	pid_t mid = fork();
	if (mid != 0)
		sbx_clone_unlock();
	else
		sbx_clone_lock_reset();
	if (mid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (int i = 0; i < 3 && nul >= 0; i++)
			dup2(nul, i);
		int all[16] = {lfd, pr[1]};
		size_t n = 2;
		for (size_t i = 0; i < nkeep && n < 16; i++)
			all[n++] = keep[i];
		sbx_close_all_except(all, n);
		signal(SIGPIPE, SIG_IGN);
		body(p, lfd, pr[1], arg); /* never returns */
		_exit(1);
	}
	close(pr[1]);
	if (mid > 0)
		while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
			;
	char buf[600];
	ssize_t n = mid < 0 ? -1 : 0;
	size_t got = 0;
	while (
	    mid > 0 && got < sizeof(buf) - 1 &&
	    ((n = read(pr[0], buf + got, sizeof(buf) - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(pr[0]);
	buf[got] = '\0';
	if (got > 0 && buf[0] == 'O')
		return 0;
	if (got > 0 && buf[0] == 'E')
		return sbx_fail(err, SBX_E_SETUP, "%s", buf + 1);
	return sbx_fail(err, SBX_E_SYSTEM, "the sandbox supervisor failed to start");
}

static int prepare_run_dir(const sbx_paths *p, sbx_error *err)
{
	int r = sbx_mkdir_p(p->run, 0700, err);
	if (r < 0)
		return r;
	int lfd = make_listener(p, err);
	if (lfd < 0)
		rmdir(p->run);
	return lfd;
}

static _Noreturn void spawn_body(const sbx_paths *p, int lfd, int ready, void *arg)
{
	supervise(p, arg, lfd, ready);
}

int sbx_supervisor_spawn(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err)
{
	int lfd = prepare_run_dir(p, err);
	if (lfd < 0)
		return lfd;
	int r = detach(p, lfd, NULL, 0, spawn_body, (void *)c, err);
	close(lfd);
	if (r < 0) {
		unlink(p->sock);
		rmdir(p->run);
	}
	return r;
}

static _Noreturn void adopt_body(const sbx_paths *p, int lfd, int ready, void *arg)
{
	sbx_launcher *s = arg;
	sbx_error err = {0};
	int sfd = block_stop_signals();
	if (sbx_sup_lock(p, &err) < 0 || write_state(p, s, &err) < 0) {
		report(ready, 'E', err.msg);
		_exit(1); /* the pool still owns the sandbox */
	}
	report(ready, 'O', "");
	close(ready);
	serve_until_end(p, s, lfd, sfd);
}

int sbx_supervisor_adopt(const sbx_paths *p, sbx_launcher *s, sbx_error *err)
{
	int lfd = prepare_run_dir(p, err);
	if (lfd < 0)
		return lfd;
	int keep[4 + SBX_CG_N] = {s->sock[0], s->pidfd, s->cg.v2_fd, s->ids.lock_fd};
	size_t n = 4;
	for (int c = 0; c < SBX_CG_N; c++)
		keep[n++] = s->cg.dirfd[c];
	int r = detach(p, lfd, keep, n, adopt_body, s, err);
	close(lfd);
	if (r < 0) {
		unlink(p->sock);
		rmdir(p->run);
	}
	return r;
}
