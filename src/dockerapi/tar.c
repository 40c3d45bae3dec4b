/* Tar archives: ustar headers (octal and GNU base-256 numbers, prefix +
 * name), GNU long names ('L', 'K') and PAX headers ('x'; 'g' skipped) read
 * by a streaming reader with caps on their sizes. */
#include "dockerapi/tar.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_META_DEFAULT (64 * 1024)

void dapi_tar_entry_free(dapi_tar_entry *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->linkname);
	e->name = NULL;
	e->linkname = NULL;
}

/* A numeric field: octal (spaces and NULs around it) or GNU base-256 (top
 * bit of the first byte set; 0xff starts a negative number). */
static int parse_num(const unsigned char *f, size_t n, int64_t *out)
{
	if (f[0] & 0x80) {
		unsigned char inv = (f[0] & 0x40) ? 0xff : 0; /* negative: two's complement */
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = f[i] ^ inv;
			if (i == 0)
				c &= 0x7f;
			if (v >> 56)
				return -1;
			v = (v << 8) | c;
		}
		if (v >> 63)
			return -1;
		*out = inv ? ~(int64_t)v : (int64_t)v;
		return 0;
	}
	size_t a = 0, b = n;
	while (a < b && (f[a] == ' ' || f[a] == 0))
		a++;
	while (b > a && (f[b - 1] == ' ' || f[b - 1] == 0))
		b--;
	uint64_t v = 0;
	for (size_t i = a; i < b; i++) {
		if (f[i] < '0' || f[i] > '7' || v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static char *field_str(const unsigned char *f, size_t n)
{
	return strndup((const char *)f, n);
}

static bool is_zero(const unsigned char *blk)
{
	for (size_t i = 0; i < DAPI_TAR_BLOCK; i++)
		if (blk[i])
			return false;
	return true;
}

int dapi_tar_parse_header(const unsigned char blk[DAPI_TAR_BLOCK], dapi_tar_entry *e,
			  char *raw_type, sbx_error *err)
{
	memset(e, 0, sizeof(*e));
	if (is_zero(blk))
		return 0;
	int64_t sum_u = 0, sum_s = 0, chk;
	for (size_t i = 0; i < DAPI_TAR_BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : blk[i];
		sum_u += c;
		sum_s += (signed char)c;
	}
	if (parse_num(blk + 148, 8, &chk) < 0 || (chk != sum_u && chk != sum_s))
		return sbx_fail(err, SBX_E_INVALID, "tar: bad header checksum");
	int64_t mode, uid, gid, size, mtime, maj, min;
	if (parse_num(blk + 100, 8, &mode) < 0 || parse_num(blk + 108, 8, &uid) < 0 ||
	    parse_num(blk + 116, 8, &gid) < 0 || parse_num(blk + 124, 12, &size) < 0 ||
	    parse_num(blk + 136, 12, &mtime) < 0)
		return sbx_fail(err, SBX_E_INVALID, "tar: bad numeric field in header");
	if (uid < 0 || uid > UINT32_MAX - 1 || gid < 0 || gid > UINT32_MAX - 1 || size < 0 ||
	    mode < 0)
		return sbx_fail(err, SBX_E_INVALID, "tar: out-of-range field in header");
	char t = (char)blk[156];
	switch (t) {
	case '0':
	case '\0':
	case '7':
		e->type = DAPI_TAR_FILE;
		break;
	case '1':
		e->type = DAPI_TAR_HARDLINK;
		break;
	case '2':
		e->type = DAPI_TAR_SYMLINK;
		break;
	case '3':
		e->type = DAPI_TAR_CHAR;
		break;
	case '4':
		e->type = DAPI_TAR_BLOCKDEV;
		break;
	case '5':
		e->type = DAPI_TAR_DIR;
		break;
	case '6':
		e->type = DAPI_TAR_FIFO;
		break;
	case 'L':
	case 'K':
	case 'x':
	case 'g':
		e->type = DAPI_TAR_FILE;
		break;
	default:
		return sbx_fail(err, SBX_E_INVALID, "tar: unsupported entry type '%c'",
				t >= 0x20 && t < 0x7f ? t : '?');
	}
	if (raw_type)
		*raw_type = t;
	bool ustar = memcmp(blk + 257, "ustar\0", 6) == 0; /* POSIX, with a prefix */
	bool gnu = memcmp(blk + 257, "ustar ", 6) == 0;
	maj = min = 0;
	if ((ustar || gnu) && (e->type == DAPI_TAR_CHAR || e->type == DAPI_TAR_BLOCKDEV)) {
		if (parse_num(blk + 329, 8, &maj) < 0 || parse_num(blk + 337, 8, &min) < 0 ||
		    maj < 0 || min < 0 || maj > UINT32_MAX || min > UINT32_MAX)
			return sbx_fail(err, SBX_E_INVALID, "tar: bad device numbers");
	}
	if (ustar && blk[345]) {
		size_t pl = strnlen((const char *)blk + 345, 155);
		size_t nl = strnlen((const char *)blk, 100);
		e->name = malloc(pl + 1 + nl + 1);
		if (e->name) {
			memcpy(e->name, blk + 345, pl);
			e->name[pl] = '/';
			memcpy(e->name + pl + 1, blk, nl);
			e->name[pl + 1 + nl] = 0;
		}
	} else {
		e->name = field_str(blk, 100);
	}
	e->linkname = field_str(blk + 157, 100);
	if (!e->name || !e->linkname) {
		dapi_tar_entry_free(e);
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "tar");
	}
	e->mode = (mode_t)(mode & 07777);
	e->uid = (uid_t)uid;
	e->gid = (gid_t)gid;
	e->size = (uint64_t)size;
	e->mtime = mtime;
	e->dev_major = (unsigned)maj;
	e->dev_minor = (unsigned)min;
	return 1;
}

void dapi_tar_reader_init(dapi_tar_reader *r, dapi_tar_read_fn fn, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->read = fn;
	r->ctx = ctx;
	r->max_meta = MAX_META_DEFAULT;
}

static int read_exact(dapi_tar_reader *r, void *buf, size_t n, sbx_error *err)
{
	ssize_t got = r->read(r->ctx, buf, n);
	if (got < 0 || (size_t)got != n)
		return sbx_fail(err, SBX_E_INVALID, "tar: truncated archive");
	return 0;
}

static int skip(dapi_tar_reader *r, uint64_t n, sbx_error *err)
{
	unsigned char buf[4096];
	while (n > 0) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		int rc = read_exact(r, buf, k, err);
		if (rc < 0)
			return rc;
		n -= k;
	}
	return 0;
}

