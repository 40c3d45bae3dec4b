/* Masked and read-only paths, sysctl (rootfs_mask.h). */
#include "ocirt/rootfs_mask.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int sbx_oci_mask_paths(const sbx_oci_spec *s, sbx_error *err)
{
	for (size_t i = 0; i < s->n_masked_paths; i++) {
		const char *p = s->masked_paths[i];
		struct stat st;
		if (stat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "maskedPaths %s", p);
		}
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL)
					    : mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (r < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "maskedPaths %s", p);
	}
	return 0;
}

int sbx_oci_remount_ro(const char *path, sbx_error *err)
{
	struct statvfs v;
	if (statvfs(path, &v) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "remount %s read-only", path);
	unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY;
	if (v.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (v.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (v.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (v.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (v.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (v.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	if (mount(NULL, path, NULL, f, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "remount %s read-only", path);
	return 0;
}

int sbx_oci_readonly_paths(const sbx_oci_spec *s, sbx_error *err)
{
	for (size_t i = 0; i < s->n_readonly_paths; i++) {
		const char *p = s->readonly_paths[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "readonlyPaths %s", p);
		}
		int r = sbx_oci_remount_ro(p, err);
		if (r < 0)
			return sbx_error_wrap(err, r, "readonlyPaths");
	}
	return 0;
}

int sbx_oci_sysctl_path(const char *name, char **out, sbx_error *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || strchr(name, '/') || strstr(name, "..") || name[0] == '.')
		return sbx_fail(err, SBX_E_INVALID, "sysctl '%.64s': not a sysctl name", name);
	char *p = malloc(sizeof("/proc/sys/") + n);
	if (!p)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	strcpy(p, "/proc/sys/");
	char *q = p + strlen(p);
	for (size_t i = 0; i <= n; i++)
		q[i] = name[i] == '.' ? '/' : name[i];
	*out = p;
	return 0;
}

int sbx_oci_sysctl_apply(const sbx_oci_spec *s, sbx_error *err)
{
	for (size_t i = 0; i < s->n_sysctl; i++) {
		_cleanup_free_ char *p = NULL;
		int r = sbx_oci_sysctl_path(s->sysctl[i].key, &p, err);
		if (r < 0)
			return r;
		_cleanup_close_ int fd = open(p, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		const char *v = s->sysctl[i].value ? s->sysctl[i].value : "";
		size_t len = strlen(v);
		if (fd < 0 || write(fd, v, len) != (ssize_t)len)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "sysctl %s",
					      s->sysctl[i].key);
	}
	return 0;
}
