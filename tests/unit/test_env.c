/* Unit tests: src/base/env.c, the command's environment (sbx_env_build). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/env.h"

#define BASE_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* env must be exactly want[0..n), in that order, then NULL. */
static void env_is(char **env, const char *const *want, size_t n)
{
	assert_non_null(env);
	size_t i = 0;
	for (; env[i]; i++) {
		if (i >= n)
			fail_msg("extra entry %zu: %s", i, env[i]);
		if (strcmp(env[i], want[i]) != 0)
			fail_msg("entry %zu is %s, want %s", i, env[i], want[i]);
	}
	if (i != n)
		fail_msg("%zu entries, want %zu (missing %s)", i, n, want[i]);
	sbx_env_free(env);
}

#define ENV_IS(env, ...)                                                                           \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		env_is(env, want_, sizeof(want_) / sizeof(want_[0]));                              \
	} while (0)

static void test_base_only(void **state)
{
	(void)state;
	ENV_IS(sbx_env_build("sandbox", NULL, 0), BASE_PATH, "HOME=/root", "LANG=C.UTF-8",
	       "HOSTNAME=sandbox");
}

static void test_hostname(void **state)
{
	(void)state;
	ENV_IS(sbx_env_build("my-box-63", NULL, 0), BASE_PATH, "HOME=/root", "LANG=C.UTF-8",
	       "HOSTNAME=my-box-63");
	ENV_IS(sbx_env_build("", NULL, 0), BASE_PATH, "HOME=/root", "LANG=C.UTF-8", "HOSTNAME=");
}

static void test_extras_appended_in_order(void **state)
{
	(void)state;
	const char *extra[] = {"ZED=1", "ALPHA=2", "MID=a=b", "EMPTY="};
	ENV_IS(sbx_env_build("h", extra, 4), BASE_PATH, "HOME=/root", "LANG=C.UTF-8", "HOSTNAME=h",
	       "ZED=1", "ALPHA=2", "MID=a=b", "EMPTY=");
}

/* An extra with a base key replaces it where it stands. */
static void test_extras_override_base(void **state)
{
	(void)state;
	const char *extra[] = {"X=1", "HOME=/tmp", "PATH=/bin", "HOSTNAME=other", "LANG="};
	ENV_IS(sbx_env_build("h", extra, 5), "PATH=/bin", "HOME=/tmp", "LANG=", "HOSTNAME=other",
	       "X=1");
}

/* The last of repeated keys wins, at the place of the first. */
static void test_duplicates(void **state)
{
	(void)state;
	const char *extra[] = {"A=1", "B=1", "A=2", "C=1", "A=3", "B=2"};
	ENV_IS(sbx_env_build("h", extra, 6), BASE_PATH, "HOME=/root", "LANG=C.UTF-8", "HOSTNAME=h",
	       "A=3", "B=2", "C=1");
}

/* Keys are compared whole: a prefix or an extension is another key. */
static void test_keys_compared_whole(void **state)
{
	(void)state;
	const char *extra[] = {"PATHX=1", "PAT=2", "HOM=3", "HOME_DIR=4", "home=5"};
	ENV_IS(sbx_env_build("h", extra, 5), BASE_PATH, "HOME=/root", "LANG=C.UTF-8", "HOSTNAME=h",
	       "PATHX=1", "PAT=2", "HOM=3", "HOME_DIR=4", "home=5");
}

/* An entry without '=' (the library's callers refuse them, see
 * sbx_config_validate) is kept as given; its whole text is its key. */
static void test_entries_without_equals(void **state)
{
	(void)state;
	const char *extra[] = {"NOEQ", "FOO=1", "FOO", "NOEQ=now"};
	ENV_IS(sbx_env_build("h", extra, 4), BASE_PATH, "HOME=/root", "LANG=C.UTF-8", "HOSTNAME=h",
	       "NOEQ=now", "FOO");
	const char *home[] = {"HOME"};
	ENV_IS(sbx_env_build("h", home, 1), BASE_PATH, "HOME", "LANG=C.UTF-8", "HOSTNAME=h");
}

static void test_strings_are_copies(void **state)
{
	(void)state;
	char kv[] = "K=before";
	const char *extra[] = {kv};
	char **env = sbx_env_build("h", extra, 1);
	assert_non_null(env);
	kv[2] = 'X';
	assert_string_equal(env[4], "K=before");
	assert_ptr_not_equal(env[4], kv);
	sbx_env_free(env);
	sbx_env_free(NULL);
}

/* Many entries: linear time (200 000 entries took minutes when each was
 * compared with all before it), and the same answer as the rules above:
 * first position kept, last value wins. */
static void test_many_entries_linear(void **state)
{
	(void)state;
	enum { N = 200000 };
	char **kv = calloc(N, sizeof(char *));
	assert_non_null(kv);
	for (size_t i = 0; i < N; i++) {
		/* keys K0..K99999 twice: the second half overrides the first */
		char b[40];
		snprintf(b, sizeof(b), "K%zu=%zu", i % (N / 2), i);
		kv[i] = strdup(b);
		assert_non_null(kv[i]);
	}
	struct timespec a, z;
	clock_gettime(CLOCK_MONOTONIC, &a);
	char **env = sbx_env_build("h", (const char *const *)kv, N);
	clock_gettime(CLOCK_MONOTONIC, &z);
	assert_non_null(env);
	double s = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
	if (s > 5.0)
		fail_msg("200000 entries took %.1f s", s);
	size_t n = 0;
	for (; env[n]; n++)
		;
	assert_int_equal(n, 4 + N / 2);
	for (size_t i = 0; i < N / 2; i++) {
		char want[40];
		snprintf(want, sizeof(want), "K%zu=%zu", i, i + N / 2);
		assert_string_equal(env[4 + i], want);
	}
	sbx_env_free(env);
	for (size_t i = 0; i < N; i++)
		free(kv[i]);
	free(kv);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_only),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_extras_appended_in_order),
		cmocka_unit_test(test_extras_override_base),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_keys_compared_whole),
		cmocka_unit_test(test_entries_without_equals),
		cmocka_unit_test(test_strings_are_copies),
		cmocka_unit_test(test_many_entries_linear),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
