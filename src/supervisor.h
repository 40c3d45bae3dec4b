/* The supervisor of a long-lived sandbox: a detached host process that
 * owns the sandbox's cgroups and removes them, with the runtime state,
 * however the sandbox ends (stop, idle timeout, crash). */
#ifndef SBX_SUPERVISOR_H
#define SBX_SUPERVISOR_H

#include "store.h"

/* Start the sandbox described by c; returns once it serves requests (0)
 * or failed (negative, err set, nothing left behind). */
int sbx_supervisor_spawn(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err);

#endif
