/* A whole file into memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/readall.h"
#include "base/util.h"

int sbx_read_all(int dirfd, const char *path, size_t max, char **out, size_t *len, sbx_error *err)
{
	*out = NULL;
	if (len)
		*len = 0;
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sbx_fail_errno(err, errno == ENOENT ? SBX_E_NOTFOUND : SBX_E_SYSTEM, errno,
				      "cannot read %s", path);
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 2) {
			size_t ncap = cap ? cap * 2 : 4096;
			if (max < SIZE_MAX / 2 && ncap > max + 2)
				ncap = max + 2; /* room for one byte too many, and the NUL */
			if (ncap <= cap)
				return sbx_fail_errno(err, SBX_E_SYSTEM, EFBIG, "cannot read %s",
						      path);
			char *g = realloc(buf, ncap);
			if (!g)
				return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "cannot read %s",
						      path);
			buf = g;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot read %s", path);
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return sbx_fail_errno(err, SBX_E_SYSTEM, EFBIG, "cannot read %s", path);
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = buf;
	buf = NULL;
	return 0;
}
