/* Unit tests: tools/benchstat.c's pure logic (statistics, the paired
 * bootstrap, the TSV parsers, CSV/JSON/gnuplot escaping, targets). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define BENCHSTAT_NO_MAIN
#include "../../tools/benchstat.c"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- statistics ---------------------------------------------------------- */

static void test_stats_odd(void **state)
{
	(void)state;
	long long v[] = {50, 10, 40, 20, 30};
	struct bs_stats st = bs_stats_of(v, N(v));

	assert_int_equal(st.n, 5);
	assert_true(st.median == 30.0);
	assert_int_equal(st.p95, 50); /* ceil(4.75) = 5th smallest */
	assert_int_equal(st.min, 10);
	assert_int_equal(st.max, 50);
	assert_true(st.mean == 30.0);
	assert_int_equal(v[0], 50); /* the input is not reordered */
}

static void test_stats_even(void **state)
{
	(void)state;
	long long v[] = {4, 1, 3, 2};
	struct bs_stats st = bs_stats_of(v, N(v));

	assert_true(st.median == 2.5);
	assert_int_equal(st.p95, 4);
	assert_true(st.mean == 2.5);
	/* 20 values 1..20: p95 is the 19th smallest, median 10.5 */
	long long w[20];
	for (int i = 0; i < 20; i++)
		w[i] = 20 - i;
	st = bs_stats_of(w, 20);
	assert_true(st.median == 10.5);
	assert_int_equal(st.p95, 19);
	/* 100 values: the 95th smallest; 101 values: the 96th */
	long long h[101];
	for (int i = 0; i < 101; i++)
		h[i] = i + 1;
	assert_int_equal(bs_stats_of(h, 100).p95, 95);
	assert_int_equal(bs_stats_of(h, 101).p95, 96);
}

static void test_stats_one_and_none(void **state)
{
	(void)state;
	long long v[] = {7};
	struct bs_stats st = bs_stats_of(v, 1);

	assert_true(st.median == 7.0);
	assert_int_equal(st.p95, 7);
	assert_int_equal(st.min, 7);
	assert_int_equal(st.max, 7);
	assert_true(st.mean == 7.0);
	st = bs_stats_of(v, 0);
	assert_int_equal(st.n, 0);
}

/* ---- bootstrap ----------------------------------------------------------- */

static void test_ci_identical(void **state)
{
	(void)state;
	long long a[] = {100, 130, 90, 250, 101, 99, 180};
	double lo = 0, hi = 0;

	assert_int_equal(bs_ratio_ci(a, a, N(a), 2000, 1, &lo, &hi), 0);
	assert_true(lo == 1.0);
	assert_true(hi == 1.0);
}

static void test_ci_double(void **state)
{
	(void)state;
	long long f[] = {100, 130, 90, 250, 101, 99, 180, 77};
	long long a[N(f)];
	double lo = 0, hi = 0;

	for (size_t i = 0; i < N(f); i++)
		a[i] = 2 * f[i];
	assert_int_equal(bs_ratio_ci(a, f, N(f), 500, 42, &lo, &hi), 0);
	assert_true(lo == 2.0);
	assert_true(hi == 2.0);
}

static void test_ci_noisy(void **state)
{
	(void)state;
	long long f[40], a[40];
	uint64_t st = 7;
	double lo = 0, hi = 0, lo2 = 0, hi2 = 0, ratio;

	for (int i = 0; i < 40; i++) {
		f[i] = 10000 + (long long)(bs_rng_next(&st) % 3000);
		a[i] = 15000 + (long long)(bs_rng_next(&st) % 9000);
	}
	ratio = bs_stats_of(a, 40).median / bs_stats_of(f, 40).median;
	assert_int_equal(bs_ratio_ci(a, f, 40, 2000, 1, &lo, &hi), 0);
	assert_true(lo <= ratio);
	assert_true(ratio <= hi);
	assert_true(lo < hi); /* noise gives a real interval */
	assert_true(lo > 1.0);
	assert_true(hi < 3.0);
	/* deterministic for a seed */
	assert_int_equal(bs_ratio_ci(a, f, 40, 2000, 1, &lo2, &hi2), 0);
	assert_true(lo == lo2 && hi == hi2);
}

static void test_ci_too_few(void **state)
{
	(void)state;
	long long a[] = {5, 6};
	double lo = -1, hi = -1;

	assert_int_equal(bs_ratio_ci(a, a, 1, 100, 1, &lo, &hi), -1);
	assert_int_equal(bs_ratio_ci(a, a, 0, 100, 1, &lo, &hi), -1);
	assert_int_equal(bs_ratio_ci(a, a, 2, 0, 1, &lo, &hi), -1);
	assert_true(lo == -1 && hi == -1);
}

/* Rounds: the k-th run of each series; failed rounds in either are dropped,
 * and only the rounds both have count. */
