/* sbx_cleanup(): what killed sbx processes left behind, for every driver. */
#include <unistd.h>

#include "base/util.h"
#include "drivers/driver.h"

SBX_API int sbx_cleanup(sbx_error *err)
{
	if (geteuid() != 0)
		return sbx_fail(err, SBX_E_PRIVILEGE, "sbx must run as root (cgroups)");
	int n = 0;
	const sbx_driver *d;
	for (size_t i = 0; (d = sbx_driver_at(i)); i++)
		n += d->sweep(d);
	return n;
}
