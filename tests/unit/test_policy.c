/* Unit tests: the seccomp policy table and output capping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/sched.h>
#include <string.h>

#include "core/seccomp_policy.h"
#include "core/loop.h"

static const sbx_sc_rule *find(const char *name, unsigned ncmp)
{
	for (size_t i = 0; i < sbx_seccomp_policy_len; i++)
		if (sbx_seccomp_policy[i].name && strcmp(sbx_seccomp_policy[i].name, name) == 0 &&
		    sbx_seccomp_policy[i].ncmp == ncmp)
			return &sbx_seccomp_policy[i];
	return NULL;
}

/* Docker's default profile denies at least these (unconditionally). */
static void test_required_denials(void **state)
{
	static const char *const must[] = {
	    "mount",
	    "umount2",
	    "pivot_root",
	    "unshare",
	    "setns",
	    "kexec_load",
	    "kexec_file_load",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "bpf",
	    "perf_event_open",
	    "keyctl",
	    "add_key",
	    "request_key",
	    "userfaultfd",
	    "open_by_handle_at",
	    "io_uring_setup",
	    "io_uring_enter",
	    "io_uring_register",
	    "reboot",
	    "swapon",
	    "swapoff",
	    "settimeofday",
	    "clock_settime",
	    "clock_adjtime",
	    "adjtimex",
	    "acct",
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		const sbx_sc_rule *r = find(must[i], 0);
		if (!r)
			fail_msg("policy does not deny %s", must[i]);
		assert_int_equal(r->err, EPERM);
		assert_true(seccomp_syscall_resolve_name(must[i]) >= 0);
	}
}

static void test_clone_namespace_flags(void **state)
{
	const uint64_t flags[] = {CLONE_NEWNS,	CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
				  CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		int found = 0;
		for (size_t i = 0; i < sbx_seccomp_policy_len; i++) {
			const sbx_sc_rule *r = &sbx_seccomp_policy[i];
			if (r->name && strcmp(r->name, "clone") == 0 && r->ncmp == 1 &&
			    r->cmp[0].arg == 0 && r->cmp[0].op == SCMP_CMP_MASKED_EQ &&
			    r->cmp[0].a == flags[f] && r->cmp[0].b == flags[f])
				found = 1;
		}
		if (!found)
			fail_msg("clone flag %#llx not denied", (unsigned long long)flags[f]);
	}
	const sbx_sc_rule *c3 = find("clone3", 0);
	assert_non_null(c3);
	assert_int_equal(c3->err, ENOSYS);
}

static void test_every_rule_has_reason_and_errno(void **state)
{
	for (size_t i = 0; i < sbx_seccomp_policy_len; i++) {
		const sbx_sc_rule *r = &sbx_seccomp_policy[i];
		assert_true(r->name || r->nr > 0);
		assert_non_null(r->why);
		assert_true(r->err == EPERM || r->err == ENOSYS);
		assert_true(r->ncmp <= 2);
	}
}

static void test_program_compiles_once(void **state)
{
	const struct sock_fprog *a = NULL, *b = NULL;
	sbx_error err;
	assert_int_equal(sbx_seccomp_program(&a, &err), 0);
	assert_int_equal(sbx_seccomp_program(&b, &err), 0);
	assert_ptr_equal(a, b);
	assert_true(a->len > 20);
	/* The program embedded at build time is what the table compiles to. */
	struct sock_fprog fresh;
	assert_int_equal(sbx_seccomp_compile(&fresh, &err), 0);
	assert_true(sbx_seccomp_is_prebuilt());
	assert_int_equal(fresh.len, a->len);
	assert_memory_equal(fresh.filter, a->filter, a->len * sizeof(a->filter[0]));
}

static void test_stream_cap(void **state)
{
	sbx_stream s = {.fd = -1, .tee_fd = -1, .capture = true, .limit = 10};
	assert_int_equal(sbx_stream_feed(&s, "0123456", 7, NULL), 0);
	assert_false(s.truncated);
	assert_int_equal(sbx_stream_feed(&s, "789abc", 6, NULL), 0);
	assert_true(s.truncated);
	assert_int_equal(s.buf.len, 10);
	assert_memory_equal(s.buf.data, "0123456789", 10);
	assert_int_equal(sbx_stream_feed(&s, "more", 4, NULL), 0);
	assert_int_equal(s.buf.len, 10);
	sbx_buf_free(&s.buf);
	sbx_stream nocap = {.fd = -1, .tee_fd = -1, .capture = false, .limit = 4};
	assert_int_equal(sbx_stream_feed(&nocap, "abcdef", 6, NULL), 0);
	assert_true(nocap.truncated);
	assert_int_equal(nocap.kept, 4);
	assert_null(nocap.buf.data);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_denials),
		cmocka_unit_test(test_clone_namespace_flags),
		cmocka_unit_test(test_every_rule_has_reason_and_errno),
		cmocka_unit_test(test_program_compiles_once),
		cmocka_unit_test(test_stream_cap),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
