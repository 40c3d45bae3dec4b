/* pool_test: exercise the warm pool through the public C API.
 *
 *  1. a python-mode pool of size 2: 4 threads x 5 iterations of
 *     acquire -> sbx_sandbox_python("print(N)") -> check -> release;
 *  2. a plain exec (and a second python run) on an acquired sandbox;
 *  3. stats: acquired >= 21, failures 0, in_use 0, created >= acquired,
 *     idle back to the size, destroyed catching up, p50 <= p95;
 *  4. a pool with max_total 1, its only sandbox held: acquire with a 1 ms
 *     timeout fails quickly with a clear SBX_E_STATE error (and with 0:
 *     "pool exhausted"); after a release, a waiting acquire succeeds;
 *  5. a small pre-forked pool (size 2, max_total 4, acquire waits) and 24
 *     threads in a loop of acquire -> exec /bin/true -> release for 6 s:
 *     no request fails (released sandboxes count against max_total until
 *     torn down, so the teardown backlog cannot run the zygote out of host
 *     id ranges), and the pool never holds more than max_total;
 *  6. sbx_pool_destroy leaves no sbx-<our pid>-* cgroup and no process in one.
 *
 * Prints "pool_test: ok" and exits 0, or "pool_test: FAIL ..." lines and
 * exits 1. Needs root and a rootfs (SBX_ROOTFS). Built and run by
 * t_pool_c_api.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sbx.h>

#define NTHREADS 4
#define NITER 5

static int failures;

static void bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pool_test: FAIL ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	failures++;
}

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pool_test: FAIL ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *s(const char *p)
{
	return p ? p : "(null)";
}

/* ---- 1. threads ----------------------------------------------------------- */

typedef struct job {
	sbx_pool *pool;
	int idx;
	int ok;
	char why[600];
} job;

static void *worker(void *arg)
{
	job *j = arg;
	for (int it = 0; it < NITER; it++) {
		int n = j->idx * 100 + it;
		char src[64], want[32];
		snprintf(src, sizeof(src), "print(%d)\n", n);
		snprintf(want, sizeof(want), "%d\n", n);
		sbx_sandbox *sb = NULL;
		sbx_error err = {0};
		int r = sbx_pool_acquire(j->pool, SBX_POOL_DEFAULT, &sb, &err);
		if (r != 0) {
			snprintf(j->why, sizeof(j->why), "iteration %d: acquire returned %d: %s",
				 it, r, err.msg);
			return NULL;
		}
		sbx_python_opts po;
		sbx_python_opts_init(&po);
		po.source = src;
		po.source_len = strlen(src);
		po.filename = "job.py";
		po.exec.capture = true;
		po.exec.timeout_ms = 30000;
		sbx_result res;
		r = sbx_sandbox_python(sb, &po, &res, &err);
		sbx_pool_release(j->pool, sb);
		if (r != 0) {
			snprintf(j->why, sizeof(j->why),
				 "iteration %d: sbx_sandbox_python returned %d: %s", it, r,
				 err.msg);
			return NULL;
		}
		bool good =
		    res.exit_code == 0 && res.stdout_buf && strcmp(res.stdout_buf, want) == 0;
		if (!good)
			snprintf(
			    j->why, sizeof(j->why),
			    "iteration %d: exit %d, stdout '%.100s', want '%d\\n'; stderr '%.300s'",
			    it, res.exit_code, s(res.stdout_buf), n, s(res.stderr_buf));
		sbx_result_free(&res);
		if (!good)
			return NULL;
	}
	j->ok = 1;
	return NULL;
}

/* ---- 5. leftovers ---------------------------------------------------------- */

static char cg_prefix[64];
static int n_left_cg;
static char left_cg[4][512];

static int visit(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	if (flag == FTW_D && strncmp(path + f->base, cg_prefix, strlen(cg_prefix)) == 0) {
		if (n_left_cg < 4)
			snprintf(left_cg[n_left_cg], sizeof(left_cg[0]), "%s", path);
		n_left_cg++;
	}
	return 0;
}

/* cgroup dirs named sbx-<pid>-* anywhere under /sys/fs/cgroup */
static int leftover_cgroups(void)
{
	n_left_cg = 0;
	nftw("/sys/fs/cgroup", visit, 32, FTW_PHYS);
	return n_left_cg;
}

