/* Growable byte buffer. */
#ifndef SBX_BUF_H
#define SBX_BUF_H

#include <stddef.h>
#include "base/util.h"

typedef struct sbx_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	int oom; /* set once an allocation failed; later appends are no-ops */
} sbx_buf;

/* An allocator, so not the library's error convention (base/util.h): the
 * only failure is running out of memory, and it is sticky. A document is
 * built with any number of appends and checked once at the end (b->oom, or
 * sbx_buf_steal returning NULL), instead of an sbx_error filled and tested
 * after every piece. Appends return 0, or -1 once out of memory. */
int sbx_buf_append(sbx_buf *b, const void *p, size_t n);
int sbx_buf_puts(sbx_buf *b, const char *s);
int sbx_buf_printf(sbx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sbx_buf_steal(sbx_buf *b); /* returns data (or "" copy), resets b */
void sbx_buf_free(sbx_buf *b);

#define _cleanup_buf_ _cleanup_(sbx_buf_free)

#endif
