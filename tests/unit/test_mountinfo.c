/* Unit tests: src/base/mountinfo.c (lines and fields of /proc texts, the
 * octal escapes and the lines of mountinfo). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/mountinfo.h"

static sbx_span S(const char *s)
{
	return (sbx_span){s, strlen(s)};
}

/* The span equals want (the span is not NUL-terminated: compare by length). */
static void span_eq(sbx_span s, const char *want)
{
	if (!sbx_span_is(s, want))
		fail_msg("got '%.*s', want '%s'", (int)s.n, s.p, want);
}

static void test_span_is(void **state)
{
	(void)state;
	assert_true(sbx_span_is(S("cgroup"), "cgroup"));
	assert_false(sbx_span_is(S("cgroup"), "cgroup2"));
	assert_false(sbx_span_is(S("cgroup2"), "cgroup"));
	assert_true(sbx_span_is((sbx_span){"cgroup2", 6}, "cgroup"));
	assert_true(sbx_span_is((sbx_span){"x", 0}, ""));
	assert_false(sbx_span_is(S("-"), ""));
}

/* Split the first len bytes of text into lines (sbx_next_line; len is
 * then the whole text) or fields (sbx_next_field): want[0..n), then the
 * end, twice. */
static void split_is(const char *text, size_t len, bool lines, const char *const *want, size_t n)
{
	const char *t = text;
	sbx_span rest = {text, len}, got;
	for (size_t i = 0; i < n + 2; i++) {
		bool more = lines ? sbx_next_line(&t, &got) : sbx_next_field(&rest, &got);
		if (i >= n) {
			if (more)
				fail_msg("'%s': more than %zu, '%.*s'", text, n, (int)got.n, got.p);
			continue;
		}
		if (!more)
			fail_msg("'%s': %zu, want %zu", text, i, n);
		span_eq(got, want[i]);
	}
}

#define SPLIT(text, lines, ...)                                                                    \
	split_is(text, strlen(text), lines, (const char *const[]){__VA_ARGS__},                    \
		 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void test_lines(void **state)
{
	(void)state;
	SPLIT("one\n\nthree  x\nlast", true, "one", "", "three  x", "last");
	SPLIT("a\n", true, "a");
	split_is("", 0, true, NULL, 0);
	sbx_span l;
	const char *t = NULL;
	assert_false(sbx_next_line(&t, &l));
}

static void test_fields(void **state)
{
	(void)state;
	SPLIT("  a bb   ccc ", false, "a", "bb", "ccc");
	split_is("   ", 3, false, NULL, 0);
	/* the span ends inside "cd" */
	split_is("ab cd", 4, false, (const char *const[]){"ab", "c"}, 2);
}

/* sbx_mountinfo_unoctal of in into a fresh buffer of cap bytes at 0: rc,
 * and on success the text and *o. */
static void unoctal_is(const char *in, size_t cap, int rc, const char *want)
{
	char out[64];
	size_t o = 0;
	assert_true(cap <= sizeof(out));
	int r = sbx_mountinfo_unoctal(S(in), out, &o, cap);
	if (r != rc)
		fail_msg("'%s' (cap %zu): %d, want %d", in, cap, r, rc);
	if (rc == 0) {
		assert_string_equal(out, want);
		assert_int_equal(o, strlen(want));
	}
}

static void test_unoctal(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"/a\\040b\\011c\\012d\\134e", "/a b\tc\nd\\e"},
	    /* not escapes: too few digits, a digit above 7, a first digit above
	     * 3, a backslash at the end */
	    {"\\04", "\\04"},
	    {"\\048", "\\048"},
	    {"\\400", "\\400"},
	    {"a\\", "a\\"},
	    /* an escaped backslash is not read again */
	    {"\\134040", "\\040"},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		unoctal_is(cases[i].in, 64, 0, cases[i].out);
	/* 7 bytes and the NUL fit in 8; an escape counts as one byte */
	unoctal_is("abc\\040efg", 8, 0, "abc efg");
	unoctal_is("abcdefgh", 8, -1, NULL);
	/* no room even for the terminator */
	unoctal_is("", 0, -1, NULL);
}

