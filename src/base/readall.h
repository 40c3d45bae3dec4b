/* A whole file into memory (for the small text files sbx parses). */
#ifndef SBX_READALL_H
#define SBX_READALL_H

#include <stddef.h>
#include "sbx.h"

/* Read all of path (relative to dirfd, or AT_FDCWD) into *out: malloc'd,
 * NUL-terminated, the NUL not counted in *len. Works on /proc files (no
 * size known in advance). More than max bytes: SBX_E_SYSTEM (EFBIG). A
 * missing file fails with SBX_E_NOTFOUND, any other error with
 * SBX_E_SYSTEM; both record errno ("cannot read PATH: ..."). */
int sbx_read_all(int dirfd, const char *path, size_t max, char **out, size_t *len, sbx_error *err);

#endif
