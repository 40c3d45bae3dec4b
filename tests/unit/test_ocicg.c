/* Unit tests: the pure parts of the OCI runtime's cgroups (src/ocirt/
 * cgroups_path.c, cgroups_v2.c's conversions, cgroups_text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocirt/cgroups.h"
#include "ocirt/cgroups_path.h"
#include "ocirt/cgroups_v1.h"
#include "ocirt/cgroups_v2.h"

/* ---- this machine: hybrid, cpu and cpuacct apart, v2 with only hugetlb ---- */
static const char hybrid_mountinfo[] =
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
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
				    "8:pids:/helper-x\n"
				    "7:blkio:/\n"
				    "6:freezer:/\n"
				    "5:devices:/\n"
				    "4:memory:/process_api/4058/helper-x\n"
				    "3:cpuset:/\n"
				    "2:cpuacct:/\n"
				    "1:cpu:/\n"
				    "0::/\n";

static const sbx_oci_cg_hier *find(const sbx_oci_cg_layout *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->h[i].name, name) == 0)
			return &l->h[i];
	return NULL;
}

static void test_layout_hybrid(void **state)
{
	(void)state;
	sbx_oci_cg_layout l;
	sbx_error err = {0};
	assert_int_equal(sbx_oci_cg_layout_parse(hybrid_mountinfo, hybrid_cgroup, &l, &err), 0);
	assert_int_equal(l.n, 10);
	const sbx_oci_cg_hier *h = find(&l, "memory");
	assert_non_null(h);
	assert_int_equal(h->version, 1);
	assert_string_equal(h->base, "/sys/fs/cgroup/memory/process_api/4058/helper-x");
	assert_false(h->base_is_root);
	h = find(&l, "pids");
	assert_string_equal(h->base, "/sys/fs/cgroup/pids/helper-x");
	h = find(&l, "cpu");
	assert_string_equal(h->base, "/sys/fs/cgroup/cpu");
	assert_true(h->base_is_root);
	h = find(&l, "name=systemd");
	assert_string_equal(h->base, "/sys/fs/cgroup/systemd");
	h = find(&l, "");
	assert_int_equal(h->version, 2);
	assert_string_equal(h->base, "/sys/fs/cgroup/unified");
}

/* --cgroup-parent: absolute from each mount point, relative beneath the
 * runtime's own cgroup, checked like cgroupsPath. */
static void test_layout_reparent(void **state)
{
	(void)state;
	sbx_oci_cg_layout *l = malloc(sizeof(*l));
	assert_non_null(l);
	sbx_error err = {0};
	assert_int_equal(sbx_oci_cg_layout_parse(hybrid_mountinfo, hybrid_cgroup, l, &err), 0);
	assert_string_equal(find(l, "memory")->mnt, "/sys/fs/cgroup/memory");
	assert_int_equal(sbx_oci_cg_layout_reparent(l, "/kubepods/burstable", &err), 0);
	assert_string_equal(find(l, "memory")->base, "/sys/fs/cgroup/memory/kubepods/burstable");
	assert_false(find(l, "memory")->base_is_root);
	assert_string_equal(find(l, "")->base, "/sys/fs/cgroup/unified/kubepods/burstable");
	assert_int_equal(sbx_oci_cg_layout_reparent(l, "/", &err), 0);
	assert_string_equal(find(l, "pids")->base, "/sys/fs/cgroup/pids");
	assert_true(find(l, "pids")->base_is_root);
	assert_int_equal(sbx_oci_cg_layout_parse(hybrid_mountinfo, hybrid_cgroup, l, &err), 0);
	assert_int_equal(sbx_oci_cg_layout_reparent(l, "tests/p", &err), 0);
	assert_string_equal(find(l, "memory")->base,
			    "/sys/fs/cgroup/memory/process_api/4058/helper-x/tests/p");
	assert_string_equal(find(l, "cpu")->base, "/sys/fs/cgroup/cpu/tests/p");
	assert_false(find(l, "cpu")->base_is_root);
	static const char *const bad[] = {"", "../x", "/a/../b", "a//b", "/a/./b", "a\nb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = (sbx_error){0};
		assert_int_equal(sbx_oci_cg_layout_reparent(l, bad[i], &err), -SBX_E_INVALID);
		assert_non_null(strstr(err.msg, "--cgroup-parent"));
	}
	free(l);
}

