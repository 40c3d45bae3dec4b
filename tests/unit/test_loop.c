/* Unit tests: src/core/loop.c, the supervision loop: stream caps, the
 * control connection, the early-report channel (partial and garbled
 * reports are none, and never stall the loop), deadline, cancel, stop
 * retries, grace and reaping, signals passed on, a tee whose reader went
 * away, the result filler, and the check of fds handed to a sandbox. Real fds and
 * processes, no sandbox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/util.h"
#include "core/launcher.h"
#include "core/loop.h"

#define MS (1000ull * 1000)

static void test_feed_caps(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	sbx_stream s = {.fd = -1, .tee_fd = p[1], .capture = true, .limit = 10};
	assert_int_equal(sbx_stream_feed(&s, "hello ", 6, NULL), 0);
	assert_false(s.truncated);
	assert_int_equal(sbx_stream_feed(&s, "world!", 6, NULL), 0);
	assert_true(s.truncated);
	assert_int_equal(s.kept, 10);
	assert_int_equal(s.buf.len, 10);
	assert_string_equal(s.buf.data, "hello worl");
	/* Past the cap everything is dropped, nothing fails. */
	assert_int_equal(sbx_stream_feed(&s, "more", 4, NULL), 0);
	assert_int_equal(s.buf.len, 10);
	char got[32] = {0};
	assert_int_equal(read(p[0], got, sizeof(got)), 10);
	assert_string_equal(got, "hello worl");
	/* A reader that went away stops the copy, not the capture. */
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	sbx_stream t = {.fd = -1, .tee_fd = p[1], .capture = true, .limit = 100};
	assert_int_equal(sbx_stream_feed(&t, "abc", 3, NULL), 0);
	assert_int_equal(t.tee_fd, -1);
	assert_string_equal(t.buf.data, "abc");
	close(p[1]);
	sbx_buf_free(&s.buf);
	sbx_buf_free(&t.buf);
}

