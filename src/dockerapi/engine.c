/* The engine's tables: containers by id and name, the warm pool, and a
 * container's sandbox (taken from the pool when its options match the
 * pool's, else made for it). */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/netspec.h"
#include "dockerapi/engine.h"
#include "dockerapi/strv.h"
#include "drivers/driver.h"
#include "pool/pool.h"
#include "state/store.h"

const char *dapi_state_name(dapi_state s)
{
	switch (s) {
	case DAPI_CREATED:
		return "created";
	case DAPI_RUNNING:
		return "running";
	case DAPI_EXITED:
		return "exited";
	case DAPI_REMOVING:
		return "removing";
	}
	return "dead";
}

/* cfg's network mode set to net; the server's egress settings (allow,
 * dns) kept only for egress, no published port (a container's own). */
static void net_only(sbx_config *cfg, sbx_net_mode net)
{
	cfg->net = net;
	cfg->net_publish = NULL;
	cfg->n_net_publish = 0;
	if (net != SBX_NET_EGRESS) {
		cfg->net_allow = NULL;
		cfg->n_net_allow = 0;
		cfg->net_dns = NULL;
	}
}

/* Docker's default network: egress when the server has --net egress,
 * else a private loopback. */
static sbx_net_mode default_net(const dapi_engine *e)
{
	return e->opts.defaults.net == SBX_NET_EGRESS ? SBX_NET_EGRESS : SBX_NET_LOOPBACK;
}

/* A writable root needs the rootfs idmapped: where its file system
 * cannot be (SBX_E_KERNEL), containers get a read-only root instead of
 * failing, and the server says so. */
static void probe_writable_root(dapi_engine *e)
{
	sbx_sbconf conf;
	sbx_error err;
	memset(&conf, 0, sizeof(conf));
	/* the root is what is probed: no network to set up for it */
	sbx_config c = e->pool_tmpl;
	net_only(&c, SBX_NET_NONE);
	if (sbx_sbconf_from(&conf, &c, &err) < 0)
		return;
	const sbx_driver *d = sbx_driver_by_name(NULL, &err);
	sbx_sandbox *sb = NULL;
	int r = d ? sbx_owned_create(d, &conf, false, NULL, &sb, &err) : 0;
	if (r == 0 && sb)
		sbx_owned_destroy(sb);
	if (r == -SBX_E_KERNEL) {
		e->no_writable_root = true;
		snprintf(e->why_ro, sizeof(e->why_ro), "%s", err.msg);
	}
	sbx_sbconf_free(&conf);
}

int dapi_engine_init(dapi_engine *e, const dapi_opts *o, sbx_error *err)
{
	memset(e, 0, sizeof(*e));
	e->opts = *o;
	pthread_mutex_init(&e->mu, NULL);
	sbx_cond_init(&e->cv);
	/* --allow and --dns without --net egress, a bad entry: refused now */
	int r = sbx_net_config_check(&o->defaults, err);
	if (r < 0)
		return r;
	e->pool_tmpl = o->defaults;
	e->pool_tmpl.timeout_ms = 0;
	e->pool_tmpl.root_size = SBX_ROOT_SIZE_DEFAULT;
	probe_writable_root(e);
	if (e->no_writable_root)
		e->pool_tmpl.root_size = 0;
	if (!o->pool_size)
		return 0;
	/* One pool per network mode a client asks for without options:
	 * Docker's default (egress or a private loopback) and none. */
	for (int net = 0; net < DAPI_POOLS; net++) {
		sbx_pool_config pc;
		sbx_pool_config_init(&pc);
		pc.tmpl = e->pool_tmpl;
		net_only(&pc.tmpl, net == 0 ? default_net(e) : SBX_NET_NONE);
		pc.size = o->pool_size;
		pc.python = true;
		pc.fork = o->pool_fork;
		pc.preload = o->preload;
		pc.acquire_timeout_ms = 0;
		if (o->max_total)
			pc.max_total = o->max_total;
		r = sbx_pool_create(&pc, &e->pools[net], err);
		if (r < 0)
			return sbx_error_wrap(err, r, "the warm pool");
	}
	return 0;
}

void dapi_exec_free(dapi_exec *x)
{
	dapi_proc_free(&x->proc);
	sbx_closep(&x->stdin_w);
	dapi_strv_free(x->argv);
	dapi_strv_free(x->env);
	free(x->workdir);
	free(x);
}

void dapi_exec_free_all(dapi_ctr *c)
{
	while (c->execs) {
		dapi_exec *x = c->execs;
		c->execs = x->next;
		dapi_exec_free(x);
	}
}

