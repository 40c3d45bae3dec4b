/* Applying an image layer: each entry's parents are walked component by
 * component from the root with O_NOFOLLOW (a symlink or a non-directory on
 * the way is refused), and the entry is made relative to its parent's fd. */
#include "dockerapi/layer.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "base/buf.h"
#include "dockerapi/rmtree.h"

#define COPY_CHUNK (64 * 1024)

/* ---- a set of the paths this layer made (an opaque whiteout keeps them) -- */

typedef struct pathset {
	char **slot;
	size_t cap, n;
} pathset;

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool set_has(const pathset *s, const char *p)
{
	if (!s->cap)
		return false;
	for (size_t i = fnv(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return false;
		if (!strcmp(s->slot[i], p))
			return true;
	}
}

static int set_put(char **slot, size_t cap, char *p)
{
	for (size_t i = fnv(p) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (!slot[i]) {
			slot[i] = p;
			return 1;
		}
		if (!strcmp(slot[i], p))
			return 0;
	}
}

static int set_add(pathset *s, const char *p)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				set_put(slot, cap, s->slot[i]);
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	char *d = strdup(p);
	if (!d)
		return -1;
	if (set_put(s->slot, s->cap, d))
		s->n++;
	else
		free(d);
	return 0;
}

static void set_free(pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
}

/* ---- names ---------------------------------------------------------------- */

typedef struct upath {
	char *path; /* normalised "a/b/c" ("" for the root) */
	char *work; /* the same with NULs for slashes */
	const char *comp[DAPI_LAYER_MAX_DEPTH];
	size_t n;
} upath;

static void upath_free(upath *p)
{
	free(p->path);
	free(p->work);
	p->path = p->work = NULL;
}

static int split(const char *name, upath *p, sbx_error *err)
{
	memset(p, 0, sizeof(*p));
	/* "./", "." and the like: the root itself (n == 0) */
	bool root = *name != '/';
	for (const char *c = name; *c && root; c++)
		root = *c == '.' || *c == '/';
	int r = root && !strstr(name, "..") ? 0 : dapi_tar_check_name(name, err);
	if (r < 0)
		return r;
	size_t len = strlen(name);
	p->path = malloc(len + 1);
	p->work = malloc(len + 1);
	if (!p->path || !p->work) {
		upath_free(p);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
	}
	size_t o = 0;
	for (const char *c = name; *c;) {
		size_t k = strcspn(c, "/");
		if (k && !(k == 1 && c[0] == '.')) {
			if (p->n == DAPI_LAYER_MAX_DEPTH) {
				upath_free(p);
				return sbx_fail(err, SBX_E_PATH, "name deeper than %d: %.200s",
						DAPI_LAYER_MAX_DEPTH, name);
			}
			if (o)
				p->path[o++] = '/';
			memcpy(p->path + o, c, k);
			o += k;
			p->n++;
		}
		c += k;
		while (*c == '/')
			c++;
	}
	p->path[o] = 0;
	memcpy(p->work, p->path, o + 1);
	size_t i = 0;
	for (char *c = p->work; i < p->n; i++) {
		p->comp[i] = c;
		c += strcspn(c, "/");
		*c++ = 0;
	}
	return 0;
}

/* An fd (O_PATH) of the directory made by the first n components, each
 * opened with O_NOFOLLOW; missing ones made (0755) when create. */
static int walk(int rootfd, const upath *p, size_t n, bool create, int *out, sbx_error *err)
{
	_cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "dup");
	for (size_t i = 0; i < n; i++) {
		const int fl = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
		int fd = openat(cur, p->comp[i], fl);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, p->comp[i], 0755) < 0 && errno != EEXIST)
				return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s",
						      p->path);
			fd = openat(cur, p->comp[i], fl);
		}
		if (fd < 0) {
			if (errno == ENOTDIR || errno == ELOOP)
				return sbx_fail(err, SBX_E_PATH,
						"%.200s: '%.100s' is a symlink or not a directory",
						p->path, p->comp[i]);
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", p->path);
		}
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			close(fd);
			return sbx_fail(err, SBX_E_PATH, "%.200s: '%.100s' is not a directory",
					p->path, p->comp[i]);
		}
		close(cur);
		cur = fd;
	}
	*out = sbx_steal_fd(&cur);
	return 0;
}

/* ---- entries --------------------------------------------------------------- */

typedef struct dirtime {
	char *path;
	int64_t mtime;
} dirtime;

