/* Unit tests: src/dockerapi/image.c, image_load.c, layer.c (docker save
 * archives built in memory, loaded into a temp dir: escapes refused,
 * whiteouts, caps, the index; names, ids, list, remove). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dapi_tarbuild.h"
#include "dockerapi/image.h"
#include "dockerapi/rmtree.h"
#include "dockerapi/sha256.h"

typedef struct fx {
	char tmp[64]; /* the test's temp dir */
	char dir[96]; /* the image store: tmp/images */
	char out[96]; /* tmp/outside: must stay empty */
	char lines[16][128];
	int nlines;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	strcpy(f->tmp, "/tmp/sbx-dapi-image-XXXXXX");
	if (!f || !mkdtemp(f->tmp))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/images", f->tmp);
	snprintf(f->out, sizeof(f->out), "%s/outside", f->tmp);
	if (mkdir(f->out, 0755) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	int r = dapi_rmtree_at(AT_FDCWD, f->tmp, NULL);
	free(f);
	return r;
}

static void progress(void *ctx, const char *line)
{
	fx *f = ctx;
	if (f->nlines < 16)
		snprintf(f->lines[f->nlines++], 128, "%s", line);
}

/* ---- archives ------------------------------------------------------------ */

#define CONFIG_A                                                                                   \
	"{\"architecture\":\"amd64\",\"created\":\"2026-11-30T01:02:03.5Z\",\"config\":{"          \
	"\"Env\":[\"PATH=/bin\",\"A=1\"],\"Cmd\":[\"sh\",\"-c\",\"echo hi\"],\"Entrypoint\":null," \
	"\"WorkingDir\":\"/w\",\"User\":\"1000\"},\"rootfs\":{\"type\":\"layers\"}}"

/* A legacy `docker save` archive: layers as DIRn/layer.tar, the config as
 * <sha>.json, manifest.json last (as docker writes it). tags: JSON list or
 * "null". */
static void save_archive(tb *out, const char *config, const char *tags, tb *layers, int n)
{
	char hex[65], name[128];
	dapi_sha256_hex(config, strlen(config), hex);
	char manifest[4096];
	int o = snprintf(manifest, sizeof(manifest),
			 "[{\"Config\":\"%s.json\",\"RepoTags\":%s,"
			 "\"Layers\":[",
			 hex, tags);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "layer%d", i);
		tb_dir(out, name);
		snprintf(name, sizeof(name), "layer%d/VERSION", i);
		tb_file(out, name, "1.0");
		snprintf(name, sizeof(name), "layer%d/layer.tar", i);
		tb_entry(out, name, '0', NULL, layers[i].d, layers[i].len, 0644, 0, 0);
		o += snprintf(manifest + o, sizeof(manifest) - (size_t)o, "%s\"%s\"", i ? "," : "",
			      name);
	}
	snprintf(manifest + o, sizeof(manifest) - (size_t)o, "]}]");
	snprintf(name, sizeof(name), "%s.json", hex);
	tb_file(out, name, config);
	tb_file(out, "repositories", "{}");
	tb_file(out, "manifest.json", manifest);
	tb_end(out);
}

static int load(fx *f, const tb *archive, uint64_t cap, sbx_error *err)
{
	memrd m = {archive->d, archive->len, 0};
	dapi_tar_reader rd;
	dapi_tar_reader_init(&rd, memrd_read, &m);
	f->nlines = 0;
	return dapi_image_load(f->dir, &rd, cap, progress, f, err);
}

/* The store holds nothing but the index, its lock and `images` images. */
static void assert_store(fx *f, int images)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".lock") || !strcmp(de->d_name, "repositories.json"))
			continue;
		if (strlen(de->d_name) != 64) {
			fprintf(stderr, "left in the store: %s\n", de->d_name);
			fail();
		}
		n++;
	}
	closedir(d);
	assert_int_equal(n, images);
	/* and nothing ever went outside */
	d = opendir(f->out);
	assert_non_null(d);
	while ((de = readdir(d)))
		assert_true(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."));
	closedir(d);
}

static void img_path(const dapi_image *img, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", img->rootfs, rel);
}

