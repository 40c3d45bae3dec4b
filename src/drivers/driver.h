/* The driver interface: what runs sandboxes (the native runtime, docker,
 * podman, ...) behind the public API. The API (src/api/) and the pool
 * (src/pool/) choose a driver once, with sbx_driver_by_name, and from then
 * on only call through it; nothing above src/drivers/ knows which driver
 * it talks to.
 *
 * A sandbox handle (struct sbx_sandbox, the public sbx_sandbox) holds its
 * driver, its configuration (loaded once, when the handle is made) and the
 * driver's private state. There are two kinds of sandbox:
 *   named  long-lived, in the store (sb->paths set): create, open, start,
 *          stop, destroy; any process may reach it.
 *   owned  anonymous, owned by this process (sb->paths NULL): made ahead by
 *          a pool, or for one sbx_run_python; destroyed with its owner.
 * How a driver reaches either kind is its own business (sb->priv).
 *
 * Every operation follows the error convention of base/util.h. Operations
 * marked optional may be NULL. */
#ifndef SBX_DRIVER_H
#define SBX_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include "sbx.h"
#include "state/store.h"

typedef struct sbx_driver sbx_driver;
typedef struct sbx_zygote sbx_zygote; /* a driver's pre-forking state */

struct sbx_sandbox {
	const sbx_driver *drv;
	const sbx_sbconf *conf; /* its configuration: &stored, or its owner's template */
	sbx_sbconf stored;	/* named: loaded from the store once per handle */
	sbx_paths *paths;	/* named: its paths in the store; NULL: owned */
	char name[72];		/* named: its name; owned: an id the driver may set */
	sbx_pool *pool;		/* owned by a pool: that pool, else NULL */
	uint64_t born_ns;	/* owned: when it was made (for recycling) */
	void *priv;		/* the driver's state */
	uint64_t io_timeout_ms; /* read/write bound: 0 default, UINT64_MAX none */
};

/* The sandbox as error messages name it. */
static inline const char *sbx_sandbox_label(const sbx_sandbox *sb)
{
	return sb->paths ? sb->name : "the pool sandbox";
}

/* One line of `sbx check`: what was checked, whether it is fine, and
 * whether sbx needs it (a failed required check fails the whole check). */
typedef void (*sbx_health_line)(void *ctx, bool ok, bool required, const char *what,
				const char *detail);

struct sbx_driver {
	const char *name; /* as given to --driver and stored in a sandbox's config */
	/* Making sandboxes takes root in this process (namespaces, cgroups),
	 * rather than in a service the driver talks to. */
	bool needs_root;

	/* ---- one-shot (sbx_run) ----------------------------------------------
	 * cfg->argv in a fresh sandbox from start to finish; *res is zeroed. */
	int (*run)(const sbx_driver *d, const sbx_config *cfg, sbx_result *res, sbx_error *err);

	/* ---- named sandboxes (the caller holds the store's lock) ---------------
	 * create: make and start it from sb->conf, already saved in the store;
	 *         on failure leave nothing of the driver's behind (the caller
	 *         removes the store's directory).
	 * start/stop: idempotent; stop keeps what start needs.
	 * destroy: stop it and remove the driver's resources (idempotent); the
	 *         caller then removes the store's directory. */
	int (*create)(sbx_sandbox *sb, sbx_error *err);
	int (*start)(sbx_sandbox *sb, sbx_error *err);
	int (*stop)(sbx_sandbox *sb, sbx_error *err);
	int (*destroy)(sbx_sandbox *sb, sbx_error *err);
	/* Runtime part of sbx_sandbox_info: state, and when running pid,
	 * started and usage (the caller filled the rest from sb->conf).
	 * Native: an owned sandbox too (state and usage, from its cgroups). */
	void (*info)(sbx_sandbox *sb, sbx_sandbox_info *info);

	/* ---- any sandbox ------------------------------------------------------- */
	bool (*is_running)(sbx_sandbox *sb);
	/* o is checked (sbx_exec_opts_check); *res is zeroed. */
	int (*exec)(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err);
	/* path non-empty, max > 0 (the caller applies the default). */
	int (*read_file)(sbx_sandbox *sb, const char *path, uint64_t max, char **data, size_t *len,
			 sbx_error *err);
	/* len <= max (checked by the caller). */
	int (*write_file)(sbx_sandbox *sb, const char *path, const void *data, size_t len,
			  uint64_t max, sbx_error *err);
	/* Optional: run a Python script in an owned sandbox (the caller checked
	 * the cwd). NULL: the script is written to /tmp and run with python3
	 * through write_file and exec. */
	int (*python)(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res, sbx_error *err);

