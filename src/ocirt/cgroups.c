/* The container's cgroups: where they go, make them (with the limits),
 * move a process in, list and signal their processes, remove them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/readall.h"
#include "ocirt/cgroups.h"
#include "ocirt/cgroups_path.h"
#include "ocirt/cgroups_v1.h"
#include "ocirt/cgroups_v2.h"

_Static_assert(SBX_OCI_CG_NHIER == SBX_OCI_CG_MAX, "one dir per hierarchy");

#define PROC_MAX (4u << 20) /* bytes of mountinfo / cgroup.procs read */
#define SIGNAL_PASSES 8
#define MAX_DEPTH 16	    /* sub-cgroups of the container followed */
#define MAX_PIDS (1u << 22) /* pids listed at most (a pid_t each) */

/* What an absent linux.resources means. */
static const sbx_oci_resources no_resources = {
    .mem_limit = -1,
    .mem_reservation = -1,
    .mem_swap = -1,
    .mem_kernel = -1,
    .mem_kernel_tcp = -1,
    .mem_swappiness = -1,
    .cpu_quota = -1,
    .cpu_rt_runtime = -1,
};

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int remove_tree(const char *dir, int depth);

/* Remove what create made in dir i: the leaf, then up to made-1 parents
 * while they are empty. ENOENT counts as removed. 0, or -1 with errno. */
static int remove_made(const char *path, unsigned made)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	if (remove_tree(p, 0) < 0)
		return -1;
	for (unsigned k = 1; k < made; k++) {
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
		if (rmdir(p) < 0 && errno != ENOENT)
			break; /* not empty (another container's): fine */
	}
	return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus and mems, and cannot take a
 * task until they are set: copy the parent's. */
static int cpuset_inherit(const char *dir, sbx_error *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char f[PATH_MAX + 32];
		_cleanup_free_ char *mine = NULL, *theirs = NULL;
		size_t len;
		snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
		int rc = sbx_read_all(AT_FDCWD, f, 1u << 16, &mine, &len, err);
		if (rc < 0)
			return sbx_error_wrap(err, -SBX_E_CGROUP, "cgroup cpuset");
		if (mine[strspn(mine, " \n")])
			continue; /* already set */
		snprintf(f, sizeof(f), "%s/%s", parent, files[i]);
		if ((rc = sbx_read_all(AT_FDCWD, f, 1u << 16, &theirs, &len, err)) < 0)
			return sbx_error_wrap(err, -SBX_E_CGROUP, "cgroup cpuset");
		snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
		sbx_error e = {0};
		if (sbx_write_file(f, theirs, &e) < 0)
			return sbx_fail_errno(err, SBX_E_CGROUP, e.sys_errno,
					      "cgroup %s: copy %s from the parent", dir, files[i]);
	}
	return 0;
}

typedef typeof(((sbx_oci_cg *)0)->dir[0]) cg_dir;

static int write_in(const char *dir, const char *file, const char *value, sbx_error *err)
{
	char f[PATH_MAX + 32];
	snprintf(f, sizeof(f), "%s/%s", dir, file);
	sbx_error e = {0};
	if (sbx_write_file(f, value, &e) < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, e.sys_errno, "cgroup %s: write %s '%s'",
				      dir, file, value);
	return 0;
}

/* mkdir each component of rel beneath the hierarchy's base, top-down; d
 * records the leaf's path and how many were made. An existing leaf is
 * refused (so destroy never removes a cgroup that is not the container's).
 * v1 cpuset: cpus/mems copied into each new one. v2: the controllers of
 * base_enable enabled in the base (never at a hierarchy's root), those of
 * v2enable in each new parent. On failure what was made is removed. */
