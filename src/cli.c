/* sbx: the command-line client of libsbx. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "cli.h"

int sbx_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sbx: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return SBX_EXIT_ERROR;
}

int sbx_cli_signalfd(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	/* A signal our parent set to be ignored (nohup) stays ignored. */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
			sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int sbx_cli_signal_received(int sfd)
{
	struct signalfd_siginfo si;
	if (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		return (int)si.ssi_signo;
	return SIGTERM;
}

int sbx_cli_finish(sbx_result *res, bool json, uint64_t timeout_ms, uint64_t memory,
		   uint64_t output_limit, int sfd)
{
	int status = res->exit_code;
	if (res->cancelled && !res->timed_out)
		status = 128 + sbx_cli_signal_received(sfd);
	if (json) {
		char *js = sbx_result_to_json(res);
		if (js) {
			fputs(js, stdout);
			fputc('\n', stdout);
			free(js);
		} else {
			status = sbx_cli_error("out of memory encoding the result");
		}
	} else {
		if (res->timed_out)
			fprintf(stderr, "sbx: timed out after %llums: killed\n",
				(unsigned long long)timeout_ms);
		if (res->oom_killed)
			fprintf(stderr,
				"sbx: out of memory: killed by the OOM killer (limit %llu bytes)\n",
				(unsigned long long)memory);
		if (res->stdout_truncated)
			fprintf(stderr, "sbx: stdout truncated at %llu bytes\n",
				(unsigned long long)output_limit);
		if (res->stderr_truncated)
			fprintf(stderr, "sbx: stderr truncated at %llu bytes\n",
				(unsigned long long)output_limit);
	}
	sbx_result_free(res);
	return status;
}

static void usage(FILE *f)
{
	fputs("usage: sbx COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  run [options] [--] CMD [ARG...]   run a command in a fresh sandbox\n"
	      "  create NAME [run options] [--idle-timeout DUR]   start a long-lived sandbox\n"
	      "  exec NAME [--timeout D] [--env K=V] [--cwd DIR] [--output-limit S] [--json] -- "
	      "CMD...\n"
	      "  write NAME PATH < data            create or replace a file inside\n"
	      "  read NAME PATH > data             print a file from inside\n"
	      "  ls [--json]                       list sandboxes\n"
	      "  inspect NAME                      config, state and usage as JSON\n"
	      "  stop NAME | start NAME            end its processes / resume it\n"
	      "  rm [-f] NAME                      remove it (-f stops it first)\n"
	      "  python [--pool SOCK] SCRIPT [ARG...]   run a Python script (- for stdin)\n"
	      "  pool serve --socket PATH [...]    serve a warm pool (see sbx pool)\n"
	      "  pool stats --socket PATH | pool cleanup\n"
	      "  check [--driver NAME]             what works on this host\n"
	      "  cleanup                           remove cgroups left by killed sbx processes\n"
	      "  help                              this text; sbx run --help for options\n"
	      "  version                           print the version\n"
	      "\n"
	      "See docs/cli.md.\n",
	      f);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return SBX_EXIT_ERROR;
	}
	const char *cmd = argv[1];
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"run", sbx_cli_run},	  {"create", sbx_cli_create},	{"exec", sbx_cli_exec},
	    {"read", sbx_cli_read},	  {"write", sbx_cli_write},	{"ls", sbx_cli_ls},
	    {"inspect", sbx_cli_inspect}, {"stop", sbx_cli_stop},	{"start", sbx_cli_start},
	    {"rm", sbx_cli_rm},		  {"pool", sbx_cli_pool},	{"python", sbx_cli_python},
	    {"check", sbx_cli_check},	  {"cleanup", sbx_cli_cleanup},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("sbx %s\n", SBX_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	return sbx_cli_error("unknown command '%s' (see sbx --help)", cmd);
}
