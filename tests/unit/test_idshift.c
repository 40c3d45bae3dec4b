/* Unit tests: the id arithmetic of shifting an own workspace's owners and
 * the names of file system types (core/idshift.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/idshift.h"

static void test_shift_id(void **state)
{
	(void)state;
	/* inside the source range: moved by to - from, either direction */
	assert_int_equal(sbx_idshift_id(100000, 100000, 300000, 65536), 300000);
	assert_int_equal(sbx_idshift_id(101000, 100000, 300000, 65536), 301000);
	assert_int_equal(sbx_idshift_id(165535, 100000, 300000, 65536), 365535);
	assert_int_equal(sbx_idshift_id(301000, 300000, 100000, 65536), 101000);
	/* outside: untouched (host root, the ids just past the range, below) */
	assert_int_equal(sbx_idshift_id(0, 100000, 300000, 65536), 0);
	assert_int_equal(sbx_idshift_id(165536, 100000, 300000, 65536), 165536);
	assert_int_equal(sbx_idshift_id(99999, 100000, 300000, 65536), 99999);
	/* an id already shifted stays (a hardlink seen twice, a shift re-run) */
	assert_int_equal(sbx_idshift_id(301000, 100000, 300000, 65536), 301000);
	/* the top of the id space */
	assert_int_equal(sbx_idshift_id(4294901757u, 4294836222u, 100000, 65536), 165535);
}

static void test_check(void **state)
{
	(void)state;
	sbx_error e;
	sbx_idshift ok = {100000, 300000, 200000, 400000, 65536};
	assert_int_equal(sbx_idshift_check(&ok, &e), 0);
	sbx_idshift same = {100000, 100000, 100000, 300000, 65536};
	assert_int_equal(sbx_idshift_check(&same, &e), 0);
	sbx_idshift adjacent = {100000, 165536, 100000, 34464, 65536};
	assert_int_equal(sbx_idshift_check(&adjacent, &e), 0);
	sbx_idshift overlap = {100000, 165535, 100000, 100000, 65536};
	assert_int_equal(sbx_idshift_check(&overlap, &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "overlap"));
	sbx_idshift goverlap = {100000, 300000, 100000, 100001, 65536};
	assert_int_equal(sbx_idshift_check(&goverlap, &e), -SBX_E_INVALID);
	sbx_idshift zero = {100000, 300000, 100000, 300000, 0};
	assert_int_equal(sbx_idshift_check(&zero, &e), -SBX_E_INVALID);
	/* (uid_t)-1 must never be a target: chown would read "unchanged" */
	sbx_idshift top = {100000, 4294901760u, 100000, 300000, 65536};
	assert_int_equal(sbx_idshift_check(&top, &e), -SBX_E_INVALID);
	sbx_idshift top_ok = {100000, 4294901759u, 100000, 300000, 65536};
	assert_int_equal(sbx_idshift_check(&top_ok, &e), 0);
}

static void test_fstype(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(sbx_fstype_name(0x01021994), "tmpfs");
	assert_string_equal(sbx_fstype_name(0x794c7630), "overlayfs");
	assert_string_equal(sbx_fstype_name(0x6969), "nfs");
	assert_string_equal(sbx_fstype_name(0x858458f6), "ramfs");
	assert_string_equal(sbx_fstype_name(0x01021997), "9p");
	assert_string_equal(sbx_fstype_name(0x65735546), "fuse");
	assert_string_equal(sbx_fstype_name(0xef53), "ext4");
	assert_null(sbx_fstype_name(0x12345678));
	assert_string_equal(sbx_fstype_str(0x858458f6, buf, sizeof(buf)), "ramfs");
	assert_string_equal(sbx_fstype_str(0x12345678, buf, sizeof(buf)), "0x12345678");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shift_id),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_fstype),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
