/* The host's cgroup layout from the texts of /proc files (no I/O here). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/mountinfo.h"
#include "core/cgroup_host.h"

static const char *const names[SBX_CG_N] = {"memory", "cpu", "pids"};

/* Is word one of the items of s, separated by any of seps? */
static bool has_word(sbx_span s, const char *word, const char *seps)
{
	const char *p = s.p, *end = s.p + s.n;
	while (p < end) {
		size_t l = 0;
		while (p + l < end && !strchr(seps, p[l]))
			l++;
		if (sbx_span_is((sbx_span){p, l}, word))
			return true;
		p += l + 1;
	}
	return false;
}

/* Our cgroup in the hierarchy with controller ctrl (NULL: the v2 "0::"
 * line) from /proc/self/cgroup lines "id:controllers:path". */
static int own_path(const char *text, const char *ctrl, char *out, size_t cap)
{
	sbx_span line;
	while (sbx_next_line(&text, &line)) {
		const char *c1 = memchr(line.p, ':', line.n);
		const char *end = line.p + line.n;
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (!c2)
			continue;
		sbx_span list = {c1 + 1, (size_t)(c2 - c1 - 1)};
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
	sbx_span line;
	sbx_mountinfo_line m;
	size_t o = 0;
	while (sbx_next_line(&mountinfo, &line))
		if (sbx_mountinfo_parse_line(line, &m) && sbx_span_is(m.fstype, "cgroup2"))
			return sbx_mountinfo_unoctal(m.mnt, out, &o, cap);
	return -1;
}

int sbx_cg_host_parse(const char *mountinfo, const char *proc_cgroup, const char *v2_controllers,
		      sbx_cg_host *h)
{
	memset(h, 0, sizeof(*h));
	sbx_span line;
	sbx_mountinfo_line m;
	for (const char *t = mountinfo; sbx_next_line(&t, &line);) {
		if (!sbx_mountinfo_parse_line(line, &m) || !sbx_span_is(m.fstype, "cgroup") ||
		    !sbx_span_is(m.root, "/"))
			continue;
		for (int c = 0; c < SBX_CG_N; c++) {
			if (h->version[c] || !has_word(m.super, names[c], ","))
				continue;
			size_t o = 0;
			if (own_path(proc_cgroup, names[c], h->own[c], PATH_MAX) == 0 &&
			    sbx_mountinfo_unoctal(m.mnt, h->mount[c], &o, PATH_MAX) == 0)
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
		    has_word((sbx_span){v2_controllers, strlen(v2_controllers)}, names[c], " \n")) {
			h->version[c] = 2;
			memcpy(h->mount[c], v2, sizeof(v2));
			memcpy(h->own[c], v2own, sizeof(v2own));
		}
		n += h->version[c] != 0;
	}
	return n;
}
