/* native driver: pre-forked sandboxes. A pool's zygote (zygote.py) is a
 * python3 started once, with its modules imported, in a template sandbox
 * whose user namespace maps one host id range per sandbox alive at a time
 * (core/launcher.c tmpl_slots). Each sandbox is a fork of it that makes
 * its own namespaces, /proc, /tmp, /dev/shm, cgroup namespace,
 * capabilities and seccomp filters before any request reaches it; this
 * file puts it into its own cgroups and hands it the request. The design
 * and what is shared are in docs/security.md ("Pre-forked sandboxes"). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "base/buf.h"
#include "base/util.h"
#include "core/launch.h"
#include "core/privs.h"
#include "core/seccomp_policy.h"
#include "core/userns.h"
#include "drivers/native.h"
#include "proto/json.h"
#include "proto/proto.h"
#include "state/exec.h"

extern const char sbx_zygote_src[];

/* The zygote's start (its imports: numpy takes a while on a busy host). */
#define ZYGOTE_START_MS 60000
/* Each step of a fork: the zygote's answer, the child's pidfd, its "R". */
#define FORK_STEP_MS 10000
/* A destroyed sandbox's init must be gone this long after SIGKILL for its
 * id range to be used again (else the range stays retired). */
#define REAP_MS 5000

struct sbx_zygote {
	pthread_mutex_t mu;	 /* the template, the zygote, forks (held while forking) */
	pthread_mutex_t info_mu; /* zpid, zpidfd, starts: stats never wait for a fork */
	const sbx_sbconf *conf;	 /* the pool's: every sandbox's configuration */
	sbx_config tcfg;	 /* the template's: the pool's, with room for forks */
	char preload[1024];
	uint32_t nslots;      /* id ranges of the template: 0 the zygote's */
	unsigned char *state; /* per slot: 0 free, 1 in use, 2 retired */
	sbx_sandbox tsb;      /* the template (priv: its sbx_native_owned) */
	int ctl;	      /* the zygote's channel, -1: none */
	int zconn;	      /* its exec connection */
	int zpidfd;
	pid_t zpid;
	uint64_t starts;
};

