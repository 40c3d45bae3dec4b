/* A bundle's config.json (OCI runtime-spec 1.0.2), parsed and checked:
 * pure logic, no I/O but sbx_oci_spec_load's read of the file. Everything
 * the runtime does is decided from this struct; the JSON is not kept. */
#ifndef SBX_OCIRT_SPEC_H
#define SBX_OCIRT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/util.h"

/* Caps on what a config may ask for (bigger input is refused, not cut). */
#define SBX_OCI_CONFIG_MAX (4u << 20) /* bytes of config.json / process.json */
#define SBX_OCI_MAX_ITEMS 4096	      /* entries of any one array */

typedef struct sbx_oci_mount {
	char *destination; /* absolute path inside the container */
	char *type;	   /* NULL when absent (a bind, by its options) */
	char *source;	   /* may be NULL */
	char **options;	   /* the raw option strings, n_options of them */
	size_t n_options;
} sbx_oci_mount;

/* One entry of linux.namespaces: kind is a CLONE_NEW* flag. */
typedef struct sbx_oci_ns {
	int kind;
	char *path; /* join this one (setns) instead of a new one; NULL: new */
} sbx_oci_ns;

typedef struct sbx_oci_idmap {
	uint32_t container_id, host_id, size;
} sbx_oci_idmap;

typedef struct sbx_oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
} sbx_oci_rlimit;

/* The five capability sets, as bit masks of CAP_* numbers. */
enum {
	SBX_OCI_CAP_BOUNDING,
	SBX_OCI_CAP_EFFECTIVE,
	SBX_OCI_CAP_INHERITABLE,
	SBX_OCI_CAP_PERMITTED,
	SBX_OCI_CAP_AMBIENT,
	SBX_OCI_CAP_NSETS
};

typedef struct sbx_oci_process {
	bool terminal;
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
	char **args; /* NULL-terminated, n_args >= 1 */
	size_t n_args;
	char **env; /* NULL-terminated (may be just {NULL}) */
	size_t n_env;
	char *cwd;     /* absolute */
	bool has_caps; /* "capabilities" present (absent: all sets empty) */
	uint64_t caps[SBX_OCI_CAP_NSETS];
	bool no_new_privileges;
	sbx_oci_rlimit *rlimits;
	size_t n_rlimits;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile; /* NULL when absent or "" */
	char *selinux_label;	/* NULL when absent or "" */
} sbx_oci_process;

typedef struct sbx_oci_hook {
	char *path;  /* absolute */
	char **args; /* NULL-terminated; NULL when absent */
	char **env;  /* NULL-terminated; NULL when absent */
	int timeout; /* seconds; 0 when absent */
} sbx_oci_hook;

enum {
	SBX_OCI_HOOK_PRESTART,
	SBX_OCI_HOOK_CREATE_RUNTIME,
	SBX_OCI_HOOK_CREATE_CONTAINER,
	SBX_OCI_HOOK_START_CONTAINER,
	SBX_OCI_HOOK_POSTSTART,
	SBX_OCI_HOOK_POSTSTOP,
	SBX_OCI_HOOK_NKINDS
};

typedef struct sbx_oci_device {
	char type; /* 'c', 'b', 'u' or 'p' */
	char *path;
	int64_t major, minor;
	bool has_mode, has_uid, has_gid;
	mode_t mode; /* permission bits (fileMode & 07777) */
	uint32_t uid, gid;
} sbx_oci_device;

/* linux.resources.devices: the device cgroup's rules, in order. */
typedef struct sbx_oci_devrule {
	bool allow;
	char type;	      /* 'a' (also when absent), 'c' or 'b' */
	int64_t major, minor; /* -1: any ("*") */
	char access[4];	      /* subset of "rwm", in that order; "rwm" when absent */
} sbx_oci_devrule;

typedef struct sbx_oci_resources {
	/* memory: -1 when absent */
	int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp;
	int64_t mem_swappiness; /* -1 when absent */
	bool has_disable_oom_killer, disable_oom_killer;
	/* cpu: 0 / -1 / NULL when absent */
	uint64_t cpu_shares;	/* 0: absent */
	int64_t cpu_quota;	/* -1: absent (also -1 as "no limit" in the JSON: same) */
	uint64_t cpu_period;	/* 0: absent */
	int64_t cpu_rt_runtime; /* -1: absent */
	uint64_t cpu_rt_period; /* 0: absent */
	char *cpus, *mems;	/* cpuset lists; NULL: absent */
	/* pids: 0 when absent; -1 (or 0 in the JSON) means unlimited */
	bool has_pids_limit;
	int64_t pids_limit;
	sbx_oci_devrule *devices;
	size_t n_devices;
	/* present in the config but not supported here (blockIO, hugepageLimits,
	 * network, rdma, unified): the runtime refuses those with a clear line. */
	bool has_blkio, has_hugetlb, has_network, has_rdma, has_unified;
} sbx_oci_resources;