/* processes whose cgroup path names one of ours */
static int leftover_procs(char *list, size_t cap)
{
	int n = 0;
	list[0] = '\0';
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char p[300], buf[8192];
		snprintf(p, sizeof(p), "/proc/%s/cgroup", e->d_name);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		char needle[80];
		snprintf(needle, sizeof(needle), "/%s", cg_prefix);
		if (strstr(buf, needle)) {
			n++;
			size_t l = strlen(list);
			snprintf(list + l, cap - l, " %s", e->d_name);
		}
	}
	closedir(d);
	return n;
}

/* ---- main ------------------------------------------------------------------ */

static void python_on(sbx_sandbox *sb, const char *src, const char *want, const char *what)
{
	sbx_python_opts po;
	sbx_python_opts_init(&po);
	po.source = src;
	po.source_len = strlen(src);
	po.exec.capture = true;
	po.exec.timeout_ms = 30000;
	sbx_result res;
	sbx_error err = {0};
	int r = sbx_sandbox_python(sb, &po, &res, &err);
	if (r != 0) {
		bad("%s: sbx_sandbox_python returned %d: %s", what, r, err.msg);
		return;
	}
	if (res.exit_code != 0 || !res.stdout_buf || strcmp(res.stdout_buf, want) != 0)
		bad("%s: exit %d, stdout '%.200s', want '%s'; stderr '%.300s'", what, res.exit_code,
		    s(res.stdout_buf), want, s(res.stderr_buf));
	sbx_result_free(&res);
}

/* 5: many threads on a small pool. */
#define MANY_THREADS 24
#define MANY_MS 6000.0
typedef struct many {
	sbx_pool *pool;
	double end;
	int ok, failed;
	char why[256];
} many;

static void *many_worker(void *arg)
{
	many *m = arg;
	static const char *const argv[] = {"/bin/true", NULL};
	while (now_ms() < m->end) {
		sbx_sandbox *sb = NULL;
		sbx_error e = {0};
		sbx_result res;
		sbx_exec_opts o;
		sbx_exec_opts_init(&o);
		o.argv = argv;
		o.timeout_ms = 30000;
		int r = sbx_pool_acquire(m->pool, SBX_POOL_DEFAULT, &sb, &e);
		if (r == 0) {
			r = sbx_sandbox_exec(sb, &o, &res, &e);
			if (r == 0) {
				if (res.exit_code != 0) {
					r = -1;
					snprintf(e.msg, sizeof(e.msg), "/bin/true exited %d",
						 res.exit_code);
				}
				sbx_result_free(&res);
			}
			sbx_pool_release(m->pool, sb);
		}
		if (r == 0) {
			m->ok++;
		} else {
			if (!m->failed)
				snprintf(m->why, sizeof(m->why), "%.200s", e.msg);
			m->failed++;
		}
	}
	return NULL;
}

