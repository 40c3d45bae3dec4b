/* One entry of config.mounts: its option strings as mount(2) flags and
 * data (pure), and the mount itself inside a root not yet pivoted to. */
#ifndef SBX_OCIRT_ROOTFS_MOUNTS_H
#define SBX_OCIRT_ROOTFS_MOUNTS_H

#include <stdbool.h>
#include "ocirt/spec.h"

typedef struct sbx_oci_mntopts {
	unsigned long flags; /* MS_* to set: MS_BIND, MS_REC, MS_RDONLY, MS_NOSUID... */
	unsigned long prop;  /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE (|MS_REC), the last
				given; 0 when none */
	bool bind;	     /* "bind"/"rbind" option, or type "bind" */
	char *data;	     /* the other options joined with ','; NULL when none */
} sbx_oci_mntopts;

/* Options as runc reads them: "ro" "rw" "nosuid" "suid" "nodev" "dev"
 * "noexec" "exec" "sync" "async" "dirsync" "remount" "mand" "nomand"
 * "atime" "noatime" "diratime" "nodiratime" "relatime" "norelatime"
 * "strictatime" "nostrictatime" "lazytime" "nolazytime" "iversion"
 * "noiversion" "bind" "rbind" "defaults", the eight propagation names; a
 * clearing option drops what an earlier one set. "tmpcopyup" is ignored;
 * anything else goes to data (mode=755, size=..., newinstance...).
 * 0, or -SBX_E_SYSTEM (out of memory). */
int sbx_oci_mntopts_parse(const sbx_oci_mount *m, sbx_oci_mntopts *o, sbx_error *err);
void sbx_oci_mntopts_clear(sbx_oci_mntopts *o);

/* Mount m inside the root (rootfd: the root's own bind mount; rootfs: its
 * host path, for messages): the destination created inside the root (a
 * file when a bind's source is not a directory), binds remounted for
 * ro/nosuid/nodev/noexec/atime flags, then the propagation. sysfs and
 * mqueue refused with EPERM fall back to a bind of the host's. Not for
 * type "cgroup" (rootfs_cgroup.h). 0, or -SBX_E_SETUP with err ("mount
 * /dev/pts (devpts): Invalid argument"). */
int sbx_oci_mount_one(int rootfd, const sbx_oci_mount *m, sbx_error *err);

/* Bind src (a host path) on dest inside the root (created: a file when
 * src is not a directory), then remount it with flags (of MS_RDONLY
 * MS_NOSUID MS_NODEV MS_NOEXEC and the atime ones; none: no remount),
 * keeping the flags the kernel locks. rec: MS_REC. */
int sbx_oci_bind(int rootfd, const char *src, const char *dest, bool rec, unsigned long flags,
		 sbx_error *err);
/* Remount the mount at dest inside the root (a bind) with flags added to
 * the ones it has; and, when prop, change its propagation. */
int sbx_oci_remount(int rootfd, const char *dest, unsigned long flags, sbx_error *err);

#endif
