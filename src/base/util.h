/* Small helpers shared by the library's files. */
#ifndef SBX_INTERNAL_H
#define SBX_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>
#include "sbx.h"

#define SBX_API __attribute__((visibility("default")))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static inline void sbx_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -1;
}
static inline void sbx_freep(void *p)
{
	free(*(void **)p);
	*(void **)p = NULL;
}
static inline void sbx_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
	*f = NULL;
}
static inline void sbx_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
	*d = NULL;
}
/* Parent side only: these run free/fclose/closedir, which may allocate or
 * take locks; code running in a sandbox after clone uses none of them. */
#define _cleanup_close_ _cleanup_(sbx_closep)
#define _cleanup_free_ _cleanup_(sbx_freep)
#define _cleanup_fclose_ _cleanup_(sbx_fclosep)
#define _cleanup_closedir_ _cleanup_(sbx_closedirp)

/* Return fd and forget it (so a cleanup attribute does not close it). */
static inline int sbx_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* ---- The error convention of libsbx --------------------------------------
 * A function that can fail returns int: >= 0 on success, a negative
 * sbx_errcode on failure, with the detail in `sbx_error *err` (which may be
 * NULL when the caller does not want it). It fails with sbx_fail (no errno)
 * or sbx_fail_errno (the errno is kept in err->sys_errno and its text ends
 * the message); a caller that passes a failure up adds its own context in
 * front with sbx_error_wrap. Nothing else is returned as an error: no -1 with
 * errno, no -errno, no bool, no separate message buffer.
 *
 * The code is what a caller acts on; the message, what a person reads; the
 * errno, what a caller may test (err->sys_errno == EBUSY) after passing its
 * own sbx_error. A caller that gives a failure another code or replaces
 * the words keeps the errno: sbx_fail_errno(err, CODE, e.sys_errno, ...).
 *
 * Inside a sandbox, after clone (init, workload, server*, mounts), nothing
 * may allocate: such code fills an sbx_error on its stack (sbx_fail and
 * sbx_fail_errno only format into err->msg) and sends err->msg over the
 * control socket (sbx_msg_send_error).
 *
 * Exceptions, each documented where it is declared: allocators (sbx_buf's
 * appends, sbx_env_build, sbx_map: NULL or -1 means out of memory, the only
 * failure), predicates and lookups (bool: a "no" is an answer, not a
 * failure), and static one-line wrappers of a single system call, which
 * keep that call's -1 and errno. */

/* Fill err (may be NULL) and return -code. */
int sbx_fail(sbx_error *err, sbx_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As sbx_fail, with errnum recorded and its text appended: "<fmt>: <strerror>". */
int sbx_fail_errno(sbx_error *err, sbx_errcode code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Put context in front of err's message ("<fmt>: <message>") and return r
 * (the negative code being passed up). Code and errno stay. */
int sbx_error_wrap(sbx_error *err, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* SBX_DEBUG=1 in the environment: one "sbx-debug: ..." line on stderr. */
int sbx_debug_on(void);
void sbx_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write a whole string to an existing file (cgroup knobs, id maps).
 * 0, or -SBX_E_SYSTEM with err ("write NAME: <strerror>", errno kept). No
 * allocation: usable inside a sandbox. */
int sbx_write_file(const char *path, const char *data, sbx_error *err);
int sbx_write_fileat(int dirfd, const char *name, const char *data, sbx_error *err);
/* A new file's whole content (len bytes of data) at path, all or nothing:
 * written to path.tmp (mode, O_NOFOLLOW), then renamed over path; path.tmp
 * is removed on failure. 0, or -SBX_E_SYSTEM ("cannot write PATH"). */
int sbx_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
			  sbx_error *err);
/* Read up to cap-1 bytes of a file, NUL-terminated. The length, or
 * -SBX_E_SYSTEM with err ("read NAME: <strerror>", errno kept). No
 * allocation: usable inside a sandbox. */
ssize_t sbx_read_fileat(int dirfd, const char *name, char *buf, size_t cap, sbx_error *err);

/* Checks every driver shares: command, cwd, hostname, env, workspace,
 * sizes. need_argv: a command is required (not for long-lived ones). */
int sbx_config_validate(const sbx_config *cfg, bool need_argv, sbx_error *err);

/* Clones copy every fd of the process. A request holds the write ends of
 * its output pipes for a moment (create, hand over, close); a sandbox
 * cloned meanwhile by another thread would hold copies until it closes
 * them, delaying that request's end of output. Requests take the lock
 * shared over that window, clones take it exclusively. */
void sbx_fds_hold(void); /* shared */
void sbx_fds_release(void);
void sbx_clone_lock(void); /* exclusive */
void sbx_clone_unlock(void);
void sbx_clone_lock_reset(void); /* in a child forked with the lock held */

/* mkdir -p (missing parents made with mode too). 0, or -SBX_E_SYSTEM with
 * err ("cannot create DIR: <strerror>", DIR the one that failed). */
int sbx_mkdir_p(const char *path, mode_t mode, sbx_error *err);

/* A condition variable on the monotonic clock, and a wait on it of at
 * most ns nanoseconds (spurious wake-ups are the caller's loop's). */
void sbx_cond_init(pthread_cond_t *c);
void sbx_cond_wait_ns(pthread_cond_t *c, pthread_mutex_t *m, uint64_t ns);

/* Wall clock (CLOCK_REALTIME) in nanoseconds since the epoch. */
int64_t sbx_realtime_ns(void);

/* Monotonic clock in nanoseconds. */
uint64_t sbx_now_ns(void);
/* The deadline t0_ns + ms milliseconds, saturated at UINT64_MAX (never
 * wrapping into the past); 0 ("none") when ms is 0. */
uint64_t sbx_deadline_ns(uint64_t t0_ns, uint64_t ms);

/* Random lowercase hex id of n chars (n < 64) into out (n+1 bytes). */
void sbx_random_id(char *out, size_t n);

#endif