int dapi_ctr_stdin_pipe(dapi_ctr *c, sbx_error *err)
{
	/* The read end is the pipe's: the write end may be closed already (a
	 * client attached before start sent its input and its end). */
	if (!c->spec.open_stdin || c->stdin_r >= 0)
		return 0;
	sbx_closep(&c->stdin_w);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pipe");
	int fl = fcntl(p[1], F_GETFL);
	fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
	c->stdin_r = p[0];
	c->stdin_w = p[1];
	return 0;
}

static void ctr_release_sandbox(dapi_ctr *c)
{
	sbx_sandbox *sb = c->sb;
	c->sb = NULL;
	if (!sb)
		return;
	if (c->pool)
		sbx_pool_release(c->pool, sb);
	else
		sbx_owned_destroy(sb);
}

static void ctr_free(dapi_ctr *c)
{
	ctr_release_sandbox(c);
	dapi_exec_free_all(c);
	dapi_log_free(&c->log);
	dapi_proc_free(&c->main);
	sbx_closep(&c->stdin_w);
	sbx_closep(&c->stdin_r);
	if (c->conf) {
		sbx_sbconf_free(c->conf);
		free(c->conf);
	}
	dapi_spec_free(&c->spec);
	dapi_image_free(&c->img);
	dapi_strv_free(c->argv);
	dapi_strv_free(c->env);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

void dapi_ctr_put(dapi_ctr *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->eng->mu);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&c->eng->mu);
	if (last)
		ctr_free(c);
}

/* eng->mu held. */
static dapi_ctr *find_locked(dapi_engine *e, const char *ref, int *status, sbx_error *err)
{
	const char *name = ref[0] == '/' ? ref + 1 : ref;
	for (size_t i = 0; i < e->n_ctrs; i++)
		if (strcmp(e->ctrs[i]->id, ref) == 0 || strcmp(e->ctrs[i]->name, name) == 0)
			return e->ctrs[i];
	dapi_ctr *found = NULL;
	size_t len = strlen(ref);
	for (size_t i = 0; len && i < e->n_ctrs; i++)
		if (strncmp(e->ctrs[i]->id, ref, len) == 0) {
			if (found) {
				*status = 400;
				sbx_fail(err, SBX_E_INVALID,
					 "multiple IDs found with provided prefix: %s", ref);
				return NULL;
			}
			found = e->ctrs[i];
		}
	if (!found) {
		*status = 404;
		sbx_fail(err, SBX_E_NOTFOUND, "No such container: %s", ref);
	}
	return found;
}

dapi_ctr *dapi_ctr_get(dapi_engine *e, const char *ref, int *status, sbx_error *err)
{
	pthread_mutex_lock(&e->mu);
	dapi_ctr *c = find_locked(e, ref, status, err);
	if (c)
		c->refs++;
	pthread_mutex_unlock(&e->mu);
	return c;
}

int dapi_ctr_all(dapi_engine *e, dapi_ctr ***out, size_t *n)
{
	pthread_mutex_lock(&e->mu);
	dapi_ctr **v = calloc(e->n_ctrs + 1, sizeof(*v));
	if (!v) {
		pthread_mutex_unlock(&e->mu);
		return -SBX_E_SYSTEM;
	}
	for (size_t i = 0; i < e->n_ctrs; i++) {
		v[i] = e->ctrs[i];
		v[i]->refs++;
	}
	*n = e->n_ctrs;
	pthread_mutex_unlock(&e->mu);
	*out = v;
	return 0;
}

