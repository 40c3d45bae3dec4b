/* Containers left by sbx processes killed with SIGKILL: one-shot runs
 * (sbx-run-*) and pool sandboxes (sbx-pool-*) carry their creator's pid in
 * the label sbx.pid; named sandboxes (sbx-NAME) are never touched. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/procfs.h"
#include "base/util.h"
#include "drivers/oci.h"
#include "drivers/oci_int.h"

/* The pid in a label listing: docker "a=b,sbx.pid=12" or podman
 * "map[sbx.pid:12 ...]". */
static pid_t label_pid(const char *labels)
{
	const char *p = strstr(labels, "sbx.pid");
	if (!p || (p[7] != '=' && p[7] != ':'))
		return 0;
	return (pid_t)atoi(p + 8);
}

int sbx_oci_sweep(const char *engine)
{
	char path[PATH_MAX];
	if (!sbx_oci_which(engine, path, sizeof(path)))
		return 0;
	const char *ps[] = {
	    "ps", "-a", "--filter", "label=sbx.pid", "--format", "{{.Names}} {{.Labels}}", NULL};
	sbx_oci_out o;
	if (sbx_oci_simple(engine, ps, 10000, &o, NULL) < 0 || o.code != 0) {
		sbx_oci_out_free(&o);
		return 0; /* engine unreachable: nothing we can do */
	}
	int n = 0;
	char *save = NULL;
	for (char *line = o.out.data ? strtok_r(o.out.data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		pid_t pid = label_pid(sp + 1);
		bool ours = !strncmp(line, "sbx-run-", 8) || !strncmp(line, "sbx-pool-", 9);
		if (!ours || pid <= 0 || !sbx_proc_gone(pid))
			continue;
		const char *rm[] = {"rm", "-f", line, NULL};
		sbx_oci_out ro;
		if (sbx_oci_simple(engine, rm, 30000, &ro, NULL) == 0 && ro.code == 0)
			n++;
		sbx_oci_out_free(&ro);
	}
	sbx_oci_out_free(&o);
	return n;
}
