/* Unit tests: src/json.c (JSON strings, UTF-8 repair) and src/buf.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "proto/json.h"

#define R "\xEF\xBF\xBD" /* U+FFFD REPLACEMENT CHARACTER */

/* Encode in[0..inlen) and compare with the exact bytes want (incl. quotes). */
static void check_n(const char *in, size_t inlen, const char *want)
{
	sbx_buf b = {0};

	assert_int_equal(sbx_json_string(&b, in, inlen), 0);
	assert_non_null(b.data);
	assert_int_equal(b.oom, 0);
	if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
		fail_msg("encoded \"%s\" (%zu bytes), want \"%s\" (%zu bytes)", b.data, b.len, want,
			 strlen(want));
	assert_int_equal(b.data[b.len], '\0');
	sbx_buf_free(&b);
}

#define check(lit, want) check_n(lit, sizeof(lit) - 1, want)

/* ---- plain strings and escapes -------------------------------------- */

static void test_empty(void **state)
{
	(void)state;
	check("", "\"\"");
	check_n(NULL, 0, "\"\"");
}

static void test_ascii(void **state)
{
	(void)state;
	check("abc", "\"abc\"");
	check("hello, world 123 ~!@#$%^&*()", "\"hello, world 123 ~!@#$%^&*()\"");
	check("/", "\"/\"");
	check("'", "\"'\"");
	check(" ", "\" \"");
	check("a", "\"a\"");
	/* Only len bytes are read. */
	check_n("abcdef", 3, "\"abc\"");
}

static void test_quote_backslash(void **state)
{
	(void)state;
	check("\"", "\"\\\"\"");
	check("\\", "\"\\\\\"");
	check("a\"b\\c", "\"a\\\"b\\\\c\"");
	check("\\\\\"\"", "\"\\\\\\\\\\\"\\\"\"");
}

static void test_short_escapes(void **state)
{
	(void)state;
	check("\b", "\"\\b\"");
	check("\f", "\"\\f\"");
	check("\n", "\"\\n\"");
	check("\r", "\"\\r\"");
	check("\t", "\"\\t\"");
	check("line1\nline2\r\n\ttab", "\"line1\\nline2\\r\\n\\ttab\"");
}

static void test_control_escapes(void **state)
{
	(void)state;
	check("\x00", "\"\\u0000\"");
	check("\x01", "\"\\u0001\"");
	check("\x07", "\"\\u0007\"");
	check("\x0b", "\"\\u000b\"");
	check("\x0e", "\"\\u000e\"");
	check("\x1b[0m", "\"\\u001b[0m\"");
	check("\x1f", "\"\\u001f\"");
	check("\x7f", "\"\\u007f\"");
	check("a\x00"
	      "b",
	      "\"a\\u0000b\"");
	check("\x1f\x20\x7e\x7f", "\"\\u001f ~\\u007f\"");
}

static void test_all_controls(void **state)
{
	static const char hex[] = "0123456789abcdef";

	(void)state;
	for (int c = 0; c < 0x20; c++) {
		char in = (char)c;
		char want[16];
		switch (c) {
		case '\b':
			strcpy(want, "\"\\b\"");
			break;
		case '\f':
			strcpy(want, "\"\\f\"");
			break;
		case '\n':
			strcpy(want, "\"\\n\"");
			break;
		case '\r':
			strcpy(want, "\"\\r\"");
			break;
		case '\t':
			strcpy(want, "\"\\t\"");
			break;
		default:
			memcpy(want, "\"\\u00", 5);
			want[5] = hex[c >> 4];
			want[6] = hex[c & 0xF];
			want[7] = '"';
			want[8] = '\0';
		}
		check_n(&in, 1, want);
	}
}

/* ---- valid UTF-8 is kept as is -------------------------------------- */

