/* docker/podman driver: long-lived sandboxes' containers — create, stop,
 * start, destroy, is_running.
 *
 * The container "sbx-<name>" runs an init (--init) with an idle `sleep
 * infinity` under it; commands are exec'd into it (oci_exec.c). The init
 * reaps orphans of exec'd commands, so they never pile up as zombies
 * against the pids limit. Stop and start keep the container, its
 * workspace and (as native) lose /tmp, a tmpfs. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "drivers/oci_int.h"

/* Engine calls that change a container's state: at most this long. */
#define LIFECYCLE_TIMEOUT_MS 120000

static bool says_in_use(const char *s)
{
	return s && strstr(s, "already in use");
}

/* After a failed call on container cname: the best explanation. */
static int explain(const char *engine, const char *name, const char *cname, const char *what,
		   const sbx_oci_out *o, sbx_error *err)
{
	char line[400];
	sbx_oci_first_line(o->err.data, o->err.len, line, sizeof(line));
	if (o->timed_out)
		return sbx_fail(err, SBX_E_SYSTEM, "%s %s %s: no answer within %ds", engine, what,
				cname, LIFECYCLE_TIMEOUT_MS / 1000);
	int st = sbx_oci_state(engine, cname);
	if (st == -1)
		return sbx_fail(err, SBX_E_NOTFOUND, "%s: no container %s for sandbox %s", engine,
				cname, name);
	if (st == -2)
		return sbx_oci_diagnose(engine, NULL, what, line, err);
	return sbx_fail(err, SBX_E_SETUP, "%s %s %s failed: %s", engine, what, cname,
			line[0] ? line : "no message");
}

/* ENGINE VERB cname, with the engine's global flags. */
static int verb(const char *engine, const char *name, const char *const *verb_args, sbx_oci_out *o,
		char *cname, size_t cap, sbx_error *err)
{
	memset(o, 0, sizeof(*o));
	int r = sbx_oci_check_engine(engine, err);
	if (r == 0)
		r = sbx_oci_cname(name, cname, cap, err);
	if (r < 0)
		return r;
	const char *args[8];
	size_t n = 0;
	for (; verb_args[n] && n < ARRAY_LEN(args) - 2; n++)
		args[n] = verb_args[n];
	args[n++] = cname;
	args[n] = NULL;
	return sbx_oci_simple(engine, args, LIFECYCLE_TIMEOUT_MS, o, err);
}

int sbx_oci_create(const char *engine, const char *name, const sbx_sbconf *c, sbx_error *err)
{
	char cname[96], ws[PATH_MAX];
	sbx_oci_host h;
	int r = sbx_oci_check_engine(engine, err);
	if (r == 0)
		r = sbx_oci_cname(name, cname, sizeof(cname), err);
	if (r == 0)
		r = sbx_config_validate(&c->cfg, false, err);
	if (r == 0)
		r = sbx_oci_host_for(engine, &c->cfg, &h, ws, sizeof(ws), err);
	if (r < 0)
		return r;
	sbx_strv a = {0};
	if (sbx_oci_args_run(&a, engine, &c->cfg, &h, cname, true) < 0) {
		sbx_strv_free(&a);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	sbx_oci_out o;
	r = sbx_oci_cmd(engine, a.v, -1, 4096, LIFECYCLE_TIMEOUT_MS, &o, err);
	sbx_strv_free(&a);
	if (r < 0)
		return r;
	if (o.code != 0 || o.timed_out) {
		char line[400];
		sbx_oci_first_line(o.err.data, o.err.len, line, sizeof(line));
		if (says_in_use(o.err.data)) {
			/* Someone else's (or a stale) container: never remove it. */
			r = sbx_fail(err, SBX_E_EXISTS,
				     "%s: container %s already exists (remove it: %s rm -f %s)",
				     engine, cname, engine, cname);
		} else {
			r = o.timed_out
				? sbx_fail(err, SBX_E_SYSTEM, "%s run %s: no answer within %ds",
					   engine, cname, LIFECYCLE_TIMEOUT_MS / 1000)
				: sbx_oci_diagnose(
				      engine, c->cfg.image ? c->cfg.image : SBX_OCI_DEFAULT_IMAGE,
				      "run", line, err);
			/* A half-created container must not stay behind. */
			sbx_oci_remove(engine, &h, cname);
		}
	}
	sbx_oci_out_free(&o);
	return r;
}

int sbx_oci_stop(const char *engine, const char *name, sbx_error *err)
{
	/* SIGTERM to the init (it passes it on), SIGKILL after 1 s. */
	static const char *const args[] = {"stop", "-t", "1", NULL};
	char cname[96];
	sbx_oci_out o;
	int r = verb(engine, name, args, &o, cname, sizeof(cname), err);
	if (r == 0 && (o.code != 0 || o.timed_out))
		r = explain(engine, name, cname, "stop", &o, err);
	sbx_oci_out_free(&o);
	return r;
}

int sbx_oci_start(const char *engine, const char *name, sbx_error *err)
{
	static const char *const args[] = {"start", NULL};
	char cname[96];
	sbx_oci_out o;
	int r = verb(engine, name, args, &o, cname, sizeof(cname), err);
	if (r == 0 && (o.code != 0 || o.timed_out))
		r = explain(engine, name, cname, "start", &o, err);
	sbx_oci_out_free(&o);
	return r;
}

int sbx_oci_destroy(const char *engine, const char *name, sbx_error *err)
{
	static const char *const args[] = {"rm", "-f", NULL};
	char cname[96];
	sbx_oci_out o;
	int r = verb(engine, name, args, &o, cname, sizeof(cname), err);
	if (r == 0 && (o.code != 0 || o.timed_out)) {
		/* Idempotent: a container that is already gone is success. */
		if (sbx_oci_state(engine, cname) != -1)
			r = explain(engine, name, cname, "rm", &o, err);
	}
	sbx_oci_out_free(&o);
	return r;
}

bool sbx_oci_is_running(const char *engine, const char *name)
{
	char cname[96];
	if (sbx_oci_check_engine(engine, NULL) < 0 ||
	    sbx_oci_cname(name, cname, sizeof(cname), NULL) < 0)
		return false;
	return sbx_oci_state(engine, cname) == 1;
}
