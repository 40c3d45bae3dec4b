/* File requests: read or atomically replace one file, inside the sandbox,
 * with the sandbox's credentials. Paths resolve with RESOLVE_IN_ROOT from
 * the sandbox's root, so "..", absolute symlinks and symlink chains planted
 * by sandboxed code stay inside; magic links (/proc/N/root, fd links) are
 * refused. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/fdutil.h"
#include "base/util.h"
#include "proto/proto.h"
#include "core/server.h"

/* In a child of the sandbox's init: failures fill a stack sbx_error (no
 * allocation), whose text goes to the client ("read PATH: <strerror>"). */

/* openat2(2) itself: -1 with errno on failure. */
static int open_in_root(int root, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)flags | O_CLOEXEC,
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* Sends the file and returns 0, or fails before anything was sent. */
static int do_read(int conn, int root, const char *path, const char *shown, uint64_t max,
		   sbx_error *err)
{
	int fd = open_in_root(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_PATH, errno, "read %s", shown);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_fail_errno(err, SBX_E_PATH, errno, "read %s", shown);
	if (S_ISDIR(st.st_mode))
		return sbx_fail_errno(err, SBX_E_PATH, EISDIR, "read %s", shown);
	if (!S_ISREG(st.st_mode))
		return sbx_fail_errno(err, SBX_E_PATH, EINVAL, "read %s", shown);
	if ((uint64_t)st.st_size > max)
		return sbx_fail_errno(err, SBX_E_PATH, EFBIG, "read %s", shown);
	uint64_t size = (uint64_t)st.st_size;
	char *data = sbx_map(size);
	if (!data)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "read %s", shown);
	uint64_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_fail_errno(err, SBX_E_PATH, errno, "read %s", shown);
		if (r == 0)
			break; /* shrank while we read: send what is there */
		got += (uint64_t)r;
	}
	/* From here on the client sees a cut transfer, not an error text. */
	if (sbx_msg_send(conn, SBX_REP_DATA, &got, sizeof(got), NULL, 0, NULL) == 0 &&
	    sbx_chunks_send(conn, data, got, NULL) == 0)
		sbx_msg_send(conn, SBX_REP_OK, NULL, 0, NULL, 0, NULL);
	return 0;
}

/* Split path into its directory and last component (in place); shown is
 * path as the client gave it, for the message. */
static int split_path(char *path, const char **dir, const char **base, const char *shown,
		      sbx_error *err)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	char *slash = strrchr(path, '/');
	if (!slash) {
		*dir = ".";
		*base = path;
	} else {
		*slash = '\0';
		*dir = slash == path ? "/" : path;
		*base = slash + 1;
	}
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, ".."))
		return sbx_fail_errno(err, SBX_E_PATH, EINVAL, "write %s", shown);
	return 0;
}

/* Receive size bytes into a new file beside base and rename it over base. */
static int write_temp(int conn, int dfd, const char *base, mode_t mode, uint64_t size,
		      const char *shown, sbx_error *err)
{
	char tmp[64];
	char id[13];
	sbx_random_id(id, 12);
	snprintf(tmp, sizeof(tmp), ".sbx-write-%s", id);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_PATH, errno, "write %s", shown);
	char buf[SBX_PROTO_CHUNK + 1];
	uint64_t left = size;
	int e = 0; /* the first errno */
	while (left > 0 && !e) {
		ssize_t r = sbx_msg_recv(conn, buf, sizeof(buf), NULL, NULL, 0, NULL);
		if (r <= 1 || buf[0] != SBX_MSG_CHUNK || (uint64_t)(r - 1) > left) {
			e = EPROTO;
			break;
		}
		for (ssize_t off = 1; off < r && !e;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w < 0 && errno != EINTR)
				e = errno;
			else if (w > 0)
				off += w;
		}
		left -= (uint64_t)(r - 1);
	}
	if (!e && fchmod(fd, mode) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && renameat(dfd, tmp, dfd, base) < 0)
		e = errno;
	if (e) {
		unlinkat(dfd, tmp, 0);
		return sbx_fail_errno(err, SBX_E_PATH, e, "write %s", shown);
	}
	return 0;
}

