/* An exec request's options against a sandbox's saved configuration. */
#include <string.h>

#include "base/env.h"
#include "base/parse.h"
#include "base/util.h"
#include "state/exec.h"

SBX_API void sbx_exec_opts_init(sbx_exec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 30000;
	o->output_limit = 100 << 10;
	o->stdin_fd = o->stdout_fd = o->stderr_fd = o->cancel_fd = o->signal_fd = -1;
	o->stop_timeout_ms = 10000;
}

int sbx_exec_opts_check(const sbx_exec_opts *o, bool need_argv, sbx_error *err)
{
	if (need_argv && (!o->argv || !o->argv[0] || !o->argv[0][0]))
		return sbx_fail(err, SBX_E_INVALID, "no command given");
	if (o->cwd && sbx_valid_inside_path(o->cwd, NULL) < 0)
		return sbx_fail(err, SBX_E_PATH,
				"invalid working directory %s: must be absolute, without . or ..",
				o->cwd);
	for (size_t i = 0; i < o->n_env; i++)
		if (sbx_parse_env(o->env[i], NULL) < 0)
			return sbx_fail(err, SBX_E_INVALID, "invalid environment entry: %s",
					o->env[i]);
	return 0;
}

char **sbx_sandbox_env(const sbx_sbconf *c, const sbx_exec_opts *o)
{
	_cleanup_free_ const char **all = calloc(c->n_env + o->n_env + 1, sizeof(char *));
	if (!all)
		return NULL;
	for (size_t i = 0; i < c->n_env; i++)
		all[i] = c->env[i];
	for (size_t i = 0; i < o->n_env; i++)
		all[c->n_env + i] = o->env[i];
	return sbx_env_build(c->hostname[0] ? c->hostname : "sandbox", all, c->n_env + o->n_env);
}
