/* Reading /proc and cgroupfs (see procfs.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "base/procfs.h"
#include "base/util.h"

/* The numbers in /proc/PID/stat: pid and ppid fit an int, the rest may be
 * negative (priority, nice) or 64-bit (times). */
static bool next_num(const char **p, long long *v)
{
	char *end;
	errno = 0;
	*v = strtoll(*p, &end, 10);
	if (end == *p || errno == ERANGE || (*end != ' ' && *end != '\n' && *end != '\0'))
		return false;
	*p = end;
	return true;
}

int sbx_procstat_parse(const char *text, sbx_procstat *st, sbx_error *err)
{
	memset(st, 0, sizeof(*st));
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	long long v;
	const char *p = text;
	if (!open || !close || close < open || !next_num(&p, &v) || v <= 0 || v > INT32_MAX ||
	    close[1] != ' ' || !close[2] || close[3] != ' ')
		return sbx_fail(err, SBX_E_INVALID, "not a /proc/PID/stat line");
	st->pid = (pid_t)v;
	st->state = close[2];
	p = close + 3;
	/* Fields 4 (ppid) to 22 (starttime), counted from 1 at pid. */
	for (int field = 4; field <= 22; field++) {
		if (!next_num(&p, &v))
			return sbx_fail(err, SBX_E_INVALID, "/proc/PID/stat: field %d", field);
		if (field == 4)
			st->ppid = (pid_t)v;
		else if (field == 22)
			st->starttime = (uint64_t)v;
	}
	return 0;
}

int sbx_procstat_read(pid_t pid, sbx_procstat *st, sbx_error *err)
{
	char path[64], buf[2048];
	if (pid <= 0)
		return sbx_fail(err, SBX_E_NOTFOUND, "no process %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	sbx_error e;
	ssize_t n = sbx_read_fileat(AT_FDCWD, path, buf, sizeof(buf), &e);
	if (n == 0 || (n < 0 && (e.sys_errno == ENOENT || e.sys_errno == ESRCH)))
		return sbx_fail(err, SBX_E_NOTFOUND, "no process %d", (int)pid);
	if (n < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, e.sys_errno, "read %s", path);
	return sbx_procstat_parse(buf, st, err);
}

static bool dead(char state)
{
	return state == 'Z' || state == 'X' || state == 'x';
}

uint64_t sbx_proc_start(pid_t pid)
{
	sbx_procstat st;
	if (sbx_procstat_read(pid, &st, NULL) < 0 || dead(st.state))
		return 0;
	return st.starttime;
}

bool sbx_proc_gone(pid_t pid)
{
	sbx_procstat st;
	int r = sbx_procstat_read(pid, &st, NULL);
	/* Unreadable for another reason: assume it lives (never sweep a
	 * live owner's things). */
	return r == -SBX_E_NOTFOUND || (r == 0 && dead(st.state));
}

int sbx_kv_parse(const char *text, const char *key, int64_t *value, sbx_error *err)
{
	size_t kl = key ? strlen(key) : 0;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		if (!key || (strncmp(line, key, kl) == 0 && line[kl] == ' ')) {
			const char *p = line + kl;
			char *end;
			errno = 0;
			long long v = strtoll(p, &end, 10);
			if (end != p && errno != ERANGE) {
				*value = v;
				return 0;
			}
			if (!key)
				break;
		}
		line = nl ? nl + 1 : NULL;
	}
	return sbx_fail(err, SBX_E_NOTFOUND, "%s%s", key ? "no key " : "not a number",
			key ? key : "");
}

int sbx_read_key(int dirfd, const char *name, const char *key, int64_t *value, sbx_error *err)
{
	char buf[16384];
	if (dirfd < 0 && dirfd != AT_FDCWD)
		return sbx_fail(err, SBX_E_NOTFOUND, "%s: no directory", name);
	sbx_error e;
	ssize_t n = sbx_read_fileat(dirfd, name, buf, sizeof(buf), &e);
	if (n < 0 && e.sys_errno == ENOENT)
		return sbx_fail(err, SBX_E_NOTFOUND, "%s: no such file", name);
	if (n < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, e.sys_errno, "read %s", name);
	int r = sbx_kv_parse(buf, key, value, err);
	return r < 0 ? sbx_error_wrap(err, r, "%s", name) : 0;
}

int sbx_pids_each(const char *text, void (*fn)(pid_t pid, void *arg), void *arg)
{
	int n = 0;
	for (const char *p = text; p && *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end != p && v > 0 && v <= INT32_MAX && (*end == '\n' || *end == '\0')) {
			fn((pid_t)v, arg);
			n++;
		}
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : NULL;
	}
	return n;
}