static void test_layout_v1_comounted(void **state)
{
	(void)state;
	static const char mi[] =
	    "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
	    "31 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup "
	    "rw,net_cls,net_prio\n";
	static const char cg[] = "3:cpu,cpuacct:/a/b\n2:net_cls,net_prio:/a\n1:memory:/m\n";
	sbx_oci_cg_layout l;
	assert_int_equal(sbx_oci_cg_layout_parse(mi, cg, &l, NULL), 0);
	assert_int_equal(l.n, 2); /* memory has no mount: skipped */
	assert_string_equal(l.h[0].name, "cpu,cpuacct");
	assert_string_equal(l.h[0].base, "/sys/fs/cgroup/cpu,cpuacct/a/b");
	assert_string_equal(l.h[1].base, "/sys/fs/cgroup/net_cls,net_prio/a");
	assert_true(sbx_oci_cg_v1_has("cpu,cpuacct", "cpu"));
	assert_true(sbx_oci_cg_v1_has("cpu,cpuacct", "cpuacct"));
	assert_false(sbx_oci_cg_v1_has("cpuacct", "cpu"));
	assert_false(sbx_oci_cg_v1_has("cpuset", "cpu"));
}

static void test_layout_pure_v2_and_mount_root(void **state)
{
	(void)state;
	static const char mi[] = "26 24 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	sbx_oci_cg_layout l;
	assert_int_equal(sbx_oci_cg_layout_parse(mi, "0::/user.slice/s.scope\n", &l, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.h[0].base, "/sys/fs/cgroup/user.slice/s.scope");
	/* a mount of a sub-cgroup (as in a container): its root is cut off */
	static const char mi2[] = "26 24 0:24 /kube/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	assert_int_equal(sbx_oci_cg_layout_parse(mi2, "0::/kube/pod1/c\n", &l, NULL), 0);
	assert_string_equal(l.h[0].base, "/sys/fs/cgroup/c");
	/* not beneath the mount's root: skipped, nothing left */
	sbx_error err = {0};
	assert_int_equal(sbx_oci_cg_layout_parse(mi2, "0::/kube/pod10\n", &l, &err), -SBX_E_CGROUP);
	/* a mount outside /sys/fs/cgroup is not used */
	static const char mi3[] = "26 24 0:24 / /mnt/cg rw - cgroup2 cgroup2 rw\n";
	assert_int_equal(sbx_oci_cg_layout_parse(mi3, "0::/\n", &l, NULL), -SBX_E_CGROUP);
	/* escaped mount point */
	static const char mi4[] =
	    "26 24 0:24 / /sys/fs/cgroup/a\\040b rw - cgroup cgroup rw,pids\n";
	assert_int_equal(sbx_oci_cg_layout_parse(mi4, "1:pids:/x\n", &l, NULL), 0);
	assert_string_equal(l.h[0].base, "/sys/fs/cgroup/a b/x");
}

/* In a private mount + cgroup namespace with OWN/H/suite bound over each
 * /sys/fs/cgroup/H (the validation suite's set-up): the host mounts show
 * "/.." roots, the binds "/". */
static void test_layout_cgroupns_binds(void **state)
{
	(void)state;
	static const char mi[] =
	    "47 46 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "48 47 0:28 /.. /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	    "51 47 0:31 /../../../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	    "55 47 0:35 /../.. /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	    "57 47 0:37 /.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	    "64 51 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	    "65 55 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
	static const char cg[] = "8:pids:/\n4:memory:/\n1:cpu:/\n0::/\n";
	sbx_oci_cg_layout l;
	assert_int_equal(sbx_oci_cg_layout_parse(mi, cg, &l, NULL), 0);
	assert_int_equal(l.n, 2); /* cpu and v2: only the "/.." mounts, unreachable */
	assert_string_equal(find(&l, "pids")->base, "/sys/fs/cgroup/pids");
	assert_string_equal(find(&l, "memory")->base, "/sys/fs/cgroup/memory");
	assert_true(find(&l, "memory")->base_is_root);
	/* a later mount over the same point wins over an earlier usable one */
	static const char mi2[] = "31 30 0:28 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
				  "64 31 0:28 /a /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
	assert_int_equal(sbx_oci_cg_layout_parse(mi2, "1:pids:/a/b\n", &l, NULL), 0);
	assert_string_equal(l.h[0].base, "/sys/fs/cgroup/pids/b");
}

static void expect_rel(const char *path, const char *id, bool systemd, const char *want)
{
	char out[SBX_OCI_CG_PATH_CAP + 1];
	sbx_error err = {0};
	int rc = sbx_oci_cg_relpath(path, id, systemd, out, sizeof(out), &err);
	if (rc < 0)
		fail_msg("%s: %s", path ? path : "(null)", err.msg);
	assert_string_equal(out, want);
}

static void expect_rel_refused(const char *path, bool systemd, const char *words)
{
	char out[SBX_OCI_CG_PATH_CAP + 1];
	sbx_error err = {0};
	assert_int_equal(sbx_oci_cg_relpath(path, "id", systemd, out, sizeof(out), &err),
			 -SBX_E_INVALID);
	if (!strstr(err.msg, words))
		fail_msg("'%s': '%s' lacks '%s'", path, err.msg, words);
}

static void test_relpath(void **state)
{
	(void)state;
	expect_rel(NULL, "abc", false, "sbx-oci/abc");
	expect_rel("/testdir/cgrouptest", "x", false, "testdir/cgrouptest");
	expect_rel("testdir/cgrouptest", "x", false, "testdir/cgrouptest");
	expect_rel("/libpod_parent/libpod-0123", "x", false, "libpod_parent/libpod-0123");
	expect_rel("a:b:c", "x", false, "a:b:c"); /* no systemd: a plain name */
	expect_rel_refused("/", false, "no cgroup");
	expect_rel_refused("", false, "no cgroup");
	expect_rel_refused("/a/../b", false, "'..'");
	expect_rel_refused("a/./b", false, "'.'");
	expect_rel_refused("..", false, "'..'");
	expect_rel_refused("a//b", false, "empty");
	expect_rel_refused("a/b/", false, "empty");
	expect_rel_refused("a\nb", false, "control");
	char *big = malloc(SBX_OCI_CG_PATH_CAP + 2);
	memset(big, 'a', SBX_OCI_CG_PATH_CAP + 1);
	big[SBX_OCI_CG_PATH_CAP + 1] = '\0';
	expect_rel_refused(big, false, "longer");
	big[SBX_OCI_CG_PATH_CAP] = '\0'; /* exactly the cap: fine */
	char out[SBX_OCI_CG_PATH_CAP + 1];
	assert_int_equal(sbx_oci_cg_relpath(big, "x", false, out, sizeof(out), NULL), 0);
	assert_int_equal(strlen(out), SBX_OCI_CG_PATH_CAP);
	/* too small an output */
	assert_int_equal(sbx_oci_cg_relpath("/abc/def", "x", false, out, 5, NULL), -SBX_E_INVALID);
	free(big);
	/* the id is checked too */
	assert_int_equal(sbx_oci_cg_relpath(NULL, "..", false, out, sizeof(out), NULL),
			 -SBX_E_INVALID);
	assert_int_equal(sbx_oci_cg_relpath(NULL, "a/b", false, out, sizeof(out), NULL), 0);
}

static void test_relpath_systemd(void **state)
{
	(void)state;
	expect_rel("system.slice:docker:abc", "x", true, "system.slice/docker-abc.scope");
	expect_rel("kubepods-besteffort-pod12.slice:cri-containerd:c1", "x", true,
		   "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/"
		   "cri-containerd-c1.scope");
	expect_rel(":sbx:c1", "x", true, "sbx-c1.scope");
	expect_rel("-.slice:sbx:c1", "x", true, "sbx-c1.scope");
	expect_rel("user.slice::c1", "x", true, "user.slice/c1.scope");
	expect_rel("system.slice:p:my.slice", "x", true, "system.slice/my.slice");
	expect_rel_refused("/a/b", true, "slice:prefix:name");
	expect_rel_refused("a:b:c:d", true, "slice:prefix:name");
	expect_rel_refused("system:p:n", true, "slice");
	expect_rel_refused("a--b.slice:p:n", true, "slice");
	expect_rel_refused("-a.slice:p:n", true, "slice");
	expect_rel_refused("a-.slice:p:n", true, "slice");
	expect_rel_refused("a/b.slice:p:n", true, "slice");
	expect_rel_refused("system.slice:p:", true, "empty");
	expect_rel_refused("system.slice:p/q:n", true, "prefix");
	expect_rel_refused("system.slice:p:..", true, "name");
	expect_rel_refused("system.slice:p:a/b", true, "name");
}

static void test_v2_weight(void **state)
{
	(void)state;
	assert_int_equal(sbx_oci_cg_v2_weight(0), 0);
	assert_int_equal(sbx_oci_cg_v2_weight(2), 1);
	assert_int_equal(sbx_oci_cg_v2_weight(1024), 39); /* 1 + 1022*9999/262142 */
	assert_int_equal(sbx_oci_cg_v2_weight(262144), 10000);
	assert_int_equal(sbx_oci_cg_v2_weight(1), 1);		 /* clamped */
	assert_int_equal(sbx_oci_cg_v2_weight(1u << 30), 10000); /* clamped */
	char s[32];
	assert_int_equal(sbx_oci_cg_v2_swap(100, 300, s, sizeof(s)), 0);
	assert_string_equal(s, "200");
	assert_int_equal(sbx_oci_cg_v2_swap(100, -1, s, sizeof(s)), 0);
	assert_string_equal(s, "max");
	assert_int_equal(sbx_oci_cg_v2_swap(-1, 300, s, sizeof(s)), -1);
	assert_int_equal(sbx_oci_cg_v2_swap(300, 100, s, sizeof(s)), -1);
	assert_int_equal(sbx_oci_cg_v2_parse_list("cpuset cpu io memory hugetlb pids\n"),
			 SBX_OCI_CG_MEMORY | SBX_OCI_CG_CPU | SBX_OCI_CG_CPUSET | SBX_OCI_CG_PIDS);
	assert_int_equal(sbx_oci_cg_v2_parse_list("hugetlb\n"), 0);
	assert_int_equal(sbx_oci_cg_v2_parse_list("cpuacct memoryx"), 0);
	assert_int_equal(
	    sbx_oci_cg_v2_enable_text(SBX_OCI_CG_MEMORY | SBX_OCI_CG_PIDS, s, sizeof(s)), 0);
	assert_string_equal(s, "+memory +pids");
	assert_int_equal(sbx_oci_cg_v2_enable_text(SBX_OCI_CG_MEMORY | SBX_OCI_CG_PIDS, s, 8), -1);
}

static void expect_rule(sbx_oci_devrule r, const char *want)
{
	char s[64];
	assert_int_equal(sbx_oci_cg_devrule(&r, s, sizeof(s)), 0);
	assert_string_equal(s, want);
}

static void test_devrules(void **state)
{
	(void)state;
	expect_rule((sbx_oci_devrule){true, 'c', 1, 3, "rwm"}, "c 1:3 rwm");
	expect_rule((sbx_oci_devrule){false, 'a', -1, -1, "rwm"}, "a *:* rwm");
	expect_rule((sbx_oci_devrule){true, 'b', 8, -1, "r"}, "b 8:* r");
	expect_rule((sbx_oci_devrule){true, 'c', -1, 7, "wm"}, "c *:7 wm");
	char s[64];
	sbx_oci_devrule bad = {true, 'x', 1, 3, "rwm"};
	assert_int_equal(sbx_oci_cg_devrule(&bad, s, sizeof(s)), -1);
	sbx_oci_devrule bad2 = {true, 'c', 1, 3, "rwx"};
	assert_int_equal(sbx_oci_cg_devrule(&bad2, s, sizeof(s)), -1);
	sbx_oci_devrule bad3 = {true, 'c', 1, 3, ""};
	assert_int_equal(sbx_oci_cg_devrule(&bad3, s, sizeof(s)), -1);
	sbx_oci_devrule ok = {true, 'c', 1, 3, "rwm"};
	assert_int_equal(sbx_oci_cg_devrule(&ok, s, 5), -1);

	sbx_oci_devrule podman[] = {
	    {false, 'a', -1, -1, "rwm"},
	    {true, 'c', 1, 3, "rwm"},
	    {true, 'c', 5, 0, "rwm"},
	};
	assert_true(sbx_oci_cg_devices_allow_all(NULL, 0));
	assert_false(sbx_oci_cg_devices_allow_all(podman, 3));
	sbx_oci_devrule all[] = {{false, 'a', -1, -1, "rwm"}, {true, 'a', -1, -1, "rwm"}};
	assert_true(sbx_oci_cg_devices_allow_all(all, 2));
	assert_false(sbx_oci_cg_devices_allow_all(all, 1));
	sbx_oci_devrule later[] = {{true, 'a', -1, -1, "rwm"}, {false, 'c', 1, 3, "rwm"}};
	assert_false(sbx_oci_cg_devices_allow_all(later, 2));
	sbx_oci_devrule no_a[] = {{true, 'c', 1, 3, "rwm"}};
	assert_false(sbx_oci_cg_devices_allow_all(no_a, 1));
}

static sbx_oci_resources none(void)
{
	return (sbx_oci_resources){.mem_limit = -1,
				   .mem_reservation = -1,
				   .mem_swap = -1,
				   .mem_kernel = -1,
				   .mem_kernel_tcp = -1,
				   .mem_swappiness = -1,
				   .cpu_quota = -1,
				   .cpu_rt_runtime = -1};
}

static void check_res(sbx_oci_resources r, bool cpu_v2, bool dev_v2, const char *words)
{
	sbx_error err = {0};
	int rc = sbx_oci_cg_check(&r, cpu_v2, dev_v2, &err);
	if (!words) {
		if (rc != 0)
			fail_msg("refused: %s", err.msg);
		return;
	}
	assert_int_equal(rc, -SBX_E_INVALID);
	if (!strstr(err.msg, words))
		fail_msg("'%s' lacks '%s'", err.msg, words);
}

static void test_check(void **state)
{
	(void)state;
	sbx_oci_resources r = none();
	check_res(r, true, true, NULL);
	assert_int_equal(sbx_oci_cg_wanted(&r), 0);
	r.has_blkio = true;
	check_res(r, false, false, "linux.resources.blockIO is not supported");
	r = none();
	r.has_hugetlb = true;
	check_res(r, false, false, "hugepageLimits is not supported");
	r = none();
	r.has_network = true;
	check_res(r, false, false, "network is not supported");
	r = none();
	r.has_rdma = true;
	check_res(r, false, false, "rdma is not supported");
	r = none();
	r.has_unified = true;
	check_res(r, false, false, "unified is not supported");
	r = none();
	r.mem_swappiness = 101;
	check_res(r, false, false, "swappiness");
	r = none();
	r.cpu_rt_runtime = 1000;
	check_res(r, false, false, NULL);
	check_res(r, true, false, "realtime");
	sbx_oci_devrule podman[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}};
	r = none();
	r.devices = podman;
	r.n_devices = 2;
	check_res(r, false, false, NULL);
	check_res(r, false, true, "BPF");
	sbx_oci_devrule bad[] = {{true, 'c', 1, 3, "rwz"}};
	r.devices = bad;
	r.n_devices = 1;
	check_res(r, false, false, "devices[0]");
	r = none();
	r.mem_limit = 1 << 20;
	r.has_pids_limit = true;
	assert_int_equal(sbx_oci_cg_wanted(&r), SBX_OCI_CG_MEMORY | SBX_OCI_CG_PIDS);
	r = none();
	r.cpus = "0-1";
	r.cpu_shares = 100;
	assert_int_equal(sbx_oci_cg_wanted(&r), SBX_OCI_CG_CPU | SBX_OCI_CG_CPUSET);
}

