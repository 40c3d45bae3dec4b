/* A container's main process: start, the pump thread that logs its output
 * and sees it end, kill, stop, restart and wait. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dockerapi/engine.h"
#include "dockerapi/strv.h"
#include "drivers/driver.h"
#include "pool/pool.h"

/* Read what fd has now into the log: false at its end (or error). */
static bool drain(dapi_ctr *c, int *fd, int stream)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			char tty[2 * sizeof(buf)];
			size_t len = (size_t)n;
			const char *d = buf;
			if (c->spec.tty) {
				len = dapi_onlcr(buf, len, tty);
				d = tty;
			}
			pthread_mutex_lock(&c->mu);
			dapi_log_append(&c->log, stream, d, len);
			pthread_mutex_unlock(&c->mu);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		sbx_closep(fd);
		return false;
	}
}

/* Kill every process in the sandbox but its init: kill(-1) from inside
 * (the image's sh; without one, what is left runs on until removal). */
static void reap_strays(sbx_sandbox *sb)
{
	const char *argv[] = {"sh", "-c", "kill -9 -1 2>/dev/null; exit 0", NULL};
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = argv;
	o.timeout_ms = 5000;
	o.capture = false;
	sbx_result r;
	sbx_error e;
	memset(&r, 0, sizeof(r));
	if (sbx_sandbox_exec(sb, &o, &r, &e) == 0)
		sbx_result_free(&r);
}

