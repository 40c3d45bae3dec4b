/* Pure parsing of user-supplied values (no I/O). */
#include "base/parse.h"
#include "base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SBX_NAME_MAX 64
#define SBX_HOSTNAME_MAX 63
#define SBX_CPUS_MAX 1024u
#define SBX_FRAC_DIGITS_MAX 9

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* The number parsers below serve the public sbx_parse_size, _duration and
 * _cpus, whose documented contract (include/sbx.h) is 0, or -1 on bad
 * input; they answer the same way. */

/* Parse a run of at least one decimal digit at *sp into *out, advancing *sp.
 * -1 on no digit or uint64 overflow. */
static int parse_u64(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

static int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

static int add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

/* ---- sizes ---------------------------------------------------------- */

/* Multiplier of a size suffix letter (K, M, G, T, any case), 0 if none. */
static uint64_t size_unit(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return 1ull << 10;
	case 'm':
	case 'M':
		return 1ull << 20;
	case 'g':
	case 'G':
		return 1ull << 30;
	case 't':
	case 'T':
		return 1ull << 40;
	default:
		return 0;
	}
}

/* What may follow the digits: "", "B", "<U>", "<U>B", "<U>iB" (any case).
 * Fractions are not accepted (1.5G is rejected: say 1536M). */
static int size_suffix(const char *s, uint64_t *mult)
{
	*mult = 1;
	if (*s == '\0')
		return 0;
	if (strcasecmp(s, "b") == 0)
		return 0;
	*mult = size_unit(*s);
	if (*mult == 0)
		return -1;
	s++;
	if (*s == '\0' || strcasecmp(s, "b") == 0 || strcasecmp(s, "ib") == 0)
		return 0;
	return -1;
}

SBX_API int sbx_parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mult, r;

	if (!s || !out || parse_u64(&s, &v) < 0)
		return -1;
	if (size_suffix(s, &mult) < 0 || mul_u64(v, mult, &r) < 0)
		return -1;
	*out = r;
	return 0;
}

/* ---- durations and cpus: DIGITS[.DIGITS] ---------------------------- */

/* A decimal "I" or "I.F" (digits required on both sides of '.'). The
 * fraction is returned as frac / 10^frac_digits, trailing zeros dropped. */
struct decimal {
	uint64_t whole;
	uint64_t frac;
	unsigned frac_digits;
	int has_point;
};

static int parse_decimal(const char **sp, struct decimal *d)
{
	const char *s = *sp;

	memset(d, 0, sizeof(*d));
	if (parse_u64(&s, &d->whole) < 0)
		return -1;
	if (*s == '.') {
		const char *f = ++s;
		while (is_digit(*s))
			s++;
		if (s == f)
			return -1;
		size_t n = (size_t)(s - f);
		while (n > 0 && f[n - 1] == '0')
			n--;
		if (n > SBX_FRAC_DIGITS_MAX)
			return -1;
		for (size_t i = 0; i < n; i++)
			d->frac = d->frac * 10 + (uint64_t)(f[i] - '0');
		d->frac_digits = (unsigned)n;
		d->has_point = 1;
	}
	*sp = s;
	return 0;
}

static uint64_t pow10_u64(unsigned n)
{
	uint64_t p = 1;

	while (n--)
		p *= 10;
	return p;
}

/* whole.frac * mult as an exact integer; -1 on overflow or if the fraction
 * does not come out whole (e.g. 0.0001s is not a whole number of ms). */
static int decimal_scale(const struct decimal *d, uint64_t mult, uint64_t *out)
{
	uint64_t den = pow10_u64(d->frac_digits);
	uint64_t fnum = d->frac * mult; /* < 10^9 * 3.6e6: no overflow */
	uint64_t r;

	if (fnum % den != 0)
		return -1;
	if (mul_u64(d->whole, mult, &r) < 0 || add_u64(r, fnum / den, &r) < 0)
		return -1;
	*out = r;
	return 0;
}

/* Milliseconds per unit; fractions are only allowed with s, m, h and bare
 * numbers (seconds). Units are lower-case. */
static int duration_unit(const char *s, uint64_t *mult, int *frac_ok)
{
	static const struct {
		const char *name;
		uint64_t ms;
		int frac_ok;
	} units[] = {
	    {"", 1000, 1}, {"ms", 1, 0}, {"s", 1000, 1}, {"m", 60000, 1}, {"h", 3600000, 1},
	};

	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(s, units[i].name) == 0) {
			*mult = units[i].ms;
			*frac_ok = units[i].frac_ok;
			return 0;
		}
	}
	return -1;
}

