/* Unit tests: src/ocirt/spec*.c (config.json of an OCI bundle: the real
 * configs of podman and containerd, every error path, mutated inputs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/buf.h"
#include "base/util.h"
#include "proto/json.h"
#include "proto/jsonparse.h"
#include "ocirt/spec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CAP(n) (UINT64_C(1) << (n))

/* The file next to this source (tests/unit/data/oci/NAME), read whole. */
static char *read_data(const char *name, size_t *len)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dl = slash ? (int)(slash - __FILE__) : 1;
	snprintf(path, sizeof(path), "%.*s/data/oci/%s", dl, slash ? __FILE__ : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static sbx_oci_spec *parse_ok(const char *json, size_t len)
{
	sbx_oci_spec *s = NULL;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	if (sbx_oci_spec_parse(json, len, &s, &e) != 0)
		fail_msg("refused: %s\n%.300s", e.msg, json);
	assert_non_null(s);
	return s;
}

static sbx_oci_spec *ok(const char *json)
{
	return parse_ok(json, strlen(json));
}

/* Refused with exactly this one-line message (or containing it when
 * want starts with '~'). */
static void bad(const char *json, const char *want)
{
	sbx_oci_spec *s = (sbx_oci_spec *)0x1;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	int r = sbx_oci_spec_parse(json, strlen(json), &s, &e);
	if (r == 0) {
		sbx_oci_spec_free(s);
		fail_msg("accepted: %s", json);
	}
	assert_int_equal(r, -SBX_E_INVALID);
	assert_int_equal(e.code, SBX_E_INVALID);
	assert_null(s);
	assert_null(strchr(e.msg, '\n'));
	if (want[0] == '~' ? !strstr(e.msg, want + 1) : strcmp(e.msg, want) != 0)
		fail_msg("%s\n  message '%s'\n  wanted  '%s'", json, e.msg, want);
}

static bool strv_eq(char **v, size_t n, const char *const *want, size_t nwant)
{
	if (n != nwant || !v || v[n])
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], want[i]))
			return false;
	return true;
}
#define assert_strv(v, n, ...)                                                                     \
	do {                                                                                       \
		static const char *const w_[] = {__VA_ARGS__};                                     \
		assert_true(strv_eq(v, n, w_, N(w_)));                                             \
	} while (0)

static void assert_mount(const sbx_oci_mount *m, const char *dst, const char *type, const char *src)
{
	assert_string_equal(m->destination, dst);
	assert_string_equal(m->type, type);
	assert_string_equal(m->source, src);
}

static sbx_oci_sc_rule *find_rule(sbx_oci_seccomp *sc, const char *name, size_t nth)
{
	for (size_t i = 0; i < sc->n_rules; i++)
		for (size_t k = 0; k < sc->rules[i].n_names; k++)
			if (!strcmp(sc->rules[i].names[k], name) && nth-- == 0)
				return &sc->rules[i];
	return NULL;
}

static void test_podman(void **state)
{
	(void)state;
	size_t len;
	_cleanup_free_ char *json = read_data("config-podman.json", &len);
	_cleanup_spec_ sbx_oci_spec *s = parse_ok(json, len);
	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_string_equal(
	    s->root_path,
	    "/var/lib/containers/storage/overlay/"
	    "e5867bb03b9bf8b862d3f4310648a4a2b40794784b11ad93b030a0099f247ffd/merged");
	assert_false(s->root_readonly);
	assert_string_equal(s->hostname, "06f35e2a01fa");
	assert_null(s->domainname);
	/* process */
	assert_true(s->has_process);
	sbx_oci_process *p = &s->process;
	assert_false(p->terminal);
	assert_int_equal(p->uid, 0);
	assert_int_equal(p->gid, 0);
	assert_true(p->has_umask);
	assert_int_equal(p->umask, 022);
	assert_int_equal(p->n_additional_gids, 0);
	assert_null(p->additional_gids);
	assert_strv(p->args, p->n_args, "python3", "-c", "print(42)");
	assert_strv(p->env, p->n_env,
		    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		    "TERM=xterm", "container=podman", "HOME=/root", "HOSTNAME=06f35e2a01fa");
	assert_string_equal(p->cwd, "/");
	assert_true(p->has_caps);
	uint64_t caps = CAP(0) | CAP(1) | CAP(3) | CAP(4) | CAP(5) | CAP(10) | CAP(31) | CAP(6) |
			CAP(8) | CAP(7) | CAP(18);
	assert_int_equal(p->caps[SBX_OCI_CAP_BOUNDING], caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_EFFECTIVE], caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_PERMITTED], caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_INHERITABLE], 0);
	assert_int_equal(p->caps[SBX_OCI_CAP_AMBIENT], 0);
	assert_false(p->no_new_privileges);
	assert_int_equal(p->n_rlimits, 2);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 1024);
	assert_int_equal(p->rlimits[1].resource, RLIMIT_NPROC);
	assert_int_equal(p->rlimits[1].soft, 1024);
	assert_int_equal(p->rlimits[1].hard, 1024);
	assert_false(p->has_oom_score_adj);
	assert_null(p->apparmor_profile);
	assert_null(p->selinux_label);
	/* mounts */
	assert_int_equal(s->n_mounts, 10);
	assert_mount(&s->mounts[0], "/proc", "proc", "proc");
	assert_strv(s->mounts[0].options, s->mounts[0].n_options, "nosuid", "noexec", "nodev");
	assert_mount(&s->mounts[1], "/dev", "tmpfs", "tmpfs");
	assert_strv(s->mounts[1].options, s->mounts[1].n_options, "nosuid", "noexec", "strictatime",
		    "mode=755", "size=65536k");
	assert_mount(&s->mounts[2], "/sys", "sysfs", "sysfs");
	assert_strv(s->mounts[2].options, s->mounts[2].n_options, "nosuid", "noexec", "nodev",
		    "ro");
	assert_mount(&s->mounts[3], "/dev/pts", "devpts", "devpts");
	assert_strv(s->mounts[3].options, s->mounts[3].n_options, "nosuid", "noexec", "newinstance",
		    "ptmxmode=0666", "mode=0620", "gid=5");
	assert_mount(&s->mounts[4], "/dev/mqueue", "mqueue", "mqueue");
	assert_mount(
	    &s->mounts[5], "/etc/hosts", "bind",
	    "/run/containers/storage/overlay-containers/"
	    "06f35e2a01fa4e0e434f8dc0bc3b8d96e6c63a779746602e7720dce48f9f3b3f/userdata/hosts");
	assert_strv(s->mounts[5].options, s->mounts[5].n_options, "bind", "rprivate");
	assert_mount(
	    &s->mounts[6], "/dev/shm", "bind",
	    "/var/lib/containers/storage/overlay-containers/"
	    "06f35e2a01fa4e0e434f8dc0bc3b8d96e6c63a779746602e7720dce48f9f3b3f/userdata/shm");
	assert_strv(s->mounts[6].options, s->mounts[6].n_options, "bind", "rprivate", "nosuid",
		    "noexec", "nodev");
	assert_string_equal(s->mounts[7].destination, "/run/.containerenv");
	assert_string_equal(s->mounts[8].destination, "/etc/hostname");
	assert_mount(&s->mounts[9], "/sys/fs/cgroup", "cgroup", "cgroup");
	assert_strv(s->mounts[9].options, s->mounts[9].n_options, "rprivate", "nosuid", "noexec",
		    "nodev", "relatime", "ro");
	/* no hooks */
	for (int k = 0; k < SBX_OCI_HOOK_NKINDS; k++) {
		assert_null(s->hooks[k]);
		assert_int_equal(s->n_hooks[k], 0);
	}
	/* annotations, in order */
	assert_int_equal(s->n_annotations, 8);
	assert_string_equal(s->annotations[0].key, "io.container.manager");
	assert_string_equal(s->annotations[0].value, "libpod");
	assert_string_equal(s->annotations[1].key, "io.kubernetes.cri-o.Created");
	assert_string_equal(s->annotations[1].value, "2026-11-30T06:27:58.977335717Z");
	assert_string_equal(s->annotations[7].key, "org.opencontainers.image.stopSignal");
	assert_string_equal(s->annotations[7].value, "15");
	/* linux */
	assert_int_equal(s->n_sysctl, 1);
	assert_string_equal(s->sysctl[0].key, "net.ipv4.ping_group_range");
	assert_string_equal(s->sysctl[0].value, "0 0");
	assert_true(s->has_resources);
	sbx_oci_resources *res = &s->resources;
	assert_int_equal(res->n_devices, 1);
	assert_false(res->devices[0].allow);
	assert_int_equal(res->devices[0].type, 'a');
	assert_int_equal(res->devices[0].major, -1);
	assert_int_equal(res->devices[0].minor, -1);
	assert_string_equal(res->devices[0].access, "rwm");
	assert_true(res->has_pids_limit);
	assert_int_equal(res->pids_limit, 2048);
	assert_int_equal(res->mem_limit, -1);
	assert_int_equal(res->mem_reservation, -1);
	assert_int_equal(res->mem_swap, -1);
	assert_int_equal(res->mem_kernel, -1);
	assert_int_equal(res->mem_kernel_tcp, -1);
	assert_int_equal(res->mem_swappiness, -1);
	assert_false(res->has_disable_oom_killer);
	assert_int_equal(res->cpu_shares, 0);
	assert_int_equal(res->cpu_quota, -1);
	assert_int_equal(res->cpu_period, 0);
	assert_int_equal(res->cpu_rt_runtime, -1);
	assert_int_equal(res->cpu_rt_period, 0);
	assert_null(res->cpus);
	assert_null(res->mems);
	assert_false(res->has_blkio || res->has_hugetlb || res->has_network || res->has_rdma ||
		     res->has_unified);
	assert_string_equal(s->cgroups_path,
			    "/libpod_parent/libpod-06f35e2a01fa4e0e434f8dc0bc3b8d96e6c"
			    "63a779746602e7720dce48f9f3b3f");
	assert_int_equal(s->n_namespaces, 5);
	static const int kinds[] = {CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS,
				    CLONE_NEWNS};
	for (size_t i = 0; i < N(kinds); i++) {
		assert_int_equal(s->namespaces[i].kind, kinds[i]);
		assert_null(s->namespaces[i].path);
		assert_ptr_equal(sbx_oci_spec_ns(s, kinds[i]), &s->namespaces[i]);
	}
	assert_null(sbx_oci_spec_ns(s, CLONE_NEWUSER));
	assert_null(sbx_oci_spec_ns(s, CLONE_NEWCGROUP));
	assert_int_equal(s->n_uid_mappings + s->n_gid_mappings, 0);
	assert_int_equal(s->n_devices, 0);
	assert_strv(s->masked_paths, s->n_masked_paths, "/proc/acpi", "/proc/kcore", "/proc/keys",
		    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		    "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
		    "/sys/dev/block");
	assert_strv(s->readonly_paths, s->n_readonly_paths, "/proc/asound", "/proc/bus", "/proc/fs",
		    "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
	assert_int_equal(s->rootfs_propagation, 0);
	assert_null(s->mount_label);
	assert_false(s->has_personality);
	/* seccomp */
	assert_true(s->has_seccomp);
	sbx_oci_seccomp *sc = &s->seccomp;
	assert_int_equal(sc->default_action, SCMP_ACT_ERRNO(38));
	assert_int_equal(sc->n_archs, 3);
	assert_int_equal(sc->archs[0], SCMP_ARCH_X86_64);
	assert_int_equal(sc->archs[1], SCMP_ARCH_X86);
	assert_int_equal(sc->archs[2], SCMP_ARCH_X32);
	assert_int_equal(sc->flags, 0);
	assert_null(sc->listener_path);
	assert_int_equal(sc->n_rules, 22);
	assert_int_equal(sc->rules[0].n_names, 28);
	assert_string_equal(sc->rules[0].names[0], "bdflush");
	assert_string_equal(sc->rules[0].names[27], "vmsplice");
	assert_null(sc->rules[0].names[28]);
	assert_int_equal(sc->rules[0].action, SCMP_ACT_ERRNO(1));
	assert_int_equal(sc->rules[0].n_args, 0);
	assert_int_equal(sc->rules[1].n_names, 374);
	assert_string_equal(sc->rules[1].names[0], "_llseek");
	assert_int_equal(sc->rules[1].action, SCMP_ACT_ALLOW);
	static const uint64_t pers[] = {0, 8, 131072, 131080, 4294967295u};
	for (size_t i = 0; i < N(pers); i++) {
		sbx_oci_sc_rule *r = &sc->rules[2 + i];
		assert_ptr_equal(find_rule(sc, "personality", i), r);
		assert_int_equal(r->n_names, 1);
		assert_int_equal(r->action, SCMP_ACT_ALLOW);
		assert_int_equal(r->n_args, 1);
		assert_int_equal(r->args[0].index, 0);
		assert_int_equal(r->args[0].value, pers[i]);
		assert_int_equal(r->args[0].value_two, 0);
		assert_int_equal(r->args[0].op, SCMP_CMP_EQ);
	}
	sbx_oci_sc_rule *r = find_rule(sc, "socket", 0);
	assert_ptr_equal(r, &sc->rules[18]);
	assert_int_equal(r->action, SCMP_ACT_ERRNO(22));
	assert_int_equal(r->n_args, 2);
	assert_int_equal(r->args[0].index, 0);
	assert_int_equal(r->args[0].value, 16);
	assert_int_equal(r->args[0].op, SCMP_CMP_EQ);
	assert_int_equal(r->args[1].index, 2);
	assert_int_equal(r->args[1].value, 9);
	r = find_rule(sc, "socket", 1);
	assert_int_equal(r->action, SCMP_ACT_ALLOW);
	assert_int_equal(r->n_args, 1);
	assert_int_equal(r->args[0].index, 2);
	assert_int_equal(r->args[0].op, SCMP_CMP_NE);
	r = find_rule(sc, "clock_settime", 0);
	assert_int_equal(r->n_names, 4);
	assert_int_equal(r->action, SCMP_ACT_ERRNO(1));
}

