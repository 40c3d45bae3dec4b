/* The container's filesystem from a bundle's config: runs in the
 * container's init (a single-threaded forked process: it may allocate), in
 * its new mount namespace, before the process is exec'd. */
#ifndef SBX_OCIRT_ROOTFS_H
#define SBX_OCIRT_ROOTFS_H

#include <stdbool.h>
#include "ocirt/spec.h"

/* Everything up to and including pivot_root, in runc's order: "/" made
 * rslave (rprivate when rootfsPropagation is a private one: nothing
 * reaches the host, nothing is shared for pivot_root), the root bound on
 * itself, config.mounts in order (bind/rbind with ro, nosuid,
 * nodev, noexec, propagation flags; tmpfs, proc, sysfs, devpts, mqueue,
 * cgroup; destinations created inside the root, never following a symlink
 * out of it), the default devices when /dev is not bound from the host
 * (null zero full random urandom tty, /dev/ptmx -> pts/ptmx, fd/stdin/
 * stdout/stderr links), linux.devices (mknod, or a bind of the host's node
 * inside a user namespace), process.cwd created when missing, pivot_root
 * (the old root detached), rootfsPropagation on the new "/", then
 * linux.sysctl, readonlyPaths, maskedPaths (missing paths skipped),
 * root.readonly.
 * rootfs: absolute host path of the root; a relative bind source is
 * taken from the current directory (the caller's: the bundle's). Ends
 * in "/" of the new root. in_userns: the container has its own user
 * namespace (no mknod). With a new cgroup namespace, the caller has
 * unshared it after joining the container's cgroups (its root is then
 * theirs, as runc does). 0, or -SBX_E_SETUP with err naming
 * the step ("mount /dev/pts (devpts): Invalid argument"). */
int sbx_oci_rootfs_setup(const sbx_oci_spec *s, const char *rootfs, bool in_userns, sbx_error *err);

#endif