static uint64_t padding(uint64_t size)
{
	return (DAPI_TAR_BLOCK - size % DAPI_TAR_BLOCK) % DAPI_TAR_BLOCK;
}

/* The data of a meta entry (long name, PAX header): malloc'd, NUL added. */
static int read_meta(dapi_tar_reader *r, uint64_t size, char **out, sbx_error *err)
{
	uint64_t cap = r->max_meta ? r->max_meta : MAX_META_DEFAULT;
	if (size > cap)
		return sbx_fail(err, SBX_E_INVALID,
				"tar: long name or PAX header of %llu bytes (more than %llu)",
				(unsigned long long)size, (unsigned long long)cap);
	char *p = malloc((size_t)size + 1);
	if (!p)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "tar");
	int rc = read_exact(r, p, (size_t)size, err);
	if (rc == 0)
		rc = skip(r, padding(size), err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p[size] = 0;
	*out = p;
	return 0;
}

typedef struct pax {
	char *path, *linkpath;
	bool has_size, has_uid, has_gid, has_mtime;
	int64_t size, uid, gid, mtime;
} pax;

static void pax_clear(pax *p)
{
	free(p->path);
	free(p->linkpath);
	memset(p, 0, sizeof(*p));
}

static int pax_int(const char *v, size_t n, bool frac, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (frac && i < n && v[i] == '-') {
		neg = true;
		i++;
	}
	if (i == n)
		return -1;
	int64_t x = 0;
	for (; i < n && v[i] != '.'; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (INT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (i < n) { /* fraction of a second: checked, dropped */
		if (!frac)
			return -1;
		for (i++; i < n; i++)
			if (v[i] < '0' || v[i] > '9')
				return -1;
	}
	*out = neg ? -x : x;
	return 0;
}

/* Records "LEN KEY=VALUE\n", LEN counting the whole record. */
static int pax_parse(const char *d, size_t n, pax *p, sbx_error *err)
{
	size_t off = 0;
	while (off < n) {
		size_t len = 0, i = off;
		while (i < n && d[i] >= '0' && d[i] <= '9' && len < n)
			len = len * 10 + (size_t)(d[i++] - '0');
		if (i == off || i >= n || d[i] != ' ' || len <= i - off + 1 || len > n - off ||
		    d[off + len - 1] != '\n')
			return sbx_fail(err, SBX_E_INVALID, "tar: malformed PAX record");
		const char *kv = d + i + 1, *end = d + off + len - 1;
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq || eq == kv)
			return sbx_fail(err, SBX_E_INVALID, "tar: malformed PAX record");
		size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
		const char *v = eq + 1;
		char **str = NULL;
		int bad = 0;
		if (kl == 4 && !memcmp(kv, "path", 4))
			str = &p->path;
		else if (kl == 8 && !memcmp(kv, "linkpath", 8))
			str = &p->linkpath;
		else if (kl == 4 && !memcmp(kv, "size", 4))
			bad = pax_int(v, vl, false, &p->size) < 0 || !(p->has_size = true);
		else if (kl == 3 && !memcmp(kv, "uid", 3))
			bad = pax_int(v, vl, false, &p->uid) < 0 || !(p->has_uid = true);
		else if (kl == 3 && !memcmp(kv, "gid", 3))
			bad = pax_int(v, vl, false, &p->gid) < 0 || !(p->has_gid = true);
		else if (kl == 5 && !memcmp(kv, "mtime", 5))
			bad = pax_int(v, vl, true, &p->mtime) < 0 || !(p->has_mtime = true);
		if (bad || (p->has_uid && p->uid > UINT32_MAX - 1) ||
		    (p->has_gid && p->gid > UINT32_MAX - 1))
			return sbx_fail(err, SBX_E_INVALID, "tar: bad PAX value for %.*s", (int)kl,
					kv);
		if (str) {
			if (memchr(v, 0, vl))
				return sbx_fail(err, SBX_E_INVALID, "tar: NUL in PAX %.*s", (int)kl,
						kv);
			char *s = strndup(v, vl);
			if (!s)
				return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "tar");
			free(*str);
			*str = s;
		}
		off += len;
	}
	return 0;
}

