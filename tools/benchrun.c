/* benchrun — precise wall-clock timer for process startup benchmarks.
 *
 *   benchrun [-n N] [-w W] [-s SEP] [-H K] -- CMD [ARGS...] [SEP CMD [ARGS...]]...
 *
 * Runs each command (fork + execvp, stdin/stdout/stderr on /dev/null) W
 * warm-up times and then N measured times.  With several commands (separated
 * by the argument SEP, default ";;") the runs are interleaved round-robin, so
 * drift (thermal, cache, background load) affects every command equally.
 *
 * Output, after all runs (nothing is printed while measuring), one line per
 * run:  PHASE<TAB>CMD-INDEX<TAB>MICROSECONDS<TAB>STATUS<TAB>PID
 * PHASE is "warmup" or "run"; CMD-INDEX counts from 0; the time is
 * CLOCK_MONOTONIC from just before fork() to just after waitpid() returns;
 * STATUS is the exit code, 128+signal if killed, 127 if exec failed; PID is
 * the process's (the helper's for its rows), so that what a run left behind
 * (e.g. sbx-PID-* cgroups) can be found.
 *
 * -H K (K >= 0): the last command is not timed itself but started once as a helper
 * co-process that measures K more rows in-process (tools/benchpool.c), so
 * they take part in the same round-robin.  They get the indices after the
 * commands'.  Protocol, one line each way on the helper's stdin/stdout: the
 * helper first prints "ready" (or "error MSG"); then before every sample of
 * every row benchrun sends "settle" and waits for "ok" (the helper's pools
 * are full and quiet, so no background refill overlaps a timed run), and for
 * a helper row sends "run I" (I counting from 0 among the helper's rows) and
 * reads "MICROSECONDS STATUS".  Closing its stdin ends the helper.
 *
 * Exit status: 0 if every run exited 0, 1 if any failed, 2 on usage errors
 * or a helper failure.
 * Built by tools/bench (cc -O2); not part of the library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sample {
	int cmd;
	int warmup;
	long long usec;
	int status;
	int pid;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: benchrun [-n N] [-w W] [-s SEP] [-H K] -- CMD [ARGS...] [SEP CMD "
		   "[ARGS...]]...\n");
}

/* The helper co-process of -H. */
static pid_t helper_pid = -1;
static FILE *helper_in, *helper_out;

static void helper_fail(const char *what, const char *line)
{
	fprintf(stderr, "benchrun: helper: %s%s%s", what, line ? ": " : "\n", line ? line : "");
	if (line && !strchr(line, '\n'))
		fputc('\n', stderr);
	exit(2);
}

/* Send one request line, read one answer line into buf. */
static void helper_ask(const char *req, char *buf, size_t cap)
{
	if (fprintf(helper_in, "%s\n", req) < 0 || fflush(helper_in) != 0)
		helper_fail("cannot write to the helper", NULL);
	if (!fgets(buf, (int)cap, helper_out))
		helper_fail("the helper exited", NULL);
	if (!strncmp(buf, "error", 5))
		helper_fail("failed", buf);
}

