/* Unit tests: src/core/cgroup_host.c, where memory, cpu and pids are, from
 * the texts of /proc/self/mountinfo, /proc/self/cgroup and the v2 root's
 * cgroup.controllers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/cgroup_host.h"

/* ---- this machine: a hybrid host ------------------------------------------
 * Captured with cat here: memory, cpu and pids on v1, cgroup2 at
 * /sys/fs/cgroup/unified with only hugetlb. */
static const char hybrid_mountinfo[] =
    "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
    "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n"
    "23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs "
    "rw,size=12334416k,nr_inodes=3083604,mode=755\n"
    "24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683620k\n"
    "25 23 0:23 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda "
    "rw,discard,resv_strict,resuid=65534,resgid=65534\n"
    "27 26 0:24 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs "
    "model_tools_unavailable ro,size=4k,mode=755\n"
    "28 25 0:25 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "29 24 0:26 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683620k\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_cgroup[] = "9:name=systemd:/\n"
				    "8:pids:/\n"
				    "7:blkio:/\n"
				    "6:freezer:/\n"
				    "5:devices:/\n"
				    "4:memory:/process_api/40587c3499a0655e94551215b46b28ef\n"
				    "3:cpuset:/\n"
				    "2:cpuacct:/\n"
				    "1:cpu:/\n"
				    "0::/\n";

static const char hybrid_controllers[] = "hugetlb\n";

/* ---- a pure v2 host (systemd, unified hierarchy) ----------------------------- */
static const char v2_mountinfo[] =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
    "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "27 24 0:25 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore "
    "rw\n";

static const char v2_cgroup[] = "0::/user.slice/user-1000.slice/session-2.scope\n";

static const char v2_controllers[] = "cpuset cpu io memory hugetlb pids rdma misc\n";

/* ---- a pure v1 host (older systemd, cpu and cpuacct co-mounted) --------------- */
static const char v1_mountinfo[] =
    "18 24 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
    "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup "
    "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:25 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,cpuset\n"
    "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup "
    "cgroup rw,memory\n"
    "32 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,pids\n";

static const char v1_cgroup[] = "11:pids:/user.slice/user-1000.slice/session-1.scope\n"
				"7:memory:/user.slice\n"
				"4:cpu,cpuacct:/user.slice\n"
				"3:cpuset:/\n"
				"1:name=systemd:/user.slice/user-1000.slice/session-1.scope\n";

/* ---- helpers ------------------------------------------------------------------ */

static void ctrl_is(const sbx_cg_host *h, int c, int version, const char *mount, const char *own)
{
	static const char *const names[] = {"memory", "cpu", "pids"};
	if (h->version[c] != version)
		fail_msg("%s: version %d, want %d (mount %s)", names[c], h->version[c], version,
			 h->mount[c]);
	if (!version) {
		assert_string_equal(h->mount[c], "");
		assert_string_equal(h->own[c], "");
		return;
	}
	if (strcmp(h->mount[c], mount) != 0)
		fail_msg("%s: mount %s, want %s", names[c], h->mount[c], mount);
	if (strcmp(h->own[c], own) != 0)
		fail_msg("%s: own %s, want %s", names[c], h->own[c], own);
}

static void v2_mount_is(const char *mountinfo, const char *want)
{
	char out[256];
	memset(out, 'X', sizeof(out));
	int r = sbx_cg_v2_mount(mountinfo, out, sizeof(out));
	if (!want) {
		assert_int_equal(r, -1);
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(out, want);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_hybrid_this_machine(void **state)
{
	(void)state;
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(hybrid_mountinfo, hybrid_cgroup, hybrid_controllers, &h),
			 3);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/sys/fs/cgroup/memory",
		"/process_api/40587c3499a0655e94551215b46b28ef");
	ctrl_is(&h, SBX_CG_CPU, 1, "/sys/fs/cgroup/cpu", "/");
	ctrl_is(&h, SBX_CG_PIDS, 1, "/sys/fs/cgroup/pids", "/");
	v2_mount_is(hybrid_mountinfo, "/sys/fs/cgroup/unified");
}

/* v1 wins over v2 for a controller both offer. */
static void test_hybrid_v1_before_v2(void **state)
{
	(void)state;
	sbx_cg_host h;
	assert_int_equal(
	    sbx_cg_host_parse(hybrid_mountinfo, hybrid_cgroup, "memory cpu pids hugetlb\n", &h), 3);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/sys/fs/cgroup/memory",
		"/process_api/40587c3499a0655e94551215b46b28ef");
	ctrl_is(&h, SBX_CG_PIDS, 1, "/sys/fs/cgroup/pids", "/");
}

