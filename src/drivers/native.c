/* The native driver: sandboxes made by this library itself (namespaces,
 * cgroups, seccomp; see native.h for its files). */
#include "core/cgroup.h"
#include "drivers/native.h"

/* Pre-forked sandboxes have no exec server: their runner execs the
 * command (native_python.c). */
static int native_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err)
{
	sbx_native_owned *pd = sb->paths ? NULL : sb->priv;
	if (pd && pd->zy)
		return sbx_native_forked_exec(sb, o, res, err);
	return sbx_native_exec(sb, o, res, err);
}

static int native_sweep(const sbx_driver *d)
{
	return sbx_cgroup_sweep();
}

const sbx_driver sbx_driver_native = {
    .name = "native",
    .needs_root = true,
    .run = sbx_native_run,
    .create = sbx_native_create,
    .start = sbx_native_start,
    .stop = sbx_native_stop,
    .destroy = sbx_native_stop, /* the store's directory is all that is left */
    .info = sbx_native_info,
    .is_running = sbx_native_is_running,
    .exec = native_exec,
    .read_file = sbx_native_read_file,
    .write_file = sbx_native_write_file,
    .python = sbx_native_python,
    .owned_create = sbx_native_owned_create,
    .owned_activate = sbx_native_owned_activate,
    .owned_stop = sbx_native_owned_stop,
    .owned_dead = sbx_native_owned_dead,
    .owned_alive = sbx_native_owned_alive,
    .owned_destroy = sbx_native_owned_destroy,
    .owned_keep = sbx_native_owned_keep,
    .zygote_new = sbx_native_zygote_new,
    .owned_fork = sbx_native_owned_fork,
    .zygote_info = sbx_native_zygote_info,
    .zygote_free = sbx_native_zygote_free,
    .sweep = native_sweep,
    .health = sbx_native_health,
};
