/* Unit tests: the pure parts of the OCI runtime's rootfs set-up
 * (src/ocirt/rootfs_mounts.c option strings, rootfs_mask.c sysctl names,
 * rootfs_dev.c's "is /dev bound from the host"). The mounts themselves are
 * tried in namespaces by tests/integration/helpers/oci_rootfs_try.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <cmocka.h>

#include "sbx.h"
#include "ocirt/rootfs_dev.h"
#include "ocirt/rootfs_mask.h"
#include "ocirt/rootfs_mounts.h"

#define OPTS(...) (char *[]){__VA_ARGS__}, sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)

static sbx_oci_mntopts parse(const char *type, char **opts, size_t n)
{
	sbx_oci_mount m = {
	    .destination = "/x", .type = (char *)type, .options = opts, .n_options = n};
	sbx_oci_mntopts o;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(sbx_oci_mntopts_parse(&m, &o, &e), 0);
	return o;
}

static void test_flags(void **state)
{
	(void)state;
	sbx_oci_mntopts o = parse("proc", OPTS("nosuid", "noexec", "nodev"));
	assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
	assert_false(o.bind);
	assert_null(o.data);
	assert_int_equal(o.prop, 0);

	o = parse("sysfs", OPTS("ro", "rw", "nodev", "dev", "relatime", "noatime", "strictatime"));
	assert_int_equal(o.flags, MS_RELATIME | MS_NOATIME | MS_STRICTATIME);
	o = parse("sysfs", OPTS("atime", "norelatime", "nostrictatime", "suid", "exec"));
	assert_int_equal(o.flags, 0);
	o = parse("tmpfs", OPTS("sync", "async", "dirsync", "mand", "nodiratime", "remount"));
	assert_int_equal(o.flags, MS_DIRSYNC | MS_MANDLOCK | MS_NODIRATIME | MS_REMOUNT);
}

static void test_data(void **state)
{
	(void)state;
	sbx_oci_mntopts o = parse("devpts", OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666",
						 "mode=0620", "gid=5"));
	assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC);
	assert_string_equal(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	sbx_oci_mntopts_clear(&o);
	assert_null(o.data);
	/* runc's tmpcopyup is not a mount option: dropped, never passed on. */
	o = parse("tmpfs", OPTS("tmpcopyup", "size=65536k", "defaults"));
	assert_string_equal(o.data, "size=65536k");
	sbx_oci_mntopts_clear(&o);
}

static void test_bind_and_propagation(void **state)
{
	(void)state;
	sbx_oci_mntopts o = parse("bind", OPTS("bind", "rprivate", "nosuid", "noexec", "nodev"));
	assert_true(o.bind);
	assert_int_equal(o.flags, MS_BIND | MS_NOSUID | MS_NOEXEC | MS_NODEV);
	assert_int_equal(o.prop, MS_PRIVATE | MS_REC);
	/* Type "bind" without the option is a bind; rbind is recursive. */
	o = parse("bind", OPTS("ro"));
	assert_true(o.bind);
	assert_int_equal(o.flags, MS_BIND | MS_RDONLY);
	o = parse(NULL, OPTS("rbind", "shared", "rslave"));
	assert_true(o.bind);
	assert_int_equal(o.flags, MS_BIND | MS_REC);
	assert_int_equal(o.prop, MS_SLAVE | MS_REC);
	o = parse("none", OPTS("runbindable"));
	assert_false(o.bind);
	assert_int_equal(o.prop, MS_UNBINDABLE | MS_REC);
	o = parse("none", OPTS("private", "unbindable", "slave", "rshared"));
	assert_int_equal(o.prop, MS_SHARED | MS_REC);
}

static void sysctl_ok(const char *name, const char *want)
{
	char *p = NULL;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(sbx_oci_sysctl_path(name, &p, &e), 0);
	assert_string_equal(p, want);
	free(p);
}

static void sysctl_bad(const char *name)
{
	char *p = NULL;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(sbx_oci_sysctl_path(name, &p, &e), -SBX_E_INVALID);
	assert_null(p);
	assert_non_null(strstr(e.msg, "not a sysctl name"));
}

static void test_sysctl(void **state)
{
	(void)state;
	sysctl_ok("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward");
	sysctl_ok("kernel.shm_rmid_forced", "/proc/sys/kernel/shm_rmid_forced");
	sysctl_bad("");
	sysctl_bad("net/ipv4");
	sysctl_bad("net..ipv4");
	sysctl_bad("..");
	sysctl_bad(".net");
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sysctl_bad(big);
}

static void test_dev_bound(void **state)
{
	(void)state;
	sbx_oci_mount ms[] = {
	    {.destination = "/dev", .type = "tmpfs", .options = OPTS("nosuid")},
	    {.destination = "/dev/pts", .type = "bind", .options = OPTS("bind")},
	};
	sbx_oci_spec s = {.mounts = ms, .n_mounts = 2};
	assert_false(sbx_oci_dev_is_bound(&s));
	sbx_oci_mount bound[] = {
	    {.destination = "//dev/", .type = NULL, .options = OPTS("rbind", "ro")},
	};
	s.mounts = bound, s.n_mounts = 1;
	assert_true(sbx_oci_dev_is_bound(&s));
	sbx_oci_mount typed[] = {{.destination = "/dev", .type = "bind", .options = NULL}};
	s.mounts = typed;
	assert_true(sbx_oci_dev_is_bound(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_data),
	    cmocka_unit_test(test_bind_and_propagation),
	    cmocka_unit_test(test_sysctl),
	    cmocka_unit_test(test_dev_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
