/* The container's process: its last steps before execve, in the order runc
 * and crun take them (see process.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/util.h"
#include "ocirt/process.h"
#include "ocirt/process_int.h"
#include "ocirt/rootfs_dev.h"
#include "ocirt/seccomp.h"

/* PATH when the process's env has none (as execvp's own default would be
 * too short for most images, the one runc's and crun's configs carry). */
static const char DEFAULT_PATH[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static const char *const RLIMIT_NAMES[] = {
    [RLIMIT_CPU] = "RLIMIT_CPU",	   [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
    [RLIMIT_DATA] = "RLIMIT_DATA",	   [RLIMIT_STACK] = "RLIMIT_STACK",
    [RLIMIT_CORE] = "RLIMIT_CORE",	   [RLIMIT_RSS] = "RLIMIT_RSS",
    [RLIMIT_NPROC] = "RLIMIT_NPROC",	   [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
    [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
    [RLIMIT_LOCKS] = "RLIMIT_LOCKS",	   [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
    [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
    [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",	   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

/* CAP_SYS_RESOURCE in our effective set (raising a hard limit needs it). */
static bool have_sys_resource(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return (data[CAP_SYS_RESOURCE / 32].effective >> (CAP_SYS_RESOURCE % 32)) & 1;
}

int sbx_oci_rlimits_check(const sbx_oci_process *p, sbx_error *err)
{
	bool can_raise = have_sys_resource();
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const sbx_oci_rlimit *l = &p->rlimits[i];
		struct rlimit cur;
		if (l->soft > l->hard || getrlimit(l->resource, &cur) < 0 ||
		    (l->hard > cur.rlim_max && !can_raise)) {
			const char *name = l->resource >= 0 &&
						   (size_t)l->resource < ARRAY_LEN(RLIMIT_NAMES) &&
						   RLIMIT_NAMES[l->resource]
					       ? RLIMIT_NAMES[l->resource]
					       : "?";
			return sbx_fail_errno(err, SBX_E_SETUP, EPERM, "setrlimit %s", name);
		}
	}
	return 0;
}

int sbx_oci_rlimits_apply(const sbx_oci_process *p, bool only_raised, sbx_error *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const sbx_oci_rlimit *l = &p->rlimits[i];
		struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard}, cur;
		if (only_raised && getrlimit(l->resource, &cur) == 0 && l->hard <= cur.rlim_max)
			continue;
		if (setrlimit(l->resource, &rl) == 0)
			continue;
		int e = errno;
		if (l->resource >= 0 && (size_t)l->resource < ARRAY_LEN(RLIMIT_NAMES) &&
		    RLIMIT_NAMES[l->resource])
			return sbx_fail_errno(err, SBX_E_SETUP, e, "setrlimit %s",
					      RLIMIT_NAMES[l->resource]);
		return sbx_fail_errno(err, SBX_E_SETUP, e, "setrlimit %d", l->resource);
	}
	return 0;
}

static int set_oom_score_adj(const sbx_oci_process *p, sbx_error *err)
{
	if (!p->has_oom_score_adj)
		return 0;
	char v[24];
	snprintf(v, sizeof(v), "%d", p->oom_score_adj);
	sbx_error e;
	if (sbx_write_file("/proc/self/oom_score_adj", v, &e) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, e.sys_errno, "set oom_score_adj %d",
				      p->oom_score_adj);
	return 0;
}

/* Whether setgroups(2) is allowed here: not in a user namespace whose
 * /proc/self/setgroups says "deny". */
static bool setgroups_allowed(void)
{
	char buf[16];
	if (sbx_read_fileat(AT_FDCWD, "/proc/self/setgroups", buf, sizeof(buf), NULL) <= 0)
		return true;
	return strncmp(buf, "deny", 4) != 0;
}

static int set_user(const sbx_oci_process *p, sbx_error *err)
{
	if (setgroups_allowed()) {
		gid_t *g = NULL;
		_cleanup_free_ gid_t *gids = NULL;
		if (p->n_additional_gids) {
			gids = calloc(p->n_additional_gids, sizeof(*gids));
			if (!gids)
				return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
			for (size_t i = 0; i < p->n_additional_gids; i++)
				gids[i] = p->additional_gids[i];
			g = gids;
		}
		if (setgroups(p->n_additional_gids, g) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "setgroups");
	}
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "setresgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "setresuid %u", p->uid);
	return 0;
}

/* Every fd from 3 + preserve_fds on is closed at exec (keep_fd, CLOEXEC
 * already, stays open until then); the preserved ones survive it. */
static int close_fds(const sbx_oci_exec_opts *o, sbx_error *err)
{
	int preserve = o->preserve_fds > 0 ? o->preserve_fds : 0;
	unsigned first = 3u + (unsigned)preserve;
	if (close_range(first, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		/* Kernels before 5.11: one fd at a time. */
		_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
		if (!d)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "open /proc/self/fd");
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);
			if (*end || end == de->d_name || fd < (long)first || fd == dirfd(d))
				continue;
			fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		}
	}
	/* No fd is above the kernel's nr_open ceiling (2^20 by default): a huge
	 * --preserve-fds is not a long loop. */
	int last = preserve < (1 << 20) ? 3 + preserve : 3 + (1 << 20);
	for (int fd = 3; fd < last; fd++)
		if (fd != o->keep_fd && fcntl(fd, F_SETFD, 0) < 0 && errno != EBADF)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "preserve fd %d", fd);
	return 0;
}

static const char *env_path(char *const *env)
{
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			return env[i] + 5;
	return DEFAULT_PATH;
}

/* p->env, or a copy of it with HOME added when it has none (*copy and
 * *home then the caller's to free). NULL only when out of memory. */
static char **env_with_home(const sbx_oci_process *p, char ***copy, char **home)
{
	size_t n = 0;
	for (; p->env && p->env[n]; n++)
		if (!strncmp(p->env[n], "HOME=", 5))
			return p->env;
	if (!(*home = sbx_oci_home_env(p->uid)) || !(*copy = calloc(n + 2, sizeof(char *))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		(*copy)[i] = p->env[i];
	(*copy)[n] = *home;
	return *copy;
}

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* args[0] as execvpe would find it, with PATH from env: a new string in
 * *out, or -SBX_E_SETUP ("exec: \"foo\": executable file not found in
 * $PATH", as runc says it). A name with a '/' is taken as it is. */
static int look_up(const char *name, char *const *env, char **out, sbx_error *err)
{
	if (!*name)
		return sbx_fail(err, SBX_E_SETUP, "exec: \"\": executable file not found in $PATH");
	if (strchr(name, '/')) {
		if (!(*out = strdup(name)))
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		return 0;
	}
	const char *path = env_path(env);
	for (const char *s = path;;) {
		const char *e = strchr(s, ':');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char *cand;
		/* An empty entry is the current directory. */
		if (asprintf(&cand, "%.*s/%s", n ? (int)n : 1, n ? s : ".", name) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		if (is_executable(cand)) {
			*out = cand;
			return 0;
		}
		free(cand);
		if (!e)
			break;
		s = e + 1;
	}
	int r =
	    sbx_fail(err, SBX_E_SETUP, "exec: \"%s\": executable file not found in $PATH", name);
	if (err)
		err->sys_errno = ENOENT;
	return r;
}

static int load_seccomp(const sbx_oci_exec_opts *o, sbx_error *err)
{
	if (!o->seccomp)
		return 0;
	return sbx_oci_seccomp_load(o->seccomp, o->seccomp_flags, err);
}

/* The terminal's last steps: made here when the caller has not made it
 * (console_sock given), bound over /dev/console when asked, and the
 * process's own (it may not be root; ignored where its uid has no
 * mapping). */
static int terminal(const sbx_oci_process *p, const sbx_oci_exec_opts *o, sbx_error *err)
{
	int r;
	if (o->console_sock >= 0 && (r = sbx_oci_console_setup(o->console_sock, err)) < 0)
		return r;
	if (!isatty(0))
		return sbx_fail(err, SBX_E_SETUP,
				"process.terminal is set but there is no terminal");
	if (o->console_mount && (r = sbx_oci_dev_console("/proc/self/fd/0", err)) < 0)
		return r;
	if (fchown(0, p->uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: chown");
	return 0;
}

int sbx_oci_process_exec(const sbx_oci_process *p, const sbx_oci_exec_opts *o, sbx_error *err)
{
	int r;
	if (p->apparmor_profile)
		return sbx_fail(err, SBX_E_SETUP, "process.apparmorProfile is not supported");
	if (p->selinux_label)
		return sbx_fail(err, SBX_E_SETUP, "process.selinuxLabel is not supported");
	if (!p->args || !p->args[0])
		return sbx_fail(err, SBX_E_SETUP, "process.args is empty");
	if (p->terminal && (r = terminal(p, o, err)) < 0)
		return r;
	if ((r = set_oom_score_adj(p, err)) < 0)
		return r;
	/* Limits raised above ours need CAP_SYS_RESOURCE: now, before the
	 * capability drop; the rest at the end (a small RLIMIT_AS or
	 * RLIMIT_DATA must not starve our own allocations before exec). */
	if ((r = sbx_oci_rlimits_apply(p, true, err)) < 0)
		return r;
	umask(p->has_umask ? p->umask : 0022);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before
	 * the user change and the capability drop. */
	if (!p->no_new_privileges && (r = load_seccomp(o, err)) < 0)
		return r;
	_cleanup_free_ char **env_copy = NULL;
	_cleanup_free_ char *home = NULL;
	char **env = env_with_home(p, &env_copy, &home);
	if (!env)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	if ((r = close_fds(o, err)) < 0)
		return r;
	if ((r = sbx_oci_caps_bound(p, err)) < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "prctl(PR_SET_KEEPCAPS)");
	if ((r = set_user(p, err)) < 0)
		return r;
	/* As the process's user: a cwd it cannot enter is its error. */
	const char *cwd = p->cwd ? p->cwd : "/";
	if (chdir(cwd) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno,
				      "chdir to cwd (\"%s\") set in config.json failed", cwd);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "prctl(PR_SET_KEEPCAPS)");
	if ((r = sbx_oci_caps_set(p, err)) < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	if ((r = look_up(p->args[0], p->env, &path, err)) < 0)
		return r;
	if ((r = sbx_oci_rlimits_apply(p, false, err)) < 0)
		return r;
	/* With no_new_privs, as late as can be: the filter sees only execve. */
	if (p->no_new_privileges && (r = load_seccomp(o, err)) < 0)
		return r;
	execve(path, p->args, env);
	return sbx_fail_errno(err, SBX_E_SETUP, errno, "exec %s", p->args[0]);
}
