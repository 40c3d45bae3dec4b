/* `sbx pool serve`: a warm pool served on a Unix socket, with a versioned
 * JSON-lines protocol (docs/protocol.md) that any language can speak. */
#ifndef SBX_DAEMON_H
#define SBX_DAEMON_H

#include "sbx.h"

#define SBX_PROTO_VERSION 1
#define SBX_DAEMON_MAX_LINE (16u << 20)

/* Serve p on a socket at path (mode 0600, or 0660 and owned by group when
 * group is not NULL) until stop_fd becomes readable. Returns 0, or negative
 * with err. The pool is not destroyed here. */
int sbx_daemon_serve(sbx_pool *p, const char *path, const char *group, int stop_fd, sbx_error *err);

/* One request line to the daemon at path; the response line (malloc'd,
 * without the newline) in *resp. */
int sbx_daemon_call(const char *path, const char *req, size_t len, char **resp, sbx_error *err);

#endif
