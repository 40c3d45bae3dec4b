/* linux.seccomp compiled with libseccomp into a BPF program, and its load. */
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/util.h"
#include "ocirt/seccomp.h"

/* libseccomp's answers are -errno. */
static int add_rule(scmp_filter_ctx ctx, const sbx_oci_seccomp *sc, size_t i, sbx_error *err)
{
	const sbx_oci_sc_rule *rule = &sc->rules[i];
	/* libseccomp refuses a rule with the default action (runc skips it) */
	if (rule->action == sc->default_action)
		return 0;
	if (rule->n_args > 6)
		return sbx_fail(err, SBX_E_INVALID, "linux.seccomp.syscalls[%zu]: more than 6 args",
				i);
	struct scmp_arg_cmp cmp[6];
	for (size_t k = 0; k < rule->n_args; k++)
		cmp[k] =
		    (struct scmp_arg_cmp){rule->args[k].index, (enum scmp_compare)rule->args[k].op,
					  rule->args[k].value, rule->args[k].value_two};
	for (size_t n = 0; n < rule->n_names; n++) {
		int nr = seccomp_syscall_resolve_name(rule->names[n]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp or kernel: as runc */
		int rc = seccomp_rule_add_array(ctx, rule->action, nr, (unsigned)rule->n_args, cmp);
		/* -EDOM: a pseudo syscall absent on one of the architectures */
		if (rc < 0 && rc != -EDOM)
			return sbx_fail_errno(err, SBX_E_INVALID, -rc,
					      "linux.seccomp.syscalls[%zu] (%.64s)", i,
					      rule->names[n]);
	}
	return 0;
}

static int compile(scmp_filter_ctx ctx, const sbx_oci_seccomp *sc, struct sock_fprog *out,
		   sbx_error *err)
{
	/* the runtime sets no_new_privs itself (or not, as the config says) */
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, -rc, "seccomp filter");
	/* seccomp_init added the native architecture; keep it */
	for (size_t i = 0; i < sc->n_archs; i++) {
		rc = seccomp_arch_add(ctx, sc->archs[i]);
		if (rc < 0 && rc != -EEXIST)
			return sbx_fail_errno(err, SBX_E_INVALID, -rc,
					      "linux.seccomp.architectures[%zu]", i);
	}
	for (size_t i = 0; i < sc->n_rules; i++) {
		int r = add_rule(ctx, sc, i, err);
		if (r < 0)
			return r;
	}
	_cleanup_close_ int memfd = memfd_create("sbx-oci-seccomp", MFD_CLOEXEC);
	if (memfd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "seccomp filter");
	rc = seccomp_export_bpf(ctx, memfd);
	if (rc < 0)
		return sbx_fail_errno(err, SBX_E_INVALID, -rc, "seccomp filter");
	off_t len = lseek(memfd, 0, SEEK_END);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter))
		return sbx_fail_errno(err, SBX_E_SYSTEM, EIO, "seccomp filter");
	if (len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return sbx_fail(err, SBX_E_INVALID,
				"linux.seccomp: the filter has %lld instructions (at most %d)",
				(long long)(len / (off_t)sizeof(struct sock_filter)), BPF_MAXINSNS);
	struct sock_filter *f = malloc((size_t)len);
	if (!f)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "seccomp filter");
	if (pread(memfd, f, (size_t)len, 0) != len) {
		free(f);
		return sbx_fail_errno(err, SBX_E_SYSTEM, EIO, "seccomp filter");
	}
	out->filter = f;
	out->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	return 0;
}

int sbx_oci_seccomp_build(const sbx_oci_seccomp *sc, struct sock_fprog *out, sbx_error *err)
{
	out->filter = NULL;
	out->len = 0;
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (!ctx)
		return sbx_fail(err, SBX_E_INVALID,
				"linux.seccomp.defaultAction: refused by libseccomp");
	int r = compile(ctx, sc, out, err);
	seccomp_release(ctx);
	return r;
}

void sbx_oci_seccomp_free(struct sock_fprog *prog)
{
	if (!prog)
		return;
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

int sbx_oci_seccomp_load(const struct sock_fprog *prog, unsigned flags, sbx_error *err)
{
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
	if (rc < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "seccomp filter");
	if (rc > 0) /* TSYNC: a thread that could not be synchronised */
		return sbx_fail(err, SBX_E_SETUP, "seccomp filter: thread %ld not synchronised",
				rc);
	return 0;
}
