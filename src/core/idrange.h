/* Per-sandbox host id ranges: each sandbox maps its ids 0..65535 to a range
 * of host ids no other live sandbox uses, so per-user kernel counts
 * (inotify instances, mqueue bytes, RLIMIT_NPROC, ...) are its own. */
#ifndef SBX_IDRANGE_H
#define SBX_IDRANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "sbx.h"

#define SBX_IDRANGE_SLOT 65536u /* ids per sandbox */
/* Default set: 2048 slots from 0x70000000, above systemd's container range
 * (524288..1879048191) and below its foreign range (0x7FFF0000). */
#define SBX_IDRANGE_DEFAULT_BASE 0x70000000u
#define SBX_IDRANGE_DEFAULT_COUNT (2048u * SBX_IDRANGE_SLOT)
#define SBX_IDRANGE_LOCK_DIR "/run/sbx-ids"

/* The configured set of host ids slots are cut from. */
typedef struct sbx_idset {
	uid_t uid_base;
	gid_t gid_base;
	uint32_t slots;
	char source[64]; /* "SBX_ID_RANGE", "/etc/subuid of sbx", "default" */
} sbx_idset;

/* One slot, held while lock_fd is open (an flock on its lock file). */
typedef struct sbx_idrange {
	int lock_fd; /* -1: none held */
	uid_t uid;
	gid_t gid;
	uint32_t count;
} sbx_idrange;

/* The set: $SBX_ID_RANGE ("BASE:COUNT" for uids and gids alike, or
 * "UIDBASE:GIDBASE:COUNT"), else the first /etc/subuid and /etc/subgid
 * entries of $SBX_SUBID_USER (default "sbx"), else the default. */
int sbx_idset_get(sbx_idset *set, sbx_error *err);

/* Parse a "BASE:COUNT" or "UIDBASE:GIDBASE:COUNT" spec (pure, for tests). */
int sbx_idset_parse(const char *spec, sbx_idset *set, sbx_error *err);

/* Parse subuid/subgid text: the first "name:start:count" line for name.
 * 0 with *start and *count set, or -1 if there is none. */
int sbx_subid_find(const char *text, const char *name, uint32_t *start, uint32_t *count);

/* Take a free slot: its lock file's flock is free and no process on the
 * host has an id in it (nothing of a former holder can still run). */
int sbx_idrange_acquire(sbx_idrange *r, sbx_error *err);

/* Give the slot up (close our lock fd; forked copies keep it held). */
void sbx_idrange_release(sbx_idrange *r);

#endif