static void test_text_round_trip(void **state)
{
	(void)state;
	sbx_oci_cg cg = {0};
	cg.n = 3;
	cg.dir[0] = (typeof(cg.dir[0])){1, "cpu,cpuacct", 2, "/sys/fs/cgroup/cpu,cpuacct/o/a/b"};
	cg.dir[1] = (typeof(cg.dir[1])){1, "name=systemd", 1, "/sys/fs/cgroup/systemd/x y"};
	cg.dir[2] = (typeof(cg.dir[2])){2, "", 2, "/sys/fs/cgroup/sbx-oci/c1"};
	sbx_buf b = {0};
	assert_int_equal(sbx_oci_cg_to_text(&cg, &b), 0);
	assert_string_equal(b.data, "1 cpu,cpuacct 2 /sys/fs/cgroup/cpu,cpuacct/o/a/b\n"
				    "1 name=systemd 1 /sys/fs/cgroup/systemd/x y\n"
				    "2 - 2 /sys/fs/cgroup/sbx-oci/c1\n");
	sbx_oci_cg back;
	sbx_error err = {0};
	assert_int_equal(sbx_oci_cg_from_text(b.data, &back, &err), 0);
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back.dir[i].version, cg.dir[i].version);
		assert_string_equal(back.dir[i].name, cg.dir[i].name);
		assert_int_equal(back.dir[i].made, cg.dir[i].made);
		assert_string_equal(back.dir[i].path, cg.dir[i].path);
	}
	sbx_buf_free(&b);
	assert_int_equal(sbx_oci_cg_from_text("", &back, NULL), 0);
	assert_int_equal(back.n, 0);
}

