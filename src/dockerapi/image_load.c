/* POST /images/load: a `docker save` archive (legacy or OCI layout, both
 * with a manifest.json) spooled member by member into a private directory
 * DIR/.load-XXXXXX (manifest.json may come last), then each image's layers
 * applied in order into DIR/.tmp-<id>/rootfs, renamed to DIR/<id> when
 * whole, and the tags recorded. Everything is capped; nothing of a failed
 * load stays. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "base/buf.h"
#include "base/readall.h"
#include "dockerapi/image.h"
#include "dockerapi/image_repo.h"
#include "dockerapi/layer.h"
#include "dockerapi/rmtree.h"
#include "dockerapi/sha256.h"
#include "proto/jsonparse.h"

#define MAX_MEMBERS 100000
#define MAX_ENTRIES 1000000
#define MANIFEST_MAX_BYTES (1u << 20)
#define MANIFEST_MAX_VALUES 20000
#define CONFIG_MAX_BYTES (8u << 20)
#define CONFIG_MAX_VALUES 500000
#define MAX_IMAGES 256
#define MAX_LAYERS 256
#define MAX_LINK_HOPS 8
#define DEFAULT_NAME "sbx-python:latest"

typedef struct member {
	char *name; /* normalised */
	char *link; /* symlink target (normalised, resolved against its dir), or NULL */
} member;

typedef struct load {
	const char *dir;
	int dirfd;   /* DIR */
	int spoolfd; /* DIR/.load-XXXXXX */
	char *spool; /* its name */
	member *m;
	size_t n, cap;
	uint64_t spooled, spool_max;
	char (*made)[65]; /* images made by this load (removed if it fails) */
	size_t nmade;
} load;

/* "./a//b/" -> "a/b"; ".." resolved lexically against base's directory
 * when base is given (symlink targets); NULL if it leaves the archive. */
static char *norm_name(const char *base, const char *name)
{
	if (*name == '/' || !*name)
		return NULL;
	_cleanup_buf_ sbx_buf in = {0};
	if (base) {
		const char *slash = strrchr(base, '/');
		if (slash)
			sbx_buf_append(&in, base, (size_t)(slash - base + 1));
	}
	sbx_buf_puts(&in, name);
	if (in.oom)
		return NULL;
	char *out = in.data ? malloc(in.len + 1) : NULL;
	if (!out)
		return NULL;
	size_t o = 0;
	for (const char *c = in.data; *c;) {
		size_t k = strcspn(c, "/");
		if (k == 2 && c[0] == '.' && c[1] == '.') {
			if (!o) {
				free(out);
				return NULL;
			}
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
		} else if (k && !(k == 1 && c[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, c, k);
			o += k;
		}
		c += k;
		while (*c == '/')
			c++;
	}
	out[o] = 0;
	return out;
}

static void load_free(load *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->m[i].name);
		free(l->m[i].link);
	}
	free(l->m);
	free(l->made);
	free(l->spool);
}

static ssize_t find_member(const load *l, const char *name)
{
	for (size_t i = l->n; i-- > 0;)
		if (!strcmp(l->m[i].name, name))
			return (ssize_t)i;
	return -1;
}

/* ---- spooling the archive -------------------------------------------------- */

