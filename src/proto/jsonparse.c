/* Strict JSON decoder: recursive descent bounded by SBX_JPARSE_MAX_DEPTH.
 * A partial tree is kept consistent (every counted slot initialised) so that
 * any failure is cleaned up by freeing the root. */
#include "proto/json.h"
#include "proto/jsonparse.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
	const unsigned char *s;
	size_t len;
	size_t pos;
	sbx_error *err;
	size_t values, max_values; /* values parsed so far, and the cap */
	locale_t cloc;		   /* "C" locale for strtod_l, created on first use */
};

/* A syntax error at byte `at`: -SBX_E_INVALID, "at byte N: reason". */
__attribute__((format(printf, 3, 4))) static int jp_fail(struct jp *p, size_t at, const char *fmt,
							 ...)
{
	char why[400];
	va_list ap;

	if (!p->err)
		return -SBX_E_INVALID;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sbx_fail(p->err, SBX_E_INVALID, "at byte %zu: %s", at, why);
}

static int jp_oom(struct jp *p, size_t at)
{
	return sbx_fail_errno(p->err, SBX_E_SYSTEM, ENOMEM, "at byte %zu", at);
}

static void skip_ws(struct jp *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/* "unexpected ..." for the byte at p->pos (or the end of input). */
static int fail_unexpected(struct jp *p, const char *what)
{
	if (p->pos >= p->len)
		return jp_fail(p, p->pos, "unexpected end of input, expected %s", what);
	unsigned char c = p->s[p->pos];
	if (c > 0x20 && c < 0x7F)
		return jp_fail(p, p->pos, "unexpected character '%c', expected %s", c, what);
	return jp_fail(p, p->pos, "unexpected byte 0x%02x, expected %s", c, what);
}

static void free_contents(sbx_jval *v)
{
	switch (v->type) {
	case SBX_J_STR:
		free(v->str);
		break;
	case SBX_J_OBJ:
		for (size_t k = 0; k < v->n; k++)
			free(v->keys[k]);
		free(v->keys);
		/* fall through */
	case SBX_J_ARR:
		for (size_t k = 0; k < v->n; k++)
			free_contents(&v->items[k]);
		free(v->items);
		break;
	default:
		break;
	}
}

void sbx_jfree(sbx_jval *v)
{
	if (!v)
		return;
	free_contents(v);
	free(v);
}

/* ---- strings -------------------------------------------------------- */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 4 hex digits after "\u" at s[at] (s[at] is the backslash); -1 if bad. */
static long hex4(struct jp *p, size_t at, size_t end)
{
	long v = 0;

	if (end - at < 6 || p->s[at + 1] != 'u')
		return -1;
	for (size_t k = 2; k < 6; k++) {
		int h = hexval(p->s[at + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 if it is
 * ill-formed or truncated. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	int ok;
	size_t len = sbx_utf8_seq(s, n, &ok);
	return ok ? len : 0;
}

static size_t utf8_put(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode the string whose opening quote is at p->pos into a malloc'd,
 * NUL-terminated buffer. The decoded form is never longer than the source. */
static int parse_string(struct jp *p, char **out, size_t *outlen)
{
	size_t start = p->pos + 1, end = start, i, o = 0;
	char *buf;
	int r;

	while (end < p->len && p->s[end] != '"')
		end += p->s[end] == '\\' ? 2 : 1;
	if (end >= p->len)
		return jp_fail(p, p->pos, "unterminated string");
	buf = malloc(end - start + 1);
	if (!buf)
		return jp_oom(p, p->pos);
	for (i = start; i < end;) {
		unsigned char c = p->s[i];
		if (c < 0x20) {
			r = jp_fail(p, i, "unescaped control character 0x%02x in string", c);
			goto fail;
		}
		if (c >= 0x80) {
			size_t n = utf8_len(p->s + i, end - i);
			if (n == 0) {
				r = jp_fail(p, i, "invalid UTF-8 in string");
				goto fail;
			}
			memcpy(buf + o, p->s + i, n);
			o += n;
			i += n;
			continue;
		}
		if (c != '\\') {
			buf[o++] = (char)c;
			i++;
			continue;
		}
		/* The scan above guarantees i + 1 < end. */
		unsigned char e = p->s[i + 1];
		const char *from = strchr("\"\\/bfnrt", e);
		if (e && from) {
			buf[o++] = "\"\\/\b\f\n\r\t"[from - "\"\\/bfnrt"];
			i += 2;
			continue;
		}
		if (e != 'u') {
			if (e > 0x20 && e < 0x7F)
				r = jp_fail(p, i, "invalid escape '\\%c' in string", e);
			else
				r = jp_fail(p, i,
					    "invalid escape (byte 0x%02x after '\\') in string", e);
			goto fail;
		}
		long cp = hex4(p, i, end);
		if (cp < 0) {
			r = jp_fail(p, i, "invalid \\u escape (4 hex digits needed)");
			goto fail;
		}
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			r = jp_fail(p, i, "lone low surrogate \\u%04lx", cp);
			goto fail;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = i + 6 < end && p->s[i + 6] == '\\' ? hex4(p, i + 6, end) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF) {
				r = jp_fail(
				    p, i, "high surrogate \\u%04lx not followed by a low one", cp);
				goto fail;
			}
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		}
		i += 6;
		o += utf8_put(buf + o, (unsigned long)cp);
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	p->pos = end + 1;
	return 0;
fail:
	free(buf);
	return r;
}

/* ---- numbers and literals ------------------------------------------- */

static bool is_digit(struct jp *p, size_t at)
{
	return at < p->len && p->s[at] >= '0' && p->s[at] <= '9';
}

static int parse_number(struct jp *p, sbx_jval *v)
{
	size_t start = p->pos, i = start;
	bool neg = false, integral = true;

	if (p->s[i] == '-') {
		neg = true;
		i++;
	}
	if (!is_digit(p, i)) {
		p->pos = i;
		return fail_unexpected(p, "a digit");
	}
	if (p->s[i] == '0') {
		i++;
		if (is_digit(p, i))
			return jp_fail(p, start, "leading zero in number");
	} else {
		while (is_digit(p, i))
			i++;
	}
	if (i < p->len && p->s[i] == '.') {
		integral = false;
		if (!is_digit(p, ++i)) {
			p->pos = i;
			return fail_unexpected(p, "a digit after '.'");
		}
		while (is_digit(p, i))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		integral = false;
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!is_digit(p, i)) {
			p->pos = i;
			return fail_unexpected(p, "a digit in the exponent");
		}
		while (is_digit(p, i))
			i++;
	}
	v->type = SBX_J_NUM;
	if (integral) {
		/* Magnitude limit: 2^63 - 1, or 2^63 when negative. */
		uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, m = 0;
		bool fits = true;
		for (size_t k = start + neg; k < i && fits; k++) {
			unsigned d = p->s[k] - '0';
			if (m > (lim - d) / 10)
				fits = false;
			else
				m = m * 10 + d;
		}
		if (fits) {
			v->is_int = true;
			v->i = !neg ? (int64_t)m : m == lim ? INT64_MIN : -(int64_t)m;
			/* Same rounding as strtod: to nearest, ties to even. */
			v->num = neg && m == 0 ? -0.0 : (double)v->i;
			p->pos = i;
			return 0;
		}
	}
	char small[64], *copy = small;
	size_t n = i - start;
	if (n >= sizeof(small) && !(copy = malloc(n + 1)))
		return jp_oom(p, start);
	memcpy(copy, p->s + start, n);
	copy[n] = '\0';
	if (!p->cloc)
		p->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (p->cloc)
		v->num = strtod_l(copy, NULL, p->cloc);
	if (copy != small)
		free(copy);
	if (!p->cloc)
		return jp_oom(p, start);
	if (isinf(v->num))
		return jp_fail(p, start, "number out of range");
	p->pos = i;
	return 0;
}

static int parse_literal(struct jp *p, sbx_jval *v)
{
	static const char *const words[] = {"true", "false", "null"};

	for (size_t k = 0; k < 3; k++) {
		size_t n = strlen(words[k]);
		if (p->len - p->pos >= n && memcmp(p->s + p->pos, words[k], n) == 0) {
			v->type = k == 2 ? SBX_J_NULL : SBX_J_BOOL;
			v->b = k == 0;
			p->pos += n;
			return 0;
		}
	}
	return jp_fail(p, p->pos, "invalid literal (expected true, false or null)");
}

/* ---- containers ----------------------------------------------------- */

static int parse_value(struct jp *p, sbx_jval *v, int depth);

/* Room for one more slot; keys and kpos only for objects. */
static int grow(struct jp *p, sbx_jval *v, size_t *cap, size_t **kpos)
{
	if (v->n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 4;
	if (ncap > SIZE_MAX / sizeof(sbx_jval))
		return jp_oom(p, p->pos);
	sbx_jval *items = realloc(v->items, ncap * sizeof(*items));
	if (!items)
		return jp_oom(p, p->pos);
	v->items = items;
	if (kpos) {
		char **keys = realloc(v->keys, ncap * sizeof(*keys));
		if (!keys)
			return jp_oom(p, p->pos);
		v->keys = keys;
		size_t *np = realloc(*kpos, ncap * sizeof(*np));
		if (!np)
			return jp_oom(p, p->pos);
		*kpos = np;
	}
	*cap = ncap;
	return 0;
}

/* After an item: ',' (returns 1, more items follow) or the closing bracket
 * (returns 0). */
static int next_item(struct jp *p, char close)
{
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	if (p->pos < p->len && p->s[p->pos] == ',') {
		size_t comma = p->pos++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == close)
			return jp_fail(p, comma, "trailing comma before '%c'", close);
		return 1;
	}
	return fail_unexpected(p, close == ']' ? "',' or ']'" : "',' or '}'");
}

static int parse_array(struct jp *p, sbx_jval *v, int depth)
{
	size_t cap = 0;
	int r;

	v->type = SBX_J_ARR;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	do {
		if ((r = grow(p, v, &cap, NULL)) < 0)
			return r;
		memset(&v->items[v->n], 0, sizeof(*v->items));
		if ((r = parse_value(p, &v->items[v->n++], depth)) < 0)
			return r;
	} while ((r = next_item(p, ']')) > 0);
	return r;
}

struct keyent {
	const char *key;
	size_t idx;
};

static int keyent_cmp(const void *a, const void *b)
{
	const struct keyent *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int fail_dup(struct jp *p, size_t at, const char *key)
{
	char shown[64];
	size_t o = 0, k;

	for (k = 0; key[k] && o + 5 < 48; k++) {
		unsigned char c = (unsigned char)key[k];
		if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\')
			shown[o++] = (char)c;
		else
			o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", c);
	}
	if (key[k])
		o += (size_t)snprintf(shown + o, sizeof(shown) - o, "...");
	shown[o] = '\0';
	return jp_fail(p, at, "duplicate key '%s'", shown);
}

/* Reject the first key (in text order) that repeats an earlier one.
 * Quadratic for small objects, sorting for large ones. */
static int check_dups(struct jp *p, const sbx_jval *v, const size_t *kpos)
{
	size_t first = SIZE_MAX;

	if (v->n <= 16) {
		for (size_t a = 1; a < v->n && first == SIZE_MAX; a++)
			for (size_t b = 0; b < a; b++)
				if (strcmp(v->keys[a], v->keys[b]) == 0) {
					first = a;
					break;
				}
	} else {
		struct keyent *e = malloc(v->n * sizeof(*e));
		if (!e)
			return jp_oom(p, p->pos);
		for (size_t k = 0; k < v->n; k++)
			e[k] = (struct keyent){v->keys[k], k};
		qsort(e, v->n, sizeof(*e), keyent_cmp);
		/* Sorted by (key, idx): an entry equal to its predecessor is a
		 * repeat; the smallest such idx is the first repeat in the text. */
		for (size_t k = 1; k < v->n; k++)
			if (e[k].idx < first && strcmp(e[k].key, e[k - 1].key) == 0)
				first = e[k].idx;
		free(e);
	}
	if (first == SIZE_MAX)
		return 0;
	return fail_dup(p, kpos[first], v->keys[first]);
}

static int parse_object(struct jp *p, sbx_jval *v, int depth)
{
	size_t cap = 0, *kpos = NULL;
	int r;

	v->type = SBX_J_OBJ;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	do {
		char *key;
		size_t klen, at = p->pos;
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			r = fail_unexpected(p, "a string (object key)");
			break;
		}
		if ((r = parse_string(p, &key, &klen)) < 0)
			break;
		if (memchr(key, '\0', klen)) {
			free(key);
			r = jp_fail(p, at, "object key contains \\u0000");
			break;
		}
		if ((r = grow(p, v, &cap, &kpos)) < 0) {
			free(key);
			break;
		}
		memset(&v->items[v->n], 0, sizeof(*v->items));
		v->keys[v->n] = key;
		kpos[v->n] = at;
		v->n++;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			r = fail_unexpected(p, "':'");
			break;
		}
		p->pos++;
		if ((r = parse_value(p, &v->items[v->n - 1], depth)) < 0)
			break;
	} while ((r = next_item(p, '}')) > 0);
	if (r == 0)
		r = check_dups(p, v, kpos);
	free(kpos);
	return r;
}

static int parse_value(struct jp *p, sbx_jval *v, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail_unexpected(p, "a value");
	/* Each value costs a node: cap them before they are allocated. */
	if (++p->values > p->max_values)
		return jp_fail(p, p->pos, "more than %zu values", p->max_values);
	switch (p->s[p->pos]) {
	case '[':
	case '{':
		if (depth >= SBX_JPARSE_MAX_DEPTH)
			return jp_fail(p, p->pos, "nesting deeper than %d", SBX_JPARSE_MAX_DEPTH);
		if (p->s[p->pos] == '[')
			return parse_array(p, v, depth + 1);
		return parse_object(p, v, depth + 1);
	case '"': {
		int r = parse_string(p, &v->str, &v->len);
		if (r < 0)
			return r;
		v->type = SBX_J_STR;
		return 0;
	}
	case 't':
	case 'f':
	case 'n':
		return parse_literal(p, v);
	case '-':
	case '0' ... '9':
		return parse_number(p, v);
	default:
		return fail_unexpected(p, "a value");
	}
}

int sbx_jparse(const char *text, size_t len, sbx_jval **out, sbx_error *err)
{
	return sbx_jparse_max(text, len, SIZE_MAX, out, err);
}

int sbx_jparse_max(const char *text, size_t len, size_t max_values, sbx_jval **out, sbx_error *err)
{
	struct jp p = {
	    .s = (const unsigned char *)text, .len = len, .err = err, .max_values = max_values};
	sbx_jval *v = calloc(1, sizeof(*v));
	int r;

	*out = NULL;
	if (!v)
		return jp_oom(&p, 0);
	r = parse_value(&p, v, 0);
	if (r == 0) {
		skip_ws(&p);
		if (p.pos < p.len)
			r = jp_fail(&p, p.pos, "trailing data after the JSON value");
	}
	if (p.cloc)
		freelocale(p.cloc);
	if (r < 0) {
		sbx_jfree(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ---- lookups -------------------------------------------------------- */

const sbx_jval *sbx_jget(const sbx_jval *obj, const char *key)
{
	if (!obj || obj->type != SBX_J_OBJ || !key)
		return NULL;
	for (size_t k = 0; k < obj->n; k++)
		if (strcmp(obj->keys[k], key) == 0)
			return &obj->items[k];
	return NULL;
}

const char *sbx_jget_str(const sbx_jval *obj, const char *key)
{
	const sbx_jval *v = sbx_jget(obj, key);

	if (!v || v->type != SBX_J_STR || memchr(v->str, '\0', v->len))
		return NULL;
	return v->str;
}

bool sbx_jget_int(const sbx_jval *obj, const char *key, int64_t *out)
{
	const sbx_jval *v = sbx_jget(obj, key);

	if (!v || v->type != SBX_J_NUM || !v->is_int)
		return false;
	*out = v->i;
	return true;
}

bool sbx_jget_bool(const sbx_jval *obj, const char *key, bool *out)
{
	const sbx_jval *v = sbx_jget(obj, key);

	if (!v || v->type != SBX_J_BOOL)
		return false;
	*out = v->b;
	return true;
}
