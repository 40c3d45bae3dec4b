/* JSON encoding of strings and results. */
#ifndef SBX_JSON_H
#define SBX_JSON_H

#include <stddef.h>
#include "base/buf.h"

/* Length of the UTF-8 sequence at s[0..n) (n >= 1). *ok is 1 when it is
 * well-formed (Unicode Table 3-7); else 0, and the length is that of the
 * maximal subpart of the ill-formed sequence (at least 1). */
size_t sbx_utf8_seq(const unsigned char *s, size_t n, int *ok);

/* Append data[0..len) as a quoted JSON string. Bytes that are not valid
 * UTF-8 (overlongs, surrogates, > U+10FFFF, truncated sequences) become
 * U+FFFD (one per maximal invalid subpart, as WHATWG/Unicode recommend);
 * control characters are escaped (\n, \t, \u0001, ...); '"' and '\\' too.
 * As sbx_buf's appends: 0, or -1 once out of memory (sticky in b->oom). */
int sbx_json_string(sbx_buf *b, const char *data, size_t len);

#endif
