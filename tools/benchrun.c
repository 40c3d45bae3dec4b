/* benchrun — precise wall-clock timer for process startup benchmarks.
 *
 *   benchrun [-n N] [-w W] [-s SEP] -- CMD [ARGS...] [SEP CMD [ARGS...]]...
 *
 * Runs each command (fork + execvp, stdin/stdout/stderr on /dev/null) W
 * warm-up times and then N measured times.  With several commands (separated
 * by the argument SEP, default ";;") the runs are interleaved round-robin, so
 * drift (thermal, cache, background load) affects every command equally.
 *
 * Output, after all runs (nothing is printed while measuring), one line per
 * run:  PHASE<TAB>CMD-INDEX<TAB>MICROSECONDS<TAB>STATUS
 * PHASE is "warmup" or "run"; CMD-INDEX counts from 0; the time is
 * CLOCK_MONOTONIC from just before fork() to just after waitpid() returns;
 * STATUS is the exit code, 128+signal if killed, 127 if exec failed.
 * Exit status: 0 if every run exited 0, 1 if any failed, 2 on usage errors.
 * Built by tools/bench (cc -O2); not part of the library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
};

static void usage(FILE *f)
{
	fprintf(f, "usage: benchrun [-n N] [-w W] [-s SEP] -- CMD [ARGS...] [SEP CMD [ARGS...]]...\n");
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Run argv once with all stdio on devnull; return its status, set *usec. */
static int run_once(char **argv, int devnull, long long *usec)
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
	long n = 50, warm = 3;
	const char *sep = ";;";
	int opt;

	while ((opt = getopt(argc, argv, "+n:w:s:h")) != -1) {
		switch (opt) {
		case 'n': n = parse_count(optarg, "-n"); break;
		case 'w': warm = parse_count(optarg, "-w"); break;
		case 's': sep = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
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

	size_t total = (size_t)(n + warm) * (size_t)ncmd;
	struct sample *s = calloc(total ? total : 1, sizeof(*s));
	if (!s) {
		perror("benchrun: calloc");
		return 2;
	}
	size_t k = 0;
	for (long r = 0; r < warm + n; r++) {
		for (int c = 0; c < ncmd; c++, k++) {
			s[k].cmd = c;
			s[k].warmup = r < warm;
			s[k].status = run_once(cmds[c], devnull, &s[k].usec);
		}
	}

	int failed = 0;
	for (k = 0; k < total; k++) {
		printf("%s\t%d\t%lld\t%d\n", s[k].warmup ? "warmup" : "run", s[k].cmd, s[k].usec,
		       s[k].status);
		failed |= s[k].status != 0;
	}
	free(s);
	free(cmds);
	return failed ? 1 : 0;
}
