/* Handlers of a long-lived sandbox's requests, run inside the sandbox in
 * a child of its init. They never return. */
#ifndef SBX_SERVER_H
#define SBX_SERVER_H

#include <stddef.h>
#include "core/launch.h"

_Noreturn void sbx_serve_exec(const sbx_launch *l, int conn, const char *req, size_t n, int *fds,
			      int nfds);
_Noreturn void sbx_serve_file(const sbx_launch *l, int conn, const char *req, size_t n);

#endif
