/* Images by name: the default rootfs, and those loaded into DIR (see
 * image.h), found through DIR/repositories.json or by id. */
#include "dockerapi/image.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "base/readall.h"
#include "dockerapi/image_repo.h"
#include "dockerapi/rmtree.h"
#include "dockerapi/sha256.h"
#include "proto/jsonparse.h"

#define DEFAULT_NAME "sbx-python:latest"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CONFIG_MAX_BYTES (8u << 20)
#define CONFIG_MAX_VALUES 500000
#define REF_MAX 255

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void dapi_image_free(dapi_image *img)
{
	if (!img)
		return;
	free(img->name);
	free(img->rootfs);
	strv_free(img->env);
	strv_free(img->cmd);
	strv_free(img->entrypoint);
	free(img->workdir);
	free(img->user);
	strv_free(img->tags);
	memset(img, 0, sizeof(*img));
}

void dapi_image_list_free(dapi_image *imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dapi_image_free(&imgs[i]);
	free(imgs);
}

/* ---- references ------------------------------------------------------------ */

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component: [a-z0-9]+ separated by '.', '_', '__' or '-'+. */
static bool path_comp_ok(const char *s, size_t n)
{
	if (!n || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (alnum_lower(s[i]))
			continue;
		if (s[i] == '-')
			continue;
		if (s[i] == '.' || s[i] == '_') {
			bool dunder = s[i] == '_' && s[i + 1] == '_';
			if (!alnum_lower(s[i - 1]) || (!dunder && !alnum_lower(s[i + 1])))
				return false;
			if (dunder) {
				i++;
				if (!alnum_lower(s[i + 1]))
					return false;
			}
			continue;
		}
		return false;
	}
	return true;
}

static bool domain_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != ':')
			return false;
	return true;
}

static bool tag_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

int dapi_image_normalise(const char *ref, char **out, sbx_error *err)
{
	size_t len = strlen(ref);
	if (!len || len > REF_MAX)
		return sbx_fail(err, SBX_E_INVALID, "invalid reference format: %s",
				len ? "too long" : "empty");
	if (strchr(ref, '@'))
		return sbx_fail(err, SBX_E_INVALID, "digest references are not supported: %.255s",
				ref);
	_cleanup_free_ char *s = strdup(ref);
	if (!s)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "reference");
	const char *tag = "latest";
	char *slash = strrchr(s, '/'), *colon = strrchr(s, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = 0;
		tag = colon + 1;
	}
	if (!tag_ok(tag))
		return sbx_fail(err, SBX_E_INVALID, "invalid reference format: bad tag in %.255s",
				ref);
	/* The first component is a registry if it has '.' or ':' or is localhost;
	 * Docker Hub's is dropped, and its "library/". */
	const char *domain = NULL, *path = s;
	size_t dl = 0;
	char *first_end = strchr(s, '/');
	if (first_end) {
		size_t fl = (size_t)(first_end - s);
		if (memchr(s, '.', fl) || memchr(s, ':', fl) ||
		    (fl == 9 && !memcmp(s, "localhost", 9))) {
			if (!domain_ok(s, fl))
				return sbx_fail(err, SBX_E_INVALID,
						"invalid reference format: bad registry in %.255s",
						ref);
			path = first_end + 1;
			if (!((fl == 9 && !memcmp(s, "docker.io", 9)) ||
			      (fl == 15 && !memcmp(s, "index.docker.io", 15)))) {
				domain = s;
				dl = fl;
			}
		}
	}
	for (const char *c = path;;) {
		size_t n = strcspn(c, "/");
		if (!path_comp_ok(c, n))
			return sbx_fail(err, SBX_E_INVALID,
					"invalid reference format: repository name must be "
					"lowercase: %.255s",
					ref);
		if (!c[n])
			break;
		c += n + 1;
	}
	if (!domain && !strncmp(path, "library/", 8) && !strchr(path + 8, '/'))
		path += 8;
	if (asprintf(out, "%.*s%s%s:%s", (int)dl, domain ? domain : "", domain ? "/" : "", path,
		     tag) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "reference");
	return 0;
}
/* ---- the images ---------------------------------------------------------- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool is_default_name(const char *norm)
{
	return !strcmp(norm, DEFAULT_NAME);
}

static void default_id(char id[80])
{
	const char *root = sbx_default_rootfs();
	char hex[65];
	dapi_sha256_hex(root, strlen(root), hex);
	snprintf(id, 80, "sha256:%s", hex);
}

static char **strv_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

/* The tags of id, sorted as in the index. */
static int tags_of(const dapi_repo *r, const char *id, char ***out)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += !strcmp(r->ids[i], id);
	char **v = strv_new(n);
	if (!v)
		return -1;
	n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->ids[i], id) && !(v[n++] = strdup(r->tags[i]))) {
			strv_free(v);
			return -1;
		}
	*out = v;
	return 0;
}