static int spool_entry(load *l, dapi_tar_reader *rd, const dapi_tar_entry *e, sbx_error *err)
{
	if (e->type != DAPI_TAR_FILE && e->type != DAPI_TAR_SYMLINK && e->type != DAPI_TAR_HARDLINK)
		return 0; /* directories and the rest carry nothing needed */
	int rc = dapi_tar_check_name(e->name, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *name = norm_name(NULL, e->name);
	if (!name || !*name)
		return sbx_fail(err, SBX_E_PATH, "bad member name %.200s", e->name);
	if (l->n == MAX_MEMBERS)
		return sbx_fail(err, SBX_E_INVALID, "more than %d members", MAX_MEMBERS);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		member *m = realloc(l->m, cap * sizeof(*m));
		if (!m)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
		l->m = m;
		l->cap = cap;
	}
	member mb = {0};
	if (e->type != DAPI_TAR_FILE) { /* a hard link names a member from the top */
		const char *from = e->type == DAPI_TAR_SYMLINK ? name : NULL;
		if (!(mb.link = norm_name(from, e->linkname)))
			return sbx_fail(err, SBX_E_PATH, "member %.200s links outside the archive",
					e->name);
	} else {
		if (e->size > l->spool_max - l->spooled)
			return sbx_fail(err, SBX_E_INVALID,
					"archive larger than the cap of %llu bytes",
					(unsigned long long)l->spool_max);
		char fname[32];
		snprintf(fname, sizeof(fname), "m%zu", l->n);
		_cleanup_close_ int fd = openat(
		    l->spoolfd, fname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot spool %s", fname);
		char buf[16384];
		for (;;) {
			ssize_t n = dapi_tar_data(rd, buf, sizeof(buf), err);
			if (n < 0)
				return (int)n;
			if (n == 0)
				break;
			l->spooled += (uint64_t)n;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(fd, buf + off, (size_t)(n - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return sbx_fail_errno(err, SBX_E_SYSTEM,
							      w < 0 ? errno : EIO,
							      "cannot spool %s", fname);
				off += w;
			}
		}
	}
	mb.name = name;
	name = NULL;
	l->m[l->n++] = mb;
	return 0;
}

static int spool_all(load *l, dapi_tar_reader *rd, sbx_error *err)
{
	for (;;) {
		dapi_tar_entry e;
		int rc = dapi_tar_next(rd, &e, err);
		if (rc <= 0)
			return rc;
		rc = spool_entry(l, rd, &e, err);
		dapi_tar_entry_free(&e);
		if (rc < 0)
			return rc;
	}
}

/* The spool file of a member (symlinks followed inside the archive). */
static int member_file(const load *l, const char *name, char fname[32], sbx_error *err)
{
	_cleanup_free_ char *cur = strdup(name);
	for (int hop = 0; cur; hop++) {
		ssize_t i = find_member(l, cur);
		if (i < 0)
			return sbx_fail(err, SBX_E_INVALID, "archive has no %.200s", name);
		if (!l->m[i].link) {
			snprintf(fname, 32, "m%zd", i);
			return 0;
		}
		if (hop == MAX_LINK_HOPS)
			return sbx_fail(err, SBX_E_INVALID, "too many links at %.200s", name);
		free(cur);
		cur = strdup(l->m[i].link);
	}
	return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
}

static int read_member(const load *l, const char *name, size_t max, char **out, size_t *len,
		       sbx_error *err)
{
	char fname[32];
	_cleanup_free_ char *norm = norm_name(NULL, name);
	if (!norm)
		return sbx_fail(err, SBX_E_PATH, "bad name in manifest: %.200s", name);
	int rc = member_file(l, norm, fname, err);
	if (rc == 0)
		rc = sbx_read_all(l->spoolfd, fname, max, out, len, err);
	return rc < 0 ? sbx_error_wrap(err, rc, "%.200s", name) : 0;
}

/* ---- layers ---------------------------------------------------------------- */

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	int fd = *(int *)ctx;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int apply_layer(load *l, int rootfd, const char *name, dapi_layer_limits *lim,
		       sbx_error *err)
{
	char fname[32];
	_cleanup_free_ char *norm = norm_name(NULL, name);
	if (!norm)
		return sbx_fail(err, SBX_E_PATH, "bad layer name in manifest: %.200s", name);
	int rc = member_file(l, norm, fname, err);
	if (rc < 0)
		return rc;
	_cleanup_close_ int fd = openat(l->spoolfd, fname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open layer %.200s", name);
	unsigned char magic[4] = {0};
	ssize_t got = pread(fd, magic, sizeof(magic), 0);
	if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return sbx_fail(err, SBX_E_INVALID,
				"layer %.200s is gzip-compressed: not supported (save it "
				"uncompressed)",
				name);
	if (got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
	    magic[3] == 0xfd)
		return sbx_fail(err, SBX_E_INVALID,
				"layer %.200s is zstd-compressed: not supported", name);
	dapi_tar_reader rd;
	dapi_tar_reader_init(&rd, fd_read, &fd);
	rc = dapi_layer_unpack(rootfd, &rd, lim, err);
	return rc < 0 ? sbx_error_wrap(err, rc, "layer %.200s", name) : 0;
}

/* ---- images ---------------------------------------------------------------- */

typedef struct img_tags {
	char id[80];
	char **tags; /* normalised */
	size_t n;
} img_tags;

/* The layers, config and size into DIR/TMP (made by the caller). */
/* The directories sbx mounts on (pivot_root's /proc, /dev, /tmp, the
 * workspace): empty directories of the image's own, never a symlink or a
 * file the image put there (a mount through it would land elsewhere). */
static int mount_points(int rootfd, sbx_error *err)
{
	static const char *const dirs[] = {"proc", "dev", "sys", "tmp", "workspace"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;
		if (fstatat(rootfd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode))
				continue;
			if (unlinkat(rootfd, dirs[i], 0) < 0)
				return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "image: /%s",
						      dirs[i]);
		} else if (errno != ENOENT) {
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "image: /%s", dirs[i]);
		}
		mode_t mode = strcmp(dirs[i], "tmp") ? 0755 : 01777;
		if (mkdirat(rootfd, dirs[i], mode) < 0 || fchmodat(rootfd, dirs[i], mode, 0) < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "image: mkdir /%s",
					      dirs[i]);
	}
	return 0;
}

