/* Growable byte buffer. */
#ifndef SBX_BUF_H
#define SBX_BUF_H

#include <stddef.h>

typedef struct sbx_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	int oom; /* set once an allocation failed; later appends are no-ops */
} sbx_buf;

int sbx_buf_append(sbx_buf *b, const void *p, size_t n); /* 0 or -1 (ENOMEM) */
int sbx_buf_puts(sbx_buf *b, const char *s);
int sbx_buf_printf(sbx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sbx_buf_steal(sbx_buf *b); /* returns data (or "" copy), resets b */
void sbx_buf_free(sbx_buf *b);

#endif
