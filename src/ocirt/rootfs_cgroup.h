/* A config.mounts entry of type "cgroup" (before pivot_root). */
#ifndef SBX_OCIRT_ROOTFS_CGROUP_H
#define SBX_OCIRT_ROOTFS_CGROUP_H

#include <stdbool.h>
#include "ocirt/spec.h"

/* The process's own cgroups at m->destination inside the root: with
 * cgroup2 alone on the host, a cgroup2 mount in a new cgroup namespace
 * (new_cgns), else a bind of the process's cgroup directory; with v1
 * hierarchies, a tmpfs with one entry per hierarchy of /proc/self/cgroup
 * (a cgroup mount in a new cgroup namespace, else a bind of the process's
 * directory in the host's hierarchy; links for the co-mounted names:
 * cpu -> cpu,cpuacct) and the cgroup2 one as "unified" on a hybrid host.
 * "ro" makes every part read-only. 0, or -SBX_E_SETUP. */
int sbx_oci_mount_cgroup(int rootfd, const sbx_oci_mount *m, bool new_cgns, sbx_error *err);

#endif
