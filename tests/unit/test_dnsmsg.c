/* Unit tests: src/proto/dnsmsg.c on messages built byte by byte here:
 * queries (with EDNS), refusals, answers with compression, CNAME chains,
 * AAAA, NXDOMAIN; malformed input of every kind (truncation, long labels
 * and names, pointers in queries, forward and looping pointers, bad
 * rdlength and counts); random bytes and mutations of a valid answer,
 * each in a heap buffer of exactly its size so that ASan sees any read
 * past its end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "proto/dnsmsg.h"

/* ---- a message builder --------------------------------------------------- */

typedef struct msg {
	uint8_t b[SBX_DNS_MAX + 64];
	size_t n;
} msg;

static void put8(msg *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void put16(msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xFF);
}

static void put32(msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xFFFF);
}

static void put_bytes(msg *m, const void *p, size_t len)
{
	assert_true(m->n + len <= sizeof(m->b));
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

/* Labels of a dotted name ("" for none), without the terminator. */
static void put_labels(msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)len);
		put_bytes(m, name, len);
		name += len + (dot ? 1 : 0);
	}
}

static void put_name(msg *m, const char *name)
{
	put_labels(m, name);
	put8(m, 0);
}

static void put_ptr(msg *m, size_t off)
{
	put16(m, 0xC000 | (unsigned)off);
}

