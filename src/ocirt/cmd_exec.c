/* `exec`: one more process in a container: it joins the init's namespaces
 * and cgroups and gets its own process settings (--process F, or the
 * container's with the command line's changes). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/procfs.h"
#include "base/readall.h"
#include "ocirt/container.h"
#include "ocirt/process.h"
#include "ocirt/seccomp.h"

static const struct {
	const char *name;
	int kind;
} ns_order[] = {{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		{"net", CLONE_NEWNET},	 {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
		{"mnt", CLONE_NEWNS}};

typedef struct exec_req {
	const char *process_file, *pid_file, *console_socket, *cwd, *user;
	bool detach, tty, nnp;
	int preserve_fds;
	sbx_oci_list env;
} exec_req;

/* E2: the process itself (in the container's namespaces). */
static __attribute__((noreturn)) void exec_child(int sync, int console, const sbx_oci_process *p,
						 const struct sock_fprog *prog, unsigned sc_flags,
						 int preserve_fds)
{
	sbx_error e = {0};
	char type, buf[16];
	if (sbx_oci_msg_recv(sync, &type, buf, sizeof(buf), 0, &e) < 0 || type != SBX_OCI_MSG_GO)
		_exit(1);
	if (p->terminal && sbx_oci_console_setup(console, p->uid, false, &e) < 0)
		goto fail;
	sbx_oci_exec_opts o = {.seccomp = prog,
			       .seccomp_flags = sc_flags,
			       .console_sock = -1,
			       .preserve_fds = preserve_fds,
			       .keep_fd = sync};
	sbx_oci_process_exec(p, &o, &e);
fail:
	sbx_oci_msg_send(sync, SBX_OCI_MSG_ERROR, e.msg, &e);
	_exit(127);
}

/* E1: joins the namespaces (the pid one takes effect for its child). */
static __attribute__((noreturn)) void exec_stage(int sync, int console, const int *nsfd,
						 const sbx_oci_process *p,
						 const struct sock_fprog *prog, unsigned sc_flags,
						 int preserve_fds)
{
	sbx_error e = {0};
	for (size_t i = 0; i < ARRAY_LEN(ns_order); i++) {
		if (nsfd[i] >= 0 && setns(nsfd[i], ns_order[i].kind) < 0) {
			sbx_fail_errno(&e, SBX_E_SETUP, errno,
				       "cannot join the container's %s namespace",
				       ns_order[i].name);
			sbx_oci_msg_send(sync, SBX_OCI_MSG_ERROR, e.msg, &e);
			_exit(1);
		}
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	}
	pid_t pid = fork();
	if (pid < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "fork");
		sbx_oci_msg_send(sync, SBX_OCI_MSG_ERROR, e.msg, &e);
		_exit(1);
	}
	if (pid == 0)
		exec_child(sync, console, p, prog, sc_flags, preserve_fds);
	char b[32];
	snprintf(b, sizeof(b), "%d", (int)pid);
	if (sbx_oci_msg_send(sync, SBX_OCI_MSG_PID, b, &e) < 0)
		kill(pid, SIGKILL);
	_exit(0);
}

