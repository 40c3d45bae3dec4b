/* Creating the sandbox's first process in its new namespaces. */
#ifndef SBX_SPAWN_H
#define SBX_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_NS_FLAGS                                                                               \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* Fork-like clone with ns_flags; with cgroup_fd >= 0 try CLONE_INTO_CGROUP
 * (then *into_cgroup says whether it was used). Returns 0 in the child,
 * the pid in the parent (with *pidfd), or -errno. */
pid_t sbx_clone_ns(uint64_t ns_flags, int cgroup_fd, int *pidfd, bool *into_cgroup);

/* fork() that is safe after clone in a threaded parent (no atfork hooks). */
pid_t sbx_raw_fork(void);

#endif
