/* The sbx subcommands, one function each (argv[0] is the subcommand). */
#ifndef SBX_CLI_COMMANDS_H
#define SBX_CLI_COMMANDS_H

int sbx_cli_run(int argc, char **argv);
int sbx_cli_create(int argc, char **argv);
int sbx_cli_exec(int argc, char **argv);
int sbx_cli_read(int argc, char **argv);
int sbx_cli_write(int argc, char **argv);
int sbx_cli_ls(int argc, char **argv);
int sbx_cli_inspect(int argc, char **argv);
int sbx_cli_stop(int argc, char **argv);
int sbx_cli_start(int argc, char **argv);
int sbx_cli_rm(int argc, char **argv);
int sbx_cli_pool(int argc, char **argv);
int sbx_cli_check(int argc, char **argv);
int sbx_cli_cleanup(int argc, char **argv);
int sbx_cli_python(int argc, char **argv);
int sbx_cli_serve(int argc, char **argv);
struct sbx_run_opts;
/* sbx run --pool: the run goes to a pool daemon. */
int sbx_cli_run_remote(const struct sbx_run_opts *o);

#endif
