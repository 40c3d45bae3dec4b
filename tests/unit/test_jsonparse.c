/* Unit tests: src/jsonparse.c (strict JSON decoder and lookups). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/buf.h"
#include "proto/json.h"
#include "proto/jsonparse.h"

/* ---- helpers -------------------------------------------------------- */

static sbx_jval *ok_n(const char *in, size_t n)
{
	sbx_error err = {.code = SBX_E_STATE, .msg = "stale"};
	sbx_jval *v = (sbx_jval *)&err; /* overwritten: the result, or NULL */

	if (sbx_jparse(in, n, &v, &err) != 0)
		fail_msg("parse of \"%.*s\" failed: %s", n > 200 ? 200 : (int)n, in, err.msg);
	assert_non_null(v);
	/* Untouched on success. */
	assert_int_equal(err.code, SBX_E_STATE);
	assert_string_equal(err.msg, "stale");
	return v;
}
#define OK(lit) ok_n(lit, sizeof(lit) - 1)

static void bad_n(const char *in, size_t n, const char *want)
{
	sbx_error err = {0};
	sbx_jval *v = (sbx_jval *)&err;
	int r = sbx_jparse(in, n, &v, &err);

	if (r == 0) {
		sbx_jfree(v);
		fail_msg("parse of \"%.*s\" succeeded, want error \"%s\"", n > 200 ? 200 : (int)n,
			 in, want);
	}
	assert_null(v);
	assert_int_equal(r, -SBX_E_INVALID);
	assert_int_equal(err.code, SBX_E_INVALID);
	assert_int_equal(err.sys_errno, 0);
	if (strcmp(err.msg, want) != 0)
		fail_msg("parse of \"%.*s\": error \"%s\", want \"%s\"", n > 200 ? 200 : (int)n, in,
			 err.msg, want);
	assert_null(strchr(err.msg, '\n'));
}
#define BAD(lit, want) bad_n(lit, sizeof(lit) - 1, want)

/* A string value equal to the bytes want[0..wlen). */
static void assert_str_n(const sbx_jval *v, const char *want, size_t wlen)
{
	assert_non_null(v);
	assert_int_equal(v->type, SBX_J_STR);
	assert_int_equal(v->len, wlen);
	assert_memory_equal(v->str, want, wlen);
	assert_int_equal(v->str[v->len], '\0');
}
#define assert_str(v, lit) assert_str_n(v, lit, sizeof(lit) - 1)

/* The JSON string `lit` (with quotes) decodes to exactly `want`. */
#define STR(lit, want)                                                                             \
	do {                                                                                       \
		sbx_jval *v_ = OK(lit);                                                            \
		assert_str(v_, want);                                                              \
		sbx_jfree(v_);                                                                     \
	} while (0)

static void check_int(const char *in, int64_t want)
{
	sbx_jval *v = ok_n(in, strlen(in));

	assert_int_equal(v->type, SBX_J_NUM);
	assert_true(v->is_int);
	if (v->i != want)
		fail_msg("%s: i = %lld, want %lld", in, (long long)v->i, (long long)want);
	assert_true(v->num == (double)want);
	sbx_jfree(v);
}

/* A number that is not an int64 integer, with the exact double value. */
static void check_double(const char *in, double want)
{
	sbx_jval *v = ok_n(in, strlen(in));

	assert_int_equal(v->type, SBX_J_NUM);
	assert_false(v->is_int);
	if (memcmp(&v->num, &want, sizeof(want)) != 0)
		fail_msg("%s: num = %.17g, want %.17g", in, v->num, want);
	sbx_jfree(v);
}

/* ---- valid forms ---------------------------------------------------- */

static void test_literals(void **state)
{
	(void)state;
	sbx_jval *v = OK("null");
	assert_int_equal(v->type, SBX_J_NULL);
	sbx_jfree(v);
	v = OK("true");
	assert_int_equal(v->type, SBX_J_BOOL);
	assert_true(v->b);
	sbx_jfree(v);
	v = OK(" \t\r\n false \n");
	assert_int_equal(v->type, SBX_J_BOOL);
	assert_false(v->b);
	sbx_jfree(v);
	/* Only len bytes are read: the input need not be NUL-terminated. */
	v = ok_n("nullnull", 4);
	assert_int_equal(v->type, SBX_J_NULL);
	sbx_jfree(v);
	v = ok_n("123456", 3);
	assert_int_equal(v->i, 123);
	sbx_jfree(v);
}

static void test_integers(void **state)
{
	(void)state;
	check_int("0", 0);
	check_int("7", 7);
	check_int("-7", -7);
	check_int("1234567890", 1234567890);
	check_int("9223372036854775807", INT64_MAX);
	check_int("-9223372036854775808", INT64_MIN);
	check_int("-9223372036854775807", -INT64_MAX);

	/* -0 is the integer 0 but keeps its sign as a double. */
	sbx_jval *v = OK("-0");
	assert_true(v->is_int);
	assert_int_equal(v->i, 0);
	assert_true(v->num == 0.0 && signbit(v->num));
	sbx_jfree(v);

	/* 2^53 + 1: exact in i, rounded (to even) in num. */
	v = OK("9007199254740993");
	assert_true(v->is_int);
	assert_true(v->i == INT64_C(9007199254740993));
	assert_true(v->num == 9007199254740992.0);
	sbx_jfree(v);
	v = OK("-9007199254740995");
	assert_true(v->i == -INT64_C(9007199254740995));
	assert_true(v->num == -9007199254740996.0);
	sbx_jfree(v);

	/* Just outside int64: doubles only. */
	check_double("9223372036854775808", 9223372036854775808.0);
	check_double("-9223372036854775809", -9223372036854775808.0);
	check_double("18446744073709551616", 18446744073709551616.0);
	check_double("100000000000000000000000000000", 1e29);
}

