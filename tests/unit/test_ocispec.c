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
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_podman),
	    cmocka_unit_test(test_ctr),
	    cmocka_unit_test(test_minimal_and_tolerant),
	    cmocka_unit_test(test_errors_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
