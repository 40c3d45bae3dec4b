/* Network options of an egress sandbox as data: --allow, --publish and
 * --dns entries parsed and checked, name matching, and the nftables rule
 * set loaded into the sandbox's network namespace (docs/network.md). Pure
 * logic: no system state is read or changed here. */
#ifndef SBX_NETSPEC_H
#define SBX_NETSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "sbx.h"

/* slirp4netns's network inside the sandbox (its defaults). */
#define SBX_NET_GUEST_ADDR "10.0.2.100"
#define SBX_NET_GATEWAY "10.0.2.2" /* the host's loopback, when allowed */
#define SBX_NET_NAME_MAX 253

typedef enum {
	SBX_ALLOW_NAME = 1, /* a DNS name, or "*.suffix" (wildcard) */
	SBX_ALLOW_CIDR4,
	SBX_ALLOW_CIDR6,
} sbx_allow_kind;

typedef struct sbx_net_allow {
	sbx_allow_kind kind;
	/* NAME: lower case, no trailing dot; for "*.example.com" this is
	 * "example.com" with wildcard set (matches any name below it, not the
	 * name itself). */
	char name[SBX_NET_NAME_MAX + 1];
	bool wildcard;
	uint8_t addr[16]; /* CIDR4: 4 bytes, network order; host bits zero */
	uint8_t prefix;	  /* 0..32 or 0..128 */
	uint16_t port;	  /* 0: any port (TCP and UDP alike) */
} sbx_net_allow;

/* "HOST|CIDR[:PORT]": a name ("pypi.org", "*.pythonhosted.org"), an IPv4
 * address or CIDR ("198.51.100.7", "10.0.0.0/8"), an IPv6 one in brackets
 * when a port follows ("[2001:db8::/32]:443", bare "2001:db8::1" without).
 * An address with host bits set under its prefix is refused. 0, or
 * -SBX_E_INVALID with a one-line message naming the entry. */
int sbx_net_allow_parse(const char *s, sbx_net_allow *out, sbx_error *err);

/* name (as asked: any case, a trailing dot allowed) matches the entry. */
bool sbx_net_allow_name_match(const sbx_net_allow *a, const char *name);

/* Does any of the n entries allow name? Sets *port_out to the port of the
 * first match (0: any). */
bool sbx_net_allow_names(const sbx_net_allow *a, size_t n, const char *name, uint16_t *port_out);

typedef struct sbx_net_publish {
	uint8_t host_addr[4]; /* IPv4, network order; default 127.0.0.1 */
	uint16_t host_port;   /* 1..65535 */
	uint16_t port;	      /* inside, 1..65535 */
} sbx_net_publish;

/* "[HOSTIP:]HOSTPORT:PORT" (TCP). 0, or -SBX_E_INVALID. */
int sbx_net_publish_parse(const char *s, sbx_net_publish *out, sbx_error *err);

typedef struct sbx_net_dns {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order */
	uint16_t port;	  /* default 53 */
} sbx_net_dns;

/* "IP[:PORT]", an IPv6 address in brackets when a port follows. 0, or
 * -SBX_E_INVALID. */
int sbx_net_dns_parse(const char *s, sbx_net_dns *out, sbx_error *err);

/* The first "nameserver" of a resolv.conf's text (IPv4 or IPv6, port 53).
 * 0, or -SBX_E_INVALID if there is none. */
int sbx_net_dns_from_resolv(const char *text, sbx_net_dns *out, sbx_error *err);

/* Validate cfg's network fields (config.c calls it): allow, publish and
 * dns given only with SBX_NET_EGRESS, every entry parses, at most 256
 * allow and 64 publish entries, no host port published twice. 0, or
 * -SBX_E_INVALID. */
int sbx_net_config_check(const sbx_config *cfg, sbx_error *err);

/* Is any CIDR entry inside 127.0.0.0/8 and covering 127.0.0.1? (then the
 * host's loopback is reachable, at SBX_NET_GATEWAY, on the entry's port;
 * a wider entry such as 0.0.0.0/0 does not open it) */
bool sbx_net_allow_host_loopback(const sbx_net_allow *a, size_t n);

/* The nftables rule set (`nft -f` text) of an egress sandbox, for table
 * `inet sbx` in its own network namespace (docs/network.md):
 *   - output policy drop; "lo" accepted; established/related accepted;
 *   - each CIDR4 entry accepted (with its port for TCP and UDP); an entry
 *     inside 127.0.0.0/8 covering 127.0.0.1 is the host's loopback: SBX_NET_GATEWAY is
 *     accepted on its port instead;
 *   - then refused: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
 *     192.0.0/24, 192.168/16, 198.18/15, 224/4, 240/4 and every address in
 *     host_addrs (n_host IPv4 addresses, 4 bytes each), so a name's answer
 *     can never open them;
 *   - the addresses of allowed names: sets names4 (ipv4_addr, timeout) and
 *     names4p (ipv4_addr . inet_service, timeout), filled at run time;
 *   - with no entries at all (n == 0): every other IPv4 address accepted;
 *   - everything else (IPv6 included) refused: TCP with a reset
 *     (ECONNREFUSED), the rest with ICMP admin-prohibited.
 * Appended to out. 0, or -SBX_E_SYSTEM if out of memory. */
int sbx_net_ruleset(sbx_buf *out, const sbx_net_allow *a, size_t n, const uint8_t *host_addrs,
		    size_t n_host, sbx_error *err);

/* `nft -f` lines putting addr (4 bytes) into names4 (port 0) or names4p
 * for ttl seconds (clamped to 30..86400) from now, also when it is there
 * already (add, delete, add: one transaction). Appended to out. */
int sbx_net_ruleset_add_addr(sbx_buf *out, const uint8_t addr[4], uint16_t port, uint32_t ttl,
			     sbx_error *err);

#endif
