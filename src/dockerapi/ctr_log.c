/* A container's output log: entries (stream, time, bytes) in a bounded
 * list, and the followers (attach, logs --follow) woken on each append. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dockerapi/ctr_log.h"

static int64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(dapi_ctr *c)
{
	uint64_t one = 1;
	for (dapi_follower *f = c->followers; f; f = f->next)
		if (write(f->efd, &one, sizeof(one)) < 0) {
			/* a full counter: already woken */
		}
}

void dapi_log_append(dapi_ctr *c, int stream, const char *data, size_t len)
{
	if (!len)
		return;
	dapi_log_entry *e = malloc(sizeof(*e) + len);
	if (!e)
		return; /* out of memory: the bytes are lost, as past the cap */
	e->next = NULL;
	e->seq = c->log_next_seq++;
	e->ts_ns = realtime_ns();
	e->stream = stream;
	e->len = len;
	memcpy(e->data, data, len);
	if (c->log_tail)
		c->log_tail->next = e;
	else
		c->log_head = e;
	c->log_tail = e;
	c->log_bytes += len;
	while (c->log_bytes > DAPI_LOG_MAX && c->log_head != c->log_tail) {
		dapi_log_entry *old = c->log_head;
		c->log_head = old->next;
		c->log_bytes -= old->len;
		free(old);
	}
	wake(c);
}

void dapi_log_wake(dapi_ctr *c)
{
	wake(c);
}

void dapi_log_free(dapi_ctr *c)
{
	while (c->log_head) {
		dapi_log_entry *e = c->log_head;
		c->log_head = e->next;
		free(e);
	}
	c->log_tail = NULL;
	c->log_bytes = 0;
}

const dapi_log_entry *dapi_log_from(const dapi_ctr *c, uint64_t seq)
{
	const dapi_log_entry *e = c->log_head;
	while (e && e->seq < seq)
		e = e->next;
	return e;
}
