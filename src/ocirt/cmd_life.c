/* `start`, `kill`, `delete`: a container's state changes. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "ocirt/container.h"
#include "ocirt/spec.h"

int sbx_oci_cmd_start(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	int first;
	int r = sbx_oci_opts("start", argc, argv, NULL, 0, &first, err);
	if (r < 0 || (r = sbx_oci_need_args("start", argc, argv, first, 1, "ID", err)) < 0)
		return r;
	sbx_oci_state st;
	r = sbx_oci_state_load(c->root, argv[first], &st, err);
	if (r < 0)
		return r;
	r = sbx_oci_container_start(&st, err);
	sbx_oci_state_clear(&st);
	return r < 0 ? r : 0;
}

int sbx_oci_cmd_kill(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	bool all = false;
	const sbx_oci_opt opts[] = {{"all", 'a', SBX_OCI_OPT_FLAG, &all}};
	int first;
	int r = sbx_oci_opts("kill", argc, argv, opts, ARRAY_LEN(opts), &first, err);
	if (r < 0)
		return r;
	int n = argc - first;
	if (n < 1 || n > 2)
		return sbx_oci_need_args("kill", argc, argv, first, n < 1 ? 1 : 2,
					 "[--all] ID [SIGNAL]", err);
	int sig = SIGTERM;
	if (n == 2 && (sig = sbx_oci_signal_from_name(argv[first + 1])) <= 0)
		return sbx_fail(err, SBX_E_INVALID, "kill: unknown signal '%.32s'",
				argv[first + 1]);
	sbx_oci_state st;
	r = sbx_oci_state_load(c->root, argv[first], &st, err);
	if (r < 0)
		return r;
	sbx_oci_status s = sbx_oci_state_status(&st);
	if (s == SBX_OCI_STOPPED && !all)
		r = sbx_fail(err, SBX_E_STATE, "container %s is not running", st.id);
	else if (all)
		r = sbx_oci_cg_signal(&st.cg, sig, err);
	else
		r = sbx_oci_container_signal(&st, sig, err);
	sbx_oci_state_clear(&st);
	return r < 0 ? r : 0;
}

int sbx_oci_cmd_delete(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	bool force = false;
	const sbx_oci_opt opts[] = {{"force", 'f', SBX_OCI_OPT_FLAG, &force}};
	int first;
	int r = sbx_oci_opts("delete", argc, argv, opts, ARRAY_LEN(opts), &first, err);
	if (r < 0 ||
	    (r = sbx_oci_need_args("delete", argc, argv, first, 1, "[--force] ID", err)) < 0)
		return r;
	sbx_oci_state st;
	r = sbx_oci_state_load(c->root, argv[first], &st, err);
	if (r == -SBX_E_NOTFOUND && force)
		return 0; /* as runc: nothing to delete is not an error with --force */
	if (r < 0)
		return r;
	sbx_oci_status s = sbx_oci_state_status(&st);
	/* runtime-spec: deleting a container that is not stopped is an error
	 * (runc deletes a created one; the validation suite checks the spec). */
	if ((s == SBX_OCI_RUNNING || s == SBX_OCI_CREATED) && !force)
		r = sbx_fail(err, SBX_E_STATE,
			     "cannot delete container %s that is not stopped: %s (use --force)",
			     st.id, sbx_oci_status_name(s));
	else
		r = sbx_oci_container_destroy(&st, err);
	sbx_oci_state_clear(&st);
	return r < 0 ? r : 0;
}
