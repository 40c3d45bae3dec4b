/* sbx_cleanup(): what killed sbx processes left behind, for every driver. */
#include <unistd.h>

#include "base/util.h"
#include "core/cgroup.h"
#include "drivers/oci.h"

SBX_API int sbx_cleanup(sbx_error *err)
{
	if (geteuid() != 0)
		return sbx_fail(err, SBX_E_PRIVILEGE, "sbx must run as root (cgroups)");
	int n = sbx_cgroup_sweep();
	return n + sbx_oci_sweep("podman") + sbx_oci_sweep("docker");
}
