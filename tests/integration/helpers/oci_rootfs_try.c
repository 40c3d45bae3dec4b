/* oci_rootfs_try: sbx_oci_rootfs_setup by hand, before `create` exists.
 *   oci_rootfs_try ROOTFS PROFILE 'SHELL COMMAND'
 *   oci_rootfs_try --bundle BUNDLE 'SHELL COMMAND'
 * --bundle: BUNDLE/config.json through sbx_oci_spec_load (linked in
 * when spec.c is; a weak reference until then), its new namespaces but a
 * user namespace (refused), the root BUNDLE/root.path.
 * PROFILE: "ctr" or "podman" (the mounts, masked and read-only paths of
 * helpers/oci/config-{ctr,podman}.json, with /etc/hosts etc. bound from
 * files under ROOTFS/../binds), "ro" (ctr + root.readonly, a device, a
 * sysctl), "userns" (ctr + the device, in a user namespace mapping all
 * root to root alone: the device bound from the host), "escape" (mounts
 * through ROOTFS/evil -> /etc and ROOTFS/up -> ../../..: they must land
 * inside ROOTFS). New mount, pid, net, ipc, uts namespaces (+ cgroup for
 * "podman"); the command runs as /bin/sh -c inside the new root. Exit
 * status: the command's, or 100 when the set-up failed (the message on
 * stderr). */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx.h"
#include "ocirt/rootfs.h"

#define M(dst, typ, src, ...)                                                                      \
	{                                                                                          \
		.destination = dst, .type = typ, .source = src,                                    \
		.options = (char *[]){__VA_ARGS__},                                                \
		.n_options = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)                      \
	}

