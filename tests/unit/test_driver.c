/* Unit tests: src/drivers/driver.c (the table of drivers) and what every
 * driver in it must provide. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "sbx.h"
#include "drivers/driver.h"

static void test_by_name(void **state)
{
	(void)state;
	sbx_error err = {0};
	const sbx_driver *native = sbx_driver_by_name(NULL, &err);
	assert_non_null(native);
	assert_string_equal(native->name, "native");
	assert_ptr_equal(sbx_driver_by_name("native", &err), native);
	assert_ptr_equal(sbx_driver_at(0), native); /* the default comes first */
	for (size_t i = 0; sbx_driver_at(i); i++) {
		const sbx_driver *d = sbx_driver_at(i);
		assert_ptr_equal(sbx_driver_by_name(d->name, &err), d);
	}
	assert_string_equal(sbx_driver_by_name("docker", &err)->name, "docker");
	assert_string_equal(sbx_driver_by_name("podman", &err)->name, "podman");
}

static void test_unknown(void **state)
{
	(void)state;
	sbx_error err = {0};
	assert_null(sbx_driver_by_name("lxc", &err));
	assert_int_equal(err.code, SBX_E_INVALID);
	assert_string_equal(err.msg, "unknown driver 'lxc' (native, docker or podman)");
	assert_null(sbx_driver_by_name("", &err));
	assert_null(sbx_driver_by_name("Native", NULL)); /* names are exact; err may be NULL */
}

static void test_names(void **state)
{
	(void)state;
	char buf[128];
	sbx_driver_names(buf, sizeof(buf));
	assert_string_equal(buf, "native, docker or podman");
	sbx_driver_names(buf, 9); /* truncated, still a string */
	assert_string_equal(buf, "native, ");
}

/* Every operation but the optional ones (python, owned_activate,
 * owned_keep) is there, in every driver. */
static void test_complete(void **state)
{
	(void)state;
	size_t n = 0;
	for (const sbx_driver *d; (d = sbx_driver_at(n)); n++) {
		assert_non_null(d->name);
		assert_non_null(d->run);
		assert_non_null(d->create);
		assert_non_null(d->start);
		assert_non_null(d->stop);
		assert_non_null(d->destroy);
		assert_non_null(d->info);
		assert_non_null(d->is_running);
		assert_non_null(d->exec);
		assert_non_null(d->read_file);
		assert_non_null(d->write_file);
		assert_non_null(d->owned_create);
		assert_non_null(d->owned_dead);
		assert_non_null(d->owned_destroy);
		assert_non_null(d->sweep);
		assert_non_null(d->health);
		/* Pre-forking: all four operations, or none. */
		int zy = !!d->zygote_new + !!d->owned_fork + !!d->zygote_info + !!d->zygote_free;
		assert_true(zy == 0 || zy == 4);
		for (size_t k = 0; k < n; k++)
			assert_string_not_equal(sbx_driver_at(k)->name, d->name);
	}
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_by_name),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
