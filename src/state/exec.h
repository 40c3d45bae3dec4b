/* An exec request's options against a sandbox's saved configuration:
 * shared by every driver (below them, so no driver depends on another). */
#ifndef SBX_STATE_EXEC_H
#define SBX_STATE_EXEC_H

#include <stdbool.h>
#include "base/env.h"
#include "sbx.h"
#include "state/store.h"

/* Command (when need_argv), cwd and env of an exec request. */
int sbx_exec_opts_check(const sbx_exec_opts *o, bool need_argv, sbx_error *err);

/* The sandbox's environment (base + c's entries) with o's entries on top;
 * NULL-terminated, malloc'd (sbx_env_free), NULL on ENOMEM. */
char **sbx_sandbox_env(const sbx_sbconf *c, const sbx_exec_opts *o);

/* For _cleanup_(sbx_envp_free) char **env. */
static inline void sbx_envp_free(char ***env)
{
	sbx_env_free(*env);
	*env = NULL;
}

#endif