static void test_valid_utf8(void **state)
{
	(void)state;
	check("\xC2\x80", "\"\xC2\x80\"");		     /* U+0080 */
	check("\xC3\xA9t\xC3\xA9", "\"\xC3\xA9t\xC3\xA9\""); /* été */
	check("\xDF\xBF", "\"\xDF\xBF\"");		     /* U+07FF */
	check("\xE0\xA0\x80", "\"\xE0\xA0\x80\"");	     /* U+0800 */
	check("\xE2\x82\xAC", "\"\xE2\x82\xAC\"");	     /* € */
	check("\xED\x9F\xBF", "\"\xED\x9F\xBF\"");	     /* U+D7FF */
	check("\xEE\x80\x80", "\"\xEE\x80\x80\"");	     /* U+E000 */
	check("\xEF\xBB\xBF", "\"\xEF\xBB\xBF\"");	     /* BOM */
	check("\xEF\xBF\xBD", "\"\xEF\xBF\xBD\"");	     /* U+FFFD itself */
	check("\xEF\xBF\xBF", "\"\xEF\xBF\xBF\"");	     /* U+FFFF */
	check("\xE2\x80\xA8", "\"\xE2\x80\xA8\"");	     /* U+2028 */
	check("\xF0\x90\x80\x80", "\"\xF0\x90\x80\x80\"");   /* U+10000 */
	check("\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\"");   /* 😀 */
	check("\xF3\xBF\xBF\xBF", "\"\xF3\xBF\xBF\xBF\"");   /* U+FFFFF */
	check("\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\"");   /* U+10FFFF */
	check("a\xC3\xA9\n\xF0\x9F\x98\x80\"", "\"a\xC3\xA9\\n\xF0\x9F\x98\x80\\\"\"");
}

/* ---- invalid UTF-8: one U+FFFD per maximal subpart ------------------ */

static void test_lone_continuation(void **state)
{
	(void)state;
	check("\x80", "\"" R "\"");
	check("\xBF", "\"" R "\"");
	check("\x80\xBF", "\"" R R "\"");
	check("a\x80"
	      "b",
	      "\"a" R "b\"");
	check("\xC3\xA9\xA9", "\"\xC3\xA9" R "\"");
	check("\xF0\x9F\x98\x80\x80", "\"\xF0\x9F\x98\x80" R "\"");
}

static void test_invalid_leads(void **state)
{
	(void)state;
	check("\xC0", "\"" R "\"");
	check("\xC1", "\"" R "\"");
	check("\xF5", "\"" R "\"");
	check("\xF8", "\"" R "\"");
	check("\xFE", "\"" R "\"");
	check("\xFF", "\"" R "\"");
	check("\xFE\xFE\xFF\xFF", "\"" R R R R "\"");
	check("\xF5\x80\x80\x80", "\"" R R R R "\"");
	check("\xF8\x88\x80\x80\x80", "\"" R R R R R "\""); /* old 5-byte form */
	check("\xFC\x84\x80\x80\x80\x80", "\"" R R R R R R "\"");
}

static void test_overlongs(void **state)
{
	(void)state;
	check("\xC0\x80", "\"" R R "\""); /* overlong NUL */
	check("\xC0\xAF", "\"" R R "\""); /* overlong '/' */
	check("\xC1\xBF", "\"" R R "\"");
	check("\xE0\x80\x80", "\"" R R R "\"");
	check("\xE0\x80\xAF", "\"" R R R "\"");
	check("\xE0\x9F\xBF", "\"" R R R "\""); /* overlong U+07FF */
	check("\xF0\x80\x80\x80", "\"" R R R R "\"");
	check("\xF0\x80\x80\xAF", "\"" R R R R "\"");
	check("\xF0\x8F\xBF\xBF", "\"" R R R R "\""); /* overlong U+FFFF */
}

