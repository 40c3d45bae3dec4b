/* benchpool — warm-pool measurements for tools/bench (not part of the library).
 *
 *   benchpool helper [--inproc SIZE [--true]] [--inproc-fresh SIZE [--true]]
 *                    [--socket PATH --size N [--true | --settle-only]]... [--pidfile PATH]
 *       Co-process of `benchrun -H K`: measures the warm-pool rows in
 *       benchrun's round-robin.  Rows, in the order of the arguments: an
 *       in-process pool (--inproc: sbx_pool_create with the default
 *       configuration, i.e. pre-forked where the library can;
 *       --inproc-fresh: the same with sbx_pool_config.fork false; python
 *       mode, SIZE sandboxes; one run = sbx_pool_acquire +
 *       sbx_sandbox_python("print(1)")), a daemon (--socket: one run =
 *       connect + send {"v":1,"op":"python",...} + read the response line);
 *       --true after one of them adds a row of /bin/true on that pool (in
 *       process: acquire + sbx_sandbox_exec; daemon: a "run" request, as
 *       `sbx run --pool` sends); --settle-only right after a --socket: that
 *       daemon has no row and is only settled, e.g. for a CLI row using it.
 *       --size applies to the --socket before it (or, given
 *       first, to the ones after it).  Protocol, one line each way:
 *         -> "settle"   <- "ok" once every pool is full and quiet: idle ==
 *                          size, nothing in use, every released sandbox
 *                          destroyed (so no refill overlaps any timed run)
 *         -> "run K"    <- "USEC STATUS" (STATUS 0: exit 0 and stdout "1\n")
 *       "ready" (or "error MSG") is printed once set up; EOF on stdin ends it.
 *   benchpool probe [--inproc SIZE] [--inproc-fresh SIZE] [--socket PATH --size N]...
 *       One run of each row; exit 1 with the reason on stderr if one fails.
 *       Prints one line per in-process pool: "inproc fork|fresh" (the mode
 *       its stats report).
 *   benchpool wait --socket PATH --size N [--timeout-ms MS]
 *       Wait until the daemon's pool is full and quiet (as settle); fail
 *       after MS (default 120000), or after 10 s without an answer.
 *   benchpool throughput --socket PATH --seconds S --clients C
 *       C threads send python print(1) requests (a new connection each,
 *       as the CLI does) until S seconds have passed; in-flight requests
 *       finish.  Prints "ok N errors E usec U idle_before I idle_after J".
 *   benchpool rate --seconds S --jobs J -- CMD [ARG...]
 *       J parallel loops of fork+exec+wait of CMD (stdio on /dev/null)
 *       until S seconds have passed; running ones finish.  Prints
 *       "ok N errors E usec U".
 *   benchpool load --seconds S --clients C [--lat FILE] [--pidlog FILE]
 *                  (--socket PATH [--source SRC] [--expect OUT] | -- CMD [ARG...])
 *       C clients, each in a loop until S seconds have passed (in-flight
 *       requests finish): a python request for SRC (default print(1);
 *       success: exit 0 and stdout OUT, default "1\n") on a new connection
 *       to the daemon each, or fork+exec+wait of CMD.  Appends each
 *       successful request's latency (µs) to FILE, one a line, and each
 *       CMD's pid to the pidlog.  Prints "ok N errors E usec U idle_before I
 *       idle_after J" (the idle counts only with --socket); with --socket
 *       also " samples N idle_zero Z creating_sum C creating_max M": the
 *       daemon's stats sampled every 50 ms meanwhile (Z of N samples found
 *       no idle sandbox; creating summed over the samples, and its largest).
 *   benchpool idle --count K [--lat FILE] [--pidlog FILE]
 *                  (--socket PATH --size N [--source SRC] [--expect OUT] | -- CMD...)
 *       K requests one after another, each once the daemon's pool is full
 *       and quiet (as wait).  Prints "ok N errors E".
 *   benchpool stats --socket PATH
 *       Prints the daemon's stats response line as it is.
 *
 * Times: CLOCK_MONOTONIC, microseconds.  Built by tools/bench:
 *   cc -O2 -Iinclude tools/benchpool.c build/libsbx.a -lseccomp -lcap -lcgroup -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sbx.h"

#define SETTLE_TIMEOUT_MS 120000
#define STATS_REQUEST "{\"v\":1,\"op\":\"stats\"}\n"

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "benchpool: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* ------------------------------------------------------------ in-process */

