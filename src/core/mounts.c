/* Mount set-up inside the sandbox's mount namespace: the rootfs bound
 * read-only (or a writable overlay of it), fresh /proc with sensitive
 * files masked, a minimal /dev, a capped /tmp, the optional workspace,
 * then pivot_root. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "base/util.h"
#include "core/launch.h"

/* proc entries hidden behind /dev/null (files) or an empty tmpfs (dirs). */
const char *const sbx_proc_masked[] = {
    "kcore",  "keys", "latency_stats", "timer_list", "timer_stats", "sched_debug", "acpi",
    "asound", "scsi", "kallsyms",      "kpagecount", "kpageflags",  "kpagecgroup", NULL,
};
/* proc entries left readable but read-only. */
const char *const sbx_proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs", NULL};
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

/* Everything here runs in the sandbox's init after clone: failures fill
 * the caller's stack sbx_error (no allocation), code SBX_E_SETUP. */

static int path_join(char *out, size_t n, const char *a, const char *b, sbx_error *err)
{
	int r = snprintf(out, n, "%s/%s", a, b);
	if (r < 0 || (size_t)r >= n)
		return sbx_fail(err, SBX_E_SETUP, "path too long: %s/%s", a, b);
	return 0;
}

/* Flags a remount inside a user namespace must keep (they are locked). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* mount(2) itself: -1 with errno on failure. */
static int remount_ro(const char *path, unsigned long extra)
{
	return mount(NULL, path, NULL,
		     MS_BIND | MS_REMOUNT | MS_RDONLY | extra | locked_flags(path), NULL);
}

static int setup_proc(const char *root, bool plain, sbx_error *err)
{
	int r;
	char proc[PATH_MAX], p[PATH_MAX];
	if ((r = path_join(proc, sizeof(proc), root, "proc", err)) < 0)
		return r;
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /proc");
	if (plain) /* a template: see sbx_launch.template_mode */
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(sbx_proc_readonly) - 1; i++) {
		struct stat st;
		if (path_join(p, sizeof(p), proc, sbx_proc_readonly[i], NULL) < 0 ||
		    lstat(p, &st) < 0)
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 || remount_ro(p, 0) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "read-only /proc/%s",
					      sbx_proc_readonly[i]);
	}
	for (size_t i = 0; i < ARRAY_LEN(sbx_proc_masked) - 1; i++) {
		struct stat st;
		if (path_join(p, sizeof(p), proc, sbx_proc_masked[i], NULL) < 0 ||
		    lstat(p, &st) < 0)
			continue;
		int m = S_ISDIR(st.st_mode)
			    ? mount("tmpfs", p, "tmpfs",
				    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555")
			    : mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (m < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "mask /proc/%s",
					      sbx_proc_masked[i]);
	}
	return 0;
}

