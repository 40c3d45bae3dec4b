/* HTTP/1.1 on one connection of the Docker Engine API server: requests
 * read with limits and deadlines, responses (plain, JSON, chunked), the
 * hijacked "Upgrade: tcp" stream and Docker's 8-byte multiplexed frames.
 *
 * The client is trusted no more than any other input: header and body
 * sizes are capped, every read and write has a deadline, and a malformed
 * request is answered 400 and the connection closed. Thread-safe (one
 * connection per thread; nothing static). */
#ifndef SBX_DAPI_HTTP_H
#define SBX_DAPI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/util.h"

#define DAPI_MAX_HEADER_BYTES (64u << 10) /* request line + headers */
#define DAPI_MAX_HEADERS 100

typedef struct dapi_header {
	char *name; /* as sent; compare with strcasecmp */
	char *value;
} dapi_header;

typedef struct dapi_req {
	char method[16];
	char *target;	  /* as sent: "/v1.41/containers/json?all=1" */
	char *path;	  /* percent-decoded, version prefix removed: "/containers/json" */
	char *query;	  /* raw query after '?', "" if none (decode with dapi_query) */
	char version[16]; /* "1.41" from a "/v1.41" prefix, "" if none */
	dapi_header *hdrs;
	size_t n_hdrs;
	int64_t content_length; /* -1: none */
	bool chunked;		/* Transfer-Encoding: chunked */
	bool keep_alive;	/* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
	bool upgrade;		/* "Upgrade: tcp" with "Connection: Upgrade" (a hijack) */
	/* body reading state (dapi_body_read) */
	uint64_t body_left; /* bytes left of the body or of the current chunk */
	bool body_done;
} dapi_req;

/* One client connection and the bytes read past the current request. */
typedef struct dapi_conn {
	int fd;
	char *buf;	      /* read buffer */
	size_t cap, off, len; /* unread bytes: buf[off..len) */
	uint64_t timeout_ms;  /* each read/write of a request or response: default 60000 */
} dapi_conn;

/* conn on fd (not owned; the caller closes it). */
int dapi_conn_init(dapi_conn *c, int fd, sbx_error *err);
void dapi_conn_free(dapi_conn *c);

/* Read the next request's line and headers: 0 and *req filled (free with
 * dapi_req_free), 1 when the client closed the connection cleanly before a
 * new request, or negative with err and *status the HTTP status to answer
 * (400 malformed, 413 header too large, 408 timeout, 501 unsupported
 * transfer encoding, 0 nothing to answer: the connection failed).
 * idle_ms bounds the wait for the first byte (keep-alive), c->timeout_ms
 * the rest. */
int dapi_read_request(dapi_conn *c, dapi_req *req, uint64_t idle_ms, int *status, sbx_error *err);
void dapi_req_free(dapi_req *req);

/* The first header called name (case-insensitive), NULL if none. */
const char *dapi_header_get(const dapi_req *req, const char *name);
/* Query parameter key, percent- and '+'-decoded, malloc'd into *val:
 * 1 found, 0 absent, negative on bad encoding / out of memory. */
int dapi_query(const dapi_req *req, const char *key, char **val);
/* A boolean query parameter as Docker reads them: "1", "true", "True"
 * are true; absent: def. */
bool dapi_query_bool(const dapi_req *req, const char *key, bool def);

/* Read up to cap bytes of the body (Content-Length or chunked, decoded);
 * returns the count, 0 at the end of the body, negative with err on a
 * malformed body, a timeout or a closed connection. */
ssize_t dapi_body_read(dapi_conn *c, dapi_req *req, void *buf, size_t cap, sbx_error *err);
/* The whole body into *out (NUL-terminated; empty if none): 0, or
 * negative with *status 413 when it is longer than max, 400 malformed. */
int dapi_body_all(dapi_conn *c, dapi_req *req, size_t max, sbx_buf *out, int *status,
		  sbx_error *err);
/* Read and drop what is left of the body (bounded by max bytes). */
int dapi_body_discard(dapi_conn *c, dapi_req *req, size_t max, sbx_error *err);

/* Write all of data to the connection within c->timeout_ms: 0 or -1. */
int dapi_write_all(dapi_conn *c, const void *data, size_t len);

/* A whole response. extra: more header lines, each ending in "\r\n"
 * (may be NULL). Adds Server, Api-Version, Date, Content-Length and
 * Connection headers. head_only: no body (HEAD). 0 or -1. */
int dapi_respond(dapi_conn *c, const dapi_req *req, int status, const char *ctype,
		 const char *extra, const void *body, size_t len, bool head_only);
/* application/json response of b's bytes. */
int dapi_respond_json(dapi_conn *c, const dapi_req *req, int status, const sbx_buf *b);
/* Docker's error shape: {"message":"..."} with status. */
int dapi_respond_error(dapi_conn *c, const dapi_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 204 No Content. */
int dapi_respond_empty(dapi_conn *c, const dapi_req *req, int status);

/* A chunked response: headers now, then chunks, then the end. */
int dapi_chunked_begin(dapi_conn *c, const dapi_req *req, int status, const char *ctype,
		       const char *extra);
int dapi_chunk(dapi_conn *c, const void *data, size_t len);
int dapi_chunked_end(dapi_conn *c);

/* Take over the connection as a raw stream (attach, exec start): with
 * req->upgrade "101 UPGRADED" + "Connection: Upgrade" + "Upgrade: tcp",
 * else "200 OK" without length (the stream ends when the connection
 * closes); Content-Type application/vnd.docker.raw-stream (tty) or
 * application/vnd.docker.multiplexed-stream. Bytes already read past
 * the request (stdin the client sent early) stay in c's buffer:
 * dapi_conn_take_buffered. 0 or -1. */
int dapi_hijack(dapi_conn *c, const dapi_req *req, bool tty);
/* The unread bytes in c's buffer (then consumed): *data points into c. */
void dapi_conn_take_buffered(dapi_conn *c, const char **data, size_t *len);

/* One frame of the multiplexed stream: header {stream, 0, 0, 0, size
 * big-endian u32} then data; stream 0 stdin, 1 stdout, 2 stderr. 0 or -1. */
int dapi_mux_write(dapi_conn *c, int stream, const void *data, size_t len);

/* Reason phrase of an HTTP status ("Not Found"). */
const char *dapi_status_text(int status);

#endif
