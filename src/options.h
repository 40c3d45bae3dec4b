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
} sbx_run_opts;

/* Parse argv[first..argc). The command starts at the first non-option or
 * after "--". Returns 0, or -1 with a one-line message (no "sbx: " prefix)
 * in msg. The command is not required here (--help, --version). */
int sbx_opts_parse(sbx_run_opts *o, int argc, char **argv, int first, char *msg, size_t cap);
void sbx_opts_free(sbx_run_opts *o);

#endif
