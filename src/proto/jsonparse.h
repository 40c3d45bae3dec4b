/* Strict JSON (RFC 8259) decoder for the daemon's request protocol. */
#ifndef SBX_JSONPARSE_H
#define SBX_JSONPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/util.h"

/* Containers may nest at most this deep ("[[1]]" is depth 2). */
#define SBX_JPARSE_MAX_DEPTH 64

typedef enum { SBX_J_NULL, SBX_J_BOOL, SBX_J_NUM, SBX_J_STR, SBX_J_ARR, SBX_J_OBJ } sbx_jtype;

typedef struct sbx_jval sbx_jval;
struct sbx_jval {
	sbx_jtype type;
	bool b;	     /* BOOL */
	double num;  /* NUM, always set (integers too; -0 stays -0.0) */
	int64_t i;   /* NUM: the exact value when is_int */
	bool is_int; /* NUM written as an integer (no '.', no exponent) that fits int64 */
	char *str;   /* STR: decoded UTF-8, NUL-terminated; may contain NUL bytes: use len */
	size_t len;
	sbx_jval *items; /* ARR: n items; OBJ: n values */
	char **keys;	 /* OBJ: n keys (decoded, NUL-terminated, never containing NUL) */
	size_t n;
};

/* Parse exactly one JSON value from text[0..len) (surrounding whitespace
 * allowed, nothing else; text may be NULL when len is 0). 0 and a malloc'd
 * tree in *out for sbx_jfree; or *out NULL and -SBX_E_INVALID with err
 * (may be NULL): "at byte N: reason", N being the 0-based offset of the
 * offending byte (-SBX_E_SYSTEM out of memory: "at byte N: <strerror(ENOMEM)>").
 *
 * Rejected besides syntax errors: invalid UTF-8 anywhere, unescaped control
 * characters, invalid escapes and unpaired UTF-16 surrogates, leading zeros,
 * numbers that overflow a double, duplicate keys, keys containing NUL
 * (\u0000; they would alias shorter keys in lookups), nesting deeper than
 * SBX_JPARSE_MAX_DEPTH. Each value takes a sbx_jval (72 bytes), so an input
 * of tiny values ("[0,0,...]") can need ~100 times len: bound len first. */
int sbx_jparse(const char *text, size_t len, sbx_jval **out, sbx_error *err);
/* The same with at most max_values values in all (the root, every array
 * item, every object member's value; keys are not counted): one more is
 * -SBX_E_INVALID "at byte N: more than MAX values", N the offset of the
 * first value over the cap, found before its node is allocated. The memory
 * of a parse is then at most about max_values * 2 * sizeof(sbx_jval) plus
 * len (strings, decoded, are never longer than their source). */
int sbx_jparse_max(const char *text, size_t len, size_t max_values, sbx_jval **out, sbx_error *err);
void sbx_jfree(sbx_jval *v);
static inline void sbx_jfreep(sbx_jval **v)
{
	sbx_jfree(*v);
	*v = NULL;
}
#define _cleanup_jval_ _cleanup_(sbx_jfreep)

/* Lookups in an object: NULL/false if obj is NULL or not an object, the key
 * is absent, or the value has another type (an answer, not a failure: no
 * sbx_error). *out is only set when found. */
const sbx_jval *sbx_jget(const sbx_jval *obj, const char *key);
/* A string value without embedded NUL bytes (those would be silently
 * truncated as C strings; use sbx_jget and len for binary data). */
const char *sbx_jget_str(const sbx_jval *obj, const char *key);
bool sbx_jget_int(const sbx_jval *obj, const char *key, int64_t *out); /* is_int numbers */
bool sbx_jget_bool(const sbx_jval *obj, const char *key, bool *out);

#endif