static void test_pairs(void **state)
{
	(void)state;
	long long sus[] = {10, 20, 30, 40, 50}, fus[] = {1, 2, 3, 4};
	int sst[] = {0, 1, 0, 0, 0}, fst[] = {0, 0, 0, 1};
	struct bs_series s = {.us = sus, .status = sst, .nrun = 5};
	struct bs_series f = {.us = fus, .status = fst, .nrun = 4};
	long long a[5], b[5];

	assert_int_equal(bs_pairs(&s, &f, a, b), 2);
	assert_int_equal(a[0], 10);
	assert_int_equal(b[0], 1);
	assert_int_equal(a[1], 30);
	assert_int_equal(b[1], 3);
}

/* ---- parsers ------------------------------------------------------------- */

static int row(const char *text, struct bs_series *s)
{
	char line[512], err[256];
	int rc;

	snprintf(line, sizeof(line), "%s", text);
	rc = bs_parse_row(line, s, err, sizeof(err));
	if (rc)
		assert_true(err[0] != '\0');
	return rc;
}

static void free_row(struct bs_series *s)
{
	free(s->row);
	free(s->workload);
	free(s->note);
	free(s->target_text);
}

static void test_parse_row_good(void **state)
{
	(void)state;
	struct bs_series s;

	assert_int_equal(
	    row("3\tdocker run (\"cold\"), x\tpython3 -c pass\t0\tover:1000\tnote", &s), 0);
	assert_int_equal(s.index, 3);
	assert_string_equal(s.row, "docker run (\"cold\"), x");
	assert_string_equal(s.workload, "python3 -c pass");
	assert_int_equal(s.floor, 0);
	assert_int_equal(s.target.kind, BS_T_OVER);
	assert_int_equal(s.target.value, 1000);
	assert_string_equal(s.target_text, "over:1000");
	assert_string_equal(s.note, "note");
	free_row(&s);
	assert_int_equal(row("-\tpodman run\t/bin/true\t-\t-\tno podman here", &s), 0);
	assert_int_equal(s.index, -1);
	assert_int_equal(s.floor, -1);
	assert_int_equal(s.target.kind, BS_T_NONE);
	assert_null(s.target_text);
	free_row(&s);
	assert_int_equal(row("0\tchroot\t/bin/true\t-\t-\t", &s), 0);
	assert_string_equal(s.note, "");
	free_row(&s);
}

static void test_parse_row_bad(void **state)
{
	(void)state;
	struct bs_series s;

	assert_int_equal(row("0\tchroot\t/bin/true\t-\t-", &s), -1);	   /* 5 fields */
	assert_int_equal(row("0\tchroot\t/bin/true\t-\t-\tn\tx", &s), -1); /* 7 fields */
	assert_int_equal(row("x\tchroot\t/bin/true\t-\t-\t", &s), -1);
	assert_int_equal(row("-1\tchroot\t/bin/true\t-\t-\t", &s), -1);
	assert_int_equal(row("0\t\t/bin/true\t-\t-\t", &s), -1);
	assert_int_equal(row("0\tchroot\t\t-\t-\t", &s), -1);
	assert_int_equal(row("0\tchroot\t/bin/true\tfloor\t-\t", &s), -1);
	assert_int_equal(row("0\tchroot\t/bin/true\t-\tover:\t", &s), -1);
	assert_int_equal(row("0\tchroot\t/bin/true\t-\tover:1ms\t", &s), -1);
	assert_int_equal(row("0\tchroot\t/bin/true\t-\tfast\t", &s), -1);
	assert_int_equal(row("0\tchroot\t/bin/true\t-\tabs:-5\t", &s), -1);
	assert_int_equal(row("", &s), -1);
}

static int sample(const char *text, struct bs_sample *s)
{
	char line[512], err[256];
	int rc;

	snprintf(line, sizeof(line), "%s", text);
	rc = bs_parse_sample(line, s, err, sizeof(err));
	if (rc)
		assert_true(err[0] != '\0');
	return rc;
}

static void test_parse_sample(void **state)
{
	(void)state;
	struct bs_sample s;

	assert_int_equal(sample("run\t2\t12345\t0\t999", &s), 0);
	assert_int_equal(s.warmup, 0);
	assert_int_equal(s.index, 2);
	assert_int_equal(s.usec, 12345);
	assert_int_equal(s.status, 0);
	assert_int_equal(s.pid, 999);
	assert_int_equal(sample("warmup\t0\t1\t137\t5", &s), 0);
	assert_int_equal(s.warmup, 1);
	assert_int_equal(s.status, 137);
	assert_int_equal(sample("run\t2\t12345\t0", &s), -1);
	assert_int_equal(sample("run\t2\t12345\t0\t9\t9", &s), -1);
	assert_int_equal(sample("walk\t2\t12345\t0\t9", &s), -1);
	assert_int_equal(sample("run\tx\t12345\t0\t9", &s), -1);
	assert_int_equal(sample("run\t1\t12.5\t0\t9", &s), -1);
	assert_int_equal(sample("run\t1\t-3\t0\t9", &s), -1);
	assert_int_equal(sample("run\t1\t\t0\t9", &s), -1);
	assert_int_equal(sample("run\t1\t3\tok\t9", &s), -1);
	assert_int_equal(sample("run\t1\t3\t0\t", &s), -1);
}

