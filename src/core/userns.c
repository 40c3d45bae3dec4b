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
#include "core/idrange.h"
#include "core/idshift.h"
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

int sbx_userns_write_slot_maps(pid_t pid, const sbx_idrange *r, uint32_t n, sbx_error *err)
{
	size_t cap = (size_t)n * 40 + 1;
	_cleanup_free_ char *u = malloc(cap), *g = malloc(cap);
	if (!u || !g)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	size_t ul = 0, gl = 0;
	for (uint32_t i = 0; i < n; i++) {
		ul += (size_t)snprintf(u + ul, cap - ul, "%u %u %u\n", i * SBX_IDRANGE_SLOT,
				       (unsigned)r[i].uid, SBX_IDRANGE_SLOT);
		gl += (size_t)snprintf(g + gl, cap - gl, "%u %u %u\n", i * SBX_IDRANGE_SLOT,
				       (unsigned)r[i].gid, SBX_IDRANGE_SLOT);
	}
	char path[64];
	sbx_error e;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	int rc = sbx_write_file(path, u, &e);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (rc == 0)
		rc = sbx_write_file(path, g, &e);
	if (rc < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, e.sys_errno, "template id map (%u ranges)",
				      (unsigned)n);
	return 0;
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

/* Why dir (owned by st) cannot be a host workspace here: one line, whose
 * way out depends on whether root owns it (it cannot be mapped). */
static int refuse(const char *dir, const struct stat *st, sbx_error *err)
{
	char type[32], way[96];
	sbx_fstype_of(dir, type, sizeof(type));
	if (st->st_uid == 0 || st->st_gid == 0)
		snprintf(way, sizeof(way),
			 "chown it to a user other than root and give that user's ids with "
			 "--map-uid/--map-gid");
	else
		snprintf(way, sizeof(way), "give --map-uid %u --map-gid %u (the directory's owner)",
			 (unsigned)st->st_uid, (unsigned)st->st_gid);
	return sbx_fail(err, SBX_E_PATH,
			"workspace %s: its file system (%s) cannot be idmapped, so root inside the "
			"sandbox would not own it: use a file system with idmapped mounts (ext4, "
			"xfs, btrfs; tmpfs from Linux 6.3), or %s",
			dir, type, way);
}

/* Try to idmap the detached mount tree: 1 done, 0 the file system (or the
 * kernel) cannot be idmapped (EINVAL, ENOSYS), negative: another failure,
 * reported as it is. */
static int try_idmap(int tree, const char *dir, const struct stat *st, uid_t map_uid, gid_t map_gid,
		     struct mount_attr attr, sbx_error *err)
{
	bool owned = false;
	int ns = idmap_userns(st->st_uid, st->st_gid, map_uid, map_gid, &owned, err);
	if (ns < 0)
		return sbx_error_wrap(err, ns, "workspace %s: idmapped mount", dir);
	attr.attr_set |= MOUNT_ATTR_IDMAP;
	attr.userns_fd = (unsigned)ns;
	int r = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr));
	int e = errno;
	if (owned)
		close(ns);
	if (r == 0)
		return 1;
	if (e == EINVAL || e == ENOSYS)
		return 0;
	return sbx_fail_errno(err, SBX_E_KERNEL, e, "workspace %s: idmapped mount", dir);
}

static int open_clone(const char *dir, struct stat *st, sbx_error *err)
{
	if (stat(dir, st) < 0 || !S_ISDIR(st->st_mode))
		return sbx_fail(err, SBX_E_PATH, "workspace is not a directory: %s", dir);
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "workspace %s: open_tree", dir);
	return tree;
}

int sbx_workspace_idmap_probe(const char *dir, sbx_error *err)
{
	struct stat st;
	_cleanup_close_ int tree = open_clone(dir, &st, err);
	if (tree < 0)
		return tree;
	struct mount_attr attr = {0};
	/* Any mapping tells: the owner to itself (a cached namespace). */
	return try_idmap(tree, dir, &st, st.st_uid, st.st_gid, attr, err);
}

int sbx_workspace_check(const char *dir, uid_t map_uid, gid_t map_gid, sbx_error *err)
{
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* reported where it is used */
	if (st.st_uid == map_uid && st.st_gid == map_gid)
		return 0; /* root inside owns it, idmapped or not */
	int r = sbx_workspace_idmap_probe(dir, err);
	if (r < 0)
		return r;
	return r == 1 ? 0 : refuse(dir, &st, err);
}

int sbx_workspace_mount(const char *dir, bool ro, uid_t map_uid, gid_t map_gid, uint32_t map_count,
			const char *own_marker, bool *idmapped, sbx_error *err)
{
	struct stat st;
	*idmapped = false;
	_cleanup_close_ int tree = open_clone(dir, &st, err);
	if (tree < 0)
		return tree;
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0),
	};
	int r = try_idmap(tree, dir, &st, map_uid, map_gid, attr, err);
	if (r < 0)
		return r;
	*idmapped = r == 1;
	if (!*idmapped && own_marker) {
		/* sbx's own workspace: its owners follow root inside. */
		sbx_debug("workspace %s cannot be idmapped: shifting its owners", dir);
		r = sbx_idshift_workspace(dir, own_marker, map_uid, map_gid, map_count, err);
		if (r < 0)
			return sbx_error_wrap(err, r, "workspace %s", dir);
	} else if (!*idmapped && (st.st_uid != map_uid || st.st_gid != map_gid)) {
		return refuse(dir, &st, err);
	}
	if (!*idmapped &&
	    syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "workspace %s: mount_setattr", dir);
	return sbx_steal_fd(&tree);
}

int sbx_rootfs_idmap(const char *rootfs, pid_t pid, sbx_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	_cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "writable root: open %s", path);
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return sbx_fail_errno(err, SBX_E_KERNEL, errno, "writable root: open_tree %s",
				      rootfs);
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	    .userns_fd = (unsigned)ns,
	};
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		char type[32];
		sbx_fstype_of(rootfs, type, sizeof(type));
		return sbx_fail_errno(err, SBX_E_KERNEL, errno,
				      "writable root: the rootfs's file system (%s) cannot be "
				      "idmapped here (needs Linux 5.12+ and a file system with "
				      "idmapped mounts), so root inside could not write it",
				      type);
	}
	return sbx_steal_fd(&tree);
}
