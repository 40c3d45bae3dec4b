/* Pure parsing of user-supplied values (no I/O). */
#ifndef SBX_PARSE_H
#define SBX_PARSE_H

#include "sbx.h"

/* Checks of user-supplied values, in the library's error convention
 * (base/util.h): 0 if valid, else a negative sbx_errcode with err (may be
 * NULL) saying what is wrong. The public parsers of include/sbx.h
 * (sbx_parse_size, _duration, _cpus) keep their documented 0 / -1. */

/* "K=V": K non-empty, [A-Za-z_][A-Za-z0-9_]*; V anything (may be empty).
 * -SBX_E_INVALID: "invalid environment entry: KV". */
int sbx_parse_env(const char *kv, sbx_error *err);

/* "DIR", "DIR:ro" or "DIR:rw" (bare DIR means rw). DIR must be non-empty.
 * On success *dir is a malloc'd copy of DIR and *mode the mode. On bad
 * input -SBX_E_INVALID (-SBX_E_SYSTEM out of memory), *dir NULL. */
int sbx_parse_workspace(const char *spec, char **dir, sbx_ws_mode *mode, sbx_error *err);

/* Sandbox names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. -SBX_E_INVALID:
 * "invalid sandbox name 'NAME' (letters, digits, ...)". */
int sbx_valid_name(const char *name, sbx_error *err);

/* Hostnames: 1..63 chars of [A-Za-z0-9-], not starting or ending with '-'.
 * -SBX_E_INVALID: "invalid hostname: NAME". */
int sbx_valid_hostname(const char *name, sbx_error *err);

/* Absolute path without "." or ".." components and without NUL bytes;
 * used for --cwd and paths inside the sandbox. -SBX_E_PATH: "invalid path
 * PATH: must be absolute, without . or ..". */
int sbx_valid_inside_path(const char *path, sbx_error *err);

#endif
