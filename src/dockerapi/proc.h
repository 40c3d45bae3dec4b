/* One process in a container's sandbox (its main process or an exec),
 * run by a thread of its own so that its caller can pump its output: the
 * command gets pipes for stdin/stdout/stderr; kill and signal requests
 * reach it through a cancel eventfd and a signal socket; done_efd becomes
 * readable when it has ended and all its output is in the pipes. */
#ifndef SBX_DAPI_PROC_H
#define SBX_DAPI_PROC_H

#include <pthread.h>
#include <stdbool.h>
#include "sbx.h"

typedef struct dapi_proc {
	sbx_sandbox *sb;
	const char *const *argv;
	const char *const *env;
	size_t n_env;
	const char *cwd;
	bool python;	  /* python3 -c CODE through the pre-started interpreter */
	int in_r;	  /* the command's stdin (ours to close after start) or -1 */
	int out_r, err_r; /* read ends: the caller pumps them (non-blocking) */
	int out_w, err_w;
	int cancel_efd; /* write 1: kill it */
	int sig_w, sig_r;
	int done_efd;
	sbx_result res;
	sbx_error err;
	int rc;
	pthread_t th;
	bool th_running;
} dapi_proc;

void dapi_proc_init(dapi_proc *p);
/* Start argv (NULL-terminated) in sb; with_stdin: *stdin_w gets the write
 * end of its stdin pipe (non-blocking). The strings must outlive the
 * process. */
int dapi_proc_start(dapi_proc *p, sbx_sandbox *sb, const char *const *argv, const char *const *env,
		    const char *cwd, bool with_stdin, int *stdin_w, bool python_ok, sbx_error *err);
/* Ask it to end: sig SIGKILL through the cancel fd, others forwarded. */
void dapi_proc_signal(dapi_proc *p, int sig);
/* Join its thread (after done_efd): its result is in p->res / p->rc. */
void dapi_proc_join(dapi_proc *p);
/* Close everything left and free the result. */
void dapi_proc_free(dapi_proc *p);
/* The exit status Docker reports for the result. */
int dapi_proc_exit_code(const dapi_proc *p);

/* What a terminal (ONLCR) makes of n bytes: "\n" -> "\r\n", into out
 * (2n bytes); returns its length. Tty mode has pipes, not a pty. */
size_t dapi_onlcr(const char *in, size_t n, char *out);

/* argv is `python3 -c CODE [ARG...]` (also /usr/bin/python3, python):
 * the code, else NULL. */
const char *dapi_python_code(const char *const *argv);

#endif