/* A hybrid host whose pids controller went to the unified hierarchy. */
static void test_hybrid_pids_on_v2(void **state)
{
	(void)state;
	char mi[sizeof(hybrid_mountinfo)];
	snprintf(mi, sizeof(mi), "%s", hybrid_mountinfo);
	char *pids = strstr(mi, "38 30 0:35");
	assert_non_null(pids);
	char *nl = strchr(pids, '\n');
	memmove(pids, nl + 1, strlen(nl + 1) + 1); /* no v1 pids mount */
	sbx_cg_host h;
	assert_int_equal(
	    sbx_cg_host_parse(mi, "4:memory:/m\n1:cpu:/c\n0::/u/v\n", "hugetlb pids\n", &h), 3);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/sys/fs/cgroup/memory", "/m");
	ctrl_is(&h, SBX_CG_CPU, 1, "/sys/fs/cgroup/cpu", "/c");
	ctrl_is(&h, SBX_CG_PIDS, 2, "/sys/fs/cgroup/unified", "/u/v");
	/* The same without pids among the v2 controllers: unavailable. */
	assert_int_equal(
	    sbx_cg_host_parse(mi, "4:memory:/m\n1:cpu:/c\n0::/u/v\n", hybrid_controllers, &h), 2);
	ctrl_is(&h, SBX_CG_PIDS, 0, NULL, NULL);
}

static void test_pure_v2(void **state)
{
	(void)state;
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, v2_cgroup, v2_controllers, &h), 3);
	const char *own = "/user.slice/user-1000.slice/session-2.scope";
	ctrl_is(&h, SBX_CG_MEMORY, 2, "/sys/fs/cgroup", own);
	ctrl_is(&h, SBX_CG_CPU, 2, "/sys/fs/cgroup", own);
	ctrl_is(&h, SBX_CG_PIDS, 2, "/sys/fs/cgroup", own);
	v2_mount_is(v2_mountinfo, "/sys/fs/cgroup");
}

static void test_pure_v2_some_controllers(void **state)
{
	(void)state;
	sbx_cg_host h;
	/* "cpuset" and "misc" are not "cpu"; the last word has no newline. */
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, v2_cgroup, "cpuset io misc memory", &h),
			 1);
	ctrl_is(&h, SBX_CG_MEMORY, 2, "/sys/fs/cgroup",
		"/user.slice/user-1000.slice/session-2.scope");
	ctrl_is(&h, SBX_CG_CPU, 0, NULL, NULL);
	ctrl_is(&h, SBX_CG_PIDS, 0, NULL, NULL);
	/* Unknown controllers (the file could not be read): none. */
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, v2_cgroup, NULL, &h), 0);
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, v2_cgroup, "", &h), 0);
}

/* No "0::" line (e.g. /proc/self/cgroup unreadable): the root. */
static void test_pure_v2_no_own_line(void **state)
{
	(void)state;
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, "", v2_controllers, &h), 3);
	ctrl_is(&h, SBX_CG_CPU, 2, "/sys/fs/cgroup", "/");
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, NULL, v2_controllers, &h), 3);
	ctrl_is(&h, SBX_CG_PIDS, 2, "/sys/fs/cgroup", "/");
	/* A path may hold ':' (only the first two separate fields). */
	assert_int_equal(sbx_cg_host_parse(v2_mountinfo, "0::/a:b/c\n", v2_controllers, &h), 3);
	ctrl_is(&h, SBX_CG_MEMORY, 2, "/sys/fs/cgroup", "/a:b/c");
}

static void test_pure_v1_cpu_cpuacct(void **state)
{
	(void)state;
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(v1_mountinfo, v1_cgroup, NULL, &h), 3);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/sys/fs/cgroup/memory", "/user.slice");
	ctrl_is(&h, SBX_CG_CPU, 1, "/sys/fs/cgroup/cpu,cpuacct", "/user.slice");
	ctrl_is(&h, SBX_CG_PIDS, 1, "/sys/fs/cgroup/pids",
		"/user.slice/user-1000.slice/session-1.scope");
	v2_mount_is(v1_mountinfo, NULL);
}

