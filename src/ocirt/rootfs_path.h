/* Paths inside a container's root that is not yet the process's root:
 * every lookup stays inside it (openat2 RESOLVE_IN_ROOT: "..", absolute
 * symlinks and ".." in symlinks never leave it; magic links refused). */
#ifndef SBX_OCIRT_ROOTFS_PATH_H
#define SBX_OCIRT_ROOTFS_PATH_H

#include <stdbool.h>
#include "base/util.h"

/* openat2(rootfd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): a wrapper of one system call, so fd or -1 with
 * errno. path is taken as inside the root even when absolute. */
int sbx_oci_root_open(int rootfd, const char *path, int flags);

/* Open path (O_PATH) inside the root, creating what is missing: the
 * parents as directories (0755), the last one as a directory, or as an
 * empty regular file (0644) when as_file. An existing last one is kept
 * whatever it is. fd, or -SBX_E_SETUP with err ("create PATH: ..."). */
int sbx_oci_root_mkpath(int rootfd, const char *path, bool as_file, sbx_error *err);

/* "/proc/self/fd/N" for fd into buf (at least 32 bytes): a mount's target
 * that is exactly the file fd was opened on. */
const char *sbx_oci_fd_path(int fd, char *buf, size_t cap);

#endif
