/* Where the container's cgroups go (pure: texts in, paths out). */
#include <stdio.h>
#include <string.h>

#include "base/mountinfo.h"
#include "ocirt/cgroups_path.h"

#define CG_ROOT "/sys/fs/cgroup"

/* Is s one of the items of list (separated by sep)? */
static bool in_list(sbx_span list, sbx_span s, char sep)
{
	const char *p = list.p, *end = list.p + list.n;
	while (p <= end) {
		const char *q = memchr(p, sep, (size_t)(end - p));
		size_t l = q ? (size_t)(q - p) : (size_t)(end - p);
		if (l == s.n && memcmp(p, s.p, l) == 0)
			return true;
		if (!q)
			break;
		p = q + 1;
	}
	return false;
}

/* Every item of want (sep-separated) is in have. */
static bool all_in(sbx_span want, sbx_span have, char sep)
{
	const char *p = want.p, *end = want.p + want.n;
	if (!want.n)
		return false;
	while (p <= end) {
		const char *q = memchr(p, sep, (size_t)(end - p));
		sbx_span item = {p, q ? (size_t)(q - p) : (size_t)(end - p)};
		if (!item.n || !in_list(have, item, sep))
			return false;
		if (!q)
			break;
		p = q + 1;
	}
	return true;
}

/* base = mount point + (own path less the mount's root). 1 done, 0 skip
 * (the own path is not under the mount's root, or base not under /sys/fs/cgroup),
 * -1 too long. */
static int make_base(const sbx_mountinfo_line *m, sbx_span own, sbx_oci_cg_hier *h)
{
	char root[PATH_MAX];
	size_t rl = 0;
	if (sbx_mountinfo_unoctal(m->root, root, &rl, sizeof(root)) < 0)
		return -1;
	if (!own.n || own.p[0] != '/')
		return 0;
	if (strcmp(root, "/") != 0) {
		if (own.n < rl || memcmp(own.p, root, rl) != 0 || (own.n > rl && own.p[rl] != '/'))
			return 0;
		own.p += rl;
		own.n -= rl;
	}
	char *base = h->base;
	size_t o = 0, cap = sizeof(h->base);
	if (sbx_mountinfo_unoctal(m->mnt, base, &o, cap) < 0)
		return -1;
	memcpy(h->mnt, base, o + 1);
	while (own.n && own.p[own.n - 1] == '/')
		own.n--;
	while (own.n && own.p[0] == '/') {
		own.p++;
		own.n--;
	}
	h->base_is_root = own.n == 0;
	if (own.n) {
		if (o + 1 + own.n >= cap)
			return -1;
		base[o++] = '/';
		memcpy(base + o, own.p, own.n);
		base[o + own.n] = '\0';
	}
	if (strncmp(base, CG_ROOT "/", strlen(CG_ROOT) + 1) != 0 && strcmp(base, CG_ROOT) != 0)
		return 0;
	if (strstr(base, "/../") || strstr(base, "/./"))
		return 0;
	return 1;
}

/* The hierarchy's mount (ctrls NULL: cgroup2) through which our cgroup
 * is reached: of the mounts whose root holds it, the last one (a later
 * mount on the same point hides an earlier one: in a cgroup namespace the
 * host's mounts show a root of "/.." and binds of the namespace's root
 * are mounted over them). 1 found (h->base set), 0 none, -1 too long. */
static int find_base(const char *mountinfo, const sbx_span *ctrls, sbx_span own, sbx_oci_cg_hier *h)
{
	sbx_span line;
	sbx_mountinfo_line m;
	sbx_oci_cg_hier cand;
	int found = 0;
	while (sbx_next_line(&mountinfo, &line)) {
		if (!sbx_mountinfo_parse_line(line, &m))
			continue;
		if (!ctrls ? !sbx_span_is(m.fstype, "cgroup2")
			   : !sbx_span_is(m.fstype, "cgroup") || !all_in(*ctrls, m.super, ','))
			continue;
		int r = make_base(&m, own, &cand);
		if (r < 0)
			return r;
		if (r == 1) {
			memcpy(h->base, cand.base, sizeof(h->base));
			memcpy(h->mnt, cand.mnt, sizeof(h->mnt));
			h->base_is_root = cand.base_is_root;
			found = 1;
		}
	}
	return found;
}

