/* Shifting the owners of sbx's own workspace where its file system has no
 * idmapped mounts, and naming file system types. */
#ifndef SBX_IDSHIFT_H
#define SBX_IDSHIFT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "sbx.h"

/* Every uid in [uid_from, uid_from+count) moves by uid_to - uid_from, the
 * same for gids; other ids stay. */
typedef struct sbx_idshift {
	uint32_t uid_from, uid_to, gid_from, gid_to, count;
} sbx_idshift;

/* id after the shift (unchanged outside [from, from+count)). */
uint32_t sbx_idshift_id(uint32_t id, uint32_t from, uint32_t to, uint32_t count);

/* 0 if the shift is usable: count > 0, both ranges inside 0..2^32-2, and
 * source and target equal or disjoint (a shifted id never lies in the
 * source range again: re-running a shift changes nothing, hardlinks are
 * shifted once). -SBX_E_INVALID otherwise. */
int sbx_idshift_check(const sbx_idshift *s, sbx_error *err);

/* Name of a statfs f_type ("tmpfs", "overlayfs", ...), NULL if unknown. */
const char *sbx_fstype_name(unsigned long f_type);

/* "name" or "0x..." for f_type into buf. */
const char *sbx_fstype_str(unsigned long f_type, char *buf, size_t size);

/* sbx_fstype_str of the file system path is on ("0x0" if statfs fails). */
const char *sbx_fstype_of(const char *path, char *buf, size_t size);

/* Shift every entry below directory dir (not dir itself: the caller does
 * it last), see idshift.c. 0 or negative with err. */
int sbx_idshift_tree(const char *dir, const sbx_idshift *s, sbx_error *err);

/* Shift the owner of dir itself (fd of the directory). */
int sbx_idshift_fd(int fd, const sbx_idshift *s, sbx_error *err);

/* sbx's own workspace dir to ids (uid, gid) .. +count: completes a shift
 * interrupted earlier (recorded in marker), then shifts from the owner of
 * dir. See idshift.c for the crash-safety argument. */
int sbx_idshift_workspace(const char *dir, const char *marker, uid_t uid, gid_t gid, uint32_t count,
			  sbx_error *err);

#endif
