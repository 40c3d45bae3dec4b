/* Anonymous sandboxes owned by this process. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/util.h"
#include "drivers/oci.h"
#include "pool/pooled.h"

int sbx_pooled_create(const sbx_sbconf *conf, bool python, const char *preload, sbx_sandbox **out,
		      sbx_error *err)
{
	sbx_sandbox *sb = calloc(1, sizeof(*sb));
	sbx_pooled *pd = calloc(1, sizeof(*pd));
	if (!sb || !pd) {
		free(sb);
		free(pd);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	sb->pooled = pd;
	pd->conf = conf;
	pd->py_chan = pd->py_conn = -1;
	pd->born_ns = sbx_now_ns();
	sbx_launcher_init(&pd->ln);
	if (conf->driver[0]) {
		/* docker/podman: a container made ahead; scripts run in a
		 * fresh python3 (the engines cannot pass fds to a runner). */
		static unsigned counter;
		snprintf(pd->oci_engine, sizeof(pd->oci_engine), "%s", conf->driver);
		snprintf(pd->oci_name, sizeof(pd->oci_name), "pool-%d-%u", (int)getpid(),
			 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
		int r = sbx_oci_create(pd->oci_engine, pd->oci_name, conf, err);
		if (r < 0) {
			free(pd);
			free(sb);
			return r;
		}
		*out = sb;
		return 0;
	}
	int r = sbx_launcher_start(&pd->ln, &conf->cfg, true, 0, err);
	/* Warming (Python's start-up) must not take CPU from sandboxes at
	 * work: lowest weight until handed out (sbx_pooled_activate). */
	if (r == 0)
		sbx_cgroup_set_weight(&pd->ln.cg, true);
	if (r == 0)
		r = sbx_launcher_wait_ready(&pd->ln, err);
	if (r == 0 && python)
		r = sbx_pyrun_prewarm(sb, preload, err);
	if (r < 0) {
		sbx_pooled_destroy(sb);
		return r;
	}
	*out = sb;
	return 0;
}

void sbx_pooled_activate(sbx_sandbox *sb)
{
	if (!sb->pooled->oci_engine[0])
		sbx_cgroup_set_weight(&sb->pooled->ln.cg, false);
}

bool sbx_pooled_dead(const sbx_sandbox *sb)
{
	/* Asking an engine costs a process: containers are trusted to live
	 * (a dead one fails its request with a clear error). */
	if (sb->pooled->oci_engine[0])
		return false;
	struct pollfd pf = {sb->pooled->ln.pidfd, POLLIN, 0};
	if (pf.fd < 0 || poll(&pf, 1, 0) != 0)
		return true;
	/* The interpreter may have died while the sandbox lives on. */
	if (sb->pooled->py_conn >= 0) {
		struct pollfd pc = {sb->pooled->py_conn, POLLIN, 0};
		if (poll(&pc, 1, 0) != 0)
			return true;
	}
	return false;
}

void sbx_pooled_destroy(sbx_sandbox *sb)
{
	if (!sb)
		return;
	sbx_pooled *pd = sb->pooled;
	if (pd->oci_engine[0])
		sbx_oci_destroy(pd->oci_engine, pd->oci_name, NULL);
	sbx_closep(&pd->py_chan);
	sbx_closep(&pd->py_conn);
	/* Closing the control socket ends a server-mode init by itself; the
	 * release kills and reaps it and removes its cgroups. */
	sbx_launcher_release(&pd->ln);
	free(pd);
	free(sb);
}
