/* Unit tests: src/dockerapi/tar.c (ustar headers, GNU long names, PAX,
 * caps, truncation), tar_stat.c (Docker's path stat header, name checks)
 * and sha256.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dapi_tarbuild.h"
#include "dockerapi/sha256.h"
#include "dockerapi/tar.h"
#include "proto/jsonparse.h"

typedef struct rdr {
	memrd m;
	dapi_tar_reader r;
} rdr;

static void rdr_init(rdr *x, const tb *b)
{
	x->m = (memrd){b->d, b->len, 0};
	dapi_tar_reader_init(&x->r, memrd_read, &x->m);
}

static char *data_of(dapi_tar_reader *r)
{
	char buf[4096];
	size_t n = 0;
	ssize_t k;
	while ((k = dapi_tar_data(r, buf + n, 7, NULL)) > 0) /* small reads on purpose */
		n += (size_t)k;
	assert_true(k == 0);
	buf[n] = 0;
	return strdup(buf);
}

static void test_basic(void **state)
{
	(void)state;
	tb b = {0};
	tb_dir(&b, "d/");
	tb_file(&b, "d/f", "hello");
	tb_symlink(&b, "d/l", "/etc/passwd");
	tb_entry(&b, "d/x", '0', NULL, "abc", 3, 04755, 1000, 1001);
	tb_end(&b);
	rdr x;
	rdr_init(&x, &b);
	dapi_tar_entry e;
	sbx_error err = {0};
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 1);
	assert_string_equal(e.name, "d/");
	assert_int_equal(e.type, DAPI_TAR_DIR);
	assert_int_equal(e.mode, 0755);
	assert_int_equal(e.mtime, 1700000000);
	dapi_tar_entry_free(&e);
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 1);
	assert_string_equal(e.name, "d/f");
	assert_int_equal(e.size, 5);
	char *d = data_of(&x.r);
	assert_string_equal(d, "hello");
	free(d);
	dapi_tar_entry_free(&e);
	/* the data of this one is skipped by the next call */
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 1);
	assert_int_equal(e.type, DAPI_TAR_SYMLINK);
	assert_string_equal(e.linkname, "/etc/passwd");
	dapi_tar_entry_free(&e);
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 1);
	assert_int_equal(e.mode, 04755);
	assert_int_equal(e.uid, 1000);
	assert_int_equal(e.gid, 1001);
	dapi_tar_entry_free(&e); /* data left unread: skipped */
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 0);
	free(b.d);
}

static void test_prefix_and_checksum_forms(void **state)
{
	(void)state;
	unsigned char h[512];
	tb_header_block(h, "name.txt", '0', NULL, 0, 0644, 0, 0, 5);
	memcpy(h + 345, "some/prefix", 11);
	tb_checksum(h);
	dapi_tar_entry e;
	char raw = 0;
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, NULL), 1);
	assert_string_equal(e.name, "some/prefix/name.txt");
	assert_int_equal(raw, '0');
	dapi_tar_entry_free(&e);
	/* GNU magic: the prefix area is not a prefix */
	memcpy(h + 257, "ustar  \0", 8);
	tb_checksum(h);
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, NULL), 1);
	assert_string_equal(e.name, "name.txt");
	dapi_tar_entry_free(&e);
	/* a signed checksum (bytes >= 0x80 summed as negative) is accepted */
	tb_header_block(h, "caf\xc3\xa9", '0', NULL, 0, 0644, 0, 0, 5);
	int sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (signed char)h[i];
	char tmp[9];
	snprintf(tmp, sizeof(tmp), "%06o", sum);
	memcpy(h + 148, tmp, 7);
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, NULL), 1);
	assert_string_equal(e.name, "caf\xc3\xa9");
	dapi_tar_entry_free(&e);
	/* checksum field terminated by NUL then space, with leading spaces */
	tb_header_block(h, "x", '0', NULL, 0, 0644, 0, 0, 5);
	unsigned usum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		usum += h[i];
	snprintf(tmp, sizeof(tmp), " %05o", usum);
	memcpy(h + 148, tmp, 6);
	h[154] = 0;
	h[155] = ' ';
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, NULL), 1);
	dapi_tar_entry_free(&e);
	/* a wrong checksum */
	tb_header_block(h, "x", '0', NULL, 0, 0644, 0, 0, 5);
	h[0] = 'y';
	sbx_error err = {0};
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "checksum"));
	/* a non-octal digit */
	tb_header_block(h, "x", '0', NULL, 0, 0644, 0, 0, 5);
	h[125] = '9';
	tb_checksum(h);
	assert_true(dapi_tar_parse_header(h, &e, &raw, &err) < 0);
	/* an unknown type */
	tb_header_block(h, "x", 'S', NULL, 0, 0644, 0, 0, 5);
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "unsupported entry type 'S'"));
	/* all zero: the end */
	memset(h, 0, 512);
	assert_int_equal(dapi_tar_parse_header(h, &e, &raw, NULL), 0);
}

