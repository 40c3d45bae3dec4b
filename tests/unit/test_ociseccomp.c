/* Unit tests: src/ocirt/seccomp.c (linux.seccomp compiled with libseccomp
 * and loaded in a forked child: denied calls get the configured errno,
 * allowed ones work, argument checks, the default action's errno). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/buf.h"
#include "base/util.h"
#include "ocirt/seccomp.h"
#include "ocirt/spec.h"

static sbx_oci_spec *load_data(const char *name)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof(path), "%.*s/data/oci/%s", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	_cleanup_free_ char *buf = malloc(1 << 20);
	assert_non_null(buf);
	size_t len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	sbx_oci_spec *s = NULL;
	sbx_error e;
	if (sbx_oci_spec_parse(buf, len, &s, &e) != 0)
		fail_msg("%s: %s", name, e.msg);
	return s;
}

static sbx_oci_spec *parse(const char *json)
{
	sbx_oci_spec *s = NULL;
	sbx_error e;
	if (sbx_oci_spec_parse(json, strlen(json), &s, &e) != 0)
		fail_msg("%s: %s", json, e.msg);
	assert_true(s->has_seccomp);
	return s;
}

static void build(const sbx_oci_seccomp *sc, struct sock_fprog *prog)
{
	sbx_error e;
	memset(&e, 0, sizeof(e));
	if (sbx_oci_seccomp_build(sc, prog, &e) != 0)
		fail_msg("build: %s", e.msg);
	assert_non_null(prog->filter);
	assert_true(prog->len > 0);
}

/* The expectations, checked in a child under the filter: each failed
 * check is the child's exit status (its number), 0 when all passed. */
typedef int (*child_fn)(void);

static void run_filtered(const struct sock_fprog *prog, unsigned flags, child_fn fn)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sbx_error e;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(100);
		if (sbx_oci_seccomp_load(prog, flags, &e) != 0)
			_exit(101);
		/* raw: sanitizers' _exit hook may make calls the filter denies */
		syscall(SYS_exit_group, fn());
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	if (WEXITSTATUS(st) != 0)
		fail_msg("child's check %d failed", WEXITSTATUS(st));
}

/* A raw system call's -1 and errno, as one number (-errno), or its result. */
#define RAW(...) (syscall(__VA_ARGS__) < 0 ? -errno : 0)

static int podman_checks(void)
{
	/* listed with errnoRet 1 (EPERM): kcmp works without the filter */
	if (RAW(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 0, 0) != -EPERM)
		return 1;
	/* not listed: the default action, defaultErrnoRet 38 (ENOSYS) */
	if (RAW(SYS_add_key, NULL, NULL, NULL, 0, 0) != -ENOSYS)
		return 2;
	/* socket(AF_NETLINK, *, NETLINK_AUDIT): EINVAL (22) by its args */
	if (RAW(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT) != -EINVAL)
		return 3;
	/* other sockets: allowed */
	long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 4;
	close((int)fd);
	fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return 5;
	close((int)fd);
	/* allowed ones */
	if (syscall(SYS_getpid) != getpid() || RAW(SYS_getppid) != 0)
		return 6;
	/* personality: only the listed values */
	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		return 7;
	if (RAW(SYS_personality, 0x0400000UL) != -ENOSYS)
		return 8;
	return 0;
}

static void test_podman(void **state)
{
	(void)state;
	_cleanup_spec_ sbx_oci_spec *s = load_data("config-podman.json");
	struct sock_fprog prog;
	build(&s->seccomp, &prog);
	run_filtered(&prog, s->seccomp.flags, podman_checks);
	/* with TSYNC too (one thread: nothing to synchronise) */
	run_filtered(&prog, SECCOMP_FILTER_FLAG_TSYNC, podman_checks);
	sbx_oci_seccomp_free(&prog);
	assert_null(prog.filter);
	assert_int_equal(prog.len, 0);
	sbx_oci_seccomp_free(&prog); /* twice: harmless */
	sbx_oci_seccomp_free(NULL);
}

#define SC(x) "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"linux\":{\"seccomp\":{" x "}}}"

/* Default ERRNO with defaultErrnoRet 33 (EDOM): only the listed calls
 * run. A rule with the default's action (kill: ERRNO 33) is skipped, not
 * refused; unknown names are skipped. umask: EACCES when arg0 & 0700 ==
 * 0700 (MASKED_EQ). getpriority: ERRNO with no errnoRet, EPERM. */
