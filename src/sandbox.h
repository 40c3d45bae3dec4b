/* The handle behind the public sbx_sandbox type. */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include "store.h"

struct sbx_sandbox {
	sbx_paths p;
};

/* Connect to a running sandbox's control socket (SOCK_SEQPACKET). */
int sbx_sandbox_connect(sbx_sandbox *sb, sbx_error *err);

#endif
