/* Per-sandbox host id ranges (see idrange.h). A slot is held by an flock on
 * SBX_IDRANGE_LOCK_DIR/<uid>-<gid>, taken by the host-side process that owns
 * the sandbox and kept until its init is reaped and its cgroups are gone; the
 * kernel drops the lock when every copy of the fd is closed, whatever kills
 * the holder. A free lock alone does not make a slot reusable: processes of
 * a holder that was SIGKILLed may still be exiting, so a slot is taken only
 * when no process on the host has an id in it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "core/idrange.h"

static int parse_u32(const char *s, char **end, uint32_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, end, 10);
	if (errno || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int check_set(sbx_idset *set, uint32_t ub, uint32_t gb, uint32_t count, const char *what,
		     sbx_error *err)
{
	if (ub == 0 || gb == 0)
		return sbx_fail(err, SBX_E_INVALID, "%s: the id range must not include host root",
				what);
	if (count < SBX_IDRANGE_SLOT)
		return sbx_fail(err, SBX_E_INVALID,
				"%s: the id range must hold at least %u ids (one sandbox)", what,
				SBX_IDRANGE_SLOT);
	/* (uid_t)-1 is "no id": the range must end below it. */
	if ((uint64_t)ub + count > UINT32_MAX || (uint64_t)gb + count > UINT32_MAX)
		return sbx_fail(err, SBX_E_INVALID, "%s: the id range goes past 4294967294", what);
	set->uid_base = ub;
	set->gid_base = gb;
	set->slots = count / SBX_IDRANGE_SLOT;
	return 0;
}

int sbx_idset_parse(const char *spec, sbx_idset *set, sbx_error *err)
{
	uint32_t v[3];
	int n = 0;
	const char *p = spec;
	for (;;) {
		char *end;
		if (n == 3 || parse_u32(p, &end, &v[n]) < 0)
			goto bad;
		n++;
		if (*end == '\0')
			break;
		if (*end != ':')
			goto bad;
		p = end + 1;
	}
	if (n == 2)
		return check_set(set, v[0], v[0], v[1], "SBX_ID_RANGE", err);
	if (n == 3)
		return check_set(set, v[0], v[1], v[2], "SBX_ID_RANGE", err);
bad:
	return sbx_fail(err, SBX_E_INVALID,
			"invalid SBX_ID_RANGE '%s': want BASE:COUNT or UIDBASE:GIDBASE:COUNT",
			spec);
}

int sbx_subid_find(const char *text, const char *name, uint32_t *start, uint32_t *count)
{
	size_t nl = strlen(name);
	for (const char *line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			char *end;
			uint32_t s, c;
			if (parse_u32(line + nl + 1, &end, &s) == 0 && *end == ':' &&
			    parse_u32(end + 1, &end, &c) == 0 &&
			    (*end == '\n' || *end == '\0' || *end == '\r')) {
				*start = s;
				*count = c;
				return 0;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

static int subid_of(const char *path, const char *name, uint32_t *start, uint32_t *count)
{
	size_t cap = 1 << 16;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -1;
	ssize_t n = sbx_read_fileat(AT_FDCWD, path, buf, cap - 1, NULL);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return sbx_subid_find(buf, name, start, count);
}

int sbx_idset_get(sbx_idset *set, sbx_error *err)
{
	memset(set, 0, sizeof(*set));
	const char *spec = getenv("SBX_ID_RANGE");
	if (spec && *spec) {
		snprintf(set->source, sizeof(set->source), "SBX_ID_RANGE");
		return sbx_idset_parse(spec, set, err);
	}
	const char *user = getenv("SBX_SUBID_USER");
	if (!user || !*user)
		user = "sbx";
	uint32_t us, uc, gs, gc;
	if (subid_of("/etc/subuid", user, &us, &uc) == 0 &&
	    subid_of("/etc/subgid", user, &gs, &gc) == 0) {
		snprintf(set->source, sizeof(set->source), "/etc/sub[ug]id of %.32s", user);
		char what[96];
		snprintf(what, sizeof(what), "/etc/subuid or /etc/subgid entry of %.32s", user);
		return check_set(set, us, gs, uc < gc ? uc : gc, what, err);
	}
	snprintf(set->source, sizeof(set->source), "default");
	return check_set(set, SBX_IDRANGE_DEFAULT_BASE, SBX_IDRANGE_DEFAULT_BASE,
			 SBX_IDRANGE_DEFAULT_COUNT, "default", err);
}

/* The lock directory: root's, not writable by anyone else. */
static int lock_dir(sbx_error *err)
{
	if (mkdir(SBX_IDRANGE_LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s",
				      SBX_IDRANGE_LOCK_DIR);
	int fd = open(SBX_IDRANGE_LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s",
				      SBX_IDRANGE_LOCK_DIR);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0022)) {
		close(fd);
		return sbx_fail(err, SBX_E_SYSTEM,
				"%s must be a directory of root's that only root may write",
				SBX_IDRANGE_LOCK_DIR);
	}
	return fd;
}

/* Does any process on the host run with an id in the slot? (Its /proc
 * directory belongs to its effective ids, or to its user namespace's root
 * when it is not dumpable: in the slot either way.) */
static bool slot_in_use(uid_t u, gid_t g, uint32_t n)
{
	DIR *d = opendir("/proc");
	if (!d)
		return true;
	bool busy = false;
	struct dirent *e;
	while (!busy && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		busy =
		    (st.st_uid >= u && st.st_uid - u < n) || (st.st_gid >= g && st.st_gid - g < n);
	}
	closedir(d);
	return busy;
}

int sbx_idrange_acquire(sbx_idrange *r, sbx_error *err)
{
	r->lock_fd = -1;
	sbx_idset set;
	int rc = sbx_idset_get(&set, err);
	if (rc < 0)
		return rc;
	_cleanup_close_ int dir = lock_dir(err);
	if (dir < 0)
		return dir;
	/* Start somewhere else each time: concurrent callers rarely collide. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint32_t start = ((uint32_t)getpid() * 2654435761u ^ (uint32_t)ts.tv_nsec) % set.slots;
	uint32_t held = 0;
	for (uint32_t k = 0; k < set.slots; k++) {
		uint32_t i = (start + k) % set.slots;
		uid_t u = set.uid_base + i * SBX_IDRANGE_SLOT;
		gid_t g = set.gid_base + i * SBX_IDRANGE_SLOT;
		char name[32];
		snprintf(name, sizeof(name), "%u-%u", (unsigned)u, (unsigned)g);
		int fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s/%s",
					      SBX_IDRANGE_LOCK_DIR, name);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			held++;
			continue;
		}
		if (slot_in_use(u, g, SBX_IDRANGE_SLOT)) {
			sbx_debug("id range %u: free lock, processes still running", (unsigned)u);
			close(fd);
			continue;
		}
		r->lock_fd = fd;
		r->uid = u;
		r->gid = g;
		r->count = SBX_IDRANGE_SLOT;
		sbx_debug("id range uid %u gid %u (%s)", (unsigned)u, (unsigned)g, set.source);
		return 0;
	}
	return sbx_fail(err, SBX_E_SYSTEM,
			"no free host id range: %u of %u in use, %u with processes still running "
			"(set: %s)",
			(unsigned)held, (unsigned)set.slots, (unsigned)(set.slots - held),
			set.source);
}

void sbx_idrange_release(sbx_idrange *r)
{
	sbx_closep(&r->lock_fd);
}
