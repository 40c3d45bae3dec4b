/* The container's life on the runtime side: create (fork the stage, write
 * id maps, attach cgroups, wait for the init to be set up), start, signal,
 * destroy, hooks. */
#include "ocirt/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "base/procfs.h"
#include "base/readall.h"
#include "ocirt/cgroups.h"
#include "ocirt/hooks.h"
#include "ocirt/seccomp.h"

#define KILL_WAIT_MS 10000
#define START_WAIT_MS 10000

static int pidfd_open_checked(pid_t pid, uint64_t start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	if (sbx_proc_start(pid) != start) { /* gone, or the pid was reused */
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int sbx_oci_container_signal(const sbx_oci_state *st, int sig, sbx_error *err)
{
	_cleanup_close_ int fd = pidfd_open_checked(st->pid, st->pid_start);
	if (fd < 0 || syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0) {
		if (errno == ESRCH)
			return sbx_fail(err, SBX_E_STATE, "container %s is not running", st->id);
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot signal container %s",
				      st->id);
	}
	return 0;
}

/* Wait until the pidfd says the process ended (a zombie is enough). */
static bool wait_gone(int pidfd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = sbx_now_ns();
		if (now >= deadline)
			return false;
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int r = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

int sbx_oci_container_hooks(const sbx_oci_state *st, const sbx_oci_spec *spec, int kind,
			    sbx_oci_status status, sbx_error *err)
{
	static const char *const names[] = {"prestart",	      "createRuntime", "createContainer",
					    "startContainer", "poststart",     "poststop"};
	if (!spec || spec->n_hooks[kind] == 0)
		return 0;
	_cleanup_buf_ sbx_buf b = {0};
	int r = sbx_oci_state_json(st, status, &b, err);
	if (r < 0)
		return r;
	return sbx_oci_hooks_run(names[kind], spec->hooks[kind], spec->n_hooks[kind], b.data, err);
}

int sbx_oci_container_destroy(sbx_oci_state *st, sbx_error *err)
{
	sbx_error e = {0};
	if (st->pid > 0) {
		_cleanup_close_ int fd = pidfd_open_checked(st->pid, st->pid_start);
		if (fd >= 0) {
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			sbx_oci_cg_signal(&st->cg, SIGKILL, &e);
			if (!wait_gone(fd, sbx_deadline_ns(sbx_now_ns(), KILL_WAIT_MS)))
				return sbx_fail(err, SBX_E_STATE,
						"container %s: its init did not end after SIGKILL",
						st->id);
		}
	}
	int r = sbx_oci_cg_destroy(&st->cg, sbx_deadline_ns(sbx_now_ns(), KILL_WAIT_MS), err);
	if (r < 0)
		return sbx_error_wrap(err, r, "container %s", st->id);
	_cleanup_spec_ sbx_oci_spec *spec = NULL;
	if (sbx_oci_spec_load(st->dir, &spec, &e) == 0 &&
	    sbx_oci_container_hooks(st, spec, SBX_OCI_HOOK_POSTSTOP, SBX_OCI_STOPPED, &e) < 0)
		dprintf(2, "sbx-oci: warning: %s\n",
			e.msg); /* poststop failures do not stop delete */
	return sbx_oci_state_remove(st, err);
}

int sbx_oci_container_start(sbx_oci_state *st, sbx_error *err)
{
	sbx_oci_status s = sbx_oci_state_status(st);
	if (s != SBX_OCI_CREATED)
		return sbx_fail(err, SBX_E_STATE, "cannot start container %s: it is %s", st->id,
				sbx_oci_status_name(s));
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/exec.fifo", st->dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_STATE, errno, "cannot start container %s", st->id);
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), START_WAIT_MS);
	for (;;) {
		uint64_t now = sbx_now_ns();
		if (now >= deadline)
			return sbx_fail(err, SBX_E_STATE,
					"container %s did not answer start within %d s", st->id,
					START_WAIT_MS / 1000);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 50);
		if (r < 0 && errno != EINTR)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "poll");
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n == 1)
			break;
		if (n == 0 && (p.revents & POLLHUP))
			return sbx_fail(err, SBX_E_STATE, "container %s ended before it started",
					st->id);
		if (sbx_proc_start(st->pid) != st->pid_start)
			return sbx_fail(err, SBX_E_STATE, "container %s ended before it started",
					st->id);
	}
	unlink(path);
	_cleanup_spec_ sbx_oci_spec *spec = NULL;
	sbx_error e = {0};
	if (sbx_oci_spec_load(st->dir, &spec, &e) == 0 &&
	    sbx_oci_container_hooks(st, spec, SBX_OCI_HOOK_POSTSTART, SBX_OCI_RUNNING, &e) < 0) {
		/* runtime-spec: a failing poststart hook is logged, the container runs on */
		dprintf(2, "sbx-oci: warning: %s\n", e.msg);
	}
	return 0;
}

