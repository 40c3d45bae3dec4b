/* The docker and podman drivers: one sbx_driver value per engine, the same
 * code behind both (oci_*.c), told apart by the driver's name, which is
 * the engine's. A sandbox's container is "sbx-<sb->name>": a named
 * sandbox's own name, or "pool-<pid>-<n>" for owned ones. */
#include <stdio.h>

#include "base/util.h"
#include "drivers/driver.h"
#include "drivers/oci.h"

static const char *engine(const sbx_sandbox *sb)
{
	return sb->drv->name;
}

static int oci_run(const sbx_driver *d, const sbx_config *cfg, sbx_result *res, sbx_error *err)
{
	return sbx_oci_run(d->name, cfg, res, err);
}

static int oci_create(sbx_sandbox *sb, sbx_error *err)
{
	return sbx_oci_create(engine(sb), sb->name, sb->conf, err);
}

static int oci_start(sbx_sandbox *sb, sbx_error *err)
{
	return sbx_oci_start(engine(sb), sb->name, err);
}

static int oci_stop(sbx_sandbox *sb, sbx_error *err)
{
	return sbx_oci_stop(engine(sb), sb->name, err);
}

static int oci_destroy(sbx_sandbox *sb, sbx_error *err)
{
	return sbx_oci_destroy(engine(sb), sb->name, err);
}

static bool oci_is_running(sbx_sandbox *sb)
{
	return sbx_oci_is_running(engine(sb), sb->name);
}

static void oci_info(sbx_sandbox *sb, sbx_sandbox_info *info)
{
	info->state = oci_is_running(sb) ? SBX_RUNNING : SBX_STOPPED;
}

static int oci_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err)
{
	return sbx_oci_exec(engine(sb), sb->name, sb->conf, o, res, err);
}

static int oci_read_file(sbx_sandbox *sb, const char *path, uint64_t max, char **data, size_t *len,
			 sbx_error *err)
{
	return sbx_oci_read_file(engine(sb), sb->name, path, max, data, len, err);
}

static int oci_write_file(sbx_sandbox *sb, const char *path, const void *data, size_t len,
			  uint64_t max, sbx_error *err)
{
	return sbx_oci_write_file(engine(sb), sb->name, path, data, len, max, err);
}

/* A container made ahead; scripts run in a fresh python3 (the engines
 * cannot pass fds to a pre-started interpreter), so python is ignored. */
static int oci_owned_create(sbx_sandbox *sb, bool python, const char *preload, sbx_error *err)
{
	static unsigned counter;
	snprintf(sb->name, sizeof(sb->name), "pool-%d-%u", (int)getpid(),
		 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	return sbx_oci_create(engine(sb), sb->name, sb->conf, err);
}

/* Asking an engine costs a process: containers are trusted to live (a
 * dead one fails its request with a clear error). */
static bool oci_owned_dead(sbx_sandbox *sb)
{
	return false;
}

static void oci_owned_destroy(sbx_sandbox *sb)
{
	sbx_oci_destroy(engine(sb), sb->name, NULL);
}

static int oci_sweep(const sbx_driver *d)
{
	return sbx_oci_sweep(d->name);
}

static int oci_health(const sbx_driver *d, const sbx_config *cfg, sbx_health_line line, void *ctx)
{
	const char *image = cfg->image ? cfg->image : SBX_OCI_DEFAULT_IMAGE;
	sbx_error e = {0};
	if (sbx_oci_health(d->name, image, &e) < 0) {
		line(ctx, false, true, d->name, e.msg);
		return 1;
	}
	char detail[512];
	snprintf(detail, sizeof(detail), "%s reachable, image %s present", d->name, image);
	line(ctx, true, true, d->name, detail);
	return 0;
}

#define OCI_DRIVER(engine_name)                                                                    \
	{                                                                                          \
		.name = engine_name, .needs_root = false, .run = oci_run, .create = oci_create,    \
		.start = oci_start, .stop = oci_stop, .destroy = oci_destroy, .info = oci_info,    \
		.is_running = oci_is_running, .exec = oci_exec, .read_file = oci_read_file,        \
		.write_file = oci_write_file, .python = NULL, .owned_create = oci_owned_create,    \
		.owned_activate = NULL, .owned_dead = oci_owned_dead,                              \
		.owned_destroy = oci_owned_destroy, .owned_keep = NULL, .sweep = oci_sweep,        \
		.health = oci_health,                                                              \
	}

const sbx_driver sbx_driver_docker = OCI_DRIVER("docker");
const sbx_driver sbx_driver_podman = OCI_DRIVER("podman");