/* The namespaces of pid that differ from ours, opened. */
static int open_ns(pid_t pid, int *fds, sbx_error *err)
{
	for (size_t i = 0; i < ARRAY_LEN(ns_order); i++) {
		char p[64], q[64];
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns_order[i].name);
		snprintf(q, sizeof(q), "/proc/self/ns/%s", ns_order[i].name);
		struct stat a, b;
		fds[i] = -1;
		if (stat(p, &a) < 0)
			return sbx_fail_errno(err, SBX_E_STATE, errno, "container's %s namespace",
					      ns_order[i].name);
		if (stat(q, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return sbx_fail_errno(err, SBX_E_STATE, errno, "container's %s namespace",
					      ns_order[i].name);
	}
	return 0;
}

static int parse_user(const char *u, sbx_oci_process *p, sbx_error *err)
{
	char *end;
	unsigned long uid = strtoul(u, &end, 10);
	if (end == u || (*end && *end != ':') || uid > UINT32_MAX - 1)
		return sbx_fail(err, SBX_E_INVALID, "exec: --user must be UID[:GID], not '%.32s'",
				u);
	p->uid = (uint32_t)uid;
	if (*end == ':') {
		const char *g = end + 1;
		unsigned long gid = strtoul(g, &end, 10);
		if (end == g || *end || gid > UINT32_MAX - 1)
			return sbx_fail(err, SBX_E_INVALID,
					"exec: --user must be UID[:GID], not '%.32s'", u);
		p->gid = (uint32_t)gid;
	}
	return 0;
}

/* The process to run: --process F, or the container's with our changes.
 * *extra: strings we allocated that p now points to (freed after). */
static int make_process(const exec_req *q, const sbx_oci_spec *spec, int argc, char **argv,
			sbx_oci_process *p, char ***extra, sbx_error *err)
{
	if (q->process_file) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		int r =
		    sbx_read_all(AT_FDCWD, q->process_file, SBX_OCI_CONFIG_MAX, &text, &len, err);
		if (r < 0)
			return r;
		r = sbx_oci_process_parse(text, len, p, err);
		if (r < 0)
			return sbx_error_wrap(err, r, "%s", q->process_file);
		return 0;
	}
	if (argc < 1)
		return sbx_fail(err, SBX_E_INVALID, "exec: a command or --process is needed");
	if (!spec->has_process)
		return sbx_fail(err, SBX_E_INVALID,
				"exec: the container has no process to start from");
	/* Copy the container's by re-parsing is not possible here; borrow its
	 * fields and replace args, env, cwd, user, terminal. */
	*p = spec->process;
	size_t n_env = spec->process.n_env + (size_t)q->env.n;
	char **env = calloc(n_env + 1, sizeof(char *));
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	*extra = calloc(3, sizeof(char *));
	if (!env || !args || !*extra) {
		free(env);
		free(args);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "exec");
	}
	(*extra)[0] = (char *)env;
	(*extra)[1] = (char *)args;
	for (size_t i = 0; i < spec->process.n_env; i++)
		env[i] = spec->process.env[i];
	for (int i = 0; i < q->env.n; i++)
		env[spec->process.n_env + (size_t)i] = (char *)q->env.item[i];
	for (int i = 0; i < argc; i++)
		args[i] = argv[i];
	p->env = env;
	p->n_env = n_env;
	p->args = args;
	p->n_args = (size_t)argc;
	p->terminal = q->tty;
	if (q->cwd)
		p->cwd = (char *)q->cwd;
	if (q->nnp)
		p->no_new_privileges = true;
	if (q->user)
		return parse_user(q->user, p, err);
	return 0;
}

static int wait_exec(int sync, pid_t stage, pid_t *child, sbx_oci_state *st, const exec_req *q,
		     sbx_error *err)
{
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), SBX_OCI_STEP_MS);
	char type, buf[1024];
	int r = sbx_oci_msg_recv(sync, &type, buf, sizeof(buf), deadline, err);
	waitpid(stage, NULL, 0);
	if (r < 0)
		return r;
	if (type == SBX_OCI_MSG_ERROR)
		return sbx_fail(err, SBX_E_SETUP, "%s", buf);
	if (type != SBX_OCI_MSG_PID || (*child = (pid_t)strtol(buf, NULL, 10)) <= 0)
		return sbx_fail(err, SBX_E_SETUP, "unexpected message from exec");
	r = sbx_oci_cg_attach(&st->cg, *child, err);
	if (r < 0)
		return r;
	if (q->pid_file) {
		char b[32];
		int n = snprintf(b, sizeof(b), "%d", (int)*child);
		r = sbx_write_file_atomic(q->pid_file, b, (size_t)n, 0644, err);
		if (r < 0)
			return r;
	}
	r = sbx_oci_msg_send(sync, SBX_OCI_MSG_GO, "", err);
	if (r < 0)
		return r;
	/* The process's exec closes its end: EOF is success. */
	r = sbx_oci_msg_recv(sync, &type, buf, sizeof(buf), deadline, err);
	if (r == 0 && type == SBX_OCI_MSG_ERROR)
		return sbx_fail(err, SBX_E_SETUP, "%s", buf);
	if (r < 0 && strstr(err->msg, "without a word"))
		return 0;
	return r < 0 ? r : sbx_fail(err, SBX_E_SETUP, "unexpected message from exec");
}