static void header(msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
		   unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void put_opt(msg *m)
{
	put8(m, 0);	/* root */
	put16(m, 41);	/* OPT */
	put16(m, 1232); /* UDP payload size */
	put32(m, 0);	/* extended rcode, version, flags */
	put16(m, 0);	/* no options */
}

/* A query as a stub resolver sends it: RD, one question, an EDNS OPT. */
static void query(msg *m, unsigned id, const char *name, unsigned type)
{
	header(m, id, 0x0100, 1, 0, 0, 1);
	put_name(m, name);
	put16(m, type);
	put16(m, SBX_DNS_CLASS_IN);
	put_opt(m);
}

/* A record's fixed part and rdlength. */
static void rr(msg *m, unsigned type, unsigned class, uint32_t ttl, unsigned rdlen)
{
	put16(m, type);
	put16(m, class);
	put32(m, ttl);
	put16(m, rdlen);
}

/* A copy of m in a heap buffer of exactly its size (ASan sees overreads). */
static uint8_t *exact(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

static int parse_exact(const uint8_t *p, size_t n, sbx_dns_query *q)
{
	uint8_t *c = exact(p, n);
	int r = sbx_dns_parse_query(c, n, q);
	free(c);
	return r;
}

static int addrs_exact(const uint8_t *p, size_t n, const sbx_dns_query *q, sbx_dns_addr *out,
		       size_t max)
{
	uint8_t *c = exact(p, n);
	int r = sbx_dns_answer_addrs(c, n, q, out, max);
	free(c);
	return r;
}

static sbx_dns_query pypi_query(void)
{
	sbx_dns_query q;
	msg m;
	query(&m, 0xBEEF, "PyPI.org", SBX_DNS_TYPE_A);
	assert_int_equal(sbx_dns_parse_query(m.b, m.n, &q), 0);
	return q;
}

/* ---- queries -------------------------------------------------------------- */

static void test_query_pypi_edns(void **state)
{
	(void)state;
	msg m;
	query(&m, 0x1234, "PyPI.org", SBX_DNS_TYPE_A);
	/* The bytes a resolver sends, spelled out once. */
	static const uint8_t want[] = {
	    0x12, 0x34, 0x01, 0x00, 0,	  1, 0,	  0,   0,   0, 0, 1,	   /* header */
	    4,	  'P',	'y',  'P',  'I',  3, 'o', 'r', 'g', 0, 0, 1, 0, 1, /* question */
	    0,	  0,	41,   0x04, 0xD0, 0, 0,	  0,   0,   0, 0,	   /* OPT */
	};
	assert_int_equal(m.n, sizeof(want));
	assert_memory_equal(m.b, want, sizeof(want));

	sbx_dns_query q;
	memset(&q, 0xAA, sizeof(q));
	assert_int_equal(parse_exact(m.b, m.n, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_string_equal(q.name, "pypi.org");
	assert_int_equal(q.qtype, SBX_DNS_TYPE_A);
	assert_int_equal(q.qclass, SBX_DNS_CLASS_IN);
	assert_int_equal(q.qend, 12 + 10 + 4);
}

static void test_query_without_edns_and_aaaa(void **state)
{
	(void)state;
	msg m;
	header(&m, 7, 0x0100, 1, 0, 0, 0);
	put_name(&m, "Files.PythonHosted.ORG");
	put16(&m, SBX_DNS_TYPE_AAAA);
	put16(&m, SBX_DNS_CLASS_IN);
	sbx_dns_query q;
	assert_int_equal(parse_exact(m.b, m.n, &q), 0);
	assert_string_equal(q.name, "files.pythonhosted.org");
	assert_int_equal(q.qtype, SBX_DNS_TYPE_AAAA);
	assert_int_equal(q.qend, m.n);
}

static void test_query_root_and_odd_bytes(void **state)
{
	(void)state;
	msg m;
	query(&m, 1, "", 2 /* NS */);
	sbx_dns_query q;
	assert_int_equal(parse_exact(m.b, m.n, &q), 0);
	assert_string_equal(q.name, "");
	assert_int_equal(q.qtype, 2);
	assert_int_equal(q.qend, 12 + 1 + 4);

	/* Underscores and digits (SRV names) are fine. */
	query(&m, 1, "_https._tcp.Host-1.example", 33);
	assert_int_equal(parse_exact(m.b, m.n, &q), 0);
	assert_string_equal(q.name, "_https._tcp.host-1.example");

	/* A dot, a NUL, a space, a control or a non-ASCII byte inside a label
	 * would make the dotted name ambiguous or unsafe to print. */
	static const char bad[] = {'.', '\0', ' ', '\n', (char)0x7F, (char)0xC3};
	for (size_t i = 0; i < sizeof(bad); i++) {
		header(&m, 1, 0x0100, 1, 0, 0, 0);
		put8(&m, 3);
		put8(&m, 'a');
		put8(&m, (uint8_t)bad[i]);
		put8(&m, 'b');
		put_name(&m, "org");
		put16(&m, 1);
		put16(&m, 1);
		assert_int_equal(parse_exact(m.b, m.n, &q), -1);
	}
}

/* Every proper prefix of a valid query (truncated header, label, name,
 * type, class) is refused; the additional records are not looked at. */
static void test_query_truncated(void **state)
{
	(void)state;
	msg m;
	query(&m, 0x4242, "pypi.org", SBX_DNS_TYPE_A);
	sbx_dns_query q;
	size_t qend = 12 + 10 + 4;
	for (size_t n = 0; n < qend; n++)
		assert_int_equal(parse_exact(m.b, n, &q), -1);
	for (size_t n = qend; n <= m.n; n++)
		assert_int_equal(parse_exact(m.b, n, &q), 0);
	assert_int_equal(sbx_dns_parse_query(NULL, m.n, &q), -1);
	assert_int_equal(sbx_dns_parse_query(m.b, m.n, NULL), -1);
}

static void test_query_header_checks(void **state)
{
	(void)state;
	sbx_dns_query q;
	msg m;
	struct {
		unsigned flags, qd, an, ns, ar;
		int want;
	} cases[] = {
	    {0x0100, 1, 0, 0, 0, 0},  {0x0000, 1, 0, 0, 5, 0}, /* no RD, ARCOUNT any */
	    {0x8100, 1, 0, 0, 0, -1},			       /* QR: a response */
	    {0x0900, 1, 0, 0, 0, -1},			       /* opcode 1 (IQUERY) */
	    {0x1100, 1, 0, 0, 0, -1},			       /* opcode 2 (STATUS) */
	    {0x2800, 1, 0, 0, 0, -1},			       /* opcode 5 (UPDATE) */
	    {0x0100, 0, 0, 0, 0, -1}, {0x0100, 2, 0, 0, 0, -1},
	    {0x0100, 1, 1, 0, 0, -1}, {0x0100, 1, 0, 1, 0, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header(&m, 9, cases[i].flags, cases[i].qd, cases[i].an, cases[i].ns, cases[i].ar);
		put_name(&m, "pypi.org");
		put16(&m, 1);
		put16(&m, 1);
		/* A second question's worth of bytes for QDCOUNT 2. */
		put_name(&m, "pypi.org");
		put16(&m, 1);
		put16(&m, 1);
		assert_int_equal(parse_exact(m.b, m.n, &q), cases[i].want);
	}
}

static void test_query_label_limits(void **state)
{
	(void)state;
	char l63[64], l61[62];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l61, 'b', 61);
	l61[61] = '\0';
	sbx_dns_query q;
	msg m;

	/* A label of 63: fine. A length byte of 64 is label type 0x40. */
	query(&m, 1, l63, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), 0);
	assert_string_equal(q.name, l63);
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put8(&m, 64);
	for (int i = 0; i < 64; i++)
		put8(&m, 'a');
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), -1);
	/* Label type 0x80 (reserved), even with enough bytes after it. */
	m.b[12] = 0x80 | 3;
	assert_int_equal(parse_exact(m.b, m.n, &q), -1);

	/* 255 bytes in wire form (3 x 64 + 62 + 1): the longest name. */
	char name[300];
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, l61);
	query(&m, 1, name, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), 0);
	assert_string_equal(q.name, name);
	assert_int_equal(strlen(q.name), 253);
	assert_int_equal(q.qend, 12 + 255 + 4);
	/* One more byte: 256. */
	snprintf(name, sizeof(name), "%s.%s.%s.%sb", l63, l63, l63, l61);
	query(&m, 1, name, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), -1);
	/* Many short labels past 255. */
	char many[600] = "";
	for (int i = 0; i < 130; i++)
		strcat(many, i ? ".x" : "x");
	query(&m, 1, many, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), -1);
}

