/* The command's environment: a clean base plus the caller's K=V. */
#include <stdio.h>
#include <string.h>

#include "base/env.h"
#include "base/util.h"

static const char *const base[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "LANG=C.UTF-8",
};

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

char **sbx_env_build(const char *hostname, const char *const *extra, size_t n_extra)
{
	size_t cap = ARRAY_LEN(base) + 1 + n_extra + 1, n = 0;
	char **env = calloc(cap, sizeof(char *));
	if (!env)
		return NULL;
	char host[80];
	snprintf(host, sizeof(host), "HOSTNAME=%s", hostname);
	const char *all[ARRAY_LEN(base) + 1];
	for (size_t i = 0; i < ARRAY_LEN(base); i++)
		all[i] = base[i];
	all[ARRAY_LEN(base)] = host;
	for (size_t i = 0; i < ARRAY_LEN(all) + n_extra; i++) {
		const char *kv = i < ARRAY_LEN(all) ? all[i] : extra[i - ARRAY_LEN(all)];
		size_t kl = key_len(kv);
		size_t j = 0;
		while (j < n && !(key_len(env[j]) == kl && strncmp(env[j], kv, kl) == 0))
			j++;
		char *copy = strdup(kv);
		if (!copy) {
			sbx_env_free(env);
			return NULL;
		}
		if (j < n)
			free(env[j]);
		else
			n++;
		env[j] = copy;
	}
	return env;
}

void sbx_env_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}
