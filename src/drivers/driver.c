/* The table of drivers, and what every driver's sandboxes share. A new
 * driver is one file defining its sbx_driver value, plus one line below. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "drivers/driver.h"

extern const sbx_driver sbx_driver_native; /* native.c */
extern const sbx_driver sbx_driver_docker; /* oci_driver.c */
extern const sbx_driver sbx_driver_podman; /* oci_driver.c */

/* The first one is the default. */
static const sbx_driver *const drivers[] = {
    &sbx_driver_native,
    &sbx_driver_docker,
    &sbx_driver_podman,
};

const sbx_driver *sbx_driver_at(size_t i)
{
	return i < ARRAY_LEN(drivers) ? drivers[i] : NULL;
}

void sbx_driver_names(char *buf, size_t cap)
{
	size_t n = ARRAY_LEN(drivers), used = 0;
	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < n && used < cap; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int k = snprintf(buf + used, cap - used, "%s%s", sep, drivers[i]->name);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

const sbx_driver *sbx_driver_by_name(const char *name, sbx_error *err)
{
	if (!name)
		return drivers[0];
	for (size_t i = 0; i < ARRAY_LEN(drivers); i++)
		if (!strcmp(name, drivers[i]->name))
			return drivers[i];
	char names[128];
	sbx_driver_names(names, sizeof(names));
	sbx_fail(err, SBX_E_INVALID, "unknown driver '%s' (%s)", name, names);
	return NULL;
}

static void handle_free(sbx_sandbox **sb)
{
	free(*sb);
	*sb = NULL;
}

/* A new owned handle on d made by make (owned_create or owned_fork). */
static int owned_new(const sbx_driver *d, const sbx_sbconf *conf, sbx_sandbox **out,
		     int (*make)(sbx_sandbox *sb, const void *arg, sbx_error *err), const void *arg,
		     sbx_error *err)
{
	*out = NULL;
	_cleanup_(handle_free) sbx_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	sb->drv = d;
	sb->conf = conf;
	sb->born_ns = sbx_now_ns();
	int r = make(sb, arg, err);
	if (r < 0)
		return r;
	*out = sb;
	sb = NULL;
	return 0;
}

typedef struct create_arg {
	bool python;
	const char *preload;
} create_arg;

static int make_created(sbx_sandbox *sb, const void *arg, sbx_error *err)
{
	const create_arg *a = arg;
	return sb->drv->owned_create(sb, a->python, a->preload, err);
}

static int make_forked(sbx_sandbox *sb, const void *arg, sbx_error *err)
{
	return sb->drv->owned_fork((sbx_zygote *)arg, sb, err);
}

int sbx_owned_create(const sbx_driver *d, const sbx_sbconf *conf, bool python, const char *preload,
		     sbx_sandbox **out, sbx_error *err)
{
	create_arg a = {python, preload};
	return owned_new(d, conf, out, make_created, &a, err);
}

int sbx_owned_fork(const sbx_driver *d, sbx_zygote *z, const sbx_sbconf *conf, sbx_sandbox **out,
		   sbx_error *err)
{
	return owned_new(d, conf, out, make_forked, z, err);
}

void sbx_owned_activate(sbx_sandbox *sb)
{
	if (sb->drv->owned_activate)
		sb->drv->owned_activate(sb);
}

void sbx_owned_destroy(sbx_sandbox *sb)
{
	if (!sb)
		return;
	sb->drv->owned_destroy(sb);
	free(sb);
}