static int do_write(int conn, int root, char *path, const char *shown, uint64_t size, uint64_t max,
		    sbx_error *err)
{
	if (size > max)
		return sbx_fail_errno(err, SBX_E_PATH, EFBIG, "write %s", shown);
	const char *dir, *base;
	int r = split_path(path, &dir, &base, shown, err);
	if (r < 0)
		return r;
	int dfd = open_in_root(root, dir, O_DIRECTORY | O_RDONLY, 0);
	if (dfd < 0)
		return sbx_fail_errno(err, SBX_E_PATH, errno, "write %s", shown);
	struct stat st;
	mode_t mode = 0644;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return sbx_fail_errno(err, SBX_E_PATH, EISDIR, "write %s", shown);
		if (S_ISREG(st.st_mode))
			mode = st.st_mode & 0777;
	}
	r = write_temp(conn, dfd, base, mode, size, shown, err);
	if (r < 0)
		return r;
	sbx_msg_send(conn, SBX_REP_OK, NULL, 0, NULL, 0, NULL);
	return 0;
}

/* path as messages show it: whole up to 200 bytes, else its start and end
 * (an error text must still fit its cause, see SBX_PROTO_ERROR_MAX). */
static void shorten(char *out, size_t cap, const char *path)
{
	size_t n = strlen(path);
	if (n <= 200)
		snprintf(out, cap, "%s", path);
	else
		snprintf(out, cap, "%.96s...%s", path, path + n - 96);
}

_Noreturn void sbx_serve_file(const sbx_launch *l, int conn, const char *req, size_t n)
{
	sbx_file_req h;
	char path[PATH_MAX];
	char shown[256];
	sbx_error e;
	const char *op = req[0] == SBX_REQ_READ ? "read" : "write";
	if (n < 1 + sizeof(h) + 1) {
		sbx_fail_errno(&e, SBX_E_INVALID, EINVAL, "%s: malformed request", op);
		goto refuse;
	}
	size_t pl = n - 1 - sizeof(h);
	if (pl >= sizeof(path)) {
		sbx_fail_errno(&e, SBX_E_PATH, ENAMETOOLONG, "%s: path of %zu bytes", op, pl);
		goto refuse;
	}
	memcpy(&h, req + 1, sizeof(h));
	memcpy(path, req + 1 + sizeof(h), pl);
	path[pl] = '\0';
	if (strlen(path) != pl || !path[0]) {
		sbx_fail_errno(&e, SBX_E_PATH, EINVAL, "%s: path empty or with a NUL byte", op);
		goto refuse;
	}
	/* Relative paths are relative to the sandbox's working directory;
	 * a result past PATH_MAX is refused, never cut. */
	char full[PATH_MAX];
	int fl = path[0] != '/' ? snprintf(full, sizeof(full), "%s/%s", l->cwd, path)
				: snprintf(full, sizeof(full), "%s", path);
	shorten(shown, sizeof(shown), fl >= 0 && (size_t)fl < sizeof(full) ? full : path);
	if (fl < 0 || (size_t)fl >= sizeof(full)) {
		sbx_fail_errno(&e, SBX_E_PATH, ENAMETOOLONG, "%s %s (in %s)", op, shown, l->cwd);
		goto refuse;
	}
	/* Act as the sandbox's own root: no capabilities, so permissions and
	 * read-only mounts apply as they do to sandboxed code. */
	int r = sbx_privs_drop_all(&l->privs, &e);
	if (r < 0) {
		sbx_error_wrap(&e, r, "drop privileges for %s", shown);
		goto refuse;
	}
	prctl(PR_SET_DUMPABLE, 0);
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		sbx_fail_errno(&e, SBX_E_SYSTEM, errno, "open root for %s", shown);
		goto refuse;
	}
	if (req[0] == SBX_REQ_READ)
		r = do_read(conn, root, full, shown, h.max, &e);
	else
		r = do_write(conn, root, full, shown, h.size, h.max, &e);
	if (r == 0)
		_exit(0);
refuse:
	sbx_msg_send_error(conn, &e, NULL);
	_exit(1);
}