static void test_query_pointer_refused(void **state)
{
	(void)state;
	sbx_dns_query q;
	msg m;
	/* "www" then a pointer back to the header: in a query, refused. */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put_labels(&m, "www");
	put_ptr(&m, 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), -1);
	/* A pointer as the whole name. */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put_ptr(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse_exact(m.b, m.n, &q), -1);
}

static void test_query_too_big(void **state)
{
	(void)state;
	msg m;
	memset(&m, 0, sizeof(m));
	query(&m, 1, "pypi.org", 1);
	sbx_dns_query q;
	/* Padding after the question is never read, but the size is capped. */
	assert_int_equal(parse_exact(m.b, SBX_DNS_MAX, &q), 0);
	assert_int_equal(parse_exact(m.b, SBX_DNS_MAX + 1, &q), -1);
}

/* ---- refusals -------------------------------------------------------------- */

static void test_reply_rcode(void **state)
{
	(void)state;
	msg m;
	/* RD, AD and CD set in the query, an EDNS OPT after the question. */
	header(&m, 0xCAFE, 0x0130, 1, 0, 0, 1);
	put_name(&m, "evil.example");
	put16(&m, SBX_DNS_TYPE_A);
	put16(&m, SBX_DNS_CLASS_IN);
	put_opt(&m);
	sbx_dns_query q;
	assert_int_equal(sbx_dns_parse_query(m.b, m.n, &q), 0);

	uint8_t out[SBX_DNS_MAX];
	memset(out, 0xEE, sizeof(out));
	ssize_t r = sbx_dns_reply_rcode(m.b, &q, SBX_DNS_REFUSED, out, sizeof(out));
	assert_int_equal(r, q.qend);
	static const uint8_t want_hdr[] = {0xCA, 0xFE, 0x81, 0x85, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(out, want_hdr, sizeof(want_hdr));
	assert_memory_equal(out + 12, m.b + 12, q.qend - 12);
	assert_int_equal(out[q.qend], 0xEE); /* nothing past it */

	/* The reply parses as an answer to the query, with no addresses. */
	sbx_dns_addr a[2];
	assert_int_equal(addrs_exact(out, (size_t)r, &q, a, 2), 0);

	/* Without RD in the query, none in the reply; SERVFAIL, NXDOMAIN. */
	m.b[2] = 0;
	r = sbx_dns_reply_rcode(m.b, &q, SBX_DNS_SERVFAIL, out, sizeof(out));
	assert_int_equal(r, q.qend);
	assert_int_equal(out[2], 0x80);
	assert_int_equal(out[3], 0x82);
	r = sbx_dns_reply_rcode(m.b, &q, SBX_DNS_NXDOMAIN, out, sizeof(out));
	assert_int_equal(out[3], 0x83);

	/* The exact size fits, one less does not; a bad rcode. */
	assert_int_equal(sbx_dns_reply_rcode(m.b, &q, 5, out, q.qend), q.qend);
	assert_int_equal(sbx_dns_reply_rcode(m.b, &q, 5, out, q.qend - 1), -1);
	assert_int_equal(sbx_dns_reply_rcode(m.b, &q, 16, out, sizeof(out)), -1);
	assert_int_equal(sbx_dns_reply_rcode(m.b, &q, -1, out, sizeof(out)), -1);

	/* In place. */
	assert_int_equal(sbx_dns_reply_rcode(m.b, &q, SBX_DNS_REFUSED, m.b, m.n), q.qend);
	assert_int_equal(m.b[2], 0x80);
	assert_int_equal(m.b[3], 0x85);
	assert_int_equal(m.b[11], 0);
}

static void test_set_id(void **state)
{
	(void)state;
	uint8_t b[2] = {0, 0};
	sbx_dns_set_id(b, 0xA1B2);
	assert_int_equal(b[0], 0xA1);
	assert_int_equal(b[1], 0xB2);
}

/* ---- answers --------------------------------------------------------------- */

/* pypi.org's answer as a resolver gives it (question in other case):
 * a CNAME whose target is partly compressed, then two A records owned by
 * the CNAME's target (a pointer into the CNAME's rdata), and an EDNS OPT.
 * The offset of the first record to *first. */
static void cname_answer(msg *m, unsigned id, size_t *first)
{
	header(m, id, 0x8180, 1, 3, 0, 1);
	put_name(m, "PYPI.org");
	put16(m, SBX_DNS_TYPE_A);
	put16(m, SBX_DNS_CLASS_IN);
	if (first)
		*first = m->n;
	put_ptr(m, 12); /* pypi.org */
	rr(m, 5 /* CNAME */, SBX_DNS_CLASS_IN, 300, 0);
	size_t rdlen_at = m->n - 2, target = m->n;
	put_labels(m, "dualstack.python.map.fastly");
	put_name(m, "net");
	m->b[rdlen_at + 1] = (uint8_t)(m->n - target);
	put_ptr(m, target);
	rr(m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 60, 4);
	put_bytes(m, "\x97\x65\x00\xDF", 4);
	put_ptr(m, target);
	rr(m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 61, 4);
	put_bytes(m, "\x97\x65\x40\xDF", 4);
	put_opt(m);
}

static void test_answer_cname_two_a(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	cname_answer(&m, q.id, NULL);
	sbx_dns_addr a[4];
	memset(a, 0x55, sizeof(a));
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), 2);
	assert_int_equal(a[0].family, AF_INET);
	assert_memory_equal(a[0].addr, "\x97\x65\x00\xDF", 4);
	assert_int_equal(a[0].ttl, 60);
	assert_int_equal(a[1].family, AF_INET);
	assert_memory_equal(a[1].addr, "\x97\x65\x40\xDF", 4);
	assert_int_equal(a[1].ttl, 61);
	assert_int_equal(a[2].family, 0x55555555); /* untouched */

	/* Truncated anywhere: refused (the OPT after the answers is not read). */
	size_t opt = m.n - 11;
	for (size_t n = 0; n < opt; n++)
		assert_int_equal(addrs_exact(m.b, n, &q, a, 4), -1);
	assert_int_equal(addrs_exact(m.b, opt, &q, a, 4), 2);
}

