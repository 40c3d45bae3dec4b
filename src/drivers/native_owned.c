/* native driver: sandboxes owned by this process (a pool's, a one-shot
 * Python run's): server-mode sandboxes whose init is our child, reached
 * over its control socket, never in the store until kept by name. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "drivers/native.h"
#include "drivers/native_supervisor.h"

static void owned_free(sbx_native_owned **pd)
{
	if (!*pd)
		return;
	if ((*pd)->zy) {
		sbx_native_forked_destroy(*pd);
		*pd = NULL;
		return;
	}
	sbx_closep(&(*pd)->py_chan);
	sbx_closep(&(*pd)->py_conn);
	/* Closing the control socket ends a server-mode init by itself; the
	 * release kills and reaps it and removes its cgroups. */
	sbx_launcher_release(&(*pd)->ln);
	free(*pd);
	*pd = NULL;
}

int sbx_native_owned_create(sbx_sandbox *sb, bool python, const char *preload, sbx_error *err)
{
	_cleanup_(owned_free) sbx_native_owned *pd = calloc(1, sizeof(*pd));
	if (!pd)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	pd->py_chan = pd->py_conn = -1;
	sbx_launcher_init(&pd->ln);
	sb->priv = pd;
	int r = sbx_launcher_start(&pd->ln, &sb->conf->cfg, true, 0, err);
	/* Warming (Python's start-up) must not take CPU from sandboxes at
	 * work: lowest weight until handed out (sbx_native_owned_activate). */
	if (r == 0)
		sbx_cgroup_set_weight(&pd->ln.cg, true);
	if (r == 0)
		r = sbx_launcher_wait_ready(&pd->ln, err);
	if (r == 0 && python)
		r = sbx_native_prewarm(sb, preload, err);
	if (r < 0) {
		sb->priv = NULL;
		return r;
	}
	pd = NULL; /* sb->priv has it */
	return 0;
}

void sbx_native_owned_destroy(sbx_sandbox *sb)
{
	sbx_native_owned *pd = sb->priv;
	owned_free(&pd);
	sb->priv = NULL;
}

int sbx_native_owned_keep(sbx_sandbox *sb, const sbx_paths *p, pid_t *reap, sbx_error *err)
{
	sbx_native_owned *pd = sb->priv;
	if (pd->zy)
		return sbx_fail(err, SBX_E_INVALID,
				"a pre-forked pool sandbox cannot be kept by name (start the pool "
				"with --fresh)");
	/* Its warm interpreter is not part of a named sandbox. */
	sbx_closep(&pd->py_chan);
	sbx_closep(&pd->py_conn);
	int r = sbx_supervisor_adopt(p, &pd->ln, err);
	if (r < 0)
		return r;
	/* The new supervisor owns it; its init stays our child, to reap. */
	*reap = pd->ln.pid;
	sbx_launcher_forget(&pd->ln);
	free(pd);
	sb->priv = NULL;
	return 0;
}