/* linux.seccomp */
typedef struct sbx_oci_sc_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare (SCMP_CMP_EQ...) */
} sbx_oci_sc_arg;

typedef struct sbx_oci_sc_rule {
	char **names; /* n_names syscall names */
	size_t n_names;
	uint32_t action; /* SCMP_ACT_* with the errno/trace value folded in */
	sbx_oci_sc_arg *args;
	size_t n_args;
} sbx_oci_sc_rule;

typedef struct sbx_oci_seccomp {
	uint32_t default_action; /* SCMP_ACT_* (errno folded in: defaultErrnoRet, else EPERM) */
	uint32_t *archs;	 /* SCMP_ARCH_* tokens */
	size_t n_archs;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* */
	sbx_oci_sc_rule *rules;
	size_t n_rules;
	char *listener_path; /* refused when set (no notify support) */
} sbx_oci_seccomp;

typedef struct sbx_oci_kv {
	char *key, *value;
} sbx_oci_kv;

typedef struct sbx_oci_spec {
	char *oci_version;
	char *root_path; /* as written (may be relative to the bundle) */
	bool root_readonly;
	char *hostname; /* NULL when absent */
	char *domainname;
	sbx_oci_mount *mounts;
	size_t n_mounts;
	bool has_process;
	sbx_oci_process process;
	sbx_oci_hook *hooks[SBX_OCI_HOOK_NKINDS];
	size_t n_hooks[SBX_OCI_HOOK_NKINDS];
	sbx_oci_kv *annotations;
	size_t n_annotations;
	/* linux */
	sbx_oci_ns *namespaces;
	size_t n_namespaces;
	sbx_oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	sbx_oci_kv *sysctl;
	size_t n_sysctl;
	bool has_resources;
	sbx_oci_resources resources;
	char *cgroups_path; /* NULL when absent */
	sbx_oci_device *devices;
	size_t n_devices;
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	unsigned long rootfs_propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC);
					     0: absent */
	char *mount_label;		  /* NULL when absent or "" */
	bool has_seccomp;
	sbx_oci_seccomp seccomp;
	bool has_personality;
	unsigned long personality; /* PER_LINUX or PER_LINUX32 */
} sbx_oci_spec;

/* Parse config.json text. 0 and a new spec in *out, or -SBX_E_INVALID with
 * err naming the field ("linux.namespaces[2].type: unknown namespace
 * 'foo'"). Checks: ociVersion 1.0.x or 1.1.x..; process.args non-empty;
 * cwd absolute; mount destinations absolute; unknown capability,
 * rlimit, namespace, seccomp action/arch/op names; numbers in range;
 * a namespace kind listed twice. */
int sbx_oci_spec_parse(const char *json, size_t len, sbx_oci_spec **out, sbx_error *err);
/* Read BUNDLE/config.json (at most SBX_OCI_CONFIG_MAX bytes) and parse it.
 * -SBX_E_NOTFOUND when there is none ("BUNDLE/config.json: No such file or
 * directory"), -SBX_E_SYSTEM when it cannot be read, -SBX_E_INVALID for
 * its content ("BUNDLE/config.json: process.cwd: missing"). */
int sbx_oci_spec_load(const char *bundle, sbx_oci_spec **out, sbx_error *err);
/* A process.json of `exec --process F`: the "process" object alone. */
int sbx_oci_process_parse(const char *json, size_t len, sbx_oci_process *out, sbx_error *err);
void sbx_oci_process_clear(sbx_oci_process *p);
void sbx_oci_spec_free(sbx_oci_spec *s);
static inline void sbx_oci_spec_freep(sbx_oci_spec **s)
{
	sbx_oci_spec_free(*s);
	*s = NULL;
}
#define _cleanup_spec_ _cleanup_(sbx_oci_spec_freep)

/* Whether the config has a namespace of this kind (CLONE_NEW*), and its path. */
const sbx_oci_ns *sbx_oci_spec_ns(const sbx_oci_spec *s, int kind);

/* Names <-> numbers (pure lookups). */
int sbx_oci_cap_from_name(const char *name);	/* "CAP_CHOWN" -> 0; -1 unknown */
int sbx_oci_rlimit_from_name(const char *name); /* "RLIMIT_NOFILE" -> 7; -1 */
/* A signal as `kill` takes it: "KILL", "SIGKILL", "9" -> 9; -1 unknown. */
int sbx_oci_signal_from_name(const char *name);

#endif
