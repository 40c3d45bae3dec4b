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

/* console (when p->terminal: a pty from /dev/ptmx, its master sent over
 * console_sock with SCM_RIGHTS, the slave as fds 0-2 and controlling
 * terminal of a new session; with console_mount bound over /dev/console,
 * made when missing), oom_score_adj, rlimits, umask, user (groups,
 * gid, uid, keeping the capabilities through the change), the five
 * capability sets, no_new_privs, the seccomp program (before the last
 * capability drop when no_new_privs is off, as runc does), cwd, every fd
 * closed but 0-2, the preserved ones and keep_fd, then execvpe with PATH
 * from p->env (plus HOME from the container's /etc/passwd, or "/", when
 * p->env has none, as runc does). Returns only on failure: -SBX_E_SETUP with err
 * ("exec python3: No such file or directory"). */
int sbx_oci_process_exec(const sbx_oci_process *p, const sbx_oci_exec_opts *o, sbx_error *err);

/* The terminal alone (sbx_oci_process_exec's first step when p->terminal
 * and console_sock >= 0): a pty from the container's /dev/ptmx, its master
 * sent over console_sock (SCM_RIGHTS, data "/dev/ptmx"), then a new
 * session with the slave as controlling terminal and as fds 0-2 (owned by
 * uid); with bind_console the slave is also bound over /dev/console.
 * `create` calls it before waiting for `start`: the caller (conmon,
 * containerd's shim) wants the master during create. 0 or -SBX_E_SETUP. */
int sbx_oci_console_setup(int console_sock, uid_t uid, bool bind_console, sbx_error *err);

#endif