static void expect_text_refused(const char *text)
{
	sbx_oci_cg cg;
	sbx_error err = {0};
	if (sbx_oci_cg_from_text(text, &cg, &err) != -SBX_E_INVALID)
		fail_msg("accepted: %s", text);
	assert_int_equal(cg.n, 0);
}

static void test_text_refusals(void **state)
{
	(void)state;
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory/x"); /* no newline */
	expect_text_refused("3 memory 1 /sys/fs/cgroup/memory/x\n");
	expect_text_refused("1 memory 1 /tmp/x\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroupx/memory/x\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory/../../etc\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory/./x\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory//x\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory/x/\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroup/\n");
	expect_text_refused("1 memory 0 /sys/fs/cgroup/memory/x\n");
	expect_text_refused("1 memory 3 /sys/fs/cgroup/memory/x\n"); /* made > components */
	expect_text_refused("1 memory x /sys/fs/cgroup/memory/x\n");
	expect_text_refused("1 memory 99999 /sys/fs/cgroup/memory/x\n");
	expect_text_refused("1 Memory 1 /sys/fs/cgroup/memory/x\n");
	expect_text_refused("1 mem/ory 1 /sys/fs/cgroup/memory/x\n");
	expect_text_refused("2 memory 1 /sys/fs/cgroup/x\n");
	expect_text_refused("1 - 1 /sys/fs/cgroup/x\n");
	expect_text_refused("1 memory 1\n");
	expect_text_refused("1  1 /sys/fs/cgroup/x\n");
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory/a\tb\n");
	/* a good line then a bad one: nothing kept */
	expect_text_refused("1 memory 1 /sys/fs/cgroup/memory/x\n1 pids 1 /etc\n");
	/* more than SBX_OCI_CG_MAX lines */
	sbx_buf b = {0};
	for (int i = 0; i <= SBX_OCI_CG_MAX; i++)
		sbx_buf_printf(&b, "1 pids 1 /sys/fs/cgroup/pids/c%d\n", i);
	expect_text_refused(b.data);
	sbx_buf_free(&b);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_hybrid),
		cmocka_unit_test(test_layout_reparent),
		cmocka_unit_test(test_layout_v1_comounted),
		cmocka_unit_test(test_layout_pure_v2_and_mount_root),
		cmocka_unit_test(test_layout_cgroupns_binds),
		cmocka_unit_test(test_relpath),
		cmocka_unit_test(test_relpath_systemd),
		cmocka_unit_test(test_v2_weight),
		cmocka_unit_test(test_devrules),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_text_refusals),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
