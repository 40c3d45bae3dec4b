/* The config's hooks: each run on the host with the container's state JSON
 * on its stdin, its own args and env, and a deadline. */
#ifndef SBX_OCIRT_HOOKS_H
#define SBX_OCIRT_HOOKS_H

#include "ocirt/spec.h"

/* Default deadline of a hook without "timeout". */
#define SBX_OCI_HOOK_DEFAULT_S 30

/* Run n hooks in order; the first that fails (exit status not 0, killed,
 * or past its timeout: then SIGKILLed) stops the rest: -SBX_E_SETUP with
 * err ("prestart hook /path: exit status 1" / "timed out after 2 s").
 * state_json is written to each one's stdin (a hook that does not read it
 * does not block us). The hook's stdout/stderr are ours. */
int sbx_oci_hooks_run(const char *kind, const sbx_oci_hook *hooks, size_t n, const char *state_json,
		      sbx_error *err);

#endif
