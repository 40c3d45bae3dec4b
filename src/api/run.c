/* sbx_run(): one command in a fresh sandbox, on the configured driver. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "core/launcher.h"
#include "drivers/driver.h"
#include "proto/proto.h"

SBX_API int sbx_run(const sbx_config *cfg, sbx_result *res, sbx_error *err)
{
	memset(res, 0, sizeof(*res));
	const sbx_driver *d = sbx_driver_by_name(cfg->driver, err);
	if (!d)
		return -SBX_E_INVALID;
	/* Every driver: no directory or O_PATH fd as the command's stdin. */
	int r = sbx_stdio_fd_check(cfg->stdin_fd, "stdin", err);
	if (r < 0)
		return r;
	return d->run(d, cfg, res, err);
}

SBX_API int sbx_signal_request(int fd, int sig)
{
	/* Async-signal-safe: no errno kept, no locks, one write(2) of one
	 * byte (atomic on a pipe or socket, so threads may share fd). */
	if (!sbx_sig_forwardable(sig))
		return -SBX_E_INVALID;
	unsigned char c = (unsigned char)sig;
	int e = errno;
	ssize_t w;
	do
		w = write(fd, &c, 1);
	while (w < 0 && errno == EINTR);
	errno = e;
	return w == 1 ? 0 : -SBX_E_SYSTEM;
}
