/* Mount set-up inside the sandbox's mount namespace: the rootfs bound
 * read-only, fresh /proc with sensitive files masked, a minimal /dev, a
 * capped /tmp, the optional workspace, then pivot_root. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <linux/mount.h>

#include "base/util.h"
#include "core/launch.h"

/* proc entries hidden behind /dev/null (files) or an empty tmpfs (dirs). */
static const char *const proc_masked[] = {
    "kcore",  "keys", "latency_stats", "timer_list", "timer_stats", "sched_debug", "acpi",
    "asound", "scsi", "kallsyms",      "kpagecount", "kpageflags",  "kpagecgroup",
};
/* proc entries left readable but read-only. */
static const char *const proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(msg, cap, __VA_ARGS__);                                                   \
		return -1;                                                                         \
	} while (0)

static int path_join(char *out, size_t n, const char *a, const char *b)
{
	int r = snprintf(out, n, "%s/%s", a, b);
	return (r < 0 || (size_t)r >= n) ? -1 : 0;
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

static int remount_ro(const char *path, unsigned long extra)
{
	return mount(NULL, path, NULL,
		     MS_BIND | MS_REMOUNT | MS_RDONLY | extra | locked_flags(path), NULL);
}

static int setup_proc(const char *root, char *msg, size_t cap)
{
	char proc[PATH_MAX], p[PATH_MAX];
	if (path_join(proc, sizeof(proc), root, "proc") < 0)
		FAIL("path too long");
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		FAIL("mount /proc: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_LEN(proc_readonly); i++) {
		struct stat st;
		if (path_join(p, sizeof(p), proc, proc_readonly[i]) < 0 || lstat(p, &st) < 0)
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 || remount_ro(p, 0) < 0)
			FAIL("read-only /proc/%s: %s", proc_readonly[i], strerror(errno));
	}
	for (size_t i = 0; i < ARRAY_LEN(proc_masked); i++) {
		struct stat st;
		if (path_join(p, sizeof(p), proc, proc_masked[i]) < 0 || lstat(p, &st) < 0)
			continue;
		int r = S_ISDIR(st.st_mode)
			    ? mount("tmpfs", p, "tmpfs",
				    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555")
			    : mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (r < 0)
			FAIL("mask /proc/%s: %s", proc_masked[i], strerror(errno));
	}
	return 0;
}

static int setup_dev(const char *root, uint64_t shm_size, char *msg, size_t cap)
{
	char dev[PATH_MAX], p[PATH_MAX], opts[128];
	if (path_join(dev, sizeof(dev), root, "dev") < 0)
		FAIL("path too long");
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755") <
	    0)
		FAIL("mount /dev: %s", strerror(errno));
	for (size_t i = 0; i < ARRAY_LEN(dev_nodes); i++) {
		char host[64];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		if (path_join(p, sizeof(p), dev, dev_nodes[i]) < 0)
			FAIL("path too long");
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			FAIL("create /dev/%s: %s", dev_nodes[i], strerror(errno));
		close(fd);
		if (mount(host, p, NULL, MS_BIND, NULL) < 0)
			FAIL("bind /dev/%s: %s", dev_nodes[i], strerror(errno));
	}
	if (path_join(p, sizeof(p), dev, "pts") < 0 || mkdir(p, 0755) < 0)
		FAIL("mkdir /dev/pts: %s", strerror(errno));
	if (mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0 &&
	    mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		FAIL("mount /dev/pts: %s", strerror(errno));
	if (path_join(p, sizeof(p), dev, "shm") < 0 || mkdir(p, 01777) < 0)
		FAIL("mkdir /dev/shm: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "size=%llu,mode=1777", (unsigned long long)shm_size);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		FAIL("mount /dev/shm: %s", strerror(errno));
	static const char *const links[][2] = {{"pts/ptmx", "ptmx"},
					       {"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < ARRAY_LEN(links); i++) {
		if (path_join(p, sizeof(p), dev, links[i][1]) < 0 || symlink(links[i][0], p) < 0)
			FAIL("symlink /dev/%s: %s", links[i][1], strerror(errno));
	}
	if (remount_ro(dev, MS_NOSUID | MS_NOEXEC) < 0)
		FAIL("read-only /dev: %s", strerror(errno));
	return 0;
}

static int setup_tmp(const char *root, uint64_t size, char *msg, size_t cap)
{
	char p[PATH_MAX], opts[64];
	if (path_join(p, sizeof(p), root, "tmp") < 0)
		FAIL("path too long");
	snprintf(opts, sizeof(opts), "size=%llu,mode=1777", (unsigned long long)size);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		FAIL("mount /tmp: %s", strerror(errno));
	return 0;
}

static int setup_workspace(const sbx_launch *l, char *msg, size_t cap)
{
	char p[PATH_MAX];
	if (l->ws_fd < 0 && !l->workspace[0])
		return 0;
	if (path_join(p, sizeof(p), l->rootfs, "workspace") < 0)
		FAIL("path too long");
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		FAIL("rootfs has no /workspace directory to mount the workspace on");
	if (l->ws_fd >= 0) {
		if (syscall(SYS_move_mount, l->ws_fd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			FAIL("mount /workspace: %s", strerror(errno));
		return 0;
	}
	if (mount(l->workspace, p, NULL, MS_BIND, NULL) < 0)
		FAIL("bind /workspace: %s", strerror(errno));
	if (mount(NULL, p, NULL,
		  MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (l->ws_ro ? MS_RDONLY : 0) |
		      locked_flags(p),
		  NULL) < 0)
		FAIL("remount /workspace: %s", strerror(errno));
	return 0;
}

int sbx_mounts_setup(const sbx_launch *l, char *msg, size_t cap)
{
	const char *root = l->rootfs;
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL("make mounts private: %s", strerror(errno));
	if (mount(root, root, NULL, MS_BIND, NULL) < 0)
		FAIL("bind rootfs %s: %s", root, strerror(errno));
	if (setup_proc(root, msg, cap) < 0 || setup_dev(root, l->tmp_size, msg, cap) < 0 ||
	    setup_tmp(root, l->tmp_size, msg, cap) < 0 || setup_workspace(l, msg, cap) < 0)
		return -1;
	/* pivot_root(".", "."): the old root ends up on top of the new one and
	 * is detached at once; no directory for it is needed in the rootfs. */
	if (chdir(root) < 0)
		FAIL("chdir rootfs: %s", strerror(errno));
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		FAIL("pivot_root: %s", strerror(errno));
	if (umount2(".", MNT_DETACH) < 0)
		FAIL("detach old root: %s", strerror(errno));
	if (chdir("/") < 0)
		FAIL("chdir /: %s", strerror(errno));
	if (remount_ro("/", MS_NOSUID | MS_NODEV) < 0)
		FAIL("read-only rootfs: %s", strerror(errno));
	return 0;
}
