/* Dropping privileges: capabilities, securebits, no_new_privs, rlimits. */
#ifndef SBX_PRIVS_H
#define SBX_PRIVS_H

#include <sys/capability.h>
#include <sys/resource.h>
#include "sbx.h"

typedef struct sbx_privs {
	cap_t empty;  /* an empty capability set (shared, never freed) */
	cap_t ns_set; /* the command's: SBX_WORKLOAD_CAPS permitted+effective */
	int last_cap; /* highest capability the kernel knows */
	struct rlimit nofile, core, fsize;
} sbx_privs;

/* Parent side: compute everything the child needs (may allocate). */
int sbx_privs_prepare(sbx_privs *p, const sbx_config *cfg, sbx_error *err);

/* Child side, async-signal-safe (no allocation): 0, or -SBX_E_SETUP with
 * err naming the step ("securebits: <strerror>"); callers add context. */
int sbx_privs_drop_all(const sbx_privs *p, sbx_error *err); /* securebits, bounding, ambient,
							       caps, nnp */
/* The command's privileges: as sbx_privs_drop_all, but root inside keeps
 * the capabilities that act only on the sandbox's own ids and objects
 * (SBX_WORKLOAD_CAPS: chown, setuid/setgid/setgroups, file ownership
 * overrides, kill, low ports) in its bounding, permitted and effective
 * sets, with the usual root semantics: execve as root keeps them, a switch
 * to another uid drops them. docs/security.md explains the choice. */
int sbx_privs_drop_to_workload(const sbx_privs *p, sbx_error *err);

int sbx_rlimits_apply(const sbx_privs *p, sbx_error *err);

/* What sbx_privs_drop_to_workload sets, for a process that does it itself
 * (a zygote's child): the kept capabilities as a bit mask, the securebits. */
uint64_t sbx_privs_workload_mask(void);
unsigned sbx_privs_workload_secbits(void);

#endif
