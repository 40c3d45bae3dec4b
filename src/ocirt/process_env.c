/* HOME for a process whose env has none: the home of its uid in the
 * container's /etc/passwd, else "/" (as runc sets it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/util.h"
#include "ocirt/process_int.h"

/* The container's /etc/passwd is its own: read at most this much of it. */
#define PASSWD_MAX (1u << 20)

/* Field i (0-based) of a passwd line [s, e): start and length. */
static bool field(const char *s, const char *e, int i, const char **f, size_t *n)
{
	for (; i > 0; i--) {
		const char *c = memchr(s, ':', (size_t)(e - s));
		if (!c)
			return false;
		s = c + 1;
	}
	const char *c = memchr(s, ':', (size_t)(e - s));
	*f = s;
	*n = c ? (size_t)(c - s) : (size_t)(e - s);
	return true;
}

char *sbx_oci_home_from_passwd(const char *text, size_t len, uint32_t uid)
{
	const char *end = text + len;
	for (const char *s = text; s < end;) {
		const char *e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
		const char *f, *home;
		size_t n, hn;
		if (field(s, e, 2, &f, &n) && n > 0 && n < 11 && field(s, e, 5, &home, &hn)) {
			char num[12];
			memcpy(num, f, n);
			num[n] = 0;
			char *q;
			errno = 0;
			unsigned long v = strtoul(num, &q, 10);
			if (!*q && !errno && num[0] >= '0' && num[0] <= '9' && v == uid && hn > 0 &&
			    !memchr(home, 0, hn)) {
				char *r;
				return asprintf(&r, "HOME=%.*s", (int)hn, home) < 0 ? NULL : r;
			}
		}
		s = e + 1;
	}
	return strdup("HOME=/");
}

char *sbx_oci_home_env(uint32_t uid)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	_cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (!(buf = malloc(PASSWD_MAX)))
			return NULL;
		while (len < PASSWD_MAX) {
			ssize_t r = read(fd, buf + len, PASSWD_MAX - len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
	}
	return sbx_oci_home_from_passwd(buf ? buf : "", len, uid);
}