static bool exists(const dapi_image *img, const char *rel)
{
	char p[512];
	struct stat st;
	img_path(img, rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

static char *content(const dapi_image *img, const char *rel)
{
	char p[512], buf[256];
	img_path(img, rel, p, sizeof(p));
	int fd = open(p, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* ---- names ----------------------------------------------------------------- */

static void check_norm(const char *in, const char *want)
{
	char *out = NULL;
	sbx_error err = {0};
	int r = dapi_image_normalise(in, &out, &err);
	if (!want) {
		assert_int_equal(r, -SBX_E_INVALID);
		return;
	}
	if (r < 0)
		fprintf(stderr, "%s: %s\n", in, err.msg);
	assert_int_equal(r, 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_normalise(void **state)
{
	(void)state;
	check_norm("python", "python:latest");
	check_norm("python:3.12-slim", "python:3.12-slim");
	check_norm("docker.io/library/x:1", "x:1");
	check_norm("library/x", "x:latest");
	check_norm("docker.io/foo/bar", "foo/bar:latest");
	check_norm("index.docker.io/library/busybox:1.36", "busybox:1.36");
	check_norm("localhost:5000/a/b:t", "localhost:5000/a/b:t");
	check_norm("ghcr.io/o/r_x.y-z__w", "ghcr.io/o/r_x.y-z__w:latest");
	check_norm("Python", NULL);
	check_norm("", NULL);
	check_norm("a:", NULL);
	check_norm("a:b:c", NULL);
	check_norm("-a", NULL);
	check_norm("a//b", NULL);
	check_norm("a/", NULL);
	check_norm("a@sha256:0000", NULL);
	check_norm("a:.tag", NULL);
	check_norm("a b", NULL);
	check_norm("a..b", NULL);
}

static void test_default_image(void **state)
{
	fx *f = *state;
	char id[80], hex[65];
	const char *root = sbx_default_rootfs();
	dapi_sha256_hex(root, strlen(root), hex);
	snprintf(id, sizeof(id), "sha256:%s", hex);
	const char *refs[] = {
	    "sbx-python", "sbx-python:latest",	"docker.io/library/sbx-python:latest", id,
	    hex,	  "sha256:0123456789ab" /* replaced below */};
	char shortid[20];
	snprintf(shortid, sizeof(shortid), "%.12s", hex);
	refs[5] = shortid;
	for (size_t i = 0; i < 6; i++) {
		dapi_image img;
		sbx_error err = {0};
		assert_int_equal(dapi_image_find(f->dir, refs[i], &img, &err), 0);
		assert_string_equal(img.id, id);
		assert_string_equal(img.rootfs, root);
		assert_string_equal(img.cmd[0], "python3");
		assert_null(img.cmd[1]);
		assert_null(img.entrypoint);
		assert_string_equal(
		    img.env[0],
		    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
		assert_string_equal(img.tags[0], "sbx-python:latest");
		dapi_image_free(&img);
	}
	dapi_image img;
	sbx_error err = {0};
	assert_int_equal(dapi_image_find(f->dir, "nosuch", &img, &err), -SBX_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "No such image: nosuch"));
	assert_int_equal(dapi_image_find(f->dir, "BAD ref", &img, &err), -SBX_E_NOTFOUND);
	assert_int_equal(dapi_image_remove(f->dir, "sbx-python", &err), -SBX_E_INVALID);
	dapi_image *list = NULL;
	size_t n = 0;
	assert_int_equal(dapi_image_list(f->dir, &list, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, id);
	dapi_image_list_free(list, n);
}

/* ---- a whole load ---------------------------------------------------------- */

static void test_load_find_list_remove(void **state)
{
	fx *f = *state;
	tb l[2] = {{0}, {0}};
	tb_dir(&l[0], "./");
	tb_dir(&l[0], "./etc/");
	tb_file(&l[0], "./etc/hostname", "one");
	tb_dir(&l[0], "usr/");
	tb_dir(&l[0], "usr/bin/");
	tb_file(&l[0], "usr/bin/tool", "#!/bin/sh\n");
	tb_symlink(&l[0], "bin", "usr/bin");
	tb_end(&l[0]);
	tb_file(&l[1], "etc/hostname", "two");
	tb_file(&l[1], "new/deep/file", "made with its parents");
	tb_end(&l[1]);
	tb a = {0};
	save_archive(&a, CONFIG_A, "[\"foo:1\",\"docker.io/library/bar:latest\"]", l, 2);
	sbx_error err = {0};
	int r = load(f, &a, 1 << 20, &err);
	if (r < 0)
		fprintf(stderr, "load: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(f->nlines, 2);
	assert_string_equal(f->lines[0], "Loaded image: foo:1");
	assert_string_equal(f->lines[1], "Loaded image: bar:latest");
	assert_store(f, 1);

	char hex[65], id[80], shortid[13];
	dapi_sha256_hex(CONFIG_A, strlen(CONFIG_A), hex);
	snprintf(id, sizeof(id), "sha256:%s", hex);
	snprintf(shortid, sizeof(shortid), "%.12s", hex);
	const char *refs[] = {"foo:1", "bar", "docker.io/library/bar:latest", id, hex, shortid};
	for (size_t i = 0; i < 6; i++) {
		dapi_image img;
		assert_int_equal(dapi_image_find(f->dir, refs[i], &img, &err), 0);
		assert_string_equal(img.id, id);
		char want[200];
		snprintf(want, sizeof(want), "%s/%s/rootfs", f->dir, hex);
		assert_string_equal(img.rootfs, want);
		assert_string_equal(img.env[0], "PATH=/bin");
		assert_string_equal(img.env[1], "A=1");
		assert_null(img.env[2]);
		assert_string_equal(img.cmd[2], "echo hi");
		assert_null(img.entrypoint);
		assert_string_equal(img.workdir, "/w");
		assert_string_equal(img.user, "1000");
		assert_int_equal(img.created, 1795914123 + 86400);
		assert_string_equal(img.tags[0], "foo:1");
		assert_string_equal(img.tags[1], "bar:latest");
		assert_null(img.tags[2]);
		if (i == 1)
			assert_string_equal(img.name, "bar:latest");
		char *s = content(&img, "etc/hostname");
		assert_string_equal(s, "two");
		free(s);
		s = content(&img, "new/deep/file");
		assert_string_equal(s, "made with its parents");
		free(s);
		char p[512], link[64];
		img_path(&img, "bin", p, sizeof(p));
		ssize_t k = readlink(p, link, sizeof(link));
		assert_int_equal(k, 7);
		assert_memory_equal(link, "usr/bin", 7);
		assert_true(img.size > 0);
		dapi_image_free(&img);
	}
	dapi_image *list = NULL;
	size_t n = 0;
	assert_int_equal(dapi_image_list(f->dir, &list, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].id, id);
	assert_string_equal(list[1].name, "foo:1");
	dapi_image_list_free(list, n);

	/* the same archive again: nothing unpacked twice, still one image */
	assert_int_equal(load(f, &a, 1 << 20, &err), 0);
	assert_store(f, 1);

	/* remove by one tag: the other keeps it */
	assert_int_equal(dapi_image_remove(f->dir, "foo:1", &err), 0);
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "foo:1", &img, &err), -SBX_E_NOTFOUND);
	assert_int_equal(dapi_image_find(f->dir, "bar", &img, &err), 0);
	assert_null(img.tags[1]);
	dapi_image_free(&img);
	assert_store(f, 1);
	/* by its last tag: gone */
	assert_int_equal(dapi_image_remove(f->dir, "bar:latest", &err), 0);
	assert_int_equal(dapi_image_find(f->dir, shortid, &img, &err), -SBX_E_NOTFOUND);
	assert_store(f, 0);
	/* by id */
	assert_int_equal(load(f, &a, 1 << 20, &err), 0);
	assert_int_equal(dapi_image_remove(f->dir, shortid, &err), 0);
	assert_int_equal(dapi_image_find(f->dir, "bar", &img, &err), -SBX_E_NOTFOUND);
	assert_store(f, 0);
	assert_int_equal(dapi_image_remove(f->dir, "bar", &err), -SBX_E_NOTFOUND);
	free(a.d);
	free(l[0].d);
	free(l[1].d);
}

static void test_retag_and_untagged(void **state)
{
	fx *f = *state;
	tb l = {0};
	tb_file(&l, "a", "a");
	tb_end(&l);
	tb a1 = {0}, a2 = {0}, a3 = {0};
	save_archive(&a1, "{\"config\":{\"Cmd\":[\"one\"]}}", "[\"t:1\"]", &l, 1);
	save_archive(&a2, "{\"config\":{\"Cmd\":[\"two\"]}}", "[\"t:1\",\"sbx-python\"]", &l, 1);
	save_archive(&a3, "{\"config\":{\"Cmd\":[\"three\"]}}", "null", &l, 1);
	/* what a crashed load left is swept by the next one */
	char left[200];
	assert_int_equal(mkdir(f->dir, 0700), 0);
	snprintf(left, sizeof(left), "%s/.load-AbCdEf", f->dir);
	assert_int_equal(mkdir(left, 0700), 0);
	snprintf(left, sizeof(left), "%s/.load-AbCdEf/m0", f->dir);
	int fd = open(left, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(left, sizeof(left), "%s/.tmp-0123", f->dir);
	assert_int_equal(mkdir(left, 0700), 0);
	sbx_error err = {0};
	assert_int_equal(load(f, &a1, 1 << 20, &err), 0);
	assert_store(f, 1);
	assert_int_equal(load(f, &a2, 1 << 20, &err), 0);
	assert_int_equal(f->nlines, 1); /* the default's name is not taken */
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "t:1", &img, &err), 0);
	assert_string_equal(img.cmd[0], "two");
	dapi_image_free(&img);
	assert_int_equal(dapi_image_find(f->dir, "sbx-python", &img, &err), 0);
	assert_string_equal(img.rootfs, sbx_default_rootfs());
	dapi_image_free(&img);
	assert_int_equal(load(f, &a3, 1 << 20, &err), 0);
	assert_int_equal(f->nlines, 1);
	char hex[65], want[100];
	const char *c3 = "{\"config\":{\"Cmd\":[\"three\"]}}";
	dapi_sha256_hex(c3, strlen(c3), hex);
	snprintf(want, sizeof(want), "Loaded image ID: sha256:%s", hex);
	assert_string_equal(f->lines[0], want);
	assert_store(f, 3);
	dapi_image *list = NULL;
	size_t n = 0;
	assert_int_equal(dapi_image_list(f->dir, &list, &n, NULL), 0);
	assert_int_equal(n, 4);
	int untagged = 0;
	for (size_t i = 1; i < n; i++)
		untagged += list[i].tags[0] == NULL;
	assert_int_equal(untagged, 2); /* "one" lost its tag, "three" never had one */
	dapi_image_list_free(list, n);
	free(a1.d);
	free(a2.d);
	free(a3.d);
	free(l.d);
}

/* The layout docker 25+ writes: blobs/sha256/<hex>, index.json, oci-layout,
 * manifest.json first; and a legacy layer that is a symlink to another. */
static void test_oci_layout(void **state)
{
	fx *f = *state;
	tb l = {0};
	tb_file(&l, "hello", "oci");
	tb_end(&l);
	tb l2 = {0};
	tb_file(&l2, "second", "2");
	tb_end(&l2);
	char lh[65], l2h[65], ch[65];
	dapi_sha256_hex(l.d, l.len, lh);
	dapi_sha256_hex(l2.d, l2.len, l2h);
	const char *config = "{\"config\":{\"Entrypoint\":[\"/hello\"]}}";
	dapi_sha256_hex(config, strlen(config), ch);
	char manifest[1024], name[128];
	snprintf(manifest, sizeof(manifest),
		 "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"o:v\"],\"Layers\":["
		 "\"blobs/sha256/%s\",\"x/layer.tar\"],\"LayerSources\":{}}]",
		 lh);
	tb a = {0};
	tb_file(&a, "manifest.json", manifest);
	tb_file(&a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	tb_file(&a, "index.json", "{\"schemaVersion\":2,\"manifests\":[]}");
	tb_dir(&a, "blobs/");
	tb_dir(&a, "blobs/sha256/");
	snprintf(name, sizeof(name), "blobs/sha256/%s", lh);
	tb_entry(&a, name, '0', NULL, l.d, l.len, 0644, 0, 0);
	snprintf(name, sizeof(name), "blobs/sha256/%s", l2h);
	tb_entry(&a, name, '0', NULL, l2.d, l2.len, 0644, 0, 0);
	snprintf(name, sizeof(name), "./blobs/sha256/%s", ch);
	tb_file(&a, name, config);
	snprintf(name, sizeof(name), "../blobs/sha256/%s", l2h);
	tb_symlink(&a, "x/layer.tar", name);
	snprintf(name, sizeof(name), "./blobs/sha256/%s", ch);
	tb_hardlink(&a, "cfg.json", name); /* a hard link in the archive */
	tb_end(&a);
	sbx_error err = {0};
	int r = load(f, &a, 1 << 20, &err);
	if (r < 0)
		fprintf(stderr, "load: %s\n", err.msg);
	assert_int_equal(r, 0);
	assert_string_equal(f->lines[0], "Loaded image: o:v");
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "o:v", &img, &err), 0);
	assert_string_equal(img.entrypoint[0], "/hello");
	assert_null(img.cmd);
	char *s = content(&img, "hello");
	assert_string_equal(s, "oci");
	free(s);
	s = content(&img, "second");
	assert_string_equal(s, "2");
	free(s);
	dapi_image_free(&img);
	assert_store(f, 1);
	free(a.d);
	free(l.d);
	free(l2.d);
}

/* ---- hostile layers -------------------------------------------------------- */

/* Load one layer that must fail with code; the store stays empty. */
static void refused(fx *f, tb *layer, int code, const char *msg)
{
	tb a = {0};
	save_archive(&a, "{}", "[\"bad:1\"]", layer, 1);
	sbx_error err = {0};
	int r = load(f, &a, 1 << 20, &err);
	if (r != -code || !strstr(err.msg, msg))
		fprintf(stderr, "got %d: %s (want %s)\n", r, err.msg, msg);
	assert_int_equal(r, -code);
	assert_non_null(strstr(err.msg, msg));
	assert_int_equal(f->nlines, 0);
	assert_store(f, 0);
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "bad:1", &img, NULL), -SBX_E_NOTFOUND);
	free(a.d);
	free(layer->d);
	memset(layer, 0, sizeof(*layer));
}

static void test_escapes(void **state)
{
	fx *f = *state;
	char target[200];
	tb l = {0};
	const char *names[] = {"../x", "/abs", "a/../../b", "./../x", "a/.."};
	for (size_t i = 0; i < 5; i++) {
		tb_file(&l, "ok", "fine");
		tb_file(&l, names[i], "escaped");
		tb_end(&l);
		refused(f, &l, SBX_E_PATH, "");
	}
	/* a symlink to outside, then a file through it */
	tb_symlink(&l, "l", f->out);
	snprintf(target, sizeof(target), "l/pwned");
	tb_file(&l, target, "escaped");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "'l' is a symlink");
	/* a relative one climbing out */
	tb_dir(&l, "d/");
	tb_symlink(&l, "d/up", "../../../../../../../../..");
	snprintf(target, sizeof(target), "d/up%s/pwned", f->out);
	tb_file(&l, target, "escaped");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "symlink");
	/* a directory entry through a symlink */
	tb_symlink(&l, "l", f->out);
	tb_dir(&l, "l/sub/");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "symlink");
	/* a symlink replacing a directory of a lower entry, then written through */
	tb_dir(&l, "etc/");
	tb_symlink(&l, "etc", f->out);
	tb_file(&l, "etc/passwd", "x");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "symlink");
	/* hard links out of the root */
	tb_hardlink(&l, "h", "../../../../../../etc/passwd");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "hard link");
	tb_hardlink(&l, "h", "/etc/passwd");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "absolute");
	/* ... and through a symlink */
	int fd = open("/tmp", O_RDONLY);
	close(fd);
	char victim[200];
	snprintf(victim, sizeof(victim), "%s/victim", f->tmp);
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	tb_symlink(&l, "t", f->tmp);
	tb_hardlink(&l, "h", "t/victim");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "symlink");
	struct stat st;
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	/* a whiteout climbing out */
	tb_file(&l, "../.wh.victim", "");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "");
	assert_int_equal(stat(victim, &st), 0);
	/* a whiteout through a symlink */
	tb_symlink(&l, "t", f->tmp);
	tb_file(&l, "t/.wh.victim", "");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "symlink");
	assert_int_equal(stat(victim, &st), 0);
	/* a regular file where a directory is needed */
	tb_file(&l, "f", "x");
	tb_file(&l, "f/g", "x");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "not a directory");
	/* too deep */
	char deep[1024] = "";
	for (int i = 0; i < 200; i++)
		strcat(deep, "d/");
	strcat(deep, "f");
	tb_gnu_long(&l, 'L', deep);
	tb_file(&l, "x", "x");
	tb_end(&l);
	refused(f, &l, SBX_E_PATH, "deeper");
}