#define MAX_INPROC 2
#define MAX_DAEMON 8
#define MAX_ROWS (2 * (MAX_INPROC + MAX_DAEMON))

/* The helper's rows in the order of the arguments that made them. */
typedef struct row_ref {
	int (*fn)(int, long long *);
	int arg;
} row_ref;
static row_ref rows_of[MAX_ROWS];
static int n_rows;

typedef struct inproc_pool {
	sbx_pool *pool;
	unsigned size;
	bool fork; /* asked for */
	const char *name;
} inproc_pool;
static inproc_pool inproc[MAX_INPROC];
static int n_inproc;
static bool first_error_shown;

static void show_error(const char *what, const char *msg)
{
	if (first_error_shown)
		return;
	first_error_shown = true;
	fprintf(stderr, "benchpool: %s: %.300s\n", what, msg);
}

static int inproc_create(inproc_pool *ip, sbx_error *err)
{
	sbx_pool_config pc;
	sbx_pool_config_init(&pc);
	pc.size = ip->size;
	pc.python = true;
	if (!ip->fork)
		pc.fork = false; /* else the library's default (pre-forked) */
	return sbx_pool_create(&pc, &ip->pool, err);
}

/* Full and quiet: size idle, nothing in use or waiting to be destroyed. */
static bool inproc_settled(const inproc_pool *ip)
{
	sbx_pool_stats st;
	sbx_pool_get_stats(ip->pool, &st);
	return st.idle == ip->size && st.in_use == 0 && st.created - st.destroyed == ip->size;
}

/* One warm run: acquire + python print(1) (or, true_cmd, an exec of
 * /bin/true); the release is not timed. */
static int inproc_request(int i, bool true_cmd, long long *usec)
{
	inproc_pool *ip = &inproc[i];
	sbx_sandbox *sb = NULL;
	sbx_error err = {0};
	sbx_result res;
	static const char *const argv_true[] = {"/bin/true", NULL};
	sbx_exec_opts eo;
	sbx_exec_opts_init(&eo);
	eo.argv = argv_true;
	sbx_python_opts po;
	sbx_python_opts_init(&po);
	po.source = "print(1)";
	po.source_len = strlen(po.source);
	po.exec.capture = true;
	long long t0 = now_ns();
	int r = sbx_pool_acquire(ip->pool, SBX_POOL_DEFAULT, &sb, &err);
	if (r == 0)
		r = true_cmd ? sbx_sandbox_exec(sb, &eo, &res, &err)
			     : sbx_sandbox_python(sb, &po, &res, &err);
	*usec = (now_ns() - t0 + 500) / 1000;
	if (sb)
		sbx_pool_release(ip->pool, sb);
	if (r < 0) {
		show_error(ip->name, err.msg);
		return 3;
	}
	int st = res.exit_code != 0				      ? 1
		 : true_cmd					      ? 0
		 : (!res.stdout_buf || strcmp(res.stdout_buf, "1\n")) ? 2
								      : 0;
	if (st)
		show_error(ip->name, res.stdout_buf && *res.stdout_buf ? res.stdout_buf
								       : "unexpected result");
	sbx_result_free(&res);
	return st;
}

static int inproc_run(int i, long long *usec)
{
	return inproc_request(i, false, usec);
}

static int inproc_true_run(int i, long long *usec)
{
	return inproc_request(i, true, usec);
}

/* ------------------------------------------------------------ daemon */

typedef struct daemon_ref {
	const char *path;
	unsigned size;
	bool row; /* a row, or only settled (--settle-only) */
} daemon_ref;
static daemon_ref daemons[MAX_DAEMON];
static int n_daemon;

/* The python request and the stdout that makes it a success. */
static char *py_request, *py_expect;

#define IO_TIMEOUT_S 120 /* no request of the bench takes this long */

