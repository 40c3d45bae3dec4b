/* The container's /dev nodes (before pivot_root): the default devices,
 * linux.devices, and the usual links. */
#ifndef SBX_OCIRT_ROOTFS_DEV_H
#define SBX_OCIRT_ROOTFS_DEV_H

#include <stdbool.h>
#include "ocirt/spec.h"

/* Whether config.mounts binds /dev from the host (then nothing is made). */
bool sbx_oci_dev_is_bound(const sbx_oci_spec *s);

/* In the root (rootfd): /dev/null zero full random urandom tty (0666,
 * root) unless linux.devices has the same path, then linux.devices
 * (mknod with its mode, uid, gid; in a user namespace an empty file with
 * the host's node of the same path bound on it), then /dev/fd, stdin,
 * stdout, stderr, core links and /dev/ptmx -> pts/ptmx. 0, or
 * -SBX_E_SETUP ("device /dev/fuse: mknod: Operation not permitted"). */
int sbx_oci_dev_setup(int rootfd, const sbx_oci_spec *s, bool in_userns, sbx_error *err);

/* After pivot_root, for a process with a terminal: the pty's slave
 * (a path in the container's /dev/pts) bound on /dev/console (an empty
 * file made first), as runc does. 0, or -SBX_E_SETUP. */
int sbx_oci_dev_console(const char *slave, sbx_error *err);

#endif