static void test_ctr(void **state)
{
	(void)state;
	size_t len;
	_cleanup_free_ char *json = read_data("config-ctr.json", &len);
	_cleanup_spec_ sbx_oci_spec *s = parse_ok(json, len);
	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_string_equal(s->root_path, "rootfs");
	assert_false(s->root_readonly);
	assert_null(s->hostname);
	sbx_oci_process *p = &s->process;
	assert_true(s->has_process);
	assert_false(p->terminal);
	assert_int_equal(p->uid, 0);
	assert_int_equal(p->gid, 0);
	assert_false(p->has_umask);
	assert_int_equal(p->n_additional_gids, 1);
	assert_int_equal(p->additional_gids[0], 0);
	assert_strv(p->args, p->n_args, "python3", "-c", "print(1)");
	assert_strv(p->env, p->n_env,
		    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	assert_string_equal(p->cwd, "/");
	uint64_t caps = CAP(0) | CAP(1) | CAP(4) | CAP(3) | CAP(27) | CAP(13) | CAP(6) | CAP(7) |
			CAP(31) | CAP(8) | CAP(10) | CAP(18) | CAP(5) | CAP(29);
	assert_true(p->has_caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_BOUNDING], caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_EFFECTIVE], caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_PERMITTED], caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_INHERITABLE], 0);
	assert_int_equal(p->caps[SBX_OCI_CAP_AMBIENT], 0);
	assert_int_equal(p->n_rlimits, 1);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[0].hard, 1024);
	assert_true(p->no_new_privileges);
	assert_int_equal(s->n_mounts, 7);
	assert_mount(&s->mounts[0], "/proc", "proc", "proc");
	assert_mount(&s->mounts[1], "/dev", "tmpfs", "tmpfs");
	assert_strv(s->mounts[1].options, s->mounts[1].n_options, "nosuid", "strictatime",
		    "mode=755", "size=65536k");
	assert_mount(&s->mounts[2], "/dev/pts", "devpts", "devpts");
	assert_mount(&s->mounts[3], "/dev/shm", "tmpfs", "shm");
	assert_strv(s->mounts[3].options, s->mounts[3].n_options, "nosuid", "noexec", "nodev",
		    "mode=1777", "size=65536k");
	assert_mount(&s->mounts[4], "/dev/mqueue", "mqueue", "mqueue");
	assert_mount(&s->mounts[5], "/sys", "sysfs", "sysfs");
	assert_mount(&s->mounts[6], "/run", "tmpfs", "tmpfs");
	assert_int_equal(s->n_annotations, 0);
	assert_null(s->annotations);
	assert_true(s->has_resources);
	sbx_oci_resources *res = &s->resources;
	assert_int_equal(res->cpu_shares, 1024);
	assert_int_equal(res->cpu_quota, -1);
	assert_false(res->has_pids_limit);
	assert_int_equal(res->mem_limit, -1);
	assert_int_equal(res->n_devices, 10);
	assert_false(res->devices[0].allow);
	assert_int_equal(res->devices[0].type, 'a');
	static const struct {
		int64_t major, minor;
	} devs[] = {{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {136, -1}, {5, 2}};
	for (size_t i = 0; i < N(devs); i++) {
		sbx_oci_devrule *d = &res->devices[i + 1];
		assert_true(d->allow);
		assert_int_equal(d->type, 'c');
		assert_int_equal(d->major, devs[i].major);
		assert_int_equal(d->minor, devs[i].minor);
		assert_string_equal(d->access, "rwm");
	}
	assert_string_equal(s->cgroups_path, "/default/t1");
	assert_int_equal(s->n_namespaces, 5);
	static const int kinds[] = {CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNS,
				    CLONE_NEWNET};
	for (size_t i = 0; i < N(kinds); i++)
		assert_int_equal(s->namespaces[i].kind, kinds[i]);
	assert_strv(s->masked_paths, s->n_masked_paths, "/proc/acpi", "/proc/asound", "/proc/kcore",
		    "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		    "/proc/sched_debug", "/sys/firmware", "/proc/scsi");
	assert_strv(s->readonly_paths, s->n_readonly_paths, "/proc/bus", "/proc/fs", "/proc/irq",
		    "/proc/sys", "/proc/sysrq-trigger");
	assert_false(s->has_seccomp);
	assert_int_equal(s->seccomp.n_rules, 0);
}

/* A minimal config with a few more top-level members, process members,
 * or linux members. */
#define HEAD "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}"
#define TOP(x) HEAD x "}"
#define PROC(x) HEAD ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"" x "}}"
#define LINUX(x) HEAD ",\"linux\":{" x "}}"
#define RES(x) LINUX("\"resources\":{" x "}")
#define SC(x) LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"" x "}")

static void test_minimal_and_tolerant(void **state)
{
	(void)state;
	_cleanup_spec_ sbx_oci_spec *s = ok(TOP(""));
	assert_string_equal(s->root_path, "rootfs");
	assert_false(s->has_process);
	assert_false(s->has_resources);
	assert_false(s->has_seccomp);
	assert_int_equal(s->resources.mem_limit, -1);
	assert_int_equal(s->resources.cpu_quota, -1);
	assert_int_equal(s->resources.mem_swappiness, -1);
	assert_null(s->mounts);
	sbx_oci_spec_free(s);
	/* unknown members anywhere, nulls for absent ones */
	s = ok(HEAD
	       ",\"windows\":{\"x\":1},\"vm\":null,\"hostname\":null,\"mounts\":null,"
	       "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/x\",\"env\":null,\"user\":{\"uid\":1,"
	       "\"username\":\"u\"},\"consoleSize\":{\"height\":1,\"width\":2},\"scheduler\":{},"
	       "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\"},\"futureThing\":[1,2]},"
	       "\"linux\":{\"intelRdt\":{},\"resources\":{\"memory\":{\"limit\":null,"
	       "\"checkBeforeUpdate\":true}},\"timeOffsets\":{}},\"extra\":\"x\"}");
	assert_true(s->has_process);
	assert_int_equal(s->process.uid, 1);
	assert_int_equal(s->process.n_env, 0);
	assert_non_null(s->process.env);
	assert_null(s->process.env[0]);
	assert_string_equal(s->process.cwd, "/x");
	assert_int_equal(s->resources.mem_limit, -1);
	assert_false(s->process.has_caps);
	sbx_oci_spec_free(s);
	/* versions */
	static const char *const versions[] = {"1.0.0", "1.0.2-dev", "1.1.0", "1.1.0-rc.1",
					       "1.2.0", "1.2.1+dev", "1.0.10"};
	for (size_t i = 0; i < N(versions); i++) {
		char json[200];
		snprintf(json, sizeof(json), "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}}",
			 versions[i]);
		s = ok(json);
		assert_string_equal(s->oci_version, versions[i]);
		sbx_oci_spec_free(s);
	}
	s = NULL;
}

static void test_errors_top(void **state)
{
	(void)state;
	bad("", "invalid JSON: at byte 0: unexpected end of input, expected a value");
	bad("[]", "not a JSON object");
	bad("{}", "ociVersion: missing");
	bad("{\"ociVersion\":1}", "ociVersion: not a string");
	bad("{\"ociVersion\":\"2.0.0\"}", "ociVersion: version '2.0.0' not supported (1.x.y is)");
	bad("{\"ociVersion\":\"1.0\"}", "ociVersion: version '1.0' not supported (1.x.y is)");
	bad("{\"ociVersion\":\"0.9.0\"}", "~not supported");
	bad("{\"ociVersion\":\"1.0.0\"}", "root: missing");
	bad("{\"ociVersion\":\"1.0.0\",\"root\":\"r\"}", "root: not an object");
	bad("{\"ociVersion\":\"1.0.0\",\"root\":{}}", "root.path: missing");
	bad("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}}", "root.path: empty");
	bad("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":1}}",
	    "root.readonly: not a boolean");
	bad(TOP(",\"hostname\":5"), "hostname: not a string");
	bad(TOP(",\"hostname\":\"a\\u0000b\""), "hostname: contains a NUL byte");
}
static void test_errors_process(void **state)
{
	(void)state;
	bad(TOP(",\"process\":[]"), "process: not an object");
	bad(TOP(",\"process\":{\"cwd\":\"/\"}"), "process.args: missing");
	bad(TOP(",\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}"), "process.args: not an array");
	bad(TOP(",\"process\":{\"args\":[],\"cwd\":\"/\"}"), "process.args: empty");
	bad(TOP(",\"process\":{\"args\":[\"\"],\"cwd\":\"/\"}"), "process.args: empty command");
	bad(TOP(",\"process\":{\"args\":[\"sh\",1],\"cwd\":\"/\"}"),
	    "process.args[1]: not a string");
	bad(TOP(",\"process\":{\"args\":[\"sh\"]}"), "process.cwd: missing");
	bad(TOP(",\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}"),
	    "process.cwd: 'tmp' is not an absolute path");
	bad(TOP(",\"process\":{\"args\":[\"sh\"],\"cwd\":\"\"}"),
	    "process.cwd: '' is not an absolute path");
	bad(PROC(",\"terminal\":\"yes\""), "process.terminal: not a boolean");
	bad(PROC(",\"env\":[\"A=1\",\"B\"]"), "process.env[1]: 'B' is not NAME=VALUE");
	bad(PROC(",\"env\":{}"), "process.env: not an array");
	bad(PROC(",\"user\":5"), "process.user: not an object");
	bad(PROC(",\"user\":{\"uid\":-1}"), "process.user.uid: -1 out of range [0, 4294967295]");
	bad(PROC(",\"user\":{\"uid\":4294967296}"),
	    "process.user.uid: 4294967296 out of range [0, 4294967295]");
	bad(PROC(",\"user\":{\"gid\":1.5}"), "process.user.gid: not an integer in range");
	bad(PROC(",\"user\":{\"gid\":\"0\"}"), "process.user.gid: not a number");
	bad(PROC(",\"user\":{\"umask\":512}"),
	    "process.user.umask: 512 is not a umask (at most 0777)");
	bad(PROC(",\"user\":{\"additionalGids\":[1,-2]}"),
	    "process.user.additionalGids[1]: not a group id");
	bad(PROC(",\"user\":{\"additionalGids\":[1,\"x\"]}"),
	    "process.user.additionalGids[1]: not a number");
	bad(PROC(",\"capabilities\":[]"), "process.capabilities: not an object");
	bad(PROC(",\"capabilities\":{\"bounding\":\"CAP_KILL\"}"),
	    "process.capabilities.bounding: not an array");
	bad(PROC(",\"capabilities\":{\"effective\":[\"CAP_KILL\",\"CAP_FOO\"]}"),
	    "process.capabilities.effective[1]: unknown capability 'CAP_FOO'");
	bad(PROC(",\"capabilities\":{\"ambient\":[\"kill\"]}"),
	    "process.capabilities.ambient[0]: unknown capability 'kill'");
	bad(PROC(",\"capabilities\":{\"permitted\":[7]}"),
	    "process.capabilities.permitted[0]: not a string");
	bad(PROC(",\"rlimits\":{}"), "process.rlimits: not an array");
	bad(PROC(",\"rlimits\":[1]"), "process.rlimits[0]: not an object");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
		 "{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":\"x\"}]"),
	    "process.rlimits[1].hard: not a number");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
	    "process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'");
	bad(PROC(",\"rlimits\":[{\"type\":7,\"soft\":1,\"hard\":1}]"),
	    "process.rlimits[0].type: not a string");
	bad(PROC(",\"rlimits\":[{\"soft\":1,\"hard\":1}]"), "process.rlimits[0].type: missing");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":1}]"),
	    "process.rlimits[0].soft: missing");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":-1,\"hard\":1}]"),
	    "process.rlimits[0].soft: -1 is negative");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":2,\"hard\":1}]"),
	    "process.rlimits[0]: soft limit above the hard one");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1e30}]"),
	    "process.rlimits[0].hard: not an unsigned 64-bit integer");
	bad(PROC(",\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1},"
		 "{\"type\":\"RLIMIT_CORE\",\"soft\":1,\"hard\":1}]"),
	    "process.rlimits[1].type: 'RLIMIT_CORE' listed twice");
	bad(PROC(",\"noNewPrivileges\":1"), "process.noNewPrivileges: not a boolean");
	bad(PROC(",\"oomScoreAdj\":1001"), "process.oomScoreAdj: 1001 out of range [-1000, 1000]");
	bad(PROC(",\"apparmorProfile\":[]"), "process.apparmorProfile: not a string");
	bad(PROC(",\"selinuxLabel\":false"), "process.selinuxLabel: not a string");
}

