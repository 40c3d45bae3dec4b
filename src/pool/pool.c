/* The warm pool: sandboxes set up ahead of need, handed out once. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/util.h"
#include "drivers/driver.h"
#include "drivers/oci.h"
#include "pool/pool.h"

#define LAT_N 1024
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* Acquire at the cap with timeout 0, all of it teardown: how long to wait. */
#define RETIRE_WAIT_MS 10000

typedef struct node {
	sbx_sandbox *sb;
	struct node *next;
} node;

struct sbx_pool {
	sbx_pool_config cfg;
	sbx_sbconf conf;       /* the template, resolved once */
	const sbx_driver *drv; /* its driver, chosen once */
	char preload[1024];
	sbx_zygote *zy; /* pre-forked mode: the zygote, else NULL */
	pthread_mutex_t mu;
	pthread_cond_t changed; /* idle list or counts changed */
	pthread_cond_t work;	/* the worker has something to do */
	pthread_t worker;
	bool stop;
	node *idle, *retire; /* idle: oldest first; retire: to destroy */
	uint32_t n_idle, n_in_use, n_creating;
	uint32_t n_retiring; /* released or dead, not destroyed yet */
	uint64_t created, destroyed, failures, acquired, waited;
	double lat[LAT_N];
	size_t lat_n, lat_i;
	char last_error[256];
	uint64_t backoff_ms, retry_at_ns;
	/* Handed-out sandboxes, so destroy can reach them. */
	sbx_sandbox **out;
	size_t n_out, cap_out;
	/* Inits of sandboxes kept as named ones: still our children, to reap. */
	pid_t given[256];
	size_t n_given;
};

SBX_API void sbx_pool_config_init(sbx_pool_config *c)
{
	memset(c, 0, sizeof(*c));
	sbx_config_init(&c->tmpl);
	c->size = 2;
	c->max_total = 64;
	c->acquire_timeout_ms = 0;
	c->python = true;
	c->fork = true;
}

/* Everything the cap counts: a released sandbox holds its cgroups and
 * (pre-forked) its host id range until it is destroyed, so the ones
 * waiting for that count too. Otherwise a burst of requests outruns the
 * serial teardown and the backlog grows without bound (found by tools/bench's
 * concurrency section: 32 clients ran a pre-forked pool out of id ranges). */
static uint32_t total(const sbx_pool *p)
{
	return p->n_idle + p->n_in_use + p->n_creating + p->n_retiring;
}

static void push(node **list, node *n);

/* Wait on c (a CLOCK_MONOTONIC condition) at most ns; under m. */
/* To the worker's list of sandboxes to destroy; under p->mu. */
static void retire(sbx_pool *p, node *n)
{
	push(&p->retire, n);
	p->n_retiring++;
}

static void push(node **list, node *n)
{
	n->next = NULL;
	while (*list)
		list = &(*list)->next;
	*list = n;
}

static void track_out(sbx_pool *p, sbx_sandbox *sb)
{
	if (p->n_out == p->cap_out) {
		size_t nc = p->cap_out ? p->cap_out * 2 : 16;
		sbx_sandbox **g = realloc(p->out, nc * sizeof(*g));
		if (!g)
			return; /* untracked: still released by its holder */
		p->out = g;
		p->cap_out = nc;
	}
	p->out[p->n_out++] = sb;
}

static bool untrack_out(sbx_pool *p, sbx_sandbox *sb)
{
	for (size_t i = 0; i < p->n_out; i++)
		if (p->out[i] == sb) {
			p->out[i] = p->out[--p->n_out];
			return true;
		}
	return false;
}

/* Create one sandbox without the lock held. */
static int create_one(sbx_pool *p, sbx_sandbox **sb, sbx_error *err)
{
	int r = p->zy ? sbx_owned_fork(p->drv, p->zy, &p->conf, sb, err)
		      : sbx_owned_create(p->drv, &p->conf, p->cfg.python, p->preload, sb, err);
	if (r == 0)
		(*sb)->pool = p;
	return r;
}

static void note_failure(sbx_pool *p, const sbx_error *err)
{
	p->failures++;
	snprintf(p->last_error, sizeof(p->last_error), "%s", err->msg);
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	p->retry_at_ns = sbx_now_ns() + p->backoff_ms * 1000000ull;
}

