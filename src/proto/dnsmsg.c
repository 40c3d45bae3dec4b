/* DNS messages (RFC 1035): a query's question, a refusal built from it,
 * the A and AAAA records of an answer. Every byte is hostile: each read is
 * bounds checked, names are at most 255 bytes in wire form and labels at
 * most 63, compression pointers are allowed only in answers, each must
 * point before the run of labels it ends (so they can never loop) and at
 * most 16 are followed per name. */
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/dnsmsg.h"

#define HDR_LEN 12
#define NAME_WIRE_MAX 255
#define MAX_JUMPS 16
#define RR_FIXED 10 /* type, class, ttl, rdlength */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

static char lower(uint8_t c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* A byte allowed in a label of a name that is decoded: printable ASCII
 * but space and '.', so the dotted form is unambiguous and safe to log. */
static bool name_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.';
}

/* The name at off in p[0..n). Its end in the message (after its last
 * label or its first pointer) to *end. With out (256 bytes) it is decoded
 * there, lower case and dotted, and only name_byte_ok bytes are accepted;
 * without, only its structure is checked. Pointers only if ptr_ok. 0, or
 * -1 if malformed. */
static int read_name(const uint8_t *p, size_t n, size_t off, bool ptr_ok, char *out, size_t *end)
{
	size_t pos = off, seg = off, wire = 0, olen = 0;
	int jumps = 0;
	bool ended = false;

	for (;;) {
		if (pos >= n)
			return -1;
		uint8_t c = p[pos];
		if ((c & 0xC0) == 0xC0) {
			if (!ptr_ok || pos + 1 >= n)
				return -1;
			size_t target = ((size_t)(c & 0x3F) << 8) | p[pos + 1];
			/* Strictly before this run of labels: offsets only
			 * ever decrease, no loop is possible. */
			if (target >= seg || ++jumps > MAX_JUMPS)
				return -1;
			if (!ended) {
				*end = pos + 2;
				ended = true;
			}
			pos = seg = target;
			continue;
		}
		if (c & 0xC0) /* 0x40 (extended) and 0x80 (reserved) label types */
			return -1;
		if (c == 0) {
			if (++wire > NAME_WIRE_MAX)
				return -1;
			if (!ended)
				*end = pos + 1;
			if (out)
				out[olen] = '\0';
			return 0;
		}
		/* This label and room for the root label after it. */
		wire += 1 + (size_t)c;
		if (wire + 1 > NAME_WIRE_MAX || c > n - pos - 1)
			return -1;
		if (out) {
			if (olen > 0)
				out[olen++] = '.';
			for (size_t i = 0; i < c; i++) {
				uint8_t b = p[pos + 1 + i];
				if (!name_byte_ok(b))
					return -1;
				out[olen++] = lower(b);
			}
		}
		pos += 1 + (size_t)c;
	}
}

int sbx_dns_parse_query(const uint8_t *p, size_t n, sbx_dns_query *q)
{
	if (!p || !q || n < HDR_LEN || n > SBX_DNS_MAX)
		return -1;
	/* QR 0, opcode 0 (QUERY); the other flag bits do not matter here. */
	if (p[2] & 0xF8)
		return -1;
	if (get16(p + 4) != 1 || get16(p + 6) != 0 || get16(p + 8) != 0)
		return -1;
	sbx_dns_query r;
	memset(&r, 0, sizeof(r));
	size_t end;
	if (read_name(p, n, HDR_LEN, false, r.name, &end) < 0)
		return -1;
	if (n - end < 4)
		return -1;
	r.id = get16(p);
	r.qtype = get16(p + end);
	r.qclass = get16(p + end + 2);
	r.qend = end + 4;
	*q = r;
	return 0;
}

ssize_t sbx_dns_reply_rcode(const uint8_t *p, const sbx_dns_query *q, int rcode, uint8_t *out,
			    size_t cap)
{
	if (!p || !q || !out || rcode < 0 || rcode > 15)
		return -1;
	if (q->qend < HDR_LEN || q->qend > SBX_DNS_MAX || cap < q->qend)
		return -1;
	memmove(out, p, q->qend);
	out[2] = (uint8_t)(0x80 | (p[2] & 0x78) | (p[2] & 0x01)); /* QR, opcode, RD */
	out[3] = (uint8_t)(0x80 | rcode);			  /* RA, rcode */
	out[4] = 0;
	out[5] = 1;
	memset(out + 6, 0, 6); /* ANCOUNT, NSCOUNT, ARCOUNT */
	return (ssize_t)q->qend;
}

/* The same names, ASCII case insensitive (q's is lower case already, but
 * not trusted to be). */
static bool same_name(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (lower((uint8_t)*a) != lower((uint8_t)*b))
			return false;
		if (!*a)
			return true;
	}
}

int sbx_dns_answer_addrs(const uint8_t *p, size_t n, const sbx_dns_query *q, sbx_dns_addr *out,
			 size_t max)
{
	if (!p || !q || (!out && max > 0) || n < HDR_LEN || n > SBX_DNS_MAX)
		return -1;
	/* QR 1, opcode 0 (QUERY), the query's id, one question. */
	if ((p[2] & 0xF8) != 0x80 || get16(p) != q->id || get16(p + 4) != 1)
		return -1;
	size_t ancount = get16(p + 6);

	char name[NAME_WIRE_MAX + 1];
	size_t pos;
	if (read_name(p, n, HDR_LEN, true, name, &pos) < 0 || n - pos < 4)
		return -1;
	if (!same_name(name, q->name) || get16(p + pos) != q->qtype ||
	    get16(p + pos + 2) != q->qclass)
		return -1;
	pos += 4;

	size_t count = 0;
	for (size_t i = 0; i < ancount; i++) {
		if (read_name(p, n, pos, true, NULL, &pos) < 0 || n - pos < RR_FIXED)
			return -1;
		uint16_t type = get16(p + pos), class = get16(p + pos + 2);
		uint32_t ttl = get32(p + pos + 4);
		size_t rdlen = get16(p + pos + 8);
		pos += RR_FIXED;
		if (rdlen > n - pos)
			return -1;
		if (class == SBX_DNS_CLASS_IN &&
		    (type == SBX_DNS_TYPE_A || type == SBX_DNS_TYPE_AAAA)) {
			size_t len = type == SBX_DNS_TYPE_A ? 4 : 16;
			if (rdlen != len)
				return -1;
			if (count < max) {
				sbx_dns_addr *a = &out[count];
				memset(a, 0, sizeof(*a));
				a->family = type == SBX_DNS_TYPE_A ? AF_INET : AF_INET6;
				memcpy(a->addr, p + pos, len);
				/* RFC 2181 8: the top bit set means 0. */
				a->ttl = ttl & 0x80000000u ? 0 : ttl;
				count++;
			}
		}
		pos += rdlen;
	}
	return (int)count;
}

void sbx_dns_set_id(uint8_t *p, uint16_t id)
{
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
}
