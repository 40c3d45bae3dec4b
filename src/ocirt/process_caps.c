/* The container process's capability sets: bounding, then effective,
 * permitted, inheritable (capset) and ambient. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/util.h"
#include "ocirt/process_int.h"

int sbx_oci_cap_last(void)
{
	char buf[32];
	if (sbx_read_fileat(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf), NULL) >
	    0) {
		char *end;
		long v = strtol(buf, &end, 10);
		if (end != buf && v >= 0 && v < 64)
			return (int)v;
	}
	return CAP_LAST_CAP;
}

/* The set's bits the kernel knows (higher ones are ignored, as runc and
 * crun ignore capabilities the kernel does not have). */
static uint64_t known(uint64_t set, int last)
{
	return last >= 63 ? set : set & ((UINT64_C(1) << (last + 1)) - 1);
}

int sbx_oci_caps_bound(const sbx_oci_process *p, sbx_error *err)
{
	int last = sbx_oci_cap_last();
	uint64_t keep = known(p->caps[SBX_OCI_CAP_BOUNDING], last);
	for (int c = 0; c <= last; c++) {
		if (keep & (UINT64_C(1) << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return sbx_fail_errno(err, SBX_E_SETUP, errno,
					      "drop capability %d from the bounding set", c);
	}
	return 0;
}

int sbx_oci_caps_set(const sbx_oci_process *p, sbx_error *err)
{
	int last = sbx_oci_cap_last();
	uint64_t eff = known(p->caps[SBX_OCI_CAP_EFFECTIVE], last);
	uint64_t prm = known(p->caps[SBX_OCI_CAP_PERMITTED], last);
	uint64_t inh = known(p->caps[SBX_OCI_CAP_INHERITABLE], last);
	uint64_t amb = known(p->caps[SBX_OCI_CAP_AMBIENT], last);
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2] = {
	    {.effective = (uint32_t)eff, .permitted = (uint32_t)prm, .inheritable = (uint32_t)inh},
	    {.effective = (uint32_t)(eff >> 32),
	     .permitted = (uint32_t)(prm >> 32),
	     .inheritable = (uint32_t)(inh >> 32)},
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "clear the ambient capabilities");
	for (int c = 0; c <= last; c++) {
		if (!(amb & (UINT64_C(1) << c)))
			continue;
		/* The kernel refuses (EPERM) a capability that is not both
		 * permitted and inheritable: skipped, as runc does (runtime-spec
		 * configs often list ambient ones without inheritable). */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM)
			return sbx_fail_errno(err, SBX_E_SETUP, errno,
					      "raise ambient capability %d", c);
	}
	return 0;
}