static int fill_default(dapi_image *img, sbx_error *err)
{
	memset(img, 0, sizeof(*img));
	default_id(img->id);
	const char *root = sbx_default_rootfs();
	struct stat st;
	if (stat(root, &st) == 0)
		img->created = st.st_mtime;
	img->name = strdup(DEFAULT_NAME);
	img->rootfs = strdup(root);
	img->env = strv_new(1);
	img->cmd = strv_new(1);
	img->tags = strv_new(1);
	img->workdir = strdup("");
	img->user = strdup("");
	if (img->env)
		img->env[0] = strdup(DEFAULT_PATH);
	if (img->cmd)
		img->cmd[0] = strdup("python3");
	if (img->tags)
		img->tags[0] = strdup(DEFAULT_NAME);
	if (!img->name || !img->rootfs || !img->env || !img->env[0] || !img->cmd || !img->cmd[0] ||
	    !img->tags || !img->tags[0] || !img->workdir || !img->user) {
		dapi_image_free(img);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image");
	}
	return 0;
}

/* A JSON array of strings (or null / absent: NULL with 0). */
static int strv_json(const sbx_jval *v, char ***out, bool empty_if_none)
{
	*out = NULL;
	if (!v || v->type == SBX_J_NULL) {
		if (empty_if_none && !(*out = strv_new(0)))
			return -1;
		return 0;
	}
	if (v->type != SBX_J_ARR)
		return -2;
	char **s = strv_new(v->n);
	if (!s)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		const sbx_jval *it = &v->items[i];
		if (it->type != SBX_J_STR || strlen(it->str) != it->len) {
			strv_free(s);
			return -2;
		}
		if (!(s[i] = strdup(it->str))) {
			strv_free(s);
			return -1;
		}
	}
	*out = s;
	return 0;
}

/* RFC 3339 ("2026-11-30T01:02:03.123456789Z", or with an offset). */
static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	int n = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t t = (int64_t)timegm(&tm);
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	int oh, om;
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d", &oh, &om) == 2)
		t -= (*s == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	return t;
}