static void test_bad_archives(void **state)
{
	fx *f = *state;
	tb l = {0};
	/* a truncated layer */
	tb_file(&l, "a", "0123456789");
	tb_end(&l);
	l.len = 600;
	refused(f, &l, SBX_E_INVALID, "truncated");
	/* a gzip layer */
	tb_put(&l, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
	refused(f, &l, SBX_E_INVALID, "gzip");
	/* over the size cap (1 MiB) */
	char *big = malloc(700 * 1024);
	memset(big, 'x', 700 * 1024);
	tb_entry(&l, "b1", '0', NULL, big, 700 * 1024, 0644, 0, 0);
	tb_entry(&l, "b2", '0', NULL, big, 700 * 1024, 0644, 0, 0);
	tb_end(&l);
	free(big);
	refused(f, &l, SBX_E_INVALID, "cap");
	/* a layer the manifest names but the archive lacks; no manifest */
	tb a = {0};
	tb_file(&a, "manifest.json",
		"[{\"Config\":\"c.json\",\"RepoTags\":[],\"Layers\":[\"x\"]}]");
	tb_file(&a, "c.json", "{}");
	tb_end(&a);
	sbx_error err = {0};
	assert_int_equal(load(f, &a, 1 << 20, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "archive has no x"));
	assert_store(f, 0);
	free(a.d);
	a = (tb){0};
	tb_file(&a, "other", "x");
	tb_end(&a);
	assert_int_equal(load(f, &a, 1 << 20, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "not a docker save archive"));
	assert_store(f, 0);
	free(a.d);
	/* a bad manifest, a bad tag, a link loop */
	const char *bad[] = {"{}", "[{\"Config\":1}]",
			     "[{\"Config\":\"c.json\",\"Layers\":[]"
			     ",\"RepoTags\":[\"UPPER\"]}]",
			     "[{\"Config\":\"loop\",\"Layers\":[]}]"};
	for (size_t i = 0; i < 4; i++) {
		a = (tb){0};
		tb_file(&a, "c.json", "{}");
		tb_symlink(&a, "loop", "loop");
		tb_file(&a, "manifest.json", bad[i]);
		tb_end(&a);
		assert_int_equal(load(f, &a, 1 << 20, &err), -SBX_E_INVALID);
		assert_store(f, 0);
		free(a.d);
	}
	/* members linking out of the archive */
	const char *links[][2] = {{"l.tar", "../../../../etc/passwd"}, {"l.tar", "/etc/passwd"}};
	for (size_t i = 0; i < 2; i++) {
		a = (tb){0};
		tb_file(&a, "c.json", "{}");
		tb_symlink(&a, links[i][0], links[i][1]);
		tb_file(&a, "manifest.json", "[{\"Config\":\"c.json\",\"Layers\":[\"l.tar\"]}]");
		tb_end(&a);
		assert_int_equal(load(f, &a, 1 << 20, &err), -SBX_E_PATH);
		assert_non_null(strstr(err.msg, "links outside the archive"));
		assert_store(f, 0);
		free(a.d);
	}
	/* the second image fails: the first is not kept either */
	tb good = {0};
	tb_file(&good, "a", "a");
	tb_end(&good);
	a = (tb){0};
	tb_entry(&a, "g.tar", '0', NULL, good.d, good.len, 0644, 0, 0);
	tb_file(&a, "c1.json", "{\"n\":1}");
	tb_file(&a, "c2.json", "{\"n\":2}");
	tb_file(&a, "manifest.json",
		"[{\"Config\":\"c1.json\",\"RepoTags\":[\"one:1\"],\"Layers\":[\"g.tar\"]},"
		"{\"Config\":\"c2.json\",\"RepoTags\":[\"two:1\"],\"Layers\":[\"missing\"]}]");
	tb_end(&a);
	assert_int_equal(load(f, &a, 1 << 20, &err), -SBX_E_INVALID);
	assert_store(f, 0);
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "one:1", &img, NULL), -SBX_E_NOTFOUND);
	free(a.d);
	free(good.d);
}

