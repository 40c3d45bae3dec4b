/* PUT|GET|HEAD /containers/{id}/archive: tar(1) run inside the
 * container's sandbox, with the sandbox's credentials and view, so that
 * no path the container controls is ever resolved on the host. GET streams
 * tar's output (its first header gives X-Docker-Container-Path-Stat); PUT
 * streams the request body into `tar -x`. What tar says on failure is
 * mapped to Docker's status codes. The image needs tar (Debian's has it). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dockerapi/archive.h"
#include "dockerapi/strv.h"
#include "dockerapi/tar.h"

#define ARCHIVE_IDLE_MS 60000 /* tar silent this long: killed */
#define ERR_KEEP 2048

typedef struct arun {
	dapi_ctr *ctr;
	dapi_proc p;
	int stdin_w;
	char err[ERR_KEEP];
	size_t err_len;
	bool begun;
} arun;

static int arun_begin(arun *a, dapi_ctr *c, const char *const *argv, bool with_stdin, int *status,
		      sbx_error *err)
{
	memset(a, 0, sizeof(*a));
	a->ctr = c;
	a->stdin_w = -1;
	dapi_proc_init(&a->p);
	pthread_mutex_lock(&c->mu);
	if (!c->sb || c->state == DAPI_REMOVING || c->removed) {
		pthread_mutex_unlock(&c->mu);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE, "container %.12s is being removed", c->id);
	}
	int r = dapi_proc_start(&a->p, c->sb, argv, NULL, "/", with_stdin, &a->stdin_w, false, err);
	if (r == 0) {
		c->sb_users++;
		a->begun = true;
	}
	pthread_mutex_unlock(&c->mu);
	if (r < 0)
		*status = 500;
	return r;
}

static void keep_err(arun *a)
{
	char buf[4096];
	for (;;) {
		ssize_t n = a->p.err_r >= 0 ? read(a->p.err_r, buf, sizeof(buf)) : 0;
		if (n > 0) {
			size_t k = (size_t)n;
			if (k > ERR_KEEP - 1 - a->err_len)
				k = ERR_KEEP - 1 - a->err_len;
			memcpy(a->err + a->err_len, buf, k);
			a->err_len += k;
			a->err[a->err_len] = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			sbx_closep(&a->p.err_r);
		return;
	}
}

/* Wait for the end (killing it after ARCHIVE_IDLE_MS), drain stderr. */
static int arun_end(arun *a)
{
	sbx_closep(&a->stdin_w);
	if (!a->begun)
		return -1;
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), ARCHIVE_IDLE_MS);
	bool killed = false;
	for (;;) {
		struct pollfd fds[3] = {
		    {a->p.done_efd, POLLIN, 0}, {a->p.err_r, POLLIN, 0}, {a->p.out_r, POLLIN, 0}};
		int n = poll(fds, 3, 200);
		if (fds[1].revents)
			keep_err(a);
		if (fds[2].revents) {
			char sink[4096];
			if (read(a->p.out_r, sink, sizeof(sink)) <= 0)
				sbx_closep(&a->p.out_r);
		}
		if (n > 0 && fds[0].revents)
			break;
		if (!killed && sbx_now_ns() > deadline) {
			dapi_proc_signal(&a->p, SIGKILL);
			killed = true;
		}
	}
	keep_err(a);
	dapi_proc_join(&a->p);
	int code = dapi_proc_exit_code(&a->p);
	dapi_ctr *c = a->ctr;
	pthread_mutex_lock(&c->mu);
	c->sb_users--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	a->begun = false;
	return code;
}

static void arun_free(arun *a)
{
	if (a->begun) {
		dapi_proc_signal(&a->p, SIGKILL);
		arun_end(a);
	}
	dapi_proc_free(&a->p);
	sbx_closep(&a->stdin_w);
}

/* tar's complaint, one line, without the "tar: " prefix. */
static const char *tar_msg(arun *a)
{
	char *s = a->err;
	char *nl = strchr(s, '\n');
	if (nl)
		*nl = 0;
	if (!strncmp(s, "tar: ", 5))
		s += 5;
	return s[0] ? s : "tar failed";
}