static void test_answer_aaaa(void **state)
{
	(void)state;
	msg m;
	query(&m, 0x0101, "files.pythonhosted.org", SBX_DNS_TYPE_AAAA);
	sbx_dns_query q;
	assert_int_equal(sbx_dns_parse_query(m.b, m.n, &q), 0);

	static const uint8_t v6[16] = {0x2a, 0x04, 0x4e, 0x42, 0, 0, 0,	   0,
				       0,    0,	   0,	 0,    0, 0, 0x02, 0x23};
	header(&m, 0x0101, 0x8180, 1, 1, 0, 0);
	put_name(&m, "files.pythonhosted.org");
	put16(&m, SBX_DNS_TYPE_AAAA);
	put16(&m, SBX_DNS_CLASS_IN);
	put_ptr(&m, 12);
	rr(&m, SBX_DNS_TYPE_AAAA, SBX_DNS_CLASS_IN, 0x80000001u, 16); /* TTL top bit: 0 */
	put_bytes(&m, v6, 16);
	sbx_dns_addr a[1];
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), 1);
	assert_int_equal(a[0].family, AF_INET6);
	assert_memory_equal(a[0].addr, v6, 16);
	assert_int_equal(a[0].ttl, 0);

	/* The largest TTL without the top bit is kept. */
	memcpy(m.b + m.n - 16 - 6, "\x7F\xFF\xFF\xFF", 4);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), 1);
	assert_int_equal(a[0].ttl, 0x7FFFFFFFu);

	/* An AAAA of 4 bytes, an A of 16: malformed. */
	header(&m, 0x0101, 0x8180, 1, 1, 0, 0);
	put_name(&m, "files.pythonhosted.org");
	put16(&m, SBX_DNS_TYPE_AAAA);
	put16(&m, SBX_DNS_CLASS_IN);
	size_t rec = m.n;
	put_ptr(&m, 12);
	rr(&m, SBX_DNS_TYPE_AAAA, SBX_DNS_CLASS_IN, 5, 4);
	put_bytes(&m, v6, 4);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), -1);
	m.n = rec;
	put_ptr(&m, 12);
	rr(&m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 5, 16);
	put_bytes(&m, v6, 16);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), -1);
}

