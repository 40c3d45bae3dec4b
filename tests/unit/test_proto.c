/* Unit tests: src/proto/proto.c, records on a real
 * socketpair(AF_UNIX, SOCK_SEQPACKET): type byte, payload, fd passing,
 * truncation, peer gone, chunked payloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/util.h"
#include "proto/proto.h"

static int sp[2];

static int pair_setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int pair_teardown(void **state)
{
	(void)state;
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	return 0;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A new file with known contents; its fd. */
static int memfile(const char *contents)
{
	int fd = memfd_create("proto-test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, contents, strlen(contents)), (ssize_t)strlen(contents));
	return fd;
}

/* A call that must fail with this errno kept in its sbx_error. */
static sbx_error e;
#define assert_fails_with(call, eno)                                                               \
	do {                                                                                       \
		memset(&e, 0, sizeof(e));                                                          \
		assert_true((call) < 0);                                                           \
		assert_int_equal(e.sys_errno, (eno));                                              \
	} while (0)

static void assert_same_file(int a, int b)
{
	struct stat sa, sb;
	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_int_equal(sa.st_dev, sb.st_dev);
	assert_int_equal(sa.st_ino, sb.st_ino);
	assert_int_not_equal(a, b); /* a new descriptor, not the number sent */
}

/* ---- type and payload ---------------------------------------------------- */

static void test_type_and_payload(void **state)
{
	(void)state;
	const char payload[] = "hello\0world"; /* binary: NUL inside */
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_READ, payload, sizeof(payload), NULL, 0, NULL),
			 0);
	char buf[64];
	int fds[2] = {-1, -1}, nfds = 99;
	ssize_t n = sbx_msg_recv(sp[1], buf, sizeof(buf), fds, &nfds, 2, NULL);
	assert_int_equal(n, 1 + sizeof(payload));
	assert_int_equal(buf[0], SBX_REQ_READ);
	assert_memory_equal(buf + 1, payload, sizeof(payload));
	assert_int_equal(nfds, 0);
	assert_int_equal(fds[0], -1);
}

static void test_empty_payload(void **state)
{
	(void)state;
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_PING, NULL, 0, NULL, 0, NULL), 0);
	/* A payload pointer with n == 0 sends nothing more either. */
	assert_int_equal(sbx_msg_send(sp[0], SBX_REP_OK, "ignored", 0, NULL, 0, NULL), 0);
	char buf[16];
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 1);
	assert_int_equal(buf[0], SBX_REQ_PING);
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 1);
	assert_int_equal(buf[0], SBX_REP_OK);
}

static void test_records_keep_boundaries(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++) {
		char p[8];
		int k = snprintf(p, sizeof(p), "%d", i * 111);
		assert_int_equal(sbx_msg_send(sp[0], SBX_MSG_CHUNK, p, (size_t)k, NULL, 0, NULL),
				 0);
	}
	for (int i = 0; i < 5; i++) {
		char buf[64], want[8];
		int k = snprintf(want, sizeof(want), "%d", i * 111);
		ssize_t n = sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL);
		assert_int_equal(n, k + 1);
		assert_memory_equal(buf + 1, want, (size_t)k);
	}
}

static void test_both_directions(void **state)
{
	(void)state;
	int32_t pid = 4242;
	assert_int_equal(sbx_msg_send(sp[1], SBX_REP_STARTED, &pid, sizeof(pid), NULL, 0, NULL), 0);
	char buf[16];
	assert_int_equal(sbx_msg_recv(sp[0], buf, sizeof(buf), NULL, NULL, 0, NULL), 5);
	assert_int_equal(buf[0], SBX_REP_STARTED);
	int32_t got;
	memcpy(&got, buf + 1, sizeof(got));
	assert_int_equal(got, 4242);
}

/* ---- fd passing ---------------------------------------------------------- */

