/* Unit tests: src/status.c (how a command ended -> sbx exit status). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/status.h"

/* Build a wait status synthetically (glibc layout). */
static int exited(int code)
{
	return W_EXITCODE(code, 0);
}

static int killed(int sig)
{
	return W_EXITCODE(0, sig);
}

static void expect(int wstatus, bool timed_out, int want_code, int want_sig)
{
	int sig = -1;

	assert_int_equal(sbx_exit_status(wstatus, timed_out, &sig), want_code);
	assert_int_equal(sig, want_sig);
	/* sig may be NULL. */
	assert_int_equal(sbx_exit_status(wstatus, timed_out, NULL), want_code);
}

static void test_normal_exit(void **state)
{
	(void)state;
	expect(exited(0), false, 0, 0);
	expect(exited(1), false, 1, 0);
	expect(exited(2), false, 2, 0);
	expect(exited(124), false, 124, 0); /* the command's own 124 */
	expect(exited(125), false, 125, 0);
	expect(exited(127), false, 127, 0);
	expect(exited(128), false, 128, 0);
	expect(exited(137), false, 137, 0);
	expect(exited(255), false, 255, 0);
}

static void test_signals(void **state)
{
	(void)state;
	expect(killed(SIGHUP), false, 129, SIGHUP);
	expect(killed(SIGINT), false, 130, SIGINT);
	expect(killed(SIGABRT), false, 134, SIGABRT);
	expect(killed(SIGKILL), false, 137, SIGKILL);
	expect(killed(SIGSEGV), false, 139, SIGSEGV);
	expect(killed(SIGPIPE), false, 141, SIGPIPE);
	expect(killed(SIGTERM), false, 143, SIGTERM);
	expect(killed(SIGXCPU), false, 152, SIGXCPU);
	expect(killed(SIGXFSZ), false, 153, SIGXFSZ);
	expect(killed(SIGSYS), false, 159, SIGSYS); /* seccomp kill */
	expect(killed(64), false, 192, 64);	    /* highest real-time signal */
	/* The core-dump bit does not change anything. */
	expect(killed(SIGSEGV) | 0x80, false, 139, SIGSEGV);
	expect(killed(SIGABRT) | 0x80, false, 134, SIGABRT);
}

static void test_timeout_wins(void **state)
{
	(void)state;
	expect(killed(SIGKILL), true, SBX_EXIT_TIMEOUT, SIGKILL);
	expect(killed(SIGTERM), true, 124, SIGTERM);
	expect(killed(SIGSEGV) | 0x80, true, 124, SIGSEGV);
	expect(exited(0), true, 124, 0);
	expect(exited(1), true, 124, 0);
	expect(exited(255), true, 124, 0);
}

static void test_not_an_ending(void **state)
{
	(void)state;
	/* Stopped / continued are not endings: reported as sbx's own error. */
	expect(W_STOPCODE(SIGSTOP), false, SBX_EXIT_ERROR, 0);
	expect(0xffff, false, SBX_EXIT_ERROR, 0); /* WIFCONTINUED */
	expect(W_STOPCODE(SIGSTOP), true, 124, 0);
}

/* Real statuses from waitpid(), not only synthetic ones. */
static int real_status(int how)
{
	pid_t pid = fork();
	int ws = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		if (how < 0) {
			signal(-how, SIG_DFL); /* sanitizers may catch SIGSEGV */
			raise(-how);
		}
		_exit(how < 0 ? 99 : how);
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	return ws;
}

static void test_real_wait_status(void **state)
{
	(void)state;
	expect(real_status(0), false, 0, 0);
	expect(real_status(1), false, 1, 0);
	expect(real_status(255), false, 255, 0);
	expect(real_status(-SIGKILL), false, 137, SIGKILL);
	expect(real_status(-SIGSEGV), false, 139, SIGSEGV);
	expect(real_status(-SIGTERM), false, 143, SIGTERM);
	expect(real_status(-SIGKILL), true, 124, SIGKILL);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_exit),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_timeout_wins),
		cmocka_unit_test(test_not_an_ending),
		cmocka_unit_test(test_real_wait_status),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
