/* sbx-oci: the OCI runtime command line (runc's conventions; docs/oci.md).
 * Global options, then one command. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include "base/buf.h"
#include "proto/json.h"
#include "sbx.h"
#include "ocirt/cmd.h"
#include "ocirt/state.h"

static const struct {
	const char *name;
	int (*fn)(const sbx_oci_ctx *, int, char **, sbx_error *);
} commands[] = {
    {"create", sbx_oci_cmd_create},	{"run", sbx_oci_cmd_run},   {"start", sbx_oci_cmd_start},
    {"state", sbx_oci_cmd_state},	{"list", sbx_oci_cmd_list}, {"kill", sbx_oci_cmd_kill},
    {"delete", sbx_oci_cmd_delete},	{"exec", sbx_oci_cmd_exec}, {"ps", sbx_oci_cmd_ps},
    {"features", sbx_oci_cmd_features},
};

static const char usage[] =
    "usage: sbx-oci [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup]\n"
    "               [--cgroup-parent PATH]\n"
    "               COMMAND [OPTIONS] ID ...\n"
    "commands: create run start state list kill delete exec ps features; --version\n";

/* One line to stderr (one write) and, with --log, to the log file in
 * runc's form ({"level":"error","msg":...,"time":...} or logfmt text). */
static void report(const sbx_oci_ctx *c, const char *msg)
{
	_cleanup_buf_ sbx_buf line = {0};
	sbx_buf_printf(&line, "sbx-oci: %s\n", msg);
	if (!line.oom && write(2, line.data, line.len) < 0) {
		/* nothing else to tell */
	}
	if (!c->log_path)
		return;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	_cleanup_buf_ sbx_buf b = {0};
	if (c->log_json) {
		sbx_buf_puts(&b, "{\"level\":\"error\",\"msg\":");
		sbx_json_string(&b, msg, strlen(msg));
		sbx_buf_printf(&b, ",\"time\":\"%s\"}\n", when);
	} else {
		sbx_buf_printf(&b, "time=\"%s\" level=error msg=", when);
		sbx_json_string(&b, msg, strlen(msg));
		sbx_buf_puts(&b, "\n");
	}
	_cleanup_close_ int fd = open(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && !b.oom && write(fd, b.data, b.len) < 0) {
		/* the stderr line stands */
	}
}

int main(int argc, char **argv)
{
	sbx_oci_ctx c = {.root = SBX_OCI_DEFAULT_ROOT};
	const char *log_format = "text", *rootless = NULL, *criu = NULL;
	bool debug = false, version = false, help = false;
	const sbx_oci_opt gopts[] = {
	    {"root", 0, SBX_OCI_OPT_STR, &c.root},
	    {"log", 0, SBX_OCI_OPT_STR, &c.log_path},
	    {"log-format", 0, SBX_OCI_OPT_STR, &log_format},
	    {"systemd-cgroup", 0, SBX_OCI_OPT_FLAG, &c.systemd},
	    {"cgroup-parent", 0, SBX_OCI_OPT_STR, &c.cgroup_parent},
	    {"debug", 0, SBX_OCI_OPT_FLAG, &debug},
	    {"rootless", 0, SBX_OCI_OPT_STR, &rootless},
	    {"criu", 0, SBX_OCI_OPT_STR, &criu},
	    {"version", 'v', SBX_OCI_OPT_FLAG, &version},
	    {"help", 'h', SBX_OCI_OPT_FLAG, &help},
	};
	sbx_error err = {0};
	int first = 0;
	int r = sbx_oci_opts("sbx-oci", argc, argv, gopts, ARRAY_LEN(gopts), &first, &err);
	if (r == 0 && strcmp(log_format, "text") && strcmp(log_format, "json"))
		r = sbx_fail(&err, SBX_E_INVALID, "--log-format must be text or json, not '%.32s'",
			     log_format);
	c.log_json = !strcmp(log_format, "json");
	if (r == 0 && rootless && strcmp(rootless, "false") && strcmp(rootless, "auto"))
		r = sbx_fail(&err, SBX_E_INVALID,
			     "--rootless=%.16s is not supported (sbx-oci runs as root)", rootless);
	if (r == 0 && c.root[0] != '/')
		r = sbx_fail(&err, SBX_E_INVALID, "--root must be an absolute path: %.200s",
			     c.root);
	if (r < 0) {
		report(&c, err.msg);
		return 125;
	}
	if (version) {
		printf("sbx-oci version %s\nspec: 1.0.2\n", SBX_VERSION);
		return 0;
	}
	if (help || first >= argc) {
		fputs(usage, help ? stdout : stderr);
		return help ? 0 : 125;
	}
	const char *name = argv[first];
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(commands[i].name, name))
			continue;
		r = commands[i].fn(&c, argc - first, argv + first, &err);
		if (r >= 0)
			return r;
		report(&c, err.msg);
		return r == -SBX_E_INVALID ? 125 : 1;
	}
	sbx_fail(&err, SBX_E_INVALID, "unknown command '%.64s'", name);
	report(&c, err.msg);
	return 125;
}
