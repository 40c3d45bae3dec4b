/* The seccomp policy table and its compilation with libseccomp. */
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "base/util.h"
#include "core/seccomp_policy.h"

#define DENY(n, why)                                                                               \
	{                                                                                          \
		n, -1, EPERM, 0, {{0}}, why                                                        \
	}
#define DENY_ERR(n, e, why)                                                                        \
	{                                                                                          \
		n, -1, e, 0, {{0}}, why                                                            \
	}
#define MASK(i, m, v)                                                                              \
	{                                                                                          \
		i, SCMP_CMP_MASKED_EQ, m, v                                                        \
	}
#define DENY_IF(n, c1, why)                                                                        \
	{                                                                                          \
		n, -1, EPERM, 1, {c1}, why                                                         \
	}
#define DENY_IF2(n, c1, c2, why)                                                                   \
	{                                                                                          \
		n, -1, EPERM, 2, {c1, c2}, why                                                     \
	}
#define SETID_BIT(i) MASK(i, S_ISUID, S_ISUID)
#define SETGID_BIT(i) MASK(i, S_ISGID, S_ISGID)
#define CREAT(i) MASK(i, O_CREAT, O_CREAT)
#define TMPFILE(i) MASK(i, __O_TMPFILE, __O_TMPFILE)

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

/* Everything not listed is allowed. Errors, not kills: programs see a
 * normal failure. Capabilities are dropped as well; this table is the
 * second wall, and covers what capabilities do not (io_uring, userfaultfd,
 * ...). Foreign architectures (i386, x32) are killed: see build(). */
