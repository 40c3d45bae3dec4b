/* JSON encoding of strings and results. */
#ifndef SBX_JSON_H
#define SBX_JSON_H

#include <stddef.h>
#include "buf.h"

/* Append data[0..len) as a quoted JSON string. Bytes that are not valid
 * UTF-8 (overlongs, surrogates, > U+10FFFF, truncated sequences) become
 * U+FFFD (one per maximal invalid subpart, as WHATWG/Unicode recommend);
 * control characters are escaped (\n, \t, \u0001, ...); '"' and '\\' too. */
int sbx_json_string(sbx_buf *b, const char *data, size_t len);

#endif