/* Other types and classes are skipped, whatever their rdata. */
static void test_answer_ignores_others(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	header(&m, q.id, 0x8180, 1, 4, 0, 0);
	put_name(&m, "pypi.org");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	rr(&m, 16 /* TXT */, SBX_DNS_CLASS_IN, 1, 3);
	put_bytes(&m, "\xC0\xFF\x80", 3); /* nonsense rdata, never read */
	put_ptr(&m, 12);
	rr(&m, SBX_DNS_TYPE_A, 3 /* CH */, 1, 7); /* not IN: not an address */
	put_bytes(&m, "1234567", 7);
	put_name(&m, "other.example"); /* an owner without a pointer */
	rr(&m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 9, 4);
	put_bytes(&m, "\x0a\x00\x00\x01", 4);
	put8(&m, 0); /* the root as owner */
	rr(&m, 46 /* RRSIG */, SBX_DNS_CLASS_IN, 1, 0);
	sbx_dns_addr a[4];
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), 1);
	assert_memory_equal(a[0].addr, "\x0a\x00\x00\x01", 4);
	assert_int_equal(a[0].ttl, 9);
}

static void test_answer_mismatch(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	sbx_dns_addr a[4];
	cname_answer(&m, q.id, NULL);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), 2);

	/* Another id. */
	cname_answer(&m, q.id ^ 1, NULL);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* Not a response (QR 0), or another opcode. */
	cname_answer(&m, q.id, NULL);
	m.b[2] &= 0x7F;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	cname_answer(&m, q.id, NULL);
	m.b[2] |= 0x10;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* QDCOUNT 0 or 2. */
	cname_answer(&m, q.id, NULL);
	m.b[5] = 0;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	m.b[5] = 2;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* Another name (one letter, a label more, a label less). */
	cname_answer(&m, q.id, NULL);
	m.b[13] = 'q';
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	sbx_dns_query other = q;
	strcpy(other.name, "www.pypi.org");
	cname_answer(&m, q.id, NULL);
	assert_int_equal(addrs_exact(m.b, m.n, &other, a, 4), -1);
	strcpy(other.name, "org");
	assert_int_equal(addrs_exact(m.b, m.n, &other, a, 4), -1);
	/* Another type or class. */
	other = q;
	other.qtype = SBX_DNS_TYPE_AAAA;
	assert_int_equal(addrs_exact(m.b, m.n, &other, a, 4), -1);
	other = q;
	other.qclass = 3;
	assert_int_equal(addrs_exact(m.b, m.n, &other, a, 4), -1);
	/* Bad arguments. */
	assert_int_equal(sbx_dns_answer_addrs(NULL, m.n, &q, a, 4), -1);
	assert_int_equal(sbx_dns_answer_addrs(m.b, m.n, NULL, a, 4), -1);
	assert_int_equal(sbx_dns_answer_addrs(m.b, m.n, &q, NULL, 4), -1);
	assert_int_equal(sbx_dns_answer_addrs(m.b, SBX_DNS_MAX + 1, &q, a, 4), -1);
}

