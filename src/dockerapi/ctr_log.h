/* A container's output log: entries (stream, time, bytes) in a bounded
 * list, and the followers (attach, logs --follow) woken on each append.
 * Under the container's lock. */
#ifndef SBX_DAPI_CTR_LOG_H
#define SBX_DAPI_CTR_LOG_H

#include <stddef.h>
#include <stdint.h>

#define DAPI_LOG_MAX (8u << 20) /* bytes of output kept per container */

typedef struct dapi_log_entry {
	struct dapi_log_entry *next;
	uint64_t seq;
	int64_t ts_ns; /* realtime */
	int stream;    /* 1 stdout, 2 stderr */
	size_t len;
	char data[];
} dapi_log_entry;

typedef struct dapi_follower {
	struct dapi_follower *next;
	int efd; /* eventfd: written on new output and on the end */
} dapi_follower;

typedef struct dapi_log {
	dapi_log_entry *head, *tail;
	size_t bytes;
	uint64_t next_seq;
	dapi_follower *followers;
} dapi_log;

/* Append one chunk of stream (1 stdout, 2 stderr) and wake the followers;
 * the oldest entries go past DAPI_LOG_MAX bytes. */
void dapi_log_append(dapi_log *l, int stream, const char *data, size_t len);
/* Wake the followers (the run ended). */
void dapi_log_wake(dapi_log *l);
/* The first entry with seq >= seq, NULL if none yet. */
const dapi_log_entry *dapi_log_from(const dapi_log *l, uint64_t seq);
void dapi_log_free(dapi_log *l);

#endif
