/* api_test BASEDIR: exercise the public C API from several threads.
 *
 *  1. four sbx_run() calls at once from four threads;
 *  2. a long-lived sandbox (state under BASEDIR/state, BASEDIR/run):
 *     create, four concurrent sbx_sandbox_exec() on one handle, file
 *     write/read round trip, info, stop/start, list, destroy(force).
 *
 * With --refused-workspace DIR: only sbx_run and sbx_sandbox_create with a
 * host workspace DIR that cannot be idmapped (refused, SBX_E_PATH).
 * Prints "api_test: ok" and exits 0, or "api_test: FAIL ..." lines and exits 1
 * (part 1 reports every failing thread and goes on; part 2 stops at the
 * first failure).
 * Needs root and a rootfs (SBX_ROOTFS). Built and run by t_lifecycle_c_api.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sbx.h>

#define NTHREADS 4
#define SBNAME "apitest"

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("api_test: FAIL ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static int failures;

/* A failure that does not stop the program (independent checks). */
static void bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("api_test: FAIL ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	failures++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- 1. concurrent one-shot runs ---------------------------------------- */

typedef struct run_job {
	int idx;
	int rc;
	sbx_result res;
	sbx_error err;
} run_job;

static void *run_thread(void *p)
{
	run_job *j = p;
	char idx[16];
	snprintf(idx, sizeof(idx), "%d", j->idx);
	const char *argv[] = {"python3", "-c", "import sys; print('thread', sys.argv[1])", idx,
			      NULL};
	sbx_config cfg;
	sbx_config_init(&cfg);
	cfg.argv = argv;
	cfg.capture = true;
	cfg.timeout_ms = 20000;
	cfg.memory_bytes = 128ull << 20;
	j->rc = sbx_run(&cfg, &j->res, &j->err);
	return NULL;
}

static void concurrent_runs(void)
{
	pthread_t th[NTHREADS];
	run_job jobs[NTHREADS];
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < NTHREADS; i++) {
		jobs[i].idx = i;
		if (pthread_create(&th[i], NULL, run_thread, &jobs[i]) != 0)
			die("sbx_run: pthread_create: %s", strerror(errno));
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++) {
		run_job *j = &jobs[i];
		char want[32];
		snprintf(want, sizeof(want), "thread %d\n", i);
		if (j->rc != 0) {
			bad("sbx_run in thread %d returned %d: %s", i, j->rc, j->err.msg);
			continue;
		}
		if (j->res.exit_code != 0 || j->res.timed_out || j->res.signal)
			bad("sbx_run in thread %d: exit %d signal %d timed_out %d, stderr '%.300s'",
			    i, j->res.exit_code, j->res.signal, j->res.timed_out,
			    j->res.stderr_buf ? j->res.stderr_buf : "");
		if (!j->res.stdout_buf || strcmp(j->res.stdout_buf, want) != 0 ||
		    j->res.stdout_len != strlen(want))
			bad("sbx_run in thread %d: stdout '%.200s' (%zu bytes), want '%s'", i,
			    j->res.stdout_buf ? j->res.stdout_buf : "(null)", j->res.stdout_len,
			    want);
		sbx_result_free(&j->res);
	}
	if (!failures)
		printf("concurrent sbx_run: %d threads ok\n", NTHREADS);
}

/* ---- 2. a long-lived sandbox -------------------------------------------- */

typedef struct exec_job {
	sbx_sandbox *sb;
	int idx;
	int rc;
	double t0, t1;
	sbx_result res;
	sbx_error err;
} exec_job;

static void *exec_thread(void *p)
{
	exec_job *j = p;
	char idx[16];
	snprintf(idx, sizeof(idx), "%d", j->idx);
	const char *argv[] = {"python3", "-c",
			      "import sys, time\n"
			      "time.sleep(0.5)\n"
			      "open('/tmp/t' + sys.argv[1], 'w').write(sys.argv[1])\n"
			      "print('exec', sys.argv[1])\n",
			      idx, NULL};
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = argv;
	o.capture = true;
	o.timeout_ms = 30000;
	j->t0 = now();
	j->rc = sbx_sandbox_exec(j->sb, &o, &j->res, &j->err);
	j->t1 = now();
	return NULL;
}

/* Run argv in sb; die unless it exits 0 with exactly want on stdout. */
static void exec_expect(sbx_sandbox *sb, const char *const *argv, const char *want,
			const char *what)
{
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = argv;
	o.capture = true;
	sbx_result res;
	sbx_error err = {0};
	int rc = sbx_sandbox_exec(sb, &o, &res, &err);
	if (rc != 0)
		die("%s: sbx_sandbox_exec returned %d: %s", what, rc, err.msg);
	if (res.exit_code != 0 || !res.stdout_buf || strcmp(res.stdout_buf, want) != 0)
		die("%s: exit %d, stdout '%.200s', want '%s'; stderr '%.300s'", what, res.exit_code,
		    res.stdout_buf ? res.stdout_buf : "(null)", want,
		    res.stderr_buf ? res.stderr_buf : "");
	sbx_result_free(&res);
}