static int fill_loaded(const char *dir, const char *hex, const dapi_repo *r, dapi_image *img,
		       sbx_error *err)
{
	memset(img, 0, sizeof(*img));
	snprintf(img->id, sizeof(img->id), "sha256:%s", hex);
	_cleanup_free_ char *cpath = NULL, *text = NULL, *spath = NULL;
	size_t len = 0;
	if (asprintf(&cpath, "%s/%s/config.json", dir, hex) < 0 ||
	    asprintf(&img->rootfs, "%s/%s/rootfs", dir, hex) < 0) {
		img->rootfs = NULL;
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image");
	}
	int rc = sbx_read_all(AT_FDCWD, cpath, CONFIG_MAX_BYTES, &text, &len, err);
	_cleanup_jval_ sbx_jval *v = NULL;
	if (rc == 0)
		rc = sbx_jparse_max(text, len, CONFIG_MAX_VALUES, &v, err);
	if (rc < 0) {
		dapi_image_free(img);
		return sbx_error_wrap(err, rc, "image %.12s", hex);
	}
	const sbx_jval *c = sbx_jget(v, "config");
	if (c && c->type != SBX_J_OBJ)
		c = NULL;
	int a = strv_json(sbx_jget(c, "Env"), &img->env, true);
	int b = a ? a : strv_json(sbx_jget(c, "Cmd"), &img->cmd, false);
	int d = b ? b : strv_json(sbx_jget(c, "Entrypoint"), &img->entrypoint, false);
	const char *wd = sbx_jget_str(c, "WorkingDir"), *user = sbx_jget_str(c, "User");
	img->workdir = strdup(wd ? wd : "");
	img->user = strdup(user ? user : "");
	img->created = parse_time(sbx_jget_str(v, "created"));
	if (d == -2) {
		dapi_image_free(img);
		return sbx_fail(err, SBX_E_INVALID, "image %s: bad config", hex);
	}
	char sz[32];
	if (asprintf(&spath, "%s/%s/size", dir, hex) >= 0 &&
	    sbx_read_fileat(AT_FDCWD, spath, sz, sizeof(sz), NULL) > 0)
		img->size = strtoull(sz, NULL, 10);
	if (d < 0 || !img->workdir || !img->user || tags_of(r, img->id, &img->tags) < 0) {
		dapi_image_free(img);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image");
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The loaded images' ids (64 hex) in DIR, sorted. */
static int loaded_ids(const char *dir, char ***out, size_t *n, sbx_error *err)
{
	*out = NULL;
	*n = 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", dir);
	}
	size_t cap = 0;
	char **v = NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 64 || !is_hex(de->d_name, 64))
			continue;
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[*n] = strdup(de->d_name)))
			goto oom;
		v[++*n] = NULL;
	}
	if (v)
		qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
oom:
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	free(v);
	*n = 0;
	return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "images");
}

/* An id reference ("sha256:<hex>" or >= 12 hex): 64 hex into hex, 1;
 * 2 the default image; 0 none. */
static int find_id(const char *dir, const char *ref, char hex[65], sbx_error *err)
{
	const char *p = ref;
	if (!strncmp(p, "sha256:", 7))
		p += 7;
	size_t n = strlen(p);
	if (n < 12 || n > 64 || !is_hex(p, n))
		return 0;
	char def[80];
	default_id(def);
	int found = !strncmp(def + 7, p, n) ? 2 : 0;
	char **ids = NULL;
	size_t k = 0;
	int rc = loaded_ids(dir, &ids, &k, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < k; i++) {
		if (!strncmp(ids[i], p, n)) {
			if (found) {
				found = -1;
				break;
			}
			memcpy(hex, ids[i], 65);
			found = 1;
		}
	}
	for (size_t i = 0; i < k; i++)
		free(ids[i]);
	free(ids);
	if (found < 0)
		return sbx_fail(err, SBX_E_NOTFOUND, "image id prefix %.64s is ambiguous", p);
	return found;
}

int dapi_image_find(const char *dir, const char *ref, dapi_image *img, sbx_error *err)
{
	memset(img, 0, sizeof(*img));
	_cleanup_free_ char *norm = NULL;
	dapi_repo r;
	int rc = dapi_repo_read(dir, &r, err);
	if (rc < 0)
		return rc;
	char hex[65];
	if (strncmp(ref, "sha256:", 7) && dapi_image_normalise(ref, &norm, NULL) == 0) {
		if (is_default_name(norm)) {
			dapi_repo_free(&r);
			return fill_default(img, err);
		}
		const char *id = dapi_repo_get(&r, norm);
		if (id && strlen(id) == 71 && is_hex(id + 7, 64)) {
			memcpy(hex, id + 7, 65);
			rc = fill_loaded(dir, hex, &r, img, err);
			dapi_repo_free(&r);
			if (rc == 0 && !(img->name = strdup(norm))) {
				dapi_image_free(img);
				return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image");
			}
			return rc;
		}
	}
	rc = find_id(dir, ref, hex, err);
	if (rc == 2) {
		dapi_repo_free(&r);
		return fill_default(img, err);
	}
	if (rc == 1) {
		rc = fill_loaded(dir, hex, &r, img, err);
		dapi_repo_free(&r);
		if (rc == 0 && !(img->name = strdup(img->id))) {
			dapi_image_free(img);
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image");
		}
		return rc;
	}
	dapi_repo_free(&r);
	if (rc < 0)
		return rc;
	return sbx_fail(err, SBX_E_NOTFOUND, "No such image: %.255s", ref);
}

