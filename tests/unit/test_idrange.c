/* Unit tests: the host id set of per-sandbox ranges (SBX_ID_RANGE and
 * /etc/subuid parsing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/idrange.h"

static void test_parse_ok(void **state)
{
	sbx_idset s;
	sbx_error e;
	assert_int_equal(sbx_idset_parse("1879048192:134217728", &s, &e), 0);
	assert_int_equal(s.uid_base, 1879048192u);
	assert_int_equal(s.gid_base, 1879048192u);
	assert_int_equal(s.slots, 2048);
	assert_int_equal(sbx_idset_parse("200000:300000:200000", &s, &e), 0);
	assert_int_equal(s.uid_base, 200000);
	assert_int_equal(s.gid_base, 300000);
	assert_int_equal(s.slots, 3); /* a partial slot is not used */
	/* The last id below 4294967295 may be the range's last. */
	assert_int_equal(sbx_idset_parse("4294901759:65536", &s, &e), 0);
	assert_int_equal(s.slots, 1);
}

static void test_parse_bad(void **state)
{
	sbx_idset s;
	sbx_error e;
	static const char *const bad[] = {"",
					  "abc",
					  "100000",
					  "100000:",
					  ":65536",
					  "100000:65536:",
					  "1:2:3:4",
					  "-1:65536",
					  "100000:65535", /* not one slot */
					  "0:65536",	  /* host root */
					  "100000:0:65536",
					  "4294901760:65536", /* reaches (uid_t)-1 */
					  "4294967296:65536",
					  "100000 :65536",
					  "100000:65536x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		int r = sbx_idset_parse(bad[i], &s, &e);
		if (r >= 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(r, -SBX_E_INVALID);
		assert_non_null(strstr(e.msg, "SBX_ID_RANGE"));
	}
}

static void test_subid(void **state)
{
	uint32_t s, c;
	const char *text = "alice:100000:65536\nsbxx:1:2\nsbx:231072:1048576\nsbx:9:9\n";
	assert_int_equal(sbx_subid_find(text, "sbx", &s, &c), 0);
	assert_int_equal(s, 231072);
	assert_int_equal(c, 1048576);
	assert_int_equal(sbx_subid_find(text, "alice", &s, &c), 0);
	assert_int_equal(s, 100000);
	assert_int_equal(sbx_subid_find(text, "bob", &s, &c), -1);
	assert_int_equal(sbx_subid_find("", "sbx", &s, &c), -1);
	/* Malformed lines are skipped, a later good one counts. */
	assert_int_equal(sbx_subid_find("sbx:x:1\nsbx:5:70000", "sbx", &s, &c), 0);
	assert_int_equal(s, 5);
	assert_int_equal(c, 70000);
	assert_int_equal(sbx_subid_find("sbx:5:70000junk\n", "sbx", &s, &c), -1);
}

static void test_env_default(void **state)
{
	sbx_idset s;
	sbx_error e;
	unsetenv("SBX_ID_RANGE");
	setenv("SBX_SUBID_USER", "sbx-no-such-user-for-tests", 1);
	assert_int_equal(sbx_idset_get(&s, &e), 0);
	assert_int_equal(s.uid_base, SBX_IDRANGE_DEFAULT_BASE);
	assert_int_equal(s.slots, SBX_IDRANGE_DEFAULT_COUNT / SBX_IDRANGE_SLOT);
	assert_string_equal(s.source, "default");
	setenv("SBX_ID_RANGE", "500000:131072", 1);
	assert_int_equal(sbx_idset_get(&s, &e), 0);
	assert_int_equal(s.uid_base, 500000);
	assert_int_equal(s.slots, 2);
	setenv("SBX_ID_RANGE", "5:5", 1);
	assert_true(sbx_idset_get(&s, &e) < 0);
	unsetenv("SBX_ID_RANGE");
	unsetenv("SBX_SUBID_USER");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_subid),
	    cmocka_unit_test(test_env_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
