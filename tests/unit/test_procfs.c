/* Unit tests: src/base/procfs.c (/proc/PID/stat, "key value" files, pid
 * lists), on given text and on this process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/procfs.h"
#include "base/util.h"

/* Fields 4..22 after "pid (comm) S": ppid 7, then 17 more, starttime last. */
#define TAIL                                                                                       \
	" 7 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 3133440 395 18446744073709551615 1 " \
	"2\n"

static void test_stat_plain(void **state)
{
	(void)state;
	sbx_procstat st;
	assert_int_equal(sbx_procstat_parse("42 (sh) S" TAIL, &st, NULL), 0);
	assert_int_equal(st.pid, 42);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 7);
	assert_int_equal(st.starttime, 98765);
}

static void test_stat_hostile_comm(void **state)
{
	(void)state;
	sbx_procstat st;
	/* A command name may hold spaces, digits and parentheses: the last
	 * ')' ends it. */
	assert_int_equal(sbx_procstat_parse("9 (a) Z 1 (b) c) R" TAIL, &st, NULL), 0);
	assert_int_equal(st.pid, 9);
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 7);
	assert_int_equal(st.starttime, 98765);
	assert_int_equal(sbx_procstat_parse("10 () Z" TAIL, &st, NULL), 0);
	assert_int_equal(st.state, 'Z');
}

static void test_stat_bad(void **state)
{
	(void)state;
	sbx_procstat st;
	sbx_error e = {0};
	const char *bad[] = {
	    "",
	    "garbage",
	    "42 sh S 1 2 3",		  /* no parentheses */
	    "42 (sh)",			  /* nothing after comm */
	    "42 (sh) S",		  /* no fields */
	    "42 (sh) S 7 7 7 0 -1 1 2 3", /* cut before starttime */
	    "x (sh) S" TAIL,		  /* no pid */
	    "-3 (sh) S" TAIL,		  /* negative pid */
	    "42 (sh)S" TAIL,		  /* no space before the state */
	    "42 (sh) S 7 7 x 0" TAIL,	  /* a field that is not a number */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(sbx_procstat_parse(bad[i], &st, &e), -SBX_E_INVALID);
		assert_int_equal(e.code, SBX_E_INVALID);
	}
}

static void test_stat_self(void **state)
{
	(void)state;
	sbx_procstat st;
	assert_int_equal(sbx_procstat_read(getpid(), &st, NULL), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.state, 'R');
	assert_true(st.starttime > 0);
	assert_int_equal(sbx_proc_start(getpid()), st.starttime);
	assert_false(sbx_proc_gone(getpid()));
	assert_int_equal(sbx_procstat_read(0, &st, NULL), -SBX_E_NOTFOUND);
}

static void test_stat_zombie_and_gone(void **state)
{
	(void)state;
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	/* A zombie is dead for our purposes. */
	sbx_procstat st;
	for (int i = 0; i < 500; i++) {
		if (sbx_procstat_read(p, &st, NULL) == 0 && st.state == 'Z')
			break;
		usleep(2000);
	}
	assert_int_equal(st.state, 'Z');
	assert_true(sbx_proc_gone(p));
	assert_int_equal(sbx_proc_start(p), 0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	assert_true(sbx_proc_gone(p));
	assert_int_equal(sbx_procstat_read(p, &st, NULL), -SBX_E_NOTFOUND);
}

static void test_kv(void **state)
{
	(void)state;
	const char *events = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_kill_disable 0\n";
	int64_t v = -7;
	assert_int_equal(sbx_kv_parse(events, "oom_kill", &v, NULL), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sbx_kv_parse(events, "oom", &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sbx_kv_parse(events, "low", &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sbx_kv_parse(events, "oom_k", &v, NULL), -SBX_E_NOTFOUND);
	assert_int_equal(sbx_kv_parse(events, "kill", &v, NULL), -SBX_E_NOTFOUND);
	assert_int_equal(
	    sbx_kv_parse("usage_usec 123456789012\nuser_usec 5", "usage_usec", &v, NULL), 0);
	assert_int_equal(v, 123456789012LL);
	assert_int_equal(sbx_kv_parse("a \n", "a", &v, NULL), -SBX_E_NOTFOUND);
	/* No key: the number the text starts with. */
	assert_int_equal(sbx_kv_parse("4096\n", NULL, &v, NULL), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(sbx_kv_parse("max\n", NULL, &v, NULL), -SBX_E_NOTFOUND);
	assert_int_equal(sbx_kv_parse("", NULL, &v, NULL), -SBX_E_NOTFOUND);
}

static void test_read_key(void **state)
{
	(void)state;
	char dir[] = "/tmp/sbx-unit-procfs.XXXXXX";
	assert_non_null(mkdtemp(dir));
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("usage_usec 1500\nuser_usec 1000\n", f);
	fclose(f);
	int64_t v;
	assert_int_equal(sbx_read_key(fd, "cpu.stat", "user_usec", &v, NULL), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(sbx_read_key(AT_FDCWD, path, "usage_usec", &v, NULL), 0);
	assert_int_equal(v, 1500);
	sbx_error e = {0};
	assert_int_equal(sbx_read_key(fd, "cpu.stat", "nope", &v, &e), -SBX_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "cpu.stat"));
	assert_int_equal(sbx_read_key(fd, "absent", NULL, &v, NULL), -SBX_E_NOTFOUND);
	assert_int_equal(sbx_read_key(-1, "cpu.stat", NULL, &v, NULL), -SBX_E_NOTFOUND);
	unlink(path);
	close(fd);
	rmdir(dir);
}

static void collect(pid_t pid, void *arg)
{
	pid_t *v = arg;
	while (*v)
		v++;
	*v = pid;
}

static void test_pids(void **state)
{
	(void)state;
	pid_t got[8] = {0};
	assert_int_equal(sbx_pids_each("1\n22\nxyz\n-4\n0\n5x\n333", collect, got), 3);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 22);
	assert_int_equal(got[2], 333);
	assert_int_equal(got[3], 0);
	assert_int_equal(sbx_pids_each("", collect, got), 0);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_plain),
		cmocka_unit_test(test_stat_hostile_comm),
		cmocka_unit_test(test_stat_bad),
		cmocka_unit_test(test_stat_self),
		cmocka_unit_test(test_stat_zombie_and_gone),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_read_key),
		cmocka_unit_test(test_pids),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
