/* The command's own process: stdio, cwd, limits, privileges, exec. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/fdutil.h"
#include "base/util.h"
#include "core/launch.h"
#include "core/spawn.h"
#include "core/seccomp_policy.h"
#include "proto/proto.h"

extern char **environ;

typedef struct spawn_arg {
	const sbx_launch *l;
	int in, out, errfd;
} spawn_arg;

static int spawn_main(void *p)
{
	spawn_arg *a = p;
	sbx_workload_exec(a->l, a->in, a->out, a->errfd);
}

pid_t sbx_spawn_workload(const sbx_launch *l, int in, int out, int errfd, sbx_error *err)
{
#ifdef __SANITIZE_ADDRESS__
	/* ASan cannot follow a CLONE_VM child on a foreign stack (it warns
	 * into the command's stderr): sanitizer builds copy the process. */
	pid_t p = sbx_raw_fork(err);
	if (p == 0)
		sbx_workload_exec(l, in, out, errfd);
	return p < 0 ? sbx_error_wrap(err, p, "spawn") : p;
#endif
	/* The child runs on this stack while we wait (CLONE_VFORK); one
	 * spawn at a time per process, which the callers guarantee. */
	static char stack[256 * 1024] __attribute__((aligned(16)));
	spawn_arg a = {l, in, out, errfd};
	pid_t pid = clone(spawn_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (pid < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "spawn");
	return pid;
}

/* A set-up failure of the command: its text to whoever waits on l->sock
 * (the launcher, or an exec request's client), exit 125. */
static _Noreturn void die(const sbx_launch *l, const sbx_error *e)
{
	sbx_msg_send_error(l->sock, e, NULL);
	_exit(SBX_EXIT_ERROR);
}

_Noreturn void sbx_workload_exec(const sbx_launch *l, int in, int out, int errfd)
{
	int src[3] = {in, out, errfd};
	sbx_error err; /* on the stack: nothing here may allocate */
	/* The command starts with default signal handling, whatever the caller
	 * blocked or ignored (the CLI blocks SIGINT/SIGTERM/SIGHUP for its
	 * signalfd and ignores SIGPIPE). */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL/SIGSTOP/internal: fine */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* Lift the sources above 2 first so no dup2 clobbers another. */
	for (int i = 0; i < 3; i++) {
		if (src[i] < 0)
			src[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (src[i] < 0 || (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0) {
			sbx_fail_errno(&err, SBX_E_SETUP, errno, "stdio");
			die(l, &err);
		}
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(src[i], i) < 0) {
			sbx_fail_errno(&err, SBX_E_SETUP, errno, "stdio");
			die(l, &err);
		}
	}
	if (chdir(l->cwd) < 0) {
		sbx_fail_errno(&err, SBX_E_SETUP, errno, "chdir");
		die(l, &err);
	}
	if (sbx_rlimits_apply(&l->privs, &err) < 0)
		die(l, &err);
	int r = sbx_privs_drop_to_workload(&l->privs, &err);
	if (r < 0) {
		sbx_error_wrap(&err, r, "drop capabilities");
		die(l, &err);
	}
	/* A template's zygote loads no filter: its children load it (launch.h). */
	if (!l->template_mode && sbx_seccomp_load(l->seccomp, &err) < 0)
		die(l, &err);
	/* Everything but stdio goes, the control socket included. */
	sbx_close_all_except(NULL, 0);
	if (l->debug) {
		char buf[96];
		int n = snprintf(buf, sizeof(buf), "sbx-debug: time child-exec %lluus\n",
				 (unsigned long long)((sbx_now_ns() - l->t0) / 1000));
		(void)!write(l->stderr_fd >= 0 ? 2 : 2, buf, (size_t)n);
	}
	environ = (char **)l->envp;
	execvp(l->argv[0], l->argv);
	int e = errno;
	char buf[PATH_MAX + 64];
	int n = snprintf(buf, sizeof(buf), "sbx: %s: %s\n", l->argv[0],
			 e == ENOENT ? "command not found" : strerror(e));
	if (n > 0)
		(void)!write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	_exit(e == ENOENT ? SBX_EXIT_NOTFOUND : SBX_EXIT_NOEXEC);
}