static void test_fd_passing(void **state)
{
	(void)state;
	int f = memfile("through the socket");
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_EXEC, "x", 1, &f, 1, NULL), 0);
	char buf[16];
	int fds[4] = {-1, -1, -1, -1}, nfds = 0;
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), fds, &nfds, 4, NULL), 2);
	assert_int_equal(nfds, 1);
	assert_same_file(f, fds[0]);
	/* Received fds are close-on-exec. */
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	/* The same open file: reading from the start gives what was written. */
	char got[32] = {0};
	assert_int_equal(pread(fds[0], got, sizeof(got) - 1, 0), 18);
	assert_string_equal(got, "through the socket");
	/* The sender's fd stays open and its own. */
	assert_int_equal(fcntl(f, F_GETFD) >= 0, 1);
	close(fds[0]);
	close(f);
}

static void test_fd_order_kept(void **state)
{
	(void)state;
	int in[4] = {memfile("0"), memfile("1"), memfile("2"), memfile("3")};
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_EXEC, NULL, 0, in, 4, NULL), 0);
	char buf[8];
	int out[4], nfds = 0;
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), out, &nfds, 4, NULL), 1);
	assert_int_equal(nfds, 4);
	for (int i = 0; i < 4; i++) {
		assert_same_file(in[i], out[i]);
		close(in[i]);
		close(out[i]);
	}
}

static void test_too_many_fds_to_send(void **state)
{
	(void)state;
	int in[5];
	for (int i = 0; i < 5; i++)
		in[i] = memfile("x");
	assert_fails_with(sbx_msg_send(sp[0], SBX_REQ_EXEC, NULL, 0, in, 5, &e), EINVAL);
	/* Nothing was sent. */
	char buf[8];
	assert_int_equal(recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	for (int i = 0; i < 5; i++)
		close(in[i]);
}

/* More fds than the receiver takes: the rest are closed, not leaked. */
static void test_extra_fds_closed(void **state)
{
	(void)state;
	int in[3] = {memfile("a"), memfile("b"), memfile("c")};
	int before = open_fds();
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_EXEC, NULL, 0, in, 3, NULL), 0);
	char buf[8];
	int out[1] = {-1}, nfds = 0;
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), out, &nfds, 1, NULL), 1);
	assert_int_equal(nfds, 1);
	assert_same_file(in[0], out[0]);
	assert_int_equal(open_fds(), before + 1);
	close(out[0]);

	/* A receiver that takes none closes them all. */
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_EXEC, NULL, 0, in, 3, NULL), 0);
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 1);
	assert_int_equal(open_fds(), before);
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_EXEC, NULL, 0, in, 3, NULL), 0);
	nfds = 7;
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), out, &nfds, 0, NULL), 1);
	assert_int_equal(nfds, 0);
	assert_int_equal(open_fds(), before);
	for (int i = 0; i < 3; i++)
		close(in[i]);
}

/* ---- sizes ----------------------------------------------------------------- */

static void test_truncated_record(void **state)
{
	(void)state;
	char big[100];
	memset(big, 'z', sizeof(big));
	int f = memfile("t");
	int before = open_fds();
	assert_int_equal(sbx_msg_send(sp[0], SBX_REP_DATA, big, sizeof(big), &f, 1, NULL), 0);
	assert_int_equal(sbx_msg_send(sp[0], SBX_REP_OK, NULL, 0, NULL, 0, NULL), 0);
	char buf[10];
	int fds[1] = {-1}, nfds = 0;
	assert_fails_with(sbx_msg_recv(sp[1], buf, sizeof(buf), fds, &nfds, 1, &e), EMSGSIZE);
	for (int i = 0; i < nfds; i++) /* whatever came with it is the caller's */
		close(fds[i]);
	assert_int_equal(open_fds(), before);
	/* The rest of the record is gone; the next one is whole. */
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 1);
	assert_int_equal(buf[0], SBX_REP_OK);
	close(f);
}

static void test_exact_fit(void **state)
{
	(void)state;
	char p[9];
	memset(p, 'q', sizeof(p));
	assert_int_equal(sbx_msg_send(sp[0], SBX_REP_DATA, p, sizeof(p), NULL, 0, NULL), 0);
	char buf[10];
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 10);
}