static void test_whiteouts(void **state)
{
	fx *f = *state;
	tb l[2] = {{0}, {0}};
	tb_dir(&l[0], "d/");
	tb_file(&l[0], "d/a", "a");
	tb_dir(&l[0], "d/sub/");
	tb_file(&l[0], "d/sub/deep", "deep");
	tb_dir(&l[0], "e/");
	tb_file(&l[0], "e/x", "x");
	tb_file(&l[0], "e/y", "y");
	tb_dir(&l[0], "g/");
	tb_file(&l[0], "g/old", "old");
	tb_file(&l[0], "f", "f");
	tb_dir(&l[0], "gone/");
	tb_file(&l[0], "gone/inside", "i");
	tb_symlink(&l[0], "s", "/etc");
	tb_end(&l[0]);
	tb_file(&l[1], ".wh.f", "");
	tb_file(&l[1], ".wh.gone", "");
	tb_file(&l[1], ".wh.s", ""); /* the symlink goes, /etc is untouched */
	tb_file(&l[1], "d/.wh..wh..opq", "");
	tb_file(&l[1], "d/c", "c");
	tb_file(&l[1], "e/.wh.x", "");
	tb_file(&l[1], "g/new", "new"); /* made before the opaque marker: kept */
	tb_file(&l[1], "g/.wh..wh..opq", "");
	tb_file(&l[1], ".wh.nonexistent", "");
	tb_file(&l[1], "f2", "replaced");
	tb_end(&l[1]);
	tb a = {0};
	save_archive(&a, "{\"w\":1}", "[\"w:1\"]", l, 2);
	sbx_error err = {0};
	int r = load(f, &a, 1 << 20, &err);
	if (r < 0)
		fprintf(stderr, "load: %s\n", err.msg);
	assert_int_equal(r, 0);
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "w:1", &img, &err), 0);
	assert_false(exists(&img, "f"));
	assert_false(exists(&img, "gone"));
	assert_false(exists(&img, "s"));
	assert_false(exists(&img, "d/a"));
	assert_false(exists(&img, "d/sub"));
	assert_true(exists(&img, "d/c"));
	assert_false(exists(&img, "e/x"));
	assert_true(exists(&img, "e/y"));
	assert_true(exists(&img, "g/new"));
	assert_false(exists(&img, "g/old"));
	assert_false(exists(&img, "d/.wh..wh..opq"));
	assert_false(exists(&img, ".wh.f"));
	assert_true(exists(&img, "f2"));
	dapi_image_free(&img);
	free(a.d);
	free(l[0].d);
	free(l[1].d);
}