/* Move idle sandboxes that died or aged out to the retire list. */
static void sweep_idle(sbx_pool *p)
{
	uint64_t now = sbx_now_ns(), age = p->cfg.max_idle_age_ms * 1000000ull;
	for (node **n = &p->idle; *n;) {
		sbx_sandbox *sb = (*n)->sb;
		bool old = age && now - sb->born_ns > age;
		if (old || sb->drv->owned_dead(sb)) {
			node *gone = *n;
			*n = gone->next;
			p->n_idle--;
			retire(p, gone);
		} else {
			n = &(*n)->next;
		}
	}
}

static void *worker_main(void *arg)
{
	sbx_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		/* Destroy retired sandboxes first: they hold memory and pids. */
		if (p->retire) {
			node *n = p->retire;
			p->retire = n->next;
			pthread_mutex_unlock(&p->mu);
			sbx_owned_destroy(n->sb);
			free(n);
			pthread_mutex_lock(&p->mu);
			p->destroyed++;
			p->n_retiring--;
			pthread_cond_broadcast(&p->changed);
			continue;
		}
		sweep_idle(p);
		for (size_t i = 0; i < p->n_given;)
			if (waitpid(p->given[i], NULL, WNOHANG | __WALL) != 0)
				p->given[i] = p->given[--p->n_given];
			else
				i++;
		uint64_t now = sbx_now_ns();
		bool want = p->n_idle + p->n_creating < p->cfg.size && total(p) < p->cfg.max_total;
		if (want && now >= p->retry_at_ns) {
			p->n_creating++;
			pthread_mutex_unlock(&p->mu);
			sbx_sandbox *sb = NULL;
			sbx_error err = {0};
			node *n = malloc(sizeof(*n));
			int r = n ? create_one(p, &sb, &err)
				  : sbx_fail(&err, SBX_E_SYSTEM, "out of memory");
			pthread_mutex_lock(&p->mu);
			p->n_creating--;
			if (r == 0) {
				p->created++;
				p->backoff_ms = 0;
				p->last_error[0] = '\0';
				n->sb = sb;
				push(&p->idle, n);
				p->n_idle++;
			} else {
				free(n);
				note_failure(p, &err);
			}
			pthread_cond_broadcast(&p->changed);
			continue;
		}
		/* Sleep until asked, or until a retry / the next sweep is due. */
		uint64_t wake = now + 200 * 1000000ull;
		if (want && p->retry_at_ns > now && p->retry_at_ns < wake)
			wake = p->retry_at_ns;
		sbx_cond_wait_ns(&p->work, &p->mu, wake - now);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

SBX_API int sbx_pool_create(const sbx_pool_config *c, sbx_pool **out, sbx_error *err)
{
	if (c->size > c->max_total || c->max_total == 0)
		return sbx_fail(err, SBX_E_INVALID, "pool size %u exceeds max total %u", c->size,
				c->max_total);
	if (c->tmpl.n_net_publish)
		return sbx_fail(err, SBX_E_INVALID,
				"a pool cannot publish ports: a host port can be published by one "
				"sandbox, not by a pool of them");
	const sbx_driver *d = sbx_driver_by_name(c->tmpl.driver, err);
	if (!d)
		return -SBX_E_INVALID;
	/* What the engines cannot do fails here, not with every sandbox. */
	if (strcmp(d->name, "docker") == 0 || strcmp(d->name, "podman") == 0) {
		int r = sbx_oci_net_check(d->name, &c->tmpl, err);
		if (r < 0)
			return r;
	}
	if (d->needs_root && geteuid() != 0)
		return sbx_fail(err, SBX_E_PRIVILEGE, "sbx must run as root (namespaces, cgroups)");
	sbx_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	p->cfg = *c;
	p->drv = d;
	snprintf(p->preload, sizeof(p->preload), "%s", c->preload ? c->preload : "");
	int r = sbx_sbconf_from(&p->conf, &c->tmpl, err);
	if (r < 0) {
		sbx_sbconf_free(&p->conf);
		free(p);
		return r;
	}
	p->cfg.tmpl = p->conf.cfg;
	/* Pre-forked where the driver can and the configuration allows it
	 * (zygote_new leaves p->zy NULL otherwise). */
	if (c->fork && c->python && d->zygote_new) {
		r = d->zygote_new(&p->conf, p->preload, c->max_total, &p->zy, err);
		if (r < 0) {
			sbx_sbconf_free(&p->conf);
			free(p);
			return r;
		}
	}
	pthread_mutex_init(&p->mu, NULL);
	sbx_cond_init(&p->changed);
	sbx_cond_init(&p->work);
	if (pthread_create(&p->worker, NULL, worker_main, p) != 0) {
		if (p->zy)
			p->drv->zygote_free(p->zy);
		sbx_sbconf_free(&p->conf);
		free(p);
		return sbx_fail(err, SBX_E_SYSTEM, "cannot start the pool's thread");
	}
	*out = p;
	return 0;
}

static void record_latency(sbx_pool *p, uint64_t t0)
{
	p->lat[p->lat_i] = (double)(sbx_now_ns() - t0) / 1e6;
	p->lat_i = (p->lat_i + 1) % LAT_N;
	if (p->lat_n < LAT_N)
		p->lat_n++;
	p->acquired++;
}

SBX_API int sbx_pool_acquire(sbx_pool *p, int64_t timeout_ms, sbx_sandbox **out, sbx_error *err)
{
	uint64_t t0 = sbx_now_ns();
	if (timeout_ms == SBX_POOL_DEFAULT)
		timeout_ms = p->cfg.acquire_timeout_ms;
	bool counted = false;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->idle) {
			node *n = p->idle;
			p->idle = n->next;
			p->n_idle--;
			/* A sandbox that died while idle is never handed out. */
			if (n->sb->drv->owned_dead(n->sb)) {
				retire(p, n);
				continue;
			}
			p->n_in_use++;
			track_out(p, n->sb);
			*out = n->sb;
			free(n);
			sbx_owned_activate(*out);
			record_latency(p, t0);
			pthread_cond_signal(&p->work); /* replenish */
			pthread_mutex_unlock(&p->mu);
			return 0;
		}
		pthread_cond_signal(&p->work);
		if (!counted) {
			p->waited++; /* none idle: made now, or waited for */
			counted = true;
		}
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return sbx_fail(err, SBX_E_STATE, "the pool is shutting down");
		}
		if (total(p) < p->cfg.max_total) {
			/* Nothing idle, room under the cap: make one now, in the
			 * caller's time (the cap counts it from here on). */
			p->n_creating++;
			pthread_mutex_unlock(&p->mu);
			sbx_sandbox *sb = NULL;
			int r = create_one(p, &sb, err);
			pthread_mutex_lock(&p->mu);
			p->n_creating--;
			if (r == 0) {
				p->created++;
				p->n_in_use++;
				track_out(p, sb);
				sbx_owned_activate(sb);
				record_latency(p, t0);
				*out = sb;
			} else {
				note_failure(p, err);
			}
			pthread_cond_broadcast(&p->changed);
			pthread_mutex_unlock(&p->mu);
			return r;
		}
		/* At the cap: queue until one is released (or goes idle), up
		 * to the acquire timeout. */
		char why[160];
		snprintf(why, sizeof(why),
			 "max-total %u reached: %u in use, %u being created, %u idle, "
			 "%u being torn down",
			 p->cfg.max_total, p->n_in_use, p->n_creating, p->n_idle, p->n_retiring);
		if (timeout_ms == 0 && p->n_retiring == 0) {
			pthread_mutex_unlock(&p->mu);
			return sbx_fail(err, SBX_E_STATE, "pool exhausted (%s)", why);
		}
		if (timeout_ms == 0) {
			/* At the cap only through sandboxes being torn down:
			 * their teardown is bounded, wait for it (not for a
			 * sandbox in use), at most RETIRE_WAIT_MS. */
			if (sbx_now_ns() - t0 >= RETIRE_WAIT_MS * 1000000ull) {
				pthread_mutex_unlock(&p->mu);
				return sbx_fail(err, SBX_E_STATE, "pool exhausted (%s)", why);
			}
			sbx_cond_wait_ns(&p->changed, &p->mu, 50 * 1000000ull);
			continue;
		}
		if (timeout_ms > 0) {
			uint64_t end = sbx_deadline_ns(t0, (uint64_t)timeout_ms),
				 now = sbx_now_ns();
			if (now >= end) {
				pthread_mutex_unlock(&p->mu);
				return sbx_fail(err, SBX_E_STATE,
						"no sandbox available within %lld ms (%s)%s%s",
						(long long)timeout_ms, why,
						p->last_error[0] ? ": " : "", p->last_error);
			}
			sbx_cond_wait_ns(&p->changed, &p->mu, end - now);
		} else {
			pthread_cond_wait(&p->changed, &p->mu);
		}
	}
}