/* connect + send + read one line; returns the line (malloc'd) or NULL. */
static char *daemon_call(const char *path, const char *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return NULL;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {IO_TIMEOUT_S, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return NULL;
	}
	size_t len = strlen(req);
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return NULL;
		}
		off += (size_t)w;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			char *g = realloc(buf, cap * 2);
			if (!g) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = g;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		n += (size_t)r;
		buf[n] = '\0';
		char *nl = memchr(buf, '\n', n);
		if (nl) {
			*nl = '\0';
			break;
		}
	}
	close(fd);
	return buf;
}

/* s as a JSON string (with quotes), malloc'd. */
static char *json_quote(const char *s)
{
	size_t n = strlen(s);
	char *o = malloc(n * 6 + 3), *q = o;
	if (!o)
		die("%s", "out of memory");
	*q++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*q++ = '\\';
			*q++ = (char)*p;
		} else if (*p == '\n') {
			*q++ = '\\';
			*q++ = 'n';
		} else if (*p < 0x20) {
			q += sprintf(q, "\\u%04x", *p);
		} else {
			*q++ = (char)*p;
		}
	}
	*q++ = '"';
	*q = '\0';
	return o;
}

static void set_source(const char *src, const char *expect)
{
	char *qs = json_quote(src), *qe = json_quote(expect);
	free(py_request);
	free(py_expect);
	if (asprintf(&py_request, "{\"v\":1,\"op\":\"python\",\"source\":%s}\n", qs) < 0 ||
	    asprintf(&py_expect, "\"stdout\":%s,", qe) < 0)
		die("%s", "out of memory");
	free(qs);
	free(qe);
}

/* Status of a python response: 0 ok, else why not. */
static int check_response(const char *line)
{
	if (!line)
		return 4;
	if (!strstr(line, "\"ok\":true"))
		return 3;
	if (!strstr(line, "\"exit_code\":0,"))
		return 1;
	if (!strstr(line, py_expect))
		return 2;
	return 0;
}

#define TRUE_REQUEST "{\"v\":1,\"op\":\"run\",\"argv\":[\"/bin/true\"]}\n"

static int daemon_request(int i, const char *req, bool python, long long *usec)
{
	long long t0 = now_ns();
	char *line = daemon_call(daemons[i].path, req);
	*usec = (now_ns() - t0 + 500) / 1000;
	int st = python				     ? check_response(line)
		 : !line			     ? 4
		 : !strstr(line, "\"ok\":true")	     ? 3
		 : !strstr(line, "\"exit_code\":0,") ? 1
						     : 0;
	if (st)
		show_error("daemon", line ? line : "no response (connection failed or closed)");
	free(line);
	return st;
}

static int daemon_run(int i, long long *usec)
{
	return daemon_request(i, py_request, true, usec);
}

/* A run request of /bin/true (what `sbx run --pool` sends). */
static int daemon_true_run(int i, long long *usec)
{
	return daemon_request(i, TRUE_REQUEST, false, usec);
}

static bool get_num(const char *line, const char *key, unsigned long long *v)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = line ? strstr(line, pat) : NULL;
	if (!p)
		return false;
	*v = strtoull(p + strlen(pat), NULL, 10);
	return true;
}

/* -1: cannot ask; 0: not yet; 1: full and quiet. *idle gets the idle count. */
static int daemon_settled(const char *path, unsigned size, unsigned long long *idle)
{
	char *line = daemon_call(path, STATS_REQUEST);
	unsigned long long in_use = 0, created = 0, destroyed = 0, id = 0, creating = 0;
	bool ok = line && get_num(line, "idle", &id) && get_num(line, "in_use", &in_use) &&
		  get_num(line, "created", &created) && get_num(line, "destroyed", &destroyed);
	get_num(line, "creating", &creating); /* newer daemons only */
	free(line);
	if (!ok)
		return -1;
	if (idle)
		*idle = id;
	return id == size && in_use == 0 && created - destroyed == size && creating == 0;
}

/* ------------------------------------------------------------ settle */

static const char *settle_error = "";

