/* The command's environment: a clean base plus the caller's K=V. */
#include <stdint.h>
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

/* FNV-1a over the key. */
static uint64_t key_hash(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Linear in the number and size of the entries: an open-addressing table
 * from key to the entry's index in env (a request may carry thousands of
 * entries; a quadratic scan of them was a stall for everyone). */
char **sbx_env_build(const char *hostname, const char *const *extra, size_t n_extra)
{
	size_t n_all = ARRAY_LEN(base) + 1 + n_extra, n = 0;
	if (n_all < n_extra || n_all > SIZE_MAX / 2 / sizeof(size_t))
		return NULL;
	size_t tcap = 16;
	while (tcap < 2 * n_all)
		tcap *= 2;
	_cleanup_free_ size_t *table = malloc(tcap * sizeof(size_t)); /* index + 1, 0 free */
	char **env = calloc(n_all + 1, sizeof(char *));
	if (!env || !table) {
		free(env);
		return NULL;
	}
	memset(table, 0, tcap * sizeof(size_t));
	char host[80];
	snprintf(host, sizeof(host), "HOSTNAME=%s", hostname);
	for (size_t i = 0; i < n_all; i++) {
		const char *kv = i < ARRAY_LEN(base)	? base[i]
				 : i == ARRAY_LEN(base) ? host
							: extra[i - ARRAY_LEN(base) - 1];
		size_t kl = key_len(kv);
		size_t slot = (size_t)key_hash(kv, kl) & (tcap - 1);
		while (table[slot]) {
			const char *e = env[table[slot] - 1];
			if (key_len(e) == kl && strncmp(e, kv, kl) == 0)
				break;
			slot = (slot + 1) & (tcap - 1);
		}
		char *copy = strdup(kv);
		if (!copy) {
			sbx_env_free(env);
			return NULL;
		}
		if (table[slot]) {
			free(env[table[slot] - 1]);
			env[table[slot] - 1] = copy;
		} else {
			env[n] = copy;
			table[slot] = ++n;
		}
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