static int fill_image(load *l, const char *tmp, const sbx_jval *layers, const char *config,
		      size_t clen, dapi_layer_limits *lim, sbx_error *err)
{
	char root[96];
	snprintf(root, sizeof(root), "%s/rootfs", tmp);
	if (mkdirat(l->dirfd, root, 0755) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", root);
	_cleanup_close_ int rootfd =
	    openat(l->dirfd, root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", root);
	uint64_t before = lim->bytes;
	int rc;
	for (size_t i = 0; i < layers->n; i++)
		if ((rc = apply_layer(l, rootfd, layers->items[i].str, lim, err)) < 0)
			return rc;
	if ((rc = mount_points(rootfd, err)) < 0)
		return rc;
	_cleanup_free_ char *cpath = NULL, *spath = NULL;
	char size[32];
	int sl = snprintf(size, sizeof(size), "%llu\n", (unsigned long long)(lim->bytes - before));
	if (asprintf(&cpath, "%s/%s/config.json", l->dir, tmp) < 0 ||
	    asprintf(&spath, "%s/%s/size", l->dir, tmp) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
	if ((rc = sbx_write_file_atomic(cpath, config, clen, 0644, err)) < 0 ||
	    (rc = sbx_write_file_atomic(spath, size, (size_t)sl, 0644, err)) < 0)
		return rc;
	return 0;
}

static int unpack_image(load *l, const sbx_jval *layers, const char *config, size_t clen,
			const char *hex, dapi_layer_limits *lim, sbx_error *err)
{
	char tmp[80];
	snprintf(tmp, sizeof(tmp), ".tmp-%s", hex);
	int rc = dapi_rmtree_at(l->dirfd, tmp, err);
	if (rc < 0)
		return rc;
	if (mkdirat(l->dirfd, tmp, 0711) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", tmp);
	rc = fill_image(l, tmp, layers, config, clen, lim, err);
	if (rc == 0 && renameat(l->dirfd, tmp, l->dirfd, hex) < 0)
		rc = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot rename %s", tmp);
	if (rc < 0) {
		dapi_rmtree_at(l->dirfd, tmp, NULL);
		return rc;
	}
	memcpy(l->made[l->nmade++], hex, 65);
	return 0;
}

static bool valid_strings(const sbx_jval *a, size_t max)
{
	if (!a || a->type != SBX_J_ARR || a->n > max)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->items[i].type != SBX_J_STR || strlen(a->items[i].str) != a->items[i].len)
			return false;
	return true;
}

static int one_image(load *l, const sbx_jval *m, size_t idx, img_tags *it, dapi_layer_limits *lim,
		     sbx_error *err)
{
	const char *cfg = sbx_jget_str(m, "Config");
	const sbx_jval *layers = sbx_jget(m, "Layers"), *tags = sbx_jget(m, "RepoTags");
	if (!cfg || !valid_strings(layers, MAX_LAYERS) ||
	    (tags && tags->type != SBX_J_NULL && !valid_strings(tags, 1024)))
		return sbx_fail(err, SBX_E_INVALID, "manifest.json: bad entry %zu", idx);
	_cleanup_free_ char *config = NULL;
	size_t clen = 0;
	int rc = read_member(l, cfg, CONFIG_MAX_BYTES, &config, &clen, err);
	if (rc < 0)
		return rc;
	_cleanup_jval_ sbx_jval *cv = NULL;
	if ((rc = sbx_jparse_max(config, clen, CONFIG_MAX_VALUES, &cv, err)) < 0)
		return sbx_error_wrap(err, rc, "image config %.200s", cfg);
	if (cv->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, "image config %.200s: not an object", cfg);
	char hex[65];
	dapi_sha256_hex(config, clen, hex);
	snprintf(it->id, sizeof(it->id), "sha256:%s", hex);
	if (tags && tags->type == SBX_J_ARR) {
		if (!(it->tags = calloc(tags->n + 1, sizeof(char *))))
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
		for (size_t i = 0; i < tags->n; i++) {
			rc = dapi_image_normalise(tags->items[i].str, &it->tags[it->n], err);
			if (rc < 0)
				return sbx_error_wrap(err, rc, "manifest.json RepoTags");
			/* The default image's name stays the default's. */
			if (!strcmp(it->tags[it->n], DEFAULT_NAME)) {
				free(it->tags[it->n]);
				it->tags[it->n] = NULL;
			} else {
				it->n++;
			}
		}
	}
	struct stat st;
	if (fstatat(l->dirfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0; /* already here */
	return unpack_image(l, layers, config, clen, hex, lim, err);
}

static int record_tags(load *l, const img_tags *its, size_t n, sbx_error *err)
{
	dapi_repo r;
	int rc = dapi_repo_read(l->dir, &r, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < its[i].n; j++)
			if (dapi_repo_set(&r, its[i].tags[j], its[i].id) < 0) {
				dapi_repo_free(&r);
				return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
			}
	rc = dapi_repo_write(l->dir, &r, err);
	dapi_repo_free(&r);
	return rc;
}

static int load_images(load *l, dapi_tar_reader *rd, uint64_t max_bytes,
		       void (*progress)(void *ctx, const char *line), void *ctx, sbx_error *err)
{
	int rc = spool_all(l, rd, err);
	if (rc < 0)
		return sbx_error_wrap(err, rc, "docker save archive");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if ((rc = read_member(l, "manifest.json", MANIFEST_MAX_BYTES, &text, &len, err)) < 0)
		return sbx_error_wrap(err, rc, "not a docker save archive");
	_cleanup_jval_ sbx_jval *man = NULL;
	if ((rc = sbx_jparse_max(text, len, MANIFEST_MAX_VALUES, &man, err)) < 0)
		return sbx_error_wrap(err, rc, "manifest.json");
	if (man->type != SBX_J_ARR || man->n == 0 || man->n > MAX_IMAGES)
		return sbx_fail(err, SBX_E_INVALID, "manifest.json: not a list of 1 to %d images",
				MAX_IMAGES);
	if (!(l->made = calloc(man->n, sizeof(*l->made))))
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
	img_tags *its = calloc(man->n, sizeof(*its));
	if (!its)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
	dapi_layer_limits lim = {.max_bytes = max_bytes, .max_entries = MAX_ENTRIES};
	for (size_t i = 0; i < man->n && rc == 0; i++) {
		if (man->items[i].type != SBX_J_OBJ)
			rc = sbx_fail(err, SBX_E_INVALID, "manifest.json: bad entry %zu", i);
		else
			rc = one_image(l, &man->items[i], i, &its[i], &lim, err);
	}
	if (rc == 0)
		rc = record_tags(l, its, man->n, err);
	for (size_t i = 0; i < man->n; i++) {
		_cleanup_buf_ sbx_buf line = {0};
		for (size_t j = 0; rc == 0 && progress && j < its[i].n; j++) {
			line.len = 0;
			sbx_buf_printf(&line, "Loaded image: %s", its[i].tags[j]);
			if (!line.oom)
				progress(ctx, line.data);
		}
		if (rc == 0 && progress && its[i].n == 0) {
			sbx_buf_printf(&line, "Loaded image ID: %s", its[i].id);
			if (!line.oom)
				progress(ctx, line.data);
		}
		for (size_t j = 0; j < its[i].n; j++)
			free(its[i].tags[j]);
		free(its[i].tags);
	}
	free(its);
	return rc;
}

/* What a crashed load or removal left (the lock is held: none is running). */
static void sweep(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".load-", 6) || !strncmp(de->d_name, ".tmp-", 5) ||
		    !strncmp(de->d_name, ".rm-", 4))
			dapi_rmtree_at(dirfd, de->d_name, NULL);
	closedir(d);
}

int dapi_image_load(const char *dir, dapi_tar_reader *rd, uint64_t max_bytes,
		    void (*progress)(void *ctx, const char *line), void *ctx, sbx_error *err)
{
	_cleanup_close_ int lock = -1;
	int rc = dapi_repo_lock(dir, &lock, err);
	if (rc < 0)
		return rc;
	load l = {.dir = dir, .dirfd = -1, .spoolfd = -1};
	l.spool_max =
	    max_bytes > (UINT64_MAX - (1u << 20)) / 2 ? UINT64_MAX : max_bytes * 2 + (1u << 20);
	l.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l.dirfd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", dir);
	sweep(l.dirfd);
	_cleanup_free_ char *tmpl = NULL;
	if (asprintf(&tmpl, "%s/.load-XXXXXX", dir) < 0) {
		close(l.dirfd);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "load");
	}
	if (!mkdtemp(tmpl)) {
		rc = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", tmpl);
		close(l.dirfd);
		return rc;
	}
	l.spool = strdup(strrchr(tmpl, '/') + 1);
	l.spoolfd = open(tmpl, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (!l.spool || l.spoolfd < 0)
		rc = sbx_fail_errno(err, SBX_E_SYSTEM, l.spool ? errno : ENOMEM, "cannot open %s",
				    tmpl);
	else
		rc = load_images(&l, rd, max_bytes, progress, ctx, err);
	if (rc < 0)
		for (size_t i = 0; i < l.nmade; i++)
			dapi_rmtree_at(l.dirfd, l.made[i], NULL);
	if (l.spoolfd >= 0)
		close(l.spoolfd);
	dapi_rmtree_at(l.dirfd, strrchr(tmpl, '/') + 1, NULL);
	close(l.dirfd);
	load_free(&l);
	return rc;
}
