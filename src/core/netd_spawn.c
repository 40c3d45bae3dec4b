/* netd's children: slirp4netns and nft, each started with only the fds it
 * needs and waited for with a deadline. */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fdutil.h"
#include "base/util.h"
#include "core/netd_int.h"

int sbx_netd_find(const char *prog, const char *package, char *out, size_t cap, sbx_error *err)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/sbin",	 "/bin",
					   "/sbin",    "/usr/local/bin", "/usr/local/sbin"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		snprintf(out, cap, "%s/%s", dirs[i], prog);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return sbx_fail(err, SBX_E_SETUP, "--net egress needs %s (apt-get install %s)", prog,
			package);
}

static void child_fd(int from, int to)
{
	if (from == to)
		fcntl(to, F_SETFD, 0);
	else
		dup2(from, to); /* dup2 clears FD_CLOEXEC */
}

pid_t sbx_netd_spawn(char *const argv[], int in, int out, int errfd, const int *extra,
		     size_t n_extra, int netns, int *pidfd)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, pidfd, NULL, 0);
	if (pid != 0)
		return pid;
	/* The child: netd is single-threaded, so anything goes until exec;
	 * still, nothing here allocates. */
	if (netns >= 0 && setns(netns, CLONE_NEWNET) < 0)
		_exit(126);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* Out of the way of 0..3+n_extra first. */
	int src[3 + 8], n = 0;
	int std[3] = {in, out, errfd};
	for (int i = 0; i < 3; i++)
		src[n++] = fcntl(std[i] >= 0 ? std[i] : nul, F_DUPFD_CLOEXEC, 64);
	for (size_t i = 0; i < n_extra && n < 3 + 8; i++)
		src[n++] = fcntl(extra[i], F_DUPFD_CLOEXEC, 64);
	for (int i = 0; i < n; i++) {
		if (src[i] < 0)
			_exit(126);
		child_fd(src[i], i);
	}
	int keep[3 + 8];
	for (int i = 0; i < n; i++)
		keep[i] = i;
	sbx_close_all_except(keep, (size_t)n);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < _NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	execve(argv[0], argv, envp);
	_exit(127);
}

int sbx_netd_reap(pid_t pid, int pidfd, int ms)
{
	struct pollfd pf = {pidfd, POLLIN, 0};
	uint64_t end = sbx_now_ns() + (uint64_t)ms * 1000000;
	int killed = 0;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return killed ? -1 : st;
		if (r < 0 && errno != EINTR)
			return -1;
		uint64_t now = sbx_now_ns();
		if (now >= end && !killed) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			killed = 1;
			end = now + 2000000000ull;
		} else if (now >= end) {
			return -1; /* unkillable: give up waiting */
		}
		poll(&pf, 1, (int)((end - now) / 1000000) + 1);
	}
}

int sbx_netd_nft_begin(const sbx_netd_ctx *c, const char *text, size_t len, sbx_netd_job *j,
		       sbx_error *err)
{
	j->pid = -1;
	j->pidfd = j->err = -1;
	char nft[64];
	int r = sbx_netd_find("nft", "nftables", nft, sizeof(nft), err);
	if (r < 0)
		return r;
	_cleanup_close_ int mfd = memfd_create("sbx-nft", MFD_CLOEXEC);
	int ep[2];
	if (mfd < 0 || pipe2(ep, O_CLOEXEC | O_NONBLOCK) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "nft: memfd");
	j->err = ep[0];
	_cleanup_close_ int ew = ep[1];
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(mfd, text + off, len - off);
		if (w <= 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "nft: write rules");
		off += (size_t)w;
	}
	lseek(mfd, 0, SEEK_SET);
	char *argv[] = {nft, "-f", "-", NULL};
	j->pid = sbx_netd_spawn(argv, mfd, -1, ew, NULL, 0, c->netns, &j->pidfd);
	if (j->pid < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "nft: fork");
	return 0;
}

int sbx_netd_nft_end(sbx_netd_job *j, sbx_error *err)
{
	if (j->pid <= 0) {
		sbx_closep(&j->err);
		return 0;
	}
	int st = sbx_netd_reap(j->pid, j->pidfd, SBX_NETD_STEP_MS);
	j->pid = -1;
	sbx_closep(&j->pidfd);
	char msg[256] = "";
	ssize_t n = read(j->err, msg, sizeof(msg) - 1);
	sbx_closep(&j->err);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (st < 0)
		return sbx_fail(err, SBX_E_SETUP, "nft did not finish in time");
	return sbx_fail(err, SBX_E_SETUP, "nft failed (status %d): %s",
			WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), msg);
}

int sbx_netd_nft(const sbx_netd_ctx *c, const char *text, size_t len, sbx_error *err)
{
	sbx_netd_job j;
	int r = sbx_netd_nft_begin(c, text, len, &j, err);
	if (r == 0)
		r = sbx_netd_nft_end(&j, err);
	else
		sbx_closep(&j.err);
	return r;
}
