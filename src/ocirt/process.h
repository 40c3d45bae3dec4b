/* The container's process from process (config.json or exec's
 * process.json): the last steps in the process that execs it. Runs in a
 * single-threaded forked child (it may allocate), inside the container's
 * namespaces, after pivot_root (create) or setns (exec). */
#ifndef SBX_OCIRT_PROCESS_H
#define SBX_OCIRT_PROCESS_H

#include <linux/filter.h>
#include <stdbool.h>
#include "ocirt/spec.h"

typedef struct sbx_oci_exec_opts {
	const struct sock_fprog *seccomp; /* NULL: none */
	unsigned seccomp_flags;		  /* SECCOMP_FILTER_FLAG_* */
	int console_sock;		  /* connected --console-socket, or -1 */
	int preserve_fds;		  /* fds 3 .. 3+N-1 stay open */
	int keep_fd;			  /* one more fd kept open until exec (CLOEXEC), or -1 */
	bool console_mount; /* create (not exec): the pty's slave also bound over /dev/console */
} sbx_oci_exec_opts;

/* console (when p->terminal: sbx_oci_console_setup when console_sock is
 * given, else the caller did it and fds 0-2 are the terminal already;
 * with console_mount the slave bound over /dev/console; the terminal
 * chowned to p->uid), oom_score_adj, rlimits, umask, user (groups,
 * gid, uid, keeping the capabilities through the change), the five
 * capability sets, no_new_privs, the seccomp program (before the last
 * capability drop when no_new_privs is off, as runc does), cwd, every fd
 * closed but 0-2, the preserved ones and keep_fd, then execvpe with PATH
 * from p->env (plus HOME from the container's /etc/passwd, or "/", when
 * p->env has none, as runc does). Returns only on failure: -SBX_E_SETUP with err
 * ("exec python3: No such file or directory"). */
int sbx_oci_process_exec(const sbx_oci_process *p, const sbx_oci_exec_opts *o, sbx_error *err);

/* The terminal alone: a pty from the container's /dev/ptmx, its master
 * sent over console_sock (SCM_RIGHTS, data "/dev/ptmx"), a new session
 * with the slave as controlling terminal and as fds 0-2. `create` calls it
 * before waiting for `start` (conmon and containerd's shim want the master
 * during create), then sbx_oci_process_exec with console_sock -1 finishes
 * the terminal (/dev/console, owner). 0 or -SBX_E_SETUP. */
int sbx_oci_console_setup(int console_sock, sbx_error *err);

/* process.rlimits on the calling process (setrlimit each; only_raised:
 * only those whose hard limit is above ours). 0, or -SBX_E_SETUP
 * "setrlimit RLIMIT_NOFILE: Operation not permitted". */
int sbx_oci_rlimits_apply(const sbx_oci_process *p, bool only_raised, sbx_error *err);
/* Whether sbx_oci_rlimits_apply can succeed here, without applying them:
 * a hard limit above ours needs CAP_SYS_RESOURCE. `create` checks this in
 * the init before it reports ready, so podman's default nofile above the
 * host's hard limit fails create, as with runc (the limits themselves are
 * applied just before exec: a small RLIMIT_AS must not reach the init). */
int sbx_oci_rlimits_check(const sbx_oci_process *p, sbx_error *err);

#endif
