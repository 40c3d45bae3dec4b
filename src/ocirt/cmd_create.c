/* `create` and `run`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "ocirt/container.h"

static int parse(const char *cmd, int argc, char **argv, sbx_oci_create_req *q, bool *detach,
		 sbx_error *err)
{
	bool no_new_keyring = false, keep = false;
	const char *notify = NULL;
	sbx_oci_opt opts[] = {
	    {"bundle", 'b', SBX_OCI_OPT_STR, &q->bundle},
	    {"pid-file", 0, SBX_OCI_OPT_STR, &q->pid_file},
	    {"console-socket", 0, SBX_OCI_OPT_STR, &q->console_socket},
	    {"no-pivot", 0, SBX_OCI_OPT_FLAG, &q->no_pivot},
	    {"no-new-keyring", 0, SBX_OCI_OPT_FLAG, &no_new_keyring},
	    {"preserve-fds", 0, SBX_OCI_OPT_INT, &q->preserve_fds},
	    {"notify-socket", 0, SBX_OCI_OPT_STR, &notify},
	    {"detach", 'd', SBX_OCI_OPT_FLAG, detach},
	    {"keep", 0, SBX_OCI_OPT_FLAG, &keep},
	};
	size_t n = ARRAY_LEN(opts) - (detach ? 0 : 2);
	int first;
	int r = sbx_oci_opts(cmd, argc, argv, opts, n, &first, err);
	if (r < 0)
		return r;
	r = sbx_oci_need_args(cmd, argc, argv, first, 1, "[OPTIONS] ID", err);
	if (r < 0)
		return r;
	if (q->preserve_fds > 1024)
		return sbx_fail(err, SBX_E_INVALID, "%s: --preserve-fds %d is too many", cmd,
				q->preserve_fds);
	q->id = argv[first];
	return 0;
}

int sbx_oci_cmd_create(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	sbx_oci_create_req q = {0};
	int r = parse("create", argc, argv, &q, NULL, err);
	if (r < 0)
		return r;
	sbx_oci_state st;
	r = sbx_oci_container_create(c, &q, &st, err);
	if (r < 0)
		return r;
	sbx_oci_state_clear(&st);
	return 0;
}

int sbx_oci_cmd_run(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	sbx_oci_create_req q = {0};
	bool detach = false;
	int r = parse("run", argc, argv, &q, &detach, err);
	if (r < 0)
		return r;
	/* The init is forked by the stage: as a subreaper we get it back and
	 * can wait for it. */
	if (!detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	sbx_oci_state st;
	r = sbx_oci_container_create(c, &q, &st, err);
	if (r < 0)
		return r;
	r = sbx_oci_container_start(&st, err);
	if (r < 0) {
		sbx_error e = {0};
		sbx_oci_container_destroy(&st, &e);
		sbx_oci_state_clear(&st);
		return r;
	}
	if (detach) {
		sbx_oci_state_clear(&st);
		return 0;
	}
	/* Signals to us go to the container, as with runc run. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	int status = -1;
	for (;;) {
		siginfo_t si;
		struct timespec ts = {0, 100000000};
		int sig = sigtimedwait(&all, &si, &ts);
		if (sig == SIGCHLD || sig < 0) {
			int ws;
			pid_t w;
			while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
				if (w == st.pid)
					status =
					    WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			if (status >= 0)
				break;
			continue;
		}
		sbx_error e = {0};
		sbx_oci_container_signal(&st, sig, &e);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	sbx_error e = {0};
	if (sbx_oci_container_destroy(&st, &e) < 0)
		dprintf(2, "sbx-oci: %s\n", e.msg);
	sbx_oci_state_clear(&st);
	return status;
}
