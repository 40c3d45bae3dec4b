/* The supervisor of a long-lived sandbox: a detached host process that
 * owns the sandbox's cgroups and removes them, with the runtime state,
 * however the sandbox ends (stop, idle timeout, crash). */
#ifndef SBX_SUPERVISOR_H
#define SBX_SUPERVISOR_H

#include "core/launcher.h"
#include "state/store.h"

/* Start the sandbox described by c; returns once it serves requests (0)
 * or failed (negative, err set, nothing left behind). */
int sbx_supervisor_spawn(const sbx_paths *p, const sbx_sbconf *c, sbx_error *err);

/* Hand a running server-mode sandbox owned by this process to a new
 * detached supervisor for the named sandbox p (whose config must be saved).
 * On success the caller must forget s with sbx_launcher_forget (not release
 * it) and reap the init when it exits (it stays our child). */
int sbx_supervisor_adopt(const sbx_paths *p, sbx_launcher *s, sbx_error *err);

#endif