/* clang-format off */
const sbx_sc_rule sbx_seccomp_policy[] = {
	/* file systems and mounts */
	DENY("mount", "mount tables are fixed"),
	DENY("umount2", "mount tables are fixed"),
	DENY("pivot_root", "mount tables are fixed"),
	DENY("chroot", "root is fixed"),
	DENY("fsopen", "new mount API"),
	DENY("fsconfig", "new mount API"),
	DENY("fsmount", "new mount API"),
	DENY("fspick", "new mount API"),
	DENY("move_mount", "new mount API"),
	DENY("open_tree", "new mount API"),
	DENY("mount_setattr", "new mount API"),
	DENY("open_by_handle_at", "bypasses path checks (shocker)"),
	DENY("name_to_handle_at", "pairs with open_by_handle_at"),
	DENY("quotactl", "host quota"),
	DENY("quotactl_fd", "host quota"),
	/* namespaces */
	DENY("unshare", "no new namespaces"),
	DENY("setns", "no joining namespaces"),
	DENY_IF("clone", MASK(0, CLONE_NEWNS, CLONE_NEWNS), "no new mount namespace"),
	DENY_IF("clone", MASK(0, CLONE_NEWUTS, CLONE_NEWUTS), "no new uts namespace"),
	DENY_IF("clone", MASK(0, CLONE_NEWIPC, CLONE_NEWIPC), "no new ipc namespace"),
	DENY_IF("clone", MASK(0, CLONE_NEWUSER, CLONE_NEWUSER), "no new user namespace"),
	DENY_IF("clone", MASK(0, CLONE_NEWPID, CLONE_NEWPID), "no new pid namespace"),
	DENY_IF("clone", MASK(0, CLONE_NEWNET, CLONE_NEWNET), "no new net namespace"),
	DENY_IF("clone", MASK(0, CLONE_NEWCGROUP, CLONE_NEWCGROUP), "no new cgroup namespace"),
	/* clone3 passes flags in memory seccomp cannot read: ENOSYS makes
	 * libc fall back to clone, whose flags are checked above. */
	DENY_ERR("clone3", ENOSYS, "flags not inspectable"),
	/* the kernel itself */
	DENY("kexec_load", "replaces the kernel"),
	DENY("kexec_file_load", "replaces the kernel"),
	DENY("init_module", "kernel modules"),
	DENY("finit_module", "kernel modules"),
	DENY("delete_module", "kernel modules"),
	DENY("create_module", "kernel modules"),
	DENY("get_kernel_syms", "kernel modules"),
	DENY("query_module", "kernel modules"),
	DENY("reboot", "host power"),
	DENY("swapon", "host swap"),
	DENY("swapoff", "host swap"),
	DENY("acct", "host accounting"),
	DENY("syslog", "kernel log"),
	DENY("lookup_dcookie", "kernel profiling"),
	DENY("uselib", "obsolete"),
	DENY("ustat", "obsolete"),
	DENY("sysfs", "obsolete"),
	DENY("_sysctl", "obsolete"),
	DENY("nfsservctl", "obsolete"),
	DENY("vhangup", "terminal hang-up"),
	DENY("iopl", "raw I/O ports"),
	DENY("ioperm", "raw I/O ports"),
	DENY("bpf", "kernel programs"),
	DENY("perf_event_open", "kernel profiling, side channels"),
	DENY("fanotify_init", "file system wide watches"),
	DENY("userfaultfd", "exploitation aid"),
	DENY("io_uring_setup", "bypasses seccomp, large attack surface"),
	DENY("io_uring_enter", "bypasses seccomp, large attack surface"),
	DENY("io_uring_register", "bypasses seccomp, large attack surface"),
	/* kernel keyring */
	DENY("keyctl", "keyring is not namespaced"),
	DENY("add_key", "keyring is not namespaced"),
	DENY("request_key", "keyring is not namespaced"),
	/* clocks */
	DENY("settimeofday", "host clock"),
	DENY("clock_settime", "host clock"),
	DENY("clock_adjtime", "host clock"),
	DENY("adjtimex", "host clock"),
	/* other processes' memory */
	DENY("ptrace", "process inspection"),
	DENY("process_vm_readv", "process inspection"),
	DENY("process_vm_writev", "process inspection"),
	DENY("process_madvise", "process inspection"),
	DENY("pidfd_getfd", "process inspection"),
	DENY("kcmp", "process inspection"),
	/* NUMA placement */
	DENY("mbind", "NUMA policy"),
	DENY("set_mempolicy", "NUMA policy"),
	DENY("migrate_pages", "NUMA policy"),
	DENY("move_pages", "NUMA policy"),
	/* host identity */
	DENY("sethostname", "set at start"),
	DENY("setdomainname", "set at start"),
	/* personality: only the values Docker allows; an allow-list on one
	 * argument is beyond libseccomp's rules, see personality_filter. */
	/* terminal input injection into the caller's terminal */
	DENY_IF("ioctl", MASK(1, 0xffffffff, TIOCSTI), "terminal input injection"),
	DENY_IF("ioctl", MASK(1, 0xffffffff, TIOCLINUX), "terminal input injection"),
	/* set-id bits: useless inside (no_new_privs) and dangerous in a host
	 * workspace, where a host user could run the file */
	DENY_IF("chmod", SETID_BIT(1), "set-uid file"),
	DENY_IF("chmod", SETGID_BIT(1), "set-gid file"),
	DENY_IF("fchmod", SETID_BIT(1), "set-uid file"),
	DENY_IF("fchmod", SETGID_BIT(1), "set-gid file"),
	DENY_IF("fchmodat", SETID_BIT(2), "set-uid file"),
	DENY_IF("fchmodat", SETGID_BIT(2), "set-gid file"),
	{NULL, __NR_fchmodat2, EPERM, 1, {SETID_BIT(2)}, "set-uid file"},
	{NULL, __NR_fchmodat2, EPERM, 1, {SETGID_BIT(2)}, "set-gid file"},
	DENY_IF("creat", SETID_BIT(1), "set-uid file"),
	DENY_IF("creat", SETGID_BIT(1), "set-gid file"),
	DENY_IF2("open", CREAT(1), SETID_BIT(2), "set-uid file"),
	DENY_IF2("open", CREAT(1), SETGID_BIT(2), "set-gid file"),
	DENY_IF2("open", TMPFILE(1), SETID_BIT(2), "set-uid file"),
	DENY_IF2("open", TMPFILE(1), SETGID_BIT(2), "set-gid file"),
	DENY_IF2("openat", CREAT(2), SETID_BIT(3), "set-uid file"),
	DENY_IF2("openat", CREAT(2), SETGID_BIT(3), "set-gid file"),
	DENY_IF2("openat", TMPFILE(2), SETID_BIT(3), "set-uid file"),
	DENY_IF2("openat", TMPFILE(2), SETGID_BIT(3), "set-gid file"),
	/* openat2 keeps its mode in a struct: refuse it, libc does not need it */
	DENY_ERR("openat2", ENOSYS, "mode not inspectable"),
	DENY_IF("mknod", SETID_BIT(1), "set-uid file"),
	DENY_IF("mknod", SETGID_BIT(1), "set-gid file"),
	DENY_IF("mknodat", SETID_BIT(2), "set-uid file"),
	DENY_IF("mknodat", SETGID_BIT(2), "set-gid file"),
};
/* clang-format on */
const size_t sbx_seccomp_policy_len = ARRAY_LEN(sbx_seccomp_policy);

/* Compiled once per process (pthread_once), read-only after: the
 * program, or why there is none (err.code != SBX_OK). */
static struct {
	struct sock_fprog prog;
	sbx_error err;
} compiled;
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static int add_rule(scmp_filter_ctx ctx, const sbx_sc_rule *r, sbx_error *err)
{
	int nr = r->name ? seccomp_syscall_resolve_name(r->name) : r->nr;
	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown to this libseccomp: nothing to deny */
	struct scmp_arg_cmp cmp[2];
	for (unsigned i = 0; i < r->ncmp; i++)
		cmp[i] =
		    (struct scmp_arg_cmp){r->cmp[i].arg, r->cmp[i].op, r->cmp[i].a, r->cmp[i].b};
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO((uint32_t)r->err), nr, r->ncmp, cmp);
	/* -EDOM: a pseudo syscall that does not exist on this architecture. */
	if (rc < 0 && rc != -EDOM)
		return sbx_fail_errno(err, SBX_E_SYSTEM, -rc, "seccomp rule for %s",
				      r->name ? r->name : "(raw)");
	return 0;
}