typedef struct unpack {
	int rootfd;
	dapi_tar_reader *rd;
	dapi_layer_limits *lim;
	pathset made;
	dirtime *dirs;
	size_t ndirs, capdirs;
	char *buf; /* COPY_CHUNK */
} unpack;

static int own(int dirfd, const char *name, const dapi_tar_entry *e, int flags, sbx_error *err)
{
	if (fchownat(dirfd, name, e->uid, e->gid, flags) < 0) {
		/* Unprivileged (tests as a user): ownership cannot be kept. */
		if ((errno == EPERM || errno == EINVAL) && geteuid() != 0)
			return 0;
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot chown %s to %u:%u", e->name,
				      (unsigned)e->uid, (unsigned)e->gid);
	}
	return 0;
}

static int set_time(int dirfd, const char *name, int64_t mtime, sbx_error *err)
{
	struct timespec ts[2] = {{.tv_sec = (time_t)mtime}, {.tv_sec = (time_t)mtime}};
	if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot set the time of %s", name);
	return 0;
}

static int write_file(unpack *u, int pfd, const char *base, const dapi_tar_entry *e, sbx_error *err)
{
	dapi_layer_limits *lim = u->lim;
	if (e->size > lim->max_bytes - lim->bytes)
		return sbx_fail(err, SBX_E_INVALID, "image larger than the cap of %llu bytes",
				(unsigned long long)lim->max_bytes);
	_cleanup_close_ int fd =
	    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", e->name);
	for (;;) {
		ssize_t n = dapi_tar_data(u->rd, u->buf, COPY_CHUNK, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		lim->bytes += (uint64_t)n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, u->buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return sbx_fail_errno(err, SBX_E_SYSTEM, w < 0 ? errno : EIO,
						      "cannot write %s", e->name);
			off += w;
		}
	}
	int r = own(fd, "", e, AT_EMPTY_PATH, err);
	if (r < 0)
		return r;
	if (fchmod(fd, e->mode & 01777) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot chmod %s", e->name);
	struct timespec ts[2] = {{.tv_sec = (time_t)e->mtime}, {.tv_sec = (time_t)e->mtime}};
	if (futimens(fd, ts) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot set the time of %s",
				      e->name);
	return 0;
}

static int make_dir(unpack *u, int pfd, const char *base, const upath *p, const dapi_tar_entry *e,
		    sbx_error *err)
{
	if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", e->name);
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", e->name);
	int r = own(fd, "", e, AT_EMPTY_PATH, err);
	if (r < 0)
		return r;
	if (fchmod(fd, e->mode & 01777) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot chmod %s", e->name);
	if (u->ndirs == u->capdirs) {
		size_t cap = u->capdirs ? u->capdirs * 2 : 64;
		dirtime *d = realloc(u->dirs, cap * sizeof(*d));
		if (!d)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
		u->dirs = d;
		u->capdirs = cap;
	}
	char *path = strdup(p->path);
	if (!path)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
	u->dirs[u->ndirs++] = (dirtime){path, e->mtime};
	return 0;
}

static int hard_link(unpack *u, int pfd, const char *base, const dapi_tar_entry *e, sbx_error *err)
{
	upath t;
	int r = split(e->linkname, &t, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "hard link %.200s", e->name);
	if (t.n == 0) {
		upath_free(&t);
		return sbx_fail(err, SBX_E_PATH, "hard link %.200s to the root", e->name);
	}
	_cleanup_close_ int tfd = -1;
	r = walk(u->rootfd, &t, t.n - 1, false, &tfd, err);
	if (r == 0 && linkat(tfd, t.comp[t.n - 1], pfd, base, 0) < 0)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot link %.200s to %.200s",
				   e->name, e->linkname);
	upath_free(&t);
	return r < 0 ? sbx_error_wrap(err, r, "hard link") : 0;
}

/* ".wh..wh..opq": everything in the directory but what this layer made. */
static int opaque(unpack *u, int pfd, const char *dirpath, sbx_error *err)
{
	int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", dirpath);
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "opendir");
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
				goto out;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
			goto out;
		}
		n++;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_buf_ sbx_buf full = {0};
		if (*dirpath)
			sbx_buf_printf(&full, "%s/", dirpath);
		sbx_buf_puts(&full, names[i]);
		if (full.oom)
			r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
		else if (!set_has(&u->made, full.data))
			r = dapi_rmtree_at(pfd, names[i], err);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int entry(unpack *u, const dapi_tar_entry *e, sbx_error *err)
{
	if (++u->lim->entries > u->lim->max_entries)
		return sbx_fail(err, SBX_E_INVALID, "image has more than %llu entries",
				(unsigned long long)u->lim->max_entries);
	upath p;
	int r = split(e->name, &p, err);
	if (r < 0)
		return r;
	if (p.n == 0) { /* the root itself: left as made */
		upath_free(&p);
		return 0;
	}
	const char *base = p.comp[p.n - 1];
	_cleanup_close_ int pfd = -1;
	if ((r = walk(u->rootfd, &p, p.n - 1, true, &pfd, err)) < 0)
		goto out;
	if (!strncmp(base, ".wh.", 4)) {
		char *slash = strrchr(p.path, '/');
		if (slash)
			*slash = 0;
		else
			p.path[0] = 0;
		const char *victim = base + 4;
		if (!strcmp(base, ".wh..wh..opq"))
			r = opaque(u, pfd, p.path, err);
		else if (!strncmp(base, ".wh..wh.", 8))
			r = 0; /* other AUFS metadata */
		else if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
			r = sbx_fail(err, SBX_E_PATH, "bad whiteout %.200s", e->name);
		else
			r = dapi_rmtree_at(pfd, victim, err);
		goto out;
	}
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && e->type == DAPI_TAR_DIR) &&
	    (r = dapi_rmtree_at(pfd, base, err)) < 0)
		goto out;
	switch (e->type) {
	case DAPI_TAR_FILE:
		r = write_file(u, pfd, base, e, err);
		break;
	case DAPI_TAR_DIR:
		r = make_dir(u, pfd, base, &p, e, err);
		break;
	case DAPI_TAR_SYMLINK:
		if (symlinkat(e->linkname, pfd, base) < 0)
			r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot make symlink %.200s",
					   e->name);
		else if ((r = own(pfd, base, e, AT_SYMLINK_NOFOLLOW, err)) == 0)
			r = set_time(pfd, base, e->mtime, err);
		break;
	case DAPI_TAR_HARDLINK:
		r = hard_link(u, pfd, base, e, err);
		break;
	case DAPI_TAR_FIFO:
		if (mkfifoat(pfd, base, 0600) < 0)
			r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot make fifo %.200s",
					   e->name);
		else if ((r = own(pfd, base, e, AT_SYMLINK_NOFOLLOW, err)) == 0 &&
			 fchmodat(pfd, base, e->mode & 01777, 0) < 0)
			r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot chmod %s", e->name);
		else if (r == 0)
			r = set_time(pfd, base, e->mtime, err);
		break;
	case DAPI_TAR_CHAR:
	case DAPI_TAR_BLOCKDEV:
		goto out; /* devices are not made */
	}
	if (r == 0 && set_add(&u->made, p.path) < 0)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
