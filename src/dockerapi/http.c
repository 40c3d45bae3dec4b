/* HTTP/1.1 for the Docker Engine API server: requests read with limits
 * and deadlines, responses, chunked bodies both ways, the hijacked stream
 * and Docker's multiplexed frames. See http.h. Nothing static is mutable:
 * one connection per thread.
 *
 * Details beyond http.h:
 * - A timeout of 0 (idle_ms, c->timeout_ms) means 60 s, never "forever".
 *   The whole request header must arrive within c->timeout_ms of its first
 *   byte (a trickle does not extend it); each dapi_body_read call and each
 *   write waits at most c->timeout_ms.
 * - dapi_read_request: idle before any byte: negative, *status 0. On any
 *   failure *req is left empty (keep_alive false), so it can be passed to
 *   dapi_respond_error (which then says "Connection: close") and freed.
 *   "Expect: 100-continue" with a body is answered "100 Continue" at once.
 * - dapi_body_all's *status: 413 too long, 400 malformed, 408 timeout,
 *   500 out of memory, 0 the connection failed.
 * - dapi_respond: a HEAD request never gets a body (whatever head_only
 *   says); 1xx, 204 and 304 get neither body nor Content-Length.
 * - dapi_hijack without req->upgrade adds "Connection: close" (the stream
 *   ends with the connection). The response is written on its own: write
 *   the stream's first bytes after it returns, never together with it.
 * - dapi_mux_write splits data into frames of at most 1 MiB (clients
 *   allocate a frame's size at once); empty data writes nothing. */
#include "dockerapi/http.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include "proto/json.h"

#define CONN_BUF_START (8u << 10)
#define DEFAULT_TIMEOUT_MS 60000u
#define MAX_CHUNK_LINE 4096u		      /* chunk-size line with its extensions */
#define MAX_TRAILER_BYTES (16u << 10)	      /* all trailer lines of a chunked body */
#define MAX_BODY_SIZE ((uint64_t)1 << 62)     /* Content-Length or one chunk */
#define MUX_FRAME_MAX ((size_t)1 << 20)	      /* bytes per frame written */
#define BIG_BODY_SEPARATE ((size_t)64u << 10) /* larger bodies not copied after headers */

/* Internal results of the read helpers (negative errno-like). */
#define RD_TIMEOUT (-ETIMEDOUT)
#define RD_FULL (-ENOBUFS)

/* A timeout of 0 (c->timeout_ms, idle_ms) means the default, never "no
 * deadline": every wait here ends. */
static uint64_t ms_or_default(uint64_t ms)
{
	return ms ? ms : DEFAULT_TIMEOUT_MS;
}

/* Milliseconds left until deadline_ns for poll(): 0 when past. */
static int ms_left(uint64_t deadline_ns)
{
	uint64_t now = sbx_now_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999) / 1000000;
	return ms > 1000000000u ? 1000000000 : (int)ms;
}

/* Wait for events on c->fd until deadline_ns: 1 ready, 0 timeout, -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int ms = ms_left(deadline_ns);
		int r = poll(&p, 1, ms);
		if (r > 0)
			return 1;
		if (r == 0) {
			if (ms == 0 || ms_left(deadline_ns) == 0)
				return 0;
			continue;
		}
		if (errno != EINTR)
			return -errno;
	}
}

/* One read of at most len bytes into p within the deadline: count, 0 at
 * the end of the stream, RD_TIMEOUT or -errno. Never blocks past it. */
static ssize_t read_some(int fd, void *p, size_t len, uint64_t deadline_ns)
{
	for (;;) {
		int w = wait_fd(fd, POLLIN, deadline_ns);
		if (w == 0)
			return RD_TIMEOUT;
		if (w < 0)
			return w;
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = read(fd, p, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
	}
}

/* Read more into c's buffer (compacted, grown up to max_cap): count, 0 at
 * the end of the stream, RD_FULL, RD_TIMEOUT or -errno. */
static ssize_t conn_fill(dapi_conn *c, uint64_t deadline_ns, size_t max_cap)
{
	if (c->off == c->len) {
		c->off = c->len = 0;
	} else if (c->off > 0 && c->cap - c->len < c->cap / 4) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == c->cap) {
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		} else {
			if (c->cap >= max_cap)
				return RD_FULL;
			size_t ncap = c->cap * 2 > max_cap ? max_cap : c->cap * 2;
			char *nb = realloc(c->buf, ncap);
			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->cap = ncap;
		}
	}
	ssize_t n = read_some(c->fd, c->buf + c->len, c->cap - c->len, deadline_ns);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

