/* The docker and podman drivers: the same sandbox semantics through the
 * engines' command-line clients. `engine` is "docker" or "podman". Named
 * sandboxes are containers called "sbx-<name>"; their config lives in the
 * same store as native ones (src/store.h), with cfg.driver/cfg.image set.
 * Results, exit statuses, output caps, UTF-8 handling and errors follow
 * the native runtime exactly (see sbx_run in include/sbx.h). */
#ifndef SBX_OCI_H
#define SBX_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include "sbx.h"
#include "state/store.h"

#define SBX_OCI_DEFAULT_IMAGE "sbx-python:latest"

/* Is the engine usable? 0, or negative with one line in err (binary
 * missing, daemon or service unreachable, image missing). */
int sbx_oci_health(const char *engine, const char *image, sbx_error *err);

/* Can the engine give cfg's network (pure)? --allow cannot be enforced by
 * the engines, and their --dns takes no port: SBX_E_INVALID with one line
 * naming the option, else 0. A --publish or --dns that cannot be split into
 * what the engine takes is refused likewise (their syntax is
 * sbx_config_validate's to check). Called by run and create, and by pools
 * before their first sandbox. */
int sbx_oci_net_check(const char *engine, const sbx_config *cfg, sbx_error *err);

/* One-shot: `ENGINE run --rm` with cfg's limits, network none (or loopback
 * only), workspace, env, cwd, hostname, stdin, timeout (kills the
 * container, exit 124), output caps. */
int sbx_oci_run(const char *engine, const sbx_config *cfg, sbx_result *res, sbx_error *err);

/* Long-lived: the container "sbx-<name>" started from c->cfg (kept running
 * with an idle process), exec/read/write inside it, stop/start keep it and
 * its workspace, destroy removes it (idempotent, best effort). */
int sbx_oci_create(const char *engine, const char *name, const sbx_sbconf *c, sbx_error *err);
int sbx_oci_exec(const char *engine, const char *name, const sbx_sbconf *c, const sbx_exec_opts *o,
		 sbx_result *res, sbx_error *err);
int sbx_oci_read_file(const char *engine, const char *name, const char *path, uint64_t max,
		      char **data, size_t *len, sbx_error *err);
int sbx_oci_write_file(const char *engine, const char *name, const char *path, const void *data,
		       size_t len, uint64_t max, sbx_error *err);
int sbx_oci_stop(const char *engine, const char *name, sbx_error *err);
int sbx_oci_start(const char *engine, const char *name, sbx_error *err);
int sbx_oci_destroy(const char *engine, const char *name, sbx_error *err);
bool sbx_oci_is_running(const char *engine, const char *name);

/* Remove containers left by killed sbx processes (one-shot and pool ones
 * whose creator is gone). Returns how many. */
int sbx_oci_sweep(const char *engine);

#endif