static void many_clients(void)
{
	sbx_pool_config pc;
	sbx_pool_config_init(&pc);
	pc.size = 2;
	pc.max_total = 4;
	pc.acquire_timeout_ms = -1;
	pc.tmpl.timeout_ms = 30000;
	sbx_pool *p = NULL;
	sbx_error err = {0};
	if (sbx_pool_create(&pc, &p, &err) != 0) {
		bad("sbx_pool_create(size 2, max_total 4): %s", err.msg);
		return;
	}
	pthread_t th[MANY_THREADS];
	many m[MANY_THREADS];
	double end = now_ms() + MANY_MS;
	int started = 0;
	for (int i = 0; i < MANY_THREADS; i++) {
		m[i] = (many){.pool = p, .end = end};
		if (pthread_create(&th[i], NULL, many_worker, &m[i]) != 0)
			break;
		started++;
	}
	uint64_t most = 0;
	while (now_ms() < end) {
		sbx_pool_stats st;
		sbx_pool_get_stats(p, &st);
		if (st.created - st.destroyed > most)
			most = st.created - st.destroyed;
		usleep(5000);
	}
	int ok = 0, failed = 0;
	const char *why = "";
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		ok += m[i].ok;
		failed += m[i].failed;
		if (m[i].failed && !*why)
			why = m[i].why;
	}
	sbx_pool_stats st;
	sbx_pool_get_stats(p, &st);
	printf("many clients: %d threads, %d ok, %d failed, at most %llu alive, mode %s\n", started,
	       ok, failed, (unsigned long long)most, st.fork ? "fork" : "fresh");
	if (started != MANY_THREADS)
		bad("only %d of %d threads started", started, MANY_THREADS);
	if (failed)
		bad("%d of %d requests failed with %d threads on a pool of max_total 4: %s", failed,
		    ok + failed, started, why);
	if (ok == 0)
		bad("no request succeeded with %d threads", started);
	if (most > pc.max_total)
		bad("the pool held %llu sandboxes (created - destroyed) with max_total %u",
		    (unsigned long long)most, pc.max_total);
	sbx_pool_destroy(p);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(cg_prefix, sizeof(cg_prefix), "sbx-%d-", (int)getpid());

	sbx_pool_config pc;
	sbx_pool_config_init(&pc);
	if (!pc.python || pc.size != 2 || pc.max_total != 64 || pc.acquire_timeout_ms != 0)
		bad("sbx_pool_config_init defaults: python %d size %u max_total %u acquire_timeout "
		    "%lld",
		    pc.python, pc.size, pc.max_total, (long long)pc.acquire_timeout_ms);
	pc.size = 2;
	pc.python = true;
	pc.tmpl.timeout_ms = 30000;
	sbx_pool *pool = NULL;
	sbx_error err = {0};
	int r = sbx_pool_create(&pc, &pool, &err);
	if (r != 0)
		die("sbx_pool_create(size 2, python) returned %d: %s", r, err.msg);

	/* 1. */
	double t0 = now_ms();
	pthread_t th[NTHREADS];
	job jobs[NTHREADS];
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < NTHREADS; i++) {
		jobs[i].pool = pool;
		jobs[i].idx = i;
		if (pthread_create(&th[i], NULL, worker, &jobs[i]) != 0)
			die("pthread_create: %s", strerror(errno));
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	int okn = 0;
	for (int i = 0; i < NTHREADS; i++) {
		if (jobs[i].ok)
			okn++;
		else
			bad("thread %d: %s", i, jobs[i].why);
	}
	printf("threads: %d/%d ok in %.0f ms\n", okn, NTHREADS, now_ms() - t0);

	/* 2. */
	sbx_sandbox *sb = NULL;
	r = sbx_pool_acquire(pool, SBX_POOL_DEFAULT, &sb, &err);
	if (r != 0) {
		bad("acquire for exec returned %d: %s", r, err.msg);
	} else {
		const char *argv[] = {"sh", "-c", "echo exec-ok; echo to-err >&2; exit 3", NULL};
		sbx_exec_opts o;
		sbx_exec_opts_init(&o);
		o.argv = argv;
		o.capture = true;
		o.timeout_ms = 30000;
		sbx_result res;
		r = sbx_sandbox_exec(sb, &o, &res, &err);
		if (r != 0)
			bad("sbx_sandbox_exec on a pool sandbox returned %d: %s", r, err.msg);
		else {
			if (res.exit_code != 3 || !res.stdout_buf ||
			    strcmp(res.stdout_buf, "exec-ok\n") || !res.stderr_buf ||
			    strcmp(res.stderr_buf, "to-err\n"))
				bad("exec on a pool sandbox: exit %d (want 3), stdout '%.200s', "
				    "stderr "
				    "'%.200s'",
				    res.exit_code, s(res.stdout_buf), s(res.stderr_buf));
			sbx_result_free(&res);
		}
		/* the same sandbox runs python after an exec, and again after that */
		python_on(sb, "import sys; print('py', sys.argv[0])\n", "py -\n",
			  "python after exec on one sandbox");
		python_on(sb, "print('again')\n", "again\n", "second python run on one sandbox");
		sbx_pool_release(pool, sb);
	}

	/* 3. */
	sbx_pool_stats st;
	double end = now_ms() + 30000;
	for (;;) {
		sbx_pool_get_stats(pool, &st);
		if ((st.idle == pc.size && st.destroyed + st.idle >= st.created) || now_ms() > end)
			break;
		usleep(50000);
	}
	printf("stats: idle %u in_use %u created %llu destroyed %llu failures %llu acquired %llu "
	       "p50 %.3f p95 %.3f last_error '%s'\n",
	       st.idle, st.in_use, (unsigned long long)st.created, (unsigned long long)st.destroyed,
	       (unsigned long long)st.failures, (unsigned long long)st.acquired, st.acquire_p50_ms,
	       st.acquire_p95_ms, st.last_error);
	if (st.acquired < NTHREADS * NITER + 1)
		bad("stats: acquired %llu, want >= %d", (unsigned long long)st.acquired,
		    NTHREADS * NITER + 1);
	if (st.failures != 0 || st.last_error[0])
		bad("stats: failures %llu, last_error '%s'", (unsigned long long)st.failures,
		    st.last_error);
	if (st.in_use != 0)
		bad("stats: in_use %u after every sandbox was released", st.in_use);
	if (st.created < st.acquired)
		bad("stats: created %llu < acquired %llu (a sandbox handed out twice?)",
		    (unsigned long long)st.created, (unsigned long long)st.acquired);
	if (st.idle != pc.size)
		bad("stats: idle %u, not refilled to size %u within 30 s", st.idle, pc.size);
	if (st.destroyed + st.idle != st.created)
		bad("stats: destroyed %llu + idle %u != created %llu once quiet",
		    (unsigned long long)st.destroyed, st.idle, (unsigned long long)st.created);
	if (!(st.acquire_p50_ms >= 0 && st.acquire_p50_ms <= st.acquire_p95_ms))
		bad("stats: p50 %.3f, p95 %.3f", st.acquire_p50_ms, st.acquire_p95_ms);

	/* 4. */
	sbx_pool_config pc1;
	sbx_pool_config_init(&pc1);
	pc1.size = 1;
	pc1.max_total = 1;
	pc1.python = false;
	sbx_pool *p1 = NULL;
	r = sbx_pool_create(&pc1, &p1, &err);
	if (r != 0) {
		bad("sbx_pool_create(size 1, max_total 1) returned %d: %s", r, err.msg);
	} else {
		sbx_sandbox *held = NULL, *other = NULL;
		r = sbx_pool_acquire(p1, 30000, &held, &err);
		if (r != 0) {
			bad("acquire on the max_total 1 pool returned %d: %s", r, err.msg);
		} else {
			sbx_error e1 = {0};
			double a = now_ms();
			r = sbx_pool_acquire(p1, 1, &other, &e1);
			double took = now_ms() - a;
			if (r == 0) {
				bad("acquire(1 ms) succeeded with max_total 1 reached and none "
				    "idle");
				sbx_pool_release(p1, other);
			} else {
				printf("acquire(1 ms) when exhausted: %d '%s' in %.1f ms\n", r,
				       e1.msg, took);
				if (r != -SBX_E_STATE || e1.code != SBX_E_STATE)
					bad("acquire(1 ms) returned %d code %d, want -%d "
					    "(SBX_E_STATE)",
					    r, e1.code, SBX_E_STATE);
				if (!strstr(e1.msg, "no sandbox available within 1 ms"))
					bad("acquire(1 ms) error is not clear: '%s'", e1.msg);
				if (took > 1000)
					bad("acquire(1 ms) took %.0f ms to fail", took);
			}
			sbx_error e0 = {0};
			r = sbx_pool_acquire(p1, 0, &other, &e0);
			if (r == 0) {
				bad("acquire(0) succeeded with max_total 1 reached");
				sbx_pool_release(p1, other);
			} else if (r != -SBX_E_STATE || !strstr(e0.msg, "pool exhausted")) {
				bad("acquire(0) when exhausted: %d '%s'", r, e0.msg);
			}
			/* releasing frees the slot: a waiting acquire gets the next one */
			sbx_pool_release(p1, held);
			r = sbx_pool_acquire(p1, 30000, &other, &e0);
			if (r != 0)
				bad("acquire(30 s) after the release returned %d: %s", r, e0.msg);
			else
				sbx_pool_release(p1, other);
		}
		sbx_pool_destroy(p1);
	}

	/* 5. */
	many_clients();

	/* 6. */
	char procs[1024];
	int np = leftover_procs(procs, sizeof(procs));
	if (np == 0)
		bad("no process in an sbx-%d-* cgroup while the pool holds idle sandboxes",
		    (int)getpid());
	sbx_pool_destroy(pool);
	int nc = leftover_cgroups();
	np = leftover_procs(procs, sizeof(procs));
	if (nc)
		bad("%d sbx-%d-* cgroup(s) left after sbx_pool_destroy, e.g. %s %s", nc,
		    (int)getpid(), left_cg[0], nc > 1 ? left_cg[1] : "");
	if (np)
		bad("%d process(es) left in sbx-%d-* cgroups after sbx_pool_destroy:%s", np,
		    (int)getpid(), procs);
	if (failures)
		return 1;
	printf("pool_test: ok\n");
	return 0;
}