static void test_doubles(void **state)
{
	(void)state;
	check_double("1.5", 1.5);
	check_double("-0.25", -0.25);
	check_double("0.1", 0.1);
	check_double("3.141592653589793", 3.141592653589793);
	check_double("1.0", 1.0); /* integral value, but not integer syntax */
	check_double("1e3", 1000.0);
	check_double("1E3", 1000.0);
	check_double("1e+3", 1000.0);
	check_double("25e-2", 0.25);
	check_double("-1.5E-1", -0.15);
	check_double("0e0", 0.0);
	check_double("-0.0", -0.0);
	check_double("1.7976931348623157e308", 1.7976931348623157e308);
	check_double("4.9406564584124654e-324", 4.9406564584124654e-324);
	check_double("1e-400", 0.0); /* underflow is accepted as 0 */
	check_double("0.30000000000000004", 0.30000000000000004);
	/* A long validated copy (heap, not the small stack buffer). */
	check_double(
	    "1.00000000000000000000000000000000000000000000000000000000000000000000000000005", 1.0);
	check_double("123456789012345678901234567890123456789012345678901234567890123456789e-60",
		     123456789.012345678901234567890123456789);
}

/* A locale with a decimal comma: an installed one, or one compiled here
 * with localedef into a temp dir named by LOCPATH (Debian's `locales`,
 * which make deps installs, has the sources). Not a skip: without such a
 * locale the test cannot show anything, so it fails. */
static char locale_dir[64];

static const char *comma_locale(void)
{
	const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8"};
	const char *got = NULL;

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]) && !got; k++)
		got = setlocale(LC_NUMERIC, names[k]);
	if (got)
		return got;
	strcpy(locale_dir, "/tmp/test-jsonparse-locale-XXXXXX");
	if (!mkdtemp(locale_dir))
		return NULL;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "localedef -i de_DE -c -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
		 locale_dir);
	if (system(cmd) != 0 && access(strcat(strcpy(cmd, locale_dir), "/de_DE.UTF-8"), F_OK) != 0)
		return NULL;
	setenv("LOCPATH", locale_dir, 1);
	return setlocale(LC_NUMERIC, "de_DE.UTF-8");
}

static void test_doubles_locale(void **state)
{
	(void)state;
	const char *got = comma_locale();
	if (!got)
		fail_msg("no locale with a decimal comma: none installed and localedef could not "
			 "make de_DE.UTF-8 (make deps installs the locales package)");
	assert_string_equal(localeconv()->decimal_point, ",");
	check_double("1.5", 1.5);
	check_double("-2.25e1", -22.5);
}

static int restore_locale(void **state)
{
	(void)state;
	setlocale(LC_NUMERIC, "C");
	if (locale_dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", locale_dir);
		if (system(cmd) != 0)
			return -1;
		unsetenv("LOCPATH");
		locale_dir[0] = 0;
	}
	return 0;
}