/* ---- create ----------------------------------------------------------- */

static int ns_kind_of(int fd)
{
	return ioctl(fd, NS_GET_NSTYPE);
}

static int write_maps(pid_t pid, const sbx_oci_spec *s, sbx_error *err)
{
	for (int which = 0; which < 2; which++) {
		const sbx_oci_idmap *m = which ? s->gid_mappings : s->uid_mappings;
		size_t n = which ? s->n_gid_mappings : s->n_uid_mappings;
		_cleanup_buf_ sbx_buf b = {0};
		for (size_t i = 0; i < n; i++)
			sbx_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id,
				       m[i].size);
		if (b.oom)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "id maps");
		if (n == 0)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid,
			 which ? "gid_map" : "uid_map");
		int r = sbx_write_file(path, b.data, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The host uid and gid of the container's root (for the fifo's owner). */
static void root_ids(const sbx_oci_spec *s, uid_t *uid, gid_t *gid)
{
	*uid = 0;
	*gid = 0;
	for (size_t i = 0; i < s->n_uid_mappings; i++)
		if (s->uid_mappings[i].container_id == 0)
			*uid = s->uid_mappings[i].host_id;
	for (size_t i = 0; i < s->n_gid_mappings; i++)
		if (s->gid_mappings[i].container_id == 0)
			*gid = s->gid_mappings[i].host_id;
}

static char *rfc3339_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char b[64], *out = NULL;
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	if (asprintf(&out, "%s.%09ldZ", b, ts.tv_nsec) < 0)
		return NULL;
	return out;
}

typedef struct create_run {
	sbx_oci_child k;
	sbx_oci_spec *spec;
	char *rootfs;
	struct sock_fprog prog;
	int sync_parent;
	pid_t stage;
} create_run;

static void create_run_free(create_run *cr)
{
	for (int i = 0; i < cr->k.n_join; i++)
		close(cr->k.join_fd[i]);
	if (cr->k.sync >= 0)
		close(cr->k.sync);
	if (cr->sync_parent >= 0)
		close(cr->sync_parent);
	if (cr->k.fifo >= 0)
		close(cr->k.fifo);
	if (cr->k.console >= 0)
		close(cr->k.console);
	if (cr->stage > 0) {
		kill(cr->stage, SIGKILL);
		waitpid(cr->stage, NULL, 0);
	}
	sbx_oci_seccomp_free(&cr->prog);
	sbx_oci_spec_free(cr->spec);
	free(cr->rootfs);
}

static int prepare(const sbx_oci_create_req *q, const char *bundle, create_run *cr, sbx_error *err)
{
	int r = sbx_oci_spec_load(bundle, &cr->spec, err);
	if (r == -SBX_E_NOTFOUND) { /* no config.json: the caller's input */
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sbx_fail(err, SBX_E_INVALID, "%s", msg);
	}
	if (r < 0)
		return r;
	sbx_oci_spec *s = cr->spec;
	if (!s->has_process)
		return sbx_fail(err, SBX_E_INVALID, "%s/config.json: no process to run", bundle);
	if (s->process.terminal && !q->console_socket)
		return sbx_fail(err, SBX_E_INVALID,
				"process.terminal is true but no --console-socket was given");
	if (!s->process.terminal && q->console_socket)
		return sbx_fail(err, SBX_E_INVALID,
				"--console-socket was given but process.terminal is false");
	_cleanup_free_ char *root = NULL;
	if (s->root_path[0] == '/')
		root = strdup(s->root_path);
	else if (asprintf(&root, "%s/%s", bundle, s->root_path) < 0)
		root = NULL;
	if (!root)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "rootfs");
	cr->rootfs = realpath(root, NULL);
	struct stat sb;
	if (!cr->rootfs || stat(cr->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return sbx_fail(err, SBX_E_INVALID, "root.path %s is not a directory", root);
	int kinds = 0;
	for (size_t i = 0; i < s->n_namespaces; i++) {
		const sbx_oci_ns *ns = &s->namespaces[i];
		kinds |= ns->kind;
		if (!ns->path) {
			if (ns->kind == CLONE_NEWUSER)
				cr->k.new_user = true;
			else if (ns->kind == CLONE_NEWCGROUP)
				cr->k.new_cgroup = true;
			else
				cr->k.new_flags |= ns->kind;
			continue;
		}
		if (cr->k.n_join >= SBX_OCI_NS_MAX)
			return sbx_fail(err, SBX_E_INVALID, "too many namespaces to join");
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sbx_fail_errno(err, SBX_E_INVALID, errno, "namespace %s", ns->path);
		cr->k.join_fd[cr->k.n_join] = fd;
		cr->k.join_kind[cr->k.n_join++] = ns->kind;
		int t = ns_kind_of(fd);
		if (t != ns->kind)
			return sbx_fail(err, SBX_E_INVALID,
					"%s is not a namespace of the type its entry says",
					ns->path);
	}
	/* Without a mount namespace the container shares the runtime's: its
	 * mounts would change the host's (runc makes them there). sbx-oci
	 * makes none and only changes the process's root (chroot). */
	cr->k.no_mountns = !(kinds & CLONE_NEWNS);
	cr->k.in_userns = (kinds & CLONE_NEWUSER) != 0;
	if (cr->k.new_user && (s->n_uid_mappings == 0 || s->n_gid_mappings == 0))
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "a new user namespace needs linux.uidMappings and linux.gidMappings");
	if (s->has_seccomp) {
		r = sbx_oci_seccomp_build(&s->seccomp, &cr->prog, err);
		if (r < 0)
			return sbx_error_wrap(err, r, "linux.seccomp");
		cr->k.seccomp = &cr->prog;
	}
	if (q->console_socket) {
		r = sbx_oci_console_connect(q->console_socket, err);
		if (r < 0)
			return r;
		cr->k.console = r;
	}
	cr->k.spec = s;
	cr->k.rootfs = cr->rootfs;
	cr->k.preserve_fds = q->preserve_fds;
	return 0;
}