static void test_base256(void **state)
{
	(void)state;
	unsigned char h[512];
	tb_header_block(h, "big", '0', NULL, 0, 0644, 0, 0, 5);
	/* size 8 GiB + 1 in base-256 */
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	uint64_t v = (8ull << 30) + 1;
	for (int i = 0; i < 8; i++)
		h[135 - i] = (unsigned char)(v >> (8 * i));
	/* uid 3000000 in base-256 */
	memset(h + 108, 0, 8);
	h[108] = 0x80;
	h[113] = 0x2d, h[114] = 0xc6, h[115] = 0xc0;
	/* mtime -1 (0xff...) */
	memset(h + 136, 0xff, 12);
	tb_checksum(h);
	dapi_tar_entry e;
	assert_int_equal(dapi_tar_parse_header(h, &e, NULL, NULL), 1);
	assert_true(e.size == v);
	assert_int_equal(e.uid, 3000000);
	assert_int_equal(e.mtime, -1);
	dapi_tar_entry_free(&e);
	/* too big for 63 bits */
	memset(h + 124, 0xff, 12);
	h[124] = 0x80;
	tb_checksum(h);
	assert_true(dapi_tar_parse_header(h, &e, NULL, NULL) < 0);
}

static void test_gnu_long_names(void **state)
{
	(void)state;
	char longname[301], longlink[251];
	memset(longname, 'a', 300);
	longname[300] = 0;
	longname[100] = '/';
	memset(longlink, 'b', 250);
	longlink[250] = 0;
	tb b = {0};
	tb_gnu_long(&b, 'L', longname);
	tb_gnu_long(&b, 'K', longlink);
	tb_symlink(&b, "truncated-name", "truncated-link");
	tb_file(&b, "short", "x");
	tb_end(&b);
	rdr x;
	rdr_init(&x, &b);
	dapi_tar_entry e;
	assert_int_equal(dapi_tar_next(&x.r, &e, NULL), 1);
	assert_string_equal(e.name, longname);
	assert_string_equal(e.linkname, longlink);
	dapi_tar_entry_free(&e);
	/* the long name applied to one entry only */
	assert_int_equal(dapi_tar_next(&x.r, &e, NULL), 1);
	assert_string_equal(e.name, "short");
	dapi_tar_entry_free(&e);
	assert_int_equal(dapi_tar_next(&x.r, &e, NULL), 0);
	/* over the cap */
	rdr_init(&x, &b);
	x.r.max_meta = 200;
	sbx_error err = {0};
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "more than 200"));
	free(b.d);
}

