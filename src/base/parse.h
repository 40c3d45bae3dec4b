/* Pure parsing of user-supplied values (no I/O). */
#ifndef SBX_PARSE_H
#define SBX_PARSE_H

#include "sbx.h"

/* "K=V": K non-empty, [A-Za-z_][A-Za-z0-9_]*; V anything (may be empty).
 * Returns 0 if valid, -1 otherwise. */
int sbx_parse_env(const char *kv);

/* "DIR", "DIR:ro" or "DIR:rw" (bare DIR means rw). DIR must be non-empty.
 * On success *dir is a malloc'd copy of DIR and *mode the mode; -1 on bad
 * input (then *dir is NULL). */
int sbx_parse_workspace(const char *spec, char **dir, sbx_ws_mode *mode);

/* Sandbox names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. 0 if valid, -1 if not. */
int sbx_valid_name(const char *name);

/* Hostnames: 1..63 chars of [A-Za-z0-9-], not starting or ending with '-'. */
int sbx_valid_hostname(const char *name);

/* Absolute path without "." or ".." components and without NUL bytes;
 * used for --cwd and paths inside the sandbox. 0 valid, -1 not. */
int sbx_valid_inside_path(const char *path);

#endif
