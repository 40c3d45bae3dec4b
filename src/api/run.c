/* sbx_run(): one command in a fresh sandbox, on the configured driver. */
#include <string.h>

#include "base/util.h"
#include "drivers/driver.h"

SBX_API int sbx_run(const sbx_config *cfg, sbx_result *res, sbx_error *err)
{
	memset(res, 0, sizeof(*res));
	const sbx_driver *d = sbx_driver_by_name(cfg->driver, err);
	if (!d)
		return -SBX_E_INVALID;
	return d->run(d, cfg, res, err);
}
