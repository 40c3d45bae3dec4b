/* Anonymous sandboxes owned by this process: the warm pool's, and the
 * one-shot Python runs'. */
#ifndef SBX_POOLED_H
#define SBX_POOLED_H

#include "drivers/sandbox.h"

/* Start a long-lived sandbox from conf (which must outlive it), owned by
 * this process. With python, also start the pre-started interpreter
 * (importing the comma-separated preload modules) and wait until it is
 * ready. */
int sbx_pooled_create(const sbx_sbconf *conf, bool python, const char *preload, sbx_sandbox **out,
		      sbx_error *err);

/* Handed out: full CPU weight from now on. */
void sbx_pooled_activate(sbx_sandbox *sb);

/* Did its init die (checked without blocking)? */
bool sbx_pooled_dead(const sbx_sandbox *sb);

/* Kill it, remove its cgroups, free the handle. */
void sbx_pooled_destroy(sbx_sandbox *sb);

/* Start the interpreter in sb (pooled) now. */
int sbx_pyrun_prewarm(sbx_sandbox *sb, const char *preload, sbx_error *err);

#endif
