/* Per-sandbox cgroups on v1 and v2 hierarchies. */
#include <dirent.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "base/procfs.h"
#include "base/readall.h"
#include "base/util.h"
#include "core/cgroup.h"

static const char *const ctrl_names[SBX_CG_N] = {"memory", "cpu", "pids"};

/* Host layout, discovered once per process. */
static sbx_cg_host host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

const char *sbx_cgroup_ctrl_name(int ctrl)
{
	return ctrl_names[ctrl];
}

/* Discovery reads /proc/self/mountinfo and /proc/self/cgroup directly:
 * libcgroup's cgroup_init() costs 1-2 ms per process, most of sbx's start-up
 * budget. libcgroup cross-checks this discovery (sbx_cgroup_crosscheck).
 * The parsing is in cgroup_host.c; here are only the reads. */
static void discover_host(void)
{
	_cleanup_free_ char *mountinfo = NULL, *own = NULL, *ctrls = NULL;
	char v2[PATH_MAX];
	sbx_read_all(AT_FDCWD, "/proc/self/mountinfo", 64u << 20, &mountinfo, NULL, NULL);
	sbx_read_all(AT_FDCWD, "/proc/self/cgroup", 1u << 20, &own, NULL, NULL);
	if (mountinfo && sbx_cg_v2_mount(mountinfo, v2, sizeof(v2)) == 0) {
		_cleanup_close_ int fd = open(v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			sbx_read_all(fd, "cgroup.controllers", 64u << 10, &ctrls, NULL, NULL);
	}
	sbx_cg_host_parse(mountinfo, own, ctrls, &host);
}

int sbx_cgroup_crosscheck(sbx_error *err)
{
	pthread_once(&host_once, discover_host);
	int rc = cgroup_init();
	if (rc != 0)
		return sbx_fail(err, SBX_E_CGROUP, "libcgroup: %s", cgroup_strerror(rc));
	for (int c = 0; c < SBX_CG_N; c++) {
		_cleanup_free_ char *mnt = NULL;
		int r = cgroup_get_subsys_mount_point(ctrl_names[c], &mnt);
		bool lib = r == 0 && mnt;
		bool ok =
		    lib ? host.version[c] && strcmp(mnt, host.mount[c]) == 0 : !host.version[c];
		if (!ok)
			return sbx_fail(err, SBX_E_CGROUP, "%s: libcgroup says %s, sbx found %s",
					ctrl_names[c], lib ? mnt : "not mounted",
					host.version[c] ? host.mount[c] : "not mounted");
	}
	return 0;
}

int sbx_cgroup_host_version(int ctrl, const char **mount, const char **own)
{
	pthread_once(&host_once, discover_host);
	if (mount)
		*mount = host.mount[ctrl];
	if (own)
		*own = host.own[ctrl];
	return host.version[ctrl];
}

void sbx_cgroup_init(sbx_cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	for (int c = 0; c < SBX_CG_N; c++)
		cg->dirfd[c] = -1;
	cg->v2_fd = -1;
}

/* a + "/" + b, without doubled slashes. */
static int join(char *out, size_t cap, const char *a, const char *b, sbx_error *err)
{
	size_t al = strlen(a);
	while (al > 1 && a[al - 1] == '/')
		al--;
	while (*b == '/')
		b++;
	int n = snprintf(out, cap, "%.*s%s%s", (int)al, a, *b && a[al - 1] != '/' ? "/" : "", b);
	if (n < 0 || (size_t)n >= cap)
		return sbx_fail_errno(err, SBX_E_CGROUP, ENAMETOOLONG, "cgroup: %s/%s", a, b);
	return 0;
}

/* parent dir (absolute path) of the sandbox cgroup for controller c. */
static int parent_path(int c, const char *parent, char *out, size_t cap, sbx_error *err)
{
	char base[PATH_MAX];
	if (!parent || parent[0] == '/')
		return join(out, cap, host.mount[c], parent ? parent : host.own[c], err);
	int r = join(base, sizeof(base), host.mount[c], host.own[c], err);
	return r < 0 ? r : join(out, cap, base, parent, err);
}

static int write_knob(sbx_cgroup *cg, int c, const char *knob, const char *val, sbx_error *err)
{
	sbx_error e;
	if (sbx_write_fileat(cg->dirfd[c], knob, val, &e) < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, e.sys_errno,
				      "cgroup: cannot write %s to %s/%s", val, cg->path[c], knob);
	return 0;
}

/* Is ctrl one of the words of list (cgroup.subtree_control)? */
static bool listed(char *list, const char *ctrl)
{
	char *save = NULL;
	for (char *w = strtok_r(list, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, ctrl) == 0)
			return true;
	return false;
}

/* cgroup v2: the parent must delegate the controller to its children. A
 * cgroup with member processes cannot (no internal processes), except the
 * root; we never enable controllers in the sandbox's own cgroup. */
static int v2_enable_in_parent(const char *ppath, const char *ctrl, sbx_error *err)
{
	_cleanup_close_ int pfd = open(ppath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[512], want[64];
	sbx_error e;
	if (pfd < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, errno,
				      "cgroup v2: cannot read %s/cgroup.subtree_control", ppath);
	if (sbx_read_fileat(pfd, "cgroup.subtree_control", buf, sizeof(buf), &e) < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, e.sys_errno,
				      "cgroup v2: cannot read %s/cgroup.subtree_control", ppath);
	if (listed(buf, ctrl))
		return 0;
	snprintf(want, sizeof(want), "+%s", ctrl);
	if (sbx_write_fileat(pfd, "cgroup.subtree_control", want, &e) == 0)
		return 0;
	if (e.sys_errno == EBUSY)
		return sbx_fail_errno(err, SBX_E_CGROUP, EBUSY,
				      "cgroup v2: cannot enable %s for children of %s (it has "
				      "member processes: use --cgroup-parent with an empty cgroup)",
				      ctrl, ppath);
	return sbx_fail_errno(err, SBX_E_CGROUP, e.sys_errno, "cgroup v2: cannot enable %s in %s",
			      ctrl, ppath);
}

static int make_dir(sbx_cgroup *cg, int c, const char *parent, sbx_error *err)
{
	char ppath[PATH_MAX];
	int r = parent_path(c, parent, ppath, sizeof(ppath), err);
	if (r < 0)
		return r;
	struct stat st;
	if (stat(ppath, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_fail(err, SBX_E_CGROUP, "cgroup parent not found: %s", ppath);
	if (host.version[c] == 2) {
		r = v2_enable_in_parent(ppath, ctrl_names[c], err);
		if (r < 0)
			return r;
	}
	char name[sizeof(cg->name)];
	memcpy(name, cg->name, sizeof(name));
	r = join(cg->path[c], PATH_MAX, ppath, name, err);
	if (r < 0)
		return r;
	if (mkdir(cg->path[c], 0755) < 0 && !(host.version[c] == 2 && errno == EEXIST))
		return sbx_fail_errno(err, SBX_E_CGROUP, errno, "cgroup: cannot create %s",
				      cg->path[c]);
	cg->dirfd[c] = open(cg->path[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd[c] < 0)
		return sbx_fail_errno(err, SBX_E_CGROUP, errno, "cgroup: cannot open %s",
				      cg->path[c]);
	sbx_debug("cgroup %s v%d %s", ctrl_names[c], host.version[c], cg->path[c]);
	return 0;
}

static int write_limits(sbx_cgroup *cg, int c, const sbx_cg_limits *lim, sbx_error *err)
{
	char v[64];
	int r = 0;
	int ver = cg->version[c];
	switch (c) {
	case SBX_CG_MEMORY:
		if (!lim->memory_bytes)
			return 0;
		snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->memory_bytes);
		if (ver == 2) {
			r = write_knob(cg, c, "memory.max", v, err);
			/* No swap: absent when the kernel has no swap accounting. */
			if (r == 0 && faccessat(cg->dirfd[c], "memory.swap.max", F_OK, 0) == 0)
				r = write_knob(cg, c, "memory.swap.max", "0", err);
		} else {
			r = write_knob(cg, c, "memory.limit_in_bytes", v, err);
			if (r == 0 &&
			    faccessat(cg->dirfd[c], "memory.memsw.limit_in_bytes", F_OK, 0) == 0)
				r = write_knob(cg, c, "memory.memsw.limit_in_bytes", v, err);
			if (r == 0) /* best effort: some kernels refuse it */
				sbx_write_fileat(cg->dirfd[c], "memory.swappiness", "0", NULL);
		}
		return r;
	case SBX_CG_CPU:
		if (!lim->cpu_millis)
			return 0;
		if (ver == 2) {
			snprintf(v, sizeof(v), "%u 100000", lim->cpu_millis * 100);
			return write_knob(cg, c, "cpu.max", v, err);
		}
		r = write_knob(cg, c, "cpu.cfs_period_us", "100000", err);
		snprintf(v, sizeof(v), "%u", lim->cpu_millis * 100);
		return r ? r : write_knob(cg, c, "cpu.cfs_quota_us", v, err);
	case SBX_CG_PIDS:
		if (!lim->pids_max)
			return 0;
		snprintf(v, sizeof(v), "%u", lim->pids_max);
		return write_knob(cg, c, "pids.max", v, err);
	}
	return 0;
}

int sbx_cgroup_create(sbx_cgroup *cg, const char *parent, const sbx_cg_limits *lim, sbx_error *err)
{
	pthread_once(&host_once, discover_host);
	sbx_cgroup_init(cg);
	if (parent && (strstr(parent, "..") || !parent[0]))
		return sbx_fail(err, SBX_E_INVALID, "invalid --cgroup-parent: %s", parent);
	/* sbx-<creator pid>-<random>: leftovers of a killed creator can be
	 * told from live sandboxes (sbx_cleanup). */
	char id[9];
	sbx_random_id(id, 8);
	snprintf(cg->name, sizeof(cg->name), "sbx-%d-%s", (int)getpid(), id);
	bool any = false;
	cg->all_v2 = true;
	for (int c = 0; c < SBX_CG_N; c++) {
		cg->version[c] = host.version[c];
		if (!cg->version[c]) {
			sbx_debug("cgroup %s unavailable", ctrl_names[c]);
			continue;
		}
		any = true;
		if (cg->version[c] != 2)
			cg->all_v2 = false;
		int r = make_dir(cg, c, parent, err);
		if (r == 0)
			r = write_limits(cg, c, lim, err);
		if (r < 0) {
			sbx_cgroup_destroy(cg);
			return r;
		}
		if (cg->version[c] == 2 && cg->v2_fd < 0)
			cg->v2_fd = dup(cg->dirfd[c]);
	}
	if (!any) {
		cg->all_v2 = false;
		return sbx_fail(
		    err, SBX_E_KERNEL,
		    "no cgroup hierarchy with the memory, cpu or pids controller is mounted");
	}
	return 0;
}

int sbx_cgroup_attach(sbx_cgroup *cg, pid_t pid, bool joined_v2, sbx_error *err)
{
	if (joined_v2)
		return 0;
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	/* v2 controllers share one cgroup: one write moves pid into all. */
	for (int c = 0; c < SBX_CG_N; c++)
		if (cg->dirfd[c] >= 0 && cg->version[c] == 2)
			return write_knob(cg, c, "cgroup.procs", v, err);
	return 0;
}

int sbx_cgroup_move(sbx_cgroup *cg, pid_t pid, sbx_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	bool v2_done = false;
	for (int c = 0; c < SBX_CG_N; c++) {
		if (cg->dirfd[c] < 0 || (cg->version[c] == 2 && v2_done))
			continue;
		int r = write_knob(cg, c, "cgroup.procs", v, err);
		if (r < 0)
			return r;
		v2_done |= cg->version[c] == 2;
	}
	return 0;
}

int sbx_cgroup_v1_task_fds(const sbx_cgroup *cg, int *fds, int max, sbx_error *err)
{
	int n = 0;
	for (int c = 0; c < SBX_CG_N && n < max; c++) {
		if (cg->dirfd[c] < 0 || cg->version[c] != 1)
			continue;
		int fd = openat(cg->dirfd[c], "tasks", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			while (n > 0)
				close(fds[--n]);
			return sbx_fail_errno(err, SBX_E_CGROUP, e, "cgroup: cannot open %s/tasks",
					      cg->path[c]);
		}
		fds[n++] = fd;
	}
	return n;
}

bool sbx_cgroup_host_any_v2(void)
{
	pthread_once(&host_once, discover_host);
	for (int c = 0; c < SBX_CG_N; c++)
		if (host.version[c] == 2)
			return true;
	return false;
}

static int first_fd(const sbx_cgroup *cg, int prefer)
{
	if (cg->dirfd[prefer] >= 0)
		return prefer;
	for (int c = 0; c < SBX_CG_N; c++)
		if (cg->dirfd[c] >= 0)
			return c;
	return -1;
}

static void kill_one(pid_t pid, void *arg)
{
	int *n = arg;
	if (kill(pid, SIGKILL) == 0)
		(*n)++;
}

/* SIGKILL every pid listed in cgroup.procs; returns how many were killed. */
static int kill_listed(int dirfd)
{
	char buf[16384];
	int n = 0;
	if (sbx_read_fileat(dirfd, "cgroup.procs", buf, sizeof(buf), NULL) > 0)
		sbx_pids_each(buf, kill_one, &n);
	return n;
}

const char *sbx_cgroup_kill(sbx_cgroup *cg)
{
	if (cg->v2_fd >= 0 && sbx_write_fileat(cg->v2_fd, "cgroup.kill", "1", NULL) == 0)
		return "cgroup.kill";
	int c = first_fd(cg, SBX_CG_PIDS);
	if (c < 0)
		return "none";
	/* v1 has no cgroup.kill: repeat while processes are listed (new ones
	 * may have been forked between read and kill). */
	for (int i = 0; i < 50 && kill_listed(cg->dirfd[c]) > 0; i++)
		;
	return "procs";
}

/* OOM kills counted in the memory cgroup at dirfd (v2 memory.events, v1
 * memory.oom_control), -1 if unknown. */
static long oom_kills(int dirfd, bool v2_only)
{
	int64_t k;
	if (sbx_read_key(dirfd, "memory.events", "oom_kill", &k, NULL) == 0 ||
	    (!v2_only && sbx_read_key(dirfd, "memory.oom_control", "oom_kill", &k, NULL) == 0))
		return (long)k;
	return -1;
}

bool sbx_cgroup_oom_killed(const sbx_cgroup *cg)
{
	int fd = cg->dirfd[SBX_CG_MEMORY];
	if (fd < 0)
		return false;
	if (cg->version[SBX_CG_MEMORY] == 2)
		return oom_kills(fd, true) > 0;
	long k = oom_kills(fd, false);
	if (k >= 0)
		return k > 0;
	/* Old v1 kernels: a hit limit with the OOM killer enabled. */
	int64_t failcnt;
	return sbx_read_key(fd, "memory.failcnt", NULL, &failcnt, NULL) == 0 && failcnt > 0;
}

void sbx_cgroup_set_weight(sbx_cgroup *cg, bool low)
{
	int fd = cg->dirfd[SBX_CG_CPU];
	if (fd < 0)
		return;
	if (cg->version[SBX_CG_CPU] == 2)
		sbx_write_fileat(fd, "cpu.weight", low ? "1" : "100", NULL);
	else
		sbx_write_fileat(fd, "cpu.shares", low ? "2" : "1024", NULL);
}

long sbx_cgroup_oom_count_at(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -1 : oom_kills(fd, false);
}

int sbx_cgroup_remove(int dirfd, const char *path, sbx_error *err)
{
	_cleanup_close_ int own = -1;
	uint64_t end = sbx_now_ns() + SBX_CG_REMOVE_MS * 1000000ull;
	for (;;) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return sbx_fail_errno(err, SBX_E_CGROUP, errno, "cgroup: cannot remove %s",
					      path);
		if (sbx_now_ns() >= end)
			return sbx_fail(err, SBX_E_CGROUP,
					"cgroup: cannot remove %s: still busy after %d ms", path,
					SBX_CG_REMOVE_MS);
		if (dirfd < 0 && own < 0)
			dirfd = own = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0 && sbx_write_fileat(dirfd, "cgroup.kill", "1", NULL) < 0)
			kill_listed(dirfd);
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
}

void sbx_cgroup_destroy(sbx_cgroup *cg)
{
	for (int c = 0; c < SBX_CG_N; c++) {
		if (cg->dirfd[c] < 0)
			continue;
		sbx_error e = {0};
		if (sbx_cgroup_remove(cg->dirfd[c], cg->path[c], &e) < 0)
			sbx_debug("%s", e.msg);
		sbx_closep(&cg->dirfd[c]);
		cg->path[c][0] = '\0';
	}
	sbx_closep(&cg->v2_fd);
}

/* sbx-<pid>-<hex>: the creator's pid, or 0 if the name is not ours. */
static pid_t creator_of(const char *name)
{
	if (strncmp(name, "sbx-", 4) != 0)
		return 0;
	char *end;
	long pid = strtol(name + 4, &end, 10);
	if (pid <= 0 || *end != '-' || strlen(end + 1) != 8)
		return 0;
	for (const char *h = end + 1; *h; h++)
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
			return 0;
	return (pid_t)pid;
}

/* ---- Ownership from the kernel, and the sweep --------------------------
 * An sbx cgroup is owned while a process outside it holds an fd open on its
 * directory: every owner (a one-shot run, a pool daemon, a supervisor) keeps
 * its cgroup dirfds (sbx_cgroup.dirfd) for the sandbox's whole life, and
 * the kernel closes them when it dies, however it dies. Processes inside the
 * cgroup do not count (a sandbox could otherwise keep itself "owned"). No
 * state file is consulted: the sweep finds every sbx-<pid>-<hex> cgroup of
 * every hierarchy (v1 and cgroup2) whatever state dir its owner used. */

/* The basename of path if it is an sbx cgroup name, else NULL. */
static const char *sbx_name_of(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return creator_of(b) ? b : NULL;
}

/* Is the sbx cgroup `name` listed in /proc/PID/cgroup (pid inside it)? */
static bool pid_inside(const char *pid, const char *name)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	if (sbx_read_fileat(AT_FDCWD, path, buf, sizeof(buf), NULL) <= 0)
		return false;
	size_t nl = strlen(name);
	for (const char *p = buf; (p = strstr(p, name)); p += nl)
		if (p > buf && p[-1] == '/' && (p[nl] == '\n' || p[nl] == '/' || !p[nl]))
			return true;
	return false;
}

/* Is the link target one of the hierarchies' cgroup dirs? */
static bool under_cgroup_mount(const char *target)
{
	for (int c = 0; c < SBX_CG_N; c++) {
		size_t ml = strlen(host.mount[c]);
		if (host.version[c] && ml && !strncmp(target, host.mount[c], ml) &&
		    target[ml] == '/')
			return true;
	}
	return false;
}

/* Call fn(pid, target, arg) for each fd of pid ("self" excluded by the
 * caller when needed) whose target is an sbx cgroup dir. */
static void each_held(const char *pid, void (*fn)(const char *pid, const char *target, void *),
		      void *arg)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char lp[96], target[PATH_MAX];
		snprintf(lp, sizeof(lp), "%s/%s", dir, e->d_name);
		ssize_t n = readlink(lp, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sbx_name_of(target) && under_cgroup_mount(target))
			fn(pid, target, arg);
	}
	closedir(d);
}