static bool valid_name(const char *n)
{
	/* Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
	size_t len = strlen(n);
	if (len < 2 || len > 120)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = n[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

/* The sandbox configuration for the container (strings point into c). */
static int ctr_config(dapi_ctr *c, int *status, sbx_error *err)
{
	const dapi_spec *s = &c->spec;
	sbx_config *cfg = &c->cfg;
	*cfg = c->eng->opts.defaults;
	cfg->timeout_ms = 0;
	cfg->rootfs = c->img.rootfs;
	cfg->argv = NULL;
	if (s->memory)
		cfg->memory_bytes = s->memory;
	if (s->cpu_millis)
		cfg->cpu_millis = s->cpu_millis;
	if (s->pids)
		cfg->pids_max = s->pids;
	if (s->tmp_size)
		cfg->tmp_size = s->tmp_size;
	/* Docker's root is writable: an overlay on the image, its upper layer
	 * a tmpfs (counted in the memory limit). */
	cfg->root_size = s->readonly_root || c->eng->no_writable_root ? 0 : SBX_ROOT_SIZE_DEFAULT;
	const char *nm = s->network_mode ? s->network_mode : "";
	if (strcmp(nm, "none") == 0)
		net_only(cfg, SBX_NET_NONE);
	else if (!nm[0] || strcmp(nm, "default") == 0 || strcmp(nm, "bridge") == 0)
		net_only(cfg, default_net(c->eng));
	else {
		*status = 400;
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "network mode %s is not supported (sbx has none, and default/bridge "
		    "as %s)",
		    nm,
		    default_net(c->eng) == SBX_NET_EGRESS ? "the server's egress network"
							  : "a private loopback");
	}
	if (s->n_ports && cfg->net != SBX_NET_EGRESS) {
		*status = 400;
		return sbx_fail(err, SBX_E_INVALID, "%s",
				cfg->net == SBX_NET_NONE
				    ? "port publishing needs a network: this container's is none"
				    : "port publishing needs sbx serve --net egress (this server's "
				      "default network is a private loopback)");
	}
	/* HostPort "": a free port of the host now */
	int r = dapi_ports_pick(c->spec.ports, c->spec.n_ports, err);
	if (r < 0) {
		*status = r == -SBX_E_INVALID ? 400 : 500;
		return r;
	}
	cfg->net_publish = s->publish;
	cfg->n_net_publish = s->n_ports;
	if (s->bind_src) {
		cfg->workspace = s->bind_src;
		cfg->workspace_mode = s->bind_ro ? SBX_WS_RO : SBX_WS_RW;
	}
	if (s->hostname && s->hostname[0])
		cfg->hostname = s->hostname;
	return 0;
}

/* The pool whose sandboxes have c's options, NULL if none. */
static sbx_pool *pool_matching(const dapi_ctr *c)
{
	const dapi_engine *e = c->eng;
	const sbx_config *a = &c->cfg, *b = &e->pool_tmpl;
	const char *ra = a->rootfs ? a->rootfs : sbx_default_rootfs();
	const char *rb = b->rootfs ? b->rootfs : sbx_default_rootfs();
	bool same = strcmp(ra, rb) == 0 && a->memory_bytes == b->memory_bytes &&
		    a->cpu_millis == b->cpu_millis && a->pids_max == b->pids_max && !a->workspace &&
		    a->tmp_size == b->tmp_size && !a->hostname && a->root_size == b->root_size &&
		    !a->n_net_publish; /* its ports: a sandbox of its own */
	return same ? e->pools[a->net == SBX_NET_NONE ? 1 : 0] : NULL;
}

int dapi_ctr_sandbox_get(dapi_ctr *c, sbx_error *err)
{
	/* One that died (its init killed) is replaced. */
	if (c->sb && (c->sb->drv->owned_alive ? !c->sb->drv->owned_alive(c->sb)
					      : c->sb->drv->owned_dead(c->sb)))
		ctr_release_sandbox(c);
	if (c->sb)
		return 0;
	c->pool = pool_matching(c);
	/* At the pool's cap: a sandbox of its own, as for other options. */
	if (c->pool && sbx_pool_acquire(c->pool, 0, &c->sb, err) == 0)
		return 0;
	c->pool = NULL;
	if (!c->conf) {
		c->conf = calloc(1, sizeof(*c->conf));
		if (!c->conf)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		int r = sbx_sbconf_from(c->conf, &c->cfg, err);
		if (r < 0) {
			free(c->conf);
			c->conf = NULL;
			return r;
		}
	}
	const sbx_driver *d = sbx_driver_by_name(NULL, err);
	return sbx_owned_create(d, c->conf, false, NULL, &c->sb, err);
}

static void ctr_conf_drop(dapi_ctr *c)
{
	if (c->conf) {
		sbx_sbconf_free(c->conf);
		free(c->conf);
		c->conf = NULL;
	}
}

/* Other free ports for c's random bindings (none: -SBX_E_STATE). */
static int repick_ports(dapi_ctr *c)
{
	bool any = false;
	for (size_t i = 0; i < c->spec.n_ports; i++)
		if (c->spec.ports[i].random) {
			c->spec.ports[i].host_port = 0;
			any = true;
		}
	if (!any)
		return -SBX_E_STATE;
	sbx_error e2;
	if (dapi_ports_pick(c->spec.ports, c->spec.n_ports, &e2) < 0)
		return -SBX_E_STATE; /* the caller's err keeps the sandbox's error */
	ctr_conf_drop(c);
	return 0;
}

