/* sbx command-line client: shared bits of its subcommands. */
#ifndef SBX_CLI_H
#define SBX_CLI_H

#include <signal.h>
#include <stdarg.h>
#include "sbx.h"

/* Print "sbx: <message>" on stderr; returns 125. */
int sbx_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Block SIGINT/SIGTERM/SIGHUP and return a signalfd for them (a cancel fd). */
int sbx_cli_signalfd(sigset_t *old);
/* Which signal arrived on it (SIGTERM if unknown). */
int sbx_cli_signal_received(int sfd);

int sbx_cli_run(int argc, char **argv);

#endif