static sbx_oci_mount ctr_mounts[] = {
    M("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
    M("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
    M("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
      "mode=0620", "gid=5"),
    M("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
    M("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
    M("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
    M("/run", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
};
static char *ctr_masked[] = {"/proc/acpi",	  "/proc/asound",	 "/proc/kcore",
			     "/proc/keys",	  "/proc/latency_stats", "/proc/timer_list",
			     "/proc/timer_stats", "/proc/sched_debug",	 "/sys/firmware",
			     "/proc/scsi"};
static char *ctr_ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

static sbx_oci_mount podman_mounts[] = {
    M("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
    M("/dev", "tmpfs", "tmpfs", "nosuid", "noexec", "strictatime", "mode=755", "size=65536k"),
    M("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
    M("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
      "mode=0620", "gid=5"),
    M("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
    M("/etc/hosts", "bind", "../binds/hosts", "bind", "rprivate"),
    M("/dev/shm", "bind", "../binds/shm", "bind", "rprivate", "nosuid", "noexec", "nodev"),
    M("/run/.containerenv", "bind", "../binds/.containerenv", "bind", "rprivate"),
    M("/etc/hostname", "bind", "../binds/hostname", "bind", "rprivate"),
    M("/sys/fs/cgroup", "cgroup", "cgroup", "rprivate", "nosuid", "noexec", "nodev", "relatime",
      "ro"),
};
static char *podman_masked[] = {"/proc/acpi",	       "/proc/kcore",	   "/proc/keys",
				"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
				"/proc/sched_debug",   "/proc/scsi",	   "/sys/firmware",
				"/sys/fs/selinux",     "/sys/dev/block"};
static char *podman_ro[] = {"/proc/asound", "/proc/bus", "/proc/fs",
			    "/proc/irq",    "/proc/sys", "/proc/sysrq-trigger"};

static sbx_oci_device ro_devices[] = {
    {.type = 'c',
     .path = "/dev/fuse",
     .major = 10,
     .minor = 229,
     .has_mode = true,
     .mode = 0600,
     .has_uid = true,
     .uid = 1000,
     .has_gid = true,
     .gid = 1001},
};
static sbx_oci_kv ro_sysctl[] = {{.key = "net.ipv4.ping_group_range", .value = "0 0"}};

/* ctr's, but devpts without gid=5 (not mapped in the user namespace). */
static sbx_oci_mount userns_mounts[] = {
    M("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
    M("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
    M("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
      "mode=0620"),
    M("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
    M("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
    M("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
    M("/run", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
};

static sbx_oci_mount escape_mounts[] = {
    M("/evil/escaped", "tmpfs", "tmpfs", "size=1k"),
    M("/up/up-escaped", "tmpfs", "tmpfs", "size=1k"),
    M("/../../../dotdot-escaped", "tmpfs", "tmpfs", "size=1k"),
};

static int fill(sbx_oci_spec *s, const char *profile)
{
	static sbx_oci_ns cgns = {.kind = CLONE_NEWCGROUP};
	memset(s, 0, sizeof(*s));
	s->has_process = true;
	s->process.cwd = "/work/dir";
	if (strcmp(profile, "escape") == 0) {
		s->mounts = escape_mounts, s->n_mounts = ARRAY_LEN(escape_mounts);
		return 0;
	}
	if (strcmp(profile, "userns") == 0) {
		s->mounts = userns_mounts, s->n_mounts = ARRAY_LEN(userns_mounts);
		s->masked_paths = ctr_masked, s->n_masked_paths = ARRAY_LEN(ctr_masked);
		s->readonly_paths = ctr_ro, s->n_readonly_paths = ARRAY_LEN(ctr_ro);
		s->root_readonly = true;
		s->devices = ro_devices, s->n_devices = ARRAY_LEN(ro_devices);
		return 0;
	}
	if (strcmp(profile, "ctr") == 0 || strcmp(profile, "ro") == 0) {
		s->mounts = ctr_mounts, s->n_mounts = ARRAY_LEN(ctr_mounts);
		s->masked_paths = ctr_masked, s->n_masked_paths = ARRAY_LEN(ctr_masked);
		s->readonly_paths = ctr_ro, s->n_readonly_paths = ARRAY_LEN(ctr_ro);
		if (profile[0] == 'r') {
			s->root_readonly = true;
			s->devices = ro_devices, s->n_devices = ARRAY_LEN(ro_devices);
			s->sysctl = ro_sysctl, s->n_sysctl = ARRAY_LEN(ro_sysctl);
		}
		return 0;
	}
	if (strcmp(profile, "podman") == 0 || strcmp(profile, "podman-nocgns") == 0) {
		s->mounts = podman_mounts, s->n_mounts = ARRAY_LEN(podman_mounts);
		s->masked_paths = podman_masked, s->n_masked_paths = ARRAY_LEN(podman_masked);
		s->readonly_paths = podman_ro, s->n_readonly_paths = ARRAY_LEN(podman_ro);
		s->sysctl = ro_sysctl, s->n_sysctl = ARRAY_LEN(ro_sysctl);
		if (strcmp(profile, "podman") == 0)
			s->namespaces = &cgns, s->n_namespaces = 1;
		return 0;
	}
	return -1;
}

/* spec.c (another helper's) may not be linked in yet. */
int sbx_oci_spec_load(const char *bundle, sbx_oci_spec **out, sbx_error *err) __attribute__((weak));

static int bundle_main(const char *bundle, const char *cmd)
{
	if (!sbx_oci_spec_load) {
		fprintf(stderr, "oci_rootfs_try: --bundle needs spec.c linked in\n");
		return 2;
	}
	sbx_oci_spec *s = NULL;
	sbx_error err;
	memset(&err, 0, sizeof(err));
	if (sbx_oci_spec_load(bundle, &s, &err) < 0) {
		fprintf(stderr, "oci_rootfs_try: %s\n", err.msg);
		return 100;
	}
	int flags = 0;
	for (size_t i = 0; i < s->n_namespaces; i++) {
		if (s->namespaces[i].path || s->namespaces[i].kind == CLONE_NEWUSER) {
			fprintf(stderr, "oci_rootfs_try: a user namespace or a namespace path\n");
			return 2;
		}
		flags |= s->namespaces[i].kind;
	}
	char rootfs[4096];
	if (s->root_path[0] == '/')
		snprintf(rootfs, sizeof(rootfs), "%s", s->root_path);
	else
		snprintf(rootfs, sizeof(rootfs), "%s/%s", bundle, s->root_path);
	if (unshare(flags | CLONE_NEWNS) < 0 || chdir(bundle) < 0) {
		perror("oci_rootfs_try: unshare, chdir");
		return 100;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 100;
	if (pid == 0) {
		if (sbx_oci_rootfs_setup(s, rootfs, false, &err) < 0) {
			fprintf(stderr, "oci_rootfs_try: %s\n", err.msg);
			_exit(100);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		perror("oci_rootfs_try: exec /bin/sh");
		_exit(100);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return 100;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int r = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) < 0 ? -1 : r;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--bundle") == 0)
		return bundle_main(argv[2], argv[3]);
	if (argc != 4) {
		fprintf(stderr, "usage: oci_rootfs_try ROOTFS PROFILE 'COMMAND'\n"
				"       oci_rootfs_try --bundle BUNDLE 'COMMAND'\n");
		return 2;
	}
	sbx_oci_spec s;
	if (fill(&s, argv[2]) < 0) {
		fprintf(stderr, "oci_rootfs_try: unknown profile %s\n", argv[2]);
		return 2;
	}
	bool userns = strcmp(argv[2], "userns") == 0;
	if (userns &&
	    (unshare(CLONE_NEWUSER) < 0 || write_file("/proc/self/uid_map", "0 0 1") < 0 ||
	     write_file("/proc/self/setgroups", "deny") < 0 ||
	     write_file("/proc/self/gid_map", "0 0 1") < 0)) {
		perror("oci_rootfs_try: user namespace");
		return 100;
	}
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	if (s.n_namespaces)
		flags |= CLONE_NEWCGROUP;
	if (unshare(flags) < 0) {
		perror("oci_rootfs_try: unshare");
		return 100;
	}
	/* The relative bind sources are the bundle's: ROOTFS/.. */
	if (chdir(argv[1]) < 0) {
		perror("oci_rootfs_try: chdir");
		return 100;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 100;
	if (pid == 0) {
		sbx_error err;
		memset(&err, 0, sizeof(err));
		if (sbx_oci_rootfs_setup(&s, argv[1], userns, &err) < 0) {
			fprintf(stderr, "oci_rootfs_try: %s\n", err.msg);
			_exit(100);
		}
		execl("/bin/sh", "sh", "-c", argv[3], (char *)NULL);
		perror("oci_rootfs_try: exec /bin/sh");
		_exit(100);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return 100;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