/* The devices every container gets whatever its device rules say (runc
 * adds the same): mknod of any node (using one needs its own rule), null,
 * zero, full, random, urandom, tty, ptmx and the pty slaves. Appended to
 * the config's rules, so a config's "deny all" still lets the runtime make
 * /dev. */
static int add_default_devrules(sbx_oci_resources *r, sbx_error *err)
{
	static const sbx_oci_devrule defaults[] = {
	    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},	   {true, 'c', 1, 3, "rwm"},
	    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},	   {true, 'c', 1, 8, "rwm"},
	    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},	   {true, 'c', 5, 1, "rwm"},
	    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
	};
	if (r->n_devices == 0)
		return 0; /* no rules: every device stays allowed */
	sbx_oci_devrule *all =
	    realloc(r->devices, (r->n_devices + ARRAY_LEN(defaults)) * sizeof(*all));
	if (!all)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "device rules");
	memcpy(all + r->n_devices, defaults, sizeof(defaults));
	r->devices = all;
	r->n_devices += ARRAY_LEN(defaults);
	return 0;
}

static int copy_config(const char *bundle, const char *dir, sbx_error *err)
{
	_cleanup_free_ char *src = NULL, *dst = NULL, *text = NULL;
	size_t len = 0;
	if (asprintf(&src, "%s/config.json", bundle) < 0 ||
	    asprintf(&dst, "%s/config.json", dir) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "config");
	int r = sbx_read_all(AT_FDCWD, src, SBX_OCI_CONFIG_MAX, &text, &len, err);
	if (r < 0)
		return r;
	return sbx_write_file_atomic(dst, text, len, 0600, err);
}

static int write_pid_file(const char *path, pid_t pid, sbx_error *err)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%d", (int)pid);
	_cleanup_free_ char *abs = NULL;
	if (path[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, path) < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno ? errno : ENOMEM,
					      "pid file");
		path = abs;
	}
	return sbx_write_file_atomic(path, b, (size_t)n, 0644, err);
}

