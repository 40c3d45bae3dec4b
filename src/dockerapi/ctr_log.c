/* A container's output log: entries (stream, time, bytes) in a bounded
 * list, and the followers (attach, logs --follow) woken on each append. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "dockerapi/ctr_log.h"

static void wake(dapi_log *l)
{
	uint64_t one = 1;
	for (dapi_follower *f = l->followers; f; f = f->next)
		if (write(f->efd, &one, sizeof(one)) < 0) {
			/* a full counter: already woken */
		}
}

/* One entry of len bytes. */
static void append_one(dapi_log *l, int stream, const char *data, size_t len)
{
	dapi_log_entry *e = malloc(sizeof(*e) + len);
	if (!e)
		return; /* out of memory: the bytes are lost, as past the cap */
	e->next = NULL;
	e->seq = l->next_seq++;
	e->ts_ns = sbx_realtime_ns();
	e->stream = stream;
	e->len = len;
	memcpy(e->data, data, len);
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
	l->bytes += len;
	while (l->bytes > DAPI_LOG_MAX && l->head != l->tail) {
		dapi_log_entry *old = l->head;
		l->head = old->next;
		l->bytes -= old->len;
		free(old);
	}
}

void dapi_log_append(dapi_log *l, int stream, const char *data, size_t len)
{
	if (!len)
		return;
	/* An entry per line (tail and timestamps count lines, as Docker's). */
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) + 1 : len;
		append_one(l, stream, data, n);
		data += n;
		len -= n;
	}
	wake(l);
}

void dapi_log_wake(dapi_log *l)
{
	wake(l);
}

void dapi_log_free(dapi_log *l)
{
	while (l->head) {
		dapi_log_entry *e = l->head;
		l->head = e->next;
		free(e);
	}
	l->tail = NULL;
	l->bytes = 0;
}

const dapi_log_entry *dapi_log_from(const dapi_log *l, uint64_t seq)
{
	const dapi_log_entry *e = l->head;
	while (e && e->seq < seq)
		e = e->next;
	return e;
}
