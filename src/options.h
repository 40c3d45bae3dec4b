/* Parsing `sbx run` options into a config (reentrant, no getopt). */
#ifndef SBX_OPTIONS_H
#define SBX_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include "sbx.h"

typedef struct sbx_run_opts {
	sbx_config cfg;
	bool json, help, version;
	const char **env;    /* owned array of borrowed strings */
	size_t n_env;
	char *workspace_dir; /* owned */
	int cmd_index;       /* argv index of the command, argc if none */
	uint64_t idle_timeout_ms; /* create: --idle-timeout */
	uint64_t max_size;        /* read/write: --max-size */
	uint32_t seen;            /* bit per option given (SBX_OPT_*) */
} sbx_run_opts;

/* Bits of sbx_run_opts.seen, for subcommands that take a subset. */
enum {
	SBX_OPT_ROOTFS = 1u << 0, SBX_OPT_MEMORY = 1u << 1, SBX_OPT_CPUS = 1u << 2,
	SBX_OPT_PIDS = 1u << 3, SBX_OPT_TIMEOUT = 1u << 4, SBX_OPT_OUTPUT = 1u << 5,
	SBX_OPT_TMP = 1u << 6, SBX_OPT_NET = 1u << 7, SBX_OPT_WORKSPACE = 1u << 8,
	SBX_OPT_ENV = 1u << 9, SBX_OPT_CWD = 1u << 10, SBX_OPT_HOSTNAME = 1u << 11,
	SBX_OPT_CGPARENT = 1u << 12, SBX_OPT_MAPUID = 1u << 13, SBX_OPT_MAPGID = 1u << 14,
	SBX_OPT_JSON = 1u << 15, SBX_OPT_HELP = 1u << 16, SBX_OPT_VERSION = 1u << 17,
	SBX_OPT_IDLE = 1u << 18, SBX_OPT_MAXSIZE = 1u << 19, SBX_OPT_FORCE = 1u << 20,
};

/* The first option in o->seen outside allowed, as "--name", or NULL. */
const char *sbx_opts_disallowed(const sbx_run_opts *o, uint32_t allowed);

/* Parse argv[first..argc). The command starts at the first non-option or
 * after "--". Returns 0, or -1 with a one-line message (no "sbx: " prefix)
 * in msg. The command is not required here (--help, --version). */
int sbx_opts_parse(sbx_run_opts *o, int argc, char **argv, int first, char *msg, size_t cap);
void sbx_opts_free(sbx_run_opts *o);

#endif