static bool header_only(dapi_tar_type t)
{
	return t != DAPI_TAR_FILE;
}

int dapi_tar_next(dapi_tar_reader *r, dapi_tar_entry *e, sbx_error *err)
{
	memset(e, 0, sizeof(*e));
	int rc = skip(r, r->data_left + r->pad_left, err);
	r->data_left = r->pad_left = 0;
	if (rc < 0)
		return rc;
	_cleanup_free_ char *longname = NULL, *longlink = NULL;
	pax p = {0};
	unsigned char blk[DAPI_TAR_BLOCK];
	for (;;) {
		if ((rc = read_exact(r, blk, sizeof(blk), err)) < 0)
			goto out;
		char raw = 0;
		dapi_tar_entry h;
		rc = dapi_tar_parse_header(blk, &h, &raw, err);
		if (rc <= 0)
			goto out;
		if (raw == 'L' || raw == 'K' || raw == 'x' || raw == 'g') {
			uint64_t size = h.size;
			dapi_tar_entry_free(&h);
			if (raw == 'g') {
				if ((rc = skip(r, size + padding(size), err)) < 0)
					goto out;
				continue;
			}
			char *d = NULL;
			if ((rc = read_meta(r, size, &d, err)) < 0)
				goto out;
			if (raw == 'x') {
				rc = pax_parse(d, (size_t)size, &p, err);
				free(d);
				if (rc < 0)
					goto out;
			} else if (raw == 'L') {
				free(longname);
				longname = d;
			} else {
				free(longlink);
				longlink = d;
			}
			continue;
		}
		*e = h;
		break;
	}
	if (p.path || longname) {
		free(e->name);
		e->name = p.path ? p.path : longname;
		if (p.path)
			p.path = NULL;
		else
			longname = NULL;
	}
	if (p.linkpath || longlink) {
		free(e->linkname);
		e->linkname = p.linkpath ? p.linkpath : longlink;
		if (p.linkpath)
			p.linkpath = NULL;
		else
			longlink = NULL;
	}
	if (p.has_size) {
		if (p.size < 0) {
			dapi_tar_entry_free(e);
			rc = sbx_fail(err, SBX_E_INVALID, "tar: bad PAX size");
			goto out;
		}
		e->size = (uint64_t)p.size;
	}
	if (p.has_uid)
		e->uid = (uid_t)p.uid;
	if (p.has_gid)
		e->gid = (gid_t)p.gid;
	if (p.has_mtime)
		e->mtime = p.mtime;
	if (!e->name[0]) {
		dapi_tar_entry_free(e);
		rc = sbx_fail(err, SBX_E_INVALID, "tar: entry with an empty name");
		goto out;
	}
	if (header_only(e->type))
		e->size = 0;
	r->data_left = e->size;
	r->pad_left = padding(e->size);
	rc = 1;
out:
	pax_clear(&p);
	return rc;
}

ssize_t dapi_tar_data(dapi_tar_reader *r, void *buf, size_t n, sbx_error *err)
{
	if (r->data_left == 0 || n == 0)
		return 0;
	if (n > r->data_left)
		n = (size_t)r->data_left;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	int rc = read_exact(r, buf, n, err);
	if (rc < 0)
		return rc;
	r->data_left -= n;
	return (ssize_t)n;
}