static int settle(void)
{
	long long end = now_ns() + SETTLE_TIMEOUT_MS * 1000000LL;
	bool done[MAX_INPROC + MAX_DAEMON] = {false};
	int n = n_inproc + n_daemon;
	settle_error = "";
	for (;;) {
		bool all = true;
		for (int i = 0; i < n; i++) {
			if (done[i])
				continue;
			if (i < n_inproc) {
				done[i] = inproc_settled(&inproc[i]);
			} else {
				daemon_ref *d = &daemons[i - n_inproc];
				int s = daemon_settled(d->path, d->size, NULL);
				if (s < 0) {
					settle_error = "a daemon does not answer (did it exit?)";
					return -1;
				}
				done[i] = s == 1;
			}
			all = all && done[i];
		}
		if (all)
			return 0;
		if (now_ns() > end) {
			settle_error = "the pools did not refill in time";
			return -1;
		}
		sleep_us(1000);
	}
}

/* ------------------------------------------------------------ helper */

static int cmd_helper(void)
{
	/* Ctrl-C reaches the whole process group: benchrun dies of it, and
	 * we see EOF and destroy the pool properly (no leftover cgroups). */
	signal(SIGINT, SIG_IGN);
	int rows = n_rows;
	row_ref *row = rows_of;
	if (settle() < 0) {
		printf("error %s\n", settle_error);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	char line[128];
	while (fgets(line, sizeof(line), stdin)) {
		int k;
		if (!strcmp(line, "settle\n")) {
			if (settle() < 0) {
				printf("error %s\n", settle_error);
				return 1;
			}
			printf("ok\n");
		} else if (sscanf(line, "run %d", &k) == 1 && k >= 0 && k < rows) {
			long long us = 0;
			int st = row[k].fn(row[k].arg, &us);
			printf("%lld %d\n", us, st);
		} else {
			printf("error bad request\n");
			return 1;
		}
	}
	return 0;
}

static int cmd_probe(void)
{
	if (settle() < 0) {
		fprintf(stderr, "benchpool: %s\n", settle_error);
		return 1;
	}
	long long us;
	for (int i = 0; i < n_inproc; i++) {
		if (inproc_run(i, &us) != 0)
			return 1;
		sbx_pool_stats st;
		sbx_pool_get_stats(inproc[i].pool, &st);
		printf("inproc %s\n", st.fork ? "fork" : "fresh");
	}
	for (int i = 0; i < n_rows; i++)
		if (rows_of[i].fn(rows_of[i].arg, &us) != 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ load */

static char **cmd_argv; /* -- CMD...: the request is a process, else a daemon call */
static int devnull = -1;
static FILE *lat_file; /* --lat: latencies of successful requests, µs */
static FILE *pid_file; /* --pidlog: pids of the CMD processes */
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

/* One request (daemons[0] or CMD): 0 ok; *usec its wall time. */
static int one_request(long long *usec)
{
	long long t0 = now_ns();
	if (!cmd_argv) {
		char *line = daemon_call(daemons[0].path, py_request);
		*usec = (now_ns() - t0 + 500) / 1000;
		int st = check_response(line);
		if (st) {
			pthread_mutex_lock(&out_mu);
			show_error("request", line ? line : "no response");
			pthread_mutex_unlock(&out_mu);
		}
		free(line);
		return st;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 5;
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(cmd_argv[0], cmd_argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 5;
	*usec = (now_ns() - t0 + 500) / 1000;
	if (pid_file) {
		pthread_mutex_lock(&out_mu);
		fprintf(pid_file, "%d\n", (int)pid);
		pthread_mutex_unlock(&out_mu);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	pthread_mutex_lock(&out_mu);
	char msg[64];
	snprintf(msg, sizeof(msg), "exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	show_error(cmd_argv[0], msg);
	pthread_mutex_unlock(&out_mu);
	return 1;
}

static void record(long long usec)
{
	if (!lat_file)
		return;
	pthread_mutex_lock(&out_mu);
	fprintf(lat_file, "%lld\n", usec);
	pthread_mutex_unlock(&out_mu);
}

typedef struct tp_state {
	long long deadline;
	pthread_mutex_t mu;
	unsigned long long ok, errors;
} tp_state;

static void *tp_client(void *arg)
{
	tp_state *s = arg;
	unsigned long long ok = 0, errors = 0;
	while (now_ns() < s->deadline) {
		long long us = 0;
		if (one_request(&us) == 0) {
			ok++;
			record(us);
		} else {
			errors++;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->ok += ok;
	s->errors += errors;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The daemon's pool while clients load it: sampled every SAMPLE_MS. */
#define SAMPLE_MS 50
typedef struct sampler {
	long long deadline;
	unsigned long long n, idle0, creating_sum, creating_max;
} sampler;

static void *sample_stats(void *arg)
{
	sampler *sm = arg;
	while (now_ns() < sm->deadline) {
		char *line = daemon_call(daemons[0].path, STATS_REQUEST);
		unsigned long long idle = 0, creating = 0;
		if (line && get_num(line, "idle", &idle)) {
			sm->n++;
			sm->idle0 += idle == 0;
			if (get_num(line, "creating", &creating)) {
				sm->creating_sum += creating;
				if (creating > sm->creating_max)
					sm->creating_max = creating;
			}
		}
		free(line);
		sleep_us(SAMPLE_MS * 1000);
	}
	return NULL;
}

/* C clients for S seconds (throughput and load). */
static int cmd_load(double seconds, int clients, bool sample)
{
	unsigned long long idle0 = 0, idle1 = 0;
	if (!cmd_argv && daemon_settled(daemons[0].path, 0, &idle0) < 0)
		die("cannot reach the daemon at %s", daemons[0].path);
	tp_state s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	long long t0 = now_ns();
	s.deadline = t0 + (long long)(seconds * 1e9);
	pthread_t th[64], smt;
	sampler sm = {.deadline = s.deadline};
	sample = sample && !cmd_argv;
	for (int i = 0; i < clients; i++)
		if (pthread_create(&th[i], NULL, tp_client, &s) != 0)
			die("%s", "pthread_create failed");
	if (sample && pthread_create(&smt, NULL, sample_stats, &sm) != 0)
		die("%s", "pthread_create failed");
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	long long us = (now_ns() - t0) / 1000;
	/* Idle sandboxes right at the end: the pre-warmed stock not refilled. */
	if (!cmd_argv)
		daemon_settled(daemons[0].path, 0, &idle1);
	if (sample)
		pthread_join(smt, NULL);
	printf("ok %llu errors %llu usec %lld idle_before %llu idle_after %llu", s.ok, s.errors, us,
	       idle0, idle1);
	if (sample)
		printf(" samples %llu idle_zero %llu creating_sum %llu creating_max %llu", sm.n,
		       sm.idle0, sm.creating_sum, sm.creating_max);
	printf("\n");
	return 0;
}

/* K requests one after another, each on a full and quiet pool. */
static int cmd_idle(long count)
{
	unsigned long long ok = 0, errors = 0;
	for (long i = 0; i < count; i++) {
		if (!cmd_argv && settle() < 0)
			die("%s", settle_error);
		long long us = 0;
		if (one_request(&us) == 0) {
			ok++;
			record(us);
		} else {
			errors++;
		}
	}
	printf("ok %llu errors %llu\n", ok, errors);
	return 0;
}

/* ------------------------------------------------------------ rate */

static int cmd_rate(double seconds, int jobs, char **argv)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		die("%s", "cannot open /dev/null");
	long long t0 = now_ns(), deadline = t0 + (long long)(seconds * 1e9);
	unsigned long long ok = 0, errors = 0;
	int running = 0;
	for (;;) {
		while (running < jobs && now_ns() < deadline) {
			pid_t pid = fork();
			if (pid < 0)
				die("%s", "fork failed");
			if (pid == 0) {
				dup2(devnull, 0);
				dup2(devnull, 1);
				dup2(devnull, 2);
				execvp(argv[0], argv);
				_exit(127);
			}
			running++;
		}
		if (!running)
			break;
		int st;
		pid_t w = wait(&st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else
			errors++;
	}
	printf("ok %llu errors %llu usec %lld\n", ok, errors, (now_ns() - t0) / 1000);
	return 0;
}

/* ------------------------------------------------------------ main */

static void usage(void)
{
	fputs("usage: benchpool helper|probe [--inproc SIZE] [--inproc-fresh SIZE]\n"
	      "                              [--socket PATH --size N [--settle-only]]...\n"
	      "                              [--pidfile PATH]\n"
	      "       benchpool wait --socket PATH --size N [--timeout-ms MS]\n"
	      "       benchpool throughput --socket PATH --seconds S --clients C\n"
	      "       benchpool rate --seconds S --jobs J -- CMD [ARG...]\n"
	      "       benchpool load --seconds S --clients C [--lat FILE] [--pidlog FILE]\n"
	      "                      (--socket PATH [--source SRC] [--expect OUT] | -- CMD...)\n"
	      "       benchpool idle --count K [--lat FILE] [--pidlog FILE]\n"
	      "                      (--socket PATH --size N [--source SRC] [--expect OUT] | -- "
	      "CMD...)\n"
	      "       benchpool stats --socket PATH\n",
	      stderr);
	exit(2);
}

static long num_arg(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < 0 || v > 100000000)
		die("bad %s", what);
	return v;
}

static FILE *open_append(const char *path)
{
	FILE *f = fopen(path, "ae");
	if (!f)
		die("cannot open %s", path);
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	long size = 0, clients = 2, jobs = 2, timeout_ms = SETTLE_TIMEOUT_MS, count = 0;
	double seconds = 0;
	char **rest = NULL;
	row_ref last_true = {NULL, 0};
	const char *pidfile = NULL, *source = "print(1)", *expect = "1\n";
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(a, "--")) {
			rest = &argv[i + 1];
			break;
		} else if ((!strcmp(a, "--inproc") || !strcmp(a, "--inproc-fresh")) && more) {
			if (n_inproc == MAX_INPROC)
				die("%s", "too many in-process pools");
			inproc_pool *ip = &inproc[n_inproc++];
			ip->size = (unsigned)num_arg(argv[++i], a);
			ip->fork = !strcmp(a, "--inproc");
			ip->name = ip->fork ? "in-process pool" : "in-process pool (fresh)";
			if (!ip->size)
				die("bad %s", a);
			rows_of[n_rows++] = (row_ref){inproc_run, n_inproc - 1};
			last_true = (row_ref){inproc_true_run, n_inproc - 1};
		} else if (!strcmp(a, "--socket") && more) {
			if (n_daemon == MAX_DAEMON)
				die("%s", "too many --socket");
			daemons[n_daemon++] = (daemon_ref){argv[++i], (unsigned)size, true};
			rows_of[n_rows++] = (row_ref){daemon_run, n_daemon - 1};
			last_true = (row_ref){daemon_true_run, n_daemon - 1};
		} else if (!strcmp(a, "--true")) {
			if (!last_true.fn)
				die("%s", "--true needs an --inproc or --socket before it");
			rows_of[n_rows++] = last_true;
		} else if (!strcmp(a, "--settle-only")) {
			/* the daemon before it has no python row (nor a --true one) */
			if (n_daemon && daemons[n_daemon - 1].row) {
				daemons[n_daemon - 1].row = false;
				n_rows--;
				last_true = (row_ref){NULL, 0};
			}
		} else if (!strcmp(a, "--pidfile") && more) {
			pidfile = argv[++i];
		} else if (!strcmp(a, "--size") && more) {
			size = num_arg(argv[++i], "--size");
			if (n_daemon && !daemons[n_daemon - 1].size)
				daemons[n_daemon - 1].size = (unsigned)size;
		} else if (!strcmp(a, "--clients") && more) {
			clients = num_arg(argv[++i], "--clients");
		} else if (!strcmp(a, "--jobs") && more) {
			jobs = num_arg(argv[++i], "--jobs");
		} else if (!strcmp(a, "--count") && more) {
			count = num_arg(argv[++i], "--count");
		} else if (!strcmp(a, "--timeout-ms") && more) {
			timeout_ms = num_arg(argv[++i], "--timeout-ms");
		} else if (!strcmp(a, "--source") && more) {
			source = argv[++i];
		} else if (!strcmp(a, "--expect") && more) {
			expect = argv[++i];
		} else if (!strcmp(a, "--lat") && more) {
			lat_file = open_append(argv[++i]);
		} else if (!strcmp(a, "--pidlog") && more) {
			pid_file = open_append(argv[++i]);
		} else if (!strcmp(a, "--seconds") && more) {
			char *end;
			seconds = strtod(argv[++i], &end);
			if (*end || !(seconds > 0))
				die("bad --seconds %s", argv[i]);
		} else {
			die("unknown argument %s", a);
		}
	}
	const char *sock_path = n_daemon ? daemons[0].path : NULL;
	set_source(source, expect);
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(cmd, "helper") || !strcmp(cmd, "probe")) {
		bool helper = !strcmp(cmd, "helper");
		if (!n_inproc && !n_daemon)
			usage();
		for (int i = 0; i < n_daemon; i++) {
			if (!daemons[i].size)
				die("%s", "--socket needs --size");
		}
		if (pidfile) {
			FILE *f = fopen(pidfile, "we");
			if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
				die("cannot write %s", pidfile);
		}
		int rc = 0;
		for (int i = 0; i < n_inproc; i++) {
			sbx_error err = {0};
			if (inproc_create(&inproc[i], &err) < 0) {
				if (helper)
					printf("error %s\n", err.msg);
				fprintf(stderr, "benchpool: sbx_pool_create: %s\n", err.msg);
				rc = 1;
				break;
			}
		}
		if (rc == 0)
			rc = helper ? cmd_helper() : cmd_probe();
		for (int i = 0; i < n_inproc; i++)
			if (inproc[i].pool)
				sbx_pool_destroy(inproc[i].pool);
		return rc;
	}
	if (!strcmp(cmd, "wait")) {
		if (!sock_path || !size)
			usage();
		/* A daemon not answering for 10 s (not started, or gone) fails
		 * early; one that answers gets the whole timeout to fill. */
		long long t0 = now_ns(), end = t0 + timeout_ms * 1000000LL, answered = t0;
		for (;;) {
			unsigned long long idle = 0;
			int s = daemon_settled(sock_path, (unsigned)size, &idle);
			if (s == 1)
				return 0;
			if (s >= 0)
				answered = now_ns();
			else if (now_ns() - answered > 10000000000LL) {
				fprintf(stderr, "benchpool: no daemon answers on %s\n", sock_path);
				return 1;
			}
			if (now_ns() > end) {
				fprintf(
				    stderr,
				    "benchpool: the pool at %s did not fill (%llu idle of %ld)\n",
				    sock_path, idle, size);
				return 1;
			}
			sleep_us(s < 0 ? 20000 : 2000); /* not up yet, or refilling */
		}
	}
	if (!strcmp(cmd, "stats")) {
		if (!sock_path)
			usage();
		char *line = daemon_call(sock_path, STATS_REQUEST);
		if (!line) {
			fprintf(stderr, "benchpool: no daemon answers on %s\n", sock_path);
			return 1;
		}
		printf("%s\n", line);
		free(line);
		return 0;
	}
	if (!strcmp(cmd, "throughput") || !strcmp(cmd, "load") || !strcmp(cmd, "idle")) {
		bool idle = !strcmp(cmd, "idle");
		if (rest && rest[0])
			cmd_argv = rest;
		if (!cmd_argv && !sock_path)
			usage();
		if (cmd_argv && !strcmp(cmd, "throughput"))
			usage();
		if (idle ? (count < 1 || (!cmd_argv && !size))
			 : (!(seconds > 0) || clients < 1 || clients > 64))
			usage();
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0)
			die("%s", "cannot open /dev/null");
		return idle ? cmd_idle(count)
			    : cmd_load(seconds, (int)clients, !strcmp(cmd, "load"));
	}
	if (!strcmp(cmd, "rate")) {
		if (!rest || !rest[0] || !(seconds > 0) || jobs < 1)
			usage();
		return cmd_rate(seconds, (int)jobs, rest);
	}
	usage();
	return 2;
}
