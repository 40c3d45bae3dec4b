/* The config's hooks (see hooks.h): each one a child of ours with the
 * state JSON on its stdin and a deadline, killed when past it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "base/util.h"
#include "ocirt/hooks.h"

/* Bytes written to the hook's stdin per write. */
#define HOOK_CHUNK 65536

/* In the forked child: stdin from fd, every other fd of ours closed, the
 * signal state a fresh program expects, then the hook. Never returns. */
static void __attribute__((noreturn)) hook_child(const sbx_oci_hook *h, int in)
{
	if (in == 0) {
		fcntl(0, F_SETFD, 0);
	} else if (dup2(in, 0) < 0) {
		_exit(127);
	}
	close_range(3, ~0u, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	char *argv0[] = {h->path, NULL};
	char *env0[] = {NULL};
	execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : env0);
	_exit(127);
}

/* Write what the pipe takes of data[*off..len) without blocking and
 * without a SIGPIPE. true: keep going; false: done with the pipe (all
 * written, or the hook closed its end). */
static bool feed(int fd, const char *data, size_t len, size_t *off)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	bool more = true;
	while (*off < len) {
		size_t n = len - *off < HOOK_CHUNK ? len - *off : HOOK_CHUNK;
		ssize_t w = write(fd, data + *off, n);
		if (w > 0) {
			*off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0 && errno == EPIPE) {
			struct timespec zero = {0, 0};
			sigtimedwait(&pipe_set, NULL, &zero);
		}
		more = false;
		break;
	}
	if (*off >= len)
		more = false;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return more;
}

static int reap(pid_t pid, int *status)
{
	pid_t w;
	do
		w = waitpid(pid, status, 0);
	while (w < 0 && errno == EINTR);
	return w < 0 ? -1 : 0;
}

static int run_one(const char *kind, const sbx_oci_hook *h, const char *state, sbx_error *err)
{
	int timeout = h->timeout > 0 ? h->timeout : SBX_OCI_HOOK_DEFAULT_S;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "%s hook %s: pipe", kind, h->path);
	_cleanup_close_ int in = p[1];
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		return sbx_fail_errno(err, SBX_E_SETUP, e, "%s hook %s: fork", kind, h->path);
	}
	if (pid == 0)
		hook_child(h, p[0]);
	close(p[0]);
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int e = errno, st;
		kill(pid, SIGKILL);
		reap(pid, &st);
		return sbx_fail_errno(err, SBX_E_SETUP, e, "%s hook %s: pidfd_open", kind, h->path);
	}
	fcntl(in, F_SETFL, O_NONBLOCK);
	size_t len = state ? strlen(state) : 0, off = 0;
	if (!feed(in, state ? state : "", len, &off))
		sbx_closep(&in);
	uint64_t deadline = sbx_now_ns() + (uint64_t)timeout * 1000000000ull;
	for (;;) {
		uint64_t now = sbx_now_ns();
		if (now >= deadline) {
			int st;
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			reap(pid, &st);
			return sbx_fail(err, SBX_E_SETUP, "%s hook %s: timed out after %d s", kind,
					h->path, timeout);
		}
		uint64_t left_ms = (deadline - now + 999999) / 1000000;
		struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN},
				       {.fd = in, .events = POLLOUT}};
		int r = poll(pf, in >= 0 ? 2 : 1, left_ms > 60000 ? 60000 : (int)left_ms);
		if (r < 0 && errno != EINTR) {
			int e = errno, st;
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			reap(pid, &st);
			return sbx_fail_errno(err, SBX_E_SETUP, e, "%s hook %s: poll", kind,
					      h->path);
		}
		if (r <= 0)
			continue;
		if (pf[0].revents)
			break;
		if (in >= 0 && pf[1].revents && !feed(in, state, len, &off))
			sbx_closep(&in);
	}
	sbx_closep(&in);
	int st;
	if (reap(pid, &st) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "%s hook %s: wait", kind, h->path);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return sbx_fail(err, SBX_E_SETUP, "%s hook %s: exit status %d", kind, h->path,
				WEXITSTATUS(st));
	return sbx_fail(err, SBX_E_SETUP, "%s hook %s: killed by signal %d", kind, h->path,
			WTERMSIG(st));
}

int sbx_oci_hooks_run(const char *kind, const sbx_oci_hook *hooks, size_t n, const char *state_json,
		      sbx_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = run_one(kind, &hooks[i], state_json, err);
		if (r < 0)
			return r;
	}
	return 0;
}
