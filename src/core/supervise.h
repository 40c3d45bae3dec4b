/* The parent's side of a running sandbox: output capture, timeout,
 * cancellation and reaping. */
#ifndef SBX_SUPERVISE_H
#define SBX_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "base/buf.h"
#include "core/cgroup.h"

typedef struct sbx_stream {
	int fd;		/* read end; -1 once at EOF */
	int tee_fd;	/* copy output here as it comes; -1: none */
	bool capture;	/* keep output in buf */
	uint64_t limit; /* bytes passed on at most; the rest is drained */
	uint64_t kept;	/* bytes passed on so far */
	bool truncated;
	sbx_buf buf;
} sbx_stream;

/* Account for n bytes read from the stream: capture/tee what fits under
 * the limit, drop and flag the rest. Returns -1 if capturing ran out of
 * memory. */
int sbx_stream_feed(sbx_stream *s, const char *p, size_t n);

/* Read what is available on s->fd and feed it; closes the fd at EOF.
 * Returns -1 if capturing ran out of memory. */
int sbx_stream_read(sbx_stream *s);

typedef struct sbx_watch {
	/* in */
	pid_t pid;
	int pidfd;
	int sock;
	int cancel_fd;
	uint64_t deadline_ns; /* 0: none */
	sbx_stream out, err;
	sbx_cgroup *cg;
	/* out */
	bool reaped;
	struct rusage ru;
	bool have_status;
	int cmd_status; /* wait status of the command, reported by init */
	bool have_error;
	char error[480];
	bool timed_out, cancelled;
	const char *kill_how;
} sbx_watch;

/* Run until the sandbox's init has been reaped and both streams are
 * drained. Returns 0, or -errno on an internal failure (the sandbox is
 * killed and reaped all the same). */
int sbx_watch_run(sbx_watch *w);

#endif