static int upper(void *ctx, sbx_stream *s, const char *p, size_t n, sbx_error *err)
{
	int *calls = ctx;
	(*calls)++;
	char b[64];
	for (size_t i = 0; i < n && i < sizeof(b); i++)
		b[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
	return sbx_stream_feed(s, b, n < sizeof(b) ? n : sizeof(b), err);
}

/* Streams only: the loop ends when both are at EOF; a filter sees the
 * bytes first. */
static void test_streams_to_eof(void **state)
{
	(void)state;
	int o[2], e[2], calls = 0;
	assert_int_equal(pipe(o), 0);
	assert_int_equal(pipe(e), 0);
	sbx_loop l;
	sbx_loop_init(&l);
	l.out = (sbx_stream){.fd = o[0], .tee_fd = -1, .capture = true, .limit = 1 << 20};
	l.err = (sbx_stream){.fd = e[0],
			     .tee_fd = -1,
			     .capture = true,
			     .limit = 1 << 20,
			     .filter = upper,
			     .filter_ctx = &calls};
	assert_int_equal(write(o[1], "out", 3), 3);
	assert_int_equal(write(e[1], "err", 3), 3);
	close(o[1]);
	close(e[1]);
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(l.done);
	assert_int_equal(l.out.fd, -1);
	assert_string_equal(l.out.buf.data, "out");
	assert_string_equal(l.err.buf.data, "ERR");
	assert_true(calls >= 1);
	sbx_loop_free(&l);
}

typedef struct msgs {
	int n;
	char last[64];
} msgs;

static void on_msg(sbx_loop *l, char *rec, size_t n)
{
	msgs *m = l->ctx;
	m->n++;
	snprintf(m->last, sizeof(m->last), "%s", rec);
	if (rec[0] == 'E')
		sbx_loop_error(l, rec + 1, n - 1);
	if (rec[0] == 'S')
		l->done = true;
}

/* Records on ctl reach on_msg; a status record ends it; without a child,
 * the connection's end also does. */
static void test_ctl(void **state)
{
	(void)state;
	for (int eof = 0; eof < 2; eof++) {
		int sp[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
		msgs m = {0};
		sbx_loop l;
		sbx_loop_init(&l);
		l.ctl = sp[0];
		l.on_msg = on_msg;
		l.ctx = &m;
		l.deadline_ns = sbx_now_ns() + 5000 * MS;
		assert_int_equal(send(sp[1], "Eboom", 5, 0), 5);
		assert_int_equal(send(sp[1], "Ebang", 5, 0), 5);
		if (eof)
			close(sp[1]);
		else
			assert_int_equal(send(sp[1], "S", 1, 0), 1);
		assert_int_equal(sbx_loop_run(&l, NULL), 0);
		assert_true(l.done);
		assert_false(l.timed_out);
		assert_int_equal(m.n, eof ? 2 : 3);
		assert_true(l.have_error);
		assert_string_equal(l.error, "boom");
		if (!eof)
			close(sp[1]);
		sbx_loop_free(&l);
	}
}

typedef struct rep {
	int takes, stops;
	unsigned char first;
} rep;

static bool take(sbx_loop *l, const unsigned char *p, size_t n)
{
	rep *r = l->ctx;
	r->takes++;
	r->first = p[0];
	return n == 5 && p[0] == 'D';
}

static void count_stop(sbx_loop *l)
{
	rep *r = l->ctx;
	r->stops++;
}

/* A complete report ends the wait. */
static void test_report_complete(void **state)
{
	(void)state;
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	rep r = {0};
	sbx_loop l;
	sbx_loop_init(&l);
	l.ctx = &r;
	l.report = (sbx_report){.fd = sp[0], .size = 5, .take = take};
	l.deadline_ns = sbx_now_ns() + 5000 * MS;
	/* In two pieces: a report may come split. */
	assert_int_equal(write(sp[1], "DA", 2), 2);
	assert_int_equal(write(sp[1], "BCDextra", 8), 8);
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(l.done);
	assert_false(l.timed_out);
	assert_int_equal(r.takes, 1);
	assert_int_equal(l.report.fd, -1);
	close(sp[1]);
	sbx_loop_free(&l);
}

/* A loop with a control connection and a 5-byte report channel. */
static void report_loop(sbx_loop *l, rep *r, int sp[2], int ctl[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ctl), 0);
	sbx_loop_init(l);
	l->ctx = r;
	l->ctl = ctl[0];
	l->report = (sbx_report){.fd = sp[0], .size = 5, .take = take};
}

/* The Python runner's case: the workload writes one byte of a report and
 * nothing more. The loop must not wait for the rest: the deadline fires,
 * the stop action runs, and with no end the grace gives up. */
static void test_report_partial_is_none(void **state)
{
	(void)state;
	int sp[2], ctl[2];
	rep r = {0};
	sbx_loop l;
	report_loop(&l, &r, sp, ctl);
	uint64_t t0 = sbx_now_ns();
	l.deadline_ns = t0 + 100 * MS;
	l.stop = count_stop;
	l.stop_grace_ns = 200 * MS;
	assert_int_equal(write(sp[1], "D", 1), 1);
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	uint64_t took = sbx_now_ns() - t0;
	assert_true(l.timed_out);
	assert_true(l.gave_up);
	assert_int_equal(r.stops, 1);
	assert_int_equal(r.takes, 0);
	assert_true(took >= 300 * MS && took < 2000 * MS);
	close(sp[1]);
	close(ctl[1]);
	sbx_loop_free(&l);
}

/* A garbled report, or one cut short by EOF, is ignored: the workload's
 * own end (here: the connection closing) decides. */
static void test_report_garbled(void **state)
{
	(void)state;
	for (int cut = 0; cut < 2; cut++) {
		int sp[2], ctl[2];
		rep r = {0};
		sbx_loop l;
		report_loop(&l, &r, sp, ctl);
		l.deadline_ns = sbx_now_ns() + 5000 * MS;
		if (cut) {
			assert_int_equal(write(sp[1], "DAB", 3), 3);
			close(sp[1]);
		} else {
			assert_int_equal(write(sp[1], "XXXXX", 5), 5);
		}
		/* Both are ready at once: the report is read in the same round
		 * as the connection's end. */
		close(ctl[1]);
		assert_int_equal(sbx_loop_run(&l, NULL), 0);
		assert_true(l.done);
		assert_false(l.timed_out);
		assert_int_equal(r.takes, cut ? 0 : 1);
		if (!cut) {
			assert_int_equal(r.first, 'X');
			close(sp[1]);
		}
		sbx_loop_free(&l);
	}
}

static pid_t spawn_sleeper(int *pidfd, bool ignore_term)
{
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		close(ready[1]); /* set up */
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 0);
	close(ready[0]);
	*pidfd = (int)syscall(SYS_pidfd_open, p, 0);
	assert_true(*pidfd >= 0);
	return p;
}

