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
#include "base/util.h"
#include "core/cgroup.h"

static const char *const ctrl_names[SBX_CG_N] = {"memory", "cpu", "pids"};

/* Host layout, discovered once per process. */
static struct {
	int version[SBX_CG_N];
	char mount[SBX_CG_N][PATH_MAX]; /* hierarchy mount point */
	char own[SBX_CG_N][PATH_MAX];	/* our cgroup, relative to the mount */
} host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

const char *sbx_cgroup_ctrl_name(int ctrl)
{
	return ctrl_names[ctrl];
}

/* Discovery reads /proc/self/mountinfo and /proc/self/cgroup directly:
 * libcgroup's cgroup_init() costs 1-2 ms per process, most of sbx's start-up
 * budget. libcgroup cross-checks this discovery (sbx_cgroup_crosscheck). */

static bool has_word(const char *list, const char *word, char sep)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, sep);
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == wl && strncmp(p, word, wl) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Our cgroup for a v1 controller (or the "0::" v2 line with ctrl NULL). */
static int own_path(const char *ctrl, char *out, size_t cap)
{
	char buf[8192];
	if (sbx_read_fileat(AT_FDCWD, "/proc/self/cgroup", buf, sizeof(buf)) < 0)
		return -1;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		bool match = ctrl ? has_word(c1 + 1, ctrl, ',') : (c1[1] == '\0');
		if (match) {
			snprintf(out, cap, "%s", c2 + 1);
			return 0;
		}
	}
	return -1;
}