/* Fork the stage and follow it until the init is set up. */
static int spawn(create_run *cr, sbx_oci_state *st, sbx_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socketpair");
	cr->sync_parent = sv[0];
	cr->k.sync = sv[1];
	cr->stage = fork();
	if (cr->stage < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "fork");
	if (cr->stage == 0) {
		close(sv[0]);
		sbx_oci_stage_main(&cr->k);
	}
	close(cr->k.sync);
	cr->k.sync = -1;
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), SBX_OCI_STEP_MS);
	for (;;) {
		char type, buf[1024];
		int r = sbx_oci_msg_recv(cr->sync_parent, &type, buf, sizeof(buf), deadline, err);
		if (r < 0)
			return r;
		switch (type) {
		case SBX_OCI_MSG_USERNS:
			r = write_maps(cr->stage, cr->spec, err);
			if (r < 0)
				return r;
			r = sbx_oci_msg_send(cr->sync_parent, SBX_OCI_MSG_MAPPED, "", err);
			if (r < 0)
				return r;
			break;
		case SBX_OCI_MSG_PID: {
			long pid = strtol(buf, NULL, 10);
			if (pid <= 0)
				return sbx_fail(err, SBX_E_SETUP, "bad pid from the stage");
			st->pid = (pid_t)pid;
			waitpid(cr->stage, NULL, 0);
			cr->stage = 0;
			st->pid_start = sbx_proc_start(st->pid);
			r = sbx_oci_cg_attach(&st->cg, st->pid, err);
			if (r < 0)
				return r;
			r = sbx_oci_msg_send(cr->sync_parent, SBX_OCI_MSG_GO, "", err);
			if (r < 0)
				return r;
			break;
		}
		case SBX_OCI_MSG_READY:
			return 0;
		case SBX_OCI_MSG_ERROR:
			return sbx_fail(err, SBX_E_SETUP, "%s", buf);
		default:
			return sbx_fail(err, SBX_E_SETUP, "unexpected message from the container");
		}
	}
}

int sbx_oci_container_create(const sbx_oci_ctx *c, const sbx_oci_create_req *q, sbx_oci_state *st,
			     sbx_error *err)
{
	memset(st, 0, sizeof(*st));
	_cleanup_free_ char *bundle = realpath(q->bundle ? q->bundle : ".", NULL);
	if (!bundle)
		return sbx_fail_errno(err, SBX_E_INVALID, errno, "bundle %s",
				      q->bundle ? q->bundle : ".");
	int r = sbx_oci_valid_id(q->id, err);
	if (r < 0)
		return r;
	create_run cr = {.k = {.sync = -1, .fifo = -1, .console = -1}, .sync_parent = -1};
	r = prepare(q, bundle, &cr, err);
	if (r < 0)
		goto out_free;
	r = sbx_oci_state_claim(c->root, q->id, err);
	if (r < 0)
		goto out_free;
	if (sbx_oci_state_path(c->root, q->id, &st->dir, err) < 0 || !(st->id = strdup(q->id)) ||
	    !(st->bundle = strdup(bundle)) || !(st->created = rfc3339_now())) {
		r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state");
		goto out_state;
	}
	st->systemd = c->systemd;
	r = copy_config(bundle, st->dir, err);
	if (r < 0)
		goto out_state;
	char fifo[PATH_MAX];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	uid_t ru;
	gid_t rg;
	root_ids(cr.spec, &ru, &rg);
	if (mkfifo(fifo, 0622) < 0 || chown(fifo, ru, rg) < 0 ||
	    (cr.k.fifo = open(fifo, O_PATH | O_CLOEXEC)) < 0) {
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "exec fifo %s", fifo);
		goto out_state;
	}
	r = add_default_devrules(&cr.spec->resources, err);
	if (r < 0)
		goto out_state;
	r = sbx_oci_cg_create(cr.spec, q->id, c->systemd, c->cgroup_parent, &st->cg, err);
	if (r < 0)
		goto out_state;
	r = sbx_oci_state_save(st, err); /* the cgroups are known: delete can find them */
	if (r < 0)
		goto out_cg;
	r = spawn(&cr, st, err);
	if (r < 0)
		goto out_cg;
	r = sbx_oci_state_save(st, err);
	if (r < 0)
		goto out_cg;
	for (int kind = SBX_OCI_HOOK_PRESTART; kind <= SBX_OCI_HOOK_CREATE_CONTAINER; kind++) {
		r = sbx_oci_container_hooks(st, cr.spec, kind, SBX_OCI_CREATED, err);
		if (r < 0)
			goto out_cg;
	}
	if (q->pid_file) {
		r = write_pid_file(q->pid_file, st->pid, err);
		if (r < 0)
			goto out_cg;
	}
	create_run_free(&cr);
	return 0;
out_cg : {
	sbx_error e = {0};
	if (st->pid > 0) {
		sbx_oci_container_destroy(st, &e); /* kills, removes cgroups and state */
		goto out_free;
	}
	sbx_oci_cg_destroy(&st->cg, sbx_deadline_ns(sbx_now_ns(), KILL_WAIT_MS), &e);
}
out_state : {
	sbx_error e = {0};
	if (st->dir)
		sbx_oci_state_remove(st, &e);
	else {
		_cleanup_free_ char *dir = NULL;
		if (sbx_oci_state_path(c->root, q->id, &dir, &e) == 0)
			rmdir(dir);
	}
}
out_free:
	create_run_free(&cr);
	sbx_oci_state_clear(st);
	return r;
}