static void test_pax(void **state)
{
	(void)state;
	tb b = {0};
	const char *g[] = {"comment=global, ignored", "path=not/this", NULL};
	tb_pax(&b, 'g', g);
	const char *kv[] = {"path=a/very/long/pax/path/\xc3\xa9t\xc3\xa9",
			    "linkpath=target/of/link",
			    "uid=4000000",
			    "gid=123",
			    "mtime=1234567890.123456789",
			    "SCHILY.xattr.user.x=y",
			    "size=5",
			    NULL};
	tb_pax(&b, 'x', kv);
	tb_entry(&b, "short", '0', NULL, NULL, 0, 0644, 0, 0);
	tb_put(&b, "12345", 5);
	tb_pad(&b);
	tb_file(&b, "next", "n");
	tb_end(&b);
	rdr x;
	rdr_init(&x, &b);
	dapi_tar_entry e;
	sbx_error err = {0};
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 1);
	assert_string_equal(e.name, "a/very/long/pax/path/\xc3\xa9t\xc3\xa9");
	assert_string_equal(e.linkname, "target/of/link");
	assert_int_equal(e.uid, 4000000);
	assert_int_equal(e.gid, 123);
	assert_int_equal(e.mtime, 1234567890);
	assert_int_equal(e.size, 5);
	char *d = data_of(&x.r);
	assert_string_equal(d, "12345");
	free(d);
	dapi_tar_entry_free(&e);
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), 1);
	assert_string_equal(e.name, "next");
	assert_string_equal(e.linkname, "");
	assert_int_equal(e.uid, 0);
	dapi_tar_entry_free(&e);
	free(b.d);

	/* malformed records */
	const char *bad[][2] = {{"3 x=y\n", ""}, {"9 path=abc", ""}, {"x path=a\n", ""}};
	for (size_t i = 0; i < 3; i++) {
		tb c = {0};
		tb_entry(&c, "h", 'x', NULL, bad[i][0], strlen(bad[i][0]), 0644, 0, 0);
		tb_file(&c, "f", "x");
		tb_end(&c);
		rdr_init(&x, &c);
		assert_int_equal(dapi_tar_next(&x.r, &e, &err), -SBX_E_INVALID);
		assert_non_null(strstr(err.msg, "PAX"));
		free(c.d);
	}
	const char *neg[] = {"uid=-1", NULL};
	tb c = {0};
	tb_pax(&c, 'x', neg);
	tb_file(&c, "f", "x");
	tb_end(&c);
	rdr_init(&x, &c);
	assert_int_equal(dapi_tar_next(&x.r, &e, &err), -SBX_E_INVALID);
	free(c.d);
}

static void test_truncated(void **state)
{
	(void)state;
	tb b = {0};
	tb_file(&b, "f", "0123456789");
	tb_file(&b, "g", "abc");
	tb_end(&b);
	size_t cuts[] = {100, 512, 515, 1024, 1536 + 200, 2048};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		rdr x;
		rdr_init(&x, &b);
		x.m.len = cuts[i];
		dapi_tar_entry e;
		sbx_error err = {0};
		int r;
		while ((r = dapi_tar_next(&x.r, &e, &err)) == 1) {
			char buf[64];
			ssize_t k;
			while ((k = dapi_tar_data(&x.r, buf, sizeof(buf), &err)) > 0)
				;
			dapi_tar_entry_free(&e);
			if (k < 0) {
				r = (int)k;
				break;
			}
		}
		assert_int_equal(r, -SBX_E_INVALID);
		assert_non_null(strstr(err.msg, "truncated"));
	}
	/* one zero block is enough to end */
	rdr x;
	rdr_init(&x, &b);
	x.m.len = b.len - 512;
	dapi_tar_entry e;
	int n = 0, r;
	while ((r = dapi_tar_next(&x.r, &e, NULL)) == 1) {
		n++;
		dapi_tar_entry_free(&e);
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, 2);
	free(b.d);
}

static const char *b64dec(const char *s, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		v = v << 6 | (unsigned)(strchr(tab, *s) - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(v >> bits);
		}
	}
	out[o] = 0;
	return out;
}

