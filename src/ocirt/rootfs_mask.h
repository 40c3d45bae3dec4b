/* linux.maskedPaths, linux.readonlyPaths and linux.sysctl: after
 * pivot_root, so every path is the container's own. */
#ifndef SBX_OCIRT_ROOTFS_MASK_H
#define SBX_OCIRT_ROOTFS_MASK_H

#include "ocirt/spec.h"

/* Each masked path hidden: /dev/null bound over a file, an empty
 * read-only tmpfs over a directory; a missing path is skipped. 0, or
 * -SBX_E_SETUP ("maskedPaths /proc/kcore: ..."). */
int sbx_oci_mask_paths(const sbx_oci_spec *s, sbx_error *err);
/* Each read-only path bound on itself (recursively) and remounted
 * read-only; a missing path is skipped. 0, or -SBX_E_SETUP. */
int sbx_oci_readonly_paths(const sbx_oci_spec *s, sbx_error *err);
/* Remount the mount at path (after pivot) with MS_RDONLY added to its
 * own flags. 0, or -SBX_E_SETUP ("remount PATH read-only: ..."). */
int sbx_oci_remount_ro(const char *path, sbx_error *err);

/* linux.sysctl's name -> its /proc/sys file ("net.ipv4.ip_forward" ->
 * "/proc/sys/net/ipv4/ip_forward"), a new string in *out. 0, or
 * -SBX_E_INVALID for a name that is empty, over 255 bytes, or has "/"
 * or "..". Pure. */
int sbx_oci_sysctl_path(const char *name, char **out, sbx_error *err);
/* Write every linux.sysctl value. 0, or the first failure
 * ("sysctl net.ipv4.ip_forward: ..."). */
int sbx_oci_sysctl_apply(const sbx_oci_spec *s, sbx_error *err);

#endif
