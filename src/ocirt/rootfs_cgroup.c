/* A "cgroup" mount (rootfs_cgroup.h): what the process's own
 * /proc/self/cgroup and /proc/self/mountinfo say. */
#include "ocirt/rootfs_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include "ocirt/rootfs_mounts.h"
#include "ocirt/rootfs_path.h"

/* A cgroup hierarchy mounted on the host (one line of mountinfo). */
typedef struct hier {
	char *root;  /* the mount's root inside the hierarchy */
	char *point; /* mount point, unescaped */
	char *super; /* super options: "rw,cpu,cpuacct" */
	bool v2;
} hier;

typedef struct hiers {
	hier *h;
	size_t n;
} hiers;

static void hiers_free(hiers *hs)
{
	for (size_t i = 0; i < hs->n; i++) {
		free(hs->h[i].root);
		free(hs->h[i].point);
		free(hs->h[i].super);
	}
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

/* mountinfo's \ooo escapes, in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The next space-separated field of *p (NULL at the end). */
static char *field(char **p)
{
	char *f;
	do
		f = strsep(p, " \n");
	while (f && *f == '\0');
	return f;
}

/* Fields of a mountinfo line: 3 root, 4 mount point; after " - ": the
 * type, the source, the super options. A cgroup one is added to hs. */
static int parse_line(char *line, hiers *hs)
{
	char *f[5];
	for (int i = 0; i < 5; i++)
		if (!(f[i] = field(&line)))
			return 0;
	char *tok;
	while ((tok = field(&line)) && strcmp(tok, "-") != 0)
		;
	char *type = tok ? field(&line) : NULL;
	char *src = type ? field(&line) : NULL;
	char *super = src ? field(&line) : NULL;
	if (!super || (strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0))
		return 0;
	hier *n = realloc(hs->h, (hs->n + 1) * sizeof(*n));
	if (!n)
		return -1;
	hs->h = n;
	hier *h = &hs->h[hs->n++];
	unescape(f[3]);
	unescape(f[4]);
	h->root = strdup(f[3]);
	h->point = strdup(f[4]);
	h->super = strdup(super);
	h->v2 = strcmp(type, "cgroup2") == 0;
	return h->root && h->point && h->super ? 0 : -1;
}

static int read_hiers(hiers *hs, sbx_error *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "read /proc/self/mountinfo");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0)
		if (parse_line(line, hs) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	return 0;
}

/* Whether every comma-separated name of list is among super's options. */
static bool has_all(const char *super, const char *list)
{
	size_t sl = strlen(super);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		bool found = false;
		for (const char *q = super; q < super + sl;) {
			size_t m = strcspn(q, ",");
			if (m == n && strncmp(p, q, n) == 0)
				found = true;
			q += m + (q[m] == ',');
		}
		if (!found)
			return false;
		p += n + (p[n] == ',');
	}
	return true;
}

static const hier *find_hier(const hiers *hs, const char *ctrls)
{
	for (size_t i = 0; i < hs->n; i++) {
		const hier *h = &hs->h[i];
		if (ctrls[0] == '\0' ? h->v2 : (!h->v2 && has_all(h->super, ctrls)))
			return h;
	}
	return NULL;
}

/* The host's directory of the process's cgroup in hierarchy h (cgpath as
 * /proc/self/cgroup shows it: relative to the cgroup namespace's root,
 * which is h->root when h was mounted in that namespace). */
static char *host_dir(const hier *h, const char *cgpath)
{
	const char *rest = cgpath;
	size_t rl = strlen(h->root);
	if (strcmp(h->root, "/") != 0 && strncmp(cgpath, h->root, rl) == 0 &&
	    (cgpath[rl] == '/' || cgpath[rl] == '\0'))
		rest = cgpath + rl;
	char *out = NULL;
	if (asprintf(&out, "%s%s", h->point, strcmp(rest, "/") == 0 ? "" : rest) < 0)
		return NULL;
	return out;
}

/* One hierarchy at dest (inside the root): a new mount of it in a new
 * cgroup namespace (ctrls: its v1 controllers, "" for cgroup2), else a
 * bind of the host's directory. */
static int one(int rootfd, const hier *h, const char *ctrls, const char *cgpath, const char *dest,
	       unsigned long flags, bool new_cgns, sbx_error *err)
{
	if (!new_cgns) {
		_cleanup_free_ char *src = host_dir(h, cgpath);
		if (!src)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		return sbx_oci_bind(rootfd, src, dest, false, flags, err);
	}
	_cleanup_close_ int fd = sbx_oci_root_mkpath(rootfd, dest, false, err);
	if (fd < 0)
		return sbx_error_wrap(err, fd, "mount %s", dest);
	char fdp[32];
	const char *type = h->v2 ? "cgroup2" : "cgroup";
	if (mount(type, sbx_oci_fd_path(fd, fdp, sizeof(fdp)), type, flags & ~MS_BIND & ~MS_REC,
		  h->v2 ? NULL : ctrls) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s (%s %s)", dest, type,
				      h->v2 ? "" : ctrls);
	return 0;
}

