/* One image layer (an untrusted tar stream) applied onto a root directory:
 * whiteouts, opaque directories, no symlink ever followed, names and hard
 * links kept inside the root, devices skipped, setuid/setgid dropped. */
#ifndef SBX_DAPI_LAYER_H
#define SBX_DAPI_LAYER_H

#include <stdint.h>
#include "base/util.h"
#include "dockerapi/tar.h"

/* Caps shared by every layer of a load. */
typedef struct dapi_layer_limits {
	uint64_t max_bytes;   /* file data in all */
	uint64_t bytes;	      /* used so far */
	uint64_t max_entries; /* entries in all */
	uint64_t entries;
} dapi_layer_limits;

/* Path components per entry name at most (bounds the tree's depth). */
#define DAPI_LAYER_MAX_DEPTH 128

/* Apply the layer read through rd onto the directory rootfd (opened by the
 * caller, O_PATH or not): 0, or negative with err (-SBX_E_PATH for a name
 * escaping the root or going through a symlink, -SBX_E_INVALID for a bad
 * archive or a cap exceeded, -SBX_E_SYSTEM). What was written stays: the
 * caller removes the root on failure. */
int dapi_layer_unpack(int rootfd, dapi_tar_reader *rd, dapi_layer_limits *lim, sbx_error *err);

#endif
