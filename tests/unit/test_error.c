/* Unit tests: the library's error convention (src/base/util.h): sbx_fail,
 * sbx_fail_errno, sbx_error_wrap, the cleanup attributes, and the base and
 * protocol helpers that follow the convention. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/util.h"
#include "proto/proto.h"

#define MSG_CAP sizeof(((sbx_error *)0)->msg)

/* An sbx_error full of garbage: whatever a function leaves must be its own. */
static void dirty(sbx_error *e)
{
	memset(e, 0x5a, sizeof(*e));
}

/* A string of n copies of c (n < cap). */
static const char *run_of(char *buf, size_t cap, char c, size_t n)
{
	assert_true(n < cap);
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- sbx_fail ---------------------------------------------------------- */

static void test_fail(void **state)
{
	(void)state;
	sbx_error e;
	dirty(&e);
	assert_int_equal(sbx_fail(&e, SBX_E_ROOTFS, "rootfs %s: %d", "x", 7), -SBX_E_ROOTFS);
	assert_int_equal(e.code, SBX_E_ROOTFS);
	assert_int_equal(e.sys_errno, 0); /* cleared, not left from before */
	assert_string_equal(e.msg, "rootfs x: 7");

	/* NULL err: only the code comes back. */
	assert_int_equal(sbx_fail(NULL, SBX_E_PATH, "ignored %s", "x"), -SBX_E_PATH);
}

static void test_fail_truncates(void **state)
{
	(void)state;
	char big[2000];
	sbx_error e;
	dirty(&e);
	run_of(big, sizeof(big), 'a', 1500);
	assert_int_equal(sbx_fail(&e, SBX_E_SYSTEM, "%s", big), -SBX_E_SYSTEM);
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);
	assert_int_equal(e.msg[MSG_CAP - 2], 'a');
}

/* ---- sbx_fail_errno ---------------------------------------------------- */

static void test_fail_errno(void **state)
{
	(void)state;
	sbx_error e;
	char want[600];
	dirty(&e);
	errno = 0;
	assert_int_equal(sbx_fail_errno(&e, SBX_E_CGROUP, EACCES, "cgroup: cannot create %s", "/x"),
			 -SBX_E_CGROUP);
	assert_int_equal(e.code, SBX_E_CGROUP);
	assert_int_equal(e.sys_errno, EACCES);
	snprintf(want, sizeof(want), "cgroup: cannot create /x: %s", strerror(EACCES));
	assert_string_equal(e.msg, want);
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(errno, 0); /* the caller's errno is left alone */

	/* NULL err. */
	errno = ENOENT;
	assert_int_equal(sbx_fail_errno(NULL, SBX_E_KERNEL, EPERM, "x"), -SBX_E_KERNEL);
	assert_int_equal(errno, ENOENT);

	/* An unknown errno still gives text. */
	dirty(&e);
	sbx_fail_errno(&e, SBX_E_SYSTEM, 99999, "odd");
	assert_int_equal(e.sys_errno, 99999);
	assert_int_equal(strncmp(e.msg, "odd: ", 5), 0);
	assert_true(strlen(e.msg) > 5);
}

static void test_fail_errno_truncates(void **state)
{
	(void)state;
	char big[2000];
	sbx_error e;

	/* The text alone overflows: cut at 511, no strerror, errno kept. */
	dirty(&e);
	run_of(big, sizeof(big), 'b', 1000);
	sbx_fail_errno(&e, SBX_E_SYSTEM, ENOSPC, "%s", big);
	assert_int_equal(e.sys_errno, ENOSPC);
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);
	assert_int_equal(e.msg[MSG_CAP - 2], 'b');

	/* Exactly full: nothing appended, still terminated. */
	dirty(&e);
	run_of(big, sizeof(big), 'c', MSG_CAP - 1);
	sbx_fail_errno(&e, SBX_E_SYSTEM, ENOSPC, "%s", big);
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);

	/* Room for part of the suffix: cut inside it, still terminated. */
	dirty(&e);
	run_of(big, sizeof(big), 'd', MSG_CAP - 8);
	sbx_fail_errno(&e, SBX_E_SYSTEM, ENOSPC, "%s", big);
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);
	assert_memory_equal(e.msg + MSG_CAP - 8, ": ", 2);
	assert_memory_equal(e.msg + MSG_CAP - 6, strerror(ENOSPC), 5);
}

/* ---- sbx_error_wrap ---------------------------------------------------- */