/* A child past its deadline is SIGKILLed (the default stop) and reaped. */
static void test_child_deadline(void **state)
{
	(void)state;
	sbx_loop l;
	sbx_loop_init(&l);
	l.pid = spawn_sleeper(&l.pidfd, false);
	l.deadline_ns = sbx_now_ns() + 50 * MS;
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(l.timed_out);
	assert_true(l.reaped);
	assert_true(WIFSIGNALED(l.wstatus));
	assert_int_equal(WTERMSIG(l.wstatus), SIGKILL);
	assert_int_equal(l.pidfd, -1);
	sbx_loop_free(&l);
}

static void term_child(sbx_loop *l)
{
	rep *r = l->ctx;
	r->stops++;
	kill(l->pid, SIGTERM); /* ignored by the child */
}

/* Cancel: the stop action repeats until the grace, then the child is
 * SIGKILLed and reaped. */
static void test_cancel_retry_grace(void **state)
{
	(void)state;
	rep r = {0};
	int ev = eventfd(1, EFD_CLOEXEC);
	assert_true(ev >= 0);
	sbx_loop l;
	sbx_loop_init(&l);
	l.ctx = &r;
	l.pid = spawn_sleeper(&l.pidfd, true);
	l.cancel_fd = ev;
	l.stop = term_child;
	l.stop_every_ns = 40 * MS;
	l.stop_grace_ns = 300 * MS;
	uint64_t t0 = sbx_now_ns();
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	uint64_t took = sbx_now_ns() - t0;
	assert_true(l.cancelled);
	assert_false(l.timed_out);
	assert_true(l.reaped);
	assert_false(l.gave_up);
	assert_int_equal(WTERMSIG(l.wstatus), SIGKILL);
	assert_true(r.stops >= 3);
	assert_true(took >= 300 * MS && took < 3000 * MS);
	close(ev);
	sbx_loop_free(&l);
}

/* A child's end is the end even if its output stays open elsewhere: the
 * drain is bounded. */
static void test_drain_bounded(void **state)
{
	(void)state;
	int o[2];
	assert_int_equal(pipe(o), 0);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(3);
	sbx_loop l;
	sbx_loop_init(&l);
	l.pid = p;
	l.pidfd = (int)syscall(SYS_pidfd_open, p, 0);
	l.out = (sbx_stream){.fd = o[0], .tee_fd = -1, .capture = true, .limit = 100};
	l.drain_ns = 100 * MS;
	uint64_t t0 = sbx_now_ns();
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(sbx_now_ns() - t0 < 2000 * MS);
	assert_true(l.reaped);
	assert_int_equal(WEXITSTATUS(l.wstatus), 3);
	assert_int_equal(l.out.fd, -1);
	close(o[1]);
	sbx_loop_free(&l);
}

/* A flood on ctl does not hold the loop past its deadline. */
static void test_ctl_flood(void **state)
{
	(void)state;
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		close(sp[0]);
		for (;;)
			if (send(sp[1], "x", 1, 0) < 0)
				_exit(0);
	}
	close(sp[1]);
	msgs m = {0};
	sbx_loop l;
	sbx_loop_init(&l);
	l.ctx = &m;
	l.ctl = sp[0];
	l.on_msg = on_msg;
	l.pid = p;
	l.pidfd = (int)syscall(SYS_pidfd_open, p, 0);
	l.deadline_ns = sbx_now_ns() + 100 * MS;
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(l.timed_out);
	assert_true(l.reaped);
	assert_true(m.n > 0);
	sbx_loop_free(&l);
}