static bool v2_has_controller(const char *mount, const char *ctrl)
{
	char buf[512];
	_cleanup_close_ int fd = open(mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || sbx_read_fileat(fd, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return false;
	for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n"))
		if (strcmp(w, ctrl) == 0)
			return true;
	return false;
}

static void discover_host(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t n = 0;
	char v2mount[PATH_MAX] = "";
	while (f && getline(&line, &n, f) > 0) {
		/* id parent maj:min root mountpoint opts... - fstype source super */
		char root[PATH_MAX], mnt[PATH_MAX], fstype[32], super[512];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !v2mount[0]) {
			snprintf(v2mount, sizeof(v2mount), "%s", mnt);
			continue;
		}
		if (strcmp(fstype, "cgroup") != 0 || strcmp(root, "/") != 0)
			continue;
		for (int c = 0; c < SBX_CG_N; c++) {
			if (host.version[c] || !has_word(super, ctrl_names[c], ','))
				continue;
			if (own_path(ctrl_names[c], host.own[c], PATH_MAX) == 0) {
				host.version[c] = 1;
				snprintf(host.mount[c], PATH_MAX, "%s", mnt);
			}
		}
	}
	free(line);
	if (f)
		fclose(f);
	char v2own[PATH_MAX] = "/";
	if (v2mount[0])
		own_path(NULL, v2own, sizeof(v2own));
	for (int c = 0; c < SBX_CG_N; c++) {
		if (!host.version[c] && v2mount[0] && v2_has_controller(v2mount, ctrl_names[c])) {
			host.version[c] = 2;
			snprintf(host.mount[c], PATH_MAX, "%s", v2mount);
			snprintf(host.own[c], PATH_MAX, "%s", v2own);
		}
	}
}

int sbx_cgroup_crosscheck(char *msg, size_t cap)
{
	pthread_once(&host_once, discover_host);
	int rc = cgroup_init();
	if (rc != 0) {
		snprintf(msg, cap, "libcgroup: %s", cgroup_strerror(rc));
		return -1;
	}
	for (int c = 0; c < SBX_CG_N; c++) {
		char *mnt = NULL;
		int r = cgroup_get_subsys_mount_point(ctrl_names[c], &mnt);
		bool lib = r == 0 && mnt;
		bool ok =
		    lib ? host.version[c] && strcmp(mnt, host.mount[c]) == 0 : !host.version[c];
		if (!ok)
			snprintf(msg, cap, "%s: libcgroup says %s, sbx found %s", ctrl_names[c],
				 lib ? mnt : "not mounted",
				 host.version[c] ? host.mount[c] : "not mounted");
		free(mnt);
		if (!ok)
			return -1;
	}
	snprintf(msg, cap, "cgroup discovery agrees with libcgroup");
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
static int join(char *out, size_t cap, const char *a, const char *b)
{
	size_t al = strlen(a);
	while (al > 1 && a[al - 1] == '/')
		al--;
	while (*b == '/')
		b++;
	int n = snprintf(out, cap, "%.*s%s%s", (int)al, a, *b && a[al - 1] != '/' ? "/" : "", b);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* parent dir (absolute path) of the sandbox cgroup for controller c. */
static int parent_path(int c, const char *parent, char *out, size_t cap)
{
	char base[PATH_MAX];
	if (!parent || parent[0] == '/')
		return join(out, cap, host.mount[c], parent ? parent : host.own[c]);
	if (join(base, sizeof(base), host.mount[c], host.own[c]) < 0)
		return -1;
	return join(out, cap, base, parent);
}

static int write_knob(sbx_cgroup *cg, int c, const char *knob, const char *val, sbx_error *err)
{
	int r = sbx_write_fileat(cg->dirfd[c], knob, val);
	if (r < 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup: cannot write %s to %s/%s: %s", val,
				cg->path[c], knob, strerror(-r));
	return 0;
}

/* cgroup v2: the parent must delegate the controller to its children. A
 * cgroup with member processes cannot (no internal processes), except the
 * root; we never enable controllers in the sandbox's own cgroup. */
static int v2_enable_in_parent(const char *ppath, const char *ctrl, sbx_error *err)
{
	_cleanup_close_ int pfd = open(ppath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[512], want[64];
	if (pfd < 0 || sbx_read_fileat(pfd, "cgroup.subtree_control", buf, sizeof(buf)) < 0)
		return sbx_fail(err, SBX_E_CGROUP,
				"cgroup v2: cannot read %s/cgroup.subtree_control", ppath);
	for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n"))
		if (strcmp(w, ctrl) == 0)
			return 0;
	snprintf(want, sizeof(want), "+%s", ctrl);
	int r = sbx_write_fileat(pfd, "cgroup.subtree_control", want);
	if (r == -EBUSY)
		return sbx_fail(err, SBX_E_CGROUP,
				"cgroup v2: cannot enable %s for children of %s: it has member "
				"processes (use --cgroup-parent with an empty cgroup)",
				ctrl, ppath);
	if (r < 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup v2: cannot enable %s in %s: %s", ctrl,
				ppath, strerror(-r));
	return 0;
}

static int make_dir(sbx_cgroup *cg, int c, const char *parent, sbx_error *err)
{
	char ppath[PATH_MAX];
	if (parent_path(c, parent, ppath, sizeof(ppath)) < 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup: path too long");
	struct stat st;
	if (stat(ppath, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_fail(err, SBX_E_CGROUP, "cgroup parent not found: %s", ppath);
	if (host.version[c] == 2) {
		int r = v2_enable_in_parent(ppath, ctrl_names[c], err);
		if (r < 0)
			return r;
	}
	char name[sizeof(cg->name)];
	memcpy(name, cg->name, sizeof(name));
	if (join(cg->path[c], PATH_MAX, ppath, name) < 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup: path too long");
	if (mkdir(cg->path[c], 0755) < 0 && !(host.version[c] == 2 && errno == EEXIST))
		return sbx_fail(err, SBX_E_CGROUP, "cgroup: cannot create %s: %s", cg->path[c],
				strerror(errno));
	cg->dirfd[c] = open(cg->path[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd[c] < 0)
		return sbx_fail(err, SBX_E_CGROUP, "cgroup: cannot open %s: %s", cg->path[c],
				strerror(errno));
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
			if (r == 0)
				sbx_write_fileat(cg->dirfd[c], "memory.swappiness", "0");
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

int sbx_cgroup_v1_task_fds(const sbx_cgroup *cg, int *fds, int max)
{
	int n = 0;
	for (int c = 0; c < SBX_CG_N && n < max; c++) {
		if (cg->dirfd[c] < 0 || cg->version[c] != 1)
			continue;
		int fd = openat(cg->dirfd[c], "tasks", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			while (n > 0)
				close(fds[--n]);
			return -errno;
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
	if (sbx_read_fileat(dirfd, "cgroup.procs", buf, sizeof(buf)) > 0)
		sbx_pids_each(buf, kill_one, &n);
	return n;
}

const char *sbx_cgroup_kill(sbx_cgroup *cg)
{
	if (cg->v2_fd >= 0 && sbx_write_fileat(cg->v2_fd, "cgroup.kill", "1") == 0)
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
		sbx_write_fileat(fd, "cpu.weight", low ? "1" : "100");
	else
		sbx_write_fileat(fd, "cpu.shares", low ? "2" : "1024");
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
		if (dirfd >= 0 && sbx_write_fileat(dirfd, "cgroup.kill", "1") < 0)
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

/* Depth-first over a hierarchy, removing our dead creators' empty cgroups. */
static int sweep(const char *dir, int depth)
{
	if (depth > 8)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		pid_t creator = creator_of(e->d_name);
		if (!creator) {
			n += sweep(path, depth + 1);
			continue;
		}
		/* Only empty ones: what runs in a cgroup is not ours to judge
		 * by its name alone. */
		char procs[16];
		_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (sbx_proc_gone(creator) && fd >= 0 &&
		    sbx_read_fileat(fd, "cgroup.procs", procs, sizeof(procs)) == 0 &&
		    sbx_cgroup_remove(fd, path, NULL) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int sbx_cgroup_sweep(void)
{
	pthread_once(&host_once, discover_host);
	int n = 0;
	for (int c = 0; c < SBX_CG_N; c++) {
		bool seen = false; /* v2 controllers share one hierarchy */
		for (int k = 0; k < c; k++)
			seen |= host.version[k] && strcmp(host.mount[k], host.mount[c]) == 0;
		if (host.version[c] && !seen)
			n += sweep(host.mount[c], 0);
	}
	return n;
}