static void test_path_stat(void **state)
{
	(void)state;
	dapi_tar_entry e = {
	    .name = "x", .linkname = "", .type = DAPI_TAR_DIR, .mode = 0755, .mtime = 1795914123};
	char *s = NULL, js[512];
	assert_int_equal(dapi_tar_path_stat(&e, "dir", &s, NULL), 0);
	assert_string_equal(b64dec(s, js),
			    "{\"name\":\"dir\",\"size\":0,\"mode\":2147484141,"
			    "\"mtime\":\"2026-11-29T01:02:03Z\",\"linkTarget\":\"\"}");
	free(s);
	e.type = DAPI_TAR_SYMLINK;
	e.mode = 0777;
	e.linkname = "/etc/\"q\"";
	assert_int_equal(dapi_tar_path_stat(&e, "l\n", &s, NULL), 0);
	assert_string_equal(
	    b64dec(s, js), "{\"name\":\"l\\n\",\"size\":8,\"mode\":134218239,"
			   "\"mtime\":\"2026-11-29T01:02:03Z\",\"linkTarget\":\"/etc/\\\"q\\\"\"}");
	free(s);
	/* setuid file, 100 bytes: 1<<23 | 0755 */
	e.type = DAPI_TAR_FILE;
	e.mode = 04755;
	e.size = 100;
	e.mtime = 0;
	assert_int_equal(dapi_tar_path_stat(&e, "f", &s, NULL), 0);
	assert_non_null(strstr(b64dec(s, js), "\"size\":100,\"mode\":8389101,"
					      "\"mtime\":\"1970-01-01T00:00:00Z\""));
	free(s);
	/* char device: 1<<26 | 1<<21 | 0620; fifo; sticky+setgid dir */
	e.type = DAPI_TAR_CHAR;
	e.mode = 0620;
	assert_int_equal(dapi_tar_path_stat(&e, "tty", &s, NULL), 0);
	assert_non_null(strstr(b64dec(s, js), "\"mode\":69206416,"));
	free(s);
	e.type = DAPI_TAR_FIFO;
	e.mode = 0644;
	assert_int_equal(dapi_tar_path_stat(&e, "p", &s, NULL), 0);
	assert_non_null(strstr(b64dec(s, js), "\"mode\":33554852,"));
	free(s);
	e.type = DAPI_TAR_DIR;
	e.mode = 03777;
	assert_int_equal(dapi_tar_path_stat(&e, "t", &s, NULL), 0);
	assert_non_null(strstr(b64dec(s, js), "\"mode\":2152727039,"));
	/* the whole value is valid JSON */
	sbx_jval *v = NULL;
	assert_int_equal(sbx_jparse(js, strlen(js), &v, NULL), 0);
	sbx_jfree(v);
	free(s);
}

static void test_check_name(void **state)
{
	(void)state;
	const char *ok[] = {"a",
			    "./a",
			    "././a/b",
			    "a/./b",
			    "a/b/",
			    ".//a",
			    "a..b",
			    "..a",
			    "a/.."
			    "b"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(dapi_tar_check_name(ok[i], NULL), 0);
	const char *bad[] = {"",     "./",     "/abs",	    ".//", "../x",  "a/../../b",
			     "a/..", "./../x", "./a/../..", "..",  "a/../b"};
	sbx_error err = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dapi_tar_check_name(bad[i], &err), -SBX_E_PATH);
	assert_int_equal(dapi_tar_check_name("/etc/passwd", &err), -SBX_E_PATH);
	assert_non_null(strstr(err.msg, "absolute"));
}

static void test_sha256(void **state)
{
	(void)state;
	char hex[65];
	dapi_sha256_hex("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	dapi_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	dapi_sha256_hex(m, strlen(m), hex);
	assert_string_equal(hex,
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a', fed in uneven pieces */
	dapi_sha256 s;
	dapi_sha256_init(&s);
	char a[997];
	memset(a, 'a', sizeof(a));
	size_t left = 1000000;
	while (left) {
		size_t k = left < sizeof(a) ? left : sizeof(a);
		dapi_sha256_update(&s, a, k);
		left -= k;
	}
	unsigned char d[32];
	dapi_sha256_final(&s, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(hex,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),     cmocka_unit_test(test_prefix_and_checksum_forms),
	    cmocka_unit_test(test_base256),   cmocka_unit_test(test_gnu_long_names),
	    cmocka_unit_test(test_pax),	      cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_path_stat), cmocka_unit_test(test_check_name),
	    cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
