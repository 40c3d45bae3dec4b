/* Containers, execs and stats as Docker's JSON. */
#ifndef SBX_DAPI_CTR_JSON_H
#define SBX_DAPI_CTR_JSON_H

#include "base/buf.h"
#include "dockerapi/engine.h"

/* A string vector as a JSON array (NULL: null). */
void dapi_json_strv(sbx_buf *b, char *const *v);
/* RFC 3339 with nanoseconds, UTC; 0: Go's zero time. */
void dapi_json_time(sbx_buf *b, int64_t ns);
/* GET /containers/{id}/json (c->mu held). */
void dapi_ctr_inspect_json(sbx_buf *b, const dapi_ctr *c);
/* One item of GET /containers/json (c->mu held). */
void dapi_ctr_list_json(sbx_buf *b, const dapi_ctr *c);
/* GET /exec/{id}/json (its container's mu held). */
void dapi_exec_inspect_json(sbx_buf *b, const dapi_exec *x);

typedef struct dapi_stats {
	int64_t read_ns;
	uint64_t system_ns;
	uint64_t mem;
	int64_t cpu_us, pids;
} dapi_stats;
/* The container's usage now (takes c->mu). */
void dapi_stats_sample(dapi_ctr *c, dapi_stats *s);
void dapi_stats_json(sbx_buf *b, const dapi_ctr *c, const dapi_stats *now, const dapi_stats *pre);

#endif
