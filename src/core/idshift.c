/* Shifting the owners of sbx's own workspace where its file system has no
 * idmapped mounts (as LXD did before them), and file system type names.
 *
 * The walk. Its content is hostile (the sandbox wrote it), so it is done
 * host side before any sandboxed code runs (the sandbox is stopped, nothing
 * else has the directory mounted), and:
 * - fd-relative only: directories are entered with openat(O_NOFOLLOW |
 *   O_DIRECTORY), every other entry is opened O_PATH | O_NOFOLLOW (never
 *   opened for I/O: fifos, sockets and device nodes are not touched beyond
 *   their owner) and changed through that fd (fchownat AT_EMPTY_PATH: a
 *   symlink's own owner, never its target);
 * - never into another mount (st_dev differs: skipped, with everything
 *   below it);
 * - iterative: one directory fd open at a time, and a heap stack of the
 *   names of subdirectories still to visit along the current path; going
 *   up opens ".." and checks it is the directory we came from (dev, ino).
 *   Depth costs heap memory, not stack or fds;
 * - only ids inside the source range move, by a fixed offset to a disjoint
 *   range: an id once shifted is never shifted again (a hardlink seen twice,
 *   a shift run again after a crash change nothing more);
 * - chown clears setuid/setgid of non-directories (and file capabilities):
 *   the mode bits are put back (through /proc/self/fd of the O_PATH fd);
 *   file capabilities are not (the workspace is mounted nosuid anyway).
 * Cost: one fstatat per entry, and an open, fchownat and close per entry
 * owned by the sandbox: a few microseconds each, seconds for a million
 * files, paid at each start where the range changed. POSIX ACL entries
 * naming ids are not shifted. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/util.h"
#include "core/idshift.h"

uint32_t sbx_idshift_id(uint32_t id, uint32_t from, uint32_t to, uint32_t count)
{
	if (id >= from && id - from < count)
		return to + (id - from);
	return id;
}

static bool range_ok(uint32_t from, uint32_t to, uint32_t count)
{
	/* 2^32-1 is (uid_t)-1: "no change" to chown, never an id. */
	if ((uint64_t)from + count > UINT32_MAX || (uint64_t)to + count > UINT32_MAX)
		return false;
	if (from == to)
		return true;
	return from < to ? to - from >= count : from - to >= count;
}

int sbx_idshift_check(const sbx_idshift *s, sbx_error *err)
{
	if (s->count == 0 || !range_ok(s->uid_from, s->uid_to, s->count) ||
	    !range_ok(s->gid_from, s->gid_to, s->count))
		return sbx_fail(err, SBX_E_INVALID,
				"cannot shift workspace ids %u:%u to %u:%u (%u ids): the ranges "
				"overlap",
				s->uid_from, s->gid_from, s->uid_to, s->gid_to, s->count);
	return 0;
}

#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif
#ifndef V9FS_MAGIC
#define V9FS_MAGIC 0x01021997
#endif
#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

const char *sbx_fstype_name(unsigned long f_type)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} names[] = {
	    {TMPFS_MAGIC, "tmpfs"},	{OVERLAYFS_SUPER_MAGIC, "overlayfs"},
	    {NFS_SUPER_MAGIC, "nfs"},	{RAMFS_MAGIC, "ramfs"},
	    {V9FS_MAGIC, "9p"},		{FUSE_SUPER_MAGIC, "fuse"},
	    {EXT4_SUPER_MAGIC, "ext4"}, /* also ext2 and ext3 */
	    {XFS_SUPER_MAGIC, "xfs"},	{BTRFS_SUPER_MAGIC, "btrfs"},
	    {0xff534d42, "cifs"},	{0xfe534d42, "smb2"},
	    {0x2fc12fc1, "zfs"},	{0x4d44, "vfat"},
	    {0x5346414f, "afs"},	{0xf2f52010, "f2fs"},
	    {0x73717368, "squashfs"},	{0x9fa0, "proc"},
	    {0x62656572, "sysfs"},	{0xca451a4e, "bcachefs"},
	    {0x6e736673, "nsfs"},
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].magic == f_type)
			return names[i].name;
	return NULL;
}

const char *sbx_fstype_str(unsigned long f_type, char *buf, size_t size)
{
	const char *n = sbx_fstype_name(f_type);
	if (n)
		snprintf(buf, size, "%s", n);
	else
		snprintf(buf, size, "0x%lx", f_type);
	return buf;
}

