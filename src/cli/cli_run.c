/* sbx run: one command in a fresh sandbox. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/options.h"

static void run_usage(void)
{
	fputs(
	    "usage: sbx run [options] [--] CMD [ARG...]\n"
	    "\n"
	    "  --rootfs DIR           root file system (default $SBX_ROOTFS, else rootfs/python)\n"
	    "  --memory SIZE          memory limit, swap off (default 512M; 0 = none)\n"
	    "  --cpus N.N             CPU quota in CPUs (default 1; 0 = none)\n"
	    "  --pids N               process limit (default 100; 0 = none)\n"
	    "  --timeout DUR          kill the whole sandbox after DUR, exit 124 (default 30s)\n"
	    "  --stop-timeout DUR     after SIGINT/SIGTERM/SIGHUP (passed on to the command),\n"
	    "                         kill the sandbox if still running after DUR (default 10s)\n"
	    "  --output-limit SIZE    cap on each of stdout and stderr (default 100K)\n"
	    "  --tmp-size SIZE        size of the /tmp tmpfs (default 64M)\n"
	    "  --writable-root[=SIZE] a writable / (an overlay of the rootfs; writes, up to\n"
	    "                         SIZE, default 256M, stay in the sandbox; default read-only)\n"
	    "  --net none|loopback|egress  no network, a loopback interface, or a loopback\n"
	    "                         and user-mode networking to the outside (default none)\n"
	    "  --allow HOST|CIDR[:PORT]  egress: only these destinations (repeatable; default\n"
	    "                         every public IPv4 address)\n"
	    "  --publish [HOSTIP:]HOSTPORT:PORT  egress: TCP HOSTIP:HOSTPORT on the host\n"
	    "                         (default 127.0.0.1) reaches PORT inside (repeatable)\n"
	    "  --dns IP[:PORT]        egress: the resolver names go to (default the host's)\n"
	    "  --workspace DIR[:ro|:rw]  mount DIR at /workspace (default: no workspace)\n"
	    "  --env K=V              set an environment variable (repeatable)\n"
	    "  --cwd DIR              working directory inside (default /workspace or /tmp)\n"
	    "  --hostname NAME        host name inside (default sandbox)\n"
	    "  --cgroup-parent PATH   create the sandbox cgroup under PATH\n"
	    "  --map-uid UID, --map-gid GID  host ids root inside maps to (default: a range\n"
	    "                                of its own per sandbox)\n"
	    "  --json                 print one JSON result object instead of streaming\n"
	    "  --help, --version\n"
	    "\n"
	    "exit status: the command's; 128+N if killed by signal N (137 on OOM); 124 on\n"
	    "timeout; 141 if the reader of sbx's output went away; 128+N if sbx got signal\n"
	    "N and the command outlived --stop-timeout; 125 sbx error; 126 not executable;\n"
	    "127 not found.\n",
	    stdout);
}

int sbx_cli_run(int argc, char **argv)
{
	char msg[512];
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	if (sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)) < 0)
		return sbx_cli_error("%s", msg);
	const char *bad =
	    sbx_opts_disallowed(&o, SBX_OPT_SANDBOX | SBX_OPT_JSON | SBX_OPT_HELP |
					SBX_OPT_VERSION | SBX_OPT_POOL | SBX_OPT_STOPTIMEOUT);
	if (bad)
		return sbx_cli_error("option %s is not valid for run", bad);
	if (o.help || o.version) {
		if (o.help)
			run_usage();
		else
			printf("sbx %s\n", SBX_VERSION);
		return 0;
	}
	if (!o.cfg.argv)
		return sbx_cli_error("no command given (usage: sbx run [options] -- CMD [ARG...])");
	if (o.pool && (o.seen & SBX_OPT_STOPTIMEOUT))
		return sbx_cli_error("option --stop-timeout is not valid with --pool");
	if (o.pool)
		return sbx_cli_run_remote(&o);
	sigset_t old;
	int sfd = sbx_cli_signalfd(&old);
	/* SIGINT/SIGTERM/SIGHUP go on to the command; the sandbox is killed
	 * if it still runs --stop-timeout later. */
	o.cfg.signal_fd = sfd;
	o.cfg.stdin_fd = STDIN_FILENO;
	if (o.json) {
		o.cfg.capture = true;
	} else {
		o.cfg.stdout_fd = STDOUT_FILENO;
		o.cfg.stderr_fd = STDERR_FILENO;
	}
	sbx_result res;
	sbx_error err = {0};
	int rc = sbx_run(&o.cfg, &res, &err);
	int status;
	if (rc < 0) {
		status = sbx_cli_error("%s", err.msg);
	} else {
		status = sbx_cli_finish(&res, o.json, o.cfg.timeout_ms, o.cfg.memory_bytes,
					o.cfg.output_limit, sfd);
	}
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