static void test_wrap(void **state)
{
	(void)state;
	sbx_error e;
	char want[600];
	dirty(&e);
	int r = sbx_fail_errno(&e, SBX_E_CGROUP, EBUSY, "cgroup v2: cannot enable %s", "pids");
	assert_int_equal(sbx_error_wrap(&e, r, "creating sandbox %s", "box1"), -SBX_E_CGROUP);
	assert_int_equal(e.code, SBX_E_CGROUP);
	assert_int_equal(e.sys_errno, EBUSY);
	snprintf(want, sizeof(want), "creating sandbox box1: cgroup v2: cannot enable pids: %s",
		 strerror(EBUSY));
	assert_string_equal(e.msg, want);

	/* Outermost context first. */
	sbx_error_wrap(&e, r, "sbx create");
	assert_int_equal(strncmp(e.msg, "sbx create: creating sandbox box1: ", 35), 0);

	/* It returns r as given (even a code other than err's). */
	assert_int_equal(sbx_error_wrap(&e, -SBX_E_STATE, "x"), -SBX_E_STATE);
	assert_int_equal(e.code, SBX_E_CGROUP);

	/* NULL err. */
	assert_int_equal(sbx_error_wrap(NULL, -SBX_E_SETUP, "ctx %s", "x"), -SBX_E_SETUP);

	/* The context may quote the message itself. */
	sbx_fail(&e, SBX_E_PATH, "inner");
	sbx_error_wrap(&e, -SBX_E_PATH, "%s again", e.msg);
	assert_string_equal(e.msg, "inner again: inner");
}

static void test_wrap_truncates(void **state)
{
	(void)state;
	char big[2000];
	sbx_error e;

	/* A long message: the context stays whole, the message is cut. */
	dirty(&e);
	run_of(big, sizeof(big), 'm', MSG_CAP - 1);
	sbx_fail(&e, SBX_E_SYSTEM, "%s", big);
	sbx_error_wrap(&e, -SBX_E_SYSTEM, "context");
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);
	assert_int_equal(strncmp(e.msg, "context: mmm", 12), 0);
	assert_int_equal(e.code, SBX_E_SYSTEM);

	/* A context longer than the whole buffer. */
	dirty(&e);
	sbx_fail_errno(&e, SBX_E_KERNEL, EPERM, "short");
	run_of(big, sizeof(big), 'k', 1500);
	sbx_error_wrap(&e, -SBX_E_KERNEL, "%s", big);
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);
	assert_int_equal(e.msg[0], 'k');
	assert_int_equal(e.sys_errno, EPERM);

	/* Wrapping an error that was never terminated stays in bounds. */
	memset(&e, 'z', sizeof(e));
	e.code = SBX_E_SYSTEM;
	sbx_error_wrap(&e, -SBX_E_SYSTEM, "ctx");
	assert_int_equal(strlen(e.msg), MSG_CAP - 1);
	assert_int_equal(strncmp(e.msg, "ctx: zzz", 8), 0);
}

/* ---- cleanup attributes ------------------------------------------------ */

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_cleanup(void **state)
{
	(void)state;
	int seen_fd;
	{
		_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		seen_fd = fd;
		assert_true(fd_open(seen_fd));
	}
	assert_false(fd_open(seen_fd));
	{
		_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		seen_fd = sbx_steal_fd(&fd);
		assert_int_equal(fd, -1);
	}
	assert_true(fd_open(seen_fd));
	close(seen_fd);
	{
		_cleanup_fclose_ FILE *f = fopen("/dev/null", "re");
		assert_non_null(f);
		seen_fd = fileno(f);
		_cleanup_fclose_ FILE *none = NULL; /* NULL is fine */
		(void)none;
	}
	assert_false(fd_open(seen_fd));
	{
		_cleanup_closedir_ DIR *d = opendir("/");
		assert_non_null(d);
		seen_fd = dirfd(d);
		_cleanup_closedir_ DIR *none = NULL;
		(void)none;
	}
	assert_false(fd_open(seen_fd));
	{
		_cleanup_buf_ sbx_buf b = {0};
		_cleanup_free_ char *p = strdup("freed by the sanitizer build's leak check");
		sbx_buf_puts(&b, p);
		assert_int_equal(b.oom, 0);
	}
}

/* ---- base helpers in the convention ------------------------------------ */

