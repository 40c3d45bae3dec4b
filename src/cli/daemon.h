/* `sbx pool serve`: a warm pool served on a Unix socket, with a versioned
 * JSON-lines protocol (docs/protocol.md) that any language can speak. */
#ifndef SBX_DAEMON_H
#define SBX_DAEMON_H

#include "sbx.h"

#define SBX_PROTO_VERSION 1
/* What one request may ask for (docs/protocol.md, "Limits"). Each is
 * checked before the work it would cost, and answered with an error. */
#define SBX_DAEMON_MAX_LINE (16u << 20)	   /* bytes of one request line */
#define SBX_DAEMON_MAX_VALUES 65536u	   /* JSON values in one request */
#define SBX_DAEMON_MAX_ENTRIES 4096u	   /* argv, env, args: entries each */
#define SBX_DAEMON_MAX_ENTRY (128u << 10)  /* bytes of one argv/env/args entry */
#define SBX_DAEMON_MAX_ARGBYTES (1u << 20) /* argv + env + args + cwd bytes */
#define SBX_DAEMON_MAX_SOURCE (8u << 20)   /* bytes of a python source */

/* Listen on a socket at path (mode 0600, or 0660 and owned by group when
 * group is not NULL); a live daemon there is an error, a stale socket file
 * is replaced. Returns the fd or negative with err. */
int sbx_daemon_listen(const char *path, const char *group, sbx_error *err);

/* Serve p on lfd until stop_fd becomes readable; then cancel requests in
 * flight, stop the pool and wait for every connection to end, so the pool
 * can be destroyed. Closes lfd and removes the socket at path. */
int sbx_daemon_serve(sbx_pool *p, int lfd, const char *path, int stop_fd, sbx_error *err);

/* One request line to the daemon at path; the response line (malloc'd,
 * without the newline) in *resp. Gives up with SBX_DAEMON_READER_GONE
 * (sys_errno EPIPE) if stdout is a pipe whose reader went away. */
#define SBX_DAEMON_READER_GONE "the reader of the output went away"
int sbx_daemon_call(const char *path, const char *req, size_t len, char **resp, sbx_error *err);

#endif