static void test_answer_nxdomain(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	/* NXDOMAIN: no answers, the zone's SOA in the authority section. */
	header(&m, q.id, 0x8183, 1, 0, 1, 0);
	put_name(&m, "pypi.org");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 17); /* org */
	rr(&m, 6 /* SOA */, SBX_DNS_CLASS_IN, 900, 2);
	put_bytes(&m, "\0\0", 2);
	sbx_dns_addr a[2];
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 2), 0);
	/* SERVFAIL and REFUSED with just the question, too. */
	header(&m, q.id, 0x8182, 1, 0, 0, 0);
	put_name(&m, "pypi.org");
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 2), 0);
	m.b[3] = 0x85;
	assert_int_equal(addrs_exact(m.b, m.n, &q, NULL, 0), 0);
}

/* More addresses than room: the first max, and the rest still checked. */
static void test_answer_max(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	header(&m, q.id, 0x8180, 1, 5, 0, 0);
	put_name(&m, "pypi.org");
	put16(&m, 1);
	put16(&m, 1);
	for (unsigned i = 0; i < 5; i++) {
		put_ptr(&m, 12);
		rr(&m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 100 + i, 4);
		put32(&m, 0x0A000000u + i);
	}
	sbx_dns_addr a[5];
	memset(a, 0, sizeof(a));
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 2), 2);
	assert_memory_equal(a[0].addr, "\x0a\x00\x00\x00", 4);
	assert_memory_equal(a[1].addr, "\x0a\x00\x00\x01", 4);
	assert_int_equal(a[1].ttl, 101);
	assert_int_equal(a[2].family, 0);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 5), 5);
	assert_int_equal(a[4].ttl, 104);
	assert_int_equal(addrs_exact(m.b, m.n, &q, NULL, 0), 0);
	/* A malformed last record fails the whole answer, room or not. */
	m.b[m.n - 5] = 5; /* rdlength 5 for an A */
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), -1);
}

static void test_answer_counts_and_rdlength(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	sbx_dns_addr a[4];
	/* ANCOUNT 4 with three records present. */
	cname_answer(&m, q.id, NULL);
	m.n -= 11; /* no OPT */
	m.b[7] = 4;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* ANCOUNT 0xFFFF over a small message. */
	m.b[6] = 0xFF;
	m.b[7] = 0xFF;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* ANCOUNT 2 of 3: the third is not read. */
	m.b[6] = 0;
	m.b[7] = 2;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), 1);

	/* rdlength past the end, by one and by a lot. */
	header(&m, q.id, 0x8180, 1, 1, 0, 0);
	put_name(&m, "pypi.org");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	rr(&m, 16, SBX_DNS_CLASS_IN, 1, 4);
	put_bytes(&m, "abcd", 4);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), 0);
	m.b[m.n - 5] = 5;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	m.b[m.n - 6] = 0xFF;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
}