static int make_dirs(const sbx_oci_cg_hier *h, const char *rel, unsigned base_enable,
		     unsigned v2enable, cg_dir *d, sbx_error *err)
{
	d->version = h->version;
	snprintf(d->name, sizeof(d->name), "%s", h->name);
	d->made = 0;
	int n = snprintf(d->path, sizeof(d->path), "%s/%s", h->base, rel);
	if (n < 0 || (size_t)n >= sizeof(d->path))
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: %s/%s is too long", h->base, rel);
	char enable[64] = "";
	if (sbx_oci_cg_v2_enable_text(v2enable, enable, sizeof(enable)) < 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup v2: controller list too long");
	if (base_enable) {
		char be[64];
		if (sbx_oci_cg_v2_enable_text(base_enable, be, sizeof(be)) < 0)
			return sbx_fail(err, SBX_E_CGROUP, "cgroup v2: controller list too long");
		if (h->base_is_root)
			return sbx_fail(err, SBX_E_CGROUP,
					"cgroup v2: '%s' is not enabled at the hierarchy's root %s "
					"(not written by sbx-oci)",
					be, h->base);
		int rc = write_in(h->base, "cgroup.subtree_control", be, err);
		if (rc < 0)
			return rc;
	}
	struct stat st;
	if (lstat(d->path, &st) == 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup %s already exists", d->path);
	char cur[PATH_MAX];
	size_t last = 0; /* length of the last one made */
	unsigned made = 0;
	int rc = 0, retries = 3;
	for (size_t i = strlen(h->base) + 1;; i++) {
		char c = d->path[i];
		if (c != '/' && c != '\0')
			continue;
		memcpy(cur, d->path, i);
		cur[i] = '\0';
		if (mkdir(cur, 0755) < 0) {
			if (errno == ENOENT && !made && retries-- > 0) {
				/* a parent that was there was just removed (another
				 * container's destroy): start again from the base */
				i = strlen(h->base);
				continue;
			}
			if (errno != EEXIST || c == '\0' || made) {
				rc = sbx_fail_errno(err, SBX_E_CGROUP, errno,
						    "cannot create cgroup %s", cur);
				break;
			}
			continue; /* a parent that was there */
		}
		made++;
		last = i;
		if (h->version == 1 && sbx_oci_cg_v1_has(h->name, "cpuset") &&
		    (rc = cpuset_inherit(cur, err)) < 0)
			break;
		if (c != '\0' && v2enable &&
		    (rc = write_in(cur, "cgroup.subtree_control", enable, err)) < 0)
			break;
		if (c == '\0')
			break;
	}
	if (rc < 0) {
		if (made) {
			cur[last] = '\0';
			remove_made(cur, made);
		}
		return rc;
	}
	d->made = made;
	return 0;
}

/* v1 realtime: a cgroup's cpu.rt_runtime_us cannot exceed its parent's, and
 * a new cgroup has 0: give the parents create made (top-down) the same
 * period and runtime as the container. The runtime's own cgroup is not
 * written: it must have the budget already (the error says so). */
static int rt_parents(const cg_dir *d, const sbx_oci_resources *r, sbx_error *err)
{
	if (r->cpu_rt_runtime <= 0 || d->made < 2)
		return 0;
	char p[PATH_MAX];
	for (unsigned up = d->made - 1; up >= 1; up--) {
		snprintf(p, sizeof(p), "%s", d->path);
		for (unsigned k = 0; k < up; k++) {
			char *slash = strrchr(p, '/');
			if (slash)
				*slash = '\0';
		}
		char v[24];
		int rc = 0;
		if (r->cpu_rt_period) {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)r->cpu_rt_period);
			rc = write_in(p, "cpu.rt_period_us", v, err);
		}
		snprintf(v, sizeof(v), "%lld", (long long)r->cpu_rt_runtime);
		if (rc == 0)
			rc = write_in(p, "cpu.rt_runtime_us", v, err);
		if (rc < 0)
			return sbx_error_wrap(
			    err, rc,
			    "linux.resources.cpu.realtimeRuntime (the runtime's own "
			    "cgroup needs that much realtime budget)");
	}
	return 0;
}

