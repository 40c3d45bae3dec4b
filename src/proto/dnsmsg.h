/* DNS messages (RFC 1035) as the sandbox's resolver proxy needs them: a
 * query's question, a refusal built from a query, and the addresses in an
 * answer. Every byte comes from inside the sandbox or from an upstream
 * server: lengths are checked, compression pointers may only point
 * backwards and are followed a bounded number of times. Pure logic. */
#ifndef SBX_DNSMSG_H
#define SBX_DNSMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_DNS_MAX 4096 /* the largest message handled (UDP) */

enum {
	SBX_DNS_NOERROR = 0,
	SBX_DNS_SERVFAIL = 2,
	SBX_DNS_NXDOMAIN = 3,
	SBX_DNS_REFUSED = 5,
	SBX_DNS_TYPE_A = 1,
	SBX_DNS_TYPE_AAAA = 28,
	SBX_DNS_CLASS_IN = 1,
};

typedef struct sbx_dns_query {
	uint16_t id;
	char name[256]; /* lower case, dotted, no trailing dot ("" for the root) */
	uint16_t qtype, qclass;
	size_t qend; /* bytes of the header and the question */
} sbx_dns_query;

/* A standard query (QR 0, opcode 0) with exactly one question, no answer
 * or authority records (additional ones, e.g. EDNS, allowed). 0, or -1 if
 * it is anything else or malformed. */
int sbx_dns_parse_query(const uint8_t *p, size_t n, sbx_dns_query *q);

/* A response to the query in p (parsed into q) with rcode and no records:
 * its header (same id, QR 1, RD copied, RA 1) and question. Bytes written
 * to out, or -1 if cap is too small. */
ssize_t sbx_dns_reply_rcode(const uint8_t *p, const sbx_dns_query *q, int rcode, uint8_t *out,
			    size_t cap);

typedef struct sbx_dns_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t ttl;
} sbx_dns_addr;

/* The A and AAAA records (class IN) of the answer section of a response
 * whose id is id and whose question is q's name, type and class (case
 * insensitive), whatever their owner names (CNAME chains). Up to max into
 * out. The count (0 for none), or -1 if p is not such a response or is
 * malformed. */
int sbx_dns_answer_addrs(const uint8_t *p, size_t n, const sbx_dns_query *q, sbx_dns_addr *out,
			 size_t max);

/* Set the id of the message in p (n >= 2). */
void sbx_dns_set_id(uint8_t *p, uint16_t id);

#endif