static void test_errors_top_parts(void **state)
{
	(void)state;
	bad(TOP(",\"mounts\":{}"), "mounts: not an array");
	bad(TOP(",\"mounts\":[\"/x\"]"), "mounts[0]: not an object");
	bad(TOP(",\"mounts\":[{\"destination\":\"/a\"},{\"type\":\"tmpfs\"}]"),
	    "mounts[1].destination: missing");
	bad(TOP(",\"mounts\":[{\"destination\":\"a\"}]"),
	    "mounts[0].destination: 'a' is not an absolute path");
	bad(TOP(",\"mounts\":[{\"destination\":\"/a\",\"options\":[\"ro\",1]}]"),
	    "mounts[0].options[1]: not a string");
	bad(TOP(",\"mounts\":[{\"destination\":\"/a\",\"source\":1}]"),
	    "mounts[0].source: not a string");
	bad(TOP(",\"mounts\":[{\"destination\":\"/a\",\"type\":{}}]"),
	    "mounts[0].type: not a string");
	bad(TOP(",\"hooks\":[]"), "hooks: not an object");
	bad(TOP(",\"hooks\":{\"poststop\":{}}"), "hooks.poststop: not an array");
	bad(TOP(",\"hooks\":{\"prestart\":[{\"path\":\"hook\"}]}"),
	    "hooks.prestart[0].path: 'hook' is not an absolute path");
	bad(TOP(",\"hooks\":{\"createRuntime\":[{\"args\":[]}]}"),
	    "hooks.createRuntime[0].path: missing");
	bad(TOP(",\"hooks\":{\"poststart\":[{\"path\":\"/h\",\"timeout\":0}]}"),
	    "hooks.poststart[0].timeout: must be positive");
	bad(TOP(",\"hooks\":{\"startContainer\":[{\"path\":\"/h\",\"env\":[1]}]}"),
	    "hooks.startContainer[0].env[0]: not a string");
	bad(TOP(",\"hooks\":{\"createContainer\":[{\"path\":\"/h\",\"timeout\":\"1\"}]}"),
	    "hooks.createContainer[0].timeout: not a number");
	bad(TOP(",\"annotations\":[]"), "annotations: not an object");
	bad(TOP(",\"annotations\":{\"a\":\"b\",\"k\":1}"), "annotations.k: not a string");
	bad(TOP(",\"linux\":[]"), "linux: not an object");
}