static int read_proc(const char *path, char **out, sbx_error *err)
{
	size_t len;
	return sbx_read_all(AT_FDCWD, path, PROC_MAX, out, &len, err);
}

/* Which controllers are on a v1 hierarchy of the layout. */
static unsigned v1_coverage(const sbx_oci_cg_layout *l, bool *devices)
{
	static const struct {
		unsigned bit;
		const char *name;
	} map[] = {{SBX_OCI_CG_MEMORY, "memory"},
		   {SBX_OCI_CG_CPU, "cpu"},
		   {SBX_OCI_CG_CPUSET, "cpuset"},
		   {SBX_OCI_CG_PIDS, "pids"}};
	unsigned m = 0;
	*devices = false;
	for (size_t i = 0; i < l->n; i++) {
		if (l->h[i].version != 1)
			continue;
		for (size_t k = 0; k < ARRAY_LEN(map); k++)
			if (sbx_oci_cg_v1_has(l->h[i].name, map[k].name))
				m |= map[k].bit;
		*devices |= sbx_oci_cg_v1_has(l->h[i].name, "devices");
	}
	return m;
}

static const char *ctrl_name(unsigned bit)
{
	switch (bit) {
	case SBX_OCI_CG_MEMORY:
		return "memory";
	case SBX_OCI_CG_CPU:
		return "cpu";
	case SBX_OCI_CG_CPUSET:
		return "cpuset";
	default:
		return "pids";
	}
}

/* The v2 controllers of the base (cgroup.controllers) and those already
 * enabled for its children (cgroup.subtree_control). */
static int v2_state(const char *base, unsigned *avail, unsigned *enabled, sbx_error *err)
{
	char f[PATH_MAX + 32];
	_cleanup_free_ char *a = NULL, *e = NULL;
	snprintf(f, sizeof(f), "%s/cgroup.controllers", base);
	int rc = read_proc(f, &a, err);
	if (rc < 0)
		return rc;
	snprintf(f, sizeof(f), "%s/cgroup.subtree_control", base);
	if ((rc = read_proc(f, &e, err)) < 0)
		return rc;
	*avail = sbx_oci_cg_v2_parse_list(a);
	*enabled = sbx_oci_cg_v2_parse_list(e);
	return 0;
}

