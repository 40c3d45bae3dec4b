/* A "cgroup" mount (rootfs_cgroup.h). */
#include "ocirt/rootfs_cgroup.h"

int sbx_oci_mount_cgroup(int rootfd, const sbx_oci_mount *m, bool new_cgns, sbx_error *err)
{
	return sbx_fail(err, SBX_E_SETUP, "mount %s (cgroup): not supported yet", m->destination);
}
