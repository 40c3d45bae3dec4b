/* User namespace id maps and the idmapped workspace mount. */
#ifndef SBX_USERNS_H
#define SBX_USERNS_H

#include <stdbool.h>
#include <sys/types.h>
#include "sbx.h"

/* Map inside ids 0..count-1 to host uid/gid..+count-1 for pid's userns. */
int sbx_userns_write_maps(pid_t pid, uid_t uid, gid_t gid, uint32_t count, sbx_error *err);

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
 * Falls back to a plain detached bind where the file system has no idmap
 * support (*idmapped false). Returns an fd, or negative with err set. */
int sbx_workspace_mount(const char *dir, bool ro, uid_t map_uid, gid_t map_gid, bool *idmapped,
			sbx_error *err);

#endif
