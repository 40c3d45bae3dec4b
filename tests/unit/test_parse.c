/* Unit tests: src/parse.c (size, duration, cpus, env, workspace, names). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/parse.h"
#include "base/util.h"

#define SENTINEL64 0xDEADBEEFCAFEF00Dull
#define SENTINEL32 0xDEADBEEFu

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = SENTINEL64;

	if (sbx_parse_size(s, &v) != 0)
		fail_msg("sbx_parse_size(\"%s\") rejected", s);
	if (v != want)
		fail_msg("sbx_parse_size(\"%s\") = %llu, want %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
}

static void size_bad(const char *s)
{
	uint64_t v = SENTINEL64;

	if (sbx_parse_size(s, &v) != -1)
		fail_msg("sbx_parse_size(\"%s\") accepted (%llu)", s, (unsigned long long)v);
	assert_int_equal(v, SENTINEL64); /* untouched on error */
}

static void dur_ok(const char *s, uint64_t want)
{
	uint64_t v = SENTINEL64;

	if (sbx_parse_duration(s, &v) != 0)
		fail_msg("sbx_parse_duration(\"%s\") rejected", s);
	if (v != want)
		fail_msg("sbx_parse_duration(\"%s\") = %llu, want %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
}

static void dur_bad(const char *s)
{
	uint64_t v = SENTINEL64;

	if (sbx_parse_duration(s, &v) != -1)
		fail_msg("sbx_parse_duration(\"%s\") accepted (%llu)", s, (unsigned long long)v);
	assert_int_equal(v, SENTINEL64);
}

static void cpus_ok(const char *s, uint32_t want)
{
	uint32_t v = SENTINEL32;

	if (sbx_parse_cpus(s, &v) != 0)
		fail_msg("sbx_parse_cpus(\"%s\") rejected", s);
	if (v != want)
		fail_msg("sbx_parse_cpus(\"%s\") = %u, want %u", s, v, want);
}

static void cpus_bad(const char *s)
{
	uint32_t v = SENTINEL32;

	if (sbx_parse_cpus(s, &v) != -1)
		fail_msg("sbx_parse_cpus(\"%s\") accepted (%u)", s, v);
	assert_int_equal(v, SENTINEL32);
}

/* ---- sizes ---------------------------------------------------------- */

static void test_size_plain(void **state)
{
	(void)state;
	size_ok("0", 0);
	size_ok("1", 1);
	size_ok("4096", 4096);
	size_ok("007", 7);
	size_ok("4096B", 4096);
	size_ok("4096b", 4096);
	size_ok("18446744073709551615", UINT64_MAX);
}

static void test_size_suffixes(void **state)
{
	(void)state;
	size_ok("1K", 1024);
	size_ok("1k", 1024);
	size_ok("100K", 102400);
	size_ok("512M", 512ull << 20);
	size_ok("512MB", 512ull << 20);
	size_ok("512MiB", 512ull << 20);
	size_ok("512mib", 512ull << 20);
	size_ok("512mb", 512ull << 20);
	size_ok("1g", 1ull << 30);
	size_ok("1G", 1ull << 30);
	size_ok("1GiB", 1ull << 30);
	size_ok("3T", 3ull << 40);
	size_ok("0M", 0);
	size_ok("16777215T", 16777215ull << 40);
	size_ok("17179869183G", 17179869183ull << 30);
}

static void test_size_overflow(void **state)
{
	(void)state;
	size_bad("18446744073709551616");
	size_bad("99999999999999999999999");
	size_bad("17179869184G");
	size_bad("16777216T");
	size_bad("18014398509481984K");
}

static void test_size_invalid(void **state)
{
	(void)state;
	size_bad("");
	size_bad("-1");
	size_bad("+1");
	size_bad(" 1");
	size_bad("1 ");
	size_bad("1 M");
	size_bad("1.5G");
	size_bad("1.0");
	size_bad(".5M");
	size_bad("M");
	size_bad("K1");
	size_bad("1X");
	size_bad("1P");
	size_bad("1iB");
	size_bad("1KK");
	size_bad("1KBB");
	size_bad("1Ki");
	size_bad("1KiBB");
	size_bad("1MBs");
	size_bad("0x10");
	size_bad("1e3");
	assert_int_equal(sbx_parse_size(NULL, &(uint64_t){0}), -1);
	assert_int_equal(sbx_parse_size("1", NULL), -1);
}

/* ---- durations ------------------------------------------------------ */

static void test_duration_units(void **state)
{
	(void)state;
	dur_ok("0", 0);
	dur_ok("0s", 0);
	dur_ok("0ms", 0);
	dur_ok("500ms", 500);
	dur_ok("1ms", 1);
	dur_ok("30s", 30000);
	dur_ok("30", 30000);
	dur_ok("5m", 300000);
	dur_ok("1h", 3600000);
	dur_ok("24h", 86400000);
	dur_bad("18446744073709551615ms"); /* over SBX_DURATION_MAX_MS */
}

static void test_duration_fractions(void **state)
{
	(void)state;
	dur_ok("1.5s", 1500);
	dur_ok("1.5", 1500);
	dur_ok("0.5m", 30000);
	dur_ok("0.5h", 1800000);
	dur_ok("0.001s", 1);
	dur_ok("2.250s", 2250);
	dur_ok("1.50000000000000000000s", 1500); /* trailing zeros are fine */
	dur_ok("0.0001m", 6);
	dur_ok("0.00001h", 36);
	dur_ok("1.0000000000s", 1000);
}

static void test_duration_invalid(void **state)
{
	(void)state;
	dur_bad("");
	dur_bad("-1s");
	dur_bad("+1s");
	dur_bad(" 1s");
	dur_bad("1s ");
	dur_bad("1 s");
	dur_bad("s");
	dur_bad("ms");
	dur_bad("1d");
	dur_bad("1sec");
	dur_bad("1S");
	dur_bad("1H");
	dur_bad("1mss");
	dur_bad("1.5ms");
	dur_bad("1.s");
	dur_bad(".5s");
	dur_bad("1..5s");
	dur_bad("1.2.3s");
	dur_bad("0.0001s");    /* not a whole number of milliseconds */
	dur_bad("1.0000001m"); /* 60000.006 ms */
	dur_bad("0.0000001h"); /* 0.36 ms */
	dur_bad("1.0000000001s");
	dur_bad("0x10s");
	assert_int_equal(sbx_parse_duration(NULL, &(uint64_t){0}), -1);
	assert_int_equal(sbx_parse_duration("1s", NULL), -1);
}

static void test_duration_overflow(void **state)
{
	(void)state;
	dur_bad("18446744073709551616ms");
	dur_bad("18446744073709552s"); /* * 1000 overflows */
	dur_bad("18446744073709551s");
	dur_bad("2562047788015h"); /* ns overflow: must not wrap into "expired" */
	dur_bad("9223372036854775807ms");
	dur_ok("87600h", SBX_DURATION_MAX_MS); /* 10 years: the maximum */
	dur_ok("315360000000ms", SBX_DURATION_MAX_MS);
	dur_bad("315360000001ms");
	dur_bad("87600.001h");
	dur_ok("87599.5h", 87599ull * 3600000ull + 1800000ull);
}

static void test_deadline_saturates(void **state)
{
	(void)state;
	assert_int_equal(sbx_deadline_ns(5, 0), 0); /* no deadline */
	assert_true(sbx_deadline_ns(1000, 1) == 1000 + 1000000ull);
	assert_true(sbx_deadline_ns(1000, UINT64_MAX) == UINT64_MAX);
	assert_true(sbx_deadline_ns(UINT64_MAX - 5, 1) == UINT64_MAX);
	assert_true(sbx_deadline_ns(1, UINT64_MAX / 1000000ull + 1) == UINT64_MAX);
}

/* ---- cpus ----------------------------------------------------------- */

static void test_cpus_valid(void **state)
{
	(void)state;
	cpus_ok("0", 0);
	cpus_ok("0.0", 0);
	cpus_ok("0.5", 500);
	cpus_ok("1", 1000);
	cpus_ok("1.0", 1000);
	cpus_ok("2.25", 2250);
	cpus_ok("0.001", 1);
	cpus_ok("3.141", 3141);
	cpus_ok("1024", 1024000);
	cpus_ok("1024.000", 1024000);
	cpus_ok("01", 1000);
}

static void test_cpus_invalid(void **state)
{
	(void)state;
	cpus_bad("");
	cpus_bad("-1");
	cpus_bad("-0.5");
	cpus_bad("+1");
	cpus_bad(" 1");
	cpus_bad("1 ");
	cpus_bad("1.0001");
	cpus_bad("0.0005");
	cpus_bad("0.5000"); /* at most three decimals, even zeros */
	cpus_bad("1024.001");
	cpus_bad("1025");
	cpus_bad("4294967");
	cpus_bad("18446744073709551616");
	cpus_bad("1.");
	cpus_bad(".5");
	cpus_bad("1,5");
	cpus_bad("1cpu");
	cpus_bad("abc");
	cpus_bad("1e3");
	assert_int_equal(sbx_parse_cpus(NULL, &(uint32_t){0}), -1);
	assert_int_equal(sbx_parse_cpus("1", NULL), -1);
}

/* ---- env ------------------------------------------------------------ */

static void test_env(void **state)
{
	(void)state;
	assert_int_equal(sbx_parse_env("K=V", NULL), 0);
	assert_int_equal(sbx_parse_env("K=", NULL), 0);
	assert_int_equal(sbx_parse_env("_=x", NULL), 0);
	assert_int_equal(sbx_parse_env("_A1_b2=x=y", NULL), 0);
	assert_int_equal(sbx_parse_env("PATH=/usr/bin:/bin", NULL), 0);
	assert_int_equal(sbx_parse_env("K= spaces and \"quotes\" ", NULL), 0);

	assert_int_equal(sbx_parse_env("", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("=", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("K", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("1K=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("K-1=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("K.1=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("K 1=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env(" K=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env("K\xc3\xa9=V", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_env(NULL, NULL), -SBX_E_INVALID);
}

/* ---- workspace ------------------------------------------------------ */

static void ws_ok(const char *spec, const char *want_dir, sbx_ws_mode want_mode)
{
	char *dir = (char *)1;
	sbx_ws_mode mode = SBX_WS_NONE;

	if (sbx_parse_workspace(spec, &dir, &mode, NULL) != 0)
		fail_msg("sbx_parse_workspace(\"%s\") rejected", spec);
	assert_non_null(dir);
	assert_string_equal(dir, want_dir);
	assert_int_equal(mode, want_mode);
	free(dir);
}

static void ws_bad(const char *spec)
{
	char *dir = (char *)1;
	sbx_ws_mode mode = (sbx_ws_mode)77;

	if (sbx_parse_workspace(spec, &dir, &mode, NULL) != -SBX_E_INVALID)
		fail_msg("sbx_parse_workspace(\"%s\") accepted", spec);
	assert_null(dir);
	assert_int_equal(mode, 77);
}

static void test_workspace(void **state)
{
	(void)state;
	ws_ok("/a", "/a", SBX_WS_RW);
	ws_ok("/a:ro", "/a", SBX_WS_RO);
	ws_ok("/a:rw", "/a", SBX_WS_RW);
	ws_ok("rel/dir:ro", "rel/dir", SBX_WS_RO);
	ws_ok("x:ro", "x", SBX_WS_RO);
	ws_ok(".", ".", SBX_WS_RW);
	ws_ok("ro", "ro", SBX_WS_RW);
	ws_ok("rw", "rw", SBX_WS_RW);
	/* After the last ':' comes a mode (unless it holds a '/'); ':' inside
	 * DIR needs an explicit mode. */
	ws_ok("/a:b:rw", "/a:b", SBX_WS_RW);
	ws_ok("/a:b:ro", "/a:b", SBX_WS_RO);
	ws_ok("/a:b/c", "/a:b/c", SBX_WS_RW);
	ws_ok("/a:ro:rw", "/a:ro", SBX_WS_RW);
	ws_ok("/a:rw:ro", "/a:rw", SBX_WS_RO);
	ws_ok("/a/ro", "/a/ro", SBX_WS_RW);
	ws_ok("::ro", ":", SBX_WS_RO);
	/* The mode is matched without regard to case: ":RO" must not give rw. */
	ws_ok("/a:RO", "/a", SBX_WS_RO);
	ws_ok("/a:Rw", "/a", SBX_WS_RW);

	ws_bad("");
	ws_bad("/a:");
	ws_bad("/a:r");
	ws_bad("/a:rx");
	ws_bad("/a:rox");
	ws_bad("/a:xro");
	ws_bad("/a:b");
	ws_bad(":ro");
	ws_bad(":rw");
	ws_bad(NULL);
}

static void test_workspace_null_outputs(void **state)
{
	char *dir = (char *)1;
	sbx_ws_mode mode;

	(void)state;
	assert_int_equal(sbx_parse_workspace("/a", NULL, &mode, NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_parse_workspace("/a", &dir, NULL, NULL), -SBX_E_INVALID);
	assert_null(dir);
}

/* ---- names ---------------------------------------------------------- */

static void test_name(void **state)
{
	char s[80];

	(void)state;
	assert_int_equal(sbx_valid_name("a", NULL), 0);
	assert_int_equal(sbx_valid_name("0", NULL), 0);
	assert_int_equal(sbx_valid_name("job-1.test_x", NULL), 0);
	assert_int_equal(sbx_valid_name("A..", NULL), 0);
	assert_int_equal(sbx_valid_name("a-", NULL), 0);

	memset(s, 'n', 64);
	s[64] = '\0';
	assert_int_equal(sbx_valid_name(s, NULL), 0);
	s[64] = 'n';
	s[65] = '\0';
	assert_int_equal(sbx_valid_name(s, NULL), -SBX_E_INVALID);
	memset(s, 'n', 79);
	s[79] = '\0';
	assert_int_equal(sbx_valid_name(s, NULL), -SBX_E_INVALID);

	assert_int_equal(sbx_valid_name("", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name(".", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("..", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name(".a", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("-a", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("_a", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("a/b", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("a b", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("a:b", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("a\n", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name("\xc3\xa9", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_name(NULL, NULL), -SBX_E_INVALID);
}

static void test_hostname(void **state)
{
	char s[80];

	(void)state;
	assert_int_equal(sbx_valid_hostname("sandbox", NULL), 0);
	assert_int_equal(sbx_valid_hostname("a", NULL), 0);
	assert_int_equal(sbx_valid_hostname("1", NULL), 0);
	assert_int_equal(sbx_valid_hostname("my-Host-2", NULL), 0);
	assert_int_equal(sbx_valid_hostname("a-b", NULL), 0);

	memset(s, 'h', 63);
	s[63] = '\0';
	assert_int_equal(sbx_valid_hostname(s, NULL), 0);
	s[63] = 'h';
	s[64] = '\0';
	assert_int_equal(sbx_valid_hostname(s, NULL), -SBX_E_INVALID);

	assert_int_equal(sbx_valid_hostname("", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname("-", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname("-a", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname("a-", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname("a.b", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname("a_b", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname("a b", NULL), -SBX_E_INVALID);
	assert_int_equal(sbx_valid_hostname(NULL, NULL), -SBX_E_INVALID);
}

/* ---- inside paths --------------------------------------------------- */

static void test_inside_path(void **state)
{
	(void)state;
	assert_int_equal(sbx_valid_inside_path("/", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("/workspace", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("/a/b/c/", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("//a//b", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("/.hidden", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("/a/...", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("/a/..b", NULL), 0);
	assert_int_equal(sbx_valid_inside_path("/a./b.", NULL), 0);

	assert_int_equal(sbx_valid_inside_path("", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("a", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("./a", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/.", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/..", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/./", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/../", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/a/./b", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/a/../b", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/a/..", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path("/a//..", NULL), -SBX_E_PATH);
	assert_int_equal(sbx_valid_inside_path(NULL, NULL), -SBX_E_PATH);
}

/* ---- messages: what a caller passing an sbx_error gets -------------- */

static void expect_err(int r, const sbx_error *e, sbx_errcode code, const char *msg)
{
	assert_int_equal(r, -(int)code);
	assert_int_equal(e->code, code);
	assert_int_equal(e->sys_errno, 0);
	assert_string_equal(e->msg, msg);
}

static void test_messages(void **state)
{
	sbx_error e;
	char *dir = NULL;
	sbx_ws_mode mode;

	(void)state;
	expect_err(sbx_parse_env("K-1=V", &e), &e, SBX_E_INVALID,
		   "invalid environment entry: K-1=V");
	expect_err(sbx_valid_hostname("a_b", &e), &e, SBX_E_INVALID, "invalid hostname: a_b");
	expect_err(sbx_valid_name("-a", &e), &e, SBX_E_INVALID,
		   "invalid sandbox name '-a' (letters, digits, _ . -; at most 64; starting with "
		   "a letter or digit)");
	expect_err(sbx_valid_inside_path("/a/../b", &e), &e, SBX_E_PATH,
		   "invalid path /a/../b: must be absolute, without . or ..");
	expect_err(sbx_parse_workspace("/a:rx", &dir, &mode, &e), &e, SBX_E_INVALID,
		   "invalid workspace '/a:rx' (DIR, DIR:ro or DIR:rw)");
	assert_null(dir);
	/* Success leaves err alone. */
	e.code = SBX_E_STATE;
	assert_int_equal(sbx_parse_env("K=V", &e), 0);
	assert_int_equal(e.code, SBX_E_STATE);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_plain),
		cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_invalid),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_fractions),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_duration_overflow),
	    cmocka_unit_test(test_deadline_saturates),
		cmocka_unit_test(test_cpus_valid),
		cmocka_unit_test(test_cpus_invalid),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_workspace),
		cmocka_unit_test(test_workspace_null_outputs),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_inside_path),
		cmocka_unit_test(test_messages),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
