/* sbx: the command-line client of libsbx. */
#include <signal.h>
#include <stdio.h>
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
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
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

static void usage(FILE *f)
{
	fputs("usage: sbx COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  run [options] [--] CMD [ARG...]   run a command in a fresh sandbox\n"
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
	if (strcmp(cmd, "run") == 0)
		return sbx_cli_run(argc, argv);
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
