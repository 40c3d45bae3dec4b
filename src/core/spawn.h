/* Creating the sandbox's first process in its new namespaces. */
#ifndef SBX_SPAWN_H
#define SBX_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "sbx.h"

#define SBX_NS_FLAGS                                                                               \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* Fork-like clone with ns_flags; with cgroup_fd >= 0 try CLONE_INTO_CGROUP
 * (then *into_cgroup says whether it was used). Returns 0 in the child,
 * the pid in the parent (with *pidfd), or -SBX_E_PRIVILEGE (EPERM) /
 * -SBX_E_KERNEL with err ("cannot create namespaces: <strerror>"). */
pid_t sbx_clone_ns(uint64_t ns_flags, int cgroup_fd, int *pidfd, bool *into_cgroup, sbx_error *err);

/* fork() that is safe after clone in a threaded parent (no atfork hooks,
 * no allocation). 0 in the child, the pid, or -SBX_E_SYSTEM with err. */
pid_t sbx_raw_fork(sbx_error *err);

#endif