/* cpuacct and cpuset alone are not cpu, in either file. */
static void test_cpu_words_whole(void **state)
{
	(void)state;
	static const char mi[] = "1 0 0:1 / /cg/cpuacct rw - cgroup cgroup rw,cpuacct\n"
				 "2 0 0:2 / /cg/cpuset rw - cgroup cgroup rw,cpuset\n"
				 "3 0 0:3 / /cg/cpux rw - cgroup cgroup rw,cpux,xcpu\n";
	sbx_cg_host h;
	assert_int_equal(
	    sbx_cg_host_parse(mi, "1:cpuacct:/a\n2:cpuset:/b\n3:cpux,xcpu:/c\n", NULL, &h), 0);
	ctrl_is(&h, SBX_CG_CPU, 0, NULL, NULL);
	/* With a cpu,cpuacct mount after them, that one is found. */
	static const char mi2[] = "1 0 0:1 / /cg/cpuacct rw - cgroup cgroup rw,cpuacct\n"
				  "2 0 0:2 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu\n";
	assert_int_equal(sbx_cg_host_parse(mi2, "1:cpuacct:/a\n2:cpuacct,cpu:/d\n", NULL, &h), 1);
	ctrl_is(&h, SBX_CG_CPU, 1, "/cg/cpu,cpuacct", "/d");
}

static void test_controller_missing(void **state)
{
	(void)state;
	/* No pids mount at all. */
	static const char mi[] = "1 0 0:1 / /cg/memory rw - cgroup cgroup rw,memory\n"
				 "2 0 0:2 / /cg/cpu rw - cgroup cgroup rw,cpu\n";
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(mi, "2:cpu:/\n1:memory:/\n3:pids:/p\n", NULL, &h), 2);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/cg/memory", "/");
	ctrl_is(&h, SBX_CG_CPU, 1, "/cg/cpu", "/");
	ctrl_is(&h, SBX_CG_PIDS, 0, NULL, NULL);
	/* Mounted, but not in our /proc/self/cgroup: not usable. */
	assert_int_equal(sbx_cg_host_parse(mi, "2:cpu:/\n", NULL, &h), 1);
	ctrl_is(&h, SBX_CG_MEMORY, 0, NULL, NULL);
	ctrl_is(&h, SBX_CG_CPU, 1, "/cg/cpu", "/");
	/* Nothing mounted. */
	assert_int_equal(sbx_cg_host_parse("", "", NULL, &h), 0);
	assert_int_equal(sbx_cg_host_parse(NULL, NULL, NULL, &h), 0);
	for (int c = 0; c < SBX_CG_N; c++)
		ctrl_is(&h, c, 0, NULL, NULL);
}

/* Mount points with spaces (and other escaped bytes) in them. */
static void test_escaped_paths(void **state)
{
	(void)state;
	static const char mi[] =
	    "1 0 0:1 / /sys/fs/my\\040cgroups/memory rw - cgroup cgroup rw,memory\n"
	    "2 0 0:2 / /cg/tab\\011and\\134backslash rw - cgroup cgroup rw,cpu\n"
	    "3 0 0:3 / /cg/not\\9an\\04escape\\ rw - cgroup cgroup rw,pids\n"
	    "4 0 0:4 / /run/v2\\040root rw - cgroup2 cgroup2 rw\n";
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(mi, "1:memory:/a b\n2:cpu:/\n3:pids:/\n", NULL, &h), 3);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/sys/fs/my cgroups/memory", "/a b");
	ctrl_is(&h, SBX_CG_CPU, 1, "/cg/tab\tand\\backslash", "/");
	ctrl_is(&h, SBX_CG_PIDS, 1, "/cg/not\\9an\\04escape\\", "/");
	v2_mount_is(mi, "/run/v2 root");
	/* On v2 too. */
	static const char mi2[] = "4 0 0:4 / /run/v2\\040root rw - cgroup2 cgroup2 rw\n";
	assert_int_equal(sbx_cg_host_parse(mi2, "0::/\n", "memory\n", &h), 1);
	ctrl_is(&h, SBX_CG_MEMORY, 2, "/run/v2 root", "/");
}

/* A named v1 hierarchy (no controller) is no controller's, even if named
 * after one. */
static void test_named_hierarchy(void **state)
{
	(void)state;
	static const char mi[] = "1 0 0:1 / /cg/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
				 "2 0 0:2 / /cg/fake rw - cgroup cgroup rw,name=memory\n"
				 "3 0 0:3 / /cg/memory rw - cgroup cgroup rw,memory\n";
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(mi, "1:name=systemd:/s\n2:name=memory:/f\n", NULL, &h),
			 0);
	ctrl_is(&h, SBX_CG_MEMORY, 0, NULL, NULL);
	assert_int_equal(
	    sbx_cg_host_parse(mi, "1:name=systemd:/s\n2:name=memory:/f\n3:memory:/m\n", NULL, &h),
	    1);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/cg/memory", "/m");
}

