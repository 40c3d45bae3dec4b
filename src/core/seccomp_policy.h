/* The seccomp policy: default allow, a deny list returning errors. */
#ifndef SBX_SECCOMP_POLICY_H
#define SBX_SECCOMP_POLICY_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include "sbx.h"

typedef struct sbx_sc_cmp {
	unsigned arg;	      /* argument index */
	enum scmp_compare op; /* SCMP_CMP_MASKED_EQ, SCMP_CMP_GT, ... */
	uint64_t a, b;	      /* datum (mask and value for MASKED_EQ) */
} sbx_sc_cmp;

typedef struct sbx_sc_rule {
	const char *name; /* syscall name as libseccomp knows it */
	int nr;		  /* raw number when libseccomp may not know it, else -1 */
	int err;	  /* errno returned to the caller */
	unsigned ncmp;	  /* all comparisons must hold (AND) */
	sbx_sc_cmp cmp[2];
	const char *why;
} sbx_sc_rule;

extern const sbx_sc_rule sbx_seccomp_policy[];
extern const size_t sbx_seccomp_policy_len;

/* The filter: generated at build time from this table, or compiled once
 * per process when the library was built without it (thread-safe). */
int sbx_seccomp_program(const struct sock_fprog **prog, sbx_error *err);
/* Compile the table with libseccomp now (the generator; tests compare the
 * two). The program is owned by the library. */
int sbx_seccomp_compile(struct sock_fprog *out, sbx_error *err);
bool sbx_seccomp_is_prebuilt(void);

/* Load a compiled filter into the calling thread: async-signal-safe, for
 * use between clone and exec. 0, or -SBX_E_SETUP with err ("seccomp:
 * <strerror>"). */
int sbx_seccomp_load(const struct sock_fprog *prog, sbx_error *err);

/* The filters sbx_seccomp_load installs, in its order (prog last): for a
 * process that loads them itself (a zygote's child, native_zygote.c). */
#define SBX_SECCOMP_STAGES 3
void sbx_seccomp_stages(const struct sock_fprog *prog,
			const struct sock_fprog *out[SBX_SECCOMP_STAGES]);

#endif
