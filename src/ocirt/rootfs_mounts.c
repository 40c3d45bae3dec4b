/* config.mounts: option strings -> flags, and one mount (rootfs_mounts.h). */
#include "ocirt/rootfs_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "base/buf.h"
#include "ocirt/rootfs_path.h"

typedef struct opt {
	const char *name;
	bool clear; /* clears flag instead of setting it */
	unsigned long flag;
} opt;

static const opt FLAG_OPTS[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

static const opt PROP_OPTS[] = {
    {"private", false, MS_PRIVATE},	  {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},	  {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},		  {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

void sbx_oci_mntopts_clear(sbx_oci_mntopts *o)
{
	free(o->data);
	o->data = NULL;
}

static const opt *find(const opt *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

int sbx_oci_mntopts_parse(const sbx_oci_mount *m, sbx_oci_mntopts *o, sbx_error *err)
{
	memset(o, 0, sizeof(*o));
	_cleanup_buf_ sbx_buf data = {0};
	for (size_t i = 0; i < m->n_options; i++) {
		const char *s = m->options[i];
		const opt *f = find(FLAG_OPTS, ARRAY_LEN(FLAG_OPTS), s);
		if (f) {
			if (f->clear)
				o->flags &= ~f->flag;
			else
				o->flags |= f->flag;
			if (f->flag & MS_BIND)
				o->bind = true;
			continue;
		}
		const opt *p = find(PROP_OPTS, ARRAY_LEN(PROP_OPTS), s);
		if (p) {
			o->prop = p->flag;
			continue;
		}
		if (strcmp(s, "tmpcopyup") == 0)
			continue;
		if ((data.len && sbx_buf_append(&data, ",", 1) < 0) || sbx_buf_puts(&data, s) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	if (m->type && strcmp(m->type, "bind") == 0) {
		o->bind = true;
		o->flags |= MS_BIND;
	}
	if (data.len) {
		o->data = sbx_buf_steal(&data);
		if (!o->data)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	return 0;
}

/* The flags a bind's remount may change (the rest are not per-mount). */
#define REMOUNT_FLAGS                                                                              \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME)

/* The per-mount flags a mount has now (statvfs), as MS_* flags. */
static unsigned long current_flags(const char *path)
{
	struct statvfs v;
	if (statvfs(path, &v) < 0)
		return 0;
	static const struct {
		unsigned long st, ms;
	} MAP[] = {
	    {ST_RDONLY, MS_RDONLY},	{ST_NOSUID, MS_NOSUID},	  {ST_NODEV, MS_NODEV},
	    {ST_NOEXEC, MS_NOEXEC},	{ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
	    {ST_RELATIME, MS_RELATIME},
	};
	unsigned long f = 0;
	for (size_t i = 0; i < ARRAY_LEN(MAP); i++)
		if (v.f_flag & MAP[i].st)
			f |= MAP[i].ms;
	return f;
}

int sbx_oci_remount(int rootfd, const char *dest, unsigned long flags, sbx_error *err)
{
	/* Opened again: the new mount is on top of what an older fd saw. */
	_cleanup_close_ int fd = sbx_oci_root_open(rootfd, dest, O_PATH);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "remount %s: open", dest);
	char fdp[32];
	sbx_oci_fd_path(fd, fdp, sizeof(fdp));
	unsigned long f = MS_REMOUNT | MS_BIND | (flags & REMOUNT_FLAGS);
	if (mount(NULL, fdp, NULL, f, NULL) == 0)
		return 0;
	/* Locked flags (a mount from a more privileged namespace) must be kept. */
	unsigned long cur = current_flags(fdp);
	if ((flags & MS_STRICTATIME) == 0 && (flags & MS_NOATIME) == 0 &&
	    (flags & MS_RELATIME) == 0)
		f |= cur & (MS_NOATIME | MS_RELATIME);
	f |= cur & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
	if (mount(NULL, fdp, NULL, f, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "remount %s", dest);
	return 0;
}

int sbx_oci_bind(int rootfd, const char *src, const char *dest, bool rec, unsigned long flags,
		 sbx_error *err)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s: source %s", dest, src);
	_cleanup_close_ int fd = sbx_oci_root_mkpath(rootfd, dest, !S_ISDIR(st.st_mode), err);
	if (fd < 0)
		return sbx_error_wrap(err, fd, "mount %s", dest);
	char fdp[32];
	if (mount(src, sbx_oci_fd_path(fd, fdp, sizeof(fdp)), NULL, MS_BIND | (rec ? MS_REC : 0),
		  NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s (bind of %s)", dest, src);
	if (flags & REMOUNT_FLAGS)
		return sbx_oci_remount(rootfd, dest, flags, err);
	return 0;
}

static int set_prop(int rootfd, const char *dest, unsigned long prop, sbx_error *err)
{
	_cleanup_close_ int fd = sbx_oci_root_open(rootfd, dest, O_PATH);
	char fdp[32];
	if (fd < 0 || mount(NULL, sbx_oci_fd_path(fd, fdp, sizeof(fdp)), NULL, prop, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s: propagation", dest);
	return 0;
}

/* A host's mount bound in when the kernel refuses a new one (sysfs of a
 * network namespace, mqueue of an ipc namespace, owned by another user
 * namespace). */
static int fallback_bind(int rootfd, const sbx_oci_mount *m, const sbx_oci_mntopts *o,
			 sbx_error *err)
{
	const char *host = strcmp(m->type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";
	return sbx_oci_bind(rootfd, host, m->destination, true, o->flags, err);
}

int sbx_oci_mount_one(int rootfd, const sbx_oci_mount *m, sbx_error *err)
{
	_cleanup_(sbx_oci_mntopts_clear) sbx_oci_mntopts o;
	int r = sbx_oci_mntopts_parse(m, &o, err);
	if (r < 0)
		return r;
	if (o.bind) {
		if (!m->source)
			return sbx_fail(err, SBX_E_SETUP, "mount %s: a bind without a source",
					m->destination);
		r = sbx_oci_bind(rootfd, m->source, m->destination, o.flags & MS_REC, o.flags, err);
	} else {
		const char *type = m->type ? m->type : "none";
		_cleanup_close_ int fd = sbx_oci_root_mkpath(rootfd, m->destination, false, err);
		if (fd < 0)
			return sbx_error_wrap(err, fd, "mount %s", m->destination);
		char fdp[32];
		sbx_oci_fd_path(fd, fdp, sizeof(fdp));
		const char *src = m->source ? m->source : type;
		if (mount(src, fdp, type, o.flags, o.data) == 0)
			r = 0;
		else if (errno == EPERM &&
			 (strcmp(type, "sysfs") == 0 || strcmp(type, "mqueue") == 0))
			r = fallback_bind(rootfd, m, &o, err);
		else
			r = sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s (%s)", m->destination,
					   type);
	}
	if (r < 0)
		return r;
	if (o.prop)
		return set_prop(rootfd, m->destination, o.prop, err);
	return 0;
}
