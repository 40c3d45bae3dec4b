/* NULL-terminated string vectors. */
#include <stdlib.h>
#include <string.h>

#include "dockerapi/strv.h"

size_t dapi_strv_len(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void dapi_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **dapi_strv_concat(const char *const *a, const char *const *b)
{
	size_t na = dapi_strv_len(a), nb = dapi_strv_len(b);
	char **out = calloc(na + nb + 1, sizeof(char *));
	if (!out)
		return NULL;
	for (size_t i = 0; i < na + nb; i++) {
		out[i] = strdup(i < na ? a[i] : b[i - na]);
		if (!out[i]) {
			dapi_strv_free(out);
			return NULL;
		}
	}
	return out;
}

char **dapi_strv_dup(const char *const *v)
{
	return v ? dapi_strv_concat(v, NULL) : NULL;
}
