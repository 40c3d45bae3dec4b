/* DIR/repositories.json read and written whole; DIR/.lock taken by writers. */
#include "dockerapi/image_repo.h"
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include "base/buf.h"
#include "base/readall.h"
#include "proto/json.h"
#include "proto/jsonparse.h"

#define REPO_MAX_BYTES (4u << 20)
#define REPO_MAX_VALUES 100000
#define LOCK_WAIT_MS 300000

void dapi_repo_free(dapi_repo *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->tags[i]);
		free(r->ids[i]);
	}
	free(r->tags);
	free(r->ids);
	memset(r, 0, sizeof(*r));
}

const char *dapi_repo_get(const dapi_repo *r, const char *tag)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->tags[i], tag))
			return r->ids[i];
	return NULL;
}

int dapi_repo_set(dapi_repo *r, const char *tag, const char *id)
{
	char *nid = strdup(id);
	if (!nid)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->tags[i], tag)) {
			free(r->ids[i]);
			r->ids[i] = nid;
			return 0;
		}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char **t = realloc(r->tags, cap * sizeof(*t));
		if (t)
			r->tags = t;
		char **d = t ? realloc(r->ids, cap * sizeof(*d)) : NULL;
		if (!d) {
			free(nid);
			return -1;
		}
		r->ids = d;
		r->cap = cap;
	}
	char *ntag = strdup(tag);
	if (!ntag) {
		free(nid);
		return -1;
	}
	r->tags[r->n] = ntag;
	r->ids[r->n++] = nid;
	return 0;
}

void dapi_repo_del(dapi_repo *r, size_t i)
{
	free(r->tags[i]);
	free(r->ids[i]);
	r->n--;
	r->tags[i] = r->tags[r->n];
	r->ids[i] = r->ids[r->n];
}

int dapi_repo_read(const char *dir, dapi_repo *r, sbx_error *err)
{
	memset(r, 0, sizeof(*r));
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len = 0;
	if (asprintf(&path, "%s/repositories.json", dir) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image index");
	int rc = sbx_read_all(AT_FDCWD, path, REPO_MAX_BYTES, &text, &len, err);
	if (rc == -SBX_E_NOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	_cleanup_jval_ sbx_jval *v = NULL;
	rc = sbx_jparse_max(text, len, REPO_MAX_VALUES, &v, err);
	if (rc < 0)
		return sbx_error_wrap(err, rc, "%s", path);
	if (v->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, "%s: not an object", path);
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i].type != SBX_J_STR || strlen(v->items[i].str) != v->items[i].len)
			continue;
		if (dapi_repo_set(r, v->keys[i], v->items[i].str) < 0) {
			dapi_repo_free(r);
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image index");
		}
	}
	return 0;
}

int dapi_repo_write(const char *dir, const dapi_repo *r, sbx_error *err)
{
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(&b, "{");
	for (size_t i = 0; i < r->n; i++) {
		sbx_buf_puts(&b, i ? ",\n" : "\n");
		sbx_json_string(&b, r->tags[i], strlen(r->tags[i]));
		sbx_buf_puts(&b, ": ");
		sbx_json_string(&b, r->ids[i], strlen(r->ids[i]));
	}
	sbx_buf_puts(&b, "\n}\n");
	_cleanup_free_ char *path = NULL;
	if (b.oom || asprintf(&path, "%s/repositories.json", dir) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image index");
	return sbx_write_file_atomic(path, b.data, b.len, 0600, err);
}

int dapi_repo_lock(const char *dir, int *fd, sbx_error *err)
{
	/* 0711: a sandbox (an unprivileged host uid) reaches its image's
	 * rootfs through it, without listing it. */
	int rc = sbx_mkdir_p(dir, 0711, err);
	if (rc < 0)
		return rc;
	chmod(dir, 0711);
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/.lock", dir) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "image lock");
	_cleanup_close_ int l = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (l < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", path);
	/* Held by one load or removal at a time: waited for, not forever. */
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), LOCK_WAIT_MS);
	while (flock(l, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot lock %s", path);
		if (sbx_now_ns() >= deadline)
			return sbx_fail(err, SBX_E_STATE,
					"image store busy: another load or removal has held %s "
					"for %d s",
					path, LOCK_WAIT_MS / 1000);
		struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	*fd = sbx_steal_fd(&l);
	return 0;
}
