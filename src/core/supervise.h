/* Supervising a one-shot sandbox's init from the parent: the loop
 * (core/loop.h) with init's control messages (the command's status, a
 * set-up error) and the kill (pid namespace and cgroup). */
#ifndef SBX_SUPERVISE_H
#define SBX_SUPERVISE_H

#include <stdbool.h>
#include "core/cgroup.h"
#include "core/loop.h"

typedef struct sbx_watch {
	sbx_loop l;	/* pid, pidfd, ctl (init's socket), streams, deadline, cancel */
	sbx_cgroup *cg; /* killed with the pid namespace; NULL: none */
	bool have_status;
	int cmd_status; /* wait status of the command, reported by init */
	const char *kill_how;
} sbx_watch;

/* Set up w for init's protocol: everything else absent (sbx_loop_init). */
void sbx_watch_init(sbx_watch *w, sbx_cgroup *cg);

/* Run until init has been reaped and both streams are drained. 0, or a
 * negative sbx error on an internal failure (the sandbox is killed and
 * reaped all the same). */
int sbx_watch_run(sbx_watch *w, sbx_error *err);

#endif