const char *sbx_fstype_of(const char *path, char *buf, size_t size)
{
	struct statfs fs;
	return sbx_fstype_str(statfs(path, &fs) == 0 ? (unsigned long)fs.f_type : 0, buf, size);
}

/* The owner st has after the shift; true if that moves it. */
static bool shifted(const struct stat *st, const sbx_idshift *s, uint32_t *u, uint32_t *g)
{
	*u = sbx_idshift_id(st->st_uid, s->uid_from, s->uid_to, s->count);
	*g = sbx_idshift_id(st->st_gid, s->gid_from, s->gid_to, s->count);
	return *u != st->st_uid || *g != st->st_gid;
}

/* Change the owner of the object fd refers to (O_PATH or not) if the shift
 * moves it, then put back the mode bits chown cleared. */
static int shift_fd(int fd, const struct stat *st, const sbx_idshift *s, const char *name,
		    sbx_error *err)
{
	uint32_t u, g;
	if (!shifted(st, s, &u, &g))
		return 0;
	if (fchownat(fd, "", u, g, AT_EMPTY_PATH) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace id shift: chown %s",
				      name);
	if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID))) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (chmod(p, st->st_mode & 07777) < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno,
					      "workspace id shift: chmod %s", name);
	}
	return 0;
}

int sbx_idshift_fd(int fd, const sbx_idshift *s, sbx_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace id shift: stat");
	return shift_fd(fd, &st, s, ".", err);
}

typedef struct frame {
	dev_t dev;
	ino_t ino;
	char **sub; /* subdirectories still to visit */
	size_t n, cap, next;
} frame;

static void frame_free(frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->sub[i]);
	free(f->sub);
}

/* Shift the non-directories of directory fd d (on device dev); list its
 * subdirectories in f. */
