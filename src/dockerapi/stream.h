/* Streams between a client connection and a container (exec start,
 * attach, logs). */
#ifndef SBX_DAPI_STREAM_H
#define SBX_DAPI_STREAM_H

#include "dockerapi/engine.h"
#include "dockerapi/http.h"

/* Start exec x's command (its container must be running): 0, or negative
 * with err and *status (409 not running / started already). */
int dapi_exec_begin(dapi_exec *x, int *status, sbx_error *err);
/* Pump a begun exec until it ends: output to conn (framed unless tty;
 * conn NULL or detached: dropped), conn's bytes to its stdin; then its
 * exit code is recorded. */
int dapi_exec_stream(dapi_exec *x, dapi_conn *conn, bool detached);

typedef struct dapi_log_opts {
	bool stdout_, stderr_;
	bool follow;	 /* until the current run ends */
	bool from_start; /* the log so far first (logs, attach logs=1) */
	bool timestamps;
	int64_t tail;		    /* -1: all */
	int64_t since_ns, until_ns; /* 0: none */
	bool tty;		    /* raw, not framed */
	int stdin_from;		    /* attach: the client's fd for the container's stdin, -1 */
	bool hijacked;		    /* attach: raw writes; else (logs) chunks */
} dapi_log_opts;

/* Send c's log to conn (after the response head was written). */
int dapi_log_stream(dapi_ctr *c, dapi_conn *conn, const dapi_log_opts *o);

#endif
