/* Dropping privileges: capabilities, securebits, no_new_privs, rlimits. */
#ifndef SBX_PRIVS_H
#define SBX_PRIVS_H

#include <sys/capability.h>
#include <sys/resource.h>
#include "sbx.h"

typedef struct sbx_privs {
	cap_t empty;  /* an empty capability set (shared, never freed) */
	int last_cap; /* highest capability the kernel knows */
	struct rlimit nofile, core, fsize;
} sbx_privs;

/* Parent side: compute everything the child needs (may allocate). */
int sbx_privs_prepare(sbx_privs *p, const sbx_config *cfg, sbx_error *err);

/* Child side, async-signal-safe (no allocation): 0, or -SBX_E_SETUP with
 * err naming the step ("securebits: <strerror>"); callers add context. */
int sbx_privs_drop_all(const sbx_privs *p, sbx_error *err); /* securebits, bounding, ambient,
							       caps, nnp */
int sbx_rlimits_apply(const sbx_privs *p, sbx_error *err);

#endif