/* "/a/b/c" -> dir "/a/b", base "c"; "/a/b/." -> "/a/b", "."; "/" -> "/", ".". */
static int split_path(const char *path, char **dir, char **base, sbx_error *err)
{
	if (!path || !path[0] || strlen(path) > 4000)
		return sbx_fail(err, SBX_E_INVALID, "bad path parameter");
	_cleanup_free_ char *p = path[0] == '/' ? strdup(path) : NULL;
	if (!p && path[0] != '/') {
		size_t n = strlen(path);
		p = malloc(n + 2);
		if (p) {
			p[0] = '/';
			memcpy(p + 1, path, n + 1);
		}
	}
	if (!p)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	size_t n = strlen(p);
	bool dot = n >= 2 && !strcmp(p + n - 2, "/.");
	if (dot)
		p[n - 2] = 0;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	if (dot || !strcmp(p, "/") || !p[0]) {
		*dir = strdup(p[0] ? p : "/");
		*base = strdup(".");
	} else {
		char *s = strrchr(p, '/');
		*base = strdup(s + 1);
		*s = 0;
		*dir = strdup(p[0] ? p : "/");
	}
	return *dir && *base ? 0 : sbx_fail(err, SBX_E_SYSTEM, "out of memory");
}

static bool not_found(const char *msg)
{
	return strstr(msg, "No such file") || strstr(msg, "Cannot chdir") ||
	       strstr(msg, "Not a directory");
}

static int respond_fail(dapi_conn *c, const dapi_req *r, int status, const char *fmt,
			const char *a1, const char *a2)
{
	dapi_respond_error(c, r, status, fmt, a1, a2);
	return r->keep_alive ? 0 : 1;
}

static int archive_get(dapi_ctr *ctr, dapi_conn *c, dapi_req *r, const char *path, bool head)
{
	_cleanup_free_ char *dir = NULL, *base = NULL;
	sbx_error err;
	int status = 500;
	if (split_path(path, &dir, &base, &err) < 0)
		return respond_fail(c, r, 400, "%s%s", err.msg, "");
	const char *argv[] = {"tar", "-c", "-f", "-", "-C", dir, "--", base, NULL};
	arun a;
	if (arun_begin(&a, ctr, argv, false, &status, &err) < 0) {
		arun_free(&a);
		return respond_fail(c, r, status, "%s%s", err.msg, "");
	}
	/* The first header block, within the idle deadline. */
	unsigned char blk[DAPI_TAR_BLOCK];
	size_t got = 0;
	uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), ARCHIVE_IDLE_MS);
	while (got < sizeof(blk) && a.p.out_r >= 0 && sbx_now_ns() < deadline) {
		struct pollfd fds[2] = {{a.p.out_r, POLLIN, 0}, {a.p.err_r, POLLIN, 0}};
		poll(fds, 2, 200);
		if (fds[1].revents)
			keep_err(&a);
		if (!fds[0].revents)
			continue;
		ssize_t n = read(a.p.out_r, blk + got, sizeof(blk) - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			sbx_closep(&a.p.out_r);
	}
	dapi_tar_entry e;
	memset(&e, 0, sizeof(e));
	char raw;
	if (got < sizeof(blk) || dapi_tar_parse_header(blk, &e, &raw, &err) != 1) {
		dapi_tar_entry_free(&e);
		arun_end(&a);
		const char *m = tar_msg(&a);
		int rc = not_found(m)
			     ? respond_fail(c, r, 404, "Could not find the file %s in container %s",
					    path, ctr->id)
			     : respond_fail(c, r, 500, "%s%s", m, "");
		arun_free(&a);
		return rc;
	}
	_cleanup_free_ char *stat = NULL;
	const char *shown =
	    strcmp(base, ".") ? base : (strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir);
	int sr = dapi_tar_path_stat(&e, shown[0] ? shown : "/", &stat, &err);
	dapi_tar_entry_free(&e);
	char extra[1024];
	snprintf(extra, sizeof(extra), "X-Docker-Container-Path-Stat: %s\r\n", sr == 0 ? stat : "");
	if (head) {
		dapi_proc_signal(&a.p, SIGKILL);
		arun_end(&a);
		arun_free(&a);
		dapi_respond(c, r, 200, "application/x-tar", extra, NULL, 0, true);
		return r->keep_alive ? 0 : 1;
	}
	if (dapi_chunked_begin(c, r, 200, "application/x-tar", extra) < 0 ||
	    dapi_chunk(c, blk, sizeof(blk)) < 0) {
		arun_free(&a);
		return 1;
	}
	bool ok = true;
	char buf[65536];
	deadline = sbx_deadline_ns(sbx_now_ns(), ARCHIVE_IDLE_MS);
	while (ok && a.p.out_r >= 0) {
		struct pollfd fds[2] = {{a.p.out_r, POLLIN, 0}, {a.p.err_r, POLLIN, 0}};
		poll(fds, 2, 200);
		if (fds[1].revents)
			keep_err(&a);
		if (!fds[0].revents) {
			if (sbx_now_ns() > deadline)
				ok = false; /* tar stalled: cut the stream */
			continue;
		}
		ssize_t n = read(a.p.out_r, buf, sizeof(buf));
		if (n > 0) {
			ok = dapi_chunk(c, buf, (size_t)n) == 0;
			deadline = sbx_deadline_ns(sbx_now_ns(), ARCHIVE_IDLE_MS);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			sbx_closep(&a.p.out_r);
		}
	}
	if (!ok)
		dapi_proc_signal(&a.p, SIGKILL);
	int code = arun_end(&a);
	arun_free(&a);
	/* A failure half-way cannot change the status any more: cut the
	 * stream without its end, so the client sees it truncated. */
	if (!ok || code != 0)
		return 1;
	return dapi_chunked_end(c) < 0 ? 1 : (r->keep_alive ? 0 : 1);
}

