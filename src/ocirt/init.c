/* The processes a `create` forks: the stage (joins and makes the
 * namespaces, forks the init) and the init (waits for its cgroups, sets up
 * the filesystem, waits for `start`, execs the container's process). Both
 * are single-threaded forks of the runtime: they may allocate. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "ocirt/container.h"
#include "ocirt/process.h"
#include "ocirt/rootfs.h"

static __attribute__((noreturn)) void die(int sync, const sbx_error *e)
{
	sbx_error tmp;
	sbx_oci_msg_send(sync, SBX_OCI_MSG_ERROR, e->msg, &tmp);
	_exit(1);
}

static int join(const sbx_oci_child *k, int kind, sbx_error *err)
{
	for (int i = 0; i < k->n_join; i++)
		if (k->join_kind[i] == kind && setns(k->join_fd[i], kind) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "cannot join namespace %#x",
					      kind);
	return 0;
}

/* Capabilities the process is to hold (not only keep in its bounding set)
 * must be in ours: capset cannot raise them. Checked before create reports
 * ready, so such a config fails create (runc: "unable to apply caps"), not
 * the process after start. */
static int check_caps(const sbx_oci_process *p, sbx_error *err)
{
	uint64_t want = p->caps[SBX_OCI_CAP_EFFECTIVE] | p->caps[SBX_OCI_CAP_PERMITTED] |
			p->caps[SBX_OCI_CAP_INHERITABLE];
	for (int c = 0; c < 64; c++) {
		if (!(want & (UINT64_C(1) << c)))
			continue;
		int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (r == 0)
			return sbx_fail(
			    err, SBX_E_SETUP,
			    "capability %d is asked for but the runtime does not hold it", c);
	}
	return 0;
}

static __attribute__((noreturn)) void init_main(const sbx_oci_child *k)
{
	const sbx_oci_spec *s = k->spec;
	sbx_error e = {0};
	char type, buf[64];
	/* The runtime puts us in the cgroups first: a cgroup namespace made
	 * now is rooted there. Its going away (EOF) ends us. */
	if (sbx_oci_msg_recv(k->sync, &type, buf, sizeof(buf), 0, &e) < 0 || type != SBX_OCI_MSG_GO)
		_exit(1);
	if (join(k, CLONE_NEWCGROUP, &e) < 0)
		die(k->sync, &e);
	if (k->new_cgroup && unshare(CLONE_NEWCGROUP) < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "cannot make a cgroup namespace");
		die(k->sync, &e);
	}
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "sethostname %s", s->hostname);
		die(k->sync, &e);
	}
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "setdomainname %s", s->domainname);
		die(k->sync, &e);
	}
	if (!k->no_mountns && sbx_oci_rootfs_setup(s, k->rootfs, k->in_userns, &e) < 0)
		die(k->sync, &e);
	if (sbx_oci_rlimits_check(&s->process, &e) < 0)
		die(k->sync, &e);
	if (check_caps(&s->process, &e) < 0)
		die(k->sync, &e);
	if (s->process.terminal && sbx_oci_console_setup(k->console, &e) < 0)
		die(k->sync, &e);
	if (sbx_oci_msg_send(k->sync, SBX_OCI_MSG_READY, "", &e) < 0)
		_exit(1);
	close(k->sync);
	/* Created: wait for `start` (it opens the fifo for reading). */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", k->fifo);
	int w = open(self, O_WRONLY | O_CLOEXEC);
	if (w < 0 || write(w, "0", 1) != 1) {
		dprintf(2, "sbx-oci: init: exec fifo: %s\n", strerror(errno));
		_exit(1);
	}
	close(w);
	close(k->fifo);
	if (k->no_mountns && (chroot(k->rootfs) < 0 || chdir("/") < 0)) {
		dprintf(2, "sbx-oci: init: chroot %s: %s\n", k->rootfs, strerror(errno));
		_exit(1);
	}
	sbx_oci_exec_opts o = {
	    .seccomp = k->seccomp,
	    .seccomp_flags = s->has_seccomp ? s->seccomp.flags : 0,
	    .console_sock = -1,
	    .preserve_fds = k->preserve_fds,
	    .keep_fd = -1,
	    .console_mount = true,
	};
	sbx_oci_process_exec(&s->process, &o, &e);
	dprintf(2, "sbx-oci: %s\n", e.msg);
	_exit(127);
}

void sbx_oci_stage_main(const sbx_oci_child *k)
{
	sbx_error e = {0};
	char type, buf[64];
	/* The user namespace first: the others are then owned by it. */
	if (join(k, CLONE_NEWUSER, &e) < 0)
		die(k->sync, &e);
	if (k->new_user) {
		if (unshare(CLONE_NEWUSER) < 0) {
			sbx_fail_errno(&e, SBX_E_SETUP, errno, "cannot make a user namespace");
			die(k->sync, &e);
		}
		if (sbx_oci_msg_send(k->sync, SBX_OCI_MSG_USERNS, "", &e) < 0)
			_exit(1);
		if (sbx_oci_msg_recv(k->sync, &type, buf, sizeof(buf), 0, &e) < 0 ||
		    type != SBX_OCI_MSG_MAPPED)
			_exit(1);
	}
	if (k->in_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "cannot become root of the user namespace");
		die(k->sync, &e);
	}
	static const int order[] = {CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID,
				    CLONE_NEWNS};
	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (join(k, order[i], &e) < 0)
			die(k->sync, &e);
	if (k->new_flags && unshare(k->new_flags) < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "cannot make namespaces %#x", k->new_flags);
		die(k->sync, &e);
	}
	pid_t pid = fork();
	if (pid < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "fork the container's init");
		die(k->sync, &e);
	}
	if (pid == 0)
		init_main(k);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (sbx_oci_msg_send(k->sync, SBX_OCI_MSG_PID, buf, &e) < 0)
		kill(pid, SIGKILL);
	_exit(0);
}