static void test_file_helpers(void **state)
{
	(void)state;
	sbx_error e;
	char buf[64], want[600];

	dirty(&e);
	assert_int_equal(sbx_read_fileat(AT_FDCWD, "/nonexistent/sbx", buf, sizeof(buf), &e),
			 -SBX_E_SYSTEM);
	assert_int_equal(e.code, SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, ENOENT);
	snprintf(want, sizeof(want), "read /nonexistent/sbx: %s", strerror(ENOENT));
	assert_string_equal(e.msg, want);
	assert_int_equal(sbx_read_fileat(AT_FDCWD, "/nonexistent/sbx", buf, sizeof(buf), NULL),
			 -SBX_E_SYSTEM);

	dirty(&e);
	assert_int_equal(sbx_write_file("/nonexistent/sbx", "1", &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, ENOENT);
	snprintf(want, sizeof(want), "write /nonexistent/sbx: %s", strerror(ENOENT));
	assert_string_equal(e.msg, want);

	/* A component that is a file: the one that failed is named. */
	dirty(&e);
	assert_int_equal(sbx_mkdir_p("/dev/null/a/b", 0700, &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, ENOTDIR);
	snprintf(want, sizeof(want), "cannot create /dev/null/a: %s", strerror(ENOTDIR));
	assert_string_equal(e.msg, want);

	char tmpl[] = "/tmp/sbx-test-error-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char deep[128];
	snprintf(deep, sizeof(deep), "%s/x/y", tmpl);
	assert_int_equal(sbx_mkdir_p(deep, 0700, NULL), 0);
	assert_int_equal(sbx_mkdir_p(deep, 0700, NULL), 0); /* exists: fine */
	char f[160];
	snprintf(f, sizeof(f), "%s/file", deep);
	close(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	assert_int_equal(sbx_write_file(f, "hello", &e), 0);
	assert_int_equal(sbx_read_fileat(AT_FDCWD, f, buf, sizeof(buf), &e), 5);
	assert_string_equal(buf, "hello");
	unlink(f);
	rmdir(deep);
	snprintf(deep, sizeof(deep), "%s/x", tmpl);
	rmdir(deep);
	rmdir(tmpl);
}

/* The control protocol's failures carry the errno a caller acts on. */
static void test_proto_errors(void **state)
{
	(void)state;
	int sp[2];
	sbx_error e;
	char buf[64];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	/* A record that is not a chunk. */
	assert_int_equal(sbx_msg_send(sp[0], 'X', "abc", 3, NULL, 0, &e), 0);
	dirty(&e);
	assert_int_equal(sbx_chunks_recv(sp[1], buf, 3, &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, EPROTO);
	/* Too big for the buffer. */
	assert_int_equal(sbx_msg_send(sp[0], 'X', "abcdef", 6, NULL, 0, NULL), 0);
	dirty(&e);
	assert_int_equal(sbx_msg_recv(sp[1], buf, 4, NULL, NULL, 0, &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, EMSGSIZE);
	/* Too many fds. */
	int fds[5] = {0, 0, 0, 0, 0};
	dirty(&e);
	assert_int_equal(sbx_msg_send(sp[0], 'X', NULL, 0, fds, 5, &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, EINVAL);
	/* An error record carries the message's text. */
	sbx_fail(&e, SBX_E_SETUP, "mount /proc: denied");
	assert_int_equal(sbx_msg_send_error(sp[0], &e, NULL), 0);
	ssize_t n = sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL);
	assert_int_equal(n, 1 + strlen("mount /proc: denied"));
	assert_int_equal(buf[0], SBX_REP_ERROR);
	assert_memory_equal(buf + 1, "mount /proc: denied", (size_t)n - 1);
	/* The peer is gone: EOF for chunks is EPIPE, sending too. */
	close(sp[0]);
	dirty(&e);
	assert_int_equal(sbx_chunks_recv(sp[1], buf, 3, &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, EPIPE);
	dirty(&e);
	assert_int_equal(sbx_msg_send(sp[1], 'X', "a", 1, NULL, 0, &e), -SBX_E_SYSTEM);
	assert_int_equal(e.sys_errno, EPIPE);
	close(sp[1]);
}

static void test_proto_error_record_capped(void **state)
{
	(void)state;
	int sp[2];
	sbx_error e;
	char big[2000], buf[1024];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	sbx_fail(&e, SBX_E_SETUP, "%s", run_of(big, sizeof(big), 'q', 1500));
	assert_int_equal(sbx_msg_send_error(sp[0], &e, NULL), 0);
	ssize_t n = sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL);
	assert_int_equal(n, 1 + SBX_PROTO_ERROR_MAX);
	close(sp[0]);
	close(sp[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fail),	 cmocka_unit_test(test_fail_truncates),
	    cmocka_unit_test(test_fail_errno),	 cmocka_unit_test(test_fail_errno_truncates),
	    cmocka_unit_test(test_wrap),	 cmocka_unit_test(test_wrap_truncates),
	    cmocka_unit_test(test_cleanup),	 cmocka_unit_test(test_file_helpers),
	    cmocka_unit_test(test_proto_errors), cmocka_unit_test(test_proto_error_record_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