static void test_oversized_send(void **state)
{
	(void)state;
	/* Larger than a socket buffer can ever hold: refused whole. */
	size_t n = 8u << 20;
	char *p = calloc(1, n);
	assert_non_null(p);
	assert_fails_with(sbx_msg_send(sp[0], SBX_REP_DATA, p, n, NULL, 0, &e), EMSGSIZE);
	free(p);
	char buf[8];
	assert_int_equal(recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
}

/* ---- peer gone --------------------------------------------------------------- */

static void test_peer_closed(void **state)
{
	(void)state;
	assert_int_equal(sbx_msg_send(sp[0], SBX_REP_OK, NULL, 0, NULL, 0, NULL), 0);
	close(sp[0]);
	sp[0] = -1;
	char buf[8];
	/* What was sent before the close still arrives, then EOF. */
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 1);
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 0);
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 0);
	/* Sending to it fails without SIGPIPE. */
	assert_fails_with(sbx_msg_send(sp[1], SBX_REP_OK, NULL, 0, NULL, 0, &e), EPIPE);
}

/* A peer that exits with our data unread leaves ECONNRESET pending ahead of
 * what it sent: that is skipped once, the peer's last record still comes. */
static void test_peer_reset_with_unread(void **state)
{
	(void)state;
	assert_int_equal(sbx_msg_send(sp[0], SBX_REQ_PING, NULL, 0, NULL, 0, NULL), 0); /* unread */
	assert_int_equal(sbx_msg_send(sp[1], SBX_REP_ERROR, "bye", 3, NULL, 0, NULL), 0);
	close(sp[1]);
	sp[1] = -1;
	char buf[8];
	assert_int_equal(sbx_msg_recv(sp[0], buf, sizeof(buf), NULL, NULL, 0, NULL), 4);
	assert_memory_equal(buf, "Ebye", 4);
	assert_int_equal(sbx_msg_recv(sp[0], buf, sizeof(buf), NULL, NULL, 0, NULL), 0);
}

static void test_bad_fd(void **state)
{
	(void)state;
	char buf[8];
	assert_fails_with(sbx_msg_send(-1, SBX_REP_OK, NULL, 0, NULL, 0, &e), EBADF);
	assert_fails_with(sbx_msg_recv(-1, buf, sizeof(buf), NULL, NULL, 0, &e), EBADF);
}

/* ---- chunks ---------------------------------------------------------------- */

typedef struct sender {
	int fd;
	const char *p;
	size_t n;
	int r;
} sender;

static void *send_chunks(void *arg)
{
	sender *s = arg;
	s->r = sbx_chunks_send(s->fd, s->p, s->n, NULL);
	return NULL;
}

static void test_chunks_round_trip(void **state)
{
	(void)state;
	/* More than a socket buffer: the sender runs beside the receiver. */
	size_t n = 3 * SBX_PROTO_CHUNK + 123;
	char *in = malloc(n), *out = malloc(n);
	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)(i * 31 + 7);
	sender s = {sp[0], in, n, -1};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, send_chunks, &s), 0);
	assert_int_equal(sbx_chunks_recv(sp[1], out, n, NULL), 0);
	pthread_join(t, NULL);
	assert_int_equal(s.r, 0);
	assert_memory_equal(in, out, n);
	free(in);
	free(out);
}

static void test_chunks_record_sizes(void **state)
{
	(void)state;
	size_t n = SBX_PROTO_CHUNK + 1;
	char *in = calloc(1, n);
	assert_non_null(in);
	sender s = {sp[0], in, n, -1};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, send_chunks, &s), 0);
	char *buf = malloc(SBX_PROTO_CHUNK + 2);
	assert_non_null(buf);
	assert_int_equal(sbx_msg_recv(sp[1], buf, SBX_PROTO_CHUNK + 2, NULL, NULL, 0, NULL),
			 SBX_PROTO_CHUNK + 1);
	assert_int_equal(buf[0], SBX_MSG_CHUNK);
	assert_int_equal(sbx_msg_recv(sp[1], buf, SBX_PROTO_CHUNK + 2, NULL, NULL, 0, NULL), 2);
	pthread_join(t, NULL);
	assert_int_equal(s.r, 0);
	/* Nothing at all for n == 0. */
	assert_int_equal(sbx_chunks_send(sp[0], in, 0, NULL), 0);
	assert_int_equal(recv(sp[1], buf, 8, MSG_DONTWAIT), -1);
	assert_int_equal(sbx_chunks_recv(sp[1], buf, 0, NULL), 0);
	free(buf);
	free(in);
}

