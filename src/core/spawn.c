/* Creating the sandbox's first process in its new namespaces. */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"
#include "core/spawn.h"

/* clone3(2) itself: -1 with errno on failure. */
static pid_t clone3_raw(struct clone_args *a)
{
	/* Not while another thread holds a request's pipe ends (internal.h). */
	sbx_clone_lock();
	pid_t p = (pid_t)syscall(SYS_clone3, a, sizeof(*a));
	if (p != 0)
		sbx_clone_unlock();
	else
		sbx_clone_lock_reset(); /* the child's copy (a server-mode init forks) */
	return p;
}

pid_t sbx_clone_ns(uint64_t ns_flags, int cgroup_fd, int *pidfd, bool *into_cgroup, sbx_error *err)
{
	struct clone_args a;
	memset(&a, 0, sizeof(a));
	a.flags = ns_flags | CLONE_PIDFD;
	a.pidfd = (uint64_t)(uintptr_t)pidfd;
	a.exit_signal = SIGCHLD;
	*into_cgroup = false;
	if (cgroup_fd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgroup_fd;
		pid_t p = clone3_raw(&a);
		if (p >= 0) {
			*into_cgroup = p > 0;
			return p;
		}
		sbx_debug("clone_into_cgroup no %s", strerror(errno));
		a.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		a.cgroup = 0;
	}
	pid_t p = clone3_raw(&a);
	if (p < 0 && errno == ENOSYS) { /* e.g. inside a container denying clone3 */
		sbx_clone_lock();
		p = (pid_t)syscall(SYS_clone, ns_flags | CLONE_PIDFD | SIGCHLD, 0, pidfd, NULL, 0);
		if (p != 0)
			sbx_clone_unlock();
		else
			sbx_clone_lock_reset();
	}
	if (p < 0)
		return sbx_fail_errno(err, errno == EPERM ? SBX_E_PRIVILEGE : SBX_E_KERNEL, errno,
				      "cannot create namespaces");
	return p;
}

pid_t sbx_raw_fork(sbx_error *err)
{
	/* glibc's fork() runs atfork handlers and takes allocator locks that
	 * another thread of the parent may have held at clone time. */
	pid_t p = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (p < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "fork");
	return p;
}