static int setup_dev(const char *root, uint64_t shm_size, sbx_error *err)
{
	int r;
	char dev[PATH_MAX], p[PATH_MAX], opts[128];
	if ((r = path_join(dev, sizeof(dev), root, "dev", err)) < 0)
		return r;
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755") <
	    0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /dev");
	for (size_t i = 0; i < ARRAY_LEN(dev_nodes); i++) {
		char host[64];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		if ((r = path_join(p, sizeof(p), dev, dev_nodes[i], err)) < 0)
			return r;
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "create /dev/%s",
					      dev_nodes[i]);
		close(fd);
		if (mount(host, p, NULL, MS_BIND, NULL) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "bind /dev/%s",
					      dev_nodes[i]);
	}
	if ((r = path_join(p, sizeof(p), dev, "pts", err)) < 0)
		return r;
	if (mkdir(p, 0755) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mkdir /dev/pts");
	if (mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0 &&
	    mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /dev/pts");
	if ((r = path_join(p, sizeof(p), dev, "shm", err)) < 0)
		return r;
	if (mkdir(p, 01777) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mkdir /dev/shm");
	snprintf(opts, sizeof(opts), "size=%llu,mode=1777", (unsigned long long)shm_size);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /dev/shm");
	static const char *const links[][2] = {{"pts/ptmx", "ptmx"},
					       {"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < ARRAY_LEN(links); i++) {
		if ((r = path_join(p, sizeof(p), dev, links[i][1], err)) < 0)
			return r;
		if (symlink(links[i][0], p) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "symlink /dev/%s",
					      links[i][1]);
	}
	if (remount_ro(dev, MS_NOSUID | MS_NOEXEC) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "read-only /dev");
	return 0;
}

static int setup_tmp(const char *root, uint64_t size, sbx_error *err)
{
	int r;
	char p[PATH_MAX], opts[64];
	if ((r = path_join(p, sizeof(p), root, "tmp", err)) < 0)
		return r;
	snprintf(opts, sizeof(opts), "size=%llu,mode=1777", (unsigned long long)size);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /tmp");
	return 0;
}

static int setup_workspace(const sbx_launch *l, sbx_error *err)
{
	int r;
	char p[PATH_MAX];
	if (l->ws_fd < 0 && !l->workspace[0])
		return 0;
	if ((r = path_join(p, sizeof(p), l->rootfs, "workspace", err)) < 0)
		return r;
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_fail(err, SBX_E_SETUP,
				"rootfs has no /workspace directory to mount the workspace on");
	if (l->ws_fd >= 0) {
		if (syscall(SYS_move_mount, l->ws_fd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /workspace");
		return 0;
	}
	if (mount(l->workspace, p, NULL, MS_BIND, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "bind /workspace");
	if (mount(NULL, p, NULL,
		  MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (l->ws_ro ? MS_RDONLY : 0) |
		      locked_flags(p),
		  NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "remount /workspace");
	return 0;
}

/* A detached, empty, read-only tmpfs (the new mount API): the second
 * layer a read-only overlay needs. -1 with errno on failure. */
static int empty_tmpfs(void)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int m = -1;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", 0) == 0 &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0555", 0) == 0 &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	int e = errno;
	close(fs);
	errno = e;
	return m;
}

static int overlay_rootfs(const char *root, const char *second)
{
	char opts[64];
	snprintf(opts, sizeof(opts), "lowerdir=.:%s", second);
	return mount("rootfs", root, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
}

/* The rootfs as a read-only overlay whose layers are named "." (the
 * rootfs, resolved from our working directory) and an empty tmpfs: a bind
 * mount would show the rootfs's host path in the sandbox's
 * /proc/self/mountinfo (its root field is the directory's path within the
 * host file system); the overlay's root is "/" and its options show only
 * neutral names. The empty tmpfs is a detached mount, named
 * "/proc/self/fd/N"; kernels before 6.15 refuse a detached layer (EINVAL,
 * e.g. Debian 12's 6.1), so there it is first attached on the rootfs's own
 * tmp directory (in this private mount namespace; setup_tmp mounts /tmp's
 * tmpfs there later) and named "tmp", then detached again. Where overlayfs
 * cannot be mounted in a user namespace (before 5.11), a bind mount. */
static int mount_rootfs(const char *root, sbx_error *err)
{
	_cleanup_close_ int empty = empty_tmpfs();
	if (empty >= 0 && chdir(root) == 0) {
		char fdname[32];
		snprintf(fdname, sizeof(fdname), "/proc/self/fd/%d", empty);
		if (overlay_rootfs(root, fdname) == 0)
			return 0;
		if (syscall(SYS_move_mount, empty, "", AT_FDCWD, "tmp", MOVE_MOUNT_F_EMPTY_PATH) ==
		    0) {
			int m = overlay_rootfs(root, "tmp");
			/* cwd is the directory under the overlay: "tmp" is still ours */
			if (umount2("tmp", MNT_DETACH) < 0)
				return sbx_fail_errno(err, SBX_E_SETUP, errno,
						      "detach the empty layer");
			if (m == 0)
				return 0;
		}
	}
	if (mount(root, root, NULL, MS_BIND, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "bind rootfs %s", root);
	return 0;
}

/* A writable root (l->root_size): the idmapped rootfs (tree, see
 * sbx_rootfs_idmap: host root's files are our root's) is attached over the
 * rootfs directory, a tmpfs of root_size on its tmp directory holds the
 * overlay's upper and work directories, and the overlay ("." over
 * "tmp/upper": neutral names in mountinfo, as above) goes on top; the
 * tmpfs is detached again (the overlay keeps its own reference; setup_tmp
 * mounts /tmp's tmpfs there later). Writes land in the tmpfs, never in the
 * host's rootfs. Idmapped lower layers need Linux 5.19: an older kernel
 * fails here, clearly, rather than giving a root that cannot write. */
static int mount_rootfs_rw(const char *root, int tree, uint64_t size, sbx_error *err)
{
	char opts[96];
	if (tree < 0)
		return sbx_fail(err, SBX_E_SETUP, "writable root: no idmapped rootfs");
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, root, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "writable root: attach rootfs");
	if (chdir(root) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "chdir rootfs");
	snprintf(opts, sizeof(opts), "size=%llu,mode=755", (unsigned long long)size);
	if (mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "writable root: upper tmpfs");
	const char *what = "writable root: upper and work directories";
	int m = -1;
	if (mkdir("tmp/upper", 0755) == 0 && mkdir("tmp/work", 0700) == 0) {
		what = "writable root: overlay over the idmapped rootfs (needs Linux 5.19+)";
		m = mount("rootfs", root, "overlay", MS_NOSUID | MS_NODEV,
			  "lowerdir=.,upperdir=tmp/upper,workdir=tmp/work,userxattr");
	}
	int e = errno;
	/* cwd is the directory under the overlay: "tmp" is still ours */
	if (umount2("tmp", MNT_DETACH) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "detach the upper layer");
	if (m < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, e, "%s", what);
	return 0;
}

int sbx_mounts_setup(const sbx_launch *l, int root_tree, sbx_error *err)
{
	const char *root = l->rootfs;
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "make mounts private");
	int r = l->root_size ? mount_rootfs_rw(root, root_tree, l->root_size, err)
			     : mount_rootfs(root, err);
	if (r == 0)
		r = setup_proc(root, l->template_mode, err);
	if (r == 0)
		r = setup_dev(root, l->tmp_size, err);
	if (r == 0)
		r = setup_tmp(root, l->tmp_size, err);
	if (r == 0)
		r = setup_workspace(l, err);
	if (r < 0)
		return r;
	/* pivot_root(".", "."): the old root ends up on top of the new one and
	 * is detached at once; no directory for it is needed in the rootfs. */
	if (chdir(root) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "chdir rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "detach old root");
	if (chdir("/") < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "chdir /");
	if (!l->root_size && remount_ro("/", MS_NOSUID | MS_NODEV) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "read-only rootfs");
	return 0;
}