static void test_result(void **state)
{
	(void)state;
	sbx_loop l;
	sbx_loop_init(&l);
	sbx_buf_append(&l.out.buf, "o", 1);
	l.err.truncated = true;
	sbx_result res = {0};
	sbx_ending e = {.wstatus = 3 << 8, .cpu_ms = 5, .max_rss_kb = 6, .oom_killed = true};
	assert_int_equal(sbx_loop_result(&l, &e, sbx_now_ns(), &res, NULL), 0);
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(res.signal, 0);
	assert_int_equal(res.cpu_ms, 5);
	assert_int_equal(res.max_rss_kb, 6);
	assert_true(res.oom_killed);
	assert_string_equal(res.stdout_buf, "o");
	assert_int_equal(res.stdout_len, 1);
	assert_string_equal(res.stderr_buf, "");
	assert_true(res.stderr_truncated);
	assert_null(l.out.buf.data);
	sbx_result_free(&res);

	l.timed_out = true;
	e = (sbx_ending){.wstatus = SIGKILL};
	assert_int_equal(sbx_loop_result(&l, &e, sbx_now_ns(), &res, NULL), 0);
	assert_int_equal(res.exit_code, SBX_EXIT_TIMEOUT);
	assert_int_equal(res.signal, SIGKILL);
	assert_true(res.timed_out);
	sbx_result_free(&res);

	l.out.buf.oom = 1;
	assert_int_equal(sbx_loop_result(&l, &e, sbx_now_ns(), &res, NULL), -SBX_E_SYSTEM);
	sbx_loop_free(&l);
}

static void fwd_kill(sbx_loop *l, int sig)
{
	rep *r = l->ctx;
	r->stops += 100; /* counted apart from stops */
	kill(l->pid, sig);
}

/* A loop over a sleeper child (one that ignores SIGTERM if asked), with a
 * signal pipe p and fwd_kill as its forward action. */
static void signal_loop(sbx_loop *l, rep *r, int p[2], bool ignore, uint64_t stop_ms)
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	sbx_loop_init(l);
	l->ctx = r;
	l->pid = spawn_sleeper(&l->pidfd, ignore);
	l->signal_fd = p[0];
	l->forward = fwd_kill;
	l->stop_timeout_ns = stop_ms * MS;
}