static void test_chunks_wrong_type(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(sbx_msg_send(sp[0], SBX_REP_DATA, "abc", 3, NULL, 0, NULL), 0);
	assert_fails_with(sbx_chunks_recv(sp[1], out, 3, &e), EPROTO);
}

static void test_chunks_too_long(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(sbx_msg_send(sp[0], SBX_MSG_CHUNK, "abcdef", 6, NULL, 0, NULL), 0);
	assert_fails_with(sbx_chunks_recv(sp[1], out, 5, &e), EPROTO);
}

static void test_chunks_peer_closed(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(sbx_msg_send(sp[0], SBX_MSG_CHUNK, "abc", 3, NULL, 0, NULL), 0);
	close(sp[0]);
	sp[0] = -1;
	assert_fails_with(sbx_chunks_recv(sp[1], out, 6, &e), EPIPE);
	assert_memory_equal(out, "abc", 3);
}

/* ---- bounded calls (sbx_until) ------------------------------------------- */

static uint64_t ms_since(uint64_t t0)
{
	return (sbx_now_ns() - t0) / 1000000;
}

/* A peer that never answers: the receive ends at the deadline. */
static void test_recv_until_deadline(void **state)
{
	(void)state;
	char buf[16];
	uint64_t t0 = sbx_now_ns();
	sbx_until u = {.deadline_ns = t0 + 200 * 1000000ull, .cancel_fd = -1};
	assert_fails_with(sbx_msg_recv_until(sp[0], buf, sizeof(buf), NULL, NULL, 0, &u, &e),
			  ETIMEDOUT);
	assert_true(ms_since(t0) >= 150);
	assert_true(ms_since(t0) < 10000);
}

/* A record that is there is taken at once, deadline or not. */
static void test_recv_until_record(void **state)
{
	(void)state;
	char buf[16];
	assert_int_equal(sbx_msg_send(sp[1], 'Z', "hi", 2, NULL, 0, NULL), 0);
	sbx_until u = {.deadline_ns = sbx_now_ns() + 5000 * 1000000ull, .cancel_fd = -1};
	assert_int_equal(sbx_msg_recv_until(sp[0], buf, sizeof(buf), NULL, NULL, 0, &u, NULL), 3);
	assert_memory_equal(buf, "Zhi", 3);
	/* EOF is still EOF. */
	close(sp[1]);
	sp[1] = -1;
	assert_int_equal(sbx_msg_recv_until(sp[0], buf, sizeof(buf), NULL, NULL, 0, &u, NULL), 0);
}

/* A readable cancel fd ends the wait with ECANCELED. */
static void test_recv_until_cancel(void **state)
{
	(void)state;
	int c[2];
	assert_int_equal(pipe(c), 0);
	assert_int_equal(write(c[1], "x", 1), 1);
	char buf[16];
	sbx_until u = {.deadline_ns = 0, .cancel_fd = c[0]};
	uint64_t t0 = sbx_now_ns();
	assert_fails_with(sbx_msg_recv_until(sp[0], buf, sizeof(buf), NULL, NULL, 0, &u, &e),
			  ECANCELED);
	assert_true(ms_since(t0) < 5000);
	close(c[0]);
	close(c[1]);
}

/* A peer that does not read: sends block once the buffer is full, and the
 * deadline ends them (a bulk transfer to a stopped sandbox process). */
static void test_chunks_send_until_deadline(void **state)
{
	(void)state;
	size_t n = 16 << 20;
	char *big = calloc(1, n);
	assert_non_null(big);
	uint64_t t0 = sbx_now_ns();
	sbx_until u = {.deadline_ns = t0 + 300 * 1000000ull, .cancel_fd = -1};
	assert_fails_with(sbx_chunks_send_until(sp[0], big, n, &u, &e), ETIMEDOUT);
	assert_true(ms_since(t0) >= 250);
	assert_true(ms_since(t0) < 10000);
	/* The kernel timeout is gone afterwards: a plain send still works
	 * once there is room, and the fd is blocking. */
	int fl = fcntl(sp[0], F_GETFL);
	assert_false(fl & O_NONBLOCK);
	free(big);
}

