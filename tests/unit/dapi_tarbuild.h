/* A tiny tar writer for the dockerapi unit tests (test_dapi_tar.c,
 * test_dapi_image.c): ustar headers, GNU long names, PAX records, built in
 * memory, and a reader callback over the result. */
#ifndef SBX_TEST_DAPI_TARBUILD_H
#define SBX_TEST_DAPI_TARBUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef struct tb {
	unsigned char *d;
	size_t len, cap;
} tb;

static inline void tb_grow(tb *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->d = realloc(b->d, b->cap);
		if (!b->d)
			abort();
	}
}

static inline void tb_put(tb *b, const void *p, size_t n)
{
	tb_grow(b, n);
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static inline void tb_pad(tb *b)
{
	size_t pad = (512 - b->len % 512) % 512;
	tb_grow(b, pad);
	memset(b->d + b->len, 0, pad);
	b->len += pad;
}

static inline void tb_octal(unsigned char *f, size_t n, uint64_t v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(n - 1), (unsigned long long)v);
	memcpy(f, tmp, n - 1);
	f[n - 1] = 0;
}

static inline void tb_checksum(unsigned char *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	char tmp[8];
	snprintf(tmp, sizeof(tmp), "%06o", sum);
	memcpy(h + 148, tmp, 7);
	h[155] = ' ';
}

/* A ustar header block (not appended): name up to 100 bytes. */
static inline void tb_header_block(unsigned char h[512], const char *name, char type,
				   const char *link, uint64_t size, unsigned mode, unsigned uid,
				   unsigned gid, int64_t mtime)
{
	memset(h, 0, 512);
	strncpy((char *)h, name, 100);
	tb_octal(h + 100, 8, mode);
	tb_octal(h + 108, 8, uid);
	tb_octal(h + 116, 8, gid);
	tb_octal(h + 124, 12, size);
	tb_octal(h + 136, 12, (uint64_t)mtime);
	h[156] = (unsigned char)type;
	if (link)
		strncpy((char *)h + 157, link, 100);
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	tb_checksum(h);
}

static inline void tb_entry(tb *b, const char *name, char type, const char *link, const void *data,
			    size_t size, unsigned mode, unsigned uid, unsigned gid)
{
	unsigned char h[512];
	tb_header_block(h, name, type, link, size, mode, uid, gid, 1700000000);
	tb_put(b, h, 512);
	if (data && size) {
		tb_put(b, data, size);
		tb_pad(b);
	}
}

static inline void tb_file(tb *b, const char *name, const char *content)
{
	tb_entry(b, name, '0', NULL, content, strlen(content), 0644, 0, 0);
}
static inline void tb_dir(tb *b, const char *name)
{
	tb_entry(b, name, '5', NULL, NULL, 0, 0755, 0, 0);
}
static inline void tb_symlink(tb *b, const char *name, const char *target)
{
	tb_entry(b, name, '2', target, NULL, 0, 0777, 0, 0);
}
static inline void tb_hardlink(tb *b, const char *name, const char *target)
{
	tb_entry(b, name, '1', target, NULL, 0, 0644, 0, 0);
}
/* A GNU long name ('L') or long link ('K') for the next entry. */
static inline void tb_gnu_long(tb *b, char type, const char *s)
{
	tb_entry(b, "././@LongLink", type, NULL, s, strlen(s) + 1, 0, 0, 0);
}
/* A PAX 'x' (or 'g') header from "key=value" strings, NULL-terminated. */
static inline void tb_pax(tb *b, char type, const char *const *kv)
{
	tb rec = {0};
	for (; *kv; kv++) {
		size_t l = strlen(*kv) + 2, len = l + 1;
		char num[24];
		for (;;) { /* the length counts its own digits */
			int d = snprintf(num, sizeof(num), "%zu", len);
			if (l + (size_t)d == len)
				break;
			len = l + (size_t)d;
		}
		tb_put(&rec, num, strlen(num));
		tb_put(&rec, " ", 1);
		tb_put(&rec, *kv, strlen(*kv));
		tb_put(&rec, "\n", 1);
	}
	tb_entry(b, "PaxHeaders/x", type, NULL, rec.d, rec.len, 0644, 0, 0);
	free(rec.d);
}
static inline void tb_end(tb *b)
{
	unsigned char z[1024] = {0};
	tb_put(b, z, sizeof(z));
}

/* Reading an in-memory archive as dapi_tar_read_fn does. */
typedef struct memrd {
	const unsigned char *p;
	size_t len, off;
} memrd;

static inline ssize_t memrd_read(void *ctx, void *buf, size_t n)
{
	memrd *m = ctx;
	size_t k = m->len - m->off < n ? m->len - m->off : n;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

#endif