typedef struct held_list {
	char (*out)[PATH_MAX];
	int max, n;
} held_list;

static void add_held(const char *pid, const char *target, void *arg)
{
	(void)pid;
	held_list *h = arg;
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->out[i], target))
			return;
	if (h->n < h->max)
		snprintf(h->out[h->n++], PATH_MAX, "%s", target);
}

int sbx_cgroup_held_by(pid_t pid, char (*out)[PATH_MAX], int max)
{
	pthread_once(&host_once, discover_host);
	char p[24];
	snprintf(p, sizeof(p), "%d", (int)pid);
	held_list h = {out, max, 0};
	each_held(p, add_held, &h);
	return h.n;
}

typedef struct cand {
	char path[PATH_MAX];
	const char *name; /* in path */
	pid_t creator;
	bool owned;
} cand;

typedef struct cands {
	cand *v;
	size_t n, cap;
	bool oom;
} cands;

/* Depth-first over a hierarchy, collecting sbx cgroups (not below them). */
static void collect(const char *dir, int depth, cands *cs)
{
	if (depth > 8)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		pid_t creator = creator_of(e->d_name);
		if (!creator) {
			collect(path, depth + 1, cs);
			continue;
		}
		if (cs->n == cs->cap) {
			size_t nc = cs->cap ? cs->cap * 2 : 64;
			cand *g = realloc(cs->v, nc * sizeof(*g));
			if (!g) {
				cs->oom = true;
				continue;
			}
			cs->v = g;
			cs->cap = nc;
		}
		cand *c = &cs->v[cs->n++];
		memcpy(c->path, path, sizeof(path));
		c->name = strrchr(c->path, '/') + 1;
		c->creator = creator;
		c->owned = false;
	}
	closedir(d);
}

