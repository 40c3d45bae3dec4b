/* Reading /proc and cgroupfs: the one place that parses /proc/PID/stat,
 * "key value" files (memory.events, cpu.stat, ...), single numbers
 * (pids.current, /proc/sys/...) and pid lists (cgroup.procs).
 *
 * The parsers work on given text, take no locks and do not allocate (the
 * sandbox's server uses them between fork and exec); the readers read a
 * file (at most 16 KiB) into a stack buffer and parse it. */
#ifndef SBX_PROCFS_H
#define SBX_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sbx.h"

/* The fields of /proc/PID/stat that sbx uses. */
typedef struct sbx_procstat {
	pid_t pid;
	char state; /* R S D Z T t X ... */
	pid_t ppid;
	uint64_t starttime; /* clock ticks after boot */
} sbx_procstat;

/* Parse the text of /proc/PID/stat ("pid (comm) state ppid ... starttime
 * ..."; comm may hold spaces and parentheses: the last ')' ends it).
 * 0, or -SBX_E_INVALID if the text is not of that form. */
int sbx_procstat_parse(const char *text, sbx_procstat *st, sbx_error *err);

/* Read and parse /proc/PID/stat. 0, -SBX_E_NOTFOUND if there is no such
 * process, or another negative sbx error. */
int sbx_procstat_read(pid_t pid, sbx_procstat *st, sbx_error *err);

/* Start time of pid in clock ticks after boot; 0 if it does not exist or
 * is a zombie (dead for our purposes: its parent may reap it late). */
uint64_t sbx_proc_start(pid_t pid);

/* pid does not exist or is a zombie. */
bool sbx_proc_gone(pid_t pid);

/* In text, the value of the line "KEY VALUE" (key NULL: the number the
 * text starts with). 0, or -SBX_E_NOTFOUND (no such key, no number). */
int sbx_kv_parse(const char *text, const char *key, int64_t *value, sbx_error *err);

/* sbx_kv_parse on file `name` at dirfd (AT_FDCWD: name is a path). 0, or
 * -SBX_E_NOTFOUND (no such file or key), or another negative sbx error. */
int sbx_read_key(int dirfd, const char *name, const char *key, int64_t *value, sbx_error *err);

/* Call fn(pid, arg) for each pid (one a line, as in cgroup.procs) in text;
 * returns how many were listed. Non-numbers are skipped. */
int sbx_pids_each(const char *text, void (*fn)(pid_t pid, void *arg), void *arg);

#endif
