/* User namespace id maps and the idmapped workspace mount. */
#ifndef SBX_USERNS_H
#define SBX_USERNS_H

#include <stdbool.h>
#include <sys/types.h>
#include "sbx.h"

/* Map inside ids 0..count-1 to host uid/gid..+count-1 for pid's userns. */
int sbx_userns_write_maps(pid_t pid, uid_t uid, gid_t gid, uint32_t count, sbx_error *err);

/* The kernel's limit on lines in an id map. */
#define SBX_USERNS_MAX_LINES 340u

/* Map inside ids i*SBX_IDRANGE_SLOT.. to ranges r[i] (n lines, n <=
 * SBX_USERNS_MAX_LINES): a pre-forked pool's template namespace. */
typedef struct sbx_idrange sbx_idrange;
int sbx_userns_write_slot_maps(pid_t pid, const sbx_idrange *r, uint32_t n, sbx_error *err);

/* Per-user kernel counts (inotify instances, RLIMIT_NPROC, mqueue bytes,
 * ...) are charged to the ids inside and, up the namespace chain, to the
 * host uid that owns the user namespace: its creator's euid. Between enter
 * and leave the calling thread (only it: raw system calls) has euid owner,
 * keeping its capabilities (SECBIT_NO_SETUID_FIXUP), so a user namespace it
 * creates is owned by owner, not by host root. A child cloned in between
 * calls sbx_userns_owner_child first. saved receives what leave restores. */
int sbx_userns_owner_enter(uid_t owner, int *saved, sbx_error *err);
void sbx_userns_owner_leave(int saved);
void sbx_userns_owner_child(int saved);

/* A detached mount of host directory dir (nosuid, nodev, ro if asked),
 * idmapped so the directory's owner appears as the sandbox's root (host
 * uid map_uid) and files root creates belong to the owner on the host.
 * Where the file system cannot be idmapped (*idmapped false):
 * - own_marker set (sbx's own workspace, marker the shift record in the
 *   state dir): the owners in the tree are shifted to map_uid/map_gid ..
 *   +map_count (core/idshift.h), then a plain bind;
 * - a host directory: a plain bind if root inside is its owner (map_uid and
 *   map_gid are the directory's), else refused (-SBX_E_PATH, one line
 *   naming the directory, the file system and the ways out).
 * Other failures are reported as they are. Returns an fd, or negative. */
int sbx_workspace_mount(const char *dir, bool ro, uid_t map_uid, gid_t map_gid, uint32_t map_count,
			const char *own_marker, bool *idmapped, sbx_error *err);

/* 1 if dir's file system accepts idmapped mounts, 0 if it cannot be
 * idmapped (EINVAL from mount_setattr MOUNT_ATTR_IDMAP, or no kernel
 * support), negative with err on another failure. */
int sbx_workspace_idmap_probe(const char *dir, sbx_error *err);

/* The early check of a host directory given as workspace (create, start):
 * 0 if usable with map_uid/map_gid (SBX_MAP_AUTO: a range of its own),
 * the refusal of sbx_workspace_mount otherwise. */
int sbx_workspace_check(const char *dir, uid_t map_uid, gid_t map_gid, sbx_error *err);

/* A writable root's lower layer: a detached mount of rootfs idmapped with
 * the user namespace of pid (the sandbox's init, maps written), so files
 * of host root appear as the sandbox's root and the overlay over it can
 * copy them up as theirs. An fd, or -SBX_E_KERNEL with one line. */
int sbx_rootfs_idmap(const char *rootfs, pid_t pid, sbx_error *err);

#endif
