/* Running Python scripts: sbx_sandbox_python and sbx_run_python. A driver
 * with its own way (the native one's pre-started interpreter) does it;
 * for the others the script is written into the sandbox's /tmp and run
 * with python3. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "drivers/driver.h"

SBX_API void sbx_python_opts_init(sbx_python_opts *o)
{
	memset(o, 0, sizeof(*o));
	sbx_exec_opts_init(&o->exec);
}

/* The generic way: the script as a file in /tmp (tracebacks show that
 * path), run by a fresh python3. */
static int python_by_file(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res,
			  sbx_error *err)
{
	const char *fn = o->filename ? strrchr(o->filename, '/') : NULL;
	fn = fn ? fn + 1 : o->filename && strcmp(o->filename, "-") ? o->filename : "stdin.py";
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/tmp/%s", fn);
	int r = sbx_sandbox_write_file(sb, path, o->source ? o->source : "", o->source_len, 0, err);
	if (r < 0)
		return r;
	size_t n = 0;
	while (o->args && o->args[n])
		n++;
	_cleanup_free_ const char **argv = calloc(n + 3, sizeof(char *));
	if (!argv)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	argv[0] = "python3";
	argv[1] = path;
	for (size_t i = 0; i < n; i++)
		argv[2 + i] = o->args[i];
	sbx_exec_opts eo = o->exec;
	eo.argv = argv;
	return sbx_sandbox_exec(sb, &eo, res, err);
}

SBX_API int sbx_sandbox_python(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res,
			       sbx_error *err)
{
	memset(res, 0, sizeof(*res));
	if (o->exec.cwd && o->exec.cwd[0] != '/')
		return sbx_fail(err, SBX_E_PATH, "invalid working directory %s", o->exec.cwd);
	/* Only owned (pool) sandboxes may hold an interpreter. */
	if (sb->paths)
		return sbx_fail(err, SBX_E_STATE,
				"python runs need a pool sandbox (or sbx_run_python)");
	if (sb->drv->python)
		return sb->drv->python(sb, o, res, err);
	return python_by_file(sb, o, res, err);
}

SBX_API int sbx_run_python(const sbx_config *cfg, const sbx_python_opts *o, sbx_result *res,
			   sbx_error *err)
{
	memset(res, 0, sizeof(*res));
	const sbx_driver *d = sbx_driver_by_name(cfg->driver, err);
	if (!d)
		return -SBX_E_INVALID;
	sbx_sbconf conf;
	int r = sbx_sbconf_from(&conf, cfg, err);
	sbx_sandbox *sb = NULL;
	if (r == 0)
		r = sbx_owned_create(d, &conf, true, NULL, &sb, err);
	if (r == 0) {
		sbx_owned_activate(sb);
		sbx_python_opts po = *o;
		if (!po.exec.timeout_ms && cfg->timeout_ms)
			po.exec.timeout_ms = cfg->timeout_ms;
		r = sbx_sandbox_python(sb, &po, res, err);
	}
	sbx_owned_destroy(sb);
	sbx_sbconf_free(&conf);
	return r;
}
