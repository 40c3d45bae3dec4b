/* The control protocol of long-lived sandboxes: records on a
 * SOCK_SEQPACKET Unix socket. Each record starts with a type byte; large
 * payloads follow as CHUNK records of at most SBX_PROTO_CHUNK bytes. */
#ifndef SBX_PROTO_H
#define SBX_PROTO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sbx.h"

#define SBX_PROTO_CHUNK 65536
#define SBX_PROTO_MAX_ARGS (1u << 20) /* argv + env + cwd bytes */

enum {
	SBX_REQ_EXEC = 'X',  /* exec_req + stdin/stdout/stderr fds; blob follows */
	SBX_REQ_READ = 'R',  /* file_req + path */
	SBX_REQ_WRITE = 'W', /* file_req + path; size bytes follow */
	SBX_REQ_PING = 'I',
	SBX_REP_STARTED = 'P', /* int32 pid inside the sandbox */
	SBX_REP_STATUS = 'S',  /* exec_status */
	SBX_REP_ERROR = 'E',   /* text */
	SBX_REP_DATA = 'D',    /* uint64 size; size bytes follow */
	SBX_REP_OK = 'O',
	SBX_MSG_KILL = 'K',   /* client -> exec: kill the command's tree */
	SBX_MSG_SIGNAL = 'N', /* client -> exec: int32 signal for the command's group */
	SBX_MSG_CHUNK = 'd',
};

/* The signals sbx passes on to a command (sbx_signal_request, the CLI's
 * SIGINT/SIGTERM/SIGHUP): those a program commonly handles to stop, reload
 * or report. The sandbox's init (pid 1) catches exactly these to pass them
 * on; faults and job control stay out. */
static inline bool sbx_sig_forwardable(int sig)
{
	switch (sig) {
	case SIGHUP:
	case SIGINT:
	case SIGQUIT:
	case SIGTERM:
	case SIGUSR1:
	case SIGUSR2:
	case SIGALRM:
	case SIGWINCH:
		return true;
	default:
		return false;
	}
}

typedef struct sbx_exec_req {
	uint32_t argc, envc;
	uint32_t blob_len; /* argv, env, cwd: NUL-terminated strings */
	uint32_t pad;
} sbx_exec_req;

typedef struct sbx_exec_status {
	int32_t wstatus;
	int32_t pad;
	int64_t cpu_us;
	int64_t maxrss_kb;
} sbx_exec_status;

typedef struct sbx_file_req {
	uint64_t size; /* write: bytes that follow */
	uint64_t max;  /* cap on the file size */
} sbx_file_req;

/* All of these follow the library's error convention (base/util.h) and
 * never allocate: the sandbox's side uses them after clone. A failure is
 * -SBX_E_SYSTEM with err saying which step and the errno kept (EPIPE when
 * the peer is gone); callers give it their own code and words. */

/* The bounds of a host-side call (the *_until variants): an absolute
 * deadline (sbx_now_ns; 0: none) and an fd whose readability cancels the
 * wait (-1: none). A call past its deadline fails with ETIMEDOUT kept, a
 * cancelled one with ECANCELED; a NULL bound waits as long as it takes. The
 * host uses them for everything it sends to or receives from a sandbox, so
 * no sandbox process that stops, stalls or withholds a reply can hold the
 * host past its deadline. */
typedef struct sbx_until {
	uint64_t deadline_ns;
	int cancel_fd;
} sbx_until;

/* Send one record: type, payload, optional fds (at most 4). */
int sbx_msg_send(int fd, char type, const void *p, size_t n, const int *fds, int nfds,
		 sbx_error *err);
/* Receive one record into buf (type byte first). Returns its length, 0 at
 * EOF, or a negative code (EMSGSIZE: it did not fit). Received fds (at most
 * maxfds) land in fds, their count in nfds. */
ssize_t sbx_msg_recv(int fd, void *buf, size_t cap, int *fds, int *nfds, int maxfds,
		     sbx_error *err);
/* The same within bounds (sbx_until above). The fd is made blocking; each
 * blocking step is cut into slices of at most 250 ms (SO_SNDTIMEO) or
 * polled (receive), so the deadline and the cancel fd are checked while it
 * waits. */
int sbx_msg_send_until(int fd, char type, const void *p, size_t n, const int *fds, int nfds,
		       const sbx_until *u, sbx_error *err);
ssize_t sbx_msg_recv_until(int fd, void *buf, size_t cap, int *fds, int *nfds, int maxfds,
			   const sbx_until *u, sbx_error *err);
/* connect(2) of a Unix socket whose listener may not accept (a full
 * backlog): bounded the same way. */
int sbx_connect_until(int fd, const void *addr, size_t addrlen, const sbx_until *u, sbx_error *err);
/* send(2) of all n bytes on a stream socket, bounded; fds (at most 4) ride
 * on the first bytes. */
int sbx_stream_send_until(int fd, const void *p, size_t n, const int *fds, int nfds,
			  const sbx_until *u, sbx_error *err);

/* Send n bytes as CHUNK records / receive exactly n bytes of CHUNKs (EPIPE
 * if the peer closed first, EPROTO on another record). */
int sbx_chunks_send(int fd, const void *p, size_t n, sbx_error *err);
int sbx_chunks_recv(int fd, void *p, size_t n, sbx_error *err);
int sbx_chunks_send_until(int fd, const void *p, size_t n, const sbx_until *u, sbx_error *err);
int sbx_chunks_recv_until(int fd, void *p, size_t n, const sbx_until *u, sbx_error *err);

/* Longest error text sent in one record: fits the receivers' buffers. */
#define SBX_PROTO_ERROR_MAX 480
/* Send e's message as an error record (type 'E': SBX_REP_ERROR, the same
 * byte as the launch socket's SBX_MSG_ERROR), cut at SBX_PROTO_ERROR_MAX. */
int sbx_msg_send_error(int fd, const sbx_error *e, sbx_error *err);

#endif
