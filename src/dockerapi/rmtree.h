/* Removing a directory tree of the image store without following
 * symlinks (an image's files are hostile: a symlink is removed, never
 * followed). */
#ifndef SBX_DAPI_RMTREE_H
#define SBX_DAPI_RMTREE_H

#include "base/util.h"

/* Remove name under dirfd and, if it is a directory, everything in it:
 * 0 (also when it does not exist), or -SBX_E_SYSTEM with err. Depth is
 * bounded by the open-file limit (the layer unpacker caps it). */
int dapi_rmtree_at(int dirfd, const char *name, sbx_error *err);
/* Remove everything inside the directory dirfd/name, keeping it. */
int dapi_rmtree_children(int dirfd, const char *name, sbx_error *err);

#endif
