/* Supervising a one-shot sandbox's init (see supervise.h). */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "base/util.h"
#include "core/launch.h"
#include "core/supervise.h"

/* After init is gone every writer is dead; give in-flight data this long. */
#define DRAIN_GRACE_NS (2000ull * 1000 * 1000)
/* A killed init that is still not reaped gets SIGKILL again after this
 * long, and is given up on after twice as long (loop.h). */
#define KILL_GRACE_NS (10000ull * 1000 * 1000)

static void kill_sandbox(sbx_loop *l)
{
	sbx_watch *w = l->ctx;
	/* SIGKILL to the pid namespace's init takes every process in it down;
	 * the cgroup kill also covers anything in the cgroup outside it. */
	if (l->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
	w->kill_how = w->cg ? sbx_cgroup_kill(w->cg) : "pidns";
	sbx_debug("kill %s", w->kill_how);
}

/* A signal for the command: to init, which catches the forwardable ones
 * and passes them to the command's process group (init.c). pid 1 of a pid
 * namespace gets from outside only the signals it has a handler for. */
static void forward_to_init(sbx_loop *l, int sig)
{
	if (l->pidfd >= 0 && !l->reaped)
		syscall(SYS_pidfd_send_signal, l->pidfd, sig, NULL, 0);
}

static void on_msg(sbx_loop *l, char *rec, size_t n)
{
	sbx_watch *w = l->ctx;
	if (rec[0] == SBX_MSG_STATUS && n >= 1 + sizeof(int)) {
		memcpy(&w->cmd_status, rec + 1, sizeof(int));
		w->have_status = true;
	} else if (rec[0] == SBX_MSG_ERROR) {
		sbx_loop_error(l, rec + 1, n - 1);
	}
}

void sbx_watch_init(sbx_watch *w, sbx_cgroup *cg)
{
	memset(w, 0, sizeof(*w));
	sbx_loop_init(&w->l);
	w->cg = cg;
	w->l.ctx = w;
	w->l.on_msg = on_msg;
	w->l.stop = kill_sandbox;
	w->l.forward = forward_to_init;
	w->l.stop_grace_ns = KILL_GRACE_NS;
	w->l.drain_ns = DRAIN_GRACE_NS;
}

int sbx_watch_run(sbx_watch *w, sbx_error *err)
{
	return sbx_loop_run(&w->l, err);
}
