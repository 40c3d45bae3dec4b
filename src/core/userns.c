/* User namespace id maps and the idmapped workspace mount. */
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/util.h"
#include "core/launch.h"
#include "core/userns.h"

static int write_map(pid_t pid, const char *which, unsigned inside, unsigned outside,
		     unsigned count, sbx_error *err)
{
	char path[64], line[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
	snprintf(line, sizeof(line), "%u %u %u\n", inside, outside, count);
	return sbx_write_file(path, line, err);
}

int sbx_userns_write_maps(pid_t pid, uid_t uid, gid_t gid, uint32_t count, sbx_error *err)
{
	sbx_error e;
	int r = write_map(pid, "uid_map", 0, uid, count, &e);
	if (r == 0)
		r = write_map(pid, "gid_map", 0, gid, count, &e);
	if (r < 0)
		return sbx_fail_errno(err, e.sys_errno == EPERM ? SBX_E_PRIVILEGE : SBX_E_KERNEL,
				      e.sys_errno, "user namespace id map");
	return 0;
}

int sbx_userns_owner_enter(uid_t owner, int *saved, sbx_error *err)
{
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (bits < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "securebits");
	*saved = bits;
	if (!(bits & SECBIT_NO_SETUID_FIXUP) &&
	    prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0)
		return sbx_fail_errno(err, SBX_E_PRIVILEGE, errno, "securebits");
	if (syscall(SYS_setresuid, -1, owner, -1) < 0) {
		int e = errno;
		prctl(PR_SET_SECUREBITS, bits, 0, 0, 0);
		return sbx_fail_errno(err, SBX_E_PRIVILEGE, e, "user namespace owner %u",
				      (unsigned)owner);
	}
	return 0;
}

void sbx_userns_owner_leave(int saved)
{
	/* The real and saved uids stayed 0: this cannot fail. */
	syscall(SYS_setresuid, -1, 0, -1);
	prctl(PR_SET_SECUREBITS, saved, 0, 0, 0);
}

void sbx_userns_owner_child(int saved)
{
	/* Root of the new namespace: CAP_SETPCAP there. */
	prctl(PR_SET_SECUREBITS, saved, 0, 0, 0);
}

/* A user namespace mapping one uid and one gid (kept open, owned by a
 * child that is gone once the fd is taken). The fd, or negative with err. */
static int make_userns(uid_t in_uid, uid_t out_uid, gid_t in_gid, gid_t out_gid, sbx_error *err)
{
	pid_t h = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
	if (h < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "new user namespace");
	if (h == 0) {
		for (;;)
			pause();
	}
	int fd = write_map(h, "uid_map", in_uid, out_uid, 1, err);
	if (fd == 0)
		fd = write_map(h, "gid_map", in_gid, out_gid, 1, err);
	if (fd == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)h);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = sbx_fail_errno(err, SBX_E_KERNEL, errno, "open %s", path);
	}
	kill(h, SIGKILL);
	while (waitpid(h, NULL, __WALL) < 0 && errno == EINTR)
		;
	return fd;
}

/* Namespaces are cached per (owner, target) pair: creating one costs a
 * fork, and a process rarely sees more than a few workspace owners. */
static struct {
	uid_t ou, mu;
	gid_t og, mg;
	int fd;
} cache[16];
static size_t cache_n;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int idmap_userns(uid_t ou, gid_t og, uid_t mu, gid_t mg, bool *owned, sbx_error *err)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_n; i++) {
		if (cache[i].ou == ou && cache[i].og == og && cache[i].mu == mu &&
		    cache[i].mg == mg) {
			int fd = cache[i].fd;
			pthread_mutex_unlock(&cache_lock);
			*owned = false;
			return fd;
		}
	}
	int fd = make_userns(ou, mu, og, mg, err);
	*owned = true;
	if (fd >= 0 && cache_n < ARRAY_LEN(cache)) {
		cache[cache_n++] = (typeof(cache[0])){ou, mu, og, mg, fd};
		*owned = false;
	}
	pthread_mutex_unlock(&cache_lock);
	return fd;
}

int sbx_workspace_mount(const char *dir, bool ro, uid_t map_uid, gid_t map_gid, bool *idmapped,
			sbx_error *err)
{
	struct stat st;
	*idmapped = false;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_fail(err, SBX_E_PATH, "workspace is not a directory: %s", dir);
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "workspace %s: open_tree", dir);
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0),
	};
	bool owned = false;
	sbx_error why; /* why there is no idmap: the fallback is silent */
	int ns = idmap_userns(st.st_uid, st.st_gid, map_uid, map_gid, &owned, &why);
	if (ns >= 0) {
		struct mount_attr ia = attr;
		ia.attr_set |= MOUNT_ATTR_IDMAP;
		ia.userns_fd = (unsigned)ns;
		if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &ia, sizeof(ia)) == 0)
			*idmapped = true;
		else
			sbx_fail_errno(&why, SBX_E_KERNEL, errno, "mount_setattr");
		if (owned)
			close(ns);
	}
	if (!*idmapped) {
		sbx_debug("workspace idmap unsupported here (%s): plain bind", why.msg);
		if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
			return sbx_fail_errno(err, SBX_E_KERNEL, errno,
					      "workspace %s: mount_setattr", dir);
	}
	return sbx_steal_fd(&tree);
}