int dapi_ctr_create(dapi_engine *e, dapi_spec *spec, const char *name, dapi_ctr **out, int *status,
		    sbx_error *err)
{
	*status = 500;
	if (name && name[0] && !valid_name(name[0] == '/' ? name + 1 : name)) {
		*status = 400;
		return sbx_fail(err, SBX_E_INVALID,
				"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				"allowed",
				name);
	}
	dapi_ctr *c = calloc(1, sizeof(*c));
	if (!c)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	c->eng = e;
	c->refs = 1;
	c->stdin_r = c->stdin_w = -1;
	pthread_mutex_init(&c->mu, NULL);
	sbx_cond_init(&c->cv);
	dapi_proc_init(&c->main);
	c->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	c->created_ns = sbx_realtime_ns();
	int r = dapi_image_find(e->opts.image_dir, c->spec.image, &c->img, err);
	if (r < 0) {
		*status = r == -SBX_E_NOTFOUND ? 404 : 500;
		if (r == -SBX_E_NOTFOUND)
			sbx_fail(err, SBX_E_NOTFOUND, "No such image: %s", c->spec.image);
		ctr_free(c);
		return r;
	}
	const char *const *ep =
	    c->spec.entrypoint_set ? DAPI_CSTRV(c->spec.entrypoint) : DAPI_CSTRV(c->img.entrypoint);
	const char *const *cmd = c->spec.cmd		  ? DAPI_CSTRV(c->spec.cmd)
				 : c->spec.entrypoint_set ? NULL
							  : DAPI_CSTRV(c->img.cmd);
	c->argv = dapi_strv_concat(ep, cmd);
	c->env = dapi_strv_concat(DAPI_CSTRV(c->img.env), DAPI_CSTRV(c->spec.env));
	if (!c->argv || !c->env) {
		ctr_free(c);
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	if (!c->argv[0]) {
		*status = 400;
		ctr_free(c);
		return sbx_fail(err, SBX_E_INVALID, "no command specified");
	}
	if ((r = ctr_config(c, status, err)) < 0) {
		ctr_free(c);
		return r;
	}
	sbx_error verr;
	sbx_config check = c->cfg;
	const char *argv1[] = {"true", NULL};
	check.argv = argv1;
	if (sbx_config_validate(&check, true, &verr) < 0) {
		*status = 400;
		*err = verr;
		ctr_free(c);
		return -SBX_E_INVALID;
	}
	sbx_random_id(c->id, 64); /* 64 hex digits, as Docker's ids */
	pthread_mutex_lock(&e->mu);
	if (name && name[0]) {
		snprintf(c->name, sizeof(c->name), "%s", name[0] == '/' ? name + 1 : name);
		for (size_t i = 0; i < e->n_ctrs; i++)
			if (strcmp(e->ctrs[i]->name, c->name) == 0) {
				pthread_mutex_unlock(&e->mu);
				*status = 409;
				sbx_fail(
				    err, SBX_E_EXISTS,
				    "Conflict. The container name \"/%s\" is already in use by "
				    "container \"%s\". You have to remove (or rename) that "
				    "container to be able to reuse that name.",
				    c->name, e->ctrs[i]->id);
				ctr_free(c);
				return -SBX_E_EXISTS;
			}
	} else {
		snprintf(c->name, sizeof(c->name), "sbx_%.12s", c->id);
	}
	if (e->n_ctrs == e->cap_ctrs) {
		size_t cap = e->cap_ctrs ? 2 * e->cap_ctrs : 16;
		dapi_ctr **v = realloc(e->ctrs, cap * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&e->mu);
			ctr_free(c);
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		}
		e->ctrs = v;
		e->cap_ctrs = cap;
	}
	e->ctrs[e->n_ctrs++] = c;
	c->refs++; /* the caller's */
	pthread_mutex_unlock(&e->mu);
	/* The sandbox now, so that archives can be put before start (and
	 * start is only the command's start). */
	pthread_mutex_lock(&c->mu);
	r = dapi_ctr_sandbox_get(c, err);
	/* A random host port taken meanwhile (by another process between its
	 * pick and the sandbox's start): other ones, twice more at most. */
	for (int tries = 0; r == -SBX_E_SETUP && tries < 2 && repick_ports(c) == 0; tries++)
		r = dapi_ctr_sandbox_get(c, err);
	if (r == -SBX_E_KERNEL && c->cfg.root_size) {
		/* this image's file system cannot be idmapped: a read-only root */
		c->cfg.root_size = 0;
		ctr_conf_drop(c);
		r = dapi_ctr_sandbox_get(c, err);
	}
	if (r == 0)
		r = dapi_ctr_stdin_pipe(c, err);
	pthread_mutex_unlock(&c->mu);
	if (r < 0) {
		int st;
		sbx_error e2;
		dapi_ctr_remove(c, true, &st, &e2);
		dapi_ctr_put(c);
		*status = r == -SBX_E_INVALID || r == -SBX_E_PATH || r == -SBX_E_ROOTFS ? 400 : 500;
		return sbx_error_wrap(err, r, "creating the container's sandbox");
	}
	*out = c;
	return 0;
}