static void test_surrogates(void **state)
{
	(void)state;
	check("\xED\xA0\x80", "\"" R R R "\""); /* U+D800 */
	check("\xED\xAD\xBF", "\"" R R R "\""); /* U+DB7F */
	check("\xED\xB0\x80", "\"" R R R "\""); /* U+DC00 */
	check("\xED\xBF\xBF", "\"" R R R "\""); /* U+DFFF */
	/* CESU-8 style pair for U+10000. */
	check("\xED\xA0\x80\xED\xB0\x80", "\"" R R R R R R "\"");
}

static void test_above_max(void **state)
{
	(void)state;
	check("\xF4\x90\x80\x80", "\"" R R R R "\""); /* U+110000 */
	check("\xF4\xBF\xBF\xBF", "\"" R R R R "\"");
	check("\xF7\xBF\xBF\xBF", "\"" R R R R "\""); /* U+1FFFFF */
}

static void test_truncated(void **state)
{
	(void)state;
	check("\xC3", "\"" R "\"");
	check("\xDF", "\"" R "\"");
	check("\xE2", "\"" R "\"");
	check("\xE2\x82", "\"" R "\"");
	check("\xF0", "\"" R "\"");
	check("\xF0\x9F", "\"" R "\"");
	check("\xF0\x9F\x98", "\"" R "\"");
	check("\xF4\x8F\xBF", "\"" R "\"");
	check("\xED\x9F", "\"" R "\"");
	/* Truncated by a following non-continuation byte. */
	check("\xC3"
	      "A",
	      "\"" R "A\"");
	check("\xE2\x82"
	      "A",
	      "\"" R "A\"");
	check("\xF0\x9F\x98"
	      "A",
	      "\"" R "A\"");
	check("\xE2\x82\xE2\x82\xAC", "\"" R "\xE2\x82\xAC\"");
	check("\xF0\x9F\xC3\xA9", "\"" R "\xC3\xA9\"");
	/* The byte that ends a truncated sequence is itself escaped. */
	check("\xC3\n", "\"" R "\\n\"");
	check("\xE2\x82\"", "\"" R "\\\"\"");
	check("\xF0\x9F\x98\\", "\"" R "\\\\\"");
	check("\xC3\x00", "\"" R "\\u0000\"");
	/* Cut by len, not by the string. */
	check_n("\xE2\x82\xAC", 2, "\"" R "\"");
}

/* The example of Unicode 15 §3.9, Table 3-8 (U+FFFD substitution). */
static void test_unicode_table_3_8(void **state)
{
	(void)state;
	check("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
	      "\"a" R R R "b" R "c" R R "d\"");
}

static void test_appends_to_buffer(void **state)
{
	sbx_buf b = {0};

	(void)state;
	assert_int_equal(sbx_buf_puts(&b, "x="), 0);
	assert_int_equal(sbx_json_string(&b, "a\nb", 3), 0);
	assert_int_equal(sbx_buf_puts(&b, ";"), 0);
	assert_string_equal(b.data, "x=\"a\\nb\";");
	sbx_buf_free(&b);
}

static void test_long_mixed(void **state)
{
	enum { N = 10000 };
	sbx_buf b = {0};
	char *in = malloc(N * 4);
	size_t n = 0;

	(void)state;
	assert_non_null(in);
	for (int i = 0; i < N; i++) {
		memcpy(in + n, i % 2 ? "\xC3\xA9" : "\x80\n", 2);
		n += 2;
	}
	assert_int_equal(sbx_json_string(&b, in, n), 0);
	/* 5000 x (2 bytes é) + 5000 x (3 bytes U+FFFD + 2 bytes \n) + quotes */
	assert_int_equal(b.len, 5000 * 2 + 5000 * 5 + 2);
	assert_memory_equal(b.data, "\"" R "\\n\xC3\xA9" R "\\n", 13);
	assert_memory_equal(b.data + b.len - 3, "\xC3\xA9\"", 3);
	sbx_buf_free(&b);
	free(in);
}

