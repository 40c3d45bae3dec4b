/* Device nodes and /dev links of a container (rootfs_dev.h). */
#include "ocirt/rootfs_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "ocirt/rootfs_mounts.h"
#include "ocirt/rootfs_path.h"

static const sbx_oci_device DEFAULTS[] = {
    {.type = 'c', .path = "/dev/null", .major = 1, .minor = 3},
    {.type = 'c', .path = "/dev/zero", .major = 1, .minor = 5},
    {.type = 'c', .path = "/dev/full", .major = 1, .minor = 7},
    {.type = 'c', .path = "/dev/random", .major = 1, .minor = 8},
    {.type = 'c', .path = "/dev/urandom", .major = 1, .minor = 9},
    {.type = 'c', .path = "/dev/tty", .major = 5, .minor = 0},
};

static const struct {
	const char *path, *target;
} LINKS[] = {
    {"/dev/fd", "/proc/self/fd"},	{"/dev/stdin", "/proc/self/fd/0"},
    {"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"},
    {"/dev/core", "/proc/kcore"},
};

/* "/dev//shm/" and "/dev/shm" are the same destination. */
static bool same_path(const char *a, const char *b)
{
	for (;;) {
		while (*a == '/' && (a[1] == '/' || a[1] == '\0'))
			a++;
		while (*b == '/' && (b[1] == '/' || b[1] == '\0'))
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++, b++;
	}
}

bool sbx_oci_dev_is_bound(const sbx_oci_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const sbx_oci_mount *m = &s->mounts[i];
		if (!same_path(m->destination, "/dev"))
			continue;
		bool bind = m->type && strcmp(m->type, "bind") == 0;
		for (size_t j = 0; j < m->n_options && !bind; j++)
			bind = strcmp(m->options[j], "bind") == 0 ||
			       strcmp(m->options[j], "rbind") == 0;
		if (bind)
			return true;
	}
	return false;
}

/* Open the parent of path inside the root (made when missing); *name is
 * the last component. */
static int open_parent(int rootfd, const char *path, const char **name, sbx_error *err)
{
	const char *slash = strrchr(path, '/');
	if (!slash || slash[1] == '\0' || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0)
		return sbx_fail(err, SBX_E_SETUP, "%s: not a file path", path);
	*name = slash + 1;
	if (slash == path)
		return sbx_oci_root_open(rootfd, "/", O_PATH | O_DIRECTORY);
	_cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	return sbx_oci_root_mkpath(rootfd, dir, false, err);
}

static int make_node(int rootfd, const sbx_oci_device *d, bool in_userns, sbx_error *err)
{
	const char *name;
	_cleanup_close_ int dir = open_parent(rootfd, d->path, &name, err);
	if (dir < 0)
		return sbx_error_wrap(err, dir, "device %s", d->path);
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return sbx_fail(err, SBX_E_SETUP, "device %s: a directory is there",
					d->path);
		if (unlinkat(dir, name, 0) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "device %s: unlink",
					      d->path);
	}
	if (in_userns) {
		/* No mknod in a user namespace: the host's node, bound. */
		if (mknodat(dir, name, S_IFREG | 0644, 0) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "device %s: create",
					      d->path);
		return sbx_oci_bind(rootfd, d->path, d->path, false, 0, err);
	}
	mode_t kind = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t perm = d->has_mode ? (d->mode & 07777) : 0666;
	dev_t dev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
	mode_t old = umask(0);
	int r = mknodat(dir, name, kind | perm, dev);
	int e = errno;
	umask(old);
	if (r < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, e, "device %s: mknod", d->path);
	uid_t uid = d->has_uid ? d->uid : 0;
	gid_t gid = d->has_gid ? d->gid : 0;
	if (fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "device %s: chown", d->path);
	return 0;
}

static int make_link(int rootfd, const char *path, const char *target, bool replace, sbx_error *err)
{
	const char *name;
	_cleanup_close_ int dir = open_parent(rootfd, path, &name, err);
	if (dir < 0)
		return sbx_error_wrap(err, dir, "link %s", path);
	if (replace && unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "link %s: unlink", path);
	if (symlinkat(target, dir, name) < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "link %s -> %s", path, target);
	return 0;
}

static bool in_config(const sbx_oci_spec *s, const char *path)
{
	for (size_t i = 0; i < s->n_devices; i++)
		if (same_path(s->devices[i].path, path))
			return true;
	return false;
}

int sbx_oci_dev_setup(int rootfd, const sbx_oci_spec *s, bool in_userns, sbx_error *err)
{
	if (sbx_oci_dev_is_bound(s))
		return 0;
	int r;
	for (size_t i = 0; i < ARRAY_LEN(DEFAULTS); i++)
		if (!in_config(s, DEFAULTS[i].path) &&
		    (r = make_node(rootfd, &DEFAULTS[i], in_userns, err)) < 0)
			return r;
	for (size_t i = 0; i < s->n_devices; i++)
		if ((r = make_node(rootfd, &s->devices[i], in_userns, err)) < 0)
			return r;
	for (size_t i = 0; i < ARRAY_LEN(LINKS); i++) {
		if (strcmp(LINKS[i].target, "/proc/kcore") == 0 && access("/proc/kcore", F_OK) < 0)
			continue;
		if ((r = make_link(rootfd, LINKS[i].path, LINKS[i].target, false, err)) < 0)
			return r;
	}
	return make_link(rootfd, "/dev/ptmx", "pts/ptmx", true, err);
}

int sbx_oci_dev_console(const char *slave, sbx_error *err)
{
	if (mknod("/dev/console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "create /dev/console");
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount /dev/console (bind of %s)",
				      slave);
	return 0;
}
