/* A container's output log (under the container's lock). */
#ifndef SBX_DAPI_CTR_LOG_H
#define SBX_DAPI_CTR_LOG_H

#include "dockerapi/engine.h"

/* Append one chunk of stream (1 stdout, 2 stderr) and wake the followers;
 * the oldest entries go past DAPI_LOG_MAX bytes. */
void dapi_log_append(dapi_ctr *c, int stream, const char *data, size_t len);
/* Wake the followers (the run ended). */
void dapi_log_wake(dapi_ctr *c);
/* The first entry with seq >= seq, NULL if none yet. */
const dapi_log_entry *dapi_log_from(const dapi_ctr *c, uint64_t seq);
void dapi_log_free(dapi_ctr *c);

#endif