/* A signal request is passed on; the child ends by it, not by a stop. */
static void test_signal_forwarded(void **state)
{
	(void)state;
	rep r = {0};
	int p[2];
	sbx_loop l;
	signal_loop(&l, &r, p, false, 5000);
	assert_int_equal(sbx_signal_request(p[1], SIGKILL), -SBX_E_INVALID);
	assert_int_equal(sbx_signal_request(p[1], 0), -SBX_E_INVALID);
	assert_int_equal(sbx_signal_request(p[1], SIGTERM), 0);
	uint64_t t0 = sbx_now_ns();
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(sbx_now_ns() - t0 < 4000 * MS);
	assert_true(l.reaped);
	assert_false(l.cancelled);
	assert_false(l.stopped);
	assert_int_equal(l.signal_got, SIGTERM);
	assert_int_equal(WTERMSIG(l.wstatus), SIGTERM);
	assert_int_equal(r.stops, 100);
	/* The caller's fd stays open and blocking. */
	assert_true(fcntl(p[0], F_GETFD) >= 0);
	assert_false(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	sbx_loop_free(&l);
}

/* A child that ignores the signal is stopped stop_timeout_ns later, not
 * before. Without a forward action a request stops at once. */
static void test_signal_stop_timeout(void **state)
{
	(void)state;
	rep r = {0};
	int p[2];
	sbx_loop l;
	signal_loop(&l, &r, p, true, 300);
	assert_int_equal(sbx_signal_request(p[1], SIGTERM), 0);
	assert_int_equal(sbx_signal_request(p[1], SIGTERM), 0);
	uint64_t t0 = sbx_now_ns();
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	uint64_t took = sbx_now_ns() - t0;
	assert_true(took >= 300 * MS && took < 5000 * MS);
	assert_true(l.cancelled);
	assert_int_equal(WTERMSIG(l.wstatus), SIGKILL);
	assert_int_equal(r.stops, 200); /* both passed on */
	sbx_loop_free(&l);

	sbx_loop_init(&l);
	l.pid = spawn_sleeper(&l.pidfd, true);
	l.signal_fd = p[0];
	l.stop_timeout_ns = 5000 * MS;
	assert_int_equal(sbx_signal_request(p[1], SIGHUP), 0);
	t0 = sbx_now_ns();
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(sbx_now_ns() - t0 < 4000 * MS);
	assert_true(l.cancelled);
	assert_int_equal(l.signal_got, SIGHUP);
	sbx_loop_free(&l);
	close(p[0]);
	close(p[1]);
}

/* A writer whose tee's reader went away is stopped: 141, nothing truncated. */
static void test_tee_reader_gone(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	int o[2], t[2];
	assert_int_equal(pipe2(o, O_CLOEXEC), 0);
	assert_int_equal(pipe2(t, O_CLOEXEC), 0);
	close(t[0]);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		char buf[4096];
		memset(buf, 'y', sizeof(buf));
		for (;;)
			if (write(o[1], buf, sizeof(buf)) < 0)
				_exit(1);
	}
	close(o[1]);
	sbx_loop l;
	sbx_loop_init(&l);
	l.pid = p;
	l.pidfd = (int)syscall(SYS_pidfd_open, p, 0);
	l.out = (sbx_stream){.fd = o[0], .tee_fd = t[1], .limit = 10};
	l.drain_ns = 100 * MS;
	uint64_t t0 = sbx_now_ns();
	assert_int_equal(sbx_loop_run(&l, NULL), 0);
	assert_true(sbx_now_ns() - t0 < 4000 * MS);
	assert_true(l.reader_gone);
	assert_true(l.stopped);
	sbx_ending e = {.wstatus = l.wstatus};
	sbx_result res;
	memset(&res, 0, sizeof(res));
	assert_int_equal(sbx_loop_result(&l, &e, t0, &res, NULL), 0);
	assert_int_equal(res.exit_code, 141);
	assert_int_equal(res.signal, SIGPIPE);
	assert_false(res.stdout_truncated);
	sbx_result_free(&res);
	close(t[1]);
	sbx_loop_free(&l);
}

/* Only pipes, sockets, regular files and char devices, not O_PATH. */
static void test_stdio_fd_check(void **state)
{
	(void)state;
	sbx_error e;
	int p[2], sp[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int reg = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int opath = open("/dev/null", O_PATH | O_CLOEXEC);
	int ev = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(sbx_stdio_fd_check(-1, "stdin", &e), 0);
	assert_int_equal(sbx_stdio_fd_check(p[0], "stdin", &e), 0);
	assert_int_equal(sbx_stdio_fd_check(sp[0], "stdin", &e), 0);
	assert_int_equal(sbx_stdio_fd_check(nul, "stdin", &e), 0);
	assert_int_equal(sbx_stdio_fd_check(reg, "stdin", &e), 0);
	assert_int_equal(sbx_stdio_fd_check(dir, "stdin", &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "stdin is a directory"));
	assert_int_equal(sbx_stdio_fd_check(opath, "stdin", &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "O_PATH"));
	assert_int_equal(sbx_stdio_fd_check(ev, "stdin", &e), -SBX_E_INVALID);
	assert_int_equal(sbx_stdio_fd_check(1000, "stdin", &e), -SBX_E_INVALID);
	int fds[] = {p[0], p[1], sp[0], sp[1], nul, reg, dir, opath, ev};
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		close(fds[i]);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_caps),
		cmocka_unit_test(test_streams_to_eof),
		cmocka_unit_test(test_ctl),
		cmocka_unit_test(test_report_complete),
		cmocka_unit_test(test_report_partial_is_none),
		cmocka_unit_test(test_report_garbled),
		cmocka_unit_test(test_child_deadline),
		cmocka_unit_test(test_cancel_retry_grace),
		cmocka_unit_test(test_drain_bounded),
		cmocka_unit_test(test_ctl_flood),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_signal_forwarded),
		cmocka_unit_test(test_signal_stop_timeout),
		cmocka_unit_test(test_tee_reader_gone),
		cmocka_unit_test(test_stdio_fd_check),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