static void test_errors_linux(void **state)
{
	(void)state;
	bad(LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"foo\"}]"),
	    "linux.namespaces[1].type: unknown namespace 'foo'");
	bad(LINUX("\"namespaces\":[{\"type\":\"time\"}]"),
	    "linux.namespaces[0].type: time namespace not supported");
	bad(LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]"),
	    "linux.namespaces[1].type: 'pid' listed twice");
	bad(LINUX("\"namespaces\":[{\"path\":\"/proc/1/ns/net\"}]"),
	    "linux.namespaces[0].type: missing");
	bad(LINUX("\"namespaces\":[{\"type\":\"network\",\"path\":\"ns\"}]"),
	    "linux.namespaces[0].path: 'ns' is not an absolute path");
	bad(LINUX("\"namespaces\":[\"pid\"]"), "linux.namespaces[0]: not an object");
	bad(LINUX("\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]"),
	    "linux.uidMappings[0].size: must be positive");
	bad(LINUX("\"gidMappings\":[{\"containerID\":0,\"size\":1}]"),
	    "linux.gidMappings[0].hostID: missing");
	bad(LINUX("\"gidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":2}]"),
	    "linux.gidMappings[0].size: range past 2^32");
	bad(LINUX("\"sysctl\":{\"a\":1}"), "linux.sysctl.a: not a string");
	bad(LINUX("\"cgroupsPath\":1"), "linux.cgroupsPath: not a string");
	bad(LINUX("\"devices\":[{\"type\":\"x\",\"path\":\"/dev/x\"}]"),
	    "linux.devices[0].type: 'x' is not c, b, u or p");
	bad(LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"major\":1}]"),
	    "linux.devices[0]: major and minor numbers needed");
	bad(LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"dev/x\",\"major\":1,\"minor\":1}]"),
	    "linux.devices[0].path: 'dev/x' is not an absolute path");
	bad(LINUX("\"devices\":[{\"type\":\"c\",\"major\":1,\"minor\":1}]"),
	    "linux.devices[0].path: missing");
	bad(LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/d\",\"major\":1,\"minor\":1,"
		  "\"fileMode\":-1}]"),
	    "linux.devices[0].fileMode: -1 out of range [0, 4294967295]");
	bad(LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/d\",\"major\":-1,\"minor\":1}]"),
	    "linux.devices[0].major: -1 out of range [0, 4294967295]");
	bad(LINUX("\"maskedPaths\":[\"/a\",\"b\"]"),
	    "linux.maskedPaths[1]: 'b' is not an absolute path");
	bad(LINUX("\"readonlyPaths\":[1]"), "linux.readonlyPaths[0]: not a string");
	bad(LINUX("\"rootfsPropagation\":\"bogus\""),
	    "linux.rootfsPropagation: unknown propagation 'bogus'");
	bad(LINUX("\"mountLabel\":1"), "linux.mountLabel: not a string");
	bad(LINUX("\"personality\":{\"domain\":\"LINUX64\"}"),
	    "linux.personality.domain: unknown domain 'LINUX64'");
	bad(LINUX("\"personality\":{}"), "linux.personality.domain: missing");
	bad(LINUX("\"resources\":[]"), "linux.resources: not an object");
	bad(RES("\"memory\":{\"limit\":-2}"),
	    "linux.resources.memory.limit: -2 out of range [-1, 9223372036854775807]");
	bad(RES("\"memory\":{\"swap\":\"1G\"}"), "linux.resources.memory.swap: not a number");
	bad(RES("\"memory\":{\"swappiness\":101}"),
	    "linux.resources.memory.swappiness: 101 out of range [0, 100]");
	bad(RES("\"memory\":{\"swappiness\":-2}"),
	    "linux.resources.memory.swappiness: -2 is negative");
	bad(RES("\"memory\":{\"disableOOMKiller\":0}"),
	    "linux.resources.memory.disableOOMKiller: not a boolean");
	bad(RES("\"cpu\":{\"quota\":-5}"),
	    "linux.resources.cpu.quota: -5 out of range [-1, 9223372036854775807]");
	bad(RES("\"cpu\":{\"shares\":-1}"), "linux.resources.cpu.shares: -1 is negative");
	bad(RES("\"cpu\":{\"cpus\":0}"), "linux.resources.cpu.cpus: not a string");
	bad(RES("\"pids\":{}"), "linux.resources.pids.limit: missing");
	bad(RES("\"pids\":{\"limit\":\"10\"}"), "linux.resources.pids.limit: not a number");
	bad(RES("\"devices\":[{\"access\":\"rwm\"}]"), "linux.resources.devices[0].allow: missing");
	bad(RES("\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]"),
	    "linux.resources.devices[0].access: 'rwx' is not a subset of rwm");
	bad(RES("\"devices\":[{\"allow\":true,\"type\":\"u\"}]"),
	    "linux.resources.devices[0].type: 'u' is not a, c or b");
	bad(RES("\"devices\":[{\"allow\":true,\"major\":-2}]"),
	    "linux.resources.devices[0].major: -2 out of range [-1, 4294967295]");
	bad(RES("\"unified\":\"x\""), "linux.resources.unified: not an object");
}