out:
	upath_free(&p);
	return r;
}

/* Directory times last (their entries changed them); a directory a later
 * whiteout removed is skipped. */
static int dir_times(unpack *u, sbx_error *err)
{
	for (size_t i = u->ndirs; i-- > 0;) {
		upath p;
		if (split(u->dirs[i].path, &p, NULL) < 0)
			continue;
		_cleanup_close_ int pfd = -1;
		int r = 0;
		if (p.n && walk(u->rootfd, &p, p.n - 1, false, &pfd, NULL) == 0) {
			struct stat st;
			if (fstatat(pfd, p.comp[p.n - 1], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode))
				r = set_time(pfd, p.comp[p.n - 1], u->dirs[i].mtime, err);
		}
		upath_free(&p);
		if (r < 0)
			return r;
	}
	return 0;
}

int dapi_layer_unpack(int rootfd, dapi_tar_reader *rd, dapi_layer_limits *lim, sbx_error *err)
{
	unpack u = {.rootfd = rootfd, .rd = rd, .lim = lim, .buf = malloc(COPY_CHUNK)};
	int r = 0;
	if (!u.buf)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "layer");
	while (r == 0) {
		dapi_tar_entry e;
		r = dapi_tar_next(rd, &e, err);
		if (r <= 0)
			break;
		r = entry(&u, &e, err);
		dapi_tar_entry_free(&e);
	}
	if (r == 0)
		r = dir_times(&u, err);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	set_free(&u.made);
	free(u.buf);
	return r;
}