SBX_API void sbx_pool_release(sbx_pool *p, sbx_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->drv->owned_stop)
		sb->drv->owned_stop(sb);
	node *n = malloc(sizeof(*n));
	pthread_mutex_lock(&p->mu);
	bool mine = untrack_out(p, sb);
	if (mine)
		p->n_in_use--;
	if (n) {
		n->sb = sb;
		retire(p, n);
		pthread_cond_signal(&p->work);
	}
	pthread_cond_broadcast(&p->changed); /* a slot under the cap is free */
	pthread_mutex_unlock(&p->mu);
	if (!n) { /* no memory to queue it: destroy it here */
		sbx_owned_destroy(sb);
		pthread_mutex_lock(&p->mu);
		p->destroyed++;
		pthread_mutex_unlock(&p->mu);
	}
}

SBX_API int sbx_pool_release_named(sbx_pool *p, sbx_sandbox *sb, const char *name, sbx_error *err)
{
	sbx_paths paths;
	int r = sbx_paths_for(name, &paths, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lk = sbx_sbdir_create(&paths, err);
	if (lk < 0)
		return lk;
	/* The pool's template becomes its config; a restart after a stop
	 * starts it afresh from that. */
	sbx_sbconf c = p->conf;
	c.created = (int64_t)time(NULL);
	c.own_workspace = false;
	r = sbx_sbconf_save(&paths, &c, err);
	if (!sb->drv->owned_keep)
		r = sbx_fail(err, SBX_E_INVALID,
			     "keeping a %s pool sandbox by name is not supported", sb->drv->name);
	pid_t reap = 0;
	if (r == 0)
		r = sb->drv->owned_keep(sb, &paths, &reap, err);
	if (r < 0) {
		sbx_rm_tree(paths.dir);
		return r;
	}
	sbx_closep(&lk);
	pthread_mutex_lock(&p->mu);
	if (untrack_out(p, sb))
		p->n_in_use--;
	if (reap > 0 && p->n_given < ARRAY_LEN(p->given))
		p->given[p->n_given++] = reap;
	pthread_cond_signal(&p->work);
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->mu);
	free(sb);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

SBX_API void sbx_pool_get_stats(sbx_pool *p, sbx_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	double lat[LAT_N];
	pthread_mutex_lock(&p->mu);
	st->idle = p->n_idle;
	st->in_use = p->n_in_use;
	st->created = p->created;
	st->destroyed = p->destroyed;
	st->failures = p->failures;
	st->acquired = p->acquired;
	st->waited = p->waited;
	st->creating = p->n_creating;
	st->fork = p->zy != NULL;
	snprintf(st->last_error, sizeof(st->last_error), "%s", p->last_error);
	size_t n = p->lat_n;
	memcpy(lat, p->lat, n * sizeof(double));
	pthread_mutex_unlock(&p->mu);
	if (n) {
		qsort(lat, n, sizeof(double), cmp_double);
		st->acquire_p50_ms = lat[(n - 1) / 2];
		st->acquire_p95_ms = lat[(size_t)((double)(n - 1) * 0.95)];
		st->acquire_p99_ms = lat[(size_t)((double)(n - 1) * 0.99)];
	}
	if (p->zy)
		p->drv->zygote_info(p->zy, &st->zygote_pid, &st->zygote_starts);
}

void sbx_pool_stop(sbx_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->mu);
}

bool sbx_pool_forks(const sbx_pool *p)
{
	return p->zy != NULL;
}

const sbx_config *sbx_pool_template(const sbx_pool *p)
{
	return &p->conf.cfg;
}

SBX_API void sbx_pool_destroy(sbx_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->worker, NULL);
	/* Everything: idle, retired, and still handed out. */
	for (node *lists[2] = {p->idle, p->retire}, **l = lists; l < lists + 2; l++)
		for (node *n = *l, *next; n; n = next) {
			next = n->next;
			sbx_owned_destroy(n->sb);
			free(n);
		}
	for (size_t i = 0; i < p->n_out; i++)
		sbx_owned_destroy(p->out[i]);
	free(p->out);
	if (p->zy)
		p->drv->zygote_free(p->zy); /* after its sandboxes: they use it */
	pthread_cond_destroy(&p->changed);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	sbx_sbconf_free(&p->conf);
	free(p);
}
