/* Unit tests: src/dockerapi/http.c (the Docker Engine API server's HTTP
 * layer), fed and read through a socketpair. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "dockerapi/http.h"

/* sv[0]: the server's end (the dapi_conn), sv[1]: the client's. */
typedef struct fix {
	int sv[2];
	dapi_conn c;
	dapi_req req;
} fix;

static int setup(void **state)
{
	fix *f = calloc(1, sizeof(*f));
	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv) < 0)
		return -1;
	if (dapi_conn_init(&f->c, f->sv[0], NULL) < 0)
		return -1;
	f->c.timeout_ms = 2000;
	f->req.content_length = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fix *f = *state;
	dapi_req_free(&f->req);
	dapi_conn_free(&f->c);
	if (f->sv[0] >= 0)
		close(f->sv[0]);
	if (f->sv[1] >= 0)
		close(f->sv[1]);
	free(f);
	return 0;
}

static void client_send(fix *f, const char *s)
{
	size_t n = strlen(s);
	assert_int_equal(send(f->sv[1], s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Close the server's end and read everything the client got (2 s max). */
static char *client_read_all(fix *f, size_t *len)
{
	close(f->sv[0]);
	f->sv[0] = -1;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	for (;;) {
		struct pollfd p = {.fd = f->sv[1], .events = POLLIN};
		assert_int_equal(poll(&p, 1, 2000), 1);
		if (n + 1 == cap) {
			cap *= 2;
			b = realloc(b, cap);
			assert_non_null(b);
		}
		ssize_t r = read(f->sv[1], b + n, cap - n - 1);
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

static int read_req(fix *f, int *status)
{
	sbx_error err = {0};
	dapi_req_free(&f->req);
	return dapi_read_request(&f->c, &f->req, 2000, status, &err);
}

/* The status a request gets (negative read), the request otherwise. */
static int status_of(const char *request)
{
	fix *f = NULL;
	if (setup((void **)&f) < 0)
		return -1;
	client_send(f, request);
	int status = -1;
	int r = read_req(f, &status);
	int out = r < 0 ? status : 0;
	if (r < 0) {
		/* A failed read leaves an empty request, safe to free. */
		assert_null(f->req.target);
		assert_int_equal(f->req.n_hdrs, 0);
	}
	teardown((void **)&f);
	return out;
}

/* ---- requests --------------------------------------------------------- */

static void test_get_version_prefix(void **state)
{
	fix *f = *state;
	client_send(f, "GET /v1.41/containers/json?all=1 HTTP/1.1\r\nHost: docker\r\n"
		       "User-Agent: Docker-Client/20.10.24 (linux)\r\n\r\n");
	int status = -1;
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.method, "GET");
	assert_string_equal(f->req.target, "/v1.41/containers/json?all=1");
	assert_string_equal(f->req.path, "/containers/json");
	assert_string_equal(f->req.version, "1.41");
	assert_string_equal(f->req.query, "all=1");
	assert_int_equal(f->req.n_hdrs, 2);
	assert_string_equal(dapi_header_get(&f->req, "host"), "docker");
	assert_string_equal(dapi_header_get(&f->req, "USER-AGENT"),
			    "Docker-Client/20.10.24 (linux)");
	assert_null(dapi_header_get(&f->req, "Content-Type"));
	assert_int_equal(f->req.content_length, -1);
	assert_true(f->req.keep_alive);
	assert_false(f->req.upgrade);
	assert_false(f->req.chunked);
	assert_true(f->req.body_done);

	client_send(f, "HEAD /v1.24/_ping HTTP/1.1\n\n"); /* bare "\n" line ends */
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.method, "HEAD");
	assert_string_equal(f->req.path, "/_ping");
	assert_string_equal(f->req.version, "1.24");
	assert_string_equal(f->req.query, "");

	client_send(f, "GET /_ping HTTP/1.0\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/_ping");
	assert_string_equal(f->req.version, "");
	assert_false(f->req.keep_alive); /* 1.0 without keep-alive */

	client_send(f, "GET /v1.41 HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/");
	assert_string_equal(f->req.version, "1.41");
	assert_false(f->req.keep_alive);

	/* Not a version prefix: left alone. */
	client_send(f, "GET /vx.1/info HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/vx.1/info");
	assert_string_equal(f->req.version, "");
	assert_true(f->req.keep_alive);
	client_send(f, "GET /v1.41x/info HTTP/1.1\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/v1.41x/info");
	/* A peer that closes between requests: 1. */
	shutdown(f->sv[1], SHUT_WR);
	assert_int_equal(read_req(f, &status), 1);
}

static void test_query(void **state)
{
	fix *f = *state;
	client_send(f, "GET /v1.41/containers/json?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D"
		       "&name=a+b%2Bc&flag&empty=&t1=true&t2=True&t3=TRUE&f1=0&f2=false&f3=no"
		       "&bad=%zz&trunc=%4&nul=%00&dup=1&dup=2&sp=%20 HTTP/1.1\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	char *v = NULL;
	assert_int_equal(dapi_query(&f->req, "filters", &v), 1);
	assert_string_equal(v, "{\"label\":[\"a=b\"]}");
	free(v);
	assert_int_equal(dapi_query(&f->req, "name", &v), 1);
	assert_string_equal(v, "a b+c");
	free(v);
	assert_int_equal(dapi_query(&f->req, "flag", &v), 1);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(dapi_query(&f->req, "empty", &v), 1);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(dapi_query(&f->req, "dup", &v), 1);
	assert_string_equal(v, "1"); /* the first, as Go's Query().Get */
	free(v);
	assert_int_equal(dapi_query(&f->req, "absent", &v), 0);
	assert_null(v);
	assert_true(dapi_query(&f->req, "bad", &v) < 0);
	assert_null(v);
	assert_true(dapi_query(&f->req, "trunc", &v) < 0);
	assert_true(dapi_query(&f->req, "nul", &v) < 0);
	assert_int_equal(dapi_query(&f->req, "fil", &v), 0); /* no prefix match */

	assert_true(dapi_query_bool(&f->req, "t1", false));
	assert_true(dapi_query_bool(&f->req, "t2", false));
	assert_true(dapi_query_bool(&f->req, "t3", false));
	assert_false(dapi_query_bool(&f->req, "f1", true));
	assert_false(dapi_query_bool(&f->req, "f2", true));
	assert_false(dapi_query_bool(&f->req, "f3", true));
	assert_false(dapi_query_bool(&f->req, "empty", true));
	assert_false(dapi_query_bool(&f->req, "flag", true));
	assert_false(dapi_query_bool(&f->req, "sp", true)); /* " " trimmed */
	assert_true(dapi_query_bool(&f->req, "absent", true));
	assert_false(dapi_query_bool(&f->req, "absent", false));
	assert_true(dapi_query_bool(&f->req, "bad", true)); /* unreadable: default */
}

static void test_pipelining(void **state)
{
	fix *f = *state;
	client_send(f, "POST /v1.41/containers/create?name=x HTTP/1.1\r\nContent-Type: "
		       "application/json\r\nContent-Length: 13\r\n\r\n{\"Image\":\"a\"}"
		       "GET /v1.41/containers/x/json HTTP/1.1\r\nHost: docker\r\n\r\n");
	int status;
	sbx_error err = {0};
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.method, "POST");
	assert_string_equal(f->req.path, "/containers/create");
	assert_int_equal(f->req.content_length, 13);
	assert_false(f->req.body_done);
	_cleanup_buf_ sbx_buf body = {0};
	assert_int_equal(dapi_body_all(&f->c, &f->req, 1024, &body, &status, &err), 0);
	assert_string_equal(body.data, "{\"Image\":\"a\"}");
	assert_true(f->req.body_done);
	char tmp[8];
	assert_int_equal(dapi_body_read(&f->c, &f->req, tmp, sizeof(tmp), &err), 0);

	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.method, "GET");
	assert_string_equal(f->req.path, "/containers/x/json");
	/* A request without a body reads as empty (NUL-terminated). */
	sbx_buf_free(&body);
	assert_int_equal(dapi_body_all(&f->c, &f->req, 1024, &body, &status, &err), 0);
	assert_non_null(body.data);
	assert_string_equal(body.data, "");

	/* Leading empty lines (a stray CRLF after a body) are skipped. */
	client_send(f, "\r\n\r\nDELETE /v1.41/containers/x?force=1 HTTP/1.1\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.method, "DELETE");
	assert_true(dapi_query_bool(&f->req, "force", false));
	close(f->sv[1]);
	f->sv[1] = -1;
	assert_int_equal(read_req(f, &status), 1);
}

static void test_chunked_body(void **state)
{
	fix *f = *state;
	client_send(f, "POST /v1.41/build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "5;name=val\r\nhello\r\n"
		       "6 ; ext\r\n world\r\n"
		       "A\n0123456789\n"
		       "0;last\r\nX-Trailer: a\r\nX-Other: b\r\n\r\n"
		       "GET /next HTTP/1.1\r\n\r\n");
	int status;
	sbx_error err = {0};
	assert_int_equal(read_req(f, &status), 0);
	assert_true(f->req.chunked);
	assert_int_equal(f->req.content_length, -1);
	/* Small reads cross chunk boundaries correctly. */
	char part[4];
	ssize_t n = dapi_body_read(&f->c, &f->req, part, sizeof(part), &err);
	assert_int_equal(n, 4);
	assert_memory_equal(part, "hell", 4);
	_cleanup_buf_ sbx_buf body = {0};
	assert_int_equal(dapi_body_all(&f->c, &f->req, 1024, &body, &status, &err), 0);
	assert_string_equal(body.data, "o world0123456789");
	assert_true(f->req.body_done);
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/next");

	/* A bad chunk size: 400. */
	client_send(f, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
	assert_int_equal(read_req(f, &status), 0);
	sbx_buf_free(&body);
	assert_true(dapi_body_all(&f->c, &f->req, 1024, &body, &status, &err) < 0);
	assert_int_equal(status, 400);
}

static void test_chunked_bad(void **state)
{
	fix *f = *state;
	int status;
	sbx_error err = {0};
	/* Data not followed by CRLF. */
	client_send(f, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n");
	assert_int_equal(read_req(f, &status), 0);
	_cleanup_buf_ sbx_buf body = {0};
	assert_true(dapi_body_all(&f->c, &f->req, 1024, &body, &status, &err) < 0);
	assert_int_equal(status, 400);
	/* A chunk size past 2^62. */
	f->c.off = f->c.len = 0;
	client_send(f, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "40000000000000001\r\n");
	assert_int_equal(read_req(f, &status), 0);
	sbx_buf_free(&body);
	assert_true(dapi_body_all(&f->c, &f->req, 1024, &body, &status, &err) < 0);
	assert_int_equal(status, 400);
	/* Longer than max: 413 (chunked, so only known while reading). */
	f->c.off = f->c.len = 0;
	client_send(f, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "8\r\n01234567\r\n0\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	sbx_buf_free(&body);
	assert_true(dapi_body_all(&f->c, &f->req, 7, &body, &status, &err) < 0);
	assert_int_equal(status, 413);
}

struct writer {
	int fd;
	const char *parts[4];
	int delay_ms;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < 4 && w->parts[i]; i++) {
		if (i) {
			struct timespec ts = {0, (long)w->delay_ms * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (send(w->fd, w->parts[i], strlen(w->parts[i]), MSG_NOSIGNAL) < 0)
			break;
	}
	return NULL;
}

static void test_body_split(void **state)
{
	fix *f = *state;
	struct writer w = {.fd = f->sv[1],
			   .parts = {"PUT /v1.41/containers/x/archive?path=/ HTTP/1.1\r\nContent-",
				     "Length: 10\r\n\r\n0123", "456",
				     "789GET /next HTTP/1.1\r\n\r\n"},
			   .delay_ms = 30};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	int status;
	sbx_error err = {0};
	assert_int_equal(read_req(f, &status), 0);
	assert_int_equal(f->req.content_length, 10);
	_cleanup_buf_ sbx_buf body = {0};
	assert_int_equal(dapi_body_all(&f->c, &f->req, 10, &body, &status, &err), 0);
	pthread_join(t, NULL);
	assert_int_equal(body.len, 10);
	assert_string_equal(body.data, "0123456789");
	/* What follows the body is the next request. */
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/next");

	/* A Content-Length above max: 413 before reading anything. */
	client_send(f, "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n01234567890");
	assert_int_equal(read_req(f, &status), 0);
	sbx_buf_free(&body);
	assert_true(dapi_body_all(&f->c, &f->req, 10, &body, &status, &err) < 0);
	assert_int_equal(status, 413);
	/* Discarding: bounded. */
	assert_int_equal(dapi_body_discard(&f->c, &f->req, 100, &err), 0);
	assert_true(f->req.body_done);
	client_send(f, "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n01234567890");
	assert_int_equal(read_req(f, &status), 0);
	assert_true(dapi_body_discard(&f->c, &f->req, 5, &err) < 0);

	/* The client goes away in the middle of the body. */
	f->c.off = f->c.len = 0;
	client_send(f, "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n0123");
	assert_int_equal(read_req(f, &status), 0);
	shutdown(f->sv[1], SHUT_WR);
	sbx_buf_free(&body);
	assert_true(dapi_body_all(&f->c, &f->req, 100, &body, &status, &err) < 0);
	assert_int_equal(status, 0);
}

static void test_header_too_large(void **state)
{
	fix *f = *state;
	size_t big = DAPI_MAX_HEADER_BYTES + 1000;
	char *s = malloc(big + 1);
	assert_non_null(s);
	memset(s, 'a', big);
	memcpy(s, "GET / HTTP/1.1\r\nX-Big: ", 23);
	s[big] = '\0';
	struct writer w = {.fd = f->sv[1], .parts = {s}};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	int status = -1;
	assert_true(read_req(f, &status) < 0);
	assert_int_equal(status, 413);
	shutdown(f->sv[0], SHUT_RDWR); /* unblock the writer */
	pthread_join(t, NULL);
	free(s);

	/* Just under the limit is fine. */
	char *ok = malloc(DAPI_MAX_HEADER_BYTES);
	assert_non_null(ok);
	memset(ok, 'b', DAPI_MAX_HEADER_BYTES - 1);
	ok[DAPI_MAX_HEADER_BYTES - 1] = '\0';
	memcpy(ok, "GET / HTTP/1.1\r\nX-Big: ", 23);
	memcpy(ok + DAPI_MAX_HEADER_BYTES - 5, "\r\n\r\n", 4);
	fix *g = NULL;
	assert_int_equal(setup((void **)&g), 0);
	struct writer w2 = {.fd = g->sv[1], .parts = {ok}};
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w2), 0);
	assert_int_equal(read_req(g, &status), 0);
	assert_int_equal(strlen(dapi_header_get(&g->req, "x-big")), DAPI_MAX_HEADER_BYTES - 28);
	pthread_join(t, NULL);
	teardown((void **)&g);
	free(ok);

	/* Too many header lines. */
	_cleanup_buf_ sbx_buf m = {0};
	sbx_buf_puts(&m, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= DAPI_MAX_HEADERS; i++)
		sbx_buf_printf(&m, "X-H%d: v\r\n", i);
	sbx_buf_puts(&m, "\r\n");
	assert_int_equal(status_of(m.data), 413);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	    {"GET /\r\n\r\n", 400},
	    {"GET  / HTTP/1.1\r\n\r\n", 400},
	    {"GET / HTTP/1.1 \r\n\r\n", 400},
	    {"GET / HTTX/1.1\r\n\r\n", 400},
	    {"GET / HTTP/1.10\r\n\r\n", 400},
	    {"GET / http/1.1\r\n\r\n", 400},
	    {"GET / HTTP/2.0\r\n\r\n", 505},
	    {"GET / HTTP/1.2\r\n\r\n", 505},
	    {"G(T / HTTP/1.1\r\n\r\n", 400},
	    {"GETTINGVERYLONGMETHOD / HTTP/1.1\r\n\r\n", 400},
	    {"GET noslash HTTP/1.1\r\n\r\n", 400},
	    {"GET /a\rb HTTP/1.1\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nName : x\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\n: x\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
	    {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
	    {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	     501},
	    {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: 4611686018427387905\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
	    /* The good ones next to them: */
	    {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0},
	    {"GET / HTTP/1.1\r\nContent-Length: 4611686018427387904\r\n\r\n", 0},
	    {"GET / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", 0},
	    {"GET http://docker/v1.41/info HTTP/1.1\r\n\r\n", 0},
	    {"GET / HTTP/1.1\r\nA:\tb c\t\r\n\r\n", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *r = cases[i].req;
		int got = status_of(r);
		if (got != cases[i].status)
			fail_msg("case %zu %s: status %d, want %d", i, r, got, cases[i].status);
	}
}

static void test_nul_byte(void **state)
{
	fix *f = *state;
	static const char r[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
	assert_int_equal(send(f->sv[1], r, sizeof(r) - 1, 0), (ssize_t)sizeof(r) - 1);
	int st = -1;
	assert_true(read_req(f, &st) < 0);
	assert_int_equal(st, 400);
}

static void test_percent(void **state)
{
	fix *f = *state;
	assert_int_equal(status_of("GET /containers/%zz/json HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /containers/a%00b/json HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /containers/a%2 HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /containers/a% HTTP/1.1\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /a%g0 HTTP/1.1\r\n\r\n"), 400);
	client_send(f, "GET /v1.41/containers/a%20b+c%2fd/json?x=%zz HTTP/1.1\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/containers/a b+c/d/json");
	assert_string_equal(f->req.query, "x=%zz"); /* raw; refused by dapi_query */
	/* A version prefix written with escapes is still one. */
	client_send(f, "GET /%761.41/info HTTP/1.1\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_string_equal(f->req.path, "/info");
	assert_string_equal(f->req.version, "1.41");
}

static void test_upgrade_flags(void **state)
{
	fix *f = *state;
	int status;
	client_send(f, "POST /v1.41/exec/abc/start HTTP/1.1\r\nConnection: Upgrade\r\n"
		       "Upgrade: tcp\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_true(f->req.upgrade);
	assert_true(f->req.keep_alive);
	client_send(f, "POST /x HTTP/1.1\r\nUpgrade: tcp\r\n\r\n"); /* no Connection: Upgrade */
	assert_int_equal(read_req(f, &status), 0);
	assert_false(f->req.upgrade);
	client_send(f, "POST /x HTTP/1.1\r\nConnection: keep-alive, upgrade\r\n"
		       "Upgrade: websocket\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_false(f->req.upgrade);
	client_send(f, "POST /x HTTP/1.1\r\nConnection: keep-alive, UPGRADE\r\n"
		       "Upgrade: TCP\r\nConnection: close\r\n\r\n");
	assert_int_equal(read_req(f, &status), 0);
	assert_true(f->req.upgrade);
	assert_false(f->req.keep_alive);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_timeout(void **state)
{
	fix *f = *state;
	f->c.timeout_ms = 300;
	client_send(f, "GET /v1.41/info HTTP/1.1\r\nHost: dock");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = -1;
	sbx_error err = {0};
	assert_true(dapi_read_request(&f->c, &f->req, 5000, &status, &err) < 0);
	long ms = elapsed_ms(&t0);
	assert_int_equal(status, 408);
	assert_true(ms >= 250 && ms < 2000);

	/* The whole header has one deadline: a trickle does not extend it. */
	fix *g = NULL;
	assert_int_equal(setup((void **)&g), 0);
	g->c.timeout_ms = 300;
	struct writer w = {.fd = g->sv[1],
			   .parts = {"GET / HTTP/1.1\r\n", "A: 1\r\n", "B: 2\r\n", "C: 3\r\n"},
			   .delay_ms = 200};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(dapi_read_request(&g->c, &g->req, 5000, &status, &err) < 0);
	ms = elapsed_ms(&t0);
	assert_int_equal(status, 408);
	assert_true(ms < 700); /* per-read deadlines would take 900 ms */
	pthread_join(t, NULL);
	teardown((void **)&g);

	/* Idle before any byte: idle_ms, nothing to answer. */
	dapi_req_free(&f->req);
	f->c.off = f->c.len = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = -1;
	assert_true(dapi_read_request(&f->c, &f->req, 150, &status, &err) < 0);
	ms = elapsed_ms(&t0);
	assert_int_equal(status, 0);
	assert_true(ms >= 100 && ms < 1000);

	/* A body that stops: the read fails in time. */
	f->c.timeout_ms = 200;
	client_send(f, "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n01");
	assert_int_equal(dapi_read_request(&f->c, &f->req, 1000, &status, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	_cleanup_buf_ sbx_buf body = {0};
	assert_true(dapi_body_all(&f->c, &f->req, 100, &body, &status, &err) < 0);
	assert_int_equal(status, 408);
	assert_true(elapsed_ms(&t0) < 1500);
}

/* ---- responses -------------------------------------------------------- */

static void check_common_headers(const char *resp)
{
	assert_non_null(strstr(resp, "\r\nApi-Version: 1.41\r\n"));
	assert_non_null(strstr(resp, "\r\nDocker-Experimental: false\r\n"));
	assert_non_null(strstr(resp, "\r\nOstype: linux\r\n"));
	assert_non_null(strstr(resp, "\r\nServer: sbx/" SBX_VERSION " (linux)\r\n"));
	const char *d = strstr(resp, "\r\nDate: ");
	assert_non_null(d);
	/* "Mon, 30 Nov 2026 01:02:03 GMT" */
	char wd[4], mon[4], gmt[4];
	int day, year, h, m, s;
	assert_int_equal(sscanf(d + 8, "%3[A-Za-z], %d %3s %d %d:%d:%d %3s", wd, &day, mon, &year,
				&h, &m, &s, gmt),
			 8);
	assert_int_equal(wd[3], '\0');
	assert_string_equal(gmt, "GMT");
	assert_true(year >= 2024);
}

static void test_head_response(void **state)
{
	fix *f = *state;
	client_send(f, "HEAD /_ping HTTP/1.1\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	assert_int_equal(dapi_respond(&f->c, &f->req, 200, "text/plain; charset=utf-8",
				      "Cache-Control: no-cache\r\n", "OK", 2, false),
			 0);
	size_t n;
	char *r = client_read_all(f, &n);
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	check_common_headers(r);
	assert_non_null(strstr(r, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(r, "\r\nCache-Control: no-cache\r\n"));
	assert_non_null(strstr(r, "\r\nContent-Length: 2\r\n"));
	assert_null(strstr(r, "Connection:"));
	assert_true(n >= 4 && strcmp(r + n - 4, "\r\n\r\n") == 0); /* no body */
	free(r);
}

static void test_get_response(void **state)
{
	fix *f = *state;
	client_send(f, "GET /_ping HTTP/1.0\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	assert_int_equal(dapi_respond(&f->c, &f->req, 200, "text/plain", NULL, "OK", 2, false), 0);
	size_t n;
	char *r = client_read_all(f, &n);
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(r, "\r\nContent-Length: 2\r\n"));
	assert_non_null(strstr(r, "\r\nConnection: close\r\n")); /* HTTP/1.0: not kept */
	assert_true(n >= 6 && strcmp(r + n - 6, "\r\n\r\nOK") == 0);
	free(r);
}

struct reader {
	int fd;
	char *got;
	size_t n;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	size_t cap = 1 << 16;
	rd->got = malloc(cap);
	for (;;) {
		if (rd->n == cap) {
			cap *= 2;
			rd->got = realloc(rd->got, cap);
		}
		ssize_t r = read(rd->fd, rd->got + rd->n, cap - rd->n);
		if (r <= 0)
			break;
		rd->n += (size_t)r;
	}
	return NULL;
}

static void test_big_response(void **state)
{
	fix *f = *state;
	client_send(f, "GET /x HTTP/1.1\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	size_t big = 300000;
	char *body = malloc(big);
	assert_non_null(body);
	for (size_t i = 0; i < big; i++)
		body[i] = (char)('a' + i % 26);
	struct reader rd = {.fd = f->sv[1]};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader_main, &rd), 0);
	assert_int_equal(
	    dapi_respond(&f->c, &f->req, 200, "application/x-tar", NULL, body, big, false), 0);
	close(f->sv[0]);
	f->sv[0] = -1;
	pthread_join(t, NULL);
	assert_non_null(rd.got);
	assert_true(rd.n > big);
	assert_memory_equal(rd.got + rd.n - big, body, big);
	assert_non_null(strstr(rd.got, "\r\nContent-Length: 300000\r\n"));
	free(rd.got);
	free(body);
}

static void test_error_json(void **state)
{
	fix *f = *state;
	client_send(f, "GET /containers/x/json HTTP/1.1\r\nConnection: close\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	assert_int_equal(
	    dapi_respond_error(&f->c, &f->req, 404, "No such container: %s", "a\"b\\c\n\x01"), 0);
	size_t n;
	char *r = client_read_all(f, &n);
	assert_true(strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	assert_non_null(strstr(r, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
	const char *want = "{\"message\":\"No such container: a\\\"b\\\\c\\n\\u0001\"}\n";
	const char *body = strstr(r, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, want);
	char cl[64];
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(want));
	assert_non_null(strstr(r, cl));
	free(r);
}

static void test_error_after_bad_request(void **state)
{
	fix *f = *state;
	client_send(f, "GET /a%zz HTTP/1.1\r\n\r\n");
	int status = -1;
	assert_true(read_req(f, &status) < 0);
	assert_int_equal(status, 400);
	/* The emptied request answers with Connection: close. */
	assert_int_equal(dapi_respond_error(&f->c, &f->req, status, "bad request"), 0);
	char *r = client_read_all(f, NULL);
	assert_true(strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(r, "\r\n\r\n{\"message\":\"bad request\"}\n"));
	free(r);
}

static void test_empty_and_chunked(void **state)
{
	fix *f = *state;
	client_send(f, "POST /containers/x/start HTTP/1.1\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	assert_int_equal(dapi_respond_empty(&f->c, &f->req, 204), 0);
	assert_int_equal(dapi_chunked_begin(&f->c, &f->req, 200, "application/json", NULL), 0);
	assert_int_equal(dapi_chunk(&f->c, "{\"status\":1}\n", 13), 0);
	assert_int_equal(dapi_chunk(&f->c, "", 0), 0); /* not an end */
	assert_int_equal(dapi_chunk(&f->c, "0123456789abcdefX", 17), 0);
	assert_int_equal(dapi_chunked_end(&f->c), 0);
	char *r = client_read_all(f, NULL);
	assert_true(strncmp(r, "HTTP/1.1 204 No Content\r\n", 25) == 0);
	const char *second = strstr(r, "\r\n\r\nHTTP/1.1 200 OK\r\n");
	assert_non_null(second);
	/* 204: no Content-Length, no Content-Type, no body. */
	assert_true(strstr(r, "Content-Length") == NULL || strstr(r, "Content-Length") > second);
	assert_non_null(strstr(second, "\r\nTransfer-Encoding: chunked\r\n"));
	assert_null(strstr(second, "Content-Length"));
	const char *b = strstr(second + 4, "\r\n\r\n");
	assert_non_null(b);
	assert_string_equal(b + 4, "d\r\n{\"status\":1}\n\r\n11\r\n0123456789abcdefX\r\n0\r\n\r\n");
	free(r);
}

static void test_hijack(void **state)
{
	fix *f = *state;
	/* dockerode and the docker CLI may send stdin right behind the request. */
	client_send(f, "POST /v1.41/exec/abc/start HTTP/1.1\r\nHost: docker\r\n"
		       "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n"
		       "Content-Length: 28\r\n\r\n{\"Detach\":false,\"Tty\":false}early\x00stdin");
	int status;
	sbx_error err = {0};
	assert_int_equal(read_req(f, &status), 0);
	assert_true(f->req.upgrade);
	_cleanup_buf_ sbx_buf body = {0};
	assert_int_equal(dapi_body_all(&f->c, &f->req, 4096, &body, &status, &err), 0);
	assert_string_equal(body.data, "{\"Detach\":false,\"Tty\":false}");
	assert_int_equal(dapi_hijack(&f->c, &f->req, false), 0);
	const char *data;
	size_t n;
	dapi_conn_take_buffered(&f->c, &data, &n);
	assert_int_equal(n, 5); /* client_send stops at the NUL */
	assert_memory_equal(data, "early", 5);
	dapi_conn_take_buffered(&f->c, &data, &n);
	assert_int_equal(n, 0);
	assert_int_equal(dapi_mux_write(&f->c, 1, "out", 3), 0);
	char *r = client_read_all(f, &n);
	assert_true(strncmp(r, "HTTP/1.1 101 UPGRADED\r\n", 23) == 0);
	assert_non_null(
	    strstr(r, "\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"));
	assert_non_null(strstr(r, "\r\nConnection: Upgrade\r\n"));
	assert_non_null(strstr(r, "\r\nUpgrade: tcp\r\n"));
	assert_null(strstr(r, "Content-Length"));
	assert_null(strstr(r, "Transfer-Encoding"));
	const char *end = strstr(r, "\r\n\r\n");
	assert_non_null(end);
	assert_int_equal(n - (size_t)(end + 4 - r), 11);
	assert_memory_equal(end + 4, "\x01\0\0\0\0\0\0\x03out", 11);
	free(r);
}

static void test_hijack_plain(void **state)
{
	fix *f = *state;
	client_send(f, "POST /v1.41/containers/x/attach?stream=1 HTTP/1.1\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	assert_false(f->req.upgrade);
	assert_int_equal(dapi_hijack(&f->c, &f->req, true), 0);
	assert_int_equal(dapi_write_all(&f->c, "raw tty", 7), 0);
	char *r = client_read_all(f, NULL);
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(r, "\r\nContent-Type: application/vnd.docker.raw-stream\r\n"));
	assert_null(strstr(r, "Content-Length"));
	assert_null(strstr(r, "Transfer-Encoding"));
	assert_null(strstr(r, "Upgrade"));
	assert_non_null(strstr(r, "\r\n\r\nraw tty"));
	free(r);
}

static void test_mux_frames(void **state)
{
	fix *f = *state;
	assert_int_equal(dapi_mux_write(&f->c, 1, "hello", 5), 0);
	assert_int_equal(dapi_mux_write(&f->c, 2, "err\n", 4), 0);
	assert_int_equal(dapi_mux_write(&f->c, 0, "", 0), 0); /* nothing */
	assert_int_equal(dapi_mux_write(&f->c, 3, "x", 1), -1);
	assert_int_equal(dapi_mux_write(&f->c, -1, "x", 1), -1);
	size_t n;
	char *r = client_read_all(f, &n);
	assert_int_equal(n, 8 + 5 + 8 + 4);
	assert_memory_equal(r,
			    "\x01\0\0\0\0\0\0\x05hello\x02\0\0\0\0\0\0\x04"
			    "err\n",
			    25);
	free(r);
}

static void test_mux_big(void **state)
{
	fix *f = *state;
	/* More than one frame's worth: split, each with a correct header. */
	size_t big = (3u << 20) + 5;
	unsigned char *data = malloc(big);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 7);
	struct reader rd = {.fd = f->sv[1]};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader_main, &rd), 0);
	assert_int_equal(dapi_mux_write(&f->c, 1, data, big), 0);
	close(f->sv[0]);
	f->sv[0] = -1;
	pthread_join(t, NULL);
	size_t pos = 0, got = 0, frames = 0;
	const unsigned char *g = (const unsigned char *)rd.got;
	while (pos < rd.n) {
		assert_true(pos + 8 <= rd.n);
		assert_int_equal(g[pos], 1);
		assert_int_equal(g[pos + 1] | g[pos + 2] | g[pos + 3], 0);
		size_t len = (size_t)g[pos + 4] << 24 | (size_t)g[pos + 5] << 16 |
			     (size_t)g[pos + 6] << 8 | g[pos + 7];
		assert_true(len > 0 && pos + 8 + len <= rd.n);
		assert_memory_equal(g + pos + 8, data + got, len);
		got += len;
		pos += 8 + len;
		frames++;
	}
	assert_int_equal(got, big);
	assert_true(frames > 1);
	free(rd.got);
	free(data);
}

static void test_write_closed_peer(void **state)
{
	fix *f = *state;
	close(f->sv[1]);
	f->sv[1] = -1;
	/* No SIGPIPE (it would end this test program): -1. */
	char buf[65536] = {0};
	int r = 0;
	for (int i = 0; i < 4 && r == 0; i++)
		r = dapi_write_all(&f->c, buf, sizeof(buf));
	assert_int_equal(r, -1);
	assert_int_equal(dapi_respond_empty(&f->c, NULL, 204), -1);
}

static void test_write_timeout(void **state)
{
	fix *f = *state;
	/* A client that never reads: the write gives up at the deadline. */
	f->c.timeout_ms = 200;
	size_t big = 4u << 20;
	char *buf = calloc(1, big);
	assert_non_null(buf);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dapi_write_all(&f->c, buf, big), -1);
	long ms = elapsed_ms(&t0);
	assert_true(ms >= 150 && ms < 2000);
	free(buf);
}

static void test_expect_continue(void **state)
{
	fix *f = *state;
	client_send(f, "POST /images/load HTTP/1.1\r\nExpect: 100-continue\r\n"
		       "Content-Length: 3\r\n\r\n");
	int status;
	assert_int_equal(read_req(f, &status), 0);
	char got[64] = {0};
	struct pollfd p = {.fd = f->sv[1], .events = POLLIN};
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_true(read(f->sv[1], got, sizeof(got) - 1) > 0);
	assert_string_equal(got, "HTTP/1.1 100 Continue\r\n\r\n");
	client_send(f, "abc");
	sbx_error err = {0};
	_cleanup_buf_ sbx_buf body = {0};
	assert_int_equal(dapi_body_all(&f->c, &f->req, 10, &body, &status, &err), 0);
	assert_string_equal(body.data, "abc");
}

static void test_status_text(void **state)
{
	(void)state;
	assert_string_equal(dapi_status_text(200), "OK");
	assert_string_equal(dapi_status_text(204), "No Content");
	assert_string_equal(dapi_status_text(304), "Not Modified");
	assert_string_equal(dapi_status_text(404), "Not Found");
	assert_string_equal(dapi_status_text(409), "Conflict");
	assert_string_equal(dapi_status_text(500), "Internal Server Error");
	assert_string_equal(dapi_status_text(505), "HTTP Version Not Supported");
	assert_string_equal(dapi_status_text(799), "Unknown");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		T(test_get_version_prefix),
		T(test_query),
		T(test_pipelining),
		T(test_chunked_body),
		T(test_chunked_bad),
		T(test_body_split),
		T(test_header_too_large),
		T(test_malformed),
		T(test_nul_byte),
		T(test_percent),
		T(test_upgrade_flags),
		T(test_timeout),
		T(test_head_response),
		T(test_get_response),
		T(test_big_response),
		T(test_error_json),
		T(test_error_after_bad_request),
		T(test_empty_and_chunked),
		T(test_hijack),
		T(test_hijack_plain),
		T(test_mux_frames),
		T(test_mux_big),
		T(test_write_closed_peer),
		T(test_write_timeout),
		T(test_expect_continue),
		T(test_status_text),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
