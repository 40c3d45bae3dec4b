/* sbx check: what works on this host for a driver, and what does not
 * (each driver's health operation makes the checks). */
#include <stdio.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "drivers/driver.h"

/* One line of the report, as the driver's health check gives it. */
static void line(void *ctx, bool ok, bool required, const char *what, const char *detail)
{
	printf("%-5s %-22s %s\n", ok ? "ok" : required ? "FAIL" : "warn", what, detail);
}

int sbx_cli_check(int argc, char **argv)
{
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	char msg[512];
	if (sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)) < 0)
		return sbx_cli_error("%s", msg);
	const char *bad = sbx_opts_disallowed(&o, SBX_OPT_DRIVER | SBX_OPT_IMAGE | SBX_OPT_ROOTFS);
	if (bad)
		return sbx_cli_error("option %s is not valid for check", bad);
	sbx_error err = {0};
	const sbx_driver *d = sbx_driver_by_name(o.cfg.driver, &err);
	if (!d)
		return sbx_cli_error("%s", err.msg);
	printf("driver %s\n", d->name);
	int failed = d->health(d, &o.cfg, line, NULL);
	printf("%s\n", failed ? "some checks failed" : "all checks passed");
	return failed ? 1 : 0;
}
