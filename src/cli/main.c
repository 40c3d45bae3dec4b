/* sbx: the command-line client's entry point: one subcommand per word. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"

static void usage(FILE *f)
{
	fputs("usage: sbx COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  run [options] [--] CMD [ARG...]   run a command in a fresh sandbox\n"
	      "  create NAME [run options] [--idle-timeout DUR]   start a long-lived sandbox\n"
	      "  exec NAME [--timeout D] [--env K=V] [--cwd DIR] [--output-limit S] [--json] -- "
	      "CMD...\n"
	      "  write NAME PATH < data            create or replace a file inside\n"
	      "  read NAME PATH > data             print a file from inside\n"
	      "  ls [--json]                       list sandboxes\n"
	      "  inspect NAME                      config, state and usage as JSON\n"
	      "  stop NAME | start NAME            end its processes / resume it\n"
	      "  rm [-f] NAME                      remove it (-f stops it first)\n"
	      "  python [--pool SOCK] SCRIPT [ARG...]   run a Python script (- for stdin)\n"
	      "  pool serve --socket PATH [...]    serve a warm pool (see sbx pool)\n"
	      "  serve --docker-api PATH [...]     serve the Docker Engine API (see sbx serve "
	      "--help)\n"
	      "  pool stats --socket PATH | pool cleanup\n"
	      "  check [--driver NAME]             what works on this host\n"
	      "  cleanup                           remove cgroups left by killed sbx processes\n"
	      "  help                              this text; sbx run --help for options\n"
	      "  version                           print the version\n"
	      "\n"
	      "See docs/cli.md.\n",
	      f);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return SBX_EXIT_ERROR;
	}
	const char *cmd = argv[1];
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"run", sbx_cli_run},	  {"create", sbx_cli_create},	{"exec", sbx_cli_exec},
	    {"read", sbx_cli_read},	  {"write", sbx_cli_write},	{"ls", sbx_cli_ls},
	    {"inspect", sbx_cli_inspect}, {"stop", sbx_cli_stop},	{"start", sbx_cli_start},
	    {"rm", sbx_cli_rm},		  {"pool", sbx_cli_pool},	{"python", sbx_cli_python},
	    {"check", sbx_cli_check},	  {"cleanup", sbx_cli_cleanup}, {"serve", sbx_cli_serve},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("sbx %s\n", SBX_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	return sbx_cli_error("unknown command '%s' (see sbx --help)", cmd);
}