static void *pump_main(void *arg)
{
	dapi_ctr *c = arg;
	dapi_proc *p = &c->main;
	int out = p->out_r, errf = p->err_r;
	p->out_r = p->err_r = -1;
	bool done = false;
	while (out >= 0 || errf >= 0) {
		struct pollfd fds[3] = {
		    {out, POLLIN, 0}, {errf, POLLIN, 0}, {p->done_efd, POLLIN, 0}};
		/* After the end, the pipes only have what is left in them. */
		int n = poll(fds, 3, done ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (out >= 0 && (fds[0].revents || done))
			drain(c, &out, 1);
		if (errf >= 0 && (fds[1].revents || done))
			drain(c, &errf, 2);
		if (done)
			break;
		if (fds[2].revents)
			done = true;
	}
	sbx_closep(&out);
	sbx_closep(&errf);
	dapi_proc_join(p);
	int code = dapi_proc_exit_code(p);
	bool oom = p->rc == 0 && p->res.oom_killed;
	pthread_mutex_lock(&c->mu);
	if (p->rc < 0 && !c->remove_pending)
		snprintf(c->error, sizeof(c->error), "%s", p->err.msg);
	/* Execs die with the main process, as in Docker. */
	for (dapi_exec *x = c->execs; x; x = x->next)
		if (x->running)
			dapi_proc_signal(&x->proc, SIGKILL);
	while (c->sb_users > 0)
		pthread_cond_wait(&c->cv, &c->mu);
	sbx_sandbox *sb = c->sb;
	if (p->python)
		c->py_busy = false;
	sbx_closep(&c->stdin_w);
	sbx_closep(&c->stdin_r);
	dapi_proc_free(p);
	dapi_proc_init(p);
	c->exit_code = c->remove_pending && p->rc < 0 ? 137 : code;
	c->oom_killed = oom;
	c->finished_ns = sbx_realtime_ns();
	if (c->state == DAPI_RUNNING)
		c->state = DAPI_EXITED;
	c->exits++;
	bool autorm = c->spec.auto_remove;
	bool going = autorm || c->remove_pending;
	pthread_mutex_unlock(&c->mu);
	/* Everything else in it ends with the main process, as in Docker;
	 * the sandbox (its files) stays until the container is removed, for
	 * archives, and for the next start. */
	if (sb && !going)
		reap_strays(sb);
	pthread_mutex_lock(&c->mu);
	c->pump_running = false;
	pthread_cond_broadcast(&c->cv);
	dapi_log_wake(&c->log);
	pthread_mutex_unlock(&c->mu);
	if (autorm) {
		int st;
		sbx_error err;
		dapi_ctr_remove(c, true, &st, &err);
	}
	dapi_engine *e = c->eng;
	dapi_ctr_put(c);
	pthread_mutex_lock(&e->mu);
	e->pumps--;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

int dapi_ctr_start(dapi_ctr *c, int *status, sbx_error *err)
{
	pthread_mutex_lock(&c->mu);
	int r = 0;
	/* A run that just ended: its pump is releasing the sandbox. */
	while (c->state != DAPI_RUNNING && c->pump_running)
		pthread_cond_wait(&c->cv, &c->mu);
	if (c->state == DAPI_RUNNING) {
		*status = 304;
		r = -SBX_E_STATE;
		sbx_fail(err, SBX_E_STATE, "container already started");
		goto out;
	}
	if (c->state == DAPI_REMOVING || c->removed) {
		*status = 409;
		r = sbx_fail(err, SBX_E_STATE, "container %.12s is being removed", c->id);
		goto out;
	}
	if ((r = dapi_ctr_sandbox_get(c, err)) < 0) {
		*status = 500;
		sbx_error_wrap(err, r, "starting container %.12s", c->id);
		goto out;
	}
	const char *cwd = c->spec.workdir && c->spec.workdir[0] ? c->spec.workdir
			  : c->img.workdir && c->img.workdir[0] ? c->img.workdir
								: "/";
	bool python_ok = c->pool && !c->spec.tty && !c->spec.open_stdin && !c->py_busy;
	/* OpenStdin: the pipe exists from create (or the last run's end) on,
	 * so that an attach before start can write to it. */
	if ((r = dapi_ctr_stdin_pipe(c, err)) < 0) {
		*status = 500;
		goto out;
	}
	if (c->stdin_r >= 0 && (c->main.in_r = fcntl(c->stdin_r, F_DUPFD_CLOEXEC, 3)) < 0) {
		*status = 500;
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "dup");
		goto out;
	}
	r = dapi_proc_start(&c->main, c->sb, DAPI_CSTRV(c->argv), DAPI_CSTRV(c->env), cwd, false,
			    NULL, python_ok, err);
	if (r < 0) {
		*status = 500;
		dapi_proc_free(&c->main);
		dapi_proc_init(&c->main);
		goto out;
	}
	c->py_busy = c->py_busy || c->main.python;
	c->state = DAPI_RUNNING;
	c->started_ns = sbx_realtime_ns();
	c->oom_killed = false;
	c->error[0] = 0;
	c->pump_running = true;
	pthread_mutex_lock(&c->eng->mu);
	c->refs++;
	c->eng->pumps++;
	pthread_mutex_unlock(&c->eng->mu);
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int pr = pthread_create(&th, &at, pump_main, c);
	pthread_attr_destroy(&at);
	if (pr != 0) {
		/* cannot watch it: kill it and wait for its thread */
		dapi_proc_signal(&c->main, SIGKILL);
		pthread_mutex_unlock(&c->mu);
		dapi_proc_join(&c->main);
		pthread_mutex_lock(&c->mu);
		dapi_proc_free(&c->main);
		dapi_proc_init(&c->main);
		c->state = DAPI_EXITED;
		c->exit_code = 128;
		c->pump_running = false;
		pthread_mutex_lock(&c->eng->mu);
		c->refs--;
		c->eng->pumps--;
		pthread_mutex_unlock(&c->eng->mu);
		*status = 500;
		r = sbx_fail_errno(err, SBX_E_SYSTEM, pr, "starting a thread");
	}
out:
	pthread_mutex_unlock(&c->mu);
	return r;
}

int dapi_ctr_kill(dapi_ctr *c, int sig, int *status, sbx_error *err)
{
	pthread_mutex_lock(&c->mu);
	if (c->state != DAPI_RUNNING) {
		pthread_mutex_unlock(&c->mu);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE, "Container %s is not running", c->id);
	}
	dapi_proc_signal(&c->main, sig);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* Wait (c->mu held) until the run ends or deadline_ns (0: none). */
static bool wait_exit(dapi_ctr *c, uint64_t exits, uint64_t deadline_ns)
{
	while (c->exits == exits && c->state == DAPI_RUNNING) {
		if (!deadline_ns) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		uint64_t now = sbx_now_ns();
		if (now >= deadline_ns)
			return false;
		sbx_cond_wait_ns(&c->cv, &c->mu, deadline_ns - now);
	}
	return true;
}

int dapi_ctr_stop(dapi_ctr *c, int64_t t, int *status, sbx_error *err)
{
	pthread_mutex_lock(&c->mu);
	if (c->state != DAPI_RUNNING) {
		pthread_mutex_unlock(&c->mu);
		*status = 304;
		return sbx_fail(err, SBX_E_STATE, "container already stopped");
	}
	uint64_t exits = c->exits;
	if (t < 0)
		t = 10;
	if (t > 0) {
		dapi_proc_signal(&c->main, SIGTERM);
		wait_exit(c, exits, sbx_deadline_ns(sbx_now_ns(), (uint64_t)t * 1000));
	}
	if (c->exits == exits && c->state == DAPI_RUNNING) {
		dapi_proc_signal(&c->main, SIGKILL);
		wait_exit(c, exits, 0);
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int dapi_ctr_restart(dapi_ctr *c, int64_t t, int *status, sbx_error *err)
{
	int r = dapi_ctr_stop(c, t, status, err);
	if (r < 0 && *status != 304)
		return r;
	/* The pump releases the sandbox after the state changes: wait for it. */
	pthread_mutex_lock(&c->mu);
	while (c->pump_running)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	r = dapi_ctr_start(c, status, err);
	if (r == 0) {
		pthread_mutex_lock(&c->mu);
		c->restarts++;
		pthread_mutex_unlock(&c->mu);
	}
	return r;
}

int dapi_ctr_wait(dapi_ctr *c, const char *cond, int cancel_fd, int *code, char *errmsg,
		  size_t errcap, int *status, sbx_error *err)
{
	enum { NOT_RUNNING, NEXT_EXIT, REMOVED } w = NOT_RUNNING;
	if (!cond || !cond[0] || strcmp(cond, "not-running") == 0)
		w = NOT_RUNNING;
	else if (strcmp(cond, "next-exit") == 0)
		w = NEXT_EXIT;
	else if (strcmp(cond, "removed") == 0)
		w = REMOVED;
	else {
		*status = 400;
		return sbx_fail(err, SBX_E_INVALID, "invalid condition: \"%s\"", cond);
	}
	pthread_mutex_lock(&c->mu);
	uint64_t exits = c->exits;
	for (;;) {
		bool met = w == NOT_RUNNING ? c->state != DAPI_RUNNING && !c->pump_running
			   : w == NEXT_EXIT ? c->exits != exits && !c->pump_running
					    : c->removed;
		if (met)
			break;
		/* Poll the client every 200 ms: a client gone ends the wait. */
		struct pollfd pfd = {cancel_fd, POLLRDHUP, 0};
		if (cancel_fd >= 0 && poll(&pfd, 1, 0) > 0 &&
		    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			pthread_mutex_unlock(&c->mu);
			*status = 0;
			return sbx_fail(err, SBX_E_STATE, "the client went away");
		}
		sbx_cond_wait_ns(&c->cv, &c->mu, 200000000);
	}
	*code = c->exit_code;
	snprintf(errmsg, errcap, "%s", c->error);
	pthread_mutex_unlock(&c->mu);
	return 0;
}