static void mark_owned(const char *pid, const char *target, void *arg)
{
	cands *cs = arg;
	const char *name = sbx_name_of(target);
	for (size_t i = 0; i < cs->n; i++) {
		cand *c = &cs->v[i];
		/* One sandbox has the same name in every hierarchy: an fd on
		 * any of its dirs owns them all. */
		if (!c->owned && !strcmp(c->name, name) && !pid_inside(pid, name))
			for (size_t k = i; k < cs->n; k++)
				if (!strcmp(cs->v[k].name, name))
					cs->v[k].owned = true;
	}
}

/* Mark every candidate some process outside it holds. */
static void scan_owners(cands *cs)
{
	DIR *d = opendir("/proc");
	if (!d) { /* no /proc: judge nothing orphaned */
		for (size_t i = 0; i < cs->n; i++)
			cs->v[i].owned = true;
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			each_held(e->d_name, mark_owned, cs);
	closedir(d);
}

bool sbx_cgroup_owned(const char *path)
{
	pthread_once(&host_once, discover_host);
	const char *name = sbx_name_of(path);
	if (!name)
		return true; /* not an sbx cgroup: never ours to judge */
	cand c = {.creator = creator_of(name)};
	if (snprintf(c.path, sizeof(c.path), "%s", path) >= (int)sizeof(c.path))
		return true;
	c.name = sbx_name_of(c.path);
	cands cs = {&c, 1, 1, false};
	scan_owners(&cs);
	return c.owned;
}

int sbx_cgroup_sweep(void)
{
	pthread_once(&host_once, discover_host);
	cands cs = {0};
	for (int c = 0; c < SBX_CG_N; c++) {
		bool seen = false; /* v2 controllers share one hierarchy */
		for (int k = 0; k < c; k++)
			seen |= host.version[k] && strcmp(host.mount[k], host.mount[c]) == 0;
		if (host.version[c] && !seen)
			collect(host.mount[c], 0, &cs);
	}
	/* Names point into the paths: set them once the array stopped moving
	 * (a realloc in collect would leave them dangling). */
	for (size_t i = 0; i < cs.n; i++)
		cs.v[i].name = strrchr(cs.v[i].path, '/') + 1;
	if (cs.n == 0) {
		free(cs.v);
		return 0;
	}
	scan_owners(&cs);
	/* A creator that is alive may be between its mkdir and its open:
	 * look again a little later before judging its cgroups orphaned. */
	bool again = false;
	for (size_t i = 0; i < cs.n; i++)
		again |= !cs.v[i].owned && !sbx_proc_gone(cs.v[i].creator);
	if (again) {
		for (size_t i = 0; i < cs.n; i++)
			cs.v[i].owned = false;
		nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
		scan_owners(&cs);
	}
	int n = 0;
	for (size_t i = 0; i < cs.n; i++) {
		if (cs.v[i].owned)
			continue;
		sbx_error e = {0};
		if (sbx_cgroup_remove(-1, cs.v[i].path, &e) == 0)
			n++;
		else
			sbx_debug("sweep: %s", e.msg);
	}
	free(cs.v);
	return n;
}