/* Only a hierarchy's root counts (a bind mount of a sub-cgroup, as in a
 * container, does not); the first mount of it wins. */
static void test_root_and_first_mount(void **state)
{
	(void)state;
	static const char mi[] = "1 0 0:1 /sub /cg/memsub rw - cgroup cgroup rw,memory\n"
				 "2 0 0:1 / /cg/memory rw - cgroup cgroup rw,memory\n"
				 "3 0 0:1 / /cg/memory-again rw - cgroup cgroup rw,memory\n"
				 "4 0 0:4 / /v2/first rw - cgroup2 cgroup2 rw\n"
				 "5 0 0:4 / /v2/second rw - cgroup2 cgroup2 rw\n";
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(mi, "1:memory:/m\n0::/x\n", "cpu\n", &h), 2);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/cg/memory", "/m");
	ctrl_is(&h, SBX_CG_CPU, 2, "/v2/first", "/x");
	v2_mount_is(mi, "/v2/first");
}

/* Optional fields before the separator; lines that do not parse. */
static void test_odd_lines(void **state)
{
	(void)state;
	static const char mi[] =
	    "garbage\n"
	    "\n"
	    "1 0 0:1 / /cg/nodash rw cgroup cgroup rw,memory\n"
	    "2 0 0:2 / /cg/short rw - cgroup\n"
	    "3 0 0:3 / /cg/memory rw shared:7 master:3 propagate_from:2 - cgroup cgroup "
	    "rw,memory\n"
	    "4 0 0:4 / /cg/cpu rw - cgroup cgroup rw,cpu"; /* no final newline */
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(mi, "1:memory:/m\n2:cpu:/c", NULL, &h), 2);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/cg/memory", "/m");
	ctrl_is(&h, SBX_CG_CPU, 1, "/cg/cpu", "/c");
	/* A /proc/self/cgroup line without two colons is skipped. */
	assert_int_equal(sbx_cg_host_parse(mi, "memory:/m\n1:memory:/n\n", NULL, &h), 1);
	ctrl_is(&h, SBX_CG_MEMORY, 1, "/cg/memory", "/n");
}

static void test_too_long(void **state)
{
	(void)state;
	size_t n = PATH_MAX + 64;
	char *mi = malloc(n + 128), *own = malloc(n + 32);
	assert_non_null(mi);
	assert_non_null(own);
	char *path = malloc(n);
	assert_non_null(path);
	memset(path, 'a', n - 1);
	path[0] = '/';
	path[n - 1] = '\0';
	snprintf(mi, n + 128, "1 0 0:1 / %s rw - cgroup cgroup rw,memory\n", path);
	sbx_cg_host h;
	assert_int_equal(sbx_cg_host_parse(mi, "1:memory:/\n", NULL, &h), 0);
	ctrl_is(&h, SBX_CG_MEMORY, 0, NULL, NULL);
	snprintf(mi, n + 128, "1 0 0:1 / %s rw - cgroup2 cgroup2 rw\n", path);
	v2_mount_is(mi, NULL);
	char small[8];
	assert_int_equal(sbx_cg_v2_mount(v2_mountinfo, small, sizeof(small)), -1);
	/* Our own path too long. */
	snprintf(own, n + 32, "1:memory:%s\n", path);
	assert_int_equal(
	    sbx_cg_host_parse("1 0 0:1 / /m rw - cgroup cgroup rw,memory\n", own, NULL, &h), 0);
	free(path);
	free(own);
	free(mi);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hybrid_this_machine),
		cmocka_unit_test(test_hybrid_v1_before_v2),
		cmocka_unit_test(test_hybrid_pids_on_v2),
		cmocka_unit_test(test_pure_v2),
		cmocka_unit_test(test_pure_v2_some_controllers),
		cmocka_unit_test(test_pure_v2_no_own_line),
		cmocka_unit_test(test_pure_v1_cpu_cpuacct),
		cmocka_unit_test(test_cpu_words_whole),
		cmocka_unit_test(test_controller_missing),
		cmocka_unit_test(test_escaped_paths),
		cmocka_unit_test(test_named_hierarchy),
		cmocka_unit_test(test_root_and_first_mount),
		cmocka_unit_test(test_odd_lines),
		cmocka_unit_test(test_too_long),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