int dapi_conn_init(dapi_conn *c, int fd, sbx_error *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	c->buf = malloc(CONN_BUF_START);
	if (!c->buf)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "http connection buffer");
	c->cap = CONN_BUF_START;
	return 0;
}

void dapi_conn_free(dapi_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->cap = c->off = c->len = 0;
}

void dapi_conn_take_buffered(dapi_conn *c, const char **data, size_t *len)
{
	*data = c->buf + c->off;
	*len = c->len - c->off;
	c->off = c->len = 0;
}

void dapi_req_free(dapi_req *req)
{
	free(req->target);
	free(req->path);
	free(req->query);
	for (size_t i = 0; i < req->n_hdrs; i++) {
		free(req->hdrs[i].name);
		free(req->hdrs[i].value);
	}
	free(req->hdrs);
	memset(req, 0, sizeof(*req));
	req->content_length = -1;
}

/* ---- Parsing --------------------------------------------------------- */

static bool is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) (plus: '+' is a space) into a new string: 0,
 * -SBX_E_INVALID (bad escape or %00), -SBX_E_SYSTEM (out of memory). */
static int pct_decode(const char *s, size_t n, bool plus, char **out)
{
	char *d = malloc(n + 1);
	if (!d)
		return -SBX_E_SYSTEM;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '%') {
			if (i + 2 >= n) {
				free(d);
				return -SBX_E_INVALID;
			}
			int hi = hexval((unsigned char)s[i + 1]);
			int lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(d);
				return -SBX_E_INVALID;
			}
			d[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+' && plus) {
			d[j++] = ' ';
		} else {
			d[j++] = (char)ch;
		}
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

/* Is token (case-insensitive) in the comma-separated list v? */
static bool list_has(const char *v, const char *token)
{
	size_t tl = strlen(token);
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

const char *dapi_header_get(const dapi_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_hdrs; i++)
		if (strcasecmp(req->hdrs[i].name, name) == 0)
			return req->hdrs[i].value;
	return NULL;
}

/* A failure of dapi_read_request: *status and err set, req emptied. */
static int req_fail(dapi_req *req, int *status, int st, sbx_error *err, sbx_errcode code,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int req_fail(dapi_req *req, int *status, int st, sbx_error *err, sbx_errcode code,
		    const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dapi_req_free(req);
	*status = st;
	return sbx_fail(err, code, "%s", msg);
}

/* "/v1.41/x" -> version "1.41", rest "/x". Returns the rest or NULL. */
static const char *strip_version(const char *p, char version[16])
{
	if (p[0] != '/' || p[1] != 'v')
		return NULL;
	const char *q = p + 2, *s = q;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == s || *q != '.')
		return NULL;
	q++;
	const char *m = q;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == m || (*q && *q != '/') || (size_t)(q - s) >= 16)
		return NULL;
	memcpy(version, s, (size_t)(q - s));
	version[q - s] = '\0';
	return q;
}

/* The request target into req->path, query, version: 0 or -SBX_E_*. */
static int parse_target(dapi_req *req)
{
	const char *t = req->target;
	if (strncasecmp(t, "http://", 7) == 0) { /* absolute-form */
		t = strchr(t + 7, '/');
		if (!t)
			t = "/";
	}
	if (t[0] != '/')
		return -SBX_E_INVALID;
	const char *qm = strchr(t, '?');
	size_t plen = qm ? (size_t)(qm - t) : strlen(t);
	req->query = strdup(qm ? qm + 1 : "");
	if (!req->query)
		return -SBX_E_SYSTEM;
	_cleanup_free_ char *dec = NULL;
	int r = pct_decode(t, plen, false, &dec);
	if (r < 0)
		return r;
	const char *rest = strip_version(dec, req->version);
	if (!rest)
		rest = dec;
	req->path = strdup(*rest ? rest : "/");
	return req->path ? 0 : -SBX_E_SYSTEM;
}

/* Where the header block ends in buf[0..n) (after its empty line), 0 if
 * not there yet; *scan: where to look from next time. */
