/* native driver: what works on this host for it (sbx check). */
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "core/cgroup.h"
#include "core/idshift.h"
#include "core/netd.h"
#include "core/userns.h"
#include "drivers/native.h"
#include "state/store.h"

typedef struct report {
	sbx_health_line out;
	void *ctx;
	int failed;
} report;

static void line(report *r, bool ok, bool required, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void line(report *r, bool ok, bool required, const char *what, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	r->out(r->ctx, ok, required, what, detail);
	if (!ok && required)
		r->failed++;
}

/* Can a child create this namespace? */
static int try_unshare(int flag, sbx_error *err)
{
	pid_t p = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | flag | SIGCHLD, 0, NULL, NULL, 0);
	if (p == 0)
		_exit(0);
	if (p < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "cannot be created");
	int st;
	if (waitpid(p, &st, 0) != p)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot be created: waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return sbx_fail(err, SBX_E_KERNEL, "cannot be created: the child failed");
	return 0;
}

int sbx_native_health(const sbx_driver *d, const sbx_config *cfg, sbx_health_line out, void *ctx)
{
	report rep = {out, ctx, 0}, *r = &rep;
	struct utsname u;
	uname(&u);
	line(r, true, false, "kernel", "%s %s", u.release, u.machine);
	line(r, geteuid() == 0, true, "privilege",
	     geteuid() == 0 ? "running as root" : "needs root");
	static const struct {
		int flag;
		const char *name;
	} ns[] = {{0, "user"},
		  {CLONE_NEWPID, "pid"},
		  {CLONE_NEWNS, "mount"},
		  {CLONE_NEWNET, "net"},
		  {CLONE_NEWIPC, "ipc"},
		  {CLONE_NEWUTS, "uts"},
		  {CLONE_NEWCGROUP, "cgroup"}};
	for (size_t i = 0; i < ARRAY_LEN(ns); i++) {
		char what[32];
		snprintf(what, sizeof(what), "%s namespace", ns[i].name);
		sbx_error e;
		if (try_unshare(ns[i].flag, &e) == 0)
			line(r, true, true, what, "available");
		else
			line(r, false, true, what, "%s", e.msg);
	}
	char buf[256];
	bool sc = sbx_read_fileat(AT_FDCWD, "/proc/sys/kernel/seccomp/actions_avail", buf,
				  sizeof(buf), NULL) > 0;
	if (sc)
		buf[strcspn(buf, "\n")] = '\0';
	if (sc)
		line(r, true, true, "seccomp", "filters: %s", buf);
	else
		line(r, false, true, "seccomp", "not available");
	for (int c = 0; c < SBX_CG_N; c++) {
		const char *mnt, *own;
		int v = sbx_cgroup_host_version(c, &mnt, &own);
		char what[32];
		snprintf(what, sizeof(what), "cgroup %s", sbx_cgroup_ctrl_name(c));
		if (v)
			line(r, true, true, what, "v%d at %s, own cgroup %s", v, mnt, own);
		else
			line(r, false, true, what, "controller not mounted");
	}
	sbx_error cerr;
	bool agree = sbx_cgroup_crosscheck(&cerr) == 0;
	line(r, agree, false, "cgroup discovery", "%s",
	     agree ? "cgroup discovery agrees with libcgroup" : cerr.msg);
	if (sbx_cgroup_host_version(SBX_CG_MEMORY, NULL, NULL) == 1 &&
	    sbx_read_fileat(AT_FDCWD, "/sys/kernel/rcu_expedited", buf, sizeof(buf), NULL) > 0)
		line(r, true, false, "cgroup v1 note",
		     "sbx joins v1 cgroups without a grace period; other tools pay 5-10 ms per "
		     "migration (rcu_expedited=%c)",
		     buf[0]);
	/* idmapped mounts, for workspaces owned by someone else: on the state
	 * dir's file system (or its nearest existing parent), where sandboxes'
	 * own workspaces live */
	char sd[PATH_MAX];
	snprintf(sd, sizeof(sd), "%s", sbx_state_root());
	struct stat sst;
	while (stat(sd, &sst) < 0 && strrchr(sd, '/') && strcmp(sd, "/")) {
		char *slash = strrchr(sd, '/');
		slash[slash == sd] = '\0';
	}
	sbx_error ierr;
	int im = sbx_workspace_idmap_probe(sd, &ierr);
	char type[32];
	sbx_fstype_of(sd, type, sizeof(type));
	if (im == 1)
		line(r, true, false, "idmapped mounts", "supported on the state dir %s (%s)", sd,
		     type);
	else if (im == 0)
		line(r, false, false, "idmapped mounts",
		     "not on the state dir %s (%s): own workspaces are shifted to each start's "
		     "ids instead; host directories there need --map-uid/--map-gid of their owner",
		     sd, type);
	else
		line(r, false, false, "idmapped mounts", "%s", ierr.msg);
	const char *rootfs = cfg->rootfs ? cfg->rootfs : sbx_default_rootfs();
	char py[PATH_MAX + 32];
	snprintf(py, sizeof(py), "%s/usr/bin/python3", rootfs);
	struct stat st;
	bool have = stat(rootfs, &st) == 0 && S_ISDIR(st.st_mode);
	if (have)
		line(r, true, true, "rootfs", "%s", rootfs);
	else
		line(r, false, true, "rootfs", "%s not found (make rootfs)", rootfs);
	if (have)
		line(r, access(py, X_OK) == 0, true, "python3", "%s",
		     access(py, X_OK) == 0 ? py : "no /usr/bin/python3 in the rootfs");
	char nd[256];
	sbx_error nerr;
	if (sbx_netd_available(nd, sizeof(nd), &nerr) == 0)
		line(r, true, false, "net egress", "%s", nd);
	else
		line(r, false, false, "net egress", "%s", nerr.msg);
	if (r->failed)
		return r->failed;
	/* End to end: a real sandbox. */
	sbx_config c = *cfg;
	const char *argv[] = {"python3", "-c", "print(6*7)", NULL};
	c.argv = argv;
	c.capture = true;
	c.timeout_ms = 30000;
	sbx_result res;
	sbx_error err = {0};
	int rc = d->run(d, &c, &res, &err);
	bool ok =
	    rc == 0 && res.exit_code == 0 && res.stdout_buf && !strcmp(res.stdout_buf, "42\n");
	if (ok)
		line(r, true, true, "sandbox run", "python3 -c 'print(6*7)' printed 42 in %llu ms",
		     (unsigned long long)res.duration_ms);
	else
		line(r, false, true, "sandbox run", "%s", rc < 0 ? err.msg : "unexpected result");
	if (rc == 0)
		sbx_result_free(&res);
	return r->failed;
}