	/* ---- owned sandboxes (pools, sbx_run_python) ---------------------------
	 * owned_create: make sb (drv, conf set; conf outlives sb) ready to use;
	 *         python: also get an interpreter ready when the driver can
	 *         (preload: comma-separated modules to import ahead). On failure
	 *         nothing is left and sb->priv is NULL.
	 * owned_activate (optional): it is handed out now (e.g. full CPU weight).
	 * owned_dead: did it die while idle? Must not block.
	 * owned_destroy: kill it, remove everything, free sb->priv.
	 * owned_keep (optional; NULL: not supported): hand it over to be the
	 *         named sandbox at p (its config already saved); on success
	 *         sb->priv is freed and *reap is a child pid the owner must
	 *         reap when it exits (0: none). */
	int (*owned_create)(sbx_sandbox *sb, bool python, const char *preload, sbx_error *err);
	void (*owned_activate)(sbx_sandbox *sb);
	/* Optional: its holder is done with it: stop what runs in it now,
	 * without blocking (owned_destroy follows, in the pool's thread). */
	void (*owned_stop)(sbx_sandbox *sb);
	bool (*owned_dead)(sbx_sandbox *sb);
	/* Optional: does its init live (whatever else in it died)? NULL:
	 * !owned_dead. */
	bool (*owned_alive)(sbx_sandbox *sb);
	void (*owned_destroy)(sbx_sandbox *sb);
	int (*owned_keep)(sbx_sandbox *sb, const sbx_paths *p, pid_t *reap, sbx_error *err);

	/* ---- pre-forked owned sandboxes (optional: all NULL, or all set) -----
	 * zygote_new: a zygote for conf (outlives it) with preload imported,
	 *         for at most max_sandboxes sandboxes alive at a time; nothing
	 *         starts until the first fork. *out NULL (and 0): conf cannot
	 *         be pre-forked (a workspace, fixed ids): make it fresh.
	 * owned_fork: like owned_create, forked from the zygote (started, or
	 *         restarted if it died, on the way). Thread-safe.
	 * zygote_info: its host pid now (0: none) and how many were started.
	 * zygote_free: stop it; every sandbox forked from it is destroyed. */
	int (*zygote_new)(const sbx_sbconf *conf, const char *preload, uint32_t max_sandboxes,
			  sbx_zygote **out, sbx_error *err);
	int (*owned_fork)(sbx_zygote *z, sbx_sandbox *sb, sbx_error *err);
	void (*zygote_info)(sbx_zygote *z, int *pid, uint64_t *starts);
	void (*zygote_free)(sbx_zygote *z);

	/* ---- the host ---------------------------------------------------------
	 * sweep: remove what killed sbx processes left behind; how many.
	 * health: report what works here, line by line (cfg: --rootfs,
	 *         --image); returns how many required checks failed. */
	int (*sweep)(const sbx_driver *d);
	int (*health)(const sbx_driver *d, const sbx_config *cfg, sbx_health_line line, void *ctx);
};

/* The driver called name: NULL or "native" is the native runtime, then
 * "docker", "podman". NULL with err (SBX_E_INVALID) for any other name. */
const sbx_driver *sbx_driver_by_name(const char *name, sbx_error *err);

/* The known drivers, in table order: i from 0 until NULL. */
const sbx_driver *sbx_driver_at(size_t i);

/* "native, docker or podman" into buf. */
void sbx_driver_names(char *buf, size_t cap);

/* An owned sandbox on driver d (see owned_create); conf outlives it. */
int sbx_owned_create(const sbx_driver *d, const sbx_sbconf *conf, bool python, const char *preload,
		     sbx_sandbox **out, sbx_error *err);
/* An owned sandbox forked from z (owned_fork). */
int sbx_owned_fork(const sbx_driver *d, sbx_zygote *z, const sbx_sbconf *conf, sbx_sandbox **out,
		   sbx_error *err);
/* It is handed out now (owned_activate, if the driver has one). */
void sbx_owned_activate(sbx_sandbox *sb);
/* Destroy it and free the handle. NULL is fine. */
void sbx_owned_destroy(sbx_sandbox *sb);

#endif