static int scan(int d, dev_t dev, frame *f, const sbx_idshift *s, sbx_error *err)
{
	int dd = fcntl(d, F_DUPFD_CLOEXEC, 0);
	if (dd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace id shift: dup");
	DIR *dir = fdopendir(dd);
	if (!dir) {
		close(dd);
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace id shift: opendir");
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (errno = 0, de = readdir(dir))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		struct stat st;
		if (fstatat(d, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone: nothing to shift */
		if (st.st_dev != dev)
			continue; /* a mount point: not ours */
		if (S_ISDIR(st.st_mode)) {
			if (f->n == f->cap) {
				size_t cap = f->cap ? 2 * f->cap : 16;
				char **p = realloc(f->sub, cap * sizeof(*p));
				if (!p) {
					r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM,
							   "workspace id shift");
					break;
				}
				f->sub = p;
				f->cap = cap;
			}
			if (!(f->sub[f->n] = strdup(n)))
				r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "workspace id shift");
			else
				f->n++;
			continue;
		}
		uint32_t u, g;
		if (!shifted(&st, s, &u, &g))
			continue; /* not opened at all */
		int fd = openat(d, n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat now;
		/* The inode we looked at, or skip (it cannot change while the
		 * sandbox is stopped; this is belt and braces). */
		if (fstat(fd, &now) == 0 && now.st_ino == st.st_ino && now.st_dev == dev)
			r = shift_fd(fd, &now, s, n, err);
		close(fd);
	}
	if (r == 0 && errno)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace id shift: readdir");
	closedir(dir);
	return r;
}

int sbx_idshift_tree(const char *dir, const sbx_idshift *s, sbx_error *err)
{
	int r = sbx_idshift_check(s, err);
	if (r < 0)
		return r;
	int cur = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (cur < 0 || fstat(cur, &st) < 0) {
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace id shift: open %s", dir);
		if (cur >= 0)
			close(cur);
		return r;
	}
	dev_t dev = st.st_dev;
	frame *stack = NULL;
	size_t depth = 0, cap = 0;
	for (bool enter = true;;) {
		if (enter) {
			if (depth == cap) {
				size_t nc = cap ? 2 * cap : 64;
				frame *p = realloc(stack, nc * sizeof(*p));
				if (!p) {
					r = sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM,
							   "workspace id shift");
					break;
				}
				stack = p;
				cap = nc;
			}
			stack[depth++] = (frame){.dev = st.st_dev, .ino = st.st_ino};
			r = scan(cur, dev, &stack[depth - 1], s, err);
			if (r < 0)
				break;
		}
		frame *f = &stack[depth - 1];
		if (f->next < f->n) {
			const char *n = f->sub[f->next++];
			int fd = openat(cur, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			enter = fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev;
			if (enter)
				r = shift_fd(fd, &st, s, n, err);
			if (r < 0 || !enter) {
				if (fd >= 0)
					close(fd);
				if (r < 0)
					break;
				continue;
			}
			close(cur);
			cur = fd;
			continue;
		}
		/* Done with this directory: back to its parent. */
		frame_free(f);
		depth--;
		if (depth == 0)
			break;
		int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (up < 0 || fstat(up, &st) < 0 || st.st_dev != stack[depth - 1].dev ||
		    st.st_ino != stack[depth - 1].ino) {
			r = sbx_fail(err, SBX_E_SYSTEM,
				     "workspace id shift: %s changed while being shifted", dir);
			if (up >= 0)
				close(up);
			break;
		}
		close(cur);
		cur = up;
		enter = false;
	}
	while (depth > 0)
		frame_free(&stack[--depth]);
	free(stack);
	close(cur);
	return r;
}

/* Crash safety. The target of a shift is recorded in marker (in the
 * sandbox's directory of the state dir, never visible inside) before the
 * first entry moves, and the directory itself, whose owner says where the
 * tree comes from, moves last, after every entry; the marker goes after
 * that. Killed (SIGKILL) anywhere in between, the next start finds the
 * marker and runs the recorded shift again: entries already moved lie in
 * the target range, disjoint from the source, and stay; the others move.
 * Then the directory's owner is the recorded target, and a new shift (to
 * this start's range) begins as usual. The marker is written to a
 * temporary name and renamed: it is complete or absent. */
static int read_marker(const char *marker, sbx_idshift *s, bool *found, sbx_error *err)
{
	char buf[128];
	*found = false;
	ssize_t n = sbx_read_fileat(AT_FDCWD, marker, buf, sizeof(buf), NULL);
	if (n < 0)
		return access(marker, F_OK) < 0 && errno == ENOENT
			   ? 0
			   : sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot read %s", marker);
	buf[n < (ssize_t)sizeof(buf) ? n : (ssize_t)sizeof(buf) - 1] = '\0';
	char end;
	if (sscanf(buf, "%u %u %u %u %u%c", &s->uid_from, &s->gid_from, &s->uid_to, &s->gid_to,
		   &s->count, &end) != 6 ||
	    end != '\n')
		return sbx_fail(err, SBX_E_STATE, "workspace id shift record %s is corrupt",
				marker);
	*found = true;
	return 0;
}

static int run_shift(const char *dir, const char *marker, const sbx_idshift *s, sbx_error *err)
{
	int r = sbx_idshift_tree(dir, s, err);
	if (r < 0)
		return r;
	_cleanup_close_ int d = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", dir);
	r = sbx_idshift_fd(d, s, err);
	if (r < 0)
		return r;
	if (unlink(marker) < 0 && errno != ENOENT)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove %s", marker);
	return 0;
}

int sbx_idshift_workspace(const char *dir, const char *marker, uid_t uid, gid_t gid, uint32_t count,
			  sbx_error *err)
{
	sbx_idshift s;
	bool found;
	int r = read_marker(marker, &s, &found, err);
	if (r == 0 && found) {
		sbx_debug("workspace id shift: completing %u:%u -> %u:%u", s.uid_from, s.gid_from,
			  s.uid_to, s.gid_to);
		r = run_shift(dir, marker, &s, err);
	}
	if (r < 0)
		return r;
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_fail_errno(err, SBX_E_PATH, errno, "workspace %s", dir);
	s = (sbx_idshift){st.st_uid, uid, st.st_gid, gid, count};
	if (s.uid_from == s.uid_to && s.gid_from == s.gid_to)
		return 0;
	r = sbx_idshift_check(&s, err);
	if (r < 0)
		return r;
	char line[96];
	snprintf(line, sizeof(line), "%u %u %u %u %u\n", s.uid_from, s.gid_from, s.uid_to, s.gid_to,
		 s.count);
	r = sbx_write_file_atomic(marker, line, strlen(line), 0600, err);
	if (r < 0)
		return r;
	uint64_t t0 = sbx_now_ns();
	r = run_shift(dir, marker, &s, err);
	sbx_debug("workspace id shift %u:%u -> %u:%u: %llums", s.uid_from, s.gid_from, s.uid_to,
		  s.gid_to, (unsigned long long)((sbx_now_ns() - t0) / 1000000));
	return r;
}
