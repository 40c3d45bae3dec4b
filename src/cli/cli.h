/* sbx command-line client: shared bits of its subcommands. */
#ifndef SBX_CLI_H
#define SBX_CLI_H

#include <signal.h>
#include <stdarg.h>
#include "sbx.h"

/* Print "sbx: <message>" on stderr; returns 125. */
int sbx_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same line ("sbx: ...", one write) for a note that is not an error. */
void sbx_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Block SIGINT/SIGTERM/SIGHUP and return a signalfd for them (a cancel fd). */
int sbx_cli_signalfd(sigset_t *old);
/* Which signal arrived on it (SIGTERM if unknown). */
int sbx_cli_signal_received(int sfd);

/* Print a result (JSON, or notes on stderr for what the exit status does
 * not say), free it, and return the exit status. */
int sbx_cli_finish(sbx_result *res, bool json, uint64_t timeout_ms, uint64_t memory,
		   uint64_t output_limit, int sfd);

#endif
