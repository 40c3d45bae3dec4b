/* Small helpers shared by the library's files. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>

#include "base/util.h"

int sbx_fail(sbx_error *err, sbx_errcode code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		err->sys_errno = 0;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -(int)code;
}

int sbx_fail_errno(sbx_error *err, sbx_errcode code, int errnum, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		err->sys_errno = errnum;
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(err->msg)) {
			char eb[128];
			snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
				 strerror_r(errnum, eb, sizeof(eb)));
		}
	}
	return -(int)code;
}

int sbx_error_wrap(sbx_error *err, int r, const char *fmt, ...)
{
	if (!err)
		return r;
	char ctx[sizeof(err->msg)], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old);
	return r;
}

int sbx_debug_on(void)
{
	const char *v = getenv("SBX_DEBUG");
	return v && *v && strcmp(v, "0") != 0;
}

void sbx_debug(const char *fmt, ...)
{
	if (!sbx_debug_on())
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	dprintf(STDERR_FILENO, "sbx-debug: %.*s", n, line);
}

int sbx_write_fileat(int dirfd, const char *name, const char *data, sbx_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "write %s", name);
	size_t len = strlen(data);
	ssize_t n = write(fd, data, len);
	if (n < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "write %s", name);
	if ((size_t)n != len)
		return sbx_fail_errno(err, SBX_E_SYSTEM, EIO, "write %s (short write)", name);
	return 0;
}

int sbx_write_file(const char *path, const char *data, sbx_error *err)
{
	return sbx_write_fileat(AT_FDCWD, path, data, err);
}

int sbx_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
			  sbx_error *err)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	_cleanup_close_ int fd =
	    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot write %s", tmp);
	int e = 0;
	for (size_t off = 0; off < len && !e;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n == 0 || errno != EINTR)
			e = n == 0 ? EIO : errno;
	}
	if (close(sbx_steal_fd(&fd)) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return sbx_fail_errno(err, SBX_E_SYSTEM, e, "cannot write %s", path);
	}
	return 0;
}

ssize_t sbx_read_fileat(int dirfd, const char *name, char *buf, size_t cap, sbx_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "read %s", name);
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "read %s", name);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

void sbx_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

void sbx_cond_wait_ns(pthread_cond_t *c, pthread_mutex_t *m, uint64_t ns)
{
	uint64_t abs = sbx_now_ns() + ns;
	struct timespec ts = {.tv_sec = (time_t)(abs / 1000000000ull),
			      .tv_nsec = (long)(abs % 1000000000ull)};
	pthread_cond_timedwait(c, m, &ts);
}

int64_t sbx_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t sbx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sbx_deadline_ns(uint64_t t0_ns, uint64_t ms)
{
	uint64_t d;
	if (ms == 0)
		return 0;
	if (__builtin_mul_overflow(ms, 1000000ull, &d) || __builtin_add_overflow(d, t0_ns, &d))
		return UINT64_MAX;
	return d;
}

void sbx_random_id(char *out, size_t n)
{
	unsigned char raw[32];
	size_t need = (n + 1) / 2;
	if (need > sizeof(raw))
		need = sizeof(raw);
	if (getrandom(raw, need, 0) != (ssize_t)need) {
		/* Fall back to time and pid: ids only need to be unique. */
		uint64_t t = sbx_now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < need; i++)
			raw[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)i;
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++)
		out[i] = hex[(raw[i / 2] >> ((i % 2) ? 0 : 4)) & 0xf];
	out[n] = '\0';
}

int sbx_mkdir_p(const char *path, mode_t mode, sbx_error *err)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENAMETOOLONG, "cannot create %s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", buf);
	return 0;
}

static pthread_rwlock_t fds_lock = PTHREAD_RWLOCK_INITIALIZER;

void sbx_fds_hold(void)
{
	pthread_rwlock_rdlock(&fds_lock);
}

void sbx_fds_release(void)
{
	pthread_rwlock_unlock(&fds_lock);
}

void sbx_clone_lock(void)
{
	pthread_rwlock_wrlock(&fds_lock);
}

void sbx_clone_unlock(void)
{
	pthread_rwlock_unlock(&fds_lock);
}

void sbx_clone_lock_reset(void)
{
	/* In a child forked with the lock held: it is the only thread now,
	 * and an unlock would not be recognised as the writer's. */
	fds_lock = (pthread_rwlock_t)PTHREAD_RWLOCK_INITIALIZER;
}