/* A non-blocking fd under a bound waits instead of failing with EAGAIN. */
static void test_send_until_nonblocking_fd(void **state)
{
	(void)state;
	fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
	sbx_until u = {.deadline_ns = sbx_now_ns() + 5000 * 1000000ull, .cancel_fd = -1};
	assert_int_equal(sbx_msg_send_until(sp[0], 'A', "x", 1, NULL, 0, &u, NULL), 0);
	char buf[4];
	assert_int_equal(sbx_msg_recv(sp[1], buf, sizeof(buf), NULL, NULL, 0, NULL), 2);
}

/* A stream peer that never reads: the stream send ends at the deadline. */
static void test_stream_send_until_deadline(void **state)
{
	(void)state;
	int s[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
	size_t n = 16 << 20;
	char *big = calloc(1, n);
	assert_non_null(big);
	int fds[1] = {s[1]};
	uint64_t t0 = sbx_now_ns();
	sbx_until u = {.deadline_ns = t0 + 300 * 1000000ull, .cancel_fd = -1};
	assert_fails_with(sbx_stream_send_until(s[0], big, n, fds, 1, &u, &e), ETIMEDOUT);
	assert_true(ms_since(t0) < 10000);
	free(big);
	close(s[0]);
	close(s[1]);
}

/* Half a transfer, then the peer goes: EPIPE, not a hang. */
static void test_chunks_recv_until_half(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(sbx_chunks_send(sp[1], "abc", 3, NULL), 0);
	sbx_until u = {.deadline_ns = sbx_now_ns() + 300 * 1000000ull, .cancel_fd = -1};
	/* The peer lives but sends no more: the deadline. */
	assert_fails_with(sbx_chunks_recv_until(sp[0], out, 6, &u, &e), ETIMEDOUT);
}

/* A listener that never accepts, its backlog full: connect ends at the
 * deadline. */
static void test_connect_until_full_backlog(void **state)
{
	(void)state;
	char dir[] = "/tmp/sbx-proto-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 0), 0);
	int c[8], nc = 0, r = 0;
	uint64_t t0 = sbx_now_ns();
	for (; nc < 8; nc++) {
		c[nc] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		sbx_until u = {.deadline_ns = sbx_now_ns() + 200 * 1000000ull, .cancel_fd = -1};
		r = sbx_connect_until(c[nc], &sa, sizeof(sa), &u, &e);
		if (r < 0) {
			nc++;
			break;
		}
	}
	assert_true(r < 0);
	assert_int_equal(e.sys_errno, ETIMEDOUT);
	assert_true(ms_since(t0) < 10000);
	for (int i = 0; i < nc; i++)
		close(c[i]);
	close(l);
	unlink(sa.sun_path);
	rmdir(dir);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		T(test_type_and_payload),
		T(test_empty_payload),
		T(test_records_keep_boundaries),
		T(test_both_directions),
		T(test_fd_passing),
		T(test_fd_order_kept),
		T(test_too_many_fds_to_send),
		T(test_extra_fds_closed),
		T(test_truncated_record),
		T(test_exact_fit),
		T(test_oversized_send),
		T(test_peer_closed),
		T(test_peer_reset_with_unread),
		T(test_bad_fd),
		T(test_chunks_round_trip),
		T(test_chunks_record_sizes),
		T(test_chunks_wrong_type),
		T(test_chunks_too_long),
		T(test_chunks_peer_closed),
		T(test_recv_until_deadline),
		T(test_recv_until_record),
		T(test_recv_until_cancel),
		T(test_chunks_send_until_deadline),
		T(test_send_until_nonblocking_fd),
		T(test_stream_send_until_deadline),
		T(test_chunks_recv_until_half),
		T(test_connect_until_full_backlog),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