/* Take c out of the table (once) and drop the table's reference. */
static void ctr_unlist(dapi_ctr *c)
{
	dapi_engine *e = c->eng;
	bool found = false;
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->n_ctrs; i++)
		if (e->ctrs[i] == c) {
			e->ctrs[i] = e->ctrs[--e->n_ctrs];
			found = true;
			break;
		}
	pthread_mutex_unlock(&e->mu);
	if (found)
		dapi_ctr_put(c);
}

void dapi_engine_stop(dapi_engine *e)
{
	for (int i = 0; i < DAPI_POOLS; i++)
		if (e->pools[i])
			sbx_pool_stop(e->pools[i]);
	dapi_ctr **all = NULL;
	size_t n = 0;
	if (dapi_ctr_all(e, &all, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			int st;
			sbx_error err;
			dapi_ctr_remove(all[i], true, &st, &err);
			dapi_ctr_put(all[i]);
		}
		free(all);
	}
	/* Pump threads end once their sandbox is released. */
	pthread_mutex_lock(&e->mu);
	while (e->pumps > 0)
		pthread_cond_wait(&e->cv, &e->mu);
	pthread_mutex_unlock(&e->mu);
}

void dapi_engine_free(dapi_engine *e)
{
	dapi_engine_stop(e);
	for (int i = 0; i < DAPI_POOLS; i++) {
		if (e->pools[i])
			sbx_pool_destroy(e->pools[i]);
		e->pools[i] = NULL;
	}
	free(e->ctrs);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
}

/* Its host ports free when the removal is answered, as with Docker (a
 * client may publish them again at once): the pump's end waited for (10 s
 * at most), then the sandbox released, as for a container not running. */
static void release_ports(dapi_ctr *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), 10000);
	while (c->pump_running && sbx_now_ns() < deadline)
		sbx_cond_wait_ns(&c->cv, &c->mu, 100000000);
	if (!c->pump_running)
		ctr_release_sandbox(c);
	pthread_mutex_unlock(&c->mu);
}

int dapi_ctr_remove(dapi_ctr *c, bool force, int *status, sbx_error *err)
{
	pthread_mutex_lock(&c->mu);
	if (c->state == DAPI_REMOVING || c->removed) {
		pthread_mutex_unlock(&c->mu);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE,
				"removal of container %.12s is already in progress", c->id);
	}
	if (c->state == DAPI_RUNNING && !force) {
		pthread_mutex_unlock(&c->mu);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE,
				"You cannot remove a running container %s. Stop the container "
				"before attempting removal or force remove",
				c->id);
	}
	if (c->state == DAPI_RUNNING) {
		c->remove_pending = true;
		dapi_proc_signal(&c->main, SIGKILL);
		/* Its sandbox goes anyway: end everything in it at once (its
		 * init killed), rather than the main process's tree first. */
		if (c->sb && c->sb->drv->owned_stop)
			c->sb->drv->owned_stop(c->sb);
		/* Gone for clients now; the pump (which holds a reference)
		 * sees the end, and the last reference releases the sandbox. */
		c->exit_code = 137;
		c->state = DAPI_REMOVING;
		c->removed = true;
		pthread_cond_broadcast(&c->cv);
		dapi_log_wake(&c->log);
		pthread_mutex_unlock(&c->mu);
		ctr_unlist(c);
		if (c->spec.n_ports)
			release_ports(c);
		return 0;
	}
	c->state = DAPI_REMOVING;
	/* Wait for the pump: it is done when the output is logged and the
	 * sandbox released. */
	while (c->pump_running)
		pthread_cond_wait(&c->cv, &c->mu);
	ctr_release_sandbox(c);
	c->removed = true;
	pthread_cond_broadcast(&c->cv);
	dapi_log_wake(&c->log);
	pthread_mutex_unlock(&c->mu);
	ctr_unlist(c);
	return 0;
}
