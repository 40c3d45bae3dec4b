/* The host's cgroup layout from the texts of /proc files (no I/O here). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/cgroup_host.h"

static const char *const names[SBX_CG_N] = {"memory", "cpu", "pids"};

/* A piece of a text: start and length (the texts are not copied). */
typedef struct span {
	const char *p;
	size_t n;
} span;

static bool span_is(span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* Is word one of the items of s, separated by any of seps? */
static bool has_word(span s, const char *word, const char *seps)
{
	const char *p = s.p, *end = s.p + s.n;
	while (p < end) {
		size_t l = 0;
		while (p + l < end && !strchr(seps, p[l]))
			l++;
		if (span_is((span){p, l}, word))
			return true;
		p += l + 1;
	}
	return false;
}

/* The next line of *text (without its newline); false at the end. */
static bool next_line(const char **text, span *line)
{
	const char *p = *text;
	if (!p || !*p)
		return false;
	const char *nl = strchr(p, '\n');
	line->p = p;
	line->n = nl ? (size_t)(nl - p) : strlen(p);
	*text = nl ? nl + 1 : p + line->n;
	return true;
}

/* The next space-separated field of *line; false when none is left. */
static bool next_field(span *line, span *f)
{
	while (line->n && line->p[0] == ' ') {
		line->p++;
		line->n--;
	}
	if (!line->n)
		return false;
	size_t l = 0;
	while (l < line->n && line->p[l] != ' ')
		l++;
	*f = (span){line->p, l};
	line->p += l;
	line->n -= l;
	return true;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Copy s into out (cap bytes), undoing mountinfo's octal escapes (\040 for
 * a space, \011, \012, \134). -1 if it does not fit. */
static int unoctal(span s, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '\\' && s.n - i > 3 && s.p[i + 1] <= '3' && is_octal(s.p[i + 1]) &&
		    is_octal(s.p[i + 2]) && is_octal(s.p[i + 3])) {
			c = (char)((s.p[i + 1] - '0') * 64 + (s.p[i + 2] - '0') * 8 +
				   (s.p[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* One mountinfo line: "id parent maj:min root mountpoint options
 * [optional...] - fstype source superoptions". */
typedef struct mount_line {
	span root, mnt, fstype, super;
} mount_line;

static bool parse_mount(span line, mount_line *m)
{
	span f;
	for (int i = 0; i < 3; i++) /* id, parent, maj:min */
		if (!next_field(&line, &f))
			return false;
	if (!next_field(&line, &m->root) || !next_field(&line, &m->mnt) ||
	    !next_field(&line, &f)) /* mount options */
		return false;
	do /* optional fields up to the separator */
		if (!next_field(&line, &f))
			return false;
	while (!span_is(f, "-"));
	span source;
	return next_field(&line, &m->fstype) && next_field(&line, &source) &&
	       next_field(&line, &m->super);
}

/* Our cgroup in the hierarchy with controller ctrl (NULL: the v2 "0::"
 * line) from /proc/self/cgroup lines "id:controllers:path". */
static int own_path(const char *text, const char *ctrl, char *out, size_t cap)
{
	span line;
	while (next_line(&text, &line)) {
		const char *c1 = memchr(line.p, ':', line.n);
		const char *end = line.p + line.n;
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (!c2)
			continue;
		span list = {c1 + 1, (size_t)(c2 - c1 - 1)};
		if (ctrl ? !has_word(list, ctrl, ",") : list.n != 0)
			continue;
		size_t pl = (size_t)(end - c2 - 1);
		if (pl >= cap)
			return -1;
		memcpy(out, c2 + 1, pl);
		out[pl] = '\0';
		return 0;
	}
	return -1;
}

int sbx_cg_v2_mount(const char *mountinfo, char *out, size_t cap)
{
	span line;
	mount_line m;
	while (next_line(&mountinfo, &line))
		if (parse_mount(line, &m) && span_is(m.fstype, "cgroup2"))
			return unoctal(m.mnt, out, cap);
	return -1;
}

int sbx_cg_host_parse(const char *mountinfo, const char *proc_cgroup, const char *v2_controllers,
		      sbx_cg_host *h)
{
	memset(h, 0, sizeof(*h));
	span line;
	mount_line m;
	for (const char *t = mountinfo; next_line(&t, &line);) {
		if (!parse_mount(line, &m) || !span_is(m.fstype, "cgroup") || !span_is(m.root, "/"))
			continue;
		for (int c = 0; c < SBX_CG_N; c++) {
			if (h->version[c] || !has_word(m.super, names[c], ","))
				continue;
			if (own_path(proc_cgroup, names[c], h->own[c], PATH_MAX) == 0 &&
			    unoctal(m.mnt, h->mount[c], PATH_MAX) == 0)
				h->version[c] = 1;
			else
				h->own[c][0] = h->mount[c][0] = '\0';
		}
	}
	char v2[PATH_MAX] = "", v2own[PATH_MAX] = "/";
	if (sbx_cg_v2_mount(mountinfo, v2, sizeof(v2)) == 0)
		own_path(proc_cgroup, NULL, v2own, sizeof(v2own));
	else
		v2[0] = '\0';
	int n = 0;
	for (int c = 0; c < SBX_CG_N; c++) {
		if (!h->version[c] && v2[0] && v2_controllers &&
		    has_word((span){v2_controllers, strlen(v2_controllers)}, names[c], " \n")) {
			h->version[c] = 2;
			memcpy(h->mount[c], v2, sizeof(v2));
			memcpy(h->own[c], v2own, sizeof(v2own));
		}
		n += h->version[c] != 0;
	}
	return n;
}