static void helper_start(char **argv)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		perror("benchrun: pipe");
		exit(2);
	}
	helper_pid = fork();
	if (helper_pid < 0) {
		perror("benchrun: fork");
		exit(2);
	}
	if (helper_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execvp(argv[0], argv);
		fprintf(stderr, "benchrun: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	helper_in = fdopen(in[1], "w");
	helper_out = fdopen(out[0], "r");
	char line[512];
	if (!helper_in || !helper_out || !fgets(line, sizeof(line), helper_out))
		helper_fail("it did not start", NULL);
	if (strcmp(line, "ready\n") != 0)
		helper_fail("not ready", line);
}

static void helper_settle(void)
{
	char line[512];
	if (helper_pid > 0) {
		helper_ask("settle", line, sizeof(line));
		if (strcmp(line, "ok\n") != 0)
			helper_fail("unexpected answer to settle", line);
	}
}

static int helper_run(int row, long long *usec)
{
	char req[32], line[512];
	int st;
	snprintf(req, sizeof(req), "run %d", row);
	helper_ask(req, line, sizeof(line));
	if (sscanf(line, "%lld %d", usec, &st) != 2)
		helper_fail("unexpected answer to run", line);
	return st;
}

static int helper_stop(void)
{
	int st = 0;
	if (helper_pid <= 0)
		return 0;
	fclose(helper_in);
	fclose(helper_out);
	while (waitpid(helper_pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Run argv once with all stdio on devnull; return its status, set *usec. */
static int run_once(char **argv, int devnull, long long *usec, int *child)
{
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("benchrun: fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	*child = (int)pid;
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("benchrun: waitpid");
			exit(2);
		}
	}
	*usec = (now_ns() - t0 + 500) / 1000;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

static long parse_count(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0 || v > 1000000) {
		fprintf(stderr, "benchrun: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long n = 50, warm = 3, hrows = -1;
	const char *sep = ";;";
	int opt;

	while ((opt = getopt(argc, argv, "+n:w:s:H:h")) != -1) {
		switch (opt) {
		case 'n':
			n = parse_count(optarg, "-n");
			break;
		case 'w':
			warm = parse_count(optarg, "-w");
			break;
		case 's':
			sep = optarg;
			break;
		case 'H':
			hrows = parse_count(optarg, "-H");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}

	/* Split the remaining arguments at SEP into NULL-terminated argvs
	 * (in place: each separator becomes the terminator of the previous). */
	int ncmd = 0;
	char ***cmds = calloc((size_t)(argc - optind + 1), sizeof(*cmds));
	if (!cmds)
		return 2;
	char **start = &argv[optind];
	for (int i = optind; i <= argc; i++) {
		if (i == argc || strcmp(argv[i], sep) == 0) {
			if (&argv[i] == start) {
				fprintf(stderr, "benchrun: empty command\n");
				return 2;
			}
			argv[i] = NULL; /* argv[argc] is already NULL */
			cmds[ncmd++] = start;
			start = &argv[i + 1];
		}
	}

	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		perror("benchrun: /dev/null");
		return 2;
	}

	/* With -H the last command is the helper; its K rows come after the
	 * remaining commands. */
	int nexec = ncmd, nrows = ncmd;
	if (hrows >= 0) {
		if (ncmd < 1) {
			usage(stderr);
			return 2;
		}
		nexec = ncmd - 1;
		nrows = nexec + (int)hrows;
		signal(SIGPIPE, SIG_IGN);
		helper_start(cmds[nexec]);
	}

	size_t total = (size_t)(n + warm) * (size_t)nrows;
	struct sample *s = calloc(total ? total : 1, sizeof(*s));
	if (!s) {
		perror("benchrun: calloc");
		return 2;
	}
	size_t k = 0;
	for (long r = 0; r < warm + n; r++) {
		for (int c = 0; c < nrows; c++, k++) {
			s[k].cmd = c;
			s[k].warmup = r < warm;
			helper_settle();
			if (c < nexec) {
				s[k].status = run_once(cmds[c], devnull, &s[k].usec, &s[k].pid);
			} else {
				s[k].status = helper_run(c - nexec, &s[k].usec);
				s[k].pid = (int)helper_pid;
			}
		}
	}
	if (helper_stop() < 0) {
		fprintf(stderr, "benchrun: the helper failed at exit\n");
		return 2;
	}

	int failed = 0;
	for (k = 0; k < total; k++) {
		printf("%s\t%d\t%lld\t%d\t%d\n", s[k].warmup ? "warmup" : "run", s[k].cmd,
		       s[k].usec, s[k].status, s[k].pid);
		failed |= s[k].status != 0;
	}
	free(s);
	free(cmds);
	return failed ? 1 : 0;
}
