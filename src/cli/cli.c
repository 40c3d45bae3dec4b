/* sbx: the command-line client of libsbx. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "cli/cli.h"

/* "sbx: MESSAGE\n" in one write(2), so that lines of concurrent sbx
 * processes sharing a stderr never interleave. Overlong messages are cut
 * (the line still ends in "...\n"). */
static void vnote(const char *fmt, va_list ap)
{
	char line[2048];
	const size_t cap = sizeof(line) - 5; /* room for "...\n" and the NUL */
	int n = snprintf(line, sizeof(line), "sbx: ");
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
	if (len > cap) {
		len = cap;
		memcpy(line + len, "...", 3);
		len += 3;
	}
	while (len > (size_t)n && line[len - 1] == '\n')
		len--;
	line[len++] = '\n';
	ssize_t w;
	do
		w = write(STDERR_FILENO, line, len);
	while (w < 0 && errno == EINTR);
}

void sbx_cli_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
}

int sbx_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(fmt, ap);
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
			sbx_cli_note("timed out after %llums: killed",
				     (unsigned long long)timeout_ms);
		if (res->oom_killed)
			sbx_cli_note("out of memory: killed by the OOM killer (limit %llu bytes)",
				     (unsigned long long)memory);
		if (res->stdout_truncated)
			sbx_cli_note("stdout truncated at %llu bytes",
				     (unsigned long long)output_limit);
		if (res->stderr_truncated)
			sbx_cli_note("stderr truncated at %llu bytes",
				     (unsigned long long)output_limit);
	}
	sbx_result_free(res);
	return status;
}
