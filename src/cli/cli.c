/* sbx: the command-line client of libsbx. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "cli/cli.h"

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
		status = 128 + (res->received_signal ? res->received_signal
						     : sbx_cli_signal_received(sfd));
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
