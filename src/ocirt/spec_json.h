/* The config.json parser's own helpers (spec*.c only): typed field
 * getters that name the field's path in their errors
 * ("process.rlimits[1].hard: not a number"). */
#ifndef SBX_OCIRT_SPEC_JSON_H
#define SBX_OCIRT_SPEC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include "base/util.h"
#include "proto/jsonparse.h"
#include "ocirt/spec.h"

/* Values of one config (jsonparse's cap: bounds the parse's memory). */
#define OCI_MAX_VALUES 200000

/* The path of the value being read, for errors. */
typedef struct oci_pctx {
	sbx_error *err;
	size_t len;
	char path[384];
} oci_pctx;

/* Append ".key" ("key" at the top) or "[i]"; the old length, for oci_pop. */
size_t oci_push_key(oci_pctx *c, const char *key);
size_t oci_push_idx(oci_pctx *c, size_t i);
void oci_pop(oci_pctx *c, size_t len);
/* -SBX_E_INVALID, "<path>: <fmt>" (just "<fmt>" at the top). */
int oci_bad(oci_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for the field key of the current object. */
int oci_bad_key(oci_pctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int oci_oom(oci_pctx *c);

/* Field getters: obj is an object. Absent or null: 0 and out untouched
 * (found, when given, false). Present with another type, out of range:
 * -SBX_E_INVALID naming the field. */
const sbx_jval *oci_field(const sbx_jval *obj, const char *key);
int oci_get_obj(oci_pctx *c, const sbx_jval *obj, const char *key, const sbx_jval **out);
/* An array of at most SBX_OCI_MAX_ITEMS. */
int oci_get_arr(oci_pctx *c, const sbx_jval *obj, const char *key, const sbx_jval **out);
int oci_get_str(oci_pctx *c, const sbx_jval *obj, const char *key, char **out);
int oci_get_bool(oci_pctx *c, const sbx_jval *obj, const char *key, bool *out, bool *found);
int oci_get_int(oci_pctx *c, const sbx_jval *obj, const char *key, int64_t min, int64_t max,
		int64_t *out, bool *found);
int oci_get_u64(oci_pctx *c, const sbx_jval *obj, const char *key, uint64_t *out, bool *found);
int oci_get_u32(oci_pctx *c, const sbx_jval *obj, const char *key, uint32_t *out, bool *found);
/* An array of strings, copied, NULL-terminated (*out NULL when absent). */
int oci_get_strv(oci_pctx *c, const sbx_jval *obj, const char *key, char ***out, size_t *n);
/* An object of strings (annotations, sysctl). */
int oci_get_kv(oci_pctx *c, const sbx_jval *obj, const char *key, sbx_oci_kv **out, size_t *n);
/* A value itself (an array item): its checks and copy. */
int oci_val_str(oci_pctx *c, const sbx_jval *v, char **out);
int oci_val_u64(oci_pctx *c, const sbx_jval *v, uint64_t *out);
/* Whether a required field is there ("missing" error otherwise). */
int oci_need(oci_pctx *c, const sbx_jval *obj, const char *key);

void oci_strv_free(char **v);
void oci_kv_free(sbx_oci_kv *kv, size_t n);

/* The parts of the config, in spec_process.c and spec_linux.c. */
int oci_parse_process(oci_pctx *c, const sbx_jval *obj, sbx_oci_process *p);
int oci_parse_linux(oci_pctx *c, const sbx_jval *obj, sbx_oci_spec *s);
int oci_parse_seccomp(oci_pctx *c, const sbx_jval *obj, sbx_oci_seccomp *sc);
/* The -1s of absent resources (before any parse). */
void oci_resources_defaults(sbx_oci_resources *res);
void oci_linux_free(sbx_oci_spec *s);
void oci_seccomp_clear(sbx_oci_seccomp *sc);

#endif