static size_t find_header_end(const char *buf, size_t n, size_t *scan)
{
	size_t i = *scan;
	for (; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 >= n)
			break;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r') {
			if (i + 2 >= n)
				break;
			if (buf[i + 2] == '\n')
				return i + 3;
		}
	}
	*scan = i;
	return 0;
}

/* The next line of the header block: [*p, end) without "\r\n"/"\n". */
static bool next_line(const char **p, const char *end, const char **ls, size_t *ll)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		nl = end;
	*ls = *p;
	*ll = (size_t)(nl - *p);
	if (*ll && (*ls)[*ll - 1] == '\r')
		(*ll)--;
	*p = nl < end ? nl + 1 : end;
	return true;
}

static int parse_content_length(const char *v, int64_t *out)
{
	if (!*v)
		return -1;
	uint64_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > MAX_BODY_SIZE)
			return -1;
	}
	*out = (int64_t)n;
	return 0;
}

/* Parse the header block h[0..n) into req: 0, or a failure via req_fail. */
static int parse_header(dapi_req *req, const char *h, size_t n, int *status, sbx_error *err)
{
	const char *end = h + n, *p = h, *ls;
	size_t ll;
	if (memchr(h, '\0', n))
		return req_fail(req, status, 400, err, SBX_E_INVALID, "NUL byte in the request");

	/* Request line: METHOD SP target SP HTTP/x.y */
	if (!next_line(&p, end, &ls, &ll) || memchr(ls, '\r', ll))
		return req_fail(req, status, 400, err, SBX_E_INVALID, "malformed request line");
	const char *sp1 = memchr(ls, ' ', ll);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(ls + ll - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == ls || sp2 == sp1 + 1 ||
	    (size_t)(sp1 - ls) >= sizeof(req->method))
		return req_fail(req, status, 400, err, SBX_E_INVALID, "malformed request line");
	for (const char *q = ls; q < sp1; q++)
		if (!is_tchar((unsigned char)*q))
			return req_fail(req, status, 400, err, SBX_E_INVALID,
					"malformed request method");
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return req_fail(req, status, 400, err, SBX_E_INVALID,
					"malformed request target");
	const char *ver = sp2 + 1;
	size_t vl = (size_t)(ls + ll - ver);
	if (vl != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' || ver[5] > '9' ||
	    ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		return req_fail(req, status, 400, err, SBX_E_INVALID, "malformed HTTP version");
	if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
		return req_fail(req, status, 505, err, SBX_E_INVALID,
				"HTTP version %.8s not supported", ver);
	bool http11 = ver[7] == '1';
	memcpy(req->method, ls, (size_t)(sp1 - ls));
	req->method[sp1 - ls] = '\0';
	req->target = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (!req->target)
		return req_fail(req, status, 500, err, SBX_E_SYSTEM, "out of memory");

	/* Headers. */
	req->hdrs = calloc(DAPI_MAX_HEADERS, sizeof(*req->hdrs));
	if (!req->hdrs)
		return req_fail(req, status, 500, err, SBX_E_SYSTEM, "out of memory");
	while (next_line(&p, end, &ls, &ll)) {
		if (ll == 0)
			break; /* the empty line */
		if (ls[0] == ' ' || ls[0] == '\t')
			return req_fail(req, status, 400, err, SBX_E_INVALID,
					"folded header lines are not accepted");
		const char *colon = memchr(ls, ':', ll);
		if (!colon || colon == ls)
			return req_fail(req, status, 400, err, SBX_E_INVALID,
					"malformed header line");
		for (const char *q = ls; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return req_fail(req, status, 400, err, SBX_E_INVALID,
						"malformed header name");
		const char *v = colon + 1, *ve = ls + ll;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *q = v; q < ve; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
				return req_fail(req, status, 400, err, SBX_E_INVALID,
						"control character in header %.*s",
						(int)(colon - ls > 64 ? 64 : colon - ls), ls);
		if (req->n_hdrs == DAPI_MAX_HEADERS)
			return req_fail(req, status, 413, err, SBX_E_INVALID,
					"more than %d header lines", DAPI_MAX_HEADERS);
		dapi_header *hd = &req->hdrs[req->n_hdrs];
		hd->name = strndup(ls, (size_t)(colon - ls));
		hd->value = strndup(v, (size_t)(ve - v));
		req->n_hdrs++;
		if (!hd->name || !hd->value)
			return req_fail(req, status, 500, err, SBX_E_SYSTEM, "out of memory");
	}

	/* Framing and connection semantics. */
	bool has_cl = false, has_te = false, c_close = false, c_keep = false, c_upgrade = false;
	bool te_ok = true;
	int64_t cl = -1;
	const char *upgrade = NULL;
	for (size_t i = 0; i < req->n_hdrs; i++) {
		const char *name = req->hdrs[i].name, *val = req->hdrs[i].value;
		if (strcasecmp(name, "Content-Length") == 0) {
			int64_t n2;
			if (parse_content_length(val, &n2) < 0)
				return req_fail(req, status, 400, err, SBX_E_INVALID,
						"bad Content-Length");
			if (has_cl && n2 != cl)
				return req_fail(req, status, 400, err, SBX_E_INVALID,
						"conflicting Content-Length headers");
			has_cl = true;
			cl = n2;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (has_te || strcasecmp(val, "chunked") != 0)
				te_ok = false;
			has_te = true;
		} else if (strcasecmp(name, "Connection") == 0) {
			c_close |= list_has(val, "close");
			c_keep |= list_has(val, "keep-alive");
			c_upgrade |= list_has(val, "upgrade");
		} else if (strcasecmp(name, "Upgrade") == 0 && !upgrade) {
			upgrade = val;
		}
	}
	if (has_te && has_cl)
		return req_fail(req, status, 400, err, SBX_E_INVALID,
				"both Content-Length and Transfer-Encoding");
	if (has_te && !http11)
		return req_fail(req, status, 400, err, SBX_E_INVALID,
				"Transfer-Encoding in an HTTP/1.0 request");
	if (has_te && !te_ok)
		return req_fail(req, status, 501, err, SBX_E_INVALID,
				"unsupported Transfer-Encoding (only chunked)");
	req->chunked = has_te;
	req->content_length = cl;
	req->body_left = cl > 0 ? (uint64_t)cl : 0;
	req->body_done = !has_te && cl <= 0;
	req->keep_alive = !c_close && (http11 || c_keep);
	req->upgrade = c_upgrade && upgrade && list_has(upgrade, "tcp");

	int r = parse_target(req);
	if (r == -SBX_E_SYSTEM)
		return req_fail(req, status, 500, err, SBX_E_SYSTEM, "out of memory");
	if (r < 0)
		return req_fail(req, status, 400, err, SBX_E_INVALID,
				"malformed request path (bad percent escape or %%00)");
	return 0;
}

int dapi_read_request(dapi_conn *c, dapi_req *req, uint64_t idle_ms, int *status, sbx_error *err)
{
	memset(req, 0, sizeof(*req));
	req->content_length = -1;
	*status = 0;
	uint64_t idle_deadline = sbx_deadline_ns(sbx_now_ns(), ms_or_default(idle_ms));
	uint64_t deadline = 0; /* the whole header's, from its first byte */
	size_t scan = 0, hend = 0;
	for (;;) {
		/* Empty lines before a request line are ignored (RFC 9112 2.2). */
		while (c->off < c->len &&
		       (c->buf[c->off] == '\n' || (c->buf[c->off] == '\r' && c->off + 1 < c->len &&
						   c->buf[c->off + 1] == '\n'))) {
			c->off += c->buf[c->off] == '\n' ? 1 : 2;
			scan = 0;
		}
		size_t avail = c->len - c->off;
		if (avail && !deadline)
			deadline = sbx_deadline_ns(sbx_now_ns(), ms_or_default(c->timeout_ms));
		size_t look = avail > DAPI_MAX_HEADER_BYTES ? DAPI_MAX_HEADER_BYTES : avail;
		hend = find_header_end(c->buf + c->off, look, &scan);
		if (hend)
			break;
		if (avail >= DAPI_MAX_HEADER_BYTES)
			return req_fail(req, status, 413, err, SBX_E_INVALID,
					"request header larger than %u bytes",
					DAPI_MAX_HEADER_BYTES);
		ssize_t n =
		    conn_fill(c, deadline ? deadline : idle_deadline, DAPI_MAX_HEADER_BYTES + 1);
		if (n > 0)
			continue;
		if (n == 0) {
			if (c->len == c->off)
				return 1;
			return req_fail(req, status, 400, err, SBX_E_INVALID,
					"connection closed in the middle of the request header");
		}
		if (n == RD_TIMEOUT) {
			if (!deadline)
				return req_fail(req, status, 0, err, SBX_E_STATE,
						"connection idle too long");
			return req_fail(req, status, 408, err, SBX_E_STATE,
					"request header not received in time");
		}
		if (n == RD_FULL)
			return req_fail(req, status, 413, err, SBX_E_INVALID,
					"request header larger than %u bytes",
					DAPI_MAX_HEADER_BYTES);
		dapi_req_free(req);
		*status = 0;
		return sbx_fail_errno(err, SBX_E_SYSTEM, (int)-n, "read request");
	}
	/* The block is c->buf[c->off .. c->off + hend); what follows stays. */
	const char *h = c->buf + c->off;
	int r = parse_header(req, h, hend, status, err);
	c->off += hend;
	if (r < 0)
		return r;
	const char *expect = dapi_header_get(req, "Expect");
	if (expect && strcasecmp(expect, "100-continue") == 0 && !req->body_done) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (dapi_write_all(c, cont, sizeof(cont) - 1) < 0) {
			dapi_req_free(req);
			return sbx_fail(err, SBX_E_SYSTEM, "write 100 Continue failed");
		}
	}
	return 0;
}

/* ---- Query ------------------------------------------------------------ */

int dapi_query(const dapi_req *req, const char *key, char **val)
{
	*val = NULL;
	const char *p = req->query ? req->query : "";
	while (*p) {
		const char *e = strchr(p, '&');
		if (!e)
			e = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(e - p));
		const char *ke = eq ? eq : e;
		if (ke > p) {
			_cleanup_free_ char *k = NULL;
			if (pct_decode(p, (size_t)(ke - p), true, &k) == -SBX_E_SYSTEM)
				return -SBX_E_SYSTEM;
			if (k && strcmp(k, key) == 0) {
				if (!eq) {
					*val = strdup("");
					return *val ? 1 : -SBX_E_SYSTEM;
				}
				int r = pct_decode(eq + 1, (size_t)(e - eq - 1), true, val);
				return r < 0 ? r : 1;
			}
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

bool dapi_query_bool(const dapi_req *req, const char *key, bool def)
{
	_cleanup_free_ char *v = NULL;
	if (dapi_query(req, key, &v) != 1)
		return def;
	/* moby's httputils.BoolValue: trimmed, case-insensitive; these are
	 * false and anything else is true. */
	const char *s = v;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	static const char *const no[] = {"", "0", "no", "false", "none"};
	for (size_t i = 0; i < ARRAY_LEN(no); i++)
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
			return false;
	return true;
}

/* ---- Body ------------------------------------------------------------- */

static int body_io_fail(ssize_t n, sbx_error *err)
{
	if (n == 0)
		return sbx_fail(err, SBX_E_SYSTEM, "connection closed in the middle of the body");
	if (n == RD_TIMEOUT)
		return sbx_fail(err, SBX_E_STATE, "request body not received in time");
	if (n == RD_FULL)
		return sbx_fail(err, SBX_E_INVALID, "chunked body line too long");
	return sbx_fail_errno(err, SBX_E_SYSTEM, (int)-n, "read request body");
}

/* One line (chunk size or trailer) at c->off: its length without the line
 * end in *ll and the line's total in *adv, reading more as needed. */
static int body_line(dapi_conn *c, uint64_t deadline, size_t max, size_t *ll, size_t *adv,
		     sbx_error *err)
{
	for (;;) {
		size_t avail = c->len - c->off;
		const char *s = c->buf + c->off;
		const char *nl = memchr(s, '\n', avail > max + 2 ? max + 2 : avail);
		if (nl) {
			*adv = (size_t)(nl - s) + 1;
			*ll = (size_t)(nl - s);
			if (*ll && s[*ll - 1] == '\r')
				(*ll)--;
			if (*ll > max)
				return sbx_fail(err, SBX_E_INVALID, "chunked body line too long");
			return 0;
		}
		if (avail > max + 1)
			return sbx_fail(err, SBX_E_INVALID, "chunked body line too long");
		ssize_t n = conn_fill(c, deadline, DAPI_MAX_HEADER_BYTES);
		if (n <= 0)
			return body_io_fail(n, err);
	}
}

/* The next chunk's size line (or the last chunk and the trailers). */
static int chunk_header(dapi_conn *c, dapi_req *req, uint64_t deadline, sbx_error *err)
{
	size_t ll, adv;
	int r = body_line(c, deadline, MAX_CHUNK_LINE, &ll, &adv, err);
	if (r < 0)
		return r;
	const char *s = c->buf + c->off;
	uint64_t size = 0;
	size_t i = 0;
	for (; i < ll && hexval((unsigned char)s[i]) >= 0; i++) {
		if (size > MAX_BODY_SIZE >> 4)
			return sbx_fail(err, SBX_E_INVALID, "chunk too large");
		size = size * 16 + (uint64_t)hexval((unsigned char)s[i]);
		if (size > MAX_BODY_SIZE)
			return sbx_fail(err, SBX_E_INVALID, "chunk too large");
	}
	if (i == 0)
		return sbx_fail(err, SBX_E_INVALID, "malformed chunk size");
	while (i < ll && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < ll && s[i] != ';')
		return sbx_fail(err, SBX_E_INVALID, "malformed chunk size");
	for (; i < ll; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return sbx_fail(err, SBX_E_INVALID, "control character in chunk extension");
	c->off += adv;
	if (size > 0) {
		req->body_left = size + 2; /* the data, then its "\r\n" */
		return 0;
	}
	/* The last chunk: trailer lines until an empty one, all skipped. */
	size_t total = 0;
	for (;;) {
		r = body_line(c, deadline, MAX_CHUNK_LINE, &ll, &adv, err);
		if (r < 0)
			return r;
		c->off += adv;
		if (ll == 0)
			break;
		total += adv;
		if (total > MAX_TRAILER_BYTES)
			return sbx_fail(err, SBX_E_INVALID, "chunked body trailers too large");
	}
	req->body_left = 0;
	req->body_done = true;
	return 0;
}

/* The "\r\n" after a chunk's data (body_left is 2 or 1; bare "\n" too). */
static int chunk_crlf(dapi_conn *c, dapi_req *req, uint64_t deadline, sbx_error *err)
{
	while (req->body_left > 0) {
		if (c->off == c->len) {
			ssize_t n = conn_fill(c, deadline, DAPI_MAX_HEADER_BYTES);
			if (n <= 0)
				return body_io_fail(n, err);
		}
		char ch = c->buf[c->off];
		if (req->body_left == 2 && ch == '\r') {
			req->body_left = 1;
		} else if (ch == '\n') {
			req->body_left = 0;
		} else {
			return sbx_fail(err, SBX_E_INVALID,
					"chunk data not followed by a line end");
		}
		c->off++;
	}
	return 0;
}

ssize_t dapi_body_read(dapi_conn *c, dapi_req *req, void *buf, size_t cap, sbx_error *err)
{
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), ms_or_default(c->timeout_ms));
	for (;;) {
		if (req->body_done || cap == 0)
			return 0;
		uint64_t data_left = req->body_left;
		if (req->chunked) {
			if (req->body_left > 0 && req->body_left <= 2) {
				int r = chunk_crlf(c, req, deadline, err);
				if (r < 0)
					return r;
			}
			if (req->body_left == 0) {
				int r = chunk_header(c, req, deadline, err);
				if (r < 0)
					return r;
				continue;
			}
			data_left = req->body_left - 2;
		}
		size_t want = data_left < cap ? (size_t)data_left : cap;
		size_t got;
		if (c->off < c->len) {
			got = c->len - c->off < want ? c->len - c->off : want;
			memcpy(buf, c->buf + c->off, got);
			c->off += got;
		} else {
			ssize_t n = read_some(c->fd, buf, want, deadline);
			if (n <= 0)
				return body_io_fail(n, err);
			got = (size_t)n;
		}
		req->body_left -= got;
		if (!req->chunked && req->body_left == 0)
			req->body_done = true;
		return (ssize_t)got;
	}
}

static int body_status(int r)
{
	if (r == -SBX_E_INVALID)
		return 400;
	if (r == -SBX_E_STATE)
		return 408;
	return 0;
}

int dapi_body_all(dapi_conn *c, dapi_req *req, size_t max, sbx_buf *out, int *status,
		  sbx_error *err)
{
	*status = 0;
	if (!req->chunked && req->content_length > 0 && (uint64_t)req->content_length > max) {
		*status = 413;
		return sbx_fail(err, SBX_E_INVALID, "request body larger than %zu bytes", max);
	}
	/* NUL-terminated even when empty. */
	if (!out->data) {
		if (sbx_buf_append(out, "", 1) < 0)
			goto oom;
		out->len = 0;
	}
	size_t start = out->len;
	char tmp[16384];
	for (;;) {
		ssize_t n = dapi_body_read(c, req, tmp, sizeof(tmp), err);
		if (n < 0) {
			*status = body_status((int)n);
			return (int)n;
		}
		if (n == 0)
			return 0;
		if (out->len - start + (size_t)n > max) {
			*status = 413;
			return sbx_fail(err, SBX_E_INVALID, "request body larger than %zu bytes",
					max);
		}
		if (sbx_buf_append(out, tmp, (size_t)n) < 0)
			goto oom;
	}
oom:
	*status = 500;
	return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "request body");
}

int dapi_body_discard(dapi_conn *c, dapi_req *req, size_t max, sbx_error *err)
{
	char tmp[16384];
	size_t total = 0;
	for (;;) {
		ssize_t n = dapi_body_read(c, req, tmp, sizeof(tmp), err);
		if (n <= 0)
			return (int)n;
		total += (size_t)n;
		if (total > max)
			return sbx_fail(err, SBX_E_INVALID, "request body larger than %zu bytes",
					max);
	}
}

/* ---- Writing ---------------------------------------------------------- */

static int writev_all(dapi_conn *c, struct iovec *iov, int iovcnt)
{
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), ms_or_default(c->timeout_ms));
	while (iovcnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			iovcnt--;
			continue;
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = writev(c->fd, iov, iovcnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			int w = wait_fd(c->fd, POLLOUT, deadline);
			if (w <= 0)
				return -1;
			continue;
		}
		size_t left = (size_t)n;
		while (iovcnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

int dapi_write_all(dapi_conn *c, const void *data, size_t len)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	return writev_all(c, &iov, 1);
}

const char *dapi_status_text(int status)
{
	static const struct {
		int code;
		const char *text;
	} texts[] = {
	    {100, "Continue"},
	    {101, "Switching Protocols"},
	    {200, "OK"},
	    {201, "Created"},
	    {202, "Accepted"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {304, "Not Modified"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {406, "Not Acceptable"},
	    {408, "Request Timeout"},
	    {409, "Conflict"},
	    {410, "Gone"},
	    {411, "Length Required"},
	    {412, "Precondition Failed"},
	    {413, "Request Entity Too Large"},
	    {414, "Request URI Too Long"},
	    {415, "Unsupported Media Type"},
	    {416, "Requested Range Not Satisfiable"},
	    {417, "Expectation Failed"},
	    {422, "Unprocessable Entity"},
	    {426, "Upgrade Required"},
	    {429, "Too Many Requests"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	    {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		if (texts[i].code == status)
			return texts[i].text;
	return "Unknown";
}

static bool is_head(const dapi_req *req)
{
	return req && strcmp(req->method, "HEAD") == 0;
}

/* Status line (text: the reason phrase) and the headers every response
 * has; the caller adds its own and the empty line. */
static void head_start(sbx_buf *b, int status, const char *text, const char *ctype)
{
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	if (!gmtime_r(&now, &tm) || !strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		date[0] = '\0';
	sbx_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, text);
	if (ctype)
		sbx_buf_printf(b, "Content-Type: %s\r\n", ctype);
	sbx_buf_puts(b, "Api-Version: 1.41\r\n"
			"Docker-Experimental: false\r\n"
			"Ostype: linux\r\n"
			"Server: sbx/" SBX_VERSION " (linux)\r\n");
	if (date[0])
		sbx_buf_printf(b, "Date: %s\r\n", date);
}

static void head_connection(sbx_buf *b, const dapi_req *req)
{
	if (!req || !req->keep_alive) {
		sbx_buf_puts(b, "Connection: close\r\n");
		return;
	}
	/* An HTTP/1.0 client keeps the connection only when told so. */
	const char *conn = dapi_header_get(req, "Connection");
	if (conn && list_has(conn, "keep-alive"))
		sbx_buf_puts(b, "Connection: keep-alive\r\n");
}

int dapi_respond(dapi_conn *c, const dapi_req *req, int status, const char *ctype,
		 const char *extra, const void *body, size_t len, bool head_only)
{
	_cleanup_buf_ sbx_buf b = {0};
	bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
	head_only = head_only || is_head(req) || no_body;
	head_start(&b, status, dapi_status_text(status), no_body ? NULL : ctype);
	if (extra)
		sbx_buf_puts(&b, extra);
	if (!no_body)
		sbx_buf_printf(&b, "Content-Length: %zu\r\n", len);
	head_connection(&b, req);
	sbx_buf_puts(&b, "\r\n");
	if (!head_only && len && len <= BIG_BODY_SEPARATE) {
		sbx_buf_append(&b, body, len);
		len = 0;
	}
	if (b.oom)
		return -1;
	struct iovec iov[2] = {{.iov_base = b.data, .iov_len = b.len},
			       {.iov_base = (void *)body, .iov_len = head_only ? 0 : len}};
	return writev_all(c, iov, 2);
}

int dapi_respond_json(dapi_conn *c, const dapi_req *req, int status, const sbx_buf *b)
{
	return dapi_respond(c, req, status, "application/json", NULL, b->data ? b->data : "",
			    b->len, false);
}

int dapi_respond_error(dapi_conn *c, const dapi_req *req, int status, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL;
		return -1;
	}
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(&b, "{\"message\":");
	sbx_json_string(&b, msg, (size_t)n);
	sbx_buf_puts(&b, "}\n");
	if (b.oom)
		return -1;
	return dapi_respond_json(c, req, status, &b);
}

int dapi_respond_empty(dapi_conn *c, const dapi_req *req, int status)
{
	return dapi_respond(c, req, status, NULL, NULL, NULL, 0, true);
}

int dapi_chunked_begin(dapi_conn *c, const dapi_req *req, int status, const char *ctype,
		       const char *extra)
{
	_cleanup_buf_ sbx_buf b = {0};
	head_start(&b, status, dapi_status_text(status), ctype);
	if (extra)
		sbx_buf_puts(&b, extra);
	sbx_buf_puts(&b, "Transfer-Encoding: chunked\r\n");
	head_connection(&b, req);
	sbx_buf_puts(&b, "\r\n");
	if (b.oom)
		return -1;
	return dapi_write_all(c, b.data, b.len);
}

int dapi_chunk(dapi_conn *c, const void *data, size_t len)
{
	if (len == 0)
		return 0; /* an empty chunk would end the body */
	char size[32];
	int n = snprintf(size, sizeof(size), "%zx\r\n", len);
	struct iovec iov[3] = {{.iov_base = size, .iov_len = (size_t)n},
			       {.iov_base = (void *)data, .iov_len = len},
			       {.iov_base = (void *)"\r\n", .iov_len = 2}};
	return writev_all(c, iov, 3);
}

int dapi_chunked_end(dapi_conn *c)
{
	return dapi_write_all(c, "0\r\n\r\n", 5);
}

int dapi_hijack(dapi_conn *c, const dapi_req *req, bool tty)
{
	const char *ctype =
	    tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream";
	_cleanup_buf_ sbx_buf b = {0};
	if (req && req->upgrade) {
		head_start(&b, 101, "UPGRADED", ctype);
		sbx_buf_puts(&b, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
	} else {
		/* No length: the stream ends when the connection closes. */
		head_start(&b, 200, "OK", ctype);
		sbx_buf_puts(&b, "Connection: close\r\n");
	}
	sbx_buf_puts(&b, "\r\n");
	if (b.oom)
		return -1;
	return dapi_write_all(c, b.data, b.len);
}

int dapi_mux_write(dapi_conn *c, int stream, const void *data, size_t len)
{
	if (stream < 0 || stream > 2)
		return -1;
	const char *p = data;
	if (len == 0)
		return 0; /* an empty frame says nothing */
	do {
		size_t n = len > MUX_FRAME_MAX ? MUX_FRAME_MAX : len;
		unsigned char hdr[8] = {(unsigned char)stream,
					0,
					0,
					0,
					(unsigned char)(n >> 24),
					(unsigned char)(n >> 16),
					(unsigned char)(n >> 8),
					(unsigned char)n};
		struct iovec iov[2] = {{.iov_base = hdr, .iov_len = 8},
				       {.iov_base = (void *)p, .iov_len = n}};
		if (writev_all(c, iov, 2) < 0)
			return -1;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}