SBX_API int sbx_parse_duration(const char *s, uint64_t *out_ms)
{
	struct decimal d;
	uint64_t mult, r;
	int frac_ok;

	if (!s || !out_ms || parse_decimal(&s, &d) < 0)
		return -1;
	if (duration_unit(s, &mult, &frac_ok) < 0 || (d.has_point && !frac_ok))
		return -1;
	if (decimal_scale(&d, mult, &r) < 0 || r > SBX_DURATION_MAX_MS)
		return -1;
	*out_ms = r;
	return 0;
}

/* "N" or "N.F" CPUs with at most 3 decimals, 0..1024. */
SBX_API int sbx_parse_cpus(const char *s, uint32_t *out_millis)
{
	const char *p = s;
	struct decimal d;
	uint64_t r;

	if (!s || !out_millis || parse_decimal(&p, &d) < 0 || *p != '\0')
		return -1;
	const char *dot = strchr(s, '.');
	if (dot && strlen(dot + 1) > 3)
		return -1;
	if (decimal_scale(&d, 1000, &r) < 0 || r > SBX_CPUS_MAX * 1000u)
		return -1;
	*out_millis = (uint32_t)r;
	return 0;
}

/* ---- strings -------------------------------------------------------- */

int sbx_parse_env(const char *kv, sbx_error *err)
{
	const char *k = kv;
	if (!k || !(is_alpha(*k) || *k == '_'))
		goto bad;
	for (k++; *k != '='; k++) {
		if (!(is_alnum(*k) || *k == '_'))
			goto bad; /* includes the terminating NUL: no '=' */
	}
	return 0;
bad:
	return sbx_fail(err, SBX_E_INVALID, "invalid environment entry: %s", kv ? kv : "(null)");
}

/* Length of DIR in spec, with the mode in *mode. What follows the last ':'
 * is a mode when it holds no '/': it must be "ro" or "rw" (any case), so a
 * typo such as ":rx" is an error rather than part of a directory name.
 * Returns 0 for an invalid spec. A directory whose last component holds a
 * ':' can still be given with an explicit mode ("/a:b:rw"). */
static size_t workspace_split(const char *spec, sbx_ws_mode *mode)
{
	size_t n = strlen(spec);
	const char *colon = strrchr(spec, ':');

	*mode = SBX_WS_RW;
	if (!colon || strchr(colon, '/'))
		return n;
	if (strcasecmp(colon + 1, "ro") == 0)
		*mode = SBX_WS_RO;
	else if (strcasecmp(colon + 1, "rw") != 0)
		return 0;
	return (size_t)(colon - spec);
}

int sbx_parse_workspace(const char *spec, char **dir, sbx_ws_mode *mode, sbx_error *err)
{
	sbx_ws_mode m;

	if (dir)
		*dir = NULL;
	if (!spec || !dir || !mode)
		return sbx_fail(err, SBX_E_INVALID, "invalid workspace: none given");
	size_t n = workspace_split(spec, &m);
	if (n == 0)
		return sbx_fail(err, SBX_E_INVALID,
				"invalid workspace '%s' (DIR, DIR:ro or DIR:rw)", spec);
	char *d = strndup(spec, n);
	if (!d)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "workspace");
	*dir = d;
	*mode = m;
	return 0;
}

int sbx_valid_name(const char *name, sbx_error *err)
{
	size_t i = 0;
	if (!name || !is_alnum(name[0]))
		goto bad;
	for (i = 1; name[i] != '\0'; i++) {
		char c = name[i];
		if (i >= SBX_NAME_MAX || !(is_alnum(c) || c == '_' || c == '.' || c == '-'))
			goto bad;
	}
	return 0;
bad:
	return sbx_fail(err, SBX_E_INVALID,
			"invalid sandbox name '%s' (letters, digits, _ . -; at most 64; "
			"starting with a letter or digit)",
			name ? name : "");
}

int sbx_valid_hostname(const char *name, sbx_error *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > SBX_HOSTNAME_MAX || name[0] == '-' || name[n - 1] == '-')
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (!(is_alnum(name[i]) || name[i] == '-'))
			goto bad;
	}
	return 0;
bad:
	return sbx_fail(err, SBX_E_INVALID, "invalid hostname: %s", name ? name : "(null)");
}

/* Is the component [c, c+n) "." or ".."? */
static int is_dot_component(const char *c, size_t n)
{
	return (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.');
}

int sbx_valid_inside_path(const char *path, sbx_error *err)
{
	if (!path || path[0] != '/')
		goto bad;
	const char *c = path;
	while (*c != '\0') {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if (is_dot_component(c, n))
			goto bad;
		c += n;
	}
	return 0;
bad:
	return sbx_fail(err, SBX_E_PATH, "invalid path %s: must be absolute, without . or ..",
			path ? path : "(null)");
}