static int archive_put(dapi_ctr *ctr, dapi_conn *c, dapi_req *r, const char *path)
{
	sbx_error err;
	int status = 500;
	if (!path || !path[0] || strlen(path) > 4000) {
		dapi_body_discard(c, r, 1u << 30, NULL);
		return respond_fail(c, r, 400, "%s%s", "bad path parameter", "");
	}
	_cleanup_free_ char *abs = NULL;
	if (path[0] != '/' && asprintf(&abs, "/%s", path) < 0)
		abs = NULL;
	const char *dir = abs ? abs : path;
	bool no_overwrite = dapi_query_bool(r, "noOverwriteDirNonDir", false);
	const char *argv[] = {"tar",
			      "-x",
			      "-f",
			      "-",
			      "--no-same-owner",
			      "--no-overwrite-dir",
			      "-C",
			      dir,
			      no_overwrite ? "--keep-directory-symlink" : NULL,
			      NULL};
	arun a;
	if (arun_begin(&a, ctr, argv, true, &status, &err) < 0) {
		arun_free(&a);
		dapi_body_discard(c, r, 1u << 30, NULL);
		return respond_fail(c, r, status, "%s%s", err.msg, "");
	}
	char buf[65536];
	bool body_ok = true, pipe_ok = true;
	for (;;) {
		ssize_t n = dapi_body_read(c, r, buf, sizeof(buf), &err);
		if (n < 0) {
			body_ok = false;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; pipe_ok && off < n;) {
			struct pollfd fds[2] = {{a.stdin_w, POLLOUT, 0}, {a.p.err_r, POLLIN, 0}};
			int pr = poll(fds, 2, ARCHIVE_IDLE_MS);
			if (fds[1].revents)
				keep_err(&a);
			if (pr <= 0) {
				pipe_ok = false; /* tar does not read: give up */
				break;
			}
			if (!fds[0].revents)
				continue;
			ssize_t w = write(a.stdin_w, buf + off, (size_t)(n - off));
			if (w > 0)
				off += w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				pipe_ok = false; /* tar ended early (bad archive) */
		}
		if (!pipe_ok)
			break;
	}
	if (!body_ok || !pipe_ok)
		dapi_body_discard(c, r, 1u << 30, NULL);
	if (!pipe_ok && body_ok)
		sbx_closep(&a.stdin_w);
	int code = arun_end(&a);
	const char *m = tar_msg(&a);
	int rc;
	if (!body_ok) {
		dapi_respond_error(c, r, 400, "reading the archive: %s", err.msg);
		rc = 1;
	} else if (code == 0) {
		rc = dapi_respond(c, r, 200, "text/plain", NULL, "", 0, false) < 0
			 ? 1
			 : (r->keep_alive ? 0 : 1);
	} else if (strstr(m, "Cannot chdir") || strstr(m, "Cannot open: No such file")) {
		rc = respond_fail(c, r, 404, "Could not find the file %s in container %s", dir,
				  ctr->id);
	} else if (strstr(m, "Read-only file system")) {
		rc = respond_fail(c, r, 403, "container rootfs is marked read-only: %s%s", m, "");
	} else {
		rc = respond_fail(c, r, 400, "extracting the archive: %s%s", m, "");
	}
	arun_free(&a);
	return rc;
}

int dapi_archive(dapi_ctr *ctr, dapi_conn *c, dapi_req *r)
{
	_cleanup_free_ char *path = NULL;
	if (dapi_query(r, "path", &path) != 1) {
		dapi_body_discard(c, r, 1u << 30, NULL);
		return respond_fail(c, r, 400, "%s%s", "path parameter is required", "");
	}
	if (!strcmp(r->method, "PUT"))
		return archive_put(ctr, c, r, path);
	return archive_get(ctr, c, r, path, !strcmp(r->method, "HEAD"));
}