static void test_errors_seccomp(void **state)
{
	(void)state;
	bad(LINUX("\"seccomp\":{}"), "linux.seccomp.defaultAction: missing");
	bad(LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_FOO\"}"),
	    "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_FOO'");
	bad(LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}"),
	    "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY not supported");
	bad(LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":65536}"),
	    "linux.seccomp.defaultErrnoRet: 65536 out of range [0, 65535]");
	bad(SC(",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]"),
	    "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_VAX'");
	bad(SC(",\"architectures\":[\"SCMP_ARCH_\"]"),
	    "linux.seccomp.architectures[0]: unknown architecture 'SCMP_ARCH_'");
	bad(SC(",\"architectures\":[1]"), "linux.seccomp.architectures[0]: not a string");
	bad(SC(",\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]"),
	    "linux.seccomp.flags[0]: unknown or unsupported flag "
	    "'SECCOMP_FILTER_FLAG_NEW_LISTENER'");
	bad(SC(",\"listenerPath\":\"/run/l.sock\""),
	    "linux.seccomp.listenerPath: seccomp notify not supported");
	bad(SC(",\"syscalls\":{}"), "linux.seccomp.syscalls: not an array");
	bad(SC(",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]"),
	    "linux.seccomp.syscalls[0].names: missing");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"]}]"),
	    "linux.seccomp.syscalls[0].action: missing");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}]"),
	    "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY not supported");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":-1}"
	       "]"),
	    "linux.seccomp.syscalls[0].errnoRet: -1 out of range [0, 65535]");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{"
	       "\"index\":6,"
	       "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
	    "linux.seccomp.syscalls[0].args[0].index: 6 out of range [0, 5]");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{"
	       "\"index\":1,"
	       "\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]"),
	    "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_XX'");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{"
	       "\"index\":1,"
	       "\"op\":\"SCMP_CMP_EQ\"}]}]"),
	    "linux.seccomp.syscalls[0].args[0].value: missing");
	bad(SC(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{"
	       "\"index\":1,"
	       "\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
	    "linux.seccomp.syscalls[0].args[0].value: -1 is negative");
}

/* Every field the two real configs leave out. */
static void test_values(void **state)
{
	(void)state;
	_cleanup_spec_ sbx_oci_spec *s = ok(
	    "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"/r\",\"readonly\":true},"
	    "\"hostname\":\"h\",\"domainname\":\"d\","
	    "\"mounts\":[{\"destination\":\"/b\",\"source\":\"/src\",\"options\":[\"rbind\"]},"
	    "{\"destination\":\"/n\"}],"
	    "\"process\":{\"terminal\":true,\"args\":[\"a\"],\"cwd\":\"/w\",\"env\":[\"X=\"],"
	    "\"user\":{\"uid\":4294967295,\"gid\":7,\"umask\":511,\"additionalGids\":[1,4294967295]"
	    "},"
	    "\"capabilities\":{\"ambient\":[\"CAP_CHECKPOINT_RESTORE\",\"CAP_CHOWN\"],"
	    "\"inheritable\":[\"CAP_BPF\"],\"bounding\":[]},"
	    "\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":18446744073709551615},"
	    "{\"type\":\"RLIMIT_RTTIME\",\"soft\":9223372036854775807,\"hard\":9223372036854775808}"
	    "],"
	    "\"noNewPrivileges\":true,\"oomScoreAdj\":-1000,\"apparmorProfile\":\"prof\","
	    "\"selinuxLabel\":\"\"},"
	    "\"hooks\":{\"prestart\":[{\"path\":\"/p\"}],\"createRuntime\":[{\"path\":\"/c\","
	    "\"args\":[\"c\",\"1\"],\"env\":[\"E=1\"],\"timeout\":5}],\"poststop\":[],"
	    "\"createContainer\":[{\"path\":\"/cc\"},{\"path\":\"/cc2\"}],"
	    "\"startContainer\":[{\"path\":\"/s\"}],\"poststart\":[{\"path\":\"/ps\"}]},"
	    "\"annotations\":{},"
	    "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"cgroup\"},"
	    "{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"},{\"type\":\"uts\",\"path\":\"\"}],"
	    "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
	    "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":1},"
	    "{\"containerID\":1,\"hostID\":4294967295,\"size\":1}],"
	    "\"resources\":{\"memory\":{\"limit\":1073741824,\"reservation\":0,\"swap\":-1,"
	    "\"kernel\":5,\"kernelTCP\":6,\"swappiness\":18446744073709551615,"
	    "\"disableOOMKiller\":true},"
	    "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"realtimeRuntime\":-1,"
	    "\"realtimePeriod\":7,\"cpus\":\"0-1\",\"mems\":\"\"},\"pids\":{\"limit\":0},"
	    "\"devices\":[{\"allow\":true,\"type\":\"b\",\"major\":8,\"minor\":-1,\"access\":"
	    "\"mr\"},"
	    "{\"allow\":false,\"type\":\"\",\"access\":\"\"},{\"allow\":true,\"access\":\"wmrw\"}],"
	    "\"blockIO\":{\"weight\":10},\"hugepageLimits\":[],\"network\":{},"
	    "\"rdma\":{\"x\":{}},\"unified\":{\"memory.high\":\"1\"}},"
	    "\"cgroupsPath\":\"\",\"devices\":[{\"type\":\"c\",\"path\":\"/dev/fuse\",\"major\":10,"
	    "\"minor\":229,\"fileMode\":438,\"uid\":0,\"gid\":5},{\"type\":\"p\",\"path\":\"/dev/"
	    "f\"}],"
	    "\"rootfsPropagation\":\"rslave\",\"mountLabel\":\"\","
	    "\"personality\":{\"domain\":\"LINUX32\",\"flags\":[]},"
	    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"defaultErrnoRet\":5,"
	    "\"architectures\":[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"],"
	    "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","
	    "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"listenerPath\":\"\",\"syscalls\":["
	    "{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"},"
	    "{\"names\":[\"a\",\"b\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":3},"
	    "{\"names\":[\"c\"],\"action\":\"SCMP_ACT_TRACE\"},"
	    "{\"names\":[\"d\"],\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":9},"
	    "{\"names\":[\"e\"],\"action\":\"SCMP_ACT_TRAP\"},{\"names\":[\"f\"],\"action\":\"SCMP_"
	    "ACT_LOG\"},"
	    "{\"names\":[\"g\"],\"action\":\"SCMP_ACT_KILL_THREAD\"},"
	    "{\"names\":[\"h\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":0,\"args\":["
	    "{\"index\":5,\"value\":18446744073709551615,\"valueTwo\":3,\"op\":\"SCMP_CMP_MASKED_"
	    "EQ\"},"
	    "{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_NE\"},{\"index\":1,\"value\":1,\"op\":"
	    "\"SCMP_CMP_LT\"},"
	    "{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_LE\"},{\"index\":3,\"value\":1,\"op\":"
	    "\"SCMP_CMP_GE\"},"
	    "{\"index\":4,\"value\":1,\"op\":\"SCMP_CMP_GT\"}]}]}}}");
	assert_true(s->root_readonly);
	assert_string_equal(s->root_path, "/r");
	assert_string_equal(s->hostname, "h");
	assert_string_equal(s->domainname, "d");
	assert_int_equal(s->n_mounts, 2);
	assert_null(s->mounts[0].type);
	assert_string_equal(s->mounts[0].source, "/src");
	assert_strv(s->mounts[0].options, s->mounts[0].n_options, "rbind");
	assert_null(s->mounts[1].source);
	assert_null(s->mounts[1].options);
	assert_int_equal(s->mounts[1].n_options, 0);
	sbx_oci_process *p = &s->process;
	assert_true(p->terminal);
	assert_int_equal(p->uid, UINT32_MAX);
	assert_int_equal(p->gid, 7);
	assert_int_equal(p->umask, 0777);
	assert_int_equal(p->n_additional_gids, 2);
	assert_int_equal(p->additional_gids[1], UINT32_MAX);
	assert_strv(p->env, p->n_env, "X=");
	assert_true(p->has_caps);
	assert_int_equal(p->caps[SBX_OCI_CAP_AMBIENT], CAP(40) | CAP(0));
	assert_int_equal(p->caps[SBX_OCI_CAP_INHERITABLE], CAP(39));
	assert_int_equal(p->caps[SBX_OCI_CAP_BOUNDING], 0);
	assert_int_equal(p->caps[SBX_OCI_CAP_EFFECTIVE], 0);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_CORE);
	assert_int_equal(p->rlimits[0].soft, 0);
	assert_true(p->rlimits[0].hard == UINT64_MAX);
	assert_int_equal(p->rlimits[1].resource, RLIMIT_RTTIME);
	assert_true(p->rlimits[1].soft == (uint64_t)INT64_MAX);
	assert_true(p->rlimits[1].hard == UINT64_C(9223372036854775808));
	assert_true(p->no_new_privileges);
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, -1000);
	assert_string_equal(p->apparmor_profile, "prof");
	assert_null(p->selinux_label);
	/* hooks */
	assert_int_equal(s->n_hooks[SBX_OCI_HOOK_PRESTART], 1);
	sbx_oci_hook *h = &s->hooks[SBX_OCI_HOOK_PRESTART][0];
	assert_string_equal(h->path, "/p");
	assert_null(h->args);
	assert_null(h->env);
	assert_int_equal(h->timeout, 0);
	h = &s->hooks[SBX_OCI_HOOK_CREATE_RUNTIME][0];
	assert_string_equal(h->path, "/c");
	assert_string_equal(h->args[0], "c");
	assert_string_equal(h->args[1], "1");
	assert_null(h->args[2]);
	assert_string_equal(h->env[0], "E=1");
	assert_null(h->env[1]);
	assert_int_equal(h->timeout, 5);
	assert_int_equal(s->n_hooks[SBX_OCI_HOOK_POSTSTOP], 0);
	assert_int_equal(s->n_hooks[SBX_OCI_HOOK_CREATE_CONTAINER], 2);
	assert_string_equal(s->hooks[SBX_OCI_HOOK_CREATE_CONTAINER][1].path, "/cc2");
	assert_string_equal(s->hooks[SBX_OCI_HOOK_START_CONTAINER][0].path, "/s");
	assert_string_equal(s->hooks[SBX_OCI_HOOK_POSTSTART][0].path, "/ps");
	assert_int_equal(s->n_annotations, 0);
	/* linux */
	assert_int_equal(s->n_namespaces, 4);
	assert_int_equal(s->namespaces[0].kind, CLONE_NEWUSER);
	assert_int_equal(s->namespaces[1].kind, CLONE_NEWCGROUP);
	assert_string_equal(sbx_oci_spec_ns(s, CLONE_NEWNET)->path, "/proc/1/ns/net");
	assert_null(sbx_oci_spec_ns(s, CLONE_NEWUTS)->path);
	assert_null(sbx_oci_spec_ns(s, CLONE_NEWPID));
	assert_int_equal(s->n_uid_mappings, 1);
	assert_int_equal(s->uid_mappings[0].container_id, 0);
	assert_int_equal(s->uid_mappings[0].host_id, 100000);
	assert_int_equal(s->uid_mappings[0].size, 65536);
	assert_int_equal(s->n_gid_mappings, 2);
	assert_int_equal(s->gid_mappings[1].container_id, 1);
	assert_int_equal(s->gid_mappings[1].host_id, UINT32_MAX);
	sbx_oci_resources *res = &s->resources;
	assert_int_equal(res->mem_limit, 1073741824);
	assert_int_equal(res->mem_reservation, 0);
	assert_int_equal(res->mem_swap, -1);
	assert_int_equal(res->mem_kernel, 5);
	assert_int_equal(res->mem_kernel_tcp, 6);
	assert_int_equal(res->mem_swappiness, -1);
	assert_true(res->has_disable_oom_killer);
	assert_true(res->disable_oom_killer);
	assert_int_equal(res->cpu_shares, 512);
	assert_int_equal(res->cpu_quota, 50000);
	assert_int_equal(res->cpu_period, 100000);
	assert_int_equal(res->cpu_rt_runtime, -1);
	assert_int_equal(res->cpu_rt_period, 7);
	assert_string_equal(res->cpus, "0-1");
	assert_null(res->mems);
	assert_true(res->has_pids_limit);
	assert_int_equal(res->pids_limit, -1);
	assert_int_equal(res->n_devices, 3);
	assert_true(res->devices[0].allow);
	assert_int_equal(res->devices[0].type, 'b');
	assert_int_equal(res->devices[0].major, 8);
	assert_int_equal(res->devices[0].minor, -1);
	assert_string_equal(res->devices[0].access, "rm");
	assert_false(res->devices[1].allow);
	assert_int_equal(res->devices[1].type, 'a');
	assert_string_equal(res->devices[1].access, "rwm");
	assert_string_equal(res->devices[2].access, "rwm");
	assert_true(res->has_blkio);
	assert_false(res->has_hugetlb); /* empty: asks for nothing */
	assert_false(res->has_network);
	assert_true(res->has_rdma);
	assert_true(res->has_unified);
	assert_null(s->cgroups_path);
	assert_int_equal(s->n_devices, 2);
	assert_int_equal(s->devices[0].type, 'c');
	assert_string_equal(s->devices[0].path, "/dev/fuse");
	assert_int_equal(s->devices[0].major, 10);
	assert_int_equal(s->devices[0].minor, 229);
	assert_true(s->devices[0].has_mode && s->devices[0].has_uid && s->devices[0].has_gid);
	assert_int_equal(s->devices[0].mode, 0666);
	assert_int_equal(s->devices[0].uid, 0);
	assert_int_equal(s->devices[0].gid, 5);
	assert_int_equal(s->devices[1].type, 'p');

	assert_false(s->devices[1].has_mode || s->devices[1].has_uid || s->devices[1].has_gid);
	assert_int_equal(s->rootfs_propagation, MS_SLAVE | MS_REC);
	assert_null(s->mount_label);
	assert_true(s->has_personality);
	assert_int_equal(s->personality, PER_LINUX32);
	sbx_oci_seccomp *sc = &s->seccomp;
	assert_true(s->has_seccomp);
	assert_int_equal(sc->default_action, SCMP_ACT_KILL_PROCESS);
	assert_int_equal(sc->n_archs, 2);
	assert_int_equal(sc->archs[0], SCMP_ARCH_AARCH64);
	assert_int_equal(sc->archs[1], SCMP_ARCH_ARM);
	assert_int_equal(sc->flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
					SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	assert_null(sc->listener_path);
	assert_int_equal(sc->n_rules, 8);
	assert_int_equal(sc->rules[0].n_names, 0);
	assert_int_equal(sc->rules[0].action, SCMP_ACT_ERRNO(EPERM));
	assert_int_equal(sc->rules[1].action, SCMP_ACT_TRACE(3));
	assert_int_equal(sc->rules[2].action, SCMP_ACT_TRACE(EPERM));
	assert_int_equal(sc->rules[3].action, SCMP_ACT_KILL);
	assert_int_equal(sc->rules[4].action, SCMP_ACT_TRAP);
	assert_int_equal(sc->rules[5].action, SCMP_ACT_LOG);
	assert_int_equal(sc->rules[6].action, SCMP_ACT_KILL_THREAD);
	sbx_oci_sc_rule *r = &sc->rules[7];
	assert_int_equal(r->action, SCMP_ACT_ERRNO(0));
	assert_int_equal(r->n_args, 6);
	assert_int_equal(r->args[0].index, 5);
	assert_true(r->args[0].value == UINT64_MAX);
	assert_int_equal(r->args[0].value_two, 3);
	assert_int_equal(r->args[0].op, SCMP_CMP_MASKED_EQ);
	static const int ops[] = {SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GE, SCMP_CMP_GT};
	for (size_t i = 0; i < N(ops); i++) {
		assert_int_equal(r->args[i + 1].index, i);
		assert_int_equal(r->args[i + 1].op, ops[i]);
	}
	sbx_oci_spec_free(s);
	/* memory.swappiness as written by clients that mean "unset" */
	s = ok(RES("\"memory\":{\"swappiness\":-1},\"pids\":{\"limit\":-5}"));
	assert_int_equal(s->resources.mem_swappiness, -1);
	assert_int_equal(s->resources.pids_limit, -1);
	sbx_oci_spec_free(s);
	s = ok(RES("\"memory\":{\"swappiness\":0},\"cpu\":{\"quota\":-1}"));
	assert_int_equal(s->resources.mem_swappiness, 0);
	assert_int_equal(s->resources.cpu_quota, -1);
	sbx_oci_spec_free(s);
	/* fileMode: the permission bits of S_IFCHR|0620 or of Go's
	 * os.ModeDevice|os.ModeCharDevice|0666 */
	s = ok(LINUX("\"devices\":[{\"type\":\"c\",\"path\":\"/d\",\"major\":1,\"minor\":1,"
		     "\"fileMode\":8592},{\"type\":\"c\",\"path\":\"/e\",\"major\":1,\"minor\":1,"
		     "\"fileMode\":69206454}]"));
	assert_int_equal(s->devices[0].mode, 0620);
	assert_int_equal(s->devices[1].mode, 0666);
	sbx_oci_spec_free(s);
	s = NULL;
	/* null is absent: a required member missing */
	bad(LINUX("\"seccomp\":{\"defaultAction\":null}"), "linux.seccomp.defaultAction: missing");
}