int sbx_oci_cg_layout_parse(const char *mountinfo, const char *proc_cgroup, sbx_oci_cg_layout *out,
			    sbx_error *err)
{
	memset(out, 0, sizeof(*out));
	sbx_span line;
	for (const char *t = proc_cgroup; sbx_next_line(&t, &line);) {
		const char *end = line.p + line.n;
		const char *c1 = memchr(line.p, ':', line.n);
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (!c2)
			continue;
		sbx_span ctrls = {c1 + 1, (size_t)(c2 - c1 - 1)};
		sbx_span own = {c2 + 1, (size_t)(end - c2 - 1)};
		bool v2 = ctrls.n == 0;
		if (v2 && !sbx_span_is((sbx_span){line.p, (size_t)(c1 - line.p)}, "0"))
			continue;
		if (out->n == SBX_OCI_CG_NHIER)
			break;
		sbx_oci_cg_hier *h = &out->h[out->n];
		if (ctrls.n >= sizeof(h->name))
			continue;
		int r = find_base(mountinfo, v2 ? NULL : &ctrls, own, h);
		if (r < 0)
			return sbx_fail(err, SBX_E_CGROUP, "cgroup path too long: %.*s", (int)own.n,
					own.p);
		if (r == 0)
			continue;
		/* the same hierarchy twice (a bind of it): keep the first */
		bool dup = false;
		for (size_t i = 0; i < out->n; i++)
			dup |= strcmp(out->h[i].base, h->base) == 0;
		if (dup)
			continue;
		h->version = v2 ? 2 : 1;
		memcpy(h->name, ctrls.p, ctrls.n);
		h->name[ctrls.n] = '\0';
		out->n++;
	}
	if (!out->n)
		return sbx_fail(err, SBX_E_CGROUP, "no cgroup hierarchy found for this process");
	return 0;
}

/* Append the components of p (split on '/', leading ones skipped) to out,
 * each checked. */
static int add_components(const char *p, char *out, size_t *o, size_t cap, const char *what,
			  sbx_error *err)
{
	while (*p == '/')
		p++;
	if (!*p)
		return sbx_fail(err, SBX_E_INVALID, "%s: no cgroup named", what);
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		if (l == 0)
			return sbx_fail(err, SBX_E_INVALID, "%s: empty path component", what);
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return sbx_fail(err, SBX_E_INVALID, "%s: '.' and '..' are not allowed",
					what);
		for (size_t i = 0; i < l; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return sbx_fail(err, SBX_E_INVALID, "%s: control character", what);
		if (*o + (*o ? 1 : 0) + l >= cap)
			return sbx_fail(err, SBX_E_INVALID, "%s: too long", what);
		if (*o)
			out[(*o)++] = '/';
		memcpy(out + *o, p, l);
		*o += l;
		out[*o] = '\0';
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

int sbx_oci_cg_layout_reparent(sbx_oci_cg_layout *l, const char *parent, sbx_error *err)
{
	char rel[SBX_OCI_CG_PATH_CAP + 1] = "";
	size_t o = 0;
	bool absolute = parent[0] == '/';
	const char *p = parent;
	while (*p == '/')
		p++;
	if (*p) {
		int r = add_components(parent, rel, &o, sizeof(rel), "--cgroup-parent", err);
		if (r < 0)
			return r;
	} else if (!absolute) {
		return sbx_fail(err, SBX_E_INVALID, "--cgroup-parent: empty");
	}
	for (size_t i = 0; i < l->n; i++) {
		sbx_oci_cg_hier *h = &l->h[i];
		char base[PATH_MAX];
		int n = o ? snprintf(base, sizeof(base), "%s/%s", absolute ? h->mnt : h->base, rel)
			  : snprintf(base, sizeof(base), "%s", h->mnt);
		if (n < 0 || (size_t)n >= sizeof(base))
			return sbx_fail(err, SBX_E_INVALID, "--cgroup-parent: too long");
		memcpy(h->base, base, (size_t)n + 1);
		h->base_is_root = strcmp(h->base, h->mnt) == 0;
	}
	return 0;
}

/* "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice"; "" and "-.slice": nothing. */
static int expand_slice(const char *s, size_t n, char *out, size_t *o, size_t cap, sbx_error *err)
{
	static const char suffix[] = ".slice";
	const size_t sl = sizeof(suffix) - 1;
	if (n == 0 || (n == 7 && memcmp(s, "-.slice", 7) == 0))
		return 0;
	if (n <= sl || memcmp(s + n - sl, suffix, sl) != 0 || memchr(s, '/', n))
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: bad systemd slice '%.*s'", (int)n,
				s);
	size_t stem = n - sl;
	if (s[0] == '-' || s[stem - 1] == '-')
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: bad systemd slice '%.*s'", (int)n,
				s);
	for (size_t i = 0; i <= stem; i++) {
		if (i < stem && s[i] != '-')
			continue;
		if (i < stem && s[i + 1] == '-')
			return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: bad systemd slice '%.*s'",
					(int)n, s);
		if (*o + 1 + i + sl >= cap)
			return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: too long");
		if (*o)
			out[(*o)++] = '/';
		memcpy(out + *o, s, i);
		memcpy(out + *o + i, suffix, sl);
		*o += i + sl;
		out[*o] = '\0';
	}
	return 0;
}

static int check_unit(const char *s, size_t n, const char *what, sbx_error *err)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
			return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: bad systemd %s", what);
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: bad systemd %s", what);
	return 0;
}

