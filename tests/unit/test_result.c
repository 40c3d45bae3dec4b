/* Unit tests: src/result.c (sbx_result_to_json, sbx_result_free,
 * sbx_strerror). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sbx.h"

static void check_json(const sbx_result *r, const char *want)
{
	char *j = sbx_result_to_json(r);

	assert_non_null(j);
	assert_string_equal(j, want);
	free(j);
}

static void test_json_zeroed(void **state)
{
	sbx_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	check_json(&r,
		   "{\"exit_code\":0,\"signal\":null,\"timed_out\":false,\"oom_killed\":false,"
		   "\"stdout\":\"\",\"stderr\":\"\",\"stdout_truncated\":false,"
		   "\"stderr_truncated\":false,\"duration_ms\":0,\"cpu_ms\":0,\"max_rss_kb\":0}");
}

static void test_json_full(void **state)
{
	sbx_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.exit_code = 124;
	r.signal = 9;
	r.timed_out = true;
	r.oom_killed = false;
	r.stdout_buf = strdup("hello \"world\"\n");
	r.stdout_len = strlen(r.stdout_buf);
	r.stdout_truncated = true;
	r.stderr_buf = strdup("Traceback:\tboom\\\x01\x7f\xC3\xA9\xFF");
	r.stderr_len = strlen(r.stderr_buf);
	r.duration_ms = 30001;
	r.cpu_ms = 29876;
	r.max_rss_kb = 10240;
	check_json(&r, "{\"exit_code\":124,\"signal\":9,\"timed_out\":true,\"oom_killed\":false,"
		       "\"stdout\":\"hello \\\"world\\\"\\n\","
		       "\"stderr\":\"Traceback:\\tboom\\\\\\u0001\\u007f\xC3\xA9\xEF\xBF\xBD\","
		       "\"stdout_truncated\":true,\"stderr_truncated\":false,"
		       "\"duration_ms\":30001,\"cpu_ms\":29876,\"max_rss_kb\":10240}");
	sbx_result_free(&r);
}

static void test_json_oom_killed(void **state)
{
	sbx_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.exit_code = 137;
	r.signal = 9;
	r.oom_killed = true;
	r.stderr_truncated = true;
	r.duration_ms = 1;
	check_json(&r,
		   "{\"exit_code\":137,\"signal\":9,\"timed_out\":false,\"oom_killed\":true,"
		   "\"stdout\":\"\",\"stderr\":\"\",\"stdout_truncated\":false,"
		   "\"stderr_truncated\":true,\"duration_ms\":1,\"cpu_ms\":0,\"max_rss_kb\":0}");
}

static void test_json_extremes(void **state)
{
	sbx_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.exit_code = -1;
	r.signal = 64;
	r.duration_ms = UINT64_MAX;
	r.cpu_ms = UINT64_MAX;
	r.max_rss_kb = UINT64_MAX;
	check_json(&r, "{\"exit_code\":-1,\"signal\":64,\"timed_out\":false,\"oom_killed\":false,"
		       "\"stdout\":\"\",\"stderr\":\"\",\"stdout_truncated\":false,"
		       "\"stderr_truncated\":false,\"duration_ms\":18446744073709551615,"
		       "\"cpu_ms\":18446744073709551615,\"max_rss_kb\":18446744073709551615}");
}

/* Lengths, not NUL terminators, delimit the captured output. */
static void test_json_uses_lengths(void **state)
{
	static char out[] = "a\0b\0c";
	static char err[] = "xyz";
	sbx_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.stdout_buf = out;
	r.stdout_len = 5;
	r.stderr_buf = err;
	r.stderr_len = 2;
	check_json(&r, "{\"exit_code\":0,\"signal\":null,\"timed_out\":false,\"oom_killed\":false,"
		       "\"stdout\":\"a\\u0000b\\u0000c\",\"stderr\":\"xy\","
		       "\"stdout_truncated\":false,\"stderr_truncated\":false,"
		       "\"duration_ms\":0,\"cpu_ms\":0,\"max_rss_kb\":0}");
}

static void test_json_large_output(void **state)
{
	enum { N = 200000 };
	sbx_result r;
	char *j;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.stdout_buf = malloc(N + 1);
	assert_non_null(r.stdout_buf);
	memset(r.stdout_buf, '\n', N);
	r.stdout_buf[N] = '\0';
	r.stdout_len = N;
	j = sbx_result_to_json(&r);
	assert_non_null(j);
	/* One line, no trailing newline: every \n became the two bytes "\n". */
	assert_null(strchr(j, '\n'));
	assert_int_equal(strlen(j), 182 + 2 * N);
	assert_int_equal(j[strlen(j) - 1], '}');
	free(j);
	sbx_result_free(&r);
}

static void test_json_null(void **state)
{
	(void)state;
	assert_null(sbx_result_to_json(NULL));
}

static void test_result_free(void **state)
{
	sbx_result r, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	memset(&r, 0, sizeof(r));
	r.exit_code = 3;
	r.signal = 2;
	r.timed_out = r.oom_killed = r.cancelled = true;
	r.stdout_buf = strdup("out");
	r.stdout_len = 3;
	r.stderr_buf = strdup("err");
	r.stderr_len = 3;
	r.stdout_truncated = r.stderr_truncated = true;
	r.duration_ms = r.cpu_ms = r.max_rss_kb = 7;
	sbx_result_free(&r);
	assert_memory_equal(&r, &zero, sizeof(r));
	sbx_result_free(&r); /* twice: no double free */
	assert_memory_equal(&r, &zero, sizeof(r));
	sbx_result_free(NULL);
}

static void test_result_free_zeroed(void **state)
{
	sbx_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	sbx_result_free(&r);
	assert_null(r.stdout_buf);
	assert_null(r.stderr_buf);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sbx_strerror(SBX_OK), "success");
	assert_string_equal(sbx_strerror(SBX_E_INVALID), "invalid configuration value");
	assert_string_equal(sbx_strerror(-SBX_E_NOTFOUND), "no such sandbox");
	for (int c = SBX_OK; c <= SBX_E_PATH; c++) {
		const char *m = sbx_strerror(c);
		assert_non_null(m);
		assert_true(strlen(m) > 0);
		assert_null(strchr(m, '\n'));
		assert_string_not_equal(m, "unknown error");
		assert_ptr_equal(sbx_strerror(-c), m); /* negated codes too */
		for (int d = SBX_OK; d < c; d++)
			assert_string_not_equal(sbx_strerror(d), m);
	}
	assert_string_equal(sbx_strerror(SBX_E_PATH + 1), "unknown error");
	assert_string_equal(sbx_strerror(-(SBX_E_PATH + 1)), "unknown error");
	assert_string_equal(sbx_strerror(1000), "unknown error");
	assert_string_equal(sbx_strerror(INT_MAX), "unknown error");
	assert_string_equal(sbx_strerror(INT_MIN), "unknown error");
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_zeroed),
		cmocka_unit_test(test_json_full),
		cmocka_unit_test(test_json_oom_killed),
		cmocka_unit_test(test_json_extremes),
		cmocka_unit_test(test_json_uses_lengths),
		cmocka_unit_test(test_json_large_output),
		cmocka_unit_test(test_json_null),
		cmocka_unit_test(test_result_free),
		cmocka_unit_test(test_result_free_zeroed),
		cmocka_unit_test(test_strerror),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
