/* Typed getters of config.json's fields, their errors naming the field. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ocirt/spec_json.h"

static size_t push(oci_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(oci_pctx *c, const char *fmt, ...)
{
	size_t old = c->len;
	if (c->len < sizeof(c->path) - 1) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(c->path + c->len, sizeof(c->path) - c->len, fmt, ap);
		va_end(ap);
		if (n > 0)
			c->len += (size_t)n;
		if (c->len > sizeof(c->path) - 1)
			c->len = sizeof(c->path) - 1;
	}
	return old;
}

size_t oci_push_key(oci_pctx *c, const char *key)
{
	return push(c, c->len ? ".%s" : "%s", key);
}

size_t oci_push_idx(oci_pctx *c, size_t i)
{
	return push(c, "[%zu]", i);
}

void oci_pop(oci_pctx *c, size_t len)
{
	c->len = len;
	c->path[len] = '\0';
}

static int vbad(oci_pctx *c, const char *fmt, va_list ap)
{
	char msg[300];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->len)
		return sbx_fail(c->err, SBX_E_INVALID, "%s: %s", c->path, msg);
	return sbx_fail(c->err, SBX_E_INVALID, "%s", msg);
}

int oci_bad(oci_pctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vbad(c, fmt, ap);
	va_end(ap);
	return r;
}

int oci_bad_key(oci_pctx *c, const char *key, const char *fmt, ...)
{
	size_t old = oci_push_key(c, key);
	va_list ap;
	va_start(ap, fmt);
	int r = vbad(c, fmt, ap);
	va_end(ap);
	oci_pop(c, old);
	return r;
}

int oci_oom(oci_pctx *c)
{
	return sbx_fail_errno(c->err, SBX_E_SYSTEM, ENOMEM, "config");
}

const sbx_jval *oci_field(const sbx_jval *obj, const char *key)
{
	const sbx_jval *v = sbx_jget(obj, key);
	return v && v->type != SBX_J_NULL ? v : NULL;
}

int oci_need(oci_pctx *c, const sbx_jval *obj, const char *key)
{
	return oci_field(obj, key) ? 0 : oci_bad_key(c, key, "missing");
}

int oci_get_obj(oci_pctx *c, const sbx_jval *obj, const char *key, const sbx_jval **out)
{
	const sbx_jval *v = oci_field(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != SBX_J_OBJ)
		return oci_bad_key(c, key, "not an object");
	*out = v;
	return 0;
}

int oci_get_arr(oci_pctx *c, const sbx_jval *obj, const char *key, const sbx_jval **out)
{
	const sbx_jval *v = oci_field(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != SBX_J_ARR)
		return oci_bad_key(c, key, "not an array");
	if (v->n > SBX_OCI_MAX_ITEMS)
		return oci_bad_key(c, key, "more than %u entries", SBX_OCI_MAX_ITEMS);
	*out = v;
	return 0;
}

int oci_val_str(oci_pctx *c, const sbx_jval *v, char **out)
{
	if (v->type != SBX_J_STR)
		return oci_bad(c, "not a string");
	if (strlen(v->str) != v->len)
		return oci_bad(c, "contains a NUL byte");
	char *s = strdup(v->str);
	if (!s)
		return oci_oom(c);
	*out = s;
	return 0;
}

int oci_get_str(oci_pctx *c, const sbx_jval *obj, const char *key, char **out)
{
	const sbx_jval *v = oci_field(obj, key);
	if (!v)
		return 0;
	size_t old = oci_push_key(c, key);
	char *s = NULL;
	int r = oci_val_str(c, v, &s);
	oci_pop(c, old);
	if (r == 0) {
		free(*out);
		*out = s;
	}
	return r;
}

int oci_get_bool(oci_pctx *c, const sbx_jval *obj, const char *key, bool *out, bool *found)
{
	const sbx_jval *v = oci_field(obj, key);
	if (found)
		*found = false;
	if (!v)
		return 0;
	if (v->type != SBX_J_BOOL)
		return oci_bad_key(c, key, "not a boolean");
	*out = v->b;
	if (found)
		*found = true;
	return 0;
}

static int val_int(oci_pctx *c, const sbx_jval *v, int64_t min, int64_t max, int64_t *out)
{
	if (v->type != SBX_J_NUM)
		return oci_bad(c, "not a number");
	if (!v->is_int)
		return oci_bad(c, "not an integer in range");
	if (v->i < min || v->i > max)
		return oci_bad(c, "%lld out of range [%lld, %lld]", (long long)v->i, (long long)min,
			       (long long)max);
	*out = v->i;
	return 0;
}

int oci_get_int(oci_pctx *c, const sbx_jval *obj, const char *key, int64_t min, int64_t max,
		int64_t *out, bool *found)
{
	const sbx_jval *v = oci_field(obj, key);
	if (found)
		*found = false;
	if (!v)
		return 0;
	size_t old = oci_push_key(c, key);
	int r = val_int(c, v, min, max, out);
	oci_pop(c, old);
	if (r == 0 && found)
		*found = true;
	return r;
}

/* jsonparse keeps integers exactly up to INT64_MAX; above, only the
 * double: integral values in [2^63, 2^64] are taken (2^64 is how
 * 18446744073709551615, "unlimited", arrives), rounded to 53 bits. */
