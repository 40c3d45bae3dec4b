/* Lookups and creations inside a container's root (rootfs_path.h). */
#include "ocirt/rootfs_path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sbx_oci_root_open(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

const char *sbx_oci_fd_path(int fd, char *buf, size_t cap)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
	return buf;
}

/* Create the last component of path (which ends at end) in its parent. */
static int create_one(int rootfd, char *path, char *slash, bool as_file, sbx_error *err)
{
	*slash = '\0';
	_cleanup_close_ int parent =
	    sbx_oci_root_open(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY);
	*slash = '/';
	if (parent < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "create %s: open its parent", path);
	const char *name = slash + 1;
	int r = as_file ? mknodat(parent, name, S_IFREG | 0644, 0) : mkdirat(parent, name, 0755);
	if (r < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "create %s", path);
	return 0;
}

int sbx_oci_root_mkpath(int rootfd, const char *path, bool as_file, sbx_error *err)
{
	size_t len = strlen(path);
	if (len == 0 || len >= 4096)
		return sbx_fail(err, SBX_E_SETUP, "create '%.64s': bad path", path);
	_cleanup_free_ char *p = malloc(len + 2);
	if (!p)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	/* Always absolute (inside the root), no trailing slashes. */
	p[0] = '/';
	memcpy(p + (path[0] == '/'), path, len + 1);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';

	/* The whole path first: most exist. */
	int fd = sbx_oci_root_open(rootfd, p, O_PATH);
	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "open %s", p);
		return fd;
	}
	/* Component by component: each prefix opened (or made) in the root. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		bool last = *s == '\0';
		char saved = *s;
		*s = '\0';
		fd = sbx_oci_root_open(rootfd, p, O_PATH);
		int e = errno;
		*s = saved;
		if (fd < 0 && e != ENOENT) {
			*s = '\0';
			int r = sbx_fail_errno(err, SBX_E_SETUP, e, "open %s", p);
			*s = saved;
			return r;
		}
		if (fd < 0) {
			*s = '\0';
			char *slash = strrchr(p, '/');
			int r = create_one(rootfd, p, slash, last && as_file, err);
			*s = saved;
			if (r < 0)
				return r;
		} else if (!last) {
			close(fd);
		}
		if (last) {
			if (fd < 0)
				fd = sbx_oci_root_open(rootfd, p, O_PATH);
			if (fd < 0)
				return sbx_fail_errno(err, SBX_E_SETUP, errno, "open %s", p);
			return fd;
		}
		while (s[1] == '/')
			s++;
	}
}