static int systemd_path(const char *p, char *out, size_t cap, sbx_error *err)
{
	const char *c1 = strchr(p, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':'))
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "cgroupsPath: expected \"slice:prefix:name\" with --systemd-cgroup");
	const char *prefix = c1 + 1, *name = c2 + 1;
	size_t pl = (size_t)(c2 - prefix), nl = strlen(name);
	size_t o = 0;
	out[0] = '\0';
	int r = expand_slice(p, (size_t)(c1 - p), out, &o, cap, err);
	if (r < 0)
		return r;
	if (!nl)
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: empty systemd unit name");
	if ((r = check_unit(prefix, pl, "prefix", err)) < 0 ||
	    (r = check_unit(name, nl, "name", err)) < 0)
		return r;
	bool is_slice = nl > 6 && strcmp(name + nl - 6, ".slice") == 0;
	size_t need = (o ? 1 : 0) + (is_slice || !pl ? 0 : pl + 1) + nl + (is_slice ? 0 : 6);
	if (o + need >= cap)
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: too long");
	if (o)
		out[o++] = '/';
	if (!is_slice && pl) {
		memcpy(out + o, prefix, pl);
		o += pl;
		out[o++] = '-';
	}
	memcpy(out + o, name, nl);
	o += nl;
	if (!is_slice) {
		memcpy(out + o, ".scope", 6);
		o += 6;
	}
	out[o] = '\0';
	return 0;
}

int sbx_oci_cg_relpath(const char *cgroups_path, const char *id, bool systemd, char *out,
		       size_t cap, sbx_error *err)
{
	if (cap > SBX_OCI_CG_PATH_CAP + 1)
		cap = SBX_OCI_CG_PATH_CAP + 1;
	if (cap)
		out[0] = '\0';
	size_t o = 0;
	if (!cgroups_path) {
		int r = add_components("sbx-oci", out, &o, cap, "cgroupsPath", err);
		return r < 0 ? r : add_components(id, out, &o, cap, "container id", err);
	}
	if (strlen(cgroups_path) > SBX_OCI_CG_PATH_CAP)
		return sbx_fail(err, SBX_E_INVALID, "cgroupsPath: longer than %d bytes",
				SBX_OCI_CG_PATH_CAP);
	if (systemd)
		return systemd_path(cgroups_path, out, cap, err);
	return add_components(cgroups_path, out, &o, cap, "cgroupsPath", err);
}

uint64_t sbx_oci_cg_v2_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

int sbx_oci_cg_devrule(const sbx_oci_devrule *r, char *out, size_t cap)
{
	if (r->type != 'a' && r->type != 'c' && r->type != 'b')
		return -1;
	size_t al = strnlen(r->access, sizeof(r->access));
	if (al == 0 || al == sizeof(r->access) || strspn(r->access, "rwm") != al)
		return -1;
	char maj[24], min[24];
	if (r->major < 0)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%lld", (long long)r->major);
	if (r->minor < 0)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%lld", (long long)r->minor);
	int n = snprintf(out, cap, "%c %s:%s %s", r->type, maj, min, r->access);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

bool sbx_oci_cg_devices_allow_all(const sbx_oci_devrule *r, size_t n)
{
	if (n == 0)
		return true;
	size_t i = n;
	while (i > 0 && r[i - 1].type != 'a')
		i--;
	if (i == 0 || !r[i - 1].allow)
		return false;
	for (; i < n; i++)
		if (!r[i].allow)
			return false;
	return true;
}

int sbx_oci_cg_check(const sbx_oci_resources *r, bool cpu_v2, bool devices_v2, sbx_error *err)
{
	static const struct {
		size_t off;
		const char *name;
	} unsupported[] = {
	    {offsetof(sbx_oci_resources, has_blkio), "blockIO"},
	    {offsetof(sbx_oci_resources, has_hugetlb), "hugepageLimits"},
	    {offsetof(sbx_oci_resources, has_network), "network"},
	    {offsetof(sbx_oci_resources, has_rdma), "rdma"},
	    {offsetof(sbx_oci_resources, has_unified), "unified"},
	};
	for (size_t i = 0; i < ARRAY_LEN(unsupported); i++)
		if (*(const bool *)((const char *)r + unsupported[i].off))
			return sbx_fail(err, SBX_E_INVALID, "linux.resources.%s is not supported",
					unsupported[i].name);
	if (r->mem_swappiness > 100)
		return sbx_fail(err, SBX_E_INVALID,
				"linux.resources.memory.swappiness: %lld is above 100",
				(long long)r->mem_swappiness);
	if (cpu_v2 && (r->cpu_rt_runtime != -1 || r->cpu_rt_period != 0))
		return sbx_fail(
		    err, SBX_E_INVALID,
		    "linux.resources.cpu: realtime limits need cgroup v1 (cpu is on v2)");
	if (devices_v2 && !sbx_oci_cg_devices_allow_all(r->devices, r->n_devices))
		return sbx_fail(err, SBX_E_INVALID,
				"linux.resources.devices: device rules need the v1 devices cgroup "
				"(cgroup v2 BPF device filters are not supported)");
	for (size_t i = 0; i < r->n_devices; i++) {
		char s[64];
		if (sbx_oci_cg_devrule(&r->devices[i], s, sizeof(s)) < 0)
			return sbx_fail(err, SBX_E_INVALID,
					"linux.resources.devices[%zu]: bad rule", i);
	}
	return 0;
}
