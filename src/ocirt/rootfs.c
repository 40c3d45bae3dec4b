/* The container's root: the order of the steps, the root's propagation,
 * pivot_root, and what is done after it (rootfs.h). */
#include "ocirt/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ocirt/rootfs_cgroup.h"
#include "ocirt/rootfs_dev.h"
#include "ocirt/rootfs_mask.h"
#include "ocirt/rootfs_mounts.h"
#include "ocirt/rootfs_path.h"

static bool new_ns(const sbx_oci_spec *s, int kind)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		if (s->namespaces[i].kind == kind && !s->namespaces[i].path)
			return true;
	return false;
}

/* "/" made a slave of the host's (private when the config asks for
 * private): nothing mounted here reaches the host, and nothing is shared,
 * which pivot_root needs. The config's own propagation is set on the new
 * root after the pivot. Then the root bound on itself: a mount point. */
static int prepare_root(const sbx_oci_spec *s, const char *rootfs, sbx_error *err)
{
	unsigned long first = MS_REC | MS_SLAVE;
	if (s->rootfs_propagation & MS_PRIVATE)
		first = MS_REC | MS_PRIVATE;
	if (mount(NULL, "/", NULL, first, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount / (propagation)");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "bind %s on itself", rootfs);
	return 0;
}

static int do_mounts(int rootfd, const sbx_oci_spec *s, sbx_error *err)
{
	bool cgns = new_ns(s, CLONE_NEWCGROUP);
	for (size_t i = 0; i < s->n_mounts; i++) {
		const sbx_oci_mount *m = &s->mounts[i];
		int r = m->type && strcmp(m->type, "cgroup") == 0
			    ? sbx_oci_mount_cgroup(rootfd, m, cgns, err)
			    : sbx_oci_mount_one(rootfd, m, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int pivot(int rootfd, sbx_error *err)
{
	_cleanup_close_ int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "open /");
	if (fchdir(rootfd) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "chdir to the root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "pivot_root");
	/* The old root is now under "/": detached, its unmount kept from
	 * propagating anywhere. */
	if (fchdir(old) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "chdir to the old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "old root (propagation)");
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "unmount the old root");
	if (chdir("/") < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "chdir /");
	return 0;
}

static int before_pivot(const sbx_oci_spec *s, const char *rootfs, bool in_userns, sbx_error *err)
{
	int r = prepare_root(s, rootfs, err);
	if (r < 0)
		return r;
	_cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "open %s", rootfs);
	if ((r = do_mounts(rootfd, s, err)) < 0 ||
	    (r = sbx_oci_dev_setup(rootfd, s, in_userns, err)) < 0)
		return r;
	if (s->has_process && s->process.cwd) {
		_cleanup_close_ int cwd = sbx_oci_root_mkpath(rootfd, s->process.cwd, false, err);
		if (cwd < 0)
			return sbx_error_wrap(err, cwd, "process.cwd");
	}
	return pivot(rootfd, err);
}

int sbx_oci_rootfs_setup(const sbx_oci_spec *s, const char *rootfs, bool in_userns, sbx_error *err)
{
	int r = before_pivot(s, rootfs, in_userns, err);
	if (r < 0)
		return r;
	if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "rootfsPropagation");
	if ((r = sbx_oci_sysctl_apply(s, err)) < 0 || (r = sbx_oci_readonly_paths(s, err)) < 0 ||
	    (r = sbx_oci_mask_paths(s, err)) < 0)
		return r;
	if (s->root_readonly && (r = sbx_oci_remount_ro("/", err)) < 0)
		return sbx_error_wrap(err, r, "root.readonly");
	return 0;
}