static void test_propagations(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {{"shared", MS_SHARED},
		 {"slave", MS_SLAVE},
		 {"private", MS_PRIVATE},
		 {"unbindable", MS_UNBINDABLE},
		 {"rshared", MS_SHARED | MS_REC},
		 {"rslave", MS_SLAVE | MS_REC},
		 {"rprivate", MS_PRIVATE | MS_REC},
		 {"runbindable", MS_UNBINDABLE | MS_REC},
		 {"", 0}};
	for (size_t i = 0; i < N(t); i++) {
		char json[200];
		snprintf(json, sizeof(json), LINUX("\"rootfsPropagation\":\"%s\""), t[i].name);
		_cleanup_spec_ sbx_oci_spec *s = ok(json);
		assert_int_equal(s->rootfs_propagation, t[i].flags);
	}
	static const char *const ns[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"};
	static const int kinds[] = {CLONE_NEWPID, CLONE_NEWNET,	 CLONE_NEWNS,	 CLONE_NEWIPC,
				    CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP};
	for (size_t i = 0; i < N(ns); i++) {
		char json[200];
		snprintf(json, sizeof(json), LINUX("\"namespaces\":[{\"type\":\"%s\"}]"), ns[i]);
		_cleanup_spec_ sbx_oci_spec *s = ok(json);
		assert_int_equal(s->namespaces[0].kind, kinds[i]);
	}
	static const char *const archs[] = {"SCMP_ARCH_X86",
					    "SCMP_ARCH_X86_64",
					    "SCMP_ARCH_X32",
					    "SCMP_ARCH_ARM",
					    "SCMP_ARCH_AARCH64",
					    "SCMP_ARCH_MIPS",
					    "SCMP_ARCH_MIPSEL64",
					    "SCMP_ARCH_PPC64LE",
					    "SCMP_ARCH_S390X",
					    "SCMP_ARCH_RISCV64",
					    "x86_64"};
	static const uint32_t tokens[] = {SCMP_ARCH_X86,      SCMP_ARCH_X86_64,	 SCMP_ARCH_X32,
					  SCMP_ARCH_ARM,      SCMP_ARCH_AARCH64, SCMP_ARCH_MIPS,
					  SCMP_ARCH_MIPSEL64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X,
					  SCMP_ARCH_RISCV64,  SCMP_ARCH_X86_64};
	for (size_t i = 0; i < N(archs); i++) {
		char json[200];
		snprintf(json, sizeof(json), SC(",\"architectures\":[\"%s\"]"), archs[i]);
		_cleanup_spec_ sbx_oci_spec *s = ok(json);
		assert_int_equal(s->seccomp.archs[0], tokens[i]);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(sbx_oci_cap_from_name("CAP_CHOWN"), 0);
	assert_int_equal(sbx_oci_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(sbx_oci_cap_from_name("CAP_AUDIT_READ"), 37);
	assert_int_equal(sbx_oci_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(sbx_oci_cap_from_name("cap_chown"), -1);
	assert_int_equal(sbx_oci_cap_from_name("CHOWN"), -1);
	assert_int_equal(sbx_oci_cap_from_name(""), -1);
	assert_int_equal(sbx_oci_cap_from_name(NULL), -1);
	static const char *const rl[] = {
	    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",	"RLIMIT_STACK",
	    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",	"RLIMIT_NOFILE",
	    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",	"RLIMIT_SIGPENDING",
	    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
	static const int rn[] = {RLIMIT_CPU,	  RLIMIT_FSIZE, RLIMIT_DATA,   RLIMIT_STACK,
				 RLIMIT_CORE,	  RLIMIT_RSS,	RLIMIT_NPROC,  RLIMIT_NOFILE,
				 RLIMIT_MEMLOCK,  RLIMIT_AS,	RLIMIT_LOCKS,  RLIMIT_SIGPENDING,
				 RLIMIT_MSGQUEUE, RLIMIT_NICE,	RLIMIT_RTPRIO, RLIMIT_RTTIME};
	for (size_t i = 0; i < N(rl); i++)
		assert_int_equal(sbx_oci_rlimit_from_name(rl[i]), rn[i]);
	assert_int_equal(sbx_oci_rlimit_from_name("RLIMIT_NOFILE"), 7);
	assert_int_equal(sbx_oci_rlimit_from_name("NOFILE"), -1);
	assert_int_equal(sbx_oci_rlimit_from_name("rlimit_nofile"), -1);
	assert_int_equal(sbx_oci_rlimit_from_name(NULL), -1);
	assert_int_equal(sbx_oci_signal_from_name("KILL"), SIGKILL);
	assert_int_equal(sbx_oci_signal_from_name("SIGKILL"), SIGKILL);
	assert_int_equal(sbx_oci_signal_from_name("9"), 9);
	assert_int_equal(sbx_oci_signal_from_name("sigterm"), SIGTERM);
	assert_int_equal(sbx_oci_signal_from_name("term"), SIGTERM);
	assert_int_equal(sbx_oci_signal_from_name("HUP"), SIGHUP);
	assert_int_equal(sbx_oci_signal_from_name("SIGUSR2"), SIGUSR2);
	assert_int_equal(sbx_oci_signal_from_name("WINCH"), SIGWINCH);
	assert_int_equal(sbx_oci_signal_from_name("SIGCHLD"), SIGCHLD);
	assert_int_equal(sbx_oci_signal_from_name("SIGSYS"), SIGSYS);
	assert_int_equal(sbx_oci_signal_from_name("15"), 15);
	assert_int_equal(sbx_oci_signal_from_name("64"), 64);
	assert_int_equal(sbx_oci_signal_from_name("65"), -1);
	assert_int_equal(sbx_oci_signal_from_name("0"), -1);
	assert_int_equal(sbx_oci_signal_from_name("-9"), -1);
	assert_int_equal(sbx_oci_signal_from_name("9x"), -1);
	assert_int_equal(sbx_oci_signal_from_name("0009"), -1);
	assert_int_equal(sbx_oci_signal_from_name(""), -1);
	assert_int_equal(sbx_oci_signal_from_name("SIG"), -1);
	assert_int_equal(sbx_oci_signal_from_name("FOO"), -1);
	assert_int_equal(sbx_oci_signal_from_name(NULL), -1);
	assert_int_equal(sbx_oci_signal_from_name("SIGRTMIN"), SIGRTMIN);
	assert_int_equal(sbx_oci_signal_from_name("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(sbx_oci_signal_from_name("SIGRTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(sbx_oci_signal_from_name("SIGRTMAX"), SIGRTMAX);
	assert_int_equal(sbx_oci_signal_from_name("SIGRTMIN-1"), -1);
	assert_int_equal(sbx_oci_signal_from_name("SIGRTMIN+99"), -1);
	assert_int_equal(sbx_oci_signal_from_name("SIGRTMIN+"), -1);
}

/* exec --process FILE: the process object alone. */
static void test_process_parse(void **state)
{
	(void)state;
	sbx_oci_process p;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	const char *json =
	    "{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/tmp\",\"env\":[\"A=b\"],"
	    "\"user\":{\"uid\":1000,\"gid\":1000},\"terminal\":true,"
	    "\"capabilities\":{\"bounding\":[\"CAP_KILL\"]},\"noNewPrivileges\":true,"
	    "\"consoleSize\":{\"height\":24,\"width\":80}}";
	assert_int_equal(sbx_oci_process_parse(json, strlen(json), &p, &e), 0);
	assert_strv(p.args, p.n_args, "ls", "-l");
	assert_string_equal(p.cwd, "/tmp");
	assert_strv(p.env, p.n_env, "A=b");
	assert_int_equal(p.uid, 1000);
	assert_true(p.terminal);
	assert_int_equal(p.caps[SBX_OCI_CAP_BOUNDING], CAP(5));
	assert_true(p.no_new_privileges);
	sbx_oci_process_clear(&p);
	assert_null(p.args);
	sbx_oci_process_clear(&p); /* twice: harmless */
	static const struct {
		const char *json, *msg;
	} t[] = {
	    {"{\"args\":[\"ls\"],\"cwd\":\"rel\"}", "process.cwd: 'rel' is not an absolute path"},
	    {"{\"cwd\":\"/\"}", "process.args: missing"},
	    {"[]", "process: not an object"},
	    {"{\"args\":[\"ls\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_X\",\"soft\":1,"
	     "\"hard\":1}]}",
	     "process.rlimits[0].type: unknown rlimit 'RLIMIT_X'"},
	    {"{\"args\":[\"ls\"],", "process: invalid JSON: at byte 15: unexpected end of input, "
				    "expected a string (object key)"},
	};
	for (size_t i = 0; i < N(t); i++) {
		memset(&p, 0xAB, sizeof(p));
		memset(&e, 0, sizeof(e));
		assert_int_equal(sbx_oci_process_parse(t[i].json, strlen(t[i].json), &p, &e),
				 -SBX_E_INVALID);
		if (strcmp(e.msg, t[i].msg))
			fail_msg("%s: '%s', wanted '%s'", t[i].json, e.msg, t[i].msg);
		assert_null(p.args); /* cleared */
		assert_null(p.cwd);
		assert_null(p.env);
	}
}

static void test_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/sbx-ocispec-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	sbx_oci_spec *s = (sbx_oci_spec *)0x1;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), -SBX_E_NOTFOUND);
	assert_null(s);
	char want[400];
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(e.msg, want);
	assert_int_equal(e.sys_errno, ENOENT);
	/* the real file */
	size_t len;
	_cleanup_free_ char *json = read_data("config-ctr.json", &len);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(json, 1, len, f), len);
	fclose(f);
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), 0);
	assert_string_equal(s->root_path, "rootfs");
	assert_string_equal(s->process.args[0], "python3");
	sbx_oci_spec_free(s);
	/* a bad one: the file's path in front of the field's */
	f = fopen(path, "w");
	fputs(TOP(",\"hostname\":1"), f);
	fclose(f);
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), -SBX_E_INVALID);
	snprintf(want, sizeof(want), "%s: hostname: not a string", path);
	assert_string_equal(e.msg, want);
	/* bigger than the cap (sparse) */
	assert_int_equal(truncate(path, SBX_OCI_CONFIG_MAX + 1), 0);
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), -SBX_E_INVALID);
	snprintf(want, sizeof(want), "%s: more than %u bytes", path, SBX_OCI_CONFIG_MAX);
	assert_string_equal(e.msg, want);
	/* exactly the cap: read, then refused as JSON (NUL bytes) */
	assert_int_equal(truncate(path, SBX_OCI_CONFIG_MAX), 0);
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "invalid JSON"));
	unlink(path);
	/* not a regular file */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), -SBX_E_INVALID);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(e.msg, want);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(sbx_oci_spec_load(dir, &s, &e), -SBX_E_INVALID);
	assert_string_equal(e.msg, want);
	rmdir(path);
	assert_int_equal(rmdir(dir), 0);
}

