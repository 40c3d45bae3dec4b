/* Reading the texts of /proc files line by line and field by field, and
 * the lines of /proc/PID/mountinfo: pure parsing, no I/O, no allocation
 * (core/cgroup_host.c and ocirt/cgroups_path.c read the files). */
#ifndef SBX_MOUNTINFO_H
#define SBX_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

/* A piece of a text: start and length (not copied, not NUL-terminated). */
typedef struct sbx_span {
	const char *p;
	size_t n;
} sbx_span;

/* s is exactly word. */
bool sbx_span_is(sbx_span s, const char *word);

/* The next line of *text (without its newline) into *line, *text moved
 * past it; false at the end (*text NULL or at its NUL). A last line
 * without a newline counts; an empty line is a line. */
bool sbx_next_line(const char **text, sbx_span *line);

/* The next field of *line (fields are separated by runs of spaces) into
 * *f, *line moved past it; false when none is left. */
bool sbx_next_field(sbx_span *line, sbx_span *f);

/* Append s to out at *o (out holds cap bytes), undoing mountinfo's octal
 * escapes (\040 a space, \011 a tab, \012 a newline, \134 a backslash: a
 * backslash and three octal digits, the first 0-3; any other backslash is
 * kept as it is), and NUL-terminate. *o moves past what was appended. 0,
 * or -1 if it does not fit (out then holds a part, maybe unterminated). */
int sbx_mountinfo_unoctal(sbx_span s, char *out, size_t *o, size_t cap);

/* The fields of one mountinfo line that sbx uses, as written (escaped):
 * "id parent maj:min ROOT MNT options [optional...] - FSTYPE source SUPER". */
typedef struct sbx_mountinfo_line {
	sbx_span root;	 /* the mount's root within its filesystem */
	sbx_span mnt;	 /* the mount point */
	sbx_span fstype; /* e.g. "cgroup", "cgroup2" */
	sbx_span super;	 /* the superblock's options, e.g. "rw,memory" */
} sbx_mountinfo_line;

/* Parse one line (without its newline): any number of optional fields may
 * stand before the "-" separator. false (m partly set) when the line is
 * short or has no separator. */
bool sbx_mountinfo_parse_line(sbx_span line, sbx_mountinfo_line *m);

#endif