/* Wait for fd to be readable until the deadline: 1, 0 (timed out), -1. */
static int wait_in(int fd, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = sbx_now_ns();
		if (now >= deadline_ns)
			return 0;
		struct pollfd pf = {fd, POLLIN, 0};
		int n = poll(&pf, 1, (int)((deadline_ns - now) / 1000000 + 1));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* The host pid of a pidfd (its fdinfo), or -1 if fd is not a pidfd. */
static pid_t pidfd_pid(int fd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (strcmp(buf, "anon_inode:[pidfd]") != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (sbx_read_fileat(AT_FDCWD, path, buf, sizeof(buf), NULL) <= 0)
		return -1;
	const char *p = strstr(buf, "\nPid:");
	long v = p ? strtol(p + 5, NULL, 10) : -1;
	return v > 0 ? (pid_t)v : -1;
}

static bool fd_dead(int fd)
{
	struct pollfd pf = {fd, POLLIN, 0};
	return fd < 0 || poll(&pf, 1, 0) != 0;
}

/* ---- the template and the zygote ---------------------------------------- */

static void zygote_stop(sbx_zygote *z)
{
	sbx_closep(&z->ctl); /* the zygote exits at EOF */
	pthread_mutex_lock(&z->info_mu);
	if (z->zpidfd >= 0)
		syscall(SYS_pidfd_send_signal, z->zpidfd, SIGKILL, NULL, 0);
	sbx_closep(&z->zpidfd);
	z->zpid = 0;
	pthread_mutex_unlock(&z->info_mu);
	sbx_closep(&z->zconn);
}

static void template_stop(sbx_zygote *z)
{
	zygote_stop(z);
	sbx_native_owned *pd = z->tsb.priv;
	if (!pd)
		return;
	sbx_launcher_release(&pd->ln); /* kills its init: every fork dies too */
	free(pd);
	z->tsb.priv = NULL;
}

static int template_start(sbx_zygote *z, sbx_error *err)
{
	sbx_native_owned *pd = calloc(1, sizeof(*pd));
	if (!pd)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	pd->py_chan = pd->py_conn = -1;
	sbx_launcher_init(&pd->ln);
	pd->ln.tmpl_slots = z->nslots;
	z->tsb.priv = pd;
	int r = sbx_launcher_start(&pd->ln, &z->tcfg, true, 0, err);
	if (r == 0)
		r = sbx_launcher_wait_ready(&pd->ln, err);
	if (r < 0) {
		template_stop(z);
		return sbx_error_wrap(err, r, "zygote template");
	}
	/* A new template: every range is free again (its forks are gone). */
	memset(z->state, 0, z->nslots);
	z->state[0] = 1;
	return 0;
}

static void hex_prog(sbx_buf *b, const struct sock_fprog *p)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *d = (const unsigned char *)p->filter;
	sbx_buf_append(b, "\"", 1);
	for (size_t i = 0; i < (size_t)p->len * sizeof(struct sock_filter); i++) {
		char two[2] = {hx[d[i] >> 4], hx[d[i] & 15]};
		sbx_buf_append(b, two, 2);
	}
	sbx_buf_append(b, "\"", 1);
}

static void str_list(sbx_buf *b, const char *const *v)
{
	sbx_buf_append(b, "[", 1);
	for (size_t i = 0; v[i]; i++) {
		if (i)
			sbx_buf_append(b, ",", 1);
		sbx_json_string(b, v[i], strlen(v[i]));
	}
	sbx_buf_append(b, "]", 1);
}

/* The zygote's configuration: what each child sets up, as the native
 * runtime does it (the same filters, capabilities, /proc lists, limits). */
int sbx_zygote_config(const sbx_config *c, sbx_buf *b, sbx_error *err)
{
	const struct sock_fprog *prog, *stages[SBX_SECCOMP_STAGES];
	int r = sbx_seccomp_program(&prog, err);
	if (r < 0)
		return r;
	sbx_seccomp_stages(prog, stages);
	sbx_privs pv;
	r = sbx_privs_prepare(&pv, c, err);
	if (r < 0)
		return r;
	char tmp[512];
	sbx_buf_append(b, "C{\"seccomp\":[", 13);
	for (int i = 0; i < SBX_SECCOMP_STAGES; i++) {
		if (i)
			sbx_buf_append(b, ",", 1);
		hex_prog(b, stages[i]);
	}
	long long fs = c->fsize_limit ? (long long)c->fsize_limit : -1;
	int n = snprintf(tmp, sizeof(tmp),
			 "],\"caps\":%llu,\"secbits\":%u,\"last_cap\":%d,\"tmp_size\":%llu,"
			 "\"loopback\":%s,\"rlimits\":[[\"RLIMIT_NOFILE\",%u],[\"RLIMIT_CORE\",0],"
			 "[\"RLIMIT_FSIZE\",%lld]],\"hostname\":",
			 (unsigned long long)sbx_privs_workload_mask(),
			 sbx_privs_workload_secbits(), pv.last_cap, (unsigned long long)c->tmp_size,
			 c->net == SBX_NET_LOOPBACK ? "true" : "false", c->nofile, fs);
	sbx_buf_append(b, tmp, (size_t)n);
	const char *h = c->hostname ? c->hostname : "sandbox";
	sbx_json_string(b, h, strlen(h));
	sbx_buf_append(b, ",\"proc_masked\":", 15);
	str_list(b, sbx_proc_masked);
	sbx_buf_append(b, ",\"proc_readonly\":", 17);
	str_list(b, sbx_proc_readonly);
	/* BLAS thread pools started by an import would not survive fork. */
	static const char env[] =
	    ",\"env\":{\"OPENBLAS_NUM_THREADS\":\"1\",\"OMP_NUM_THREADS\":\"1\","
	    "\"MKL_NUM_THREADS\":\"1\",\"NUMEXPR_NUM_THREADS\":\"1\"}}";
	sbx_buf_append(b, env, sizeof(env) - 1);
	if (b->oom)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	return 0;
}

static int zygote_start(sbx_zygote *z, sbx_error *err)
{
	_cleanup_close_ int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	int sp[2];
	if (nul < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "zygote channel");
	_cleanup_close_ int ours = sp[0], theirs = sp[1];
	char mods[1024];
	const char *argv[64];
	sbx_native_interp_argv(argv, sbx_zygote_src, "--sbx-zygote", z->preload, mods);
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = argv;
	o.timeout_ms = ZYGOTE_START_MS;
	int fds[3] = {theirs, nul, sbx_debug_on() ? STDERR_FILENO : nul};
	sbx_exec_probe pr;
	sbx_exec_probe_init(&z->tsb, &pr);
	int conn = sbx_exec_start(&z->tsb, &o, fds, &pr, err);
	sbx_closep(&theirs);
	if (conn < 0)
		return sbx_error_wrap(err, conn, "zygote");
	z->zconn = conn;
	z->ctl = sbx_steal_fd(&ours);
	_cleanup_(sbx_buf_free) sbx_buf cfg = {0};
	int r = sbx_zygote_config(&z->conf->cfg, &cfg, err);
	sbx_error e = {0};
	sbx_until u = {.deadline_ns = sbx_deadline_ns(sbx_now_ns(), ZYGOTE_START_MS),
		       .cancel_fd = -1};
	if (r == 0 &&
	    sbx_msg_send_until(z->ctl, cfg.data[0], cfg.data + 1, cfg.len - 1, NULL, 0, &u, &e) < 0)
		r = sbx_fail_errno(err, SBX_E_SETUP, e.sys_errno, "zygote: configuration");
	char buf[SBX_PROTO_ERROR_MAX + 8];
	int got[1] = {-1}, ngot = 0;
	ssize_t k =
	    r < 0 ? -1 : sbx_msg_recv_until(z->ctl, buf, sizeof(buf) - 1, got, &ngot, 1, &u, &e);
	_cleanup_close_ int pidfd = ngot > 0 ? got[0] : -1;
	pid_t zpid = ngot > 0 ? pidfd_pid(pidfd) : -1;
	if (r == 0 && (k < 1 || buf[0] != 'R' || zpid <= 0))
		r = sbx_fail(err, SBX_E_SETUP, "zygote did not start%s",
			     e.sys_errno == ETIMEDOUT ? " (timed out)"
						      : " (python3 with ctypes in the rootfs?)");
	if (r < 0) {
		zygote_stop(z);
		return r;
	}
	pthread_mutex_lock(&z->info_mu);
	z->zpid = zpid;
	z->zpidfd = sbx_steal_fd(&pidfd);
	z->starts++;
	pthread_mutex_unlock(&z->info_mu);
	sbx_debug("zygote started: host pid %d", (int)zpid);
	return 0;
}

/* The template and its zygote, (re)started if gone. Under z->mu. */
static int ensure_running(sbx_zygote *z, sbx_error *err)
{
	sbx_native_owned *tpd = z->tsb.priv;
	if (tpd && fd_dead(tpd->ln.pidfd))
		template_stop(z);
	if (z->ctl >= 0 && (fd_dead(z->zpidfd) || fd_dead(z->ctl)))
		zygote_stop(z);
	int r = 0;
	if (!z->tsb.priv)
		r = template_start(z, err);
	if (r == 0 && z->ctl < 0)
		r = zygote_start(z, err);
	return r;
}

/* ---- forking ------------------------------------------------------------ */

static int take_slot(sbx_zygote *z, uint32_t *slot, sbx_error *err)
{
	for (uint32_t i = 1; i < z->nslots; i++)
		if (z->state[i] == 0) {
			z->state[i] = 1;
			*slot = i;
			return 0;
		}
	return sbx_fail(err, SBX_E_STATE, "no free id range among the pool's %u",
			(unsigned)(z->nslots - 1));
}

/* Ask the zygote for a child on slot with these ends; under z->mu. */
static int ask_fork(sbx_zygote *z, uint32_t slot, int chan, int gctl, sbx_error *err)
{
	unsigned char s[4] = {slot, slot >> 8, slot >> 16, slot >> 24};
	int fds[2] = {chan, gctl};
	sbx_error e = {0};
	sbx_until u = {.deadline_ns = sbx_deadline_ns(sbx_now_ns(), FORK_STEP_MS), .cancel_fd = -1};
	char buf[SBX_PROTO_ERROR_MAX + 8];
	ssize_t k = -1;
	if (sbx_msg_send_until(z->ctl, 'F', s, 4, fds, 2, &u, &e) == 0)
		k = sbx_msg_recv_until(z->ctl, buf, sizeof(buf) - 1, NULL, NULL, 0, &u, &e);
	if (k >= 1 && buf[0] == 'K')
		return 0;
	if (k >= 1 && buf[0] == 'E') {
		buf[k] = '\0';
		return sbx_fail(err, SBX_E_SETUP, "zygote: fork: %s", buf + 1);
	}
	zygote_stop(z); /* no answer: it is restarted on the next fork */
	return sbx_fail(err, SBX_E_SETUP, "zygote: no answer to a fork request%s",
			e.sys_errno == ETIMEDOUT ? " (timed out)" : "");
}

/* The child's set-up after the zygote let it go: its pidfd, its cgroups,
 * GO, its runner's "R". */
static int adopt_child(sbx_zygote *z, sbx_native_owned *pd, sbx_error *err)
{
	char buf[SBX_PROTO_ERROR_MAX + 8];
	int got[1] = {-1}, ngot = 0;
	sbx_error e = {0};
	sbx_until u = {.deadline_ns = sbx_deadline_ns(sbx_now_ns(), FORK_STEP_MS), .cancel_fd = -1};
	ssize_t k = sbx_msg_recv_until(pd->py_conn, buf, sizeof(buf) - 1, got, &ngot, 1, &u, &e);
	_cleanup_close_ int pidfd = ngot > 0 ? got[0] : -1;
	if (k >= 1 && buf[0] == 'E') {
		buf[k] = '\0';
		return sbx_fail(err, SBX_E_SETUP, "forked sandbox set-up: %s", buf + 1);
	}
	pid_t pid = k >= 1 && buf[0] == 'P' ? pidfd_pid(pidfd) : -1;
	if (pid <= 0)
		return sbx_fail(err, SBX_E_SETUP, "forked sandbox set-up: no pidfd from its init%s",
				e.sys_errno == ETIMEDOUT ? " (timed out)" : "");
	pd->ln.pidfd = sbx_steal_fd(&pidfd);
	sbx_debug("fork: pidfd %lluus", (unsigned long long)((sbx_now_ns() - pd->ln.l.t0) / 1000));
	const sbx_config *c = &z->conf->cfg;
	sbx_cg_limits lim = {c->memory_bytes, c->cpu_millis, c->pids_max};
	int r = sbx_cgroup_create(&pd->ln.cg, c->cgroup_parent, &lim, err);
	if (r == 0)
		r = sbx_cgroup_move(&pd->ln.cg, pid, err);
	sbx_debug("fork: cgroups %lluus",
		  (unsigned long long)((sbx_now_ns() - pd->ln.l.t0) / 1000));
	if (r < 0)
		return r;
	if (sbx_msg_send_until(pd->py_conn, 'G', NULL, 0, NULL, 0, &u, &e) < 0)
		return sbx_fail(err, SBX_E_SETUP, "forked sandbox set-up: its init went away");
	return sbx_native_wait_runner(pd->py_chan, pd->py_conn, u.deadline_ns, "forked sandbox", "",
				      err);
}

int sbx_native_forked_runner(sbx_native_owned *pd, sbx_error *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socketpair");
	_cleanup_close_ int ours = sp[0], theirs = sp[1];
	sbx_error e = {0};
	sbx_until u = {.deadline_ns = sbx_deadline_ns(sbx_now_ns(), FORK_STEP_MS), .cancel_fd = -1};
	if (sbx_msg_send_until(pd->py_conn, 'F', NULL, 0, &theirs, 1, &u, &e) < 0)
		return sbx_fail(err, SBX_E_STATE, "the pool sandbox has ended");
	sbx_closep(&theirs);
	/* Its init answers A once the new runner is forked; a status of the
	 * previous one may come first (its end after its own report). */
	for (;;) {
		char buf[SBX_PROTO_ERROR_MAX + 8];
		ssize_t k =
		    sbx_msg_recv_until(pd->py_conn, buf, sizeof(buf) - 1, NULL, NULL, 0, &u, &e);
		if (k >= 1 && buf[0] == 'A')
			break;
		if (k >= 1 && buf[0] == 'S')
			continue;
		if (k >= 1 && buf[0] == 'E') {
			buf[k] = '\0';
			return sbx_fail(err, SBX_E_SETUP, "forked sandbox: %s", buf + 1);
		}
		return sbx_fail(err, SBX_E_STATE, "the pool sandbox has ended%s",
				e.sys_errno == ETIMEDOUT ? " (no answer)" : "");
	}
	int r = sbx_native_wait_runner(ours, pd->py_conn, u.deadline_ns, "forked sandbox", "", err);
	if (r == 0)
		pd->py_chan = sbx_steal_fd(&ours);
	return r;
}

int sbx_native_owned_fork(sbx_zygote *z, sbx_sandbox *sb, sbx_error *err)
{
	sbx_native_owned *pd = calloc(1, sizeof(*pd));
	if (!pd)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	sbx_launcher_init(&pd->ln);
	pd->py_chan = pd->py_conn = -1;
	pd->zy = z;
	pd->ln.l.t0 = sbx_now_ns();
	int chan[2] = {-1, -1}, gctl[2] = {-1, -1};
	int r = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, gctl) < 0)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socketpair");
	pd->py_chan = chan[0];
	pd->py_conn = gctl[0];
	pthread_mutex_lock(&z->mu);
	if (r == 0)
		r = ensure_running(z, err);
	if (r == 0)
		r = take_slot(z, &pd->slot, err);
	if (r == 0) {
		r = ask_fork(z, pd->slot, chan[1], gctl[1], err);
		if (r < 0)
			z->state[pd->slot] = 0; /* nothing of the child runs */
	}
	pthread_mutex_unlock(&z->mu);
	sbx_closep(&chan[1]);
	sbx_closep(&gctl[1]);
	sbx_debug("fork: forked %lluus", (unsigned long long)((sbx_now_ns() - pd->ln.l.t0) / 1000));
	if (r == 0)
		r = adopt_child(z, pd, err);
	else
		pd->slot = 0;
	sbx_debug("fork: ready %lluus", (unsigned long long)((sbx_now_ns() - pd->ln.l.t0) / 1000));
	if (r < 0) {
		sbx_native_forked_destroy(pd);
		return r;
	}
	sb->priv = pd;
	return 0;
}