/* Links for co-mounted controllers: cpu -> cpu,cpuacct. */
static int links(int rootfd, const char *dest, const char *name, sbx_error *err)
{
	if (!strchr(name, ','))
		return 0;
	_cleanup_close_ int dir = sbx_oci_root_open(rootfd, dest, O_PATH | O_DIRECTORY);
	if (dir < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "open %s", dest);
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, ",");
		_cleanup_free_ char *part = strndup(p, n);
		if (!part)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		if (symlinkat(name, dir, part) < 0 && errno != EEXIST)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "link %s/%s", dest, part);
		p += n + (p[n] == ',');
	}
	return 0;
}

/* v1 (or hybrid): a tmpfs, then one entry per line of /proc/self/cgroup. */
static int mount_v1(int rootfd, const sbx_oci_mount *m, const hiers *hs, FILE *cg,
		    unsigned long flags, bool new_cgns, sbx_error *err)
{
	_cleanup_close_ int fd = sbx_oci_root_mkpath(rootfd, m->destination, false, err);
	if (fd < 0)
		return sbx_error_wrap(err, fd, "mount %s", m->destination);
	char fdp[32];
	if (mount("tmpfs", sbx_oci_fd_path(fd, fdp, sizeof(fdp)), "tmpfs",
		  flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=755") < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s (tmpfs for cgroups)",
				      m->destination);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, cg)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *p = line;
		char *id = strsep(&p, ":");
		char *ctrls = p ? strsep(&p, ":") : NULL;
		if (!id || !ctrls || !p || p[0] != '/')
			continue;
		const hier *h = find_hier(hs, ctrls);
		if (!h)
			continue;
		const char *name = strrchr(h->point, '/');
		name = name && name[1] ? name + 1 : (ctrls[0] ? ctrls : "unified");
		_cleanup_free_ char *dest = NULL;
		if (asprintf(&dest, "%s/%s", m->destination, name) < 0)
			return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		int r = one(rootfd, h, ctrls, p, dest, flags, new_cgns, err);
		if (r < 0 || (r = links(rootfd, m->destination, name, err)) < 0)
			return r;
	}
	if (flags & MS_RDONLY)
		return sbx_oci_remount(rootfd, m->destination, flags, err);
	return 0;
}

int sbx_oci_mount_cgroup(int rootfd, const sbx_oci_mount *m, bool new_cgns, sbx_error *err)
{
	_cleanup_(sbx_oci_mntopts_clear) sbx_oci_mntopts o;
	int r = sbx_oci_mntopts_parse(m, &o, err);
	if (r < 0)
		return r;
	_cleanup_(hiers_free) hiers hs = {0};
	if ((r = read_hiers(&hs, err)) < 0)
		return r;
	_cleanup_fclose_ FILE *cg = fopen("/proc/self/cgroup", "re");
	if (!cg)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "read /proc/self/cgroup");
	bool v1 = false;
	for (size_t i = 0; i < hs.n; i++)
		v1 |= !hs.h[i].v2;
	unsigned long flags = o.flags & ~(MS_BIND | MS_REC);
	if (v1) {
		r = mount_v1(rootfd, m, &hs, cg, flags, new_cgns, err);
	} else {
		/* cgroup2 alone: the "0::PATH" line. */
		_cleanup_free_ char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		r = sbx_fail(err, SBX_E_SETUP,
			     "mount %s (cgroup): no cgroup2 line in /proc/self/cgroup",
			     m->destination);
		while ((len = getline(&line, &cap, cg)) > 0) {
			if (line[len - 1] == '\n')
				line[len - 1] = '\0';
			const hier *h = find_hier(&hs, "");
			if (strncmp(line, "0::/", 4) == 0 && h) {
				r = one(rootfd, h, "", line + 3, m->destination, flags, new_cgns,
					err);
				break;
			}
		}
	}
	if (r < 0)
		return r;
	if (o.prop) {
		_cleanup_close_ int fd = sbx_oci_root_open(rootfd, m->destination, O_PATH);
		char fdp[32];
		if (fd < 0 ||
		    mount(NULL, sbx_oci_fd_path(fd, fdp, sizeof(fdp)), NULL, o.prop, NULL) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "mount %s: propagation",
					      m->destination);
	}
	return 0;
}
