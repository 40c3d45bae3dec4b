/* rm -rf below a directory fd, never following a symlink. */
#include "dockerapi/rmtree.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static int children(int dirfd, const char *name, sbx_error *err);

int dapi_rmtree_at(int dirfd, const char *name, sbx_error *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove %s", name);
	}
	if (S_ISDIR(st.st_mode)) {
		int r = children(dirfd, name, err);
		if (r < 0)
			return r;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove %s", name);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove %s", name);
	return 0;
}

static int children(int parent, const char *name, sbx_error *err)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", name);
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return sbx_fail_errno(err, SBX_E_SYSTEM, e, "cannot open %s", name);
	}
	struct dirent *de;
	int dfd = dirfd(d);
	for (;;) {
		errno = 0;
		if (!(de = readdir(d)))
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int r = dapi_rmtree_at(dfd, de->d_name, err);
		if (r < 0)
			return sbx_error_wrap(err, r, "%s", name);
	}
	if (errno)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot read %s", name);
	return 0;
}

int dapi_rmtree_children(int dirfd, const char *name, sbx_error *err)
{
	return children(dirfd, name, err);
}
