/* The steps of sbx_oci_process_exec that have files of their own
 * (process_caps.c, process_console.c). Same context: a single-threaded
 * forked child inside the container, which may allocate. */
#ifndef SBX_OCIRT_PROCESS_INT_H
#define SBX_OCIRT_PROCESS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "ocirt/spec.h"

/* The kernel's highest capability number (/proc/sys/kernel/cap_last_cap;
 * CAP_LAST_CAP of our headers when that cannot be read). */
int sbx_oci_cap_last(void);
/* Drop from the bounding set every capability not in p's bounding set
 * (needs CAP_SETPCAP: before the user change). 0 or -SBX_E_SETUP. */
int sbx_oci_caps_bound(const sbx_oci_process *p, sbx_error *err);
/* Effective, permitted and inheritable exactly as p says (capset), then
 * the ambient set cleared and p's ambient ones raised. After the user
 * change (with PR_SET_KEEPCAPS). 0 or -SBX_E_SETUP. */
int sbx_oci_caps_set(const sbx_oci_process *p, sbx_error *err);

/* "HOME=<dir>" (malloc'd) of uid in passwd text (len bytes, not
 * NUL-terminated): its sixth field, or "/" when no line has that uid.
 * NULL only when out of memory. */
char *sbx_oci_home_from_passwd(const char *text, size_t len, uint32_t uid);
/* The same from the container's /etc/passwd (a regular file, at most
 * 1 MiB read; missing or unreadable: "HOME=/"). */
char *sbx_oci_home_env(uint32_t uid);

#endif
