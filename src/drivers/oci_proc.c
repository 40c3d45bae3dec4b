/* docker/podman driver: spawning the engine's client and supervising it
 * (output caps, timeout, cancellation, reaping). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/util.h"
#include "drivers/oci_int.h"

/* Once the stop action has run, the client gets this long to exit by
 * itself before it is SIGKILLed. */
#define CLIENT_GRACE_NS (10000ull * 1000 * 1000)
/* The stop action is repeated this often while the client lives (the
 * container may not have existed yet the first time). */
#define KILL_RETRY_NS (500ull * 1000 * 1000)
/* After the client exited, output still in flight gets this long. */
#define DRAIN_NS (1000ull * 1000 * 1000)
/* Engine messages kept for an error line. */
#define HELD_MAX 16384

extern char **environ;

bool sbx_oci_which(const char *prog, char *out, size_t cap)
{
	if (strchr(prog, '/')) {
		snprintf(out, cap, "%s", prog);
		return access(prog, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		const char *e = strchr(path, ':');
		size_t n = e ? (size_t)(e - path) : strlen(path);
		if (n && n + strlen(prog) + 2 <= cap) {
			snprintf(out, cap, "%.*s/%s", (int)n, path, prog);
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return true;
		}
		if (!e)
			break;
		path = e + 1;
	}
	return false;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static _Noreturn void child(const char *path, char *const *argv, int in, int out, int err,
			    int report)
{
	sigset_t none;
	sigemptyset(&none);
	/* The caller may block signals (signalfd) or ignore some: the client
	 * starts clean, in its own process group so that a terminal's ^C
	 * reaches sbx (which cancels) and not the client behind its back. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	int fds[3] = {in, out, err};
	/* Out of the way of 0..2 first, so no dup2 clobbers another's source. */
	for (int i = 0; i < 3; i++)
		if (fds[i] < 3 && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			goto fail;
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			goto fail;
	if (syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		/* Old kernel: close what is there. */
		for (int fd = 3; fd < 65536; fd++)
			if (fd != report)
				close(fd);
	}
	execve(path, argv, environ);
fail:;
	int e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

int sbx_oci_spawn(char *const *argv, int in, int out, int err, pid_t *pid, int *pidfd)
{
	char path[PATH_MAX];
	if (!sbx_oci_which(argv[0], path, sizeof(path)))
		return -ENOENT;
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0)
		return -errno;
	pid_t p = fork();
	if (p == 0)
		child(path, argv, in, out, err, rep[1]);
	int e = errno;
	close(rep[1]);
	if (p < 0) {
		close(rep[0]);
		return -e;
	}
	/* The exec closes the report pipe; an errno means it failed. */
	int ce = 0;
	ssize_t n;
	do
		n = read(rep[0], &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	int fd = n == sizeof(ce) ? -1 : (int)syscall(SYS_pidfd_open, p, 0);
	if (fd < 0) {
		int r = n == sizeof(ce) ? ce : errno;
		kill(p, SIGKILL);
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		return -r;
	}
	*pid = p;
	*pidfd = fd;
	return 0;
}

/* stderr before the wrapper's marker line is the engine's; the marker
 * line itself is dropped; what follows is the command's. */
static int feed_err(void *ctx, sbx_stream *st, const char *p, size_t n, sbx_error *err)
{
	sbx_oci_client *c = ctx;
	if (!c->want_mark || c->seen_mark)
		return sbx_stream_feed(st, p, n, err);
	size_t before = c->held.len;
	if (sbx_buf_append(&c->held, p, n) < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	const size_t ml = sizeof(SBX_OCI_MARK) - 1;
	/* Only lines that start in what is new (or just before) can be it. */
	size_t from = before > ml + 24 ? before - ml - 24 : 0;
	for (char *s = c->held.data + from; s && (size_t)(s - c->held.data) < c->held.len;) {
		bool bol = s == c->held.data || s[-1] == '\n';
		char *nl = memchr(s, '\n', c->held.len - (size_t)(s - c->held.data));
		if (bol && !nl)
			break; /* the line is not complete yet */
		if (bol && (size_t)(nl - s) > ml && !memcmp(s, SBX_OCI_MARK, ml)) {
			c->seen_mark = true;
			c->mark_pid = strtol(s + ml, NULL, 10);
			size_t head = (size_t)(s - c->held.data);
			size_t tail_at = (size_t)(nl + 1 - c->held.data);
			int r =
			    sbx_stream_feed(st, c->held.data + tail_at, c->held.len - tail_at, err);
			/* keep (the start of) the engine's lines, for debugging */
			c->held.len = head < HELD_MAX ? head : HELD_MAX / 2;
			c->held.data[head] = '\0';
			return r;
		}
		s = nl ? nl + 1 : NULL;
	}
	if (c->held.len > HELD_MAX) {
		/* Keep the beginning (the error) and the last partial line (a
		 * marker may still complete). */
		char *last = memrchr(c->held.data, '\n', c->held.len);
		size_t keep_from = last ? (size_t)(last + 1 - c->held.data) : c->held.len;
		size_t tail = c->held.len - keep_from;
		if (tail < 256 && HELD_MAX / 2 + tail < c->held.len) {
			memmove(c->held.data + HELD_MAX / 2, c->held.data + keep_from, tail);
			c->held.len = HELD_MAX / 2 + tail;
			c->held.data[c->held.len] = '\0';
		} else if (tail >= 256) {
			c->held.len = HELD_MAX / 2;
			c->held.data[c->held.len] = '\0';
		}
	}
	return 0;
}

static void client_stop(sbx_loop *l)
{
	sbx_oci_client *c = l->ctx;
	c->kill(c->kill_ctx, c);
}

void sbx_oci_client_init(sbx_oci_client *c)
{
	memset(c, 0, sizeof(*c));
	sbx_loop_init(&c->l);
}

void sbx_oci_client_attach(sbx_oci_client *c, const sbx_oci_io *io, uint64_t t0,
			   sbx_oci_kill_fn kill, void *kill_ctx)
{
	sbx_oci_client_init(c);
	c->l.out.tee_fd = io->stdout_fd;
	c->l.err.tee_fd = io->stderr_fd;
	c->l.out.capture = c->l.err.capture = io->capture;
	c->l.out.limit = c->l.err.limit = io->limit;
	c->l.deadline_ns = sbx_deadline_ns(t0, io->timeout_ms);
	c->l.cancel_fd = io->cancel_fd;
	c->want_mark = true;
	c->kill = kill;
	c->kill_ctx = kill_ctx;
}

int sbx_oci_cmd_wstatus(int client_wstatus)
{
	int code = sbx_oci_code(client_wstatus), sig = sbx_oci_signal_of(code);
	return sig ? sig : (code & 0xff) << 8;
}

int sbx_oci_client_run(sbx_oci_client *c, char *const *argv, int in, const char *engine,
		       sbx_error *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	_cleanup_close_ int nul = -1;
	c->l.out.fd = c->l.err.fd = -1;
	c->l.pidfd = -1;
	c->l.pid = 0;
	if (in < 0 && (in = nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "open /dev/null");
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			sbx_closep(&outp[i]);
			sbx_closep(&errp[i]);
		}
		return sbx_fail_errno(err, SBX_E_SYSTEM, e, "pipes");
	}
	int r = sbx_oci_spawn(argv, in, outp[1], errp[1], &c->l.pid, &c->l.pidfd);
	sbx_closep(&outp[1]);
	sbx_closep(&errp[1]);
	if (r < 0) {
		sbx_closep(&outp[0]);
		sbx_closep(&errp[0]);
		c->l.pid = 0;
		if (r == -ENOENT)
			return sbx_fail(err, SBX_E_SYSTEM, "%s: not found in PATH (install %s)",
					engine, engine);
		return sbx_fail_errno(err, SBX_E_SYSTEM, -r, "%s: cannot start", engine);
	}
	c->l.out.fd = outp[0];
	c->l.err.fd = errp[0];
	c->l.err.filter = feed_err;
	c->l.err.filter_ctx = c;
	c->l.ctx = c;
	c->l.stop = c->kill ? client_stop : NULL;
	c->l.stop_every_ns = KILL_RETRY_NS;
	c->l.stop_grace_ns = CLIENT_GRACE_NS;
	c->l.drain_ns = DRAIN_NS;
	r = sbx_loop_run(&c->l, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "supervising %s", engine);
	return 0;
}

void sbx_oci_client_free(sbx_oci_client *c)
{
	sbx_loop_free(&c->l);
	sbx_buf_free(&c->held);
}

int sbx_oci_cmd(const char *engine, char *const *argv, int in, uint64_t out_max,
		uint64_t timeout_ms, sbx_oci_out *o, sbx_error *err)
{
	memset(o, 0, sizeof(*o));
	sbx_oci_client c;
	sbx_oci_client_init(&c);
	c.l.out.capture = c.l.err.capture = true;
	c.l.out.limit = out_max ? out_max : 1;
	c.l.err.limit = 8192;
	c.l.deadline_ns = sbx_deadline_ns(sbx_now_ns(), timeout_ms);
	int r = sbx_oci_client_run(&c, argv, in, engine, err);
	if (r == 0) {
		o->code = sbx_oci_code(c.l.wstatus);
		o->timed_out = c.l.timed_out;
		o->out_truncated = c.l.out.truncated;
		o->out = c.l.out.buf;
		o->err = c.l.err.buf;
		memset(&c.l.out.buf, 0, sizeof(c.l.out.buf));
		memset(&c.l.err.buf, 0, sizeof(c.l.err.buf));
		if (o->out.oom || o->err.oom)
			r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	sbx_oci_client_free(&c);
	return r;
}

void sbx_oci_out_free(sbx_oci_out *o)
{
	sbx_buf_free(&o->out);
	sbx_buf_free(&o->err);
}
