/* The image store's index, DIR/repositories.json: a JSON object mapping
 * "repo:tag" to "sha256:<64 hex>", and the lock file DIR/.lock that
 * serialises its writers (loads and removals). */
#ifndef SBX_DAPI_IMAGE_REPO_H
#define SBX_DAPI_IMAGE_REPO_H

#include <stddef.h>
#include "base/util.h"

typedef struct dapi_repo {
	char **tags; /* malloc'd */
	char **ids;  /* malloc'd, "sha256:<hex>" */
	size_t n, cap;
} dapi_repo;

/* Read DIR/repositories.json (a missing file is an empty index): 0, or
 * negative with err (unreadable, too big, not such an object). */
int dapi_repo_read(const char *dir, dapi_repo *r, sbx_error *err);
/* Replace DIR/repositories.json atomically. */
int dapi_repo_write(const char *dir, const dapi_repo *r, sbx_error *err);
/* The id a tag names, or NULL. */
const char *dapi_repo_get(const dapi_repo *r, const char *tag);
/* Point tag at id (a retag moves it): 0, or -1 out of memory. */
int dapi_repo_set(dapi_repo *r, const char *tag, const char *id);
/* Drop entry i. */
void dapi_repo_del(dapi_repo *r, size_t i);
void dapi_repo_free(dapi_repo *r);

/* mkdir -p DIR and hold DIR/.lock exclusively until *fd is closed. */
int dapi_repo_lock(const char *dir, int *fd, sbx_error *err);

#endif
