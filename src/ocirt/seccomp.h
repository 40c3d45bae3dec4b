/* linux.seccomp compiled with libseccomp into a BPF program: in the
 * runtime (parent), before the container's process is forked. */
#ifndef SBX_OCIRT_SECCOMP_H
#define SBX_OCIRT_SECCOMP_H

#include <linux/filter.h>
#include "ocirt/spec.h"

/* The program into *out (out->filter malloc'd: sbx_oci_seccomp_free).
 * Unknown syscall names are skipped (as runc does: the kernel may not
 * have them); anything else libseccomp refuses is -SBX_E_INVALID with err
 * naming the rule. */
int sbx_oci_seccomp_build(const sbx_oci_seccomp *sc, struct sock_fprog *out, sbx_error *err);
void sbx_oci_seccomp_free(struct sock_fprog *prog);
/* Load it in the calling thread with sc's flags (seccomp(2)); no
 * allocation. 0, or -SBX_E_SETUP with err. */
int sbx_oci_seccomp_load(const struct sock_fprog *prog, unsigned flags, sbx_error *err);

#endif
