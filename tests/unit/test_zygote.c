/* Unit tests: the zygote's configuration message (drivers/native_zygote.c),
 * read by src/drivers/zygote.py, and the driver table's pre-forking ops. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/buf.h"
#include "core/launch.h"
#include "core/privs.h"
#include "core/seccomp_policy.h"
#include "drivers/native.h"
#include "proto/jsonparse.h"

static sbx_jval *config_of(const sbx_config *c)
{
	sbx_buf b = {0};
	sbx_error err = {0};
	assert_int_equal(sbx_zygote_config(c, &b, &err), 0);
	assert_true(b.len > 1);
	assert_int_equal(b.data[0], 'C');
	sbx_jval *v = NULL;
	assert_int_equal(sbx_jparse(b.data + 1, b.len - 1, &v, &err), 0);
	sbx_buf_free(&b);
	assert_int_equal(v->type, SBX_J_OBJ);
	return v;
}

static int64_t num(const sbx_jval *o, const char *k)
{
	int64_t n = 0;
	assert_true(sbx_jget_int(o, k, &n));
	return n;
}

/* The filters are the runtime's own, byte for byte, in load order. */
static void test_seccomp_stages(void **state)
{
	(void)state;
	sbx_config c;
	sbx_config_init(&c);
	sbx_jval *v = config_of(&c);
	const sbx_jval *sc = sbx_jget(v, "seccomp");
	assert_non_null(sc);
	assert_int_equal(sc->type, SBX_J_ARR);
	assert_int_equal(sc->n, SBX_SECCOMP_STAGES);
	const struct sock_fprog *prog, *st[SBX_SECCOMP_STAGES];
	assert_int_equal(sbx_seccomp_program(&prog, NULL), 0);
	sbx_seccomp_stages(prog, st);
	for (size_t i = 0; i < sc->n; i++) {
		const sbx_jval *h = &sc->items[i];
		assert_int_equal(h->type, SBX_J_STR);
		size_t bytes = (size_t)st[i]->len * sizeof(struct sock_filter);
		assert_int_equal(h->len, 2 * bytes);
		const unsigned char *d = (const unsigned char *)st[i]->filter;
		char two[3];
		for (size_t k = 0; k < bytes; k++) {
			snprintf(two, sizeof(two), "%02x", d[k]);
			assert_memory_equal(h->str + 2 * k, two, 2);
		}
	}
	sbx_jfree(v);
}

static void test_privileges_and_limits(void **state)
{
	(void)state;
	sbx_config c;
	sbx_config_init(&c);
	c.nofile = 77;
	c.fsize_limit = 0; /* unlimited: -1 for resource.setrlimit */
	c.tmp_size = 1 << 20;
	c.net = SBX_NET_LOOPBACK;
	c.hostname = "box\"1\\";
	sbx_jval *v = config_of(&c);
	assert_int_equal(num(v, "caps"), (int64_t)sbx_privs_workload_mask());
	assert_int_equal(num(v, "secbits"), (int64_t)sbx_privs_workload_secbits());
	assert_true(num(v, "last_cap") >= 40);
	assert_int_equal(num(v, "tmp_size"), 1 << 20);
	assert_true(sbx_jget(v, "loopback")->b);
	assert_string_equal(sbx_jget_str(v, "hostname"), "box\"1\\");
	const sbx_jval *rl = sbx_jget(v, "rlimits");
	assert_int_equal(rl->n, 3);
	assert_string_equal(rl->items[0].items[0].str, "RLIMIT_NOFILE");
	assert_int_equal(rl->items[0].items[1].i, 77);
	assert_string_equal(rl->items[1].items[0].str, "RLIMIT_CORE");
	assert_int_equal(rl->items[1].items[1].i, 0);
	assert_string_equal(rl->items[2].items[0].str, "RLIMIT_FSIZE");
	assert_int_equal(rl->items[2].items[1].i, -1);
	/* BLAS pools must not start threads in the zygote. */
	assert_string_equal(sbx_jget_str(sbx_jget(v, "env"), "OPENBLAS_NUM_THREADS"), "1");
	sbx_jfree(v);
	c.net = SBX_NET_NONE;
	c.fsize_limit = 4096;
	v = config_of(&c);
	assert_false(sbx_jget(v, "loopback")->b);
	assert_int_equal(sbx_jget(v, "rlimits")->items[2].items[1].i, 4096);
	sbx_jfree(v);
}

/* The /proc lists are the runtime's (core/mounts.c), complete. */
static void test_proc_lists(void **state)
{
	(void)state;
	sbx_config c;
	sbx_config_init(&c);
	sbx_jval *v = config_of(&c);
	const char *keys[2] = {"proc_masked", "proc_readonly"};
	const char *const *lists[2] = {sbx_proc_masked, sbx_proc_readonly};
	for (int k = 0; k < 2; k++) {
		const sbx_jval *a = sbx_jget(v, keys[k]);
		size_t n = 0;
		while (lists[k][n])
			n++;
		assert_int_equal(a->n, n);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(a->items[i].str, lists[k][i]);
	}
	sbx_jfree(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seccomp_stages),
	    cmocka_unit_test(test_privileges_and_limits),
	    cmocka_unit_test(test_proc_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