static void test_answer_bad_pointers(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	sbx_dns_addr a[4];
	size_t first;

	/* The first record's owner pointing to itself. */
	cname_answer(&m, q.id, &first);
	m.b[first + 1] = (uint8_t)first;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* Forward, to the next record's owner (a pointer back to 12). */
	cname_answer(&m, q.id, &first);
	assert_true(first < 256);
	m.b[first + 1] = 0xFF;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* Past the end of the message. */
	cname_answer(&m, q.id, &first);
	m.b[first] = 0xFF;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* Into the header: the flags byte 0x81 read as a length is label type 0x80. */
	cname_answer(&m, q.id, &first);
	m.b[first + 1] = 2; /* flags 0x81: label type 0x80 */
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* A pointer cut after its first byte. */
	cname_answer(&m, q.id, &first);
	assert_int_equal(addrs_exact(m.b, first + 1, &q, a, 4), -1);

	/* Two names pointing at each other: one points forward. Record 1's
	 * owner is "a" + pointer to record 2's owner, which points back to
	 * record 1's owner. */
	header(&m, q.id, 0x8180, 1, 2, 0, 0);
	put_name(&m, "pypi.org");
	put16(&m, 1);
	put16(&m, 1);
	size_t r1 = m.n;
	put_labels(&m, "a");
	size_t fwd = m.n;
	put_ptr(&m, 0); /* patched below */
	rr(&m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 1, 4);
	put32(&m, 1);
	size_t r2 = m.n;
	put_ptr(&m, r1);
	rr(&m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 1, 4);
	put32(&m, 2);
	m.b[fwd] = (uint8_t)(0xC0 | (r2 >> 8));
	m.b[fwd + 1] = (uint8_t)r2;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* A pointer back into its own run of labels ("a" then a pointer to
	 * "a"): earlier than the pointer but not than the name, a loop. */
	m.b[fwd] = (uint8_t)(0xC0 | (r1 >> 8));
	m.b[fwd + 1] = (uint8_t)r1;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), -1);
	/* Fixed: "a" + pointer to the question's name. */
	m.b[fwd] = 0xC0;
	m.b[fwd + 1] = 12;
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 4), 2);
}

/* A chain of pointers, each to the one before it, hidden in a TXT
 * record's rdata; an A record's owner enters it at link k (k + 1 jumps). */
static void pointer_chain(msg *m, const sbx_dns_query *q, int k)
{
	header(m, q->id, 0x8180, 1, 2, 0, 0);
	put_name(m, "pypi.org");
	put16(m, 1);
	put16(m, 1);
	put_ptr(m, 12);
	rr(m, 16, SBX_DNS_CLASS_IN, 1, 0);
	size_t rdlen_at = m->n - 2, start = m->n;
	size_t link[40];
	link[0] = m->n;
	put_name(m, "x");
	for (int i = 1; i <= k; i++) {
		link[i] = m->n;
		put_ptr(m, link[i - 1]);
	}
	m->b[rdlen_at + 1] = (uint8_t)(m->n - start);
	put_ptr(m, link[k]);
	rr(m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 1, 4);
	put32(m, 0x7F000001);
}

static void test_answer_jump_limit(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	msg m;
	sbx_dns_addr a[1];
	pointer_chain(&m, &q, 15); /* 16 jumps */
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), 1);
	pointer_chain(&m, &q, 16); /* 17 */
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), -1);
	pointer_chain(&m, &q, 0);
	assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), 1);
}

/* A name made long by pointers: four labels of 63, each run ending in a
 * pointer to the previous one, is 257 bytes uncompressed. */
static void test_answer_long_name_through_pointers(void **state)
{
	(void)state;
	sbx_dns_query q = pypi_query();
	char l63[64];
	memset(l63, 'z', 63);
	l63[63] = '\0';
	for (int runs = 3; runs <= 4; runs++) {
		msg m;
		header(&m, q.id, 0x8180, 1, 2, 0, 0);
		put_name(&m, "pypi.org");
		put16(&m, 1);
		put16(&m, 1);
		put_ptr(&m, 12);
		rr(&m, 16, SBX_DNS_CLASS_IN, 1, 0);
		size_t rdlen_at = m.n - 2, start = m.n, prev = m.n;
		put_name(&m, l63);
		for (int i = 1; i < runs; i++) {
			size_t here = m.n;
			put_labels(&m, l63);
			put_ptr(&m, prev);
			prev = here;
		}
		size_t rdlen = m.n - start;
		m.b[rdlen_at] = (uint8_t)(rdlen >> 8);
		m.b[rdlen_at + 1] = (uint8_t)rdlen;
		put_ptr(&m, prev);
		rr(&m, SBX_DNS_TYPE_A, SBX_DNS_CLASS_IN, 1, 4);
		put32(&m, 0x7F000001);
		sbx_dns_addr a[1];
		assert_int_equal(addrs_exact(m.b, m.n, &q, a, 1), runs == 3 ? 1 : -1);
	}
}