int sbx_oci_cg_create(const sbx_oci_spec *s, const char *id, bool systemd, const char *parent,
		      sbx_oci_cg *cg, sbx_error *err)
{
	memset(cg, 0, sizeof(*cg));
	const sbx_oci_resources *r = s->has_resources ? &s->resources : &no_resources;
	char rel[SBX_OCI_CG_PATH_CAP + 1];
	int rc = sbx_oci_cg_relpath(s->cgroups_path, id, systemd, rel, sizeof(rel), err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *mountinfo = NULL, *self = NULL;
	if ((rc = read_proc("/proc/self/mountinfo", &mountinfo, err)) < 0 ||
	    (rc = read_proc("/proc/self/cgroup", &self, err)) < 0)
		return sbx_error_wrap(err, -SBX_E_CGROUP, "cgroups");
	_cleanup_free_ sbx_oci_cg_layout *l = malloc(sizeof(*l));
	if (!l)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	if ((rc = sbx_oci_cg_layout_parse(mountinfo, self, l, err)) < 0)
		return rc;
	if (parent && (rc = sbx_oci_cg_layout_reparent(l, parent, err)) < 0)
		return rc;

	/* Decide everything before making anything. */
	bool v1_devices;
	unsigned on_v1 = v1_coverage(l, &v1_devices);
	if ((rc = sbx_oci_cg_check(r, !(on_v1 & SBX_OCI_CG_CPU), !v1_devices, err)) < 0)
		return rc;
	unsigned need_v2 = sbx_oci_cg_wanted(r) & ~on_v1, enable_v2 = 0;
	if (need_v2) {
		const sbx_oci_cg_hier *v2 = NULL;
		for (size_t i = 0; i < l->n; i++)
			if (l->h[i].version == 2)
				v2 = &l->h[i];
		unsigned avail = 0, enabled = 0;
		if (v2 && (rc = v2_state(v2->base, &avail, &enabled, err)) < 0)
			return rc;
		for (unsigned bit = 1; bit <= SBX_OCI_CG_PIDS; bit <<= 1)
			if ((need_v2 & bit) && !(avail & bit))
				return sbx_fail(err, SBX_E_INVALID,
						"linux.resources: no %s controller for this "
						"process (neither cgroup v1 nor v2)",
						ctrl_name(bit));
		enable_v2 = need_v2 & ~enabled;
	}

	for (size_t i = 0; i < l->n; i++) {
		const sbx_oci_cg_hier *h = &l->h[i];
		bool v2 = h->version == 2;
		rc = make_dirs(h, rel, v2 ? enable_v2 : 0, v2 ? need_v2 : 0, &cg->dir[cg->n], err);
		if (rc < 0)
			goto fail;
		cg->n++;
		if (h->version == 1 && sbx_oci_cg_v1_has(h->name, "cpu") &&
		    (rc = rt_parents(&cg->dir[cg->n - 1], r, err)) < 0)
			goto fail;
		if (h->version == 1)
			rc = sbx_oci_cg_v1_apply(cg->dir[cg->n - 1].path, h->name, r, err);
		else
			rc = sbx_oci_cg_v2_apply(cg->dir[cg->n - 1].path, need_v2, r, err);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	for (size_t i = cg->n; i-- > 0;)
		remove_made(cg->dir[i].path, cg->dir[i].made);
	memset(cg, 0, sizeof(*cg));
	return rc;
}

int sbx_oci_cg_attach(const sbx_oci_cg *cg, pid_t pid, sbx_error *err)
{
	char s[24];
	snprintf(s, sizeof(s), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++) {
		int rc = write_in(cg->dir[i].path, "cgroup.procs", s, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The directory whose cgroup.procs is read: v2, else pids, else memory,
 * else the first. NULL when there is none. */
static const char *procs_dir(const sbx_oci_cg *cg)
{
	static const char *const order[] = {"pids", "memory"};
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dir[i].version == 2)
			return cg->dir[i].path;
	for (size_t k = 0; k < ARRAY_LEN(order); k++)
		for (size_t i = 0; i < cg->n; i++)
			if (sbx_oci_cg_v1_has(cg->dir[i].name, order[k]))
				return cg->dir[i].path;
	return cg->n ? cg->dir[0].path : NULL;
}

typedef struct pidvec {
	pid_t *v;
	size_t n, cap;
} pidvec;

static int pidvec_add(pidvec *pv, pid_t p)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 16;
		pid_t *nv = realloc(pv->v, cap * sizeof(*nv));
		if (!nv)
			return -1;
		pv->v = nv;
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
	return 0;
}

/* The pids of dir/cgroup.procs and of its sub-cgroups' (a container may
 * make some; v1's cgroup.procs lists only the cgroup's own), at most
 * MAX_DEPTH deep. A missing directory gives none. */
static int read_pids(const char *dir, int depth, pidvec *pv, sbx_error *err)
{
	char f[PATH_MAX + 32];
	snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
	_cleanup_free_ char *text = NULL;
	sbx_error e = {0};
	int rc = read_proc(f, &text, &e);
	if (rc == -SBX_E_NOTFOUND)
		return 0;
	if (rc < 0) {
		if (err)
			*err = e;
		return sbx_error_wrap(err, -SBX_E_CGROUP, "cgroup %s", dir);
	}
	for (const char *p = text; *p;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v <= 0 || v > INT_MAX || (*end && *end != '\n'))
			return sbx_fail(err, SBX_E_CGROUP, "cgroup %s: bad cgroup.procs line", dir);
		if (pv->n >= MAX_PIDS)
			return sbx_fail(err, SBX_E_CGROUP, "cgroup %s: more than %u processes", dir,
					MAX_PIDS);
		if (pidvec_add(pv, (pid_t)v) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		p = *end ? end + 1 : end;
	}
	if (depth >= MAX_DEPTH)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
				       : sbx_fail_errno(err, SBX_E_CGROUP, errno, "cgroup %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		int n = snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub))
			continue;
		if ((rc = read_pids(sub, depth + 1, pv, err)) < 0)
			return rc;
	}
	return 0;
}

/* rmdir dir's sub-cgroups, deepest first (at most MAX_DEPTH deep), then
 * dir. 0, or -1 with errno (ENOENT counts as removed). */
static int remove_tree(const char *dir, int depth)
{
	if (depth < MAX_DEPTH) {
		_cleanup_closedir_ DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			char sub[PATH_MAX];
			int n = snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			if (n > 0 && (size_t)n < sizeof(sub))
				remove_tree(sub, depth + 1);
		}
	}
	return rmdir(dir) < 0 && errno != ENOENT ? -1 : 0;
}

int sbx_oci_cg_pids(const sbx_oci_cg *cg, pid_t **pids, size_t *n, sbx_error *err)
{
	*pids = NULL;
	*n = 0;
	const char *dir = procs_dir(cg);
	pidvec pv = {0};
	int rc = dir ? read_pids(dir, 0, &pv, err) : 0;
	if (rc < 0) {
		free(pv.v);
		return rc;
	}
	*pids = pv.v;
	*n = pv.n;
	return 0;
}

static bool seen(const pid_t *v, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

int sbx_oci_cg_signal(const sbx_oci_cg *cg, int sig, sbx_error *err)
{
	_cleanup_free_ pid_t *sent = NULL;
	size_t n_sent = 0, cap = 0;
	for (int pass = 0; pass < SIGNAL_PASSES; pass++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		int rc = sbx_oci_cg_pids(cg, &pids, &n, err);
		if (rc < 0)
			return rc;
		bool fresh = false;
		for (size_t i = 0; i < n; i++) {
			if (seen(sent, n_sent, pids[i]))
				continue;
			if (kill(pids[i], sig) < 0 && errno != ESRCH)
				return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "kill %d",
						      (int)pids[i]);
			if (n_sent == cap) {
				cap = cap ? cap * 2 : 16;
				pid_t *ns = realloc(sent, cap * sizeof(*sent));
				if (!ns)
					return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
				sent = ns;
			}
			sent[n_sent++] = pids[i];
			fresh = true;
		}
		if (!fresh)
			break;
	}
	return 0;
}

int sbx_oci_cg_destroy(const sbx_oci_cg *cg, uint64_t deadline_ns, sbx_error *err)
{
	for (;;) {
		/* Each round: kill what is left (one pass, again: a process may have
		 * forked meanwhile), then try every directory. */
		sbx_error ignored = {0};
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		if (sbx_oci_cg_pids(cg, &pids, &n, &ignored) == 0)
			for (size_t i = 0; i < n; i++)
				kill(pids[i], SIGKILL);
		const char *busy = NULL;
		int busy_errno = 0;
		for (size_t i = cg->n; i-- > 0;)
			if (remove_made(cg->dir[i].path, cg->dir[i].made ? cg->dir[i].made : 1) <
			    0) {
				busy = cg->dir[i].path;
				busy_errno = errno;
			}
		if (!busy)
			return 0;
		if (busy_errno != EBUSY && busy_errno != ENOTEMPTY)
			return sbx_fail_errno(err, SBX_E_CGROUP, busy_errno,
					      "cannot remove cgroup %s", busy);
		if (sbx_now_ns() >= deadline_ns)
			return sbx_fail_errno(err, SBX_E_CGROUP, busy_errno,
					      "cgroup %s: still busy at the deadline", busy);
		sleep_ms(10);
	}
}
