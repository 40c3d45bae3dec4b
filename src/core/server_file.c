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

static _Noreturn void refuse(int conn, const char *what, const char *path, int e)
{
	char msg[600];
	int n = snprintf(msg, sizeof(msg), "%s %s: %s", what, path, strerror(e));
	sbx_msg_send(conn, SBX_REP_ERROR, msg,
		     (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, NULL, 0);
	_exit(1);
}

static int open_in_root(int root, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)flags | O_CLOEXEC,
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static void do_read(int conn, int root, const char *path, uint64_t max)
{
	int fd = open_in_root(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0)
		refuse(conn, "read", path, -fd);
	struct stat st;
	if (fstat(fd, &st) < 0)
		refuse(conn, "read", path, errno);
	if (S_ISDIR(st.st_mode))
		refuse(conn, "read", path, EISDIR);
	if (!S_ISREG(st.st_mode))
		refuse(conn, "read", path, EINVAL);
	if ((uint64_t)st.st_size > max)
		refuse(conn, "read", path, EFBIG);
	uint64_t size = (uint64_t)st.st_size;
	char *data = sbx_map(size);
	if (!data)
		refuse(conn, "read", path, ENOMEM);
	uint64_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			refuse(conn, "read", path, errno);
		if (r == 0)
			break; /* shrank while we read: send what is there */
		got += (uint64_t)r;
	}
	if (sbx_msg_send(conn, SBX_REP_DATA, &got, sizeof(got), NULL, 0) == 0 &&
	    sbx_chunks_send(conn, data, got) == 0)
		sbx_msg_send(conn, SBX_REP_OK, NULL, 0, NULL, 0);
	_exit(0);
}

/* Split path into its directory and last component (in place). */
static int split_path(char *path, const char **dir, const char **base)
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
	return (**base && strcmp(*base, ".") && strcmp(*base, "..")) ? 0 : -1;
}

static void do_write(int conn, int root, char *path, uint64_t size, uint64_t max)
{
	char shown[PATH_MAX];
	snprintf(shown, sizeof(shown), "%s", path);
	if (size > max)
		refuse(conn, "write", shown, EFBIG);
	const char *dir, *base;
	if (split_path(path, &dir, &base) < 0)
		refuse(conn, "write", shown, EINVAL);
	int dfd = open_in_root(root, dir, O_DIRECTORY | O_RDONLY, 0);
	if (dfd < 0)
		refuse(conn, "write", shown, -dfd);
	struct stat st;
	mode_t mode = 0644;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			refuse(conn, "write", shown, EISDIR);
		if (S_ISREG(st.st_mode))
			mode = st.st_mode & 0777;
	}
	char tmp[64];
	char id[13];
	sbx_random_id(id, 12);
	snprintf(tmp, sizeof(tmp), ".sbx-write-%s", id);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		refuse(conn, "write", shown, errno);
	char buf[SBX_PROTO_CHUNK + 1];
	uint64_t left = size;
	int err = 0;
	while (left > 0 && !err) {
		ssize_t r = sbx_msg_recv(conn, buf, sizeof(buf), NULL, NULL, 0);
		if (r <= 1 || buf[0] != SBX_MSG_CHUNK || (uint64_t)(r - 1) > left) {
			err = EPROTO;
			break;
		}
		for (ssize_t off = 1; off < r && !err;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w < 0 && errno != EINTR)
				err = errno;
			else if (w > 0)
				off += w;
		}
		left -= (uint64_t)(r - 1);
	}
	if (!err && fchmod(fd, mode) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && renameat(dfd, tmp, dfd, base) < 0)
		err = errno;
	if (err) {
		unlinkat(dfd, tmp, 0);
		refuse(conn, "write", shown, err);
	}
	sbx_msg_send(conn, SBX_REP_OK, NULL, 0, NULL, 0);
	_exit(0);
}

_Noreturn void sbx_serve_file(const sbx_launch *l, int conn, const char *req, size_t n)
{
	sbx_file_req h;
	char path[PATH_MAX];
	if (n < 1 + sizeof(h) + 1 || n - 1 - sizeof(h) >= sizeof(path))
		refuse(conn, "request", "", EINVAL);
	memcpy(&h, req + 1, sizeof(h));
	memcpy(path, req + 1 + sizeof(h), n - 1 - sizeof(h));
	path[n - 1 - sizeof(h)] = '\0';
	if (strlen(path) != n - 1 - sizeof(h) || !path[0])
		refuse(conn, "request", "", EINVAL);
	/* Relative paths are relative to the sandbox's working directory. */
	char full[PATH_MAX * 2];
	if (path[0] != '/')
		snprintf(full, sizeof(full), "%s/%s", l->cwd, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	full[PATH_MAX - 1] = '\0';
	/* Act as the sandbox's own root: no capabilities, so permissions and
	 * read-only mounts apply as they do to sandboxed code. */
	if (sbx_privs_drop_all(&l->privs) < 0)
		refuse(conn, "drop privileges for", full, errno);
	prctl(PR_SET_DUMPABLE, 0);
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		refuse(conn, "open root for", full, errno);
	if (req[0] == SBX_REQ_READ)
		do_read(conn, root, full, h.max);
	do_write(conn, root, full, h.size, h.max);
	_exit(0);
}