int oci_val_u64(oci_pctx *c, const sbx_jval *v, uint64_t *out)
{
	if (v->type != SBX_J_NUM)
		return oci_bad(c, "not a number");
	if (v->is_int) {
		if (v->i < 0)
			return oci_bad(c, "%lld is negative", (long long)v->i);
		*out = (uint64_t)v->i;
		return 0;
	}
	double d = v->num;
	/* (doubles this big are all integers) */
	if (d >= 9223372036854775808.0 && d <= 18446744073709551616.0) {
		*out = d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)d;
		return 0;
	}
	return oci_bad(c, "not an unsigned 64-bit integer");
}

int oci_get_u64(oci_pctx *c, const sbx_jval *obj, const char *key, uint64_t *out, bool *found)
{
	const sbx_jval *v = oci_field(obj, key);
	if (found)
		*found = false;
	if (!v)
		return 0;
	size_t old = oci_push_key(c, key);
	int r = oci_val_u64(c, v, out);
	oci_pop(c, old);
	if (r == 0 && found)
		*found = true;
	return r;
}

int oci_get_u32(oci_pctx *c, const sbx_jval *obj, const char *key, uint32_t *out, bool *found)
{
	int64_t x;
	bool f = false;
	int r = oci_get_int(c, obj, key, 0, UINT32_MAX, &x, &f);
	if (found)
		*found = f;
	if (r == 0 && f)
		*out = (uint32_t)x;
	return r;
}

void oci_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int oci_get_strv(oci_pctx *c, const sbx_jval *obj, const char *key, char ***out, size_t *n)
{
	const sbx_jval *a;
	int r = oci_get_arr(c, obj, key, &a);
	if (r < 0 || !a)
		return r;
	char **v = calloc(a->n + 1, sizeof(*v));
	if (!v)
		return oci_oom(c);
	size_t old = oci_push_key(c, key);
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t o2 = oci_push_idx(c, i);
		r = oci_val_str(c, &a->items[i], &v[i]);
		oci_pop(c, o2);
	}
	oci_pop(c, old);
	if (r < 0) {
		oci_strv_free(v);
		return r;
	}
	oci_strv_free(*out);
	*out = v;
	*n = a->n;
	return 0;
}

void oci_kv_free(sbx_oci_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int oci_get_kv(oci_pctx *c, const sbx_jval *obj, const char *key, sbx_oci_kv **out, size_t *n)
{
	const sbx_jval *o;
	int r = oci_get_obj(c, obj, key, &o);
	if (r < 0 || !o)
		return r;
	if (o->n > SBX_OCI_MAX_ITEMS)
		return oci_bad_key(c, key, "more than %u entries", SBX_OCI_MAX_ITEMS);
	sbx_oci_kv *kv = calloc(o->n ? o->n : 1, sizeof(*kv));
	if (!kv)
		return oci_oom(c);
	size_t old = oci_push_key(c, key);
	for (size_t i = 0; r == 0 && i < o->n; i++) {
		size_t o2 = oci_push_key(c, o->keys[i]);
		r = oci_val_str(c, &o->items[i], &kv[i].value);
		oci_pop(c, o2);
		if (r == 0 && !(kv[i].key = strdup(o->keys[i])))
			r = oci_oom(c);
	}
	oci_pop(c, old);
	if (r < 0) {
		oci_kv_free(kv, o->n);
		return r;
	}
	oci_kv_free(*out, *n);
	*out = kv;
	*n = o->n;
	return 0;
}