static const char default_errno_json[] = SC(
    "\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":33,"
    "\"syscalls\":[{\"names\":[\"exit\",\"exit_group\",\"getpid\",\"no_such_call\",\"close\"],"
    "\"action\":\"SCMP_ACT_ALLOW\"},"
    "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":33},"
    "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\"},"
    "{\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":0,"
    "\"value\":448,\"valueTwo\":448,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
    "{\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
    "\"value\":448,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]");

static int default_errno_checks(void)
{
	if (syscall(SYS_getpid) <= 0)
		return 1;
	if (RAW(SYS_getppid) != -EDOM) /* not listed: the default */
		return 2;
	if (RAW(SYS_kill, 0, 0) != -EDOM)
		return 3;
	if (RAW(SYS_getpriority, 0, 0) != -EPERM)
		return 4;
	if (RAW(SYS_umask, 0777) != -EACCES) /* 0700 bits all set */
		return 5;
	if (RAW(SYS_umask, 0701) != -EACCES)
		return 6;
	if (syscall(SYS_umask, 022) < 0) /* no 0700 bit: allowed */
		return 7;
	if (RAW(SYS_umask, 0300) != -EDOM) /* some 0700 bits: neither rule, the default */
		return 8;
	return 0;
}

static void test_default_errno_and_masked(void **state)
{
	(void)state;
	_cleanup_spec_ sbx_oci_spec *s = parse(default_errno_json);
	assert_int_equal(s->seccomp.default_action, SCMP_ACT_ERRNO(33));
	struct sock_fprog prog;
	build(&s->seccomp, &prog);
	run_filtered(&prog, 0, default_errno_checks);
	sbx_oci_seccomp_free(&prog);
}

/* Default allow, a kill rule: the child dies of SIGSYS. */
static void test_kill(void **state)
{
	(void)state;
	_cleanup_spec_ sbx_oci_spec *s =
	    parse(SC("\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\"],"
		     "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
		     "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]"));
	struct sock_fprog prog;
	build(&s->seccomp, &prog);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sbx_error e;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    sbx_oci_seccomp_load(&prog, 0, &e) != 0)
			_exit(100);
		syscall(SYS_getpid);
		syscall(SYS_getppid);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	sbx_oci_seccomp_free(&prog);
}

static void test_errors(void **state)
{
	(void)state;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	/* a program the kernel refuses */
	struct sock_filter insn = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4096);
	struct sock_fprog bogus = {.len = 1, .filter = &insn};
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		int r = sbx_oci_seccomp_load(&bogus, 0, &e);
		_exit(r == -SBX_E_SETUP && e.sys_errno == EINVAL &&
			      !strcmp(e.msg, "seccomp filter: Invalid argument")
			  ? 0
			  : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* a filter longer than the kernel takes: rules with an argument check
	 * on 260 system calls, for 6 architectures (libseccomp's time grows
	 * fast with rules: 260 take about a second) */
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(
	    &b, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"linux\":{\"seccomp\":"
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\","
		"\"SCMP_ARCH_X32\",\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\",\"SCMP_ARCH_RISCV64\","
		"\"SCMP_ARCH_PPC64LE\"],\"syscalls\":[");
	for (int i = 0; i < 260; i++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
		sbx_buf_printf(
		    &b,
		    "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":%d,"
		    "\"args\":[{\"index\":%d,\"value\":%d,\"op\":\"SCMP_CMP_EQ\"}]}",
		    i ? "," : "", name ? name : "none", 1 + i % 100, i % 6, i);
		free(name);
	}
	sbx_buf_puts(&b, "]}}}");
	assert_false(b.oom);
	_cleanup_spec_ sbx_oci_spec *s = parse(b.data);
	struct sock_fprog prog = {.len = 7, .filter = (struct sock_filter *)0x1};
	assert_int_equal(sbx_oci_seccomp_build(&s->seccomp, &prog, &e), -SBX_E_INVALID);
	assert_null(prog.filter);
	assert_int_equal(prog.len, 0);
	assert_non_null(strstr(e.msg, "linux.seccomp: the filter has "));
	assert_non_null(strstr(e.msg, "instructions (at most 4096)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_podman),
	    cmocka_unit_test(test_default_errno_and_masked),
	    cmocka_unit_test(test_kill),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