static void test_attributes(void **state)
{
	fx *f = *state;
	tb l = {0};
	tb_entry(&l, "suid", '0', NULL, "x", 1, 06755, 1234, 5678);
	tb_entry(&l, "sdir/", '5', NULL, NULL, 0, 03775, 42, 43);
	tb_entry(&l, "dev", '3', NULL, NULL, 0, 0666, 0, 0);
	tb_entry(&l, "blk", '4', NULL, NULL, 0, 0666, 0, 0);
	tb_entry(&l, "fifo", '6', NULL, NULL, 0, 0640, 7, 8);
	tb_entry(&l, "sl", '2', "suid", NULL, 0, 0777, 99, 98);
	tb_hardlink(&l, "hl", "suid");
	tb_hardlink(&l, "sdir/hl2", "./suid");
	tb_end(&l);
	tb a = {0};
	save_archive(&a, "{\"attr\":1}", "[\"attr:1\"]", &l, 1);
	sbx_error err = {0};
	int r = load(f, &a, 1 << 20, &err);
	if (r < 0)
		fprintf(stderr, "load: %s\n", err.msg);
	assert_int_equal(r, 0);
	dapi_image img;
	assert_int_equal(dapi_image_find(f->dir, "attr:1", &img, &err), 0);
	char p[512];
	struct stat st, st2;
	img_path(&img, "suid", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtime, 1700000000);
	assert_int_equal(st.st_nlink, 3);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 5678);
	}
	img_path(&img, "hl", p, sizeof(p));
	assert_int_equal(lstat(p, &st2), 0);
	assert_true(st.st_ino == st2.st_ino);
	img_path(&img, "sdir", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 01775);
	assert_int_equal(st.st_mtime, 1700000000); /* set after its entries */
	/* the device entry "dev" was skipped; /dev is then made as the
	 * mount point every image gets */
	img_path(&img, "dev", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_false(exists(&img, "blk"));
	img_path(&img, "fifo", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	img_path(&img, "sl", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_mtime, 1700000000);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 99);
	dapi_image_free(&img);
	free(a.d);
	free(l.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test_setup_teardown(test_default_image, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_find_list_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retag_and_untagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oci_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_archives, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
