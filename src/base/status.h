/* Mapping of how a command ended to the exit status sbx reports. */
#ifndef SBX_STATUS_H
#define SBX_STATUS_H

#include <stdbool.h>

/* wstatus: as from waitpid(). timed_out wins (124); a signal N gives 128+N
 * (137 for SIGKILL, also on OOM kill); a normal exit gives its code.
 * *sig is set to the signal number or 0. */
int sbx_exit_status(int wstatus, bool timed_out, int *sig);

#endif