static void test_json_oom(void **state)
{
	sbx_buf b = {0};

	(void)state;
	b.oom = 1;
	assert_int_equal(sbx_json_string(&b, "abc", 3), -1);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

/* ---- sbx_buf -------------------------------------------------------- */

static void test_buf_append(void **state)
{
	sbx_buf b = {0};

	(void)state;
	assert_int_equal(sbx_buf_append(&b, "ab", 2), 0);
	assert_int_equal(sbx_buf_append(&b, "\0c", 2), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "ab\0c", 5);
	assert_true(b.cap >= b.len + 1);
	assert_int_equal(sbx_buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 4);
	sbx_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.oom, 0);
	sbx_buf_free(&b); /* twice is fine */
}

static void test_buf_growth(void **state)
{
	sbx_buf b = {0};
	size_t grows = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(sbx_buf_append(&b, &c, 1), 0);
		if (b.cap != cap) {
			grows++;
			cap = b.cap;
		}
	}
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[100000], '\0');
	assert_int_equal(b.data[99999], 'a' + 99999 % 26);
	assert_true(b.cap >= 100001 && b.cap <= 2 * 100001);
	assert_true(grows <= 20); /* doubling: logarithmic number of reallocs */
	sbx_buf_free(&b);
}

static void test_buf_puts_printf(void **state)
{
	sbx_buf b = {0};
	char big[1000];

	(void)state;
	assert_int_equal(sbx_buf_puts(&b, ""), 0);
	assert_int_equal(sbx_buf_puts(&b, "n="), 0);
	assert_int_equal(sbx_buf_printf(&b, "%d,%s,%llu", -42, "x", 18446744073709551615ull), 0);
	assert_string_equal(b.data, "n=-42,x,18446744073709551615");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sbx_buf_printf(&b, "[%s]", big), 0); /* > internal scratch */
	assert_int_equal(b.len, 28 + 1 + 999 + 1);
	assert_int_equal(b.data[28], '[');
	assert_int_equal(b.data[29], 'z');
	assert_int_equal(b.data[b.len - 2], 'z');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(sbx_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 28 + 1001);
	sbx_buf_free(&b);
}

static void test_buf_steal(void **state)
{
	sbx_buf b = {0};
	char *s;

	(void)state;
	s = sbx_buf_steal(&b); /* empty: a malloc'd "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(sbx_buf_puts(&b, "hello"), 0);
	s = sbx_buf_steal(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);

	assert_int_equal(sbx_buf_puts(&b, "again"), 0); /* usable after steal */
	assert_string_equal(b.data, "again");
	sbx_buf_free(&b);
}

static void test_buf_oom_sticky(void **state)
{
	sbx_buf b = {0};

	(void)state;
	assert_int_equal(sbx_buf_puts(&b, "keep"), 0);
	/* An impossible size fails without touching the contents... */
	assert_int_equal(sbx_buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(b.oom, 1);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "keep");
	/* ...and every later append is a failing no-op. */
	assert_int_equal(sbx_buf_append(&b, "y", 1), -1);
	assert_int_equal(sbx_buf_append(&b, "y", 0), -1);
	assert_int_equal(sbx_buf_puts(&b, "z"), -1);
	assert_int_equal(sbx_buf_printf(&b, "%d", 1), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "keep");
	/* Stealing a failed buffer gives NULL and releases it. */
	assert_null(sbx_buf_steal(&b));
	assert_null(b.data);
	assert_int_equal(b.oom, 0);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_quote_backslash),
		cmocka_unit_test(test_short_escapes),
		cmocka_unit_test(test_control_escapes),
		cmocka_unit_test(test_all_controls),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_lone_continuation),
		cmocka_unit_test(test_invalid_leads),
		cmocka_unit_test(test_overlongs),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_above_max),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_unicode_table_3_8),
		cmocka_unit_test(test_appends_to_buffer),
		cmocka_unit_test(test_long_mixed),
		cmocka_unit_test(test_json_oom),
		cmocka_unit_test(test_buf_append),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_puts_printf),
		cmocka_unit_test(test_buf_steal),
		cmocka_unit_test(test_buf_oom_sticky),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