/* libseccomp's answers are -errno. */
static int compile(struct sock_fprog *out, sbx_error *err)
{
	_cleanup_close_ int memfd = -1;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return sbx_fail(err, SBX_E_SYSTEM, "seccomp_init failed");
	/* Only the native architecture is added: i386 and x32 system calls
	 * hit the bad-arch action and kill the process. */
	int r = 0, rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* we set it ourselves */
	if (rc < 0)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, -rc, "seccomp filter");
	for (size_t i = 0; r == 0 && i < sbx_seccomp_policy_len; i++)
		r = add_rule(ctx, &sbx_seccomp_policy[i], err);
	if (r == 0) {
		memfd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
		rc = memfd < 0 ? -errno : seccomp_export_bpf(ctx, memfd);
		if (rc < 0)
			r = sbx_fail_errno(err, SBX_E_SYSTEM, -rc, "seccomp filter");
	}
	if (r == 0) {
		off_t len = lseek(memfd, 0, SEEK_END);
		struct sock_filter *f = len > 0 ? malloc((size_t)len) : NULL;
		if (!f || pread(memfd, f, (size_t)len, 0) != len) {
			free(f);
			r = sbx_fail_errno(err, SBX_E_SYSTEM, EIO, "seccomp filter");
		} else {
			out->filter = f;
			out->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
		}
	}
	seccomp_release(ctx);
	return r;
}

static void build(void)
{
	compile(&compiled.prog, &compiled.err);
}

/* The program as generated at build time (tools/gen-seccomp.c); the
 * generator itself links an empty one. Compiling at run time costs ~0.4 ms
 * per process. */
extern const struct sock_filter sbx_seccomp_prebuilt[];
extern const unsigned short sbx_seccomp_prebuilt_len;

static void load_program(void)
{
	if (sbx_seccomp_prebuilt_len > 0) {
		compiled.prog.filter = (struct sock_filter *)sbx_seccomp_prebuilt;
		compiled.prog.len = sbx_seccomp_prebuilt_len;
		return;
	}
	build();
}

/* A failure of the once-compiled program, as every caller's own. */
static int compiled_failure(sbx_error *err)
{
	if (err)
		*err = compiled.err;
	return -(int)compiled.err.code;
}

int sbx_seccomp_compile(struct sock_fprog *out, sbx_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, build);
	if (compiled.err.code != SBX_OK)
		return compiled_failure(err);
	*out = compiled.prog;
	return 0;
}

bool sbx_seccomp_is_prebuilt(void)
{
	return sbx_seccomp_prebuilt_len > 0;
}

int sbx_seccomp_program(const struct sock_fprog **prog, sbx_error *err)
{
	pthread_once(&compiled_once, load_program);
	if (compiled.err.code != SBX_OK)
		return compiled_failure(err);
	*prog = &compiled.prog;
	return 0;
}

/* personality(2) is allowed only for PER_LINUX (0), PER_LINUX32 (8),
 * UNAME26 (0x20000), their mix (0x20008) and the query 0xffffffff, as in
 * Docker's profile; anything else gets EPERM. The kernel reads only the
 * low 32 bits (an unsigned int), so does this filter. Stacked on the main filter
 * (the kernel applies the strictest answer of all filters). */
#define ARG0_LO offsetof(struct seccomp_data, args[0])
/* Prologue of the stacked filters: allow foreign architectures (the main
 * filter kills them), then load the system call number. */
#define NATIVE_NR                                                                                  \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),                   \
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),                          \
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                                          \
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* clang-format off */
static struct sock_filter personality_insns[] = {
	NATIVE_NR,
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0, 5, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8, 4, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20000, 3, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x20008, 2, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
/* clang-format on */
static const struct sock_fprog personality_filter = {
    .len = ARRAY_LEN(personality_insns),
    .filter = personality_insns,
};

/* socket(2) and socketpair(2) only for the families a sandbox needs; any
 * other gets EAFNOSUPPORT, as if the kernel lacked it. The reasons: some
 * families are not network-namespaced (AF_VSOCK reaches the VM host's
 * agents; AF_ALG, the kernel crypto API, is shared kernel state), and
 * asking for a family that is not loaded makes the kernel load its module
 * (a path to code nobody audited for this use). AF_NETLINK stays: libc
 * uses it (getifaddrs, getaddrinfo with AI_ADDRCONFIG); it is per network
 * namespace. */
#define ARG0_FAMILY ARG0_LO
/* clang-format off */
static struct sock_filter family_insns[] = {
	NATIVE_NR,
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 2, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_FAMILY),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 4, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 3, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 2, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
/* clang-format on */
static const struct sock_fprog family_filter = {
    .len = ARRAY_LEN(family_insns),
    .filter = family_insns,
};

void sbx_seccomp_stages(const struct sock_fprog *prog,
			const struct sock_fprog *out[SBX_SECCOMP_STAGES])
{
	out[0] = &personality_filter;
	out[1] = &family_filter;
	out[2] = prog;
}

int sbx_seccomp_load(const struct sock_fprog *prog, sbx_error *err)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &personality_filter) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "seccomp (personality filter)");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &family_filter) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "seccomp (socket family filter)");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "seccomp");
	return 0;
}
