/* Mapping of how a command ended to the exit status sbx reports. */
#include "base/status.h"

#include <sys/wait.h>

#include "sbx.h"

int sbx_exit_status(int wstatus, bool timed_out, int *sig)
{
	int s = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	int code;

	if (sig)
		*sig = s;
	if (timed_out)
		code = SBX_EXIT_TIMEOUT;
	else if (s)
		code = 128 + s;
	else if (WIFEXITED(wstatus))
		code = WEXITSTATUS(wstatus);
	else
		code = SBX_EXIT_ERROR; /* stopped/continued: not an ending */
	return code;
}