/* ---- random input ---------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, enough for this. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static void check_query_result(const uint8_t *p, size_t n)
{
	sbx_dns_query q;
	if (parse_exact(p, n, &q) != 0)
		return;
	assert_true(q.qend >= 12 + 1 + 4 && q.qend <= n);
	size_t len = strnlen(q.name, sizeof(q.name));
	assert_true(len <= 253);
	for (size_t i = 0; i < len; i++)
		assert_false(q.name[i] >= 'A' && q.name[i] <= 'Z');
	uint8_t out[SBX_DNS_MAX];
	assert_int_equal(sbx_dns_reply_rcode(p, &q, SBX_DNS_REFUSED, out, sizeof(out)),
			 (ssize_t)q.qend);
}

static void check_answer_result(const uint8_t *p, size_t n, const sbx_dns_query *q)
{
	sbx_dns_addr a[3];
	int r = addrs_exact(p, n, q, a, 3);
	assert_true(r >= -1 && r <= 3);
	for (int i = 0; i < r; i++) {
		assert_true(a[i].family == AF_INET || a[i].family == AF_INET6);
		assert_true(a[i].ttl <= 0x7FFFFFFFu);
	}
}

static void test_fuzz_random_bytes(void **state)
{
	(void)state;
	rng_state = 0x9E3779B97F4A7C15ULL;
	sbx_dns_query q = pypi_query();
	uint8_t b[700];
	for (int it = 0; it < 100000; it++) {
		size_t n = rnd() % sizeof(b);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rnd();
		/* Often a plausible header, so the parsers get past it. */
		if (n >= 12 && (it & 1)) {
			b[0] = (uint8_t)(q.id >> 8);
			b[1] = (uint8_t)q.id;
			b[2] = (it & 2) ? 0x81 : 0x01;
			b[4] = 0;
			b[5] = 1;
			b[6] = 0;
			b[7] = (uint8_t)(rnd() % 8);
			b[8] = b[9] = 0;
		}
		check_query_result(b, n);
		check_answer_result(b, n, &q);
	}
}

static void test_fuzz_mutations(void **state)
{
	(void)state;
	rng_state = 0xD1B54A32D192ED03ULL;
	sbx_dns_query q = pypi_query();
	msg base, qm;
	cname_answer(&base, q.id, NULL);
	query(&qm, q.id, "pypi.org", SBX_DNS_TYPE_A);
	int ok = 0;
	for (int it = 0; it < 200000; it++) {
		const msg *src = (it % 4 == 0) ? &qm : &base;
		uint8_t b[sizeof(base.b)];
		size_t n = src->n;
		memcpy(b, src->b, n);
		int flips = 1 + (int)(rnd() % 4);
		for (int f = 0; f < flips; f++) {
			size_t at = rnd() % n;
			switch (rnd() % 4) {
			case 0:
				b[at] = (uint8_t)rnd();
				break;
			case 1:
				b[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 2: /* a pointer anywhere */
				if (at + 1 < n) {
					b[at] = (uint8_t)(0xC0 | (rnd() % 2));
					b[at + 1] = (uint8_t)rnd();
				}
				break;
			default:
				b[at] = (uint8_t)(rnd() % 70); /* a label length */
				break;
			}
		}
		if (rnd() % 4 == 0)
			n = rnd() % (n + 1);
		check_query_result(b, n);
		sbx_dns_addr a[3];
		if (addrs_exact(b, n, &q, a, 3) >= 0)
			ok++;
		check_answer_result(b, n, &q);
	}
	/* The mutations left some answers valid: the walk was exercised. */
	assert_true(ok > 1000);
}

int main(void)
{
	/* clang-format off */
#define T(f) cmocka_unit_test(f)
	const struct CMUnitTest tests[] = {
		T(test_query_pypi_edns),
		T(test_query_without_edns_and_aaaa),
		T(test_query_root_and_odd_bytes),
		T(test_query_truncated),
		T(test_query_header_checks),
		T(test_query_label_limits),
		T(test_query_pointer_refused),
		T(test_query_too_big),
		T(test_reply_rcode),
		T(test_set_id),
		T(test_answer_cname_two_a),
		T(test_answer_aaaa),
		T(test_answer_ignores_others),
		T(test_answer_mismatch),
		T(test_answer_nxdomain),
		T(test_answer_max),
		T(test_answer_counts_and_rdlength),
		T(test_answer_bad_pointers),
		T(test_answer_jump_limit),
		T(test_answer_long_name_through_pointers),
		T(test_fuzz_random_bytes),
		T(test_fuzz_mutations),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