void sbx_native_forked_destroy(sbx_native_owned *pd)
{
	sbx_zygote *z = pd->zy;
	sbx_closep(&pd->py_chan);
	sbx_closep(&pd->py_conn); /* its init kills the sandbox at EOF */
	bool gone = true;
	uint64_t t0 = sbx_now_ns();
	if (pd->ln.pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, pd->ln.pidfd, SIGKILL, NULL, 0);
		/* The init of a pid namespace is gone once all of it is. */
		gone = wait_in(pd->ln.pidfd, sbx_deadline_ns(sbx_now_ns(), REAP_MS)) == 1;
	}
	uint64_t t1 = sbx_now_ns();
	sbx_launcher_release(&pd->ln); /* closes the pidfd, removes the cgroups */
	sbx_debug("forked destroy: gone %lluus, cgroups %lluus",
		  (unsigned long long)((t1 - t0) / 1000),
		  (unsigned long long)((sbx_now_ns() - t1) / 1000));
	if (pd->slot) {
		pthread_mutex_lock(&z->mu);
		z->state[pd->slot] = gone ? 0 : 2;
		pthread_mutex_unlock(&z->mu);
	}
	free(pd);
}

int sbx_native_zygote_new(const sbx_sbconf *conf, const char *preload, uint32_t max_sandboxes,
			  sbx_zygote **out, sbx_error *err)
{
	const sbx_config *c = &conf->cfg;
	*out = NULL;
	/* Forks cannot each get a workspace, nor a writable root (its lower
	 * layer is idmapped with the sandbox's own user namespace, made by the
	 * host; a fork's is made by the zygote), nor egress networking (its
	 * user-mode stack and filters are set up by the launcher, from the
	 * host, for each sandbox it starts), and each gets an id range of its
	 * own: with a workspace, a writable root, egress or fixed ids the pool
	 * is made fresh. */
	if ((c->workspace && c->workspace_mode != SBX_WS_NONE) || c->root_size ||
	    c->net == SBX_NET_EGRESS || c->map_uid != SBX_MAP_AUTO || c->map_gid != SBX_MAP_AUTO)
		return 0;
	/* Ranges for every sandbox alive at once, and for some being torn
	 * down, within the kernel's 340 lines of an id map (one: the zygote). */
	uint64_t want = (uint64_t)max_sandboxes * 2 + 16;
	if (want > SBX_USERNS_MAX_LINES - 1)
		want = SBX_USERNS_MAX_LINES - 1;
	sbx_zygote *z = calloc(1, sizeof(*z));
	if (!z || !(z->state = calloc(want + 1, 1))) {
		free(z);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	pthread_mutex_init(&z->mu, NULL);
	pthread_mutex_init(&z->info_mu, NULL);
	z->conf = conf;
	z->tcfg = *c;
	/* The template holds the zygote, and each fork until it is moved into
	 * its own cgroups: the pool's memory and CPU limits, room for forks. */
	z->tcfg.pids_max = 64 + (uint32_t)want;
	z->tcfg.net = SBX_NET_NONE;
	z->tcfg.argv = NULL;
	z->nslots = (uint32_t)want + 1;
	snprintf(z->preload, sizeof(z->preload), "%s", preload ? preload : "");
	z->tsb.conf = conf;
	z->ctl = z->zconn = z->zpidfd = -1;
	*out = z;
	return 0;
}

void sbx_native_zygote_info(sbx_zygote *z, int *pid, uint64_t *starts)
{
	pthread_mutex_lock(&z->info_mu);
	*pid = z->zpidfd >= 0 && !fd_dead(z->zpidfd) ? (int)z->zpid : 0;
	*starts = z->starts;
	pthread_mutex_unlock(&z->info_mu);
}

void sbx_native_zygote_free(sbx_zygote *z)
{
	if (!z)
		return;
	template_stop(z);
	pthread_mutex_destroy(&z->mu);
	pthread_mutex_destroy(&z->info_mu);
	free(z->state);
	free(z);
}