/* Arrays past SBX_OCI_MAX_ITEMS, values past the parser's cap, text past
 * SBX_OCI_CONFIG_MAX. */
static void test_huge(void **state)
{
	(void)state;
	_cleanup_buf_ sbx_buf b = {0};
	const char *const keys[] = {"args", "env"};
	for (size_t k = 0; k < N(keys); k++) {
		for (size_t n = SBX_OCI_MAX_ITEMS; n <= SBX_OCI_MAX_ITEMS + 1; n++) {
			b.len = 0;
			sbx_buf_puts(&b, HEAD ",\"process\":{\"cwd\":\"/\"");
			if (k)
				sbx_buf_puts(&b, ",\"args\":[\"a\"]");
			sbx_buf_printf(&b, ",\"%s\":[", keys[k]);
			for (size_t i = 0; i < n; i++)
				sbx_buf_puts(&b, i ? ",\"a=1\"" : "\"a=1\"");
			sbx_buf_puts(&b, "]}}");
			assert_false(b.oom);
			char want[100];
			snprintf(want, sizeof(want), "process.%s: more than %u entries", keys[k],
				 SBX_OCI_MAX_ITEMS);
			if (n > SBX_OCI_MAX_ITEMS) {
				bad(b.data, want);
			} else {
				_cleanup_spec_ sbx_oci_spec *s = parse_ok(b.data, b.len);
				assert_int_equal(k ? s->process.n_env : s->process.n_args, n);
			}
		}
	}
	/* annotations: an object */
	b.len = 0;
	sbx_buf_puts(&b, HEAD ",\"annotations\":{");
	for (size_t i = 0; i <= SBX_OCI_MAX_ITEMS; i++)
		sbx_buf_printf(&b, "%s\"k%zu\":\"v\"", i ? "," : "", i);
	sbx_buf_puts(&b, "}}");
	bad(b.data, "annotations: more than 4096 entries");
	/* many values in all (each array under its cap) */
	b.len = 0;
	sbx_buf_puts(&b, HEAD ",\"x\":[");
	for (size_t i = 0; i < 50; i++) {
		sbx_buf_puts(&b, i ? ",[" : "[");
		for (size_t k = 0; k < 4096; k++)
			sbx_buf_puts(&b, k ? ",0" : "0");
		sbx_buf_puts(&b, "]");
	}
	sbx_buf_puts(&b, "]}");
	bad(b.data, "~more than 200000 values");
	/* text over the cap: refused before parsing */
	sbx_oci_spec *s = (sbx_oci_spec *)0x1;
	sbx_error e;
	assert_int_equal(sbx_oci_spec_parse("{}", SBX_OCI_CONFIG_MAX + 1, &s, &e), -SBX_E_INVALID);
	assert_null(s);
	assert_string_equal(e.msg, "more than 4194304 bytes");
}