int dapi_image_list(const char *dir, dapi_image **imgs, size_t *n, sbx_error *err)
{
	*imgs = NULL;
	*n = 0;
	dapi_repo r;
	int rc = dapi_repo_read(dir, &r, err);
	if (rc < 0)
		return rc;
	char **ids = NULL;
	size_t k = 0;
	if ((rc = loaded_ids(dir, &ids, &k, err)) < 0) {
		dapi_repo_free(&r);
		return rc;
	}
	dapi_image *v = calloc(k + 1, sizeof(*v));
	size_t m = 0;
	if (!v)
		rc = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "images");
	if (rc == 0 && (rc = fill_default(&v[0], err)) == 0)
		m = 1;
	for (size_t i = 0; rc == 0 && i < k; i++) {
		dapi_image *img = &v[m];
		sbx_error e2 = {0};
		int r2 = fill_loaded(dir, ids[i], &r, img, &e2);
		if (r2 == -SBX_E_SYSTEM && e2.sys_errno == ENOMEM)
			rc = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "images");
		if (r2 < 0) /* a broken image is left out of the list */
			continue;
		img->name = strdup(img->tags[0] ? img->tags[0] : img->id);
		m++;
		if (!img->name)
			rc = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "images");
	}
	for (size_t i = 0; i < k; i++)
		free(ids[i]);
	free(ids);
	dapi_repo_free(&r);
	if (rc < 0) {
		dapi_image_list_free(v, m);
		return rc;
	}
	*imgs = v;
	*n = m;
	return 0;
}

int dapi_image_remove(const char *dir, const char *ref, sbx_error *err)
{
	dapi_image img;
	int rc = dapi_image_find(dir, ref, &img, err);
	if (rc < 0)
		return rc;
	char def[80];
	default_id(def);
	if (!strcmp(img.id, def)) {
		dapi_image_free(&img);
		return sbx_fail(err, SBX_E_INVALID, "the default image %s cannot be removed",
				DEFAULT_NAME);
	}
	char hex[65];
	memcpy(hex, img.id + 7, 65);
	/* By tag: that tag goes, the image with its last one; by id: all. */
	bool by_tag = strcmp(img.name, img.id) != 0;
	_cleanup_free_ char *tag = by_tag ? strdup(img.name) : NULL;
	dapi_image_free(&img);
	if (by_tag && !tag)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image");
	_cleanup_close_ int lock = -1;
	if ((rc = dapi_repo_lock(dir, &lock, err)) < 0)
		return rc;
	dapi_repo r;
	if ((rc = dapi_repo_read(dir, &r, err)) < 0)
		return rc;
	char id[80];
	snprintf(id, sizeof(id), "sha256:%s", hex);
	size_t left = 0;
	for (size_t i = r.n; i-- > 0;) {
		if (strcmp(r.ids[i], id))
			continue;
		if (!by_tag || !strcmp(r.tags[i], tag))
			dapi_repo_del(&r, i);
		else
			left++;
	}
	rc = dapi_repo_write(dir, &r, err);
	dapi_repo_free(&r);
	if (rc < 0 || left)
		return rc;
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", dir);
	/* Renamed aside first, so a half-removed image is never found. */
	char aside[80];
	snprintf(aside, sizeof(aside), ".rm-%s", hex);
	if (renameat(dfd, hex, dfd, aside) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove image %s", hex);
	return dapi_rmtree_at(dfd, aside, err);
}
