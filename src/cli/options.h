/* Parsing `sbx run` options into a config (reentrant, no getopt). */
#ifndef SBX_OPTIONS_H
#define SBX_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include "sbx.h"

typedef struct sbx_run_opts {
	sbx_config cfg;
	bool json, help, version;
	const char **env; /* owned array of borrowed strings */
	size_t n_env;
	const char **allow, **publish; /* --allow, --publish: likewise */
	size_t n_allow, n_publish;
	char *workspace_dir;	  /* owned */
	int cmd_index;		  /* argv index of the command, argc if none */
	uint64_t idle_timeout_ms; /* create: --idle-timeout */
	uint64_t max_size;	  /* read/write: --max-size */
	uint64_t seen;		  /* bit per option given (SBX_OPT_*) */
	const char *pool;	  /* run/python: --pool SOCKET */
	const char *socket;	  /* pool serve/stats: --socket PATH */
	const char *group;	  /* pool serve: --group NAME */
	const char *preload;	  /* pool serve: --preload json,re */
	uint32_t size, max_total; /* pool serve */
	uint64_t max_age_ms;
	int64_t acquire_timeout_ms;
	bool python; /* pool serve: interpreter mode (default on) */
	bool fresh;  /* pool serve: each sandbox starts its own python3 */
} sbx_run_opts;

/* Bits of sbx_run_opts.seen, for subcommands that take a subset. */
#define SBX_OPT_ROOTFS (1ull << 0)
#define SBX_OPT_MEMORY (1ull << 1)
#define SBX_OPT_CPUS (1ull << 2)
#define SBX_OPT_PIDS (1ull << 3)
#define SBX_OPT_TIMEOUT (1ull << 4)
#define SBX_OPT_OUTPUT (1ull << 5)
#define SBX_OPT_TMP (1ull << 6)
#define SBX_OPT_NET (1ull << 7)
#define SBX_OPT_WORKSPACE (1ull << 8)
#define SBX_OPT_ENV (1ull << 9)
#define SBX_OPT_CWD (1ull << 10)
#define SBX_OPT_HOSTNAME (1ull << 11)
#define SBX_OPT_CGPARENT (1ull << 12)
#define SBX_OPT_MAPUID (1ull << 13)
#define SBX_OPT_MAPGID (1ull << 14)
#define SBX_OPT_JSON (1ull << 15)
#define SBX_OPT_HELP (1ull << 16)
#define SBX_OPT_VERSION (1ull << 17)
#define SBX_OPT_IDLE (1ull << 18)
#define SBX_OPT_MAXSIZE (1ull << 19)
#define SBX_OPT_FORCE (1ull << 20)
#define SBX_OPT_POOL (1ull << 21)
#define SBX_OPT_DRIVER (1ull << 22)
#define SBX_OPT_IMAGE (1ull << 23)
#define SBX_OPT_SOCKET (1ull << 24)
#define SBX_OPT_SIZE (1ull << 25)
#define SBX_OPT_MAXTOTAL (1ull << 26)
#define SBX_OPT_MAXAGE (1ull << 27)
#define SBX_OPT_ACQTIMEOUT (1ull << 28)
#define SBX_OPT_PYTHON (1ull << 29)
#define SBX_OPT_NOPYTHON (1ull << 30)
#define SBX_OPT_PRELOAD (1ull << 31)
#define SBX_OPT_GROUP (1ull << 32)
#define SBX_OPT_STOPTIMEOUT (1ull << 33)
#define SBX_OPT_FRESH (1ull << 34)
#define SBX_OPT_WRROOT (1ull << 35)
#define SBX_OPT_ALLOW (1ull << 36)
#define SBX_OPT_PUBLISH (1ull << 37)
#define SBX_OPT_DNS (1ull << 38)
/* Caps on the repeatable network options (as sbx_net_config_check's). */
#define SBX_OPTS_MAX_ALLOW 256
#define SBX_OPTS_MAX_PUBLISH 64
/* Options that shape a sandbox (run, create, pool serve). */
#define SBX_OPT_SANDBOX                                                                            \
	(SBX_OPT_ROOTFS | SBX_OPT_MEMORY | SBX_OPT_CPUS | SBX_OPT_PIDS | SBX_OPT_TIMEOUT |         \
	 SBX_OPT_OUTPUT | SBX_OPT_TMP | SBX_OPT_NET | SBX_OPT_WORKSPACE | SBX_OPT_ENV |            \
	 SBX_OPT_CWD | SBX_OPT_HOSTNAME | SBX_OPT_CGPARENT | SBX_OPT_MAPUID | SBX_OPT_MAPGID |     \
	 SBX_OPT_DRIVER | SBX_OPT_IMAGE | SBX_OPT_WRROOT | SBX_OPT_ALLOW | SBX_OPT_PUBLISH |       \
	 SBX_OPT_DNS)

/* The first option in o->seen outside allowed, as "--name", or NULL. */
const char *sbx_opts_disallowed(const sbx_run_opts *o, uint64_t allowed);

/* Parse argv[first..argc). The command starts at the first non-option or
 * after "--". Returns 0, or -1 with a one-line message (no "sbx: " prefix)
 * in msg. The command is not required here (--help, --version). */
int sbx_opts_parse(sbx_run_opts *o, int argc, char **argv, int first, char *msg, size_t cap);
void sbx_opts_free(sbx_run_opts *o);

#endif
