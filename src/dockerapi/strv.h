/* NULL-terminated string vectors (argv, env, labels), malloc'd. */
#ifndef SBX_DAPI_STRV_H
#define SBX_DAPI_STRV_H

#include <stddef.h>

/* A deep copy of v (NULL: NULL); NULL on out of memory. */
char **dapi_strv_dup(const char *const *v);
/* a then b (either may be NULL); an empty vector when both are. */
char **dapi_strv_concat(const char *const *a, const char *const *b);
size_t dapi_strv_len(const char *const *v);
void dapi_strv_free(char **v);
static inline void dapi_strv_freep(char ***v)
{
	dapi_strv_free(*v);
	*v = NULL;
}
#define DAPI_CSTRV(v) ((const char *const *)(v))

#endif
