/* Dropping privileges: capabilities, securebits, no_new_privs, rlimits. */
#include <fcntl.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>

#include "base/util.h"
#include "core/privs.h"

/* Capabilities that, inside a user namespace, act only on what is mapped
 * into it: files whose owner is mapped (the sandbox's /tmp, its workspace
 * through the idmapped mount; the rootfs belongs to unmapped host root),
 * processes of its pid namespace, ports of its network namespace. Not kept:
 * anything checked against the host (CAP_SYS_*, CAP_AUDIT_*, CAP_MKNOD, ...)
 * and what only widens kernel surface (CAP_NET_RAW, CAP_NET_ADMIN,
 * CAP_SYS_ADMIN, CAP_SETPCAP, CAP_SETFCAP). */
static const cap_value_t workload_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
    CAP_KILL,  CAP_SETGID,	 CAP_SETUID, CAP_NET_BIND_SERVICE,
};

static struct {
	cap_t empty;
	cap_t ns_set;
	int last_cap;
} shared;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void init_shared(void)
{
	shared.empty = cap_init(); /* all flags clear */
	shared.ns_set = cap_init();
	if (shared.ns_set &&
	    (cap_set_flag(shared.ns_set, CAP_PERMITTED, (int)ARRAY_LEN(workload_caps),
			  workload_caps, CAP_SET) < 0 ||
	     cap_set_flag(shared.ns_set, CAP_EFFECTIVE, (int)ARRAY_LEN(workload_caps),
			  workload_caps, CAP_SET) < 0)) {
		cap_free(shared.ns_set);
		shared.ns_set = NULL;
	}
	char buf[16];
	shared.last_cap = CAP_LAST_CAP;
	if (sbx_read_fileat(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf), NULL) > 0)
		shared.last_cap = atoi(buf);
}

int sbx_privs_prepare(sbx_privs *p, const sbx_config *cfg, sbx_error *err)
{
	pthread_once(&shared_once, init_shared);
	if (!shared.empty || !shared.ns_set)
		return sbx_fail(err, SBX_E_SYSTEM, "libcap: cannot allocate a capability set");
	p->empty = shared.empty;
	p->ns_set = shared.ns_set;
	p->last_cap = shared.last_cap;
	p->nofile = (struct rlimit){cfg->nofile, cfg->nofile};
	p->core = (struct rlimit){0, 0};
	rlim_t fs = cfg->fsize_limit ? (rlim_t)cfg->fsize_limit : RLIM_INFINITY;
	p->fsize = (struct rlimit){fs, fs};
	return 0;
}

static bool kept(int c)
{
	for (size_t i = 0; i < ARRAY_LEN(workload_caps); i++)
		if (workload_caps[i] == c)
			return true;
	return false;
}

/* Securebits, bounding set (all but the kept ones), ambient set cleared,
 * the capability sets, then no_new_privs: with nothing kept, root inside
 * must never regain capabilities through execve, set-uid transitions or
 * ambient raising; with the workload set, root semantics stay (execve as
 * root keeps the set, a switch to another uid clears it). Locked either way. */
#define WORKLOAD_SECBITS                                                                           \
	(SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |          \
	 SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

uint64_t sbx_privs_workload_mask(void)
{
	uint64_t m = 0;
	for (size_t i = 0; i < ARRAY_LEN(workload_caps); i++)
		m |= 1ull << workload_caps[i];
	return m;
}

unsigned sbx_privs_workload_secbits(void)
{
	return WORKLOAD_SECBITS;
}

static int drop(const sbx_privs *p, bool keep_ns, sbx_error *err)
{
	unsigned bits = WORKLOAD_SECBITS;
	if (!keep_ns)
		bits |= SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP;
	if (cap_set_secbits(bits) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "securebits");
	for (int c = 0; c <= p->last_cap; c++)
		if (!(keep_ns && kept(c)) && cap_drop_bound((cap_value_t)c) < 0 && errno != EINVAL)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "bounding set (%d)", c);
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "ambient set");
	if (cap_set_proc(keep_ns ? p->ns_set : p->empty) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "capability sets");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "no_new_privs");
	return 0;
}

int sbx_privs_drop_all(const sbx_privs *p, sbx_error *err)
{
	return drop(p, false, err);
}

int sbx_privs_drop_to_workload(const sbx_privs *p, sbx_error *err)
{
	return drop(p, true, err);
}

int sbx_rlimits_apply(const sbx_privs *p, sbx_error *err)
{
	if (setrlimit(RLIMIT_NOFILE, &p->nofile) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "setrlimit NOFILE");
	if (setrlimit(RLIMIT_CORE, &p->core) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "setrlimit CORE");
	if (setrlimit(RLIMIT_FSIZE, &p->fsize) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "setrlimit FSIZE");
	return 0;
}