static int forward_and_wait(pid_t child)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	int status = -1;
	while (status < 0) {
		siginfo_t si;
		struct timespec ts = {0, 100000000};
		int sig = sigtimedwait(&all, &si, &ts);
		if (sig > 0 && sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int ws;
		pid_t w;
		while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
			if (w == child)
				status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
		if (w < 0 && errno == ECHILD && status < 0)
			status = 255;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

int sbx_oci_cmd_exec(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	exec_req q = {0};
	const char *label = NULL, *apparmor = NULL, *cgroup = NULL;
	sbx_oci_list caps = {0};
	const sbx_oci_opt opts[] = {
	    {"process", 'p', SBX_OCI_OPT_STR, &q.process_file},
	    {"detach", 'd', SBX_OCI_OPT_FLAG, &q.detach},
	    {"pid-file", 0, SBX_OCI_OPT_STR, &q.pid_file},
	    {"console-socket", 0, SBX_OCI_OPT_STR, &q.console_socket},
	    {"tty", 't', SBX_OCI_OPT_FLAG, &q.tty},
	    {"cwd", 0, SBX_OCI_OPT_STR, &q.cwd},
	    {"env", 'e', SBX_OCI_OPT_LIST, &q.env},
	    {"user", 'u', SBX_OCI_OPT_STR, &q.user},
	    {"no-new-privs", 0, SBX_OCI_OPT_FLAG, &q.nnp},
	    {"preserve-fds", 0, SBX_OCI_OPT_INT, &q.preserve_fds},
	    {"process-label", 0, SBX_OCI_OPT_STR, &label},
	    {"apparmor", 0, SBX_OCI_OPT_STR, &apparmor},
	    {"cgroup", 0, SBX_OCI_OPT_STR, &cgroup},
	    {"cap", 'c', SBX_OCI_OPT_LIST, &caps},
	};
	int first;
	int r = sbx_oci_opts("exec", argc, argv, opts, ARRAY_LEN(opts), &first, err);
	if (r < 0)
		return r;
	if (argc - first < 1)
		return sbx_oci_need_args("exec", argc, argv, first, 1, "[OPTIONS] ID [COMMAND...]",
					 err);
	if (label || apparmor || cgroup || caps.n)
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "exec: --process-label, --apparmor, --cgroup and --cap are not supported");
	if (q.process_file && argc - first > 1)
		return sbx_fail(err, SBX_E_INVALID,
				"exec: --process and a command cannot be combined");
	if (q.preserve_fds > 1024)
		return sbx_fail(err, SBX_E_INVALID, "exec: --preserve-fds is too big");
	sbx_oci_state st;
	r = sbx_oci_state_load(c->root, argv[first], &st, err);
	if (r < 0)
		return r;
	_cleanup_spec_ sbx_oci_spec *spec = NULL;
	sbx_oci_process p = {0};
	_cleanup_free_ char **extra = NULL;
	struct sock_fprog prog = {0};
	int nsfd[ARRAY_LEN(ns_order)];
	for (size_t i = 0; i < ARRAY_LEN(nsfd); i++)
		nsfd[i] = -1;
	int console = -1, sv[2] = {-1, -1};
	pid_t child = 0;
	bool owned = q.process_file != NULL;
	sbx_oci_status s = sbx_oci_state_status(&st);
	if (s == SBX_OCI_STOPPED || s == SBX_OCI_CREATING) {
		r = sbx_fail(err, SBX_E_STATE, "cannot exec in container %s: it is %s", st.id,
			     sbx_oci_status_name(s));
		goto out;
	}
	if ((r = sbx_oci_spec_load(st.dir, &spec, err)) < 0 ||
	    (r = make_process(&q, spec, argc - first - 1, argv + first + 1, &p, &extra, err)) < 0)
		goto out;
	if (p.terminal != (q.console_socket != NULL)) {
		r = sbx_fail(err, SBX_E_INVALID,
			     p.terminal ? "exec: a terminal needs --console-socket"
					: "exec: --console-socket without a terminal");
		goto out;
	}
	if (spec->has_seccomp && (r = sbx_oci_seccomp_build(&spec->seccomp, &prog, err)) < 0)
		goto out;
	if (q.console_socket) {
		console = sbx_oci_console_connect(q.console_socket, err);
		if (console < 0) {
			r = console;
			goto out;
		}
	}
	if ((r = open_ns(st.pid, nsfd, err)) < 0)
		goto out;
	if (sbx_proc_start(st.pid) != st.pid_start) {
		r = sbx_fail(err, SBX_E_STATE, "container %s is not running", st.id);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socketpair");
		goto out;
	}
	if (!q.detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid_t stage = fork();
	if (stage < 0) {
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "fork");
		goto out;
	}
	if (stage == 0) {
		close(sv[0]);
		exec_stage(sv[1], console, nsfd, &p, prog.filter ? &prog : NULL,
			   spec->has_seccomp ? spec->seccomp.flags : 0, q.preserve_fds);
	}
	close(sv[1]);
	sv[1] = -1;
	r = wait_exec(sv[0], stage, &child, &st, &q, err);
	if (r < 0) {
		if (child > 0)
			kill(child, SIGKILL);
		goto out;
	}
	r = q.detach ? 0 : forward_and_wait(child);
out:
	for (size_t i = 0; i < ARRAY_LEN(nsfd); i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (console >= 0)
		close(console);
	if (owned)
		sbx_oci_process_clear(&p);
	if (extra) {
		free(extra[0]);
		free(extra[1]);
	}
	sbx_oci_seccomp_free(&prog);
	sbx_oci_state_clear(&st);
	return r;
}