static void concurrent_execs(sbx_sandbox *sb)
{
	pthread_t th[NTHREADS];
	exec_job jobs[NTHREADS];
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < NTHREADS; i++) {
		jobs[i].sb = sb;
		jobs[i].idx = i;
		if (pthread_create(&th[i], NULL, exec_thread, &jobs[i]) != 0)
			die("exec: pthread_create: %s", strerror(errno));
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	double last_start = 0, first_end = 1e300;
	for (int i = 0; i < NTHREADS; i++) {
		exec_job *j = &jobs[i];
		char want[32];
		snprintf(want, sizeof(want), "exec %d\n", i);
		if (j->rc != 0)
			die("sbx_sandbox_exec in thread %d returned %d: %s", i, j->rc, j->err.msg);
		if (j->res.exit_code != 0 || !j->res.stdout_buf ||
		    strcmp(j->res.stdout_buf, want) != 0)
			die("sbx_sandbox_exec in thread %d: exit %d, stdout '%.200s', want '%s'; "
			    "stderr '%.300s'",
			    i, j->res.exit_code, j->res.stdout_buf ? j->res.stdout_buf : "(null)",
			    want, j->res.stderr_buf ? j->res.stderr_buf : "");
		sbx_result_free(&j->res);
		if (j->t0 > last_start)
			last_start = j->t0;
		if (j->t1 < first_end)
			first_end = j->t1;
	}
	if (!(last_start < first_end))
		die("the %d concurrent execs did not overlap (last start %.3f, first end %.3f)",
		    NTHREADS, last_start, first_end);
	/* All four wrote into the same /tmp. */
	const char *cat[] = {"cat", "/tmp/t0", "/tmp/t1", "/tmp/t2", "/tmp/t3", NULL};
	exec_expect(sb, cat, "0123", "files of the concurrent execs");
	printf("concurrent sbx_sandbox_exec: %d threads ok\n", NTHREADS);
}

static void file_round_trip(sbx_sandbox *sb)
{
	size_t len = 3 * 65536 + 123;
	unsigned char *data = malloc(len);
	if (!data)
		die("out of memory");
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)((i * 131 + i / 256) & 0xff);
	data[0] = 0;
	data[1] = 0xff;
	data[len - 1] = 0;
	sbx_error err = {0};
	int rc = sbx_sandbox_write_file(sb, "data.bin", data, len, 0, &err);
	if (rc != 0)
		die("sbx_sandbox_write_file data.bin returned %d: %s", rc, err.msg);
	char *back = NULL;
	size_t blen = 0;
	rc = sbx_sandbox_read_file(sb, "/workspace/data.bin", 0, &back, &blen, &err);
	if (rc != 0)
		die("sbx_sandbox_read_file /workspace/data.bin returned %d: %s", rc, err.msg);
	if (blen != len || memcmp(back, data, len) != 0)
		die("file round trip: read %zu bytes, wrote %zu, contents %s", blen, len,
		    blen == len ? "differ" : "-");
	free(back);
	/* over the limit */
	rc = sbx_sandbox_read_file(sb, "data.bin", 1000, &back, &blen, &err);
	if (rc >= 0 || back)
		die("sbx_sandbox_read_file with max 1000 of a %zu-byte file returned %d", len, rc);
	/* a read-only place */
	rc = sbx_sandbox_write_file(sb, "/etc/api_test", "x", 1, 0, &err);
	if (rc >= 0)
		die("sbx_sandbox_write_file /etc/api_test succeeded");
	/* an escape attempt */
	rc = sbx_sandbox_read_file(sb, "../../../../proc/1/root/etc/hostname", 0, &back, &blen,
				   &err);
	if (rc == 0) {
		if (blen != 4 || memcmp(back, "sbx\n", 4) != 0)
			die("read ../../../../proc/1/root/etc/hostname gave '%.*s'", (int)blen,
			    back);
		free(back);
	}
	free(data);
	const char *wc[] = {"sh", "-c", "wc -c < /workspace/data.bin", NULL};
	char want[32];
	snprintf(want, sizeof(want), "%zu\n", len);
	exec_expect(sb, wc, want, "size of data.bin inside");
	printf("write/read round trip: %zu bytes ok\n", len);
}