static void test_targets(void **state)
{
	(void)state;
	struct bs_target t;

	assert_int_equal(bs_target_parse("-", &t), 0);
	assert_int_equal(bs_target_eval(&t, 1, 5, 1, 1, 0, 0), -1);
	assert_int_equal(bs_target_parse("over:1000", &t), 0);
	assert_int_equal(bs_target_eval(&t, 1, 10999, 1, 10000, 0, 0), 1);
	assert_int_equal(bs_target_eval(&t, 1, 11000, 1, 10000, 0, 0), 0);
	assert_int_equal(bs_target_eval(&t, 1, 11000, 0, 0, 0, 0), -1); /* no floor */
	assert_int_equal(bs_target_eval(&t, 0, 0, 1, 10000, 0, 0), -1); /* no runs */
	assert_int_equal(bs_target_parse("abs:2000", &t), 0);
	assert_int_equal(bs_target_eval(&t, 1, 1999.5, 0, 0, 0, 0), 1);
	assert_int_equal(bs_target_eval(&t, 1, 2000, 0, 0, 0, 0), 0);
	assert_int_equal(bs_target_parse("notslower:4", &t), 0);
	assert_int_equal(t.value, 4);
	assert_int_equal(bs_target_eval(&t, 1, 500, 0, 0, 1, 500), 1);
	assert_int_equal(bs_target_eval(&t, 1, 501, 0, 0, 1, 500), 0);
	assert_int_equal(bs_target_eval(&t, 1, 501, 0, 0, 0, 0), -1);
	assert_int_equal(bs_target_parse("notslower:", &t), -1);
	assert_int_equal(bs_target_parse("over:0", &t), -1);
	assert_int_equal(bs_target_parse("under:5", &t), -1);
}

/* ---- escaping ------------------------------------------------------------ */

static void check_csv(const char *in, const char *want)
{
	struct bs_buf b = {0};

	bs_csv_field(&b, in);
	assert_string_equal(b.p, want);
	bs_buf_free(&b);
}

static void test_csv(void **state)
{
	(void)state;
	check_csv("docker run", "docker run");
	check_csv("a,b", "\"a,b\"");
	check_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
	check_csv("\"", "\"\"\"\"");
	check_csv("x\ny", "\"x\ny\"");
	check_csv("it's (ok)", "it's (ok)");
}

static void check_json(const char *in, const char *want)
{
	struct bs_buf b = {0};

	bs_json_str(&b, in);
	assert_string_equal(b.p, want);
	bs_buf_free(&b);
}

static void test_json(void **state)
{
	(void)state;
	check_json("", "\"\"");
	check_json("plain", "\"plain\"");
	check_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_json("t\tn\nr\r", "\"t\\tn\\nr\\r\"");
	check_json("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check_json("µs", "\"µs\"");
}

static void test_json_object(void **state)
{
	(void)state;
	const char *good[] = {"{}", " {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\n\"]}\n",
			      "{\"k\":{\"n\":{}}}"};
	const char *bad[] = {"",     "[]",	   "{",	      "{\"a\":}",	 "{\"a\":1,}",
			     "{} x", "{\"a\":01}", "{'a':1}", "{\"a\":\"\\q\"}", "null"};

	for (size_t i = 0; i < N(good); i++)
		assert_int_equal(bs_json_is_object(good[i], strlen(good[i])), 0);
	for (size_t i = 0; i < N(bad); i++)
		if (bs_json_is_object(bad[i], strlen(bad[i])) != -1)
			fail_msg("accepted %s", bad[i]);
}

static void test_gnuplot_string(void **state)
{
	(void)state;
	struct bs_buf b = {0};

	bs_gp_str(&b, "it's @x `id` \\ & _y\x01");
	assert_string_equal(b.p, "'it''s @x `id` \\ & _y?'");
	bs_buf_free(&b);
}

static void test_ms_format(void **state)
{
	(void)state;
	struct bs_buf b = {0};

	bs_ms(&b, 412345, 0);
	bs_puts(&b, " ");
	bs_ms(&b, 9876, 0);
	bs_puts(&b, " ");
	bs_ms(&b, 392900, 1);
	bs_puts(&b, " ");
	bs_ms(&b, -1234, 1);
	assert_string_equal(b.p, "412.3 9.88 +392.9 -1.23");
	bs_buf_free(&b);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_odd),
		cmocka_unit_test(test_stats_even),
		cmocka_unit_test(test_stats_one_and_none),
		cmocka_unit_test(test_ci_identical),
		cmocka_unit_test(test_ci_double),
		cmocka_unit_test(test_ci_noisy),
		cmocka_unit_test(test_ci_too_few),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_parse_row_good),
		cmocka_unit_test(test_parse_row_bad),
		cmocka_unit_test(test_parse_sample),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_object),
		cmocka_unit_test(test_gnuplot_string),
		cmocka_unit_test(test_ms_format),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
