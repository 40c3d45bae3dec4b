/* The one event loop of everything sbx supervises from the host: a
 * one-shot sandbox's init (api/run.c), an exec in a long-lived sandbox
 * (drivers/native_io.c) and the docker/podman client processes
 * (drivers/oci_proc.c).
 *
 * What it watches, each optional:
 *   out, err    output streams: read, teed, captured under a cap, and past
 *               the cap drained (the writer never blocks on us);
 *   pid/pidfd   a child to reap (wait status and rusage); its exit is the end;
 *   ctl         a control connection (SOCK_SEQPACKET records, read without
 *               blocking), each record handed to on_msg; without a child,
 *               its end is the end;
 *   report      an early-report channel: a fixed-size record sent by the
 *               workload before it exits (the Python runner's "done");
 *   cancel_fd   readable: stop the workload (cancelled);
 *   signal_fd   signal requests (a signalfd, or a pipe of one-byte signal
 *               numbers, see sbx_signal_request_read): each is passed to the
 *               workload (forward); stop_timeout_ns after the first one the
 *               workload is stopped (cancelled). Without forward, the first
 *               request stops it at once;
 *   deadline    reached: stop the workload (timed_out).
 * A tee fd whose reader went away (EPIPE) stops the workload too
 * (reader_gone), as SIGPIPE ends the writer of a shell pipeline.
 * Stopping runs the stop action (default: SIGKILL the child), repeated every
 * stop_every_ns until the end if set; stop_grace_ns after the first stop the
 * child is SIGKILLed, or, without a child, the loop gives up waiting
 * (gave_up). After the end, streams still open are read for drain_ns more
 * (background processes may hold them), then closed.
 *
 * Every wait is bounded by the deadline, the grace and the drain, and
 * nothing read from the other side can block the loop: every fd it reads is
 * made non-blocking, and a partial or malformed record or report counts as
 * none. */
#ifndef SBX_LOOP_H
#define SBX_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "base/buf.h"
#include "sbx.h"

typedef struct sbx_stream sbx_stream;

/* Bytes read from a stream go through this instead of sbx_stream_feed
 * (which it calls for what it passes on). 0 or a negative sbx error. */
typedef int (*sbx_stream_filter)(void *ctx, sbx_stream *s, const char *p, size_t n, sbx_error *err);

struct sbx_stream {
	int fd;		/* read end; -1 once at EOF */
	int tee_fd;	/* copy output here as it comes; -1: none */
	bool capture;	/* keep output in buf */
	uint64_t limit; /* bytes passed on at most; the rest is drained */
	bool tee_gone;	/* writing to tee_fd failed with EPIPE: its reader went away */
	uint64_t kept;	/* bytes passed on so far */
	bool truncated;
	sbx_buf buf;
	sbx_stream_filter filter; /* NULL: none */
	void *filter_ctx;
};

/* Account for n bytes read from the stream: capture/tee what fits under
 * the limit, drop and flag the rest. 0, or -SBX_E_SYSTEM if capturing ran
 * out of memory. */
int sbx_stream_feed(sbx_stream *s, const char *p, size_t n, sbx_error *err);

#define SBX_REPORT_MAX 64

typedef struct sbx_loop sbx_loop;

typedef struct sbx_report {
	int fd;	     /* -1: none */
	size_t size; /* bytes in a complete report (at most SBX_REPORT_MAX) */
	/* A complete report arrived: true if it is valid (that is the end),
	 * false to ignore it. */
	bool (*take)(sbx_loop *l, const unsigned char *p, size_t n);
	size_t got; /* so far */
	unsigned char data[SBX_REPORT_MAX];
} sbx_report;

struct sbx_loop {
	/* ---- in (fds -1 when absent; sbx_loop_init sets them so) */
	sbx_stream out, err;
	pid_t pid; /* the child to reap, with its pidfd */
	int pidfd;
	int ctl;
	/* A record from ctl (n >= 1, NUL-terminated after n). */
	void (*on_msg)(sbx_loop *l, char *rec, size_t n);
	sbx_report report;
	int cancel_fd;
	int signal_fd; /* signal requests; not closed by the loop */
	/* Pass signal sig to the workload; NULL: a request stops it at once. */
	void (*forward)(sbx_loop *l, int sig);
	uint64_t stop_timeout_ns; /* after the first forwarded signal; 0: at once */
	uint64_t deadline_ns;	  /* monotonic (sbx_now_ns); 0: none */
	void (*stop)(sbx_loop *l);
	uint64_t stop_every_ns; /* 0: stop once */
	uint64_t stop_grace_ns; /* 0: no grace action */
	uint64_t drain_ns;
	void *ctx; /* for the callbacks */
	/* ---- out */
	bool done; /* the end came (on_msg and take may set it) */
	bool reaped;
	int wstatus; /* of the child (SIGKILL if it could not be reaped) */
	struct rusage ru;
	bool timed_out, cancelled;
	int signal_got;	  /* the first signal requested on signal_fd, 0: none */
	bool reader_gone; /* a tee fd's reader went away: stopped (exit 141) */
	bool stopped;	  /* the stop action ran */
	bool gave_up;	  /* no child, and no end within the grace after stopping */
	bool have_error;
	char error[480]; /* first error text reported (sbx_loop_error) */
};

/* Everything absent: fds -1, no deadline, no callbacks. */
void sbx_loop_init(sbx_loop *l);

/* Run until the end and the drain. 0, or a negative sbx error on an
 * internal failure (the child, if any, is then stopped, killed and reaped
 * all the same). The streams' fds are closed on return; ctl and the report
 * channel stay open for the caller to close (sbx_loop_free). */
int sbx_loop_run(sbx_loop *l, sbx_error *err);

/* Keep the first error text a control record carried. */
void sbx_loop_error(sbx_loop *l, const char *text, size_t n);

/* Close every fd the loop holds and free the captured output. */
void sbx_loop_free(sbx_loop *l);

/* How the command ended, as a driver knows it. */
typedef struct sbx_ending {
	int wstatus; /* of the command */
	uint64_t cpu_ms, max_rss_kb;
	bool oom_killed;
} sbx_ending;

/* The one result filler: res from the ending, the loop's timed_out,
 * cancelled and streams (captured output moves into res) and the time since
 * t0. 0, or -SBX_E_SYSTEM if capturing ran out of memory (res untouched). */
int sbx_loop_result(sbx_loop *l, const sbx_ending *e, uint64_t t0, sbx_result *res, sbx_error *err);

/* Read one signal request from fd (a signalfd, or a pipe or socket of
 * one-byte signal numbers; call when poll says it is readable). The signal,
 * 0 if none or one sbx does not pass on (sbx_sig_forwardable), -1 at EOF
 * or on an error (stop watching fd). */
int sbx_signal_request_read(int fd);

/* ms as ns for the loop's durations, saturated far below overflow (a sum
 * with sbx_now_ns stays in range). */
static inline uint64_t sbx_ms_to_ns_sat(uint64_t ms)
{
	return ms > (UINT64_MAX / 4) / 1000000 ? UINT64_MAX / 4 : ms * 1000000;
}

/* CPU time (user + system) of a rusage, in ms. */
uint64_t sbx_rusage_cpu_ms(const struct rusage *ru);

#endif