static void check_info(sbx_sandbox *sb, sbx_sandbox_state want)
{
	sbx_sandbox_info info;
	sbx_error err = {0};
	int rc = sbx_sandbox_info_get(sb, &info, &err);
	if (rc != 0)
		die("sbx_sandbox_info_get returned %d: %s", rc, err.msg);
	if (strcmp(info.name, SBNAME) != 0)
		die("info.name '%s'", info.name);
	if (info.state != want)
		die("info.state %d, want %d", info.state, want);
	if (info.memory_limit != 256ull << 20 || info.pids_max != 64 || info.cpu_millis != 500)
		die("info limits: memory %llu pids %u cpu_millis %u (want 268435456, 64, 500)",
		    (unsigned long long)info.memory_limit, info.pids_max, info.cpu_millis);
	if (!info.own_workspace || strcmp(info.workspace_mode, "rw") != 0 || !info.workspace[0])
		die("info workspace '%s' own %d mode '%s'", info.workspace, info.own_workspace,
		    info.workspace_mode);
	if (info.created <= 0)
		die("info.created %lld", (long long)info.created);
	if (want == SBX_RUNNING && (info.pid <= 0 || info.started <= 0 || kill(info.pid, 0) != 0))
		die("running, but info.pid %d started %lld", (int)info.pid,
		    (long long)info.started);
	if (want == SBX_STOPPED && info.pid != 0)
		die("stopped, but info.pid %d", (int)info.pid);
}

static bool listed(void)
{
	char **names;
	size_t n;
	sbx_error err = {0};
	if (sbx_sandbox_list(&names, &n, &err) != 0)
		die("sbx_sandbox_list: %s", err.msg);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found = found || strcmp(names[i], SBNAME) == 0;
	sbx_sandbox_list_free(names, n);
	return found;
}

static void lifecycle(const char *base)
{
	char state[4096], run[4096], path[8300];
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(run, sizeof(run), "%s/run", base);
	setenv("SBX_STATE_DIR", state, 1);
	setenv("SBX_RUN_DIR", run, 1);

	sbx_config cfg;
	sbx_config_init(&cfg);
	cfg.memory_bytes = 256ull << 20;
	cfg.pids_max = 64;
	cfg.cpu_millis = 500;
	sbx_sandbox *sb = NULL;
	sbx_error err = {0};
	int rc = sbx_sandbox_create("bad name", &cfg, 0, &sb, &err);
	if (rc != -SBX_E_INVALID || sb)
		die("sbx_sandbox_create('bad name') returned %d (want %d)", rc, -SBX_E_INVALID);
	rc = sbx_sandbox_open("nosuch", &sb, &err);
	if (rc != -SBX_E_NOTFOUND || sb)
		die("sbx_sandbox_open(nosuch) returned %d (want %d)", rc, -SBX_E_NOTFOUND);

	rc = sbx_sandbox_create(SBNAME, &cfg, 0, &sb, &err);
	if (rc != 0 || !sb)
		die("sbx_sandbox_create returned %d: %s", rc, err.msg);
	sbx_sandbox *dup = NULL;
	rc = sbx_sandbox_create(SBNAME, &cfg, 0, &dup, &err);
	if (rc != -SBX_E_EXISTS || dup)
		die("second sbx_sandbox_create returned %d (want %d): %s", rc, -SBX_E_EXISTS,
		    err.msg);
	if (!sbx_sandbox_is_running(sb))
		die("not running after create");
	check_info(sb, SBX_RUNNING);
	if (!listed())
		die("sbx_sandbox_list does not list %s", SBNAME);

	concurrent_execs(sb);
	file_round_trip(sb);

	/* a second handle on the same sandbox */
	sbx_sandbox *sb2 = NULL;
	rc = sbx_sandbox_open(SBNAME, &sb2, &err);
	if (rc != 0)
		die("sbx_sandbox_open returned %d: %s", rc, err.msg);
	const char *echo[] = {"echo", "second handle", NULL};
	exec_expect(sb2, echo, "second handle\n", "exec via a second handle");

	rc = sbx_sandbox_stop(sb, &err);
	if (rc != 0)
		die("sbx_sandbox_stop returned %d: %s", rc, err.msg);
	if (sbx_sandbox_is_running(sb) || sbx_sandbox_is_running(sb2))
		die("still running after stop");
	check_info(sb2, SBX_STOPPED);
	sbx_exec_opts o;
	sbx_exec_opts_init(&o);
	o.argv = echo;
	sbx_result res;
	rc = sbx_sandbox_exec(sb, &o, &res, &err);
	if (rc != -SBX_E_STATE)
		die("exec on a stopped sandbox returned %d (want %d): %s", rc, -SBX_E_STATE,
		    err.msg);

	rc = sbx_sandbox_start(sb, &err);
	if (rc != 0)
		die("sbx_sandbox_start returned %d: %s", rc, err.msg);
	if (!sbx_sandbox_is_running(sb))
		die("not running after start");
	check_info(sb, SBX_RUNNING);
	char *back = NULL;
	size_t blen = 0;
	rc = sbx_sandbox_read_file(sb, "data.bin", 0, &back, &blen, &err);
	if (rc != 0 || blen != 3 * 65536 + 123)
		die("workspace file after stop/start: rc %d, %zu bytes: %s", rc, blen, err.msg);
	free(back);
	const char *tmpcheck[] = {"sh", "-c", "ls -A /tmp | wc -l", NULL};
	exec_expect(sb, tmpcheck, "0\n", "/tmp after stop/start");

	rc = sbx_sandbox_destroy(sb2, false, &err);
	if (rc != -SBX_E_STATE)
		die("destroy(force=false) of a running sandbox returned %d (want %d)", rc,
		    -SBX_E_STATE);
	rc = sbx_sandbox_destroy(sb, true, &err);
	if (rc != 0)
		die("sbx_sandbox_destroy(force) returned %d: %s", rc, err.msg);
	if (sbx_sandbox_is_running(sb))
		die("running after destroy");
	if (listed())
		die("still listed after destroy");
	snprintf(path, sizeof(path), "%s/sandboxes/%s", state, SBNAME);
	struct stat st;
	if (stat(path, &st) == 0)
		die("%s still exists after destroy", path);
	snprintf(path, sizeof(path), "%s/%s", run, SBNAME);
	if (stat(path, &st) == 0)
		die("%s still exists after destroy", path);
	sbx_sandbox_close(sb2);
	sbx_sandbox_close(sb);
	sb = NULL;
	rc = sbx_sandbox_open(SBNAME, &sb, &err);
	if (rc != -SBX_E_NOTFOUND)
		die("open after destroy returned %d (want %d)", rc, -SBX_E_NOTFOUND);
	printf("lifecycle: ok\n");
}

