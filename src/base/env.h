/* The command's environment: a clean base plus the caller's K=V. */
#ifndef SBX_ENV_H
#define SBX_ENV_H

#include <stddef.h>

/* NULL-terminated, malloc'd array (free with sbx_env_free): PATH, HOME,
 * LANG, HOSTNAME=hostname, then the extras in order. An entry whose key is
 * already there replaces it in its place (the last one wins); keys are
 * compared whole, and an entry without '=' is its own key. An allocator:
 * NULL means out of memory, its only failure (base/util.h). */
char **sbx_env_build(const char *hostname, const char *const *extra, size_t n_extra);
void sbx_env_free(char **env);

#endif
