/* Growable byte buffer: amortised doubling, sticky out-of-memory flag. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SBX_BUF_MIN_CAP 64

/* Make room for at least `need` more bytes plus the terminating NUL. */
static int buf_reserve(sbx_buf *b, size_t need)
{
	if (b->oom)
		return -1;
	if (need > SIZE_MAX - 1 - b->len) {
		b->oom = 1;
		return -1;
	}
	size_t want = b->len + need + 1;
	if (b->data && want <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : SBX_BUF_MIN_CAP;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int sbx_buf_append(sbx_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return -1;
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int sbx_buf_puts(sbx_buf *b, const char *s)
{
	return sbx_buf_append(b, s, strlen(s));
}

int sbx_buf_printf(sbx_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;

	if (b->oom)
		return -1;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return sbx_buf_append(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* The contents as a malloc'd string the caller frees; b is left empty.
 * Returns NULL (and still resets b) if an allocation ever failed. */
char *sbx_buf_steal(sbx_buf *b)
{
	char *s = b->data;

	if (b->oom) {
		sbx_buf_free(b);
		return NULL;
	}
	if (!s)
		s = strdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

void sbx_buf_free(sbx_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
