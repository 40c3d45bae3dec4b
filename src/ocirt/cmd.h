/* sbx-oci's commands (one file each), called by main.c with the global
 * options and the command's own arguments (argv[0] is the command name).
 * Each returns the process's exit status (>= 0; `run` and `exec` give the
 * container process's), or a negative sbx_errcode with err filled: main
 * prints it as one line and logs it to --log. */
#ifndef SBX_OCIRT_CMD_H
#define SBX_OCIRT_CMD_H

#include <stdbool.h>
#include "base/util.h"

typedef struct sbx_oci_ctx {
	const char *root;	   /* --root, default SBX_OCI_DEFAULT_ROOT */
	const char *log_path;	   /* --log, or NULL */
	bool log_json;		   /* --log-format json */
	bool systemd;		   /* --systemd-cgroup */
	const char *cgroup_parent; /* --cgroup-parent, or NULL (beneath our own cgroup) */
} sbx_oci_ctx;

/* One option of a command: "--name VALUE", "--name=VALUE", "-name VALUE",
 * a short "-c VALUE"; flags take no value ("--force", "--force=true"). */
typedef struct sbx_oci_opt {
	const char *name;
	char short_name; /* 0: none */
	enum { SBX_OCI_OPT_FLAG, SBX_OCI_OPT_STR, SBX_OCI_OPT_INT, SBX_OCI_OPT_LIST } kind;
	void *value; /* bool *, const char **, int *, or sbx_oci_list * */
} sbx_oci_opt;

typedef struct sbx_oci_list {
	const char *item[64];
	int n;
} sbx_oci_list;

/* Parse argv[1..] (options first, then positionals: "--" ends options).
 * *first: index of the first positional. -SBX_E_INVALID with err on an
 * unknown option or a missing/bad value ("create: unknown option --foo"). */
int sbx_oci_opts(const char *cmd, int argc, char **argv, const sbx_oci_opt *opts, size_t n,
		 int *first, sbx_error *err);
/* Exactly `want` positionals (the container id first). */
int sbx_oci_need_args(const char *cmd, int argc, char **argv, int first, int want,
		      const char *usage, sbx_error *err);

int sbx_oci_cmd_create(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_run(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_start(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_state(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_list(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_kill(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_delete(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_exec(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_ps(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);
int sbx_oci_cmd_features(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err);

#endif