/* ---- 3. a host workspace that cannot be idmapped (issue 15) ------------ */

/* sbx_run and sbx_sandbox_create refuse DIR (:rw and :ro) with
 * -SBX_E_PATH and the documented message; nothing is stored. */
static void refused_workspace(const char *base, const char *dir)
{
	char st[4096], rn[4096];
	snprintf(st, sizeof(st), "%s/state", base);
	snprintf(rn, sizeof(rn), "%s/run", base);
	setenv("SBX_STATE_DIR", st, 1);
	setenv("SBX_RUN_DIR", rn, 1);
	const char *argv[] = {"true", NULL};
	for (int ro = 0; ro < 2; ro++) {
		sbx_config cfg;
		sbx_config_init(&cfg);
		cfg.argv = argv;
		cfg.workspace = dir;
		cfg.workspace_mode = ro ? SBX_WS_RO : SBX_WS_RW;
		sbx_result res;
		sbx_error err;
		memset(&res, 0, sizeof(res));
		memset(&err, 0, sizeof(err));
		int rc = sbx_run(&cfg, &res, &err);
		if (rc == 0)
			sbx_result_free(&res);
		if (rc != -SBX_E_PATH || !strstr(err.msg, "cannot be idmapped"))
			die("sbx_run :%s returned %d '%s' (want %d, cannot be idmapped)",
			    ro ? "ro" : "rw", rc, err.msg, -SBX_E_PATH);
		sbx_sandbox *sb = NULL;
		rc = sbx_sandbox_create("wsrefused", &cfg, 0, &sb, &err);
		if (rc != -SBX_E_PATH || !strstr(err.msg, "cannot be idmapped") || sb)
			die("sbx_sandbox_create :%s returned %d '%s' (want %d, cannot be idmapped)",
			    ro ? "ro" : "rw", rc, err.msg, -SBX_E_PATH);
		rc = sbx_sandbox_open("wsrefused", &sb, &err);
		if (rc != -SBX_E_NOTFOUND)
			die("open after a refused create returned %d (want %d)", rc,
			    -SBX_E_NOTFOUND);
	}
	printf("refused workspace: ok\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[2], "--refused-workspace")) {
		if (mkdir(argv[1], 0700) < 0 && errno != EEXIST)
			die("mkdir %s: %s", argv[1], strerror(errno));
		refused_workspace(argv[1], argv[3]);
		printf("api_test: ok\n");
		return 0;
	}
	if (argc != 2)
		die("usage: api_test BASEDIR [--refused-workspace DIR]");
	if (mkdir(argv[1], 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", argv[1], strerror(errno));
	concurrent_runs();
	lifecycle(argv[1]);
	if (failures)
		return 1;
	printf("api_test: ok\n");
	return 0;
}