static void test_strings(void **state)
{
	(void)state;
	STR("\"\"", "");
	STR("\"abc\"", "abc");
	STR("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
	STR("\"a\\nb\"", "a\nb");
	STR("\"\\u0041\\u005a\\u007e\"", "AZ~");
	STR("\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9");
	STR("\"\\u007f\\u0080\\u07ff\\u0800\"", "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80");
	STR("\"\\u20ac\\uffff\\ufffd\"", "\xe2\x82\xac\xef\xbf\xbf\xef\xbf\xbd");
	STR("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	STR("\"\\uD83D\\uDE00!\"", "\xf0\x9f\x98\x80!");
	STR("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80");
	STR("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
	/* Raw UTF-8 of every length, DEL and ' are fine unescaped. */
	STR("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\x7f'\"",
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\x7f'");
	/* \u0000 is kept and counted. */
	STR("\"\\u0000\"", "\0");
	STR("\"a\\u0000b\\u0000\"", "a\0b\0");
	sbx_jval *v = OK("\"x\\u0000y\"");
	assert_int_equal(v->len, 3);
	assert_int_equal(strlen(v->str), 1);
	sbx_jfree(v);
}

static void test_arrays(void **state)
{
	(void)state;
	sbx_jval *v = OK("[]");
	assert_int_equal(v->type, SBX_J_ARR);
	assert_int_equal(v->n, 0);
	sbx_jfree(v);
	v = OK(" [ \n] ");
	assert_int_equal(v->type, SBX_J_ARR);
	assert_int_equal(v->n, 0);
	sbx_jfree(v);

	v = OK("[1, \"two\" ,null,true,false,[],{},[3.5,[-4]]]");
	assert_int_equal(v->type, SBX_J_ARR);
	assert_int_equal(v->n, 8);
	assert_int_equal(v->items[0].type, SBX_J_NUM);
	assert_int_equal(v->items[0].i, 1);
	assert_str(&v->items[1], "two");
	assert_int_equal(v->items[2].type, SBX_J_NULL);
	assert_true(v->items[3].type == SBX_J_BOOL && v->items[3].b);
	assert_true(v->items[4].type == SBX_J_BOOL && !v->items[4].b);
	assert_true(v->items[5].type == SBX_J_ARR && v->items[5].n == 0);
	assert_true(v->items[6].type == SBX_J_OBJ && v->items[6].n == 0);
	const sbx_jval *a = &v->items[7];
	assert_true(a->type == SBX_J_ARR && a->n == 2);
	assert_true(a->items[0].num == 3.5 && !a->items[0].is_int);
	assert_true(a->items[1].type == SBX_J_ARR && a->items[1].n == 1);
	assert_int_equal(a->items[1].items[0].i, -4);
	sbx_jfree(v);

	/* Many items (growth). */
	sbx_buf b = {0};
	sbx_buf_puts(&b, "[");
	for (int k = 0; k < 100000; k++)
		sbx_buf_printf(&b, "%s%d", k ? "," : "", k * 3 - 7);
	sbx_buf_puts(&b, "]");
	assert_int_equal(b.oom, 0);
	v = ok_n(b.data, b.len);
	assert_int_equal(v->n, 100000);
	for (int k = 0; k < 100000; k++)
		assert_int_equal(v->items[k].i, k * 3 - 7);
	sbx_jfree(v);
	sbx_buf_free(&b);
}

static void test_objects(void **state)
{
	(void)state;
	sbx_jval *v = OK("{}");
	assert_int_equal(v->type, SBX_J_OBJ);
	assert_int_equal(v->n, 0);
	sbx_jfree(v);

	v = OK("{ \"op\" : \"exec\", \"argv\":[\"/bin/sh\",\"-c\"],\"env\":{\"A\":\"1\"},"
	       "\"t\\u00e9\\n\":-12, \"\":null }");
	assert_int_equal(v->type, SBX_J_OBJ);
	assert_int_equal(v->n, 5);
	assert_string_equal(v->keys[0], "op");
	assert_string_equal(v->keys[1], "argv");
	assert_string_equal(v->keys[2], "env");
	assert_string_equal(v->keys[3], "t\xc3\xa9\n");
	assert_string_equal(v->keys[4], "");
	assert_str(&v->items[0], "exec");
	assert_int_equal(v->items[1].n, 2);
	assert_str(&v->items[1].items[1], "-c");
	assert_string_equal(v->items[2].keys[0], "A");
	assert_str(&v->items[2].items[0], "1");
	assert_int_equal(v->items[3].i, -12);
	assert_int_equal(v->items[4].type, SBX_J_NULL);
	sbx_jfree(v);

	/* Keys that differ only after a common prefix, or by case, are distinct. */
	v = OK("{\"a\":1,\"A\":2,\"ab\":3,\"a b\":4}");
	assert_int_equal(v->n, 4);
	sbx_jfree(v);

	/* A large object (duplicate detection by sorting) without duplicates. */
	sbx_buf b = {0};
	sbx_buf_puts(&b, "{");
	for (int k = 0; k < 5000; k++)
		sbx_buf_printf(&b, "%s\"key%d\":%d", k ? "," : "", k, k);
	sbx_buf_puts(&b, "}");
	v = ok_n(b.data, b.len);
	assert_int_equal(v->n, 5000);
	int64_t x = -1;
	assert_true(sbx_jget_int(v, "key4321", &x));
	assert_int_equal(x, 4321);
	sbx_jfree(v);
	sbx_buf_free(&b);
}

/* ---- rejections ----------------------------------------------------- */

static void test_reject_syntax(void **state)
{
	(void)state;
	BAD("", "at byte 0: unexpected end of input, expected a value");
	bad_n(NULL, 0, "at byte 0: unexpected end of input, expected a value");
	BAD("   ", "at byte 3: unexpected end of input, expected a value");
	BAD("[", "at byte 1: unexpected end of input, expected a value");
	BAD("[1", "at byte 2: unexpected end of input, expected ',' or ']'");
	BAD("{", "at byte 1: unexpected end of input, expected a string (object key)");
	BAD("{\"a\"", "at byte 4: unexpected end of input, expected ':'");
	BAD("{\"a\":", "at byte 5: unexpected end of input, expected a value");
	BAD("{\"a\":1", "at byte 6: unexpected end of input, expected ',' or '}'");
	BAD("]", "at byte 0: unexpected character ']', expected a value");
	BAD("[1 2]", "at byte 3: unexpected character '2', expected ',' or ']'");
	BAD("[1,,2]", "at byte 3: unexpected character ',', expected a value");
	BAD("[,1]", "at byte 1: unexpected character ',', expected a value");
	BAD("[1}", "at byte 2: unexpected character '}', expected ',' or ']'");
	BAD("{\"a\":1]", "at byte 6: unexpected character ']', expected ',' or '}'");
	BAD("{\"a\" 1}", "at byte 5: unexpected character '1', expected ':'");
	BAD("{\"a\"=1}", "at byte 4: unexpected character '=', expected ':'");
	BAD("{1:2}", "at byte 1: unexpected character '1', expected a string (object key)");
	BAD("{,}", "at byte 1: unexpected character ',', expected a string (object key)");
	BAD("{a:1}", "at byte 1: unexpected character 'a', expected a string (object key)");
	/* Trailing commas. */
	BAD("[1,2,]", "at byte 4: trailing comma before ']'");
	BAD("[1, \n ]", "at byte 2: trailing comma before ']'");
	BAD("{\"a\":1,}", "at byte 6: trailing comma before '}'");
	BAD("{\"a\":[1,],\"b\":2}", "at byte 7: trailing comma before ']'");
	/* Single quotes. */
	BAD("'a'", "at byte 0: unexpected character ''', expected a value");
	BAD("['a']", "at byte 1: unexpected character ''', expected a value");
	BAD("{'a':1}", "at byte 1: unexpected character ''', expected a string (object key)");
	/* Comments. */
	BAD("/* c */ 1", "at byte 0: unexpected character '/', expected a value");
	BAD("[1] // c", "at byte 4: trailing data after the JSON value");
	BAD("[1, // c\n 2]", "at byte 4: unexpected character '/', expected a value");
	BAD("{\"a\":1 # c\n}", "at byte 7: unexpected character '#', expected ',' or '}'");
	/* Literals. */
	BAD("tru", "at byte 0: invalid literal (expected true, false or null)");
	BAD("[nul]", "at byte 1: invalid literal (expected true, false or null)");
	BAD("fals", "at byte 0: invalid literal (expected true, false or null)");
	BAD("True", "at byte 0: unexpected character 'T', expected a value");
	BAD("undefined", "at byte 0: unexpected character 'u', expected a value");
	BAD("nulls", "at byte 4: trailing data after the JSON value");
	BAD("[truefalse]", "at byte 5: unexpected character 'f', expected ',' or ']'");
	/* Trailing garbage, only JSON whitespace is allowed around the value. */
	BAD("1 2", "at byte 2: trailing data after the JSON value");
	BAD("{} {}", "at byte 3: trailing data after the JSON value");
	BAD("{}\0", "at byte 2: trailing data after the JSON value");
	BAD("1\f", "at byte 1: trailing data after the JSON value");
	BAD("\v1", "at byte 0: unexpected byte 0x0b, expected a value");
	BAD("\x01", "at byte 0: unexpected byte 0x01, expected a value");
	BAD("[1] \xc2\xa0", "at byte 4: trailing data after the JSON value");
	BAD("\xef\xbb\xbf{}", "at byte 0: unexpected byte 0xef, expected a value");
}

static void test_reject_numbers(void **state)
{
	(void)state;
	BAD("01", "at byte 0: leading zero in number");
	BAD("00", "at byte 0: leading zero in number");
	BAD("-01", "at byte 0: leading zero in number");
	BAD("[1,007]", "at byte 3: leading zero in number");
	BAD("+1", "at byte 0: unexpected character '+', expected a value");
	BAD("[+1]", "at byte 1: unexpected character '+', expected a value");
	BAD(".5", "at byte 0: unexpected character '.', expected a value");
	BAD("-.5", "at byte 1: unexpected character '.', expected a digit");
	BAD("1.", "at byte 2: unexpected end of input, expected a digit after '.'");
	BAD("[1.]", "at byte 3: unexpected character ']', expected a digit after '.'");
	BAD("1.e5", "at byte 2: unexpected character 'e', expected a digit after '.'");
	BAD("1e", "at byte 2: unexpected end of input, expected a digit in the exponent");
	BAD("1e+", "at byte 3: unexpected end of input, expected a digit in the exponent");
	BAD("1E-x", "at byte 3: unexpected character 'x', expected a digit in the exponent");
	BAD("-", "at byte 1: unexpected end of input, expected a digit");
	BAD("- 1", "at byte 1: unexpected byte 0x20, expected a digit");
	BAD("--1", "at byte 1: unexpected character '-', expected a digit");
	BAD("NaN", "at byte 0: unexpected character 'N', expected a value");
	BAD("Infinity", "at byte 0: unexpected character 'I', expected a value");
	BAD("-Infinity", "at byte 1: unexpected character 'I', expected a digit");
	BAD("[nan]", "at byte 1: invalid literal (expected true, false or null)");
	BAD("0x10", "at byte 1: trailing data after the JSON value");
	BAD("1.5.2", "at byte 3: trailing data after the JSON value");
	BAD("1e5e5", "at byte 3: trailing data after the JSON value");
	BAD("1_000", "at byte 1: trailing data after the JSON value");
	/* Finite JSON, but not a finite double. */
	BAD("1e400", "at byte 0: number out of range");
	BAD("[0, -1e400]", "at byte 4: number out of range");
	BAD("1.8e308", "at byte 0: number out of range");
}

static void test_reject_strings(void **state)
{
	(void)state;
	BAD("\"abc", "at byte 0: unterminated string");
	BAD("[\"abc]", "at byte 1: unterminated string");
	BAD("\"a\\\"", "at byte 0: unterminated string");
	BAD("\"\\", "at byte 0: unterminated string");
	/* Unescaped control characters, including NUL and tab. */
	BAD("\"a\tb\"", "at byte 2: unescaped control character 0x09 in string");
	BAD("\"\n\"", "at byte 1: unescaped control character 0x0a in string");
	BAD("\"\x1f\"", "at byte 1: unescaped control character 0x1f in string");
	BAD("\"ab\0\"", "at byte 3: unescaped control character 0x00 in string");
	BAD("{\"k\x01\":1}", "at byte 3: unescaped control character 0x01 in string");
	/* Invalid escapes. */
	BAD("\"\\x41\"", "at byte 1: invalid escape '\\x' in string");
	BAD("\"\\'\"", "at byte 1: invalid escape '\\'' in string");
	BAD("\"ab\\a\"", "at byte 3: invalid escape '\\a' in string");
	BAD("\"\\U0041\"", "at byte 1: invalid escape '\\U' in string");
	BAD("\"\\0\"", "at byte 1: invalid escape '\\0' in string");
	BAD("\"\\\t\"", "at byte 1: invalid escape (byte 0x09 after '\\') in string");
	BAD("\"\\\xc3\xa9\"", "at byte 1: invalid escape (byte 0xc3 after '\\') in string");
	BAD("\"\\u12\"", "at byte 1: invalid \\u escape (4 hex digits needed)");
	BAD("\"\\u\"", "at byte 1: invalid \\u escape (4 hex digits needed)");
	BAD("\"ab\\u12g4\"", "at byte 3: invalid \\u escape (4 hex digits needed)");
	BAD("\"\\u-123\"", "at byte 1: invalid \\u escape (4 hex digits needed)");
	BAD("\"\\u 123\"", "at byte 1: invalid \\u escape (4 hex digits needed)");
}

static void test_reject_surrogates(void **state)
{
	(void)state;
	BAD("\"\\ud83d\"", "at byte 1: high surrogate \\ud83d not followed by a low one");
	BAD("\"\\ud83dx\"", "at byte 1: high surrogate \\ud83d not followed by a low one");
	BAD("\"ab\\uD800\\u0041\"", "at byte 3: high surrogate \\ud800 not followed by a low one");
	BAD("\"\\ud83d\\ud83d\"", "at byte 1: high surrogate \\ud83d not followed by a low one");
	BAD("\"\\udbff\\ue000\"", "at byte 1: high surrogate \\udbff not followed by a low one");
	BAD("\"\\ud83d\\n\"", "at byte 1: high surrogate \\ud83d not followed by a low one");
	BAD("\"\\ud83d\\u12\"", "at byte 1: high surrogate \\ud83d not followed by a low one");
	BAD("\"\\ud83d\\\"", "at byte 0: unterminated string");
	BAD("\"\\ude00\"", "at byte 1: lone low surrogate \\ude00");
	BAD("\"x\\uDFFF\"", "at byte 2: lone low surrogate \\udfff");
	BAD("\"\\udc00\\ud800\"", "at byte 1: lone low surrogate \\udc00");
	/* The second escape of a valid pair is fine, the next one is not. */
	BAD("\"\\ud83d\\ude00\\ude00\"", "at byte 13: lone low surrogate \\ude00");
	/* In keys too. */
	BAD("{\"\\ud800\":1}", "at byte 2: high surrogate \\ud800 not followed by a low one");
}

static void test_reject_utf8(void **state)
{
	(void)state;
	BAD("\"\x80\"", "at byte 1: invalid UTF-8 in string");		   /* lone continuation */
	BAD("\"ab\xbf\"", "at byte 3: invalid UTF-8 in string");	   /* lone continuation */
	BAD("\"\xc3\"", "at byte 1: invalid UTF-8 in string");		   /* truncated 2-byte */
	BAD("\"ok\xe2\x82\"", "at byte 3: invalid UTF-8 in string");	   /* truncated 3-byte */
	BAD("\"\xf0\x9f\x98\"", "at byte 1: invalid UTF-8 in string");	   /* truncated 4-byte */
	BAD("\"\xc3x\"", "at byte 1: invalid UTF-8 in string");		   /* bad continuation */
	BAD("\"\xc0\xaf\"", "at byte 1: invalid UTF-8 in string");	   /* overlong '/' */
	BAD("\"\xc1\xbf\"", "at byte 1: invalid UTF-8 in string");	   /* overlong */
	BAD("\"\xe0\x80\xaf\"", "at byte 1: invalid UTF-8 in string");	   /* overlong */
	BAD("\"\xe0\x9f\xbf\"", "at byte 1: invalid UTF-8 in string");	   /* overlong */
	BAD("\"\xf0\x8f\xbf\xbf\"", "at byte 1: invalid UTF-8 in string"); /* overlong */
	BAD("\"\xed\xa0\x80\"", "at byte 1: invalid UTF-8 in string");	   /* U+D800 */
	BAD("\"\xed\xbf\xbf\"", "at byte 1: invalid UTF-8 in string");	   /* U+DFFF */
	BAD("\"\xf4\x90\x80\x80\"", "at byte 1: invalid UTF-8 in string"); /* U+110000 */
	BAD("\"\xf5\x80\x80\x80\"", "at byte 1: invalid UTF-8 in string");
	BAD("\"\xf8\x88\x80\x80\x80\"", "at byte 1: invalid UTF-8 in string");
	BAD("\"\xfe\"", "at byte 1: invalid UTF-8 in string");
	BAD("\"\xff\"", "at byte 1: invalid UTF-8 in string");
	BAD("{\"\xff\":1}", "at byte 2: invalid UTF-8 in string");
	/* Valid UTF-8 right next to the bad byte: the position is exact. */
	BAD("[\"\xc3\xa9\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\x80\"]",
	    "at byte 17: invalid UTF-8 in string");
	/* Outside strings any non-ASCII byte is an error. */
	BAD("[1,\xc3\xa9]", "at byte 3: unexpected byte 0xc3, expected a value");
	BAD("\xff", "at byte 0: unexpected byte 0xff, expected a value");
}

static void test_reject_dup_keys(void **state)
{
	(void)state;
	BAD("{\"a\":1,\"a\":2}", "at byte 7: duplicate key 'a'");
	BAD("{\"a\":1,\"a\":1}", "at byte 7: duplicate key 'a'");
	BAD("{\"a\":1,\"b\":2,\"b\":3,\"a\":4}", "at byte 13: duplicate key 'b'");
	BAD("{\"a\":1,\"b\":{\"a\":1},\"b\":2}", "at byte 19: duplicate key 'b'");
	BAD("[{\"x\":1,\"x\":1}]", "at byte 8: duplicate key 'x'");
	/* Compared after decoding. */
	BAD("{\"a\":1,\"\\u0061\":2}", "at byte 7: duplicate key 'a'");
	BAD("{\"\\u00e9\":1,\"\xc3\xa9\":2}", "at byte 12: duplicate key '\\xc3\\xa9'");
	/* The message stays one short line whatever the key. */
	BAD("{\"it's\\n\":1,\"it's\\n\":2}", "at byte 12: duplicate key 'it\\x27s\\x0a'");
	BAD("{\"\":1,\"\":2}", "at byte 6: duplicate key ''");
	/* A long key is cut to 43 bytes and "...". */
	char key[101], in[512], want[128];
	memset(key, 'k', 100);
	key[100] = '\0';
	snprintf(in, sizeof(in), "{\"%s\":1,\"%s\":2}", key, key);
	snprintf(want, sizeof(want), "at byte 106: duplicate key '%.43s...'", key);
	bad_n(in, strlen(in), want);
	/* Keys containing NUL would alias shorter keys in lookups. */
	BAD("{\"a\":1,\"a\\u0000b\":2}", "at byte 7: object key contains \\u0000");
	BAD("{\"\\u0000\":1}", "at byte 1: object key contains \\u0000");
	/* Values may contain NUL. */
	sbx_jval *v = OK("{\"a\":\"\\u0000\"}");
	sbx_jfree(v);
	/* The same key in sibling objects is fine. */
	v = OK("[{\"a\":1},{\"a\":2}]");
	sbx_jfree(v);
}

/* Large objects: the first repeated key in text order is reported. */
static void test_reject_dup_keys_large(void **state)
{
	(void)state;
	sbx_buf b = {0};
	size_t at = 0;
	char want[64];

	sbx_buf_puts(&b, "{");
	for (int k = 0; k < 1000; k++)
		sbx_buf_printf(&b, "\"k%d\":%d,", k, k);
	sbx_buf_printf(&b, "\"z\":0,");
	at = b.len;
	sbx_buf_printf(&b, "\"k900\":0,\"k7\":0,\"k900\":1,\"z\":1}");
	snprintf(want, sizeof(want), "at byte %zu: duplicate key 'k900'", at);
	bad_n(b.data, b.len, want);
	sbx_buf_free(&b);

	/* Repeat of the last key against the first and vice versa. */
	sbx_buf_puts(&b, "{\"first\":0");
	for (int k = 0; k < 100; k++)
		sbx_buf_printf(&b, ",\"k%d\":%d", k, k);
	sbx_buf_puts(&b, ",");
	at = b.len;
	sbx_buf_puts(&b, "\"first\":1}");
	snprintf(want, sizeof(want), "at byte %zu: duplicate key 'first'", at);
	bad_n(b.data, b.len, want);
	sbx_buf_free(&b);
}

/* ---- nesting -------------------------------------------------------- */

static char *nest(const char *open, const char *close, int depth, const char *inner)
{
	sbx_buf b = {0};

	for (int k = 0; k < depth; k++)
		sbx_buf_puts(&b, open);
	sbx_buf_puts(&b, inner);
	for (int k = 0; k < depth; k++)
		sbx_buf_puts(&b, close);
	assert_int_equal(b.oom, 0);
	return sbx_buf_steal(&b);
}

static void test_depth(void **state)
{
	(void)state;
	char *s = nest("[", "]", 64, "7");
	sbx_jval *v = ok_n(s, strlen(s));
	const sbx_jval *w = v;
	for (int k = 0; k < 64; k++) {
		assert_int_equal(w->type, SBX_J_ARR);
		assert_int_equal(w->n, 1);
		w = &w->items[0];
	}
	assert_int_equal(w->type, SBX_J_NUM);
	assert_int_equal(w->i, 7);
	sbx_jfree(v);
	free(s);

	s = nest("[", "]", 65, "");
	bad_n(s, strlen(s), "at byte 64: nesting deeper than 64");
	free(s);

	s = nest("{\"a\":", "}", 64, "[]");
	bad_n(s, strlen(s), "at byte 320: nesting deeper than 64");
	free(s);
	s = nest("{\"a\":", "}", 64, "null");
	v = ok_n(s, strlen(s));
	w = v;
	for (int k = 0; k < 64; k++)
		w = sbx_jget(w, "a");
	assert_non_null(w);
	assert_int_equal(w->type, SBX_J_NULL);
	sbx_jfree(v);
	free(s);

	s = nest("[{\"x\":", "}]", 32, "{}");
	bad_n(s, strlen(s), "at byte 192: nesting deeper than 64");
	free(s);

	/* A deep bomb fails at the limit, unclosed or not. */
	s = nest("[", "]", 1000000, "");
	bad_n(s, strlen(s), "at byte 64: nesting deeper than 64");
	bad_n(s, 1000000, "at byte 64: nesting deeper than 64");
	free(s);

	/* Scalars do not count: depth 64 with a string inside. */
	s = nest("[", "]", 64, "\"deep\"");
	v = ok_n(s, strlen(s));
	sbx_jfree(v);
	free(s);
}

/* ---- large inputs, escapes round trip -------------------------------- */

static void test_large_string(void **state)
{
	(void)state;
	const char pat[] = "ab\\n\\u00e9\\ud83d\\ude00\\\"/\xe2\x82\xac";
	const char dec[] = "ab\n\xc3\xa9\xf0\x9f\x98\x80\"/\xe2\x82\xac";
	const size_t reps = 150000;
	sbx_buf in = {0}, want = {0};

	sbx_buf_puts(&in, "{\"data\": \"");
	for (size_t k = 0; k < reps; k++) {
		sbx_buf_append(&in, pat, sizeof(pat) - 1);
		sbx_buf_append(&want, dec, sizeof(dec) - 1);
	}
	sbx_buf_puts(&in, "\"}\n");
	assert_int_equal(in.oom, 0);
	assert_true(in.len > 4000000);

	sbx_jval *v = ok_n(in.data, in.len);
	const sbx_jval *d = sbx_jget(v, "data");
	assert_non_null(d);
	assert_str_n(d, want.data, want.len);
	sbx_jfree(v);

	/* An error at the very end of a large string is located exactly. */
	char want_err[64];
	in.data[in.len - 4] = 'x'; /* the last byte of the euro sign */
	snprintf(want_err, sizeof(want_err), "at byte %zu: invalid UTF-8 in string", in.len - 6);
	bad_n(in.data, in.len, want_err);
	memcpy(in.data + in.len - 6, "ab\n", 3);
	snprintf(want_err, sizeof(want_err),
		 "at byte %zu: unescaped control character 0x0a in string", in.len - 4);
	bad_n(in.data, in.len, want_err);
	sbx_buf_free(&in);
	sbx_buf_free(&want);
}

/* Encode data with sbx_json_string, parse it back, expect want. */
static void roundtrip(const char *data, size_t len, const char *want, size_t wlen)
{
	sbx_buf b = {0};

	assert_int_equal(sbx_json_string(&b, data, len), 0);
	assert_int_equal(b.oom, 0);
	sbx_jval *v = ok_n(b.data, b.len);
	assert_str_n(v, want, wlen);
	sbx_jfree(v);

	/* The same string as an object key and value. */
	sbx_buf o = {0};
	sbx_buf_puts(&o, "{");
	sbx_buf_append(&o, b.data, b.len);
	sbx_buf_puts(&o, ":");
	sbx_buf_append(&o, b.data, b.len);
	sbx_buf_puts(&o, "}");
	if (memchr(want, '\0', wlen)) {
		bad_n(o.data, o.len, "at byte 1: object key contains \\u0000");
	} else {
		v = ok_n(o.data, o.len);
		assert_int_equal(v->n, 1);
		assert_int_equal(strlen(v->keys[0]), wlen);
		assert_memory_equal(v->keys[0], want, wlen);
		assert_str_n(&v->items[0], want, wlen);
		sbx_jfree(v);
	}
	sbx_buf_free(&o);
	sbx_buf_free(&b);
}

static void test_roundtrip_ascii(void **state)
{
	(void)state;
	char all[128];

	for (int c = 0; c < 128; c++)
		all[c] = (char)c;
	roundtrip(all, sizeof(all), all, sizeof(all));
	roundtrip(all + 1, sizeof(all) - 1, all + 1, sizeof(all) - 1);
	roundtrip("", 0, "", 0);
	roundtrip("\"\\/\b\f\n\r\t\x7f", 9, "\"\\/\b\f\n\r\t\x7f", 9);
	for (int c = 0; c < 128; c++)
		roundtrip(&all[c], 1, &all[c], 1);
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Every scalar value U+0000..U+10FFFF in one (4 MB) string. */
static void test_roundtrip_all_code_points(void **state)
{
	(void)state;
	char *all = malloc(0x110000 * 4);
	size_t n = 0;

	assert_non_null(all);
	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++)
		if (cp < 0xD800 || cp > 0xDFFF)
			n += put_utf8(all + n, cp);
	assert_int_equal(n, 128 + 1920 * 2 + (65536 - 2048 - 2048) * 3 + 1048576 * 4);
	roundtrip(all, n, all, n);
	free(all);
}

/* The encoder repairs invalid UTF-8 with U+FFFD; the result parses back. */
static void test_roundtrip_repaired(void **state)
{
	(void)state;
	roundtrip("a\xff", 2, "a\xef\xbf\xbd", 4);
	roundtrip("\xed\xa0\x80x", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx", 10);
	roundtrip("\xe2\x82", 2, "\xef\xbf\xbd", 3);
	roundtrip("\xc0\xaf\n", 3, "\xef\xbf\xbd\xef\xbf\xbd\n", 7);
}

/* Escapes written by hand for every code point class parse like the
 * raw UTF-8 the encoder emits. */
static void test_escape_vs_raw(void **state)
{
	(void)state;
	static const uint32_t cps[] = {0x1,    0x1f,   0x20,	0x7f,	 0x80,	   0xff,
				       0x100,  0x7ff,  0x800,	0xfff,	 0xd7ff,   0xe000,
				       0xfffd, 0xffff, 0x10000, 0x1f600, 0x10fffd, 0x10ffff};

	for (size_t k = 0; k < sizeof(cps) / sizeof(cps[0]); k++) {
		uint32_t cp = cps[k];
		char in[32], raw[4];
		size_t rn = put_utf8(raw, cp);
		if (cp < 0x10000) {
			snprintf(in, sizeof(in), "\"\\u%04X\"", (unsigned)cp);
		} else {
			uint32_t c = cp - 0x10000;
			snprintf(in, sizeof(in), "\"\\u%04x\\u%04x\"",
				 (unsigned)(0xD800 + (c >> 10)), (unsigned)(0xDC00 + (c & 0x3FF)));
		}
		sbx_jval *v = ok_n(in, strlen(in));
		assert_str_n(v, raw, rn);
		sbx_jfree(v);
	}
}

/* ---- lookups and API details ---------------------------------------- */

static void test_lookups(void **state)
{
	(void)state;
	sbx_jval *v = OK("{\"s\":\"str\",\"z\":\"a\\u0000b\",\"i\":-42,\"big\":9007199254740993,"
			 "\"f\":1.5,\"e\":1e2,\"huge\":1e19,\"t\":true,\"no\":false,\"n\":null,"
			 "\"arr\":[1],\"o\":{\"s\":\"inner\"}}");
	int64_t i = 99;
	bool b = true;

	assert_string_equal(sbx_jget_str(v, "s"), "str");
	assert_null(sbx_jget_str(v, "z")); /* embedded NUL */
	assert_non_null(sbx_jget(v, "z"));
	assert_int_equal(sbx_jget(v, "z")->len, 3);
	assert_null(sbx_jget_str(v, "i"));
	assert_null(sbx_jget_str(v, "n"));
	assert_null(sbx_jget_str(v, "missing"));
	assert_null(sbx_jget_str(v, "S"));
	assert_null(sbx_jget_str(v, "st"));
	assert_string_equal(sbx_jget_str(sbx_jget(v, "o"), "s"), "inner");

	assert_true(sbx_jget_int(v, "i", &i));
	assert_int_equal(i, -42);
	assert_true(sbx_jget_int(v, "big", &i));
	assert_true(i == INT64_C(9007199254740993));
	i = 99;
	assert_false(sbx_jget_int(v, "f", &i));
	assert_false(sbx_jget_int(v, "e", &i));
	assert_false(sbx_jget_int(v, "huge", &i));
	assert_false(sbx_jget_int(v, "s", &i));
	assert_false(sbx_jget_int(v, "t", &i));
	assert_false(sbx_jget_int(v, "missing", &i));
	assert_int_equal(i, 99); /* untouched on failure */

	assert_true(sbx_jget_bool(v, "t", &b));
	assert_true(b);
	assert_true(sbx_jget_bool(v, "no", &b));
	assert_false(b);
	b = true;
	assert_false(sbx_jget_bool(v, "n", &b));
	assert_false(sbx_jget_bool(v, "i", &b));
	assert_false(sbx_jget_bool(v, "missing", &b));
	assert_true(b);

	const sbx_jval *a = sbx_jget(v, "arr");
	assert_non_null(a);
	assert_int_equal(a->type, SBX_J_ARR);
	assert_int_equal(sbx_jget(v, "n")->type, SBX_J_NULL);
	assert_true(sbx_jget(v, "f")->num == 1.5);
	assert_true(sbx_jget(v, "e")->num == 100.0);
	assert_true(sbx_jget(v, "huge")->num == 1e19);

	/* Not an object. */
	assert_null(sbx_jget(NULL, "s"));
	assert_null(sbx_jget(a, "s"));
	assert_null(sbx_jget_str(a, "s"));
	assert_false(sbx_jget_int(a, "i", &i));
	assert_false(sbx_jget_bool(NULL, "t", &b));
	assert_null(sbx_jget(sbx_jget(v, "s"), "s"));
	sbx_jfree(v);
}

static void test_err_struct(void **state)
{
	(void)state;
	sbx_jval dummy, *v = &dummy;

	/* No sbx_error at all: the code still says what failed. */
	assert_int_equal(sbx_jparse("[1,]", 4, &v, NULL), -SBX_E_INVALID);
	assert_null(v);
	assert_int_equal(sbx_jparse("01", 2, &v, NULL), -SBX_E_INVALID);
	/* A long key is shown cut short; the message always fits. */
	sbx_buf b = {0};
	sbx_buf_puts(&b, "{\"");
	for (int i = 0; i < 40; i++)
		sbx_buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	sbx_buf_puts(&b, "\":1,\"");
	for (int i = 0; i < 40; i++)
		sbx_buf_puts(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	sbx_buf_puts(&b, "\":2}");
	sbx_error err;
	memset(&err, 'X', sizeof(err));
	assert_int_equal(sbx_jparse(b.data, b.len, &v, &err), -SBX_E_INVALID);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_non_null(strstr(err.msg, ": duplicate key 'aaaa"));
	assert_non_null(strstr(err.msg, "...'"));
	sbx_buf_free(&b);
	/* Success: 0 and the tree. */
	assert_int_equal(sbx_jparse("1", 1, &v, NULL), 0);
	assert_non_null(v);
	sbx_jfree(v);
	sbx_jfree(NULL);
	/* The cleanup attribute frees a tree (checked by the sanitizer build). */
	{
		_cleanup_jval_ sbx_jval *w = NULL;
		assert_int_equal(sbx_jparse("[[1],{\"a\":\"b\"}]", 15, &w, NULL), 0);
	}
}

/* Failures deep inside a partially built tree free everything (checked by
 * the sanitizer build). */
static void test_partial_trees_freed(void **state)
{
	(void)state;
	BAD("[\"a\",{\"b\":[1,\"c\",{\"d\":\"e\",\"f\":[tru]}]}]",
	    "at byte 31: invalid literal (expected true, false or null)");
	BAD("{\"a\":\"x\",\"b\":", "at byte 13: unexpected end of input, expected a value");
	BAD("{\"a\":\"x\",\"b\"", "at byte 12: unexpected end of input, expected ':'");
	BAD("{\"a\":[\"x\",\"y\"],\"b\":{\"c\":1},\"b\":2}", "at byte 27: duplicate key 'b'");
	BAD("[[[[\"x\",1.5,{\"k\":\"v\"}],1e999]]]", "at byte 23: number out of range");
}

/* sbx_jparse_max: the value cap, counted before allocation. */
static void test_max_values(void **state)
{
	(void)state;
	sbx_jval *v = NULL;
	sbx_error err = {0};
	/* {"a":[1,2]}: the object, the array and two numbers: 4 values */
	const char *t = "{\"a\":[1,2]}";
	assert_int_equal(sbx_jparse_max(t, strlen(t), 4, &v, &err), 0);
	assert_non_null(v);
	sbx_jfree(v);
	assert_int_equal(sbx_jparse_max(t, strlen(t), 3, &v, &err), -SBX_E_INVALID);
	assert_null(v);
	assert_string_equal(err.msg, "at byte 8: more than 3 values");
	/* a long array of tiny values is refused at the cap, not parsed on */
	size_t n = (4u << 20) + 1;
	char *big = malloc(n);
	assert_non_null(big);
	big[0] = '[';
	for (size_t i = 1; i + 1 < n; i += 2)
		big[i] = '0', big[i + 1] = ',';
	big[n - 2] = '0';
	big[n - 1] = ']';
	assert_int_equal(sbx_jparse_max(big, n, 1000, &v, &err), -SBX_E_INVALID);
	assert_null(v);
	assert_string_equal(err.msg, "at byte 1999: more than 1000 values");
	assert_int_equal(sbx_jparse(big, n, &v, &err), 0);
	assert_int_equal(v->n, (n - 1) / 2);
	sbx_jfree(v);
	free(big);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test_teardown(test_doubles_locale, restore_locale),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_reject_syntax),
		cmocka_unit_test(test_reject_numbers),
		cmocka_unit_test(test_reject_strings),
		cmocka_unit_test(test_reject_surrogates),
		cmocka_unit_test(test_reject_utf8),
		cmocka_unit_test(test_reject_dup_keys),
		cmocka_unit_test(test_reject_dup_keys_large),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_large_string),
		cmocka_unit_test(test_roundtrip_ascii),
		cmocka_unit_test(test_roundtrip_all_code_points),
		cmocka_unit_test(test_roundtrip_repaired),
		cmocka_unit_test(test_escape_vs_raw),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_err_struct),
		cmocka_unit_test(test_partial_trees_freed),
		cmocka_unit_test(test_max_values),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