/* ---- mutated inputs: no crash, no leak (run under ASan), every refusal a
 * one-line -SBX_E_INVALID ---- */

static void try_parse(const char *json, size_t len)
{
	sbx_oci_spec *s = NULL;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	int r = sbx_oci_spec_parse(json, len, &s, &e);
	if (r == 0) {
		assert_non_null(s);
		sbx_oci_spec_free(s);
		return;
	}
	assert_null(s);
	if (r != -SBX_E_INVALID)
		fail_msg("%d: %s", r, e.msg);
	assert_true(e.msg[0] != '\0');
	assert_null(strchr(e.msg, '\n'));
}

/* Write v as JSON, the node numbered `target` (preorder) replaced by repl. */
static void emit(sbx_buf *b, const sbx_jval *v, size_t *counter, size_t target, const char *repl)
{
	if ((*counter)++ == target) {
		sbx_buf_puts(b, repl);
		return;
	}
	switch (v->type) {
	case SBX_J_NULL:
		sbx_buf_puts(b, "null");
		break;
	case SBX_J_BOOL:
		sbx_buf_puts(b, v->b ? "true" : "false");
		break;
	case SBX_J_NUM:
		if (v->is_int)
			sbx_buf_printf(b, "%lld", (long long)v->i);
		else
			sbx_buf_printf(b, "%.17g", v->num);
		break;
	case SBX_J_STR:
		sbx_json_string(b, v->str, v->len);
		break;
	case SBX_J_ARR:
	case SBX_J_OBJ:
		sbx_buf_puts(b, v->type == SBX_J_ARR ? "[" : "{");
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				sbx_buf_puts(b, ",");
			if (v->type == SBX_J_OBJ) {
				sbx_json_string(b, v->keys[i], strlen(v->keys[i]));
				sbx_buf_puts(b, ":");
			}
			emit(b, &v->items[i], counter, target, repl);
		}
		sbx_buf_puts(b, v->type == SBX_J_ARR ? "]" : "}");
		break;
	}
}

static void mutate_config(const char *name)
{
	size_t len;
	_cleanup_free_ char *json = read_data(name, &len);
	_cleanup_jval_ sbx_jval *root = NULL;
	assert_int_equal(sbx_jparse(json, len, &root, NULL), 0);
	static const char *const repl[] = {
	    "null", "true",   "0",    "-1",	"4294967296", "18446744073709551616",
	    "1.5",  "1e300",  "\"\"", "\"x\"",	"\"/\"",      "[]",
	    "{}",   "[null]", "[{}]", "[\"\"]", "{\"a\":1}",  "-9223372036854775808"};
	_cleanup_buf_ sbx_buf b = {0};
	size_t total = 0;
	emit(&b, root, &total, SIZE_MAX, NULL);
	/* the round trip itself parses */
	_cleanup_spec_ sbx_oci_spec *s = parse_ok(b.data, b.len);
	for (size_t t = 0; t < total; t++)
		for (size_t k = 0; k < N(repl); k++) {
			size_t counter = 0;
			b.len = 0;
			emit(&b, root, &counter, t, repl[k]);
			assert_false(b.oom);
			try_parse(b.data, b.len);
		}
}

static void test_mutated_values(void **state)
{
	(void)state;
	mutate_config("config-podman.json");
	mutate_config("config-ctr.json");
}

static void test_truncated_and_flipped(void **state)
{
	(void)state;
	const char *const names[] = {"config-podman.json", "config-ctr.json"};
	for (size_t f = 0; f < N(names); f++) {
		size_t len;
		_cleanup_free_ char *json = read_data(names[f], &len);
		for (size_t n = 0; n < len; n++) /* every prefix */
			try_parse(json, n);
		/* bytes changed at random (a fixed seed: the same run each time) */
		_cleanup_free_ char *copy = malloc(len);
		assert_non_null(copy);
		unsigned seed = 12345;
		static const char interesting[] = "{}[]\",:0-9eE.\\ntfu\x01\xff";
		for (int round = 0; round < 4000; round++) {
			memcpy(copy, json, len);
			int changes = 1 + (int)(rand_r(&seed) % 4);
			for (int c = 0; c < changes; c++) {
				size_t at = (size_t)rand_r(&seed) % len;
				copy[at] =
				    rand_r(&seed) % 2
					? interesting[rand_r(&seed) % (sizeof(interesting) - 1)]
					: (char)rand_r(&seed);
			}
			try_parse(copy, len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_podman),
	    cmocka_unit_test(test_ctr),
	    cmocka_unit_test(test_minimal_and_tolerant),
	    cmocka_unit_test(test_errors_top),
	    cmocka_unit_test(test_errors_process),
	    cmocka_unit_test(test_errors_top_parts),
	    cmocka_unit_test(test_errors_linux),
	    cmocka_unit_test(test_errors_seccomp),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_propagations),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_process_parse),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_huge),
	    cmocka_unit_test(test_mutated_values),
	    cmocka_unit_test(test_truncated_and_flipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
