/* The container's cgroup directories as text, for its state file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocirt/cgroups.h"

#define CG_ROOT "/sys/fs/cgroup/"

int sbx_oci_cg_to_text(const sbx_oci_cg *cg, sbx_buf *b)
{
	for (size_t i = 0; i < cg->n; i++)
		if (sbx_buf_printf(b, "%d %s %u %s\n", cg->dir[i].version,
				   cg->dir[i].version == 2 ? "-" : cg->dir[i].name, cg->dir[i].made,
				   cg->dir[i].path) < 0)
			return -1;
	return 0;
}

static bool name_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == ',' || s[i] == '=' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* The components of p below /sys/fs/cgroup/ (each non-empty, not "." or
 * "..", no control character); -1 if one is bad. */
static long components(const char *p, size_t n)
{
	const size_t rl = strlen(CG_ROOT);
	if (n <= rl || memcmp(p, CG_ROOT, rl) != 0)
		return -1;
	long count = 0;
	for (size_t i = rl; i <= n;) {
		size_t l = 0;
		while (i + l < n && p[i + l] != '/')
			l++;
		if (l == 0 || (l == 1 && p[i] == '.') || (l == 2 && p[i] == '.' && p[i + 1] == '.'))
			return -1;
		for (size_t k = 0; k < l; k++)
			if ((unsigned char)p[i + k] < 0x20 || p[i + k] == 0x7f)
				return -1;
		count++;
		i += l + 1;
	}
	return count;
}

int sbx_oci_cg_from_text(const char *text, sbx_oci_cg *cg, sbx_error *err)
{
	memset(cg, 0, sizeof(*cg));
	size_t line = 0;
	for (const char *p = text; *p; line++) {
		const char *nl = strchr(p, '\n');
		if (!nl || cg->n == SBX_OCI_CG_MAX)
			goto bad; /* no newline; more lines than hierarchies */
		typeof(cg->dir[0]) *d = &cg->dir[cg->n];
		/* VERSION */
		if ((p[0] != '1' && p[0] != '2') || p[1] != ' ')
			goto bad;
		d->version = p[0] - '0';
		p += 2;
		/* NAME */
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		if (!sp)
			goto bad;
		size_t nlen = (size_t)(sp - p);
		if (d->version == 2) {
			if (nlen != 1 || p[0] != '-')
				goto bad;
		} else {
			if (nlen >= sizeof(d->name) || !name_ok(p, nlen) ||
			    (nlen == 1 && p[0] == '-'))
				goto bad;
			memcpy(d->name, p, nlen);
		}
		p = sp + 1;
		/* MADE */
		size_t dl = 0;
		unsigned long made = 0;
		while (p + dl < nl && p[dl] >= '0' && p[dl] <= '9' && dl < 4)
			made = made * 10 + (unsigned long)(p[dl++] - '0');
		if (dl == 0 || p + dl >= nl || p[dl] != ' ')
			goto bad;
		p += dl + 1;
		/* PATH */
		size_t plen = (size_t)(nl - p);
		long comps = components(p, plen);
		if (comps < 0 || plen >= sizeof(d->path) || made < 1 || (long)made > comps)
			goto bad;
		memcpy(d->path, p, plen);
		d->made = (unsigned)made;
		cg->n++;
		p = nl + 1;
	}
	return 0;
bad:
	memset(cg, 0, sizeof(*cg));
	return sbx_fail(err, SBX_E_INVALID, "cgroups line %zu: malformed", line + 1);
}