/* Appending at *o. */
static void test_unoctal_append(void **state)
{
	(void)state;
	char out[8] = "abcde";
	size_t o = 5;
	assert_int_equal(sbx_mountinfo_unoctal(S("xyz"), out, &o, sizeof(out)), -1);
	o = 5;
	assert_int_equal(sbx_mountinfo_unoctal(S("\\040y"), out, &o, sizeof(out)), 0);
	assert_int_equal(o, 7);
	assert_string_equal(out, "abcde y");
	assert_int_equal(sbx_mountinfo_unoctal(S(""), out, &o, sizeof(out)), 0);
	assert_string_equal(out, "abcde y");
	o = 8;
	assert_int_equal(sbx_mountinfo_unoctal(S(""), out, &o, sizeof(out)), -1);
}

/* line parses to these fields. */
static void line_is(const char *line, const char *root, const char *mnt, const char *fstype,
		    const char *super)
{
	sbx_mountinfo_line m;
	if (!sbx_mountinfo_parse_line(S(line), &m))
		fail_msg("not parsed: '%s'", line);
	span_eq(m.root, root);
	span_eq(m.mnt, mnt);
	span_eq(m.fstype, fstype);
	span_eq(m.super, super);
}

static void test_parse_line(void **state)
{
	(void)state;
	line_is("35 25 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - "
		"cgroup cgroup rw,memory",
		"/", "/sys/fs/cgroup/memory", "cgroup", "rw,memory");
	/* no optional field */
	line_is("30 25 0:27 /user.slice /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate",
		"/user.slice", "/sys/fs/cgroup/unified", "cgroup2", "rw,nsdelegate");
	/* several optional fields; the fields stay escaped */
	line_is("40 1 8:1 /a\\040b /mnt/x\\040y rw shared:1 master:2 propagate_from:3 unbindable - "
		"ext4 /dev/sda1 rw,errors=remount-ro",
		"/a\\040b", "/mnt/x\\040y", "ext4", "rw,errors=remount-ro");
	/* the first "-" field ends the optional fields */
	line_is("1 2 3:4 / /m rw - - tmpfs -", "/", "/m", "-", "-");
	/* runs of spaces between fields */
	line_is("1  2 3:4   /r /m rw  -  tmpfs none  rw", "/r", "/m", "tmpfs", "rw");
}

static void test_parse_line_bad(void **state)
{
	(void)state;
	sbx_mountinfo_line m;
	static const char *const bad[] = {
	    "",
	    "35",
	    "35 25 0:30",
	    "35 25 0:30 /",
	    "35 25 0:30 / /sys/fs/cgroup/memory",
	    "35 25 0:30 / /sys/fs/cgroup/memory rw",
	    /* no separator */
	    "35 25 0:30 / /sys/fs/cgroup/memory rw shared:14 cgroup cgroup rw,memory",
	    /* "-" glued to a field is not the separator */
	    "35 25 0:30 / /m rw -cgroup cgroup rw",
	    /* short after the separator */
	    "35 25 0:30 / /m rw -",
	    "35 25 0:30 / /m rw - cgroup",
	    "35 25 0:30 / /m rw - cgroup cgroup",
	    "35 25 0:30 / /m rw shared:1 - cgroup cgroup   ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sbx_mountinfo_parse_line(S(bad[i]), &m))
			fail_msg("parsed: '%s'", bad[i]);
}

/* A whole text, line by line, as the callers read it. */
static void test_walk_text(void **state)
{
	(void)state;
	const char *t = "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
			"garbage\n"
			"\n"
			"37 25 0:32 / /sys/fs/cgroup/cpu,cpuacct rw shared:16 - cgroup cgroup "
			"rw,cpu,cpuacct\n"
			"30 25 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw";
	sbx_span line;
	sbx_mountinfo_line m;
	int parsed = 0, lines = 0;
	const char *fstypes[] = {"proc", "cgroup", "cgroup2"};
	while (sbx_next_line(&t, &line)) {
		lines++;
		if (!sbx_mountinfo_parse_line(line, &m))
			continue;
		assert_true(parsed < 3);
		span_eq(m.fstype, fstypes[parsed]);
		parsed++;
	}
	assert_int_equal(lines, 5);
	assert_int_equal(parsed, 3);
	span_eq(m.super, "rw");
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_is),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_unoctal),
		cmocka_unit_test(test_unoctal_append),
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_parse_line_bad),
		cmocka_unit_test(test_walk_text),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
