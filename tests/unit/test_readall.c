/* Unit tests: src/base/readall.c (sbx_read_all). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/readall.h"

static char path[64];

static int file_setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/sbx-test-readall-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	/* 10000 bytes: more than one read's first buffer. */
	char buf[10000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	int r = write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) ? 0 : -1;
	close(fd);
	return r;
}

static int file_teardown(void **state)
{
	(void)state;
	return unlink(path);
}

static void test_whole_file(void **state)
{
	(void)state;
	char *s = NULL;
	size_t n = 0;
	assert_int_equal(sbx_read_all(AT_FDCWD, path, 10000, &s, &n, NULL), 0);
	assert_int_equal(n, 10000);
	assert_int_equal(strlen(s), 10000); /* NUL-terminated */
	assert_int_equal(s[9999], 'a' + 9999 % 26);
	free(s);
}

static void test_too_large(void **state)
{
	(void)state;
	char *s = (char *)1;
	size_t n = 7;
	sbx_error err = {0};
	assert_int_equal(sbx_read_all(AT_FDCWD, path, 9999, &s, &n, &err), -SBX_E_SYSTEM);
	assert_null(s);
	assert_int_equal(n, 0);
	assert_int_equal(err.sys_errno, EFBIG);
	assert_non_null(strstr(err.msg, path));
}

static void test_missing(void **state)
{
	(void)state;
	char *s = NULL;
	sbx_error err = {0};
	assert_int_equal(sbx_read_all(AT_FDCWD, "/nonexistent/sbx-x", 100, &s, NULL, &err),
			 -SBX_E_NOTFOUND);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_null(s);
	assert_int_equal(sbx_read_all(AT_FDCWD, "/", 100, &s, NULL, &err), -SBX_E_SYSTEM);
	assert_int_equal(err.sys_errno, EISDIR);
}

/* /proc files report size 0: read until EOF anyway. */
static void test_proc_file(void **state)
{
	(void)state;
	char *s = NULL;
	size_t n = 0;
	assert_int_equal(sbx_read_all(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &s, &n, NULL), 0);
	assert_true(n > 0);
	assert_non_null(strstr(s, " - "));
	free(s);
	/* relative to a directory fd */
	int dfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(sbx_read_all(dfd, "cgroup", 1 << 20, &s, &n, NULL), 0);
	assert_non_null(strchr(s, ':'));
	free(s);
	close(dfd);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_file, file_setup, file_teardown),
		cmocka_unit_test_setup_teardown(test_too_large, file_setup, file_teardown),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_proc_file),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
