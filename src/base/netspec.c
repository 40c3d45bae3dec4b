/* Network options of an egress sandbox as data (base/netspec.h).
 *
 * Choices made here (documented for docs/network.md):
 *   - An --allow or --dns value with two or more ':' and no brackets is a
 *     bare IPv6 address (optionally "/PREFIX" for --allow) WITHOUT a port:
 *     "::1:53" is the address ::1:53, never ::1 port 53. A port after an
 *     IPv6 address needs brackets: "[::1]:53". Brackets without a port
 *     ("[::1]") are accepted too.
 *   - Ports and prefixes are plain decimal: no sign, no spaces, no leading
 *     zero ("080" is refused), ports 1..65535.
 *   - A value of only digits and dots is an IPv4 address or nothing (a
 *     name's last label may not be all digits), so "1.2.3" is refused
 *     rather than taken for a name.
 *   - IPv6 entries (CIDR6) are parsed and kept, but the rule set emits
 *     nothing for them: IPv6 is not routed in the sandbox (slirp4netns runs
 *     without IPv6), so all IPv6 traffic is refused.
 *   - slirp4netns's gateway (10.0.2.2, the host's loopback) and its own DNS
 *     forwarder (10.0.2.3) are refused before any CIDR entry is looked at:
 *     a CIDR such as 10.0.0.0/8 does not open them. The gateway is only
 *     reachable through an entry inside 127.0.0.0/8 covering 127.0.0.1
 *     (127.0.0.1:5432, 127.0.0.0/8), on that entry's port; 0.0.0.0/0 does
 *     not open it. */
#include "base/netspec.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define ALLOW_MAX 256
#define PUBLISH_MAX 64
#define ENTRY_MAX 320 /* longest --allow/--publish/--dns value looked at */
#define LABEL_MAX 63
#define TTL_MIN 30
#define TTL_MAX 86400

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
	       c == '_';
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Decimal digits only, no leading zero (but "0" itself), value <= max. */
static bool parse_uint(const char *s, size_t len, unsigned max, unsigned *out)
{
	if (len == 0 || len > 6 || (len > 1 && s[0] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v;
	if (!parse_uint(s, len, 65535, &v) || v == 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* inet_pton on a NUL-terminated copy of s[0..len). */
static bool parse_ip(int family, const char *s, size_t len, uint8_t *out)
{
	char copy[INET6_ADDRSTRLEN];
	if (len == 0 || len >= sizeof(copy))
		return false;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return inet_pton(family, copy, out) == 1;
}

static bool host_bits_zero(const uint8_t *addr, size_t bytes, unsigned prefix)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t mask;
		if (prefix >= bit0 + 8)
			mask = 0xff;
		else if (prefix <= bit0)
			mask = 0;
		else
			mask = (uint8_t)(0xff << (8 - (prefix - bit0)));
		if (addr[i] & (uint8_t)~mask)
			return false;
	}
	return true;
}

static void fmt_ip4(const uint8_t a[4], char out[INET_ADDRSTRLEN])
{
	snprintf(out, INET_ADDRSTRLEN, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* Does a (network order) lie inside net/prefix? */
static bool ip4_in(const uint8_t a[4], const uint8_t net[4], unsigned prefix)
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t n =
	    (uint32_t)net[0] << 24 | (uint32_t)net[1] << 16 | (uint32_t)net[2] << 8 | net[3];
	uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	return (x & mask) == (n & mask);
}

/* A DNS name of s[0..len), lower-cased into out (SBX_NET_NAME_MAX + 1).
 * NULL, or why not. */
static const char *parse_name(const char *s, size_t len, char *out, bool *wildcard)
{
	*wildcard = false;
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		*wildcard = true;
		s += 2;
		len -= 2;
	}
	if (memchr(s, '*', len))
		return "'*' is allowed only as a whole first label ('*.example.com')";
	if (len > 0 && s[len - 1] == '.')
		len--; /* one trailing dot: the root */
	if (len == 0)
		return "empty name";
	if (len > SBX_NET_NAME_MAX)
		return "name longer than 253 characters";
	size_t label = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (label == 0)
				return "empty label in name";
			if (s[i - 1] == '-')
				return "a label may not end with '-'";
			if (i == len && all_digits)
				return "a name's last label may not be all digits (not an IPv4 "
				       "address)";
			label = 0;
			all_digits = true;
			continue;
		}
		if (!is_name_char(c))
			return "names may hold only letters, digits, '-', '_' and '.'";
		if (label == 0 && c == '-')
			return "a label may not start with '-'";
		if (!is_digit(c))
			all_digits = false;
		if (++label > LABEL_MAX)
			return "label longer than 63 characters";
	}
	for (size_t i = 0; i < len; i++)
		out[i] = lower(s[i]);
	out[len] = '\0';
	return NULL;
}

/* "ADDR[/PREFIX]" in s[0..len) of family (AF_INET or AF_INET6). */
static const char *parse_cidr(int family, const char *s, size_t len, sbx_net_allow *a)
{
	unsigned maxp = family == AF_INET ? 32 : 128;
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	if (!parse_ip(family, s, alen, a->addr))
		return family == AF_INET ? "invalid IPv4 address" : "invalid IPv6 address";
	unsigned prefix = maxp;
	if (slash && !parse_uint(slash + 1, len - alen - 1, maxp, &prefix))
		return family == AF_INET ? "prefix must be 0..32" : "prefix must be 0..128";
	if (!host_bits_zero(a->addr, maxp / 8, prefix))
		return "address has bits set below its prefix (give the network address)";
	a->prefix = (uint8_t)prefix;
	a->kind = family == AF_INET ? SBX_ALLOW_CIDR4 : SBX_ALLOW_CIDR6;
	return NULL;
}

static size_t count_char(const char *s, size_t len, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

static bool digits_and_dots(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return false;
	return true;
}

/* "[V6]" or "[V6]:PORT" at s: the inside and the port (0 if none). */
static const char *split_bracket(const char *s, size_t len, const char **in, size_t *in_len,
				 uint16_t *port)
{
	const char *close = memchr(s, ']', len);
	if (!close)
		return "missing ']'";
	*in = s + 1;
	*in_len = (size_t)(close - s - 1);
	const char *rest = close + 1;
	size_t rlen = len - (size_t)(rest - s);
	*port = 0;
	if (rlen == 0)
		return NULL;
	if (rest[0] != ':')
		return "only ':PORT' may follow ']'";
	if (!parse_port(rest + 1, rlen - 1, port))
		return "port must be 1..65535";
	return NULL;
}

static const char *allow_parse(const char *s, size_t len, sbx_net_allow *a)
{
	if (len == 0)
		return "empty";
	if (s[0] == '[') {
		const char *in;
		size_t in_len;
		const char *why = split_bracket(s, len, &in, &in_len, &a->port);
		if (why)
			return why;
		if (!memchr(in, ':', in_len))
			return "brackets are for IPv6 addresses only";
		return parse_cidr(AF_INET6, in, in_len, a);
	}
	size_t colons = count_char(s, len, ':');
	if (colons >= 2) {
		const char *why = parse_cidr(AF_INET6, s, len, a);
		if (why && strcmp(why, "invalid IPv6 address") == 0)
			return "invalid IPv6 address (with a port: [ADDRESS]:PORT)";
		return why;
	}
	size_t hlen = len;
	if (colons == 1) {
		const char *colon = memchr(s, ':', len);
		hlen = (size_t)(colon - s);
		if (!parse_port(colon + 1, len - hlen - 1, &a->port))
			return "port must be 1..65535";
	}
	if (hlen == 0)
		return "no host or address before the port";
	if (memchr(s, '/', hlen) || digits_and_dots(s, hlen))
		return parse_cidr(AF_INET, s, hlen, a);
	a->kind = SBX_ALLOW_NAME;
	return parse_name(s, hlen, a->name, &a->wildcard);
}

/* One option's value: NULL refused, at most ENTRY_MAX bytes, then parse()
 * into out (size bytes, zeroed first; *dst written only on success). */
typedef const char *(*entry_parser)(const char *s, size_t len, void *out);

static int entry_parse(const char *opt, const char *s, entry_parser parse, void *dst, void *tmp,
		       size_t size, sbx_error *err)
{
	if (!s)
		return sbx_fail(err, SBX_E_INVALID, "invalid %s: no value", opt);
	size_t len = strnlen(s, ENTRY_MAX + 1);
	memset(tmp, 0, size);
	const char *why = len > ENTRY_MAX ? "too long" : parse(s, len, tmp);
	if (why)
		return sbx_fail(err, SBX_E_INVALID, "invalid %s '%.*s': %s", opt, ENTRY_MAX, s,
				why);
	memcpy(dst, tmp, size);
	return 0;
}

static const char *allow_parse_v(const char *s, size_t len, void *out)
{
	return allow_parse(s, len, out);
}

int sbx_net_allow_parse(const char *s, sbx_net_allow *out, sbx_error *err)
{
	sbx_net_allow a;
	return entry_parse("--allow", s, allow_parse_v, out, &a, sizeof(a), err);
}

/* name (any case, one trailing dot) as a plain dotted name: its length
 * without the dot, or 0 if it is not one. */
static size_t query_name_len(const char *name)
{
	size_t n = strnlen(name, SBX_NET_NAME_MAX + 2);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > SBX_NET_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (i == 0 || name[i - 1] == '.' || i == n - 1)
				return 0;
		} else if (!is_name_char(name[i])) {
			return 0;
		}
	}
	return n;
}

bool sbx_net_allow_name_match(const sbx_net_allow *a, const char *name)
{
	if (!a || !name || a->kind != SBX_ALLOW_NAME)
		return false;
	size_t n = query_name_len(name);
	size_t sl = strlen(a->name);
	if (n == 0 || sl == 0)
		return false;
	if (!a->wildcard)
		return n == sl && strncasecmp(name, a->name, n) == 0;
	return n > sl + 1 && name[n - sl - 1] == '.' &&
	       strncasecmp(name + n - sl, a->name, sl) == 0;
}

bool sbx_net_allow_names(const sbx_net_allow *a, size_t n, const char *name, uint16_t *port_out)
{
	for (size_t i = 0; i < n; i++) {
		if (sbx_net_allow_name_match(&a[i], name)) {
			if (port_out)
				*port_out = a[i].port;
			return true;
		}
	}
	return false;
}

static const char *publish_parse(const char *s, size_t len, sbx_net_publish *p)
{
	if (len == 0)
		return "empty";
	size_t colons = count_char(s, len, ':');
	const char *c1 = memchr(s, ':', len);
	if (colons == 0)
		return "expected [HOSTIP:]HOSTPORT:PORT";
	if (colons > 2)
		return "expected [HOSTIP:]HOSTPORT:PORT (the host address must be IPv4)";
	const char *hp = s;
	p->host_addr[0] = 127;
	p->host_addr[1] = 0;
	p->host_addr[2] = 0;
	p->host_addr[3] = 1;
	if (colons == 2) {
		if (!parse_ip(AF_INET, s, (size_t)(c1 - s), p->host_addr))
			return "invalid host IPv4 address";
		hp = c1 + 1;
	}
	const char *c = memchr(hp, ':', len - (size_t)(hp - s));
	if (!parse_port(hp, (size_t)(c - hp), &p->host_port))
		return "host port must be 1..65535";
	if (!parse_port(c + 1, len - (size_t)(c + 1 - s), &p->port))
		return "port must be 1..65535";
	return NULL;
}

static const char *publish_parse_v(const char *s, size_t len, void *out)
{
	return publish_parse(s, len, out);
}

int sbx_net_publish_parse(const char *s, sbx_net_publish *out, sbx_error *err)
{
	sbx_net_publish p;
	return entry_parse("--publish", s, publish_parse_v, out, &p, sizeof(p), err);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static const char *dns_parse(const char *s, size_t len, sbx_net_dns *d)
{
	if (len == 0)
		return "empty";
	d->port = 53;
	if (s[0] == '[') {
		const char *in;
		size_t in_len;
		uint16_t port;
		const char *why = split_bracket(s, len, &in, &in_len, &port);
		if (why)
			return why;
		if (!parse_ip(AF_INET6, in, in_len, d->addr))
			return "invalid IPv6 address";
		d->family = AF_INET6;
		if (port)
			d->port = port;
	} else if (count_char(s, len, ':') >= 2) {
		if (!parse_ip(AF_INET6, s, len, d->addr))
			return "invalid IPv6 address (with a port: [ADDRESS]:PORT)";
		d->family = AF_INET6;
	} else {
		const char *colon = memchr(s, ':', len);
		size_t alen = colon ? (size_t)(colon - s) : len;
		if (!parse_ip(AF_INET, s, alen, d->addr))
			return "invalid IPv4 address";
		d->family = AF_INET;
		if (colon && !parse_port(colon + 1, len - alen - 1, &d->port))
			return "port must be 1..65535";
	}
	if (all_zero(d->addr, d->family == AF_INET ? 4 : 16))
		return "the unspecified address is not a server";
	return NULL;
}

static const char *dns_parse_v(const char *s, size_t len, void *out)
{
	return dns_parse(s, len, out);
}

int sbx_net_dns_parse(const char *s, sbx_net_dns *out, sbx_error *err)
{
	sbx_net_dns d;
	return entry_parse("--dns", s, dns_parse_v, out, &d, sizeof(d), err);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One resolv.conf line [p, end): its nameserver's address, if valid. */
static bool resolv_line(const char *p, const char *end, sbx_net_dns *d)
{
	static const char kw[] = "nameserver";
	size_t kwlen = sizeof(kw) - 1;
	if ((size_t)(end - p) <= kwlen || memcmp(p, kw, kwlen) != 0 || !is_space(p[kwlen]))
		return false;
	p += kwlen;
	while (p < end && is_space(*p))
		p++;
	const char *t = p;
	while (p < end && !is_space(*p) && *p != '#' && *p != ';')
		p++;
	size_t len = (size_t)(p - t);
	if (len == 0)
		return false;
	memset(d, 0, sizeof(*d));
	d->port = 53;
	if (parse_ip(AF_INET, t, len, d->addr))
		d->family = AF_INET;
	else if (parse_ip(AF_INET6, t, len, d->addr))
		d->family = AF_INET6; /* with "%scope": refused by inet_pton */
	else
		return false;
	return !all_zero(d->addr, d->family == AF_INET ? 4 : 16);
}

int sbx_net_dns_from_resolv(const char *text, sbx_net_dns *out, sbx_error *err)
{
	const char *p = text ? text : "";
	while (*p) {
		const char *end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		sbx_net_dns d;
		if (resolv_line(p, end, &d)) {
			*out = d;
			return 0;
		}
		p = *end ? end + 1 : end;
	}
	return sbx_fail(err, SBX_E_INVALID, "no usable nameserver in resolv.conf");
}

int sbx_net_config_check(const sbx_config *cfg, sbx_error *err)
{
	if (cfg->net != SBX_NET_EGRESS) {
		if (cfg->n_net_allow)
			return sbx_fail(err, SBX_E_INVALID, "--allow needs --net egress");
		if (cfg->n_net_publish)
			return sbx_fail(err, SBX_E_INVALID, "--publish needs --net egress");
		if (cfg->net_dns)
			return sbx_fail(err, SBX_E_INVALID, "--dns needs --net egress");
		return 0;
	}
	if (cfg->n_net_allow > ALLOW_MAX)
		return sbx_fail(err, SBX_E_INVALID, "too many --allow entries (at most %d)",
				ALLOW_MAX);
	if (cfg->n_net_publish > PUBLISH_MAX)
		return sbx_fail(err, SBX_E_INVALID, "too many --publish entries (at most %d)",
				PUBLISH_MAX);
	if ((cfg->n_net_allow && !cfg->net_allow) || (cfg->n_net_publish && !cfg->net_publish))
		return sbx_fail(err, SBX_E_INVALID, "network entries counted but not given");
	int r;
	for (size_t i = 0; i < cfg->n_net_allow; i++) {
		sbx_net_allow a;
		if ((r = sbx_net_allow_parse(cfg->net_allow[i], &a, err)) < 0)
			return r;
	}
	sbx_net_publish pub[PUBLISH_MAX];
	for (size_t i = 0; i < cfg->n_net_publish; i++) {
		if ((r = sbx_net_publish_parse(cfg->net_publish[i], &pub[i], err)) < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (pub[j].host_port == pub[i].host_port)
				return sbx_fail(
				    err, SBX_E_INVALID,
				    "invalid --publish '%s': host port %u published twice",
				    cfg->net_publish[i], pub[i].host_port);
	}
	if (cfg->net_dns) {
		sbx_net_dns d;
		if ((r = sbx_net_dns_parse(cfg->net_dns, &d, err)) < 0)
			return r;
	}
	return 0;
}

static const uint8_t loopback4[4] = {127, 0, 0, 1};

/* An entry for the host's loopback: inside 127.0.0.0/8 and covering
 * 127.0.0.1. A wider one (0.0.0.0/0: "everything outside") does not open
 * the host's own services. */
static bool covers_loopback(const sbx_net_allow *a)
{
	return a->kind == SBX_ALLOW_CIDR4 && a->prefix >= 8 && a->addr[0] == 127 &&
	       ip4_in(loopback4, a->addr, a->prefix);
}

bool sbx_net_allow_host_loopback(const sbx_net_allow *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (covers_loopback(&a[i]))
			return true;
	return false;
}

/* Refused after the CIDR entries: none overlaps another (nft refuses
 * overlapping intervals in one set). */
static const struct {
	uint8_t net[4];
	uint8_t prefix;
} deny4[] = {
    {{0, 0, 0, 0}, 8},	    {{10, 0, 0, 0}, 8},	   {{100, 64, 0, 0}, 10}, {{127, 0, 0, 0}, 8},
    {{169, 254, 0, 0}, 16}, {{172, 16, 0, 0}, 12}, {{192, 0, 0, 0}, 24},  {{192, 168, 0, 0}, 16},
    {{198, 18, 0, 0}, 15},  {{224, 0, 0, 0}, 4},   {{240, 0, 0, 0}, 4},
};

static bool in_deny4(const uint8_t a[4])
{
	for (size_t i = 0; i < ARRAY_LEN(deny4); i++)
		if (ip4_in(a, deny4[i].net, deny4[i].prefix))
			return true;
	return false;
}

/* " meta l4proto { tcp, udp } th dport P" for a port, "" for any. */
static void put_port(sbx_buf *out, uint16_t port)
{
	if (port)
		sbx_buf_printf(out, " meta l4proto { tcp, udp } th dport %u", port);
}

int sbx_net_ruleset(sbx_buf *out, const sbx_net_allow *a, size_t n, const uint8_t *host_addrs,
		    size_t n_host, sbx_error *err)
{
	char ip[INET_ADDRSTRLEN];
	sbx_buf_puts(out, "table inet sbx {\n"
			  "\tset names4 {\n"
			  "\t\ttype ipv4_addr\n"
			  "\t\tflags timeout\n"
			  "\t}\n"
			  "\tset names4p {\n"
			  "\t\ttype ipv4_addr . inet_service\n"
			  "\t\tflags timeout\n"
			  "\t}\n"
			  "\tchain refuse {\n"
			  "\t\tmeta l4proto tcp reject with tcp reset\n"
			  "\t\treject with icmpx type admin-prohibited\n"
			  "\t}\n"
			  "\tchain out {\n"
			  "\t\ttype filter hook output priority filter; policy drop;\n"
			  "\t\toifname \"lo\" accept\n"
			  "\t\tct state established,related accept\n");
	/* The host's loopback, through slirp4netns's gateway. */
	for (size_t i = 0; i < n; i++) {
		if (!covers_loopback(&a[i]))
			continue;
		sbx_buf_puts(out, "\t\tip daddr " SBX_NET_GATEWAY);
		put_port(out, a[i].port);
		sbx_buf_puts(out, " accept\n");
	}
	/* The gateway otherwise, and slirp4netns's own DNS forwarder. */
	sbx_buf_puts(out, "\t\tip daddr { " SBX_NET_GATEWAY ", 10.0.2.3 } goto refuse\n");
	for (size_t i = 0; i < n; i++) {
		if (a[i].kind != SBX_ALLOW_CIDR4)
			continue;
		if (a[i].prefix >= 8 && a[i].addr[0] == 127)
			continue; /* the sandbox's own loopback: "lo" above */
		fmt_ip4(a[i].addr, ip);
		sbx_buf_printf(out, "\t\tip daddr %s/%u", ip, a[i].prefix);
		put_port(out, a[i].port);
		sbx_buf_puts(out, " accept\n");
	}
	sbx_buf_puts(out, "\t\tip daddr { ");
	for (size_t i = 0; i < ARRAY_LEN(deny4); i++) {
		fmt_ip4(deny4[i].net, ip);
		sbx_buf_printf(out, "%s%s/%u", i ? ", " : "", ip, deny4[i].prefix);
	}
	sbx_buf_puts(out, " } goto refuse\n");
	/* The host's addresses not refused already, each once. */
	bool any = false;
	for (size_t i = 0; i < n_host; i++) {
		const uint8_t *h = host_addrs + 4 * i;
		bool seen = in_deny4(h);
		for (size_t j = 0; j < i && !seen; j++)
			seen = memcmp(host_addrs + 4 * j, h, 4) == 0;
		if (seen)
			continue;
		fmt_ip4(h, ip);
		sbx_buf_printf(out, "%s%s", any ? ", " : "\t\tip daddr { ", ip);
		any = true;
	}
	if (any)
		sbx_buf_puts(out, " } goto refuse\n");
	sbx_buf_puts(out, "\t\tip daddr @names4 accept\n"
			  "\t\tmeta l4proto { tcp, udp } ip daddr . th dport @names4p accept\n");
	if (n == 0)
		sbx_buf_puts(out, "\t\tmeta nfproto ipv4 accept\n");
	sbx_buf_puts(out, "\t\tgoto refuse\n"
			  "\t}\n"
			  "}\n");
	if (out->oom)
		return sbx_fail(err, SBX_E_SYSTEM, "nftables rule set: out of memory");
	return 0;
}

int sbx_net_ruleset_add_addr(sbx_buf *out, const uint8_t addr[4], uint16_t port, uint32_t ttl,
			     sbx_error *err)
{
	char ip[INET_ADDRSTRLEN];
	fmt_ip4(addr, ip);
	if (ttl < TTL_MIN)
		ttl = TTL_MIN;
	if (ttl > TTL_MAX)
		ttl = TTL_MAX;
	/* add, delete, add in one transaction: a plain add leaves an element
	 * that is there with its old expiry, which a new answer must renew. */
	char el[64];
	if (port)
		snprintf(el, sizeof(el), "names4p { %s . %u", ip, port);
	else
		snprintf(el, sizeof(el), "names4 { %s", ip);
	sbx_buf_printf(out,
		       "add element inet sbx %s timeout %us }\n"
		       "delete element inet sbx %s }\n"
		       "add element inet sbx %s timeout %us }\n",
		       el, ttl, el, el, ttl);
	if (out->oom)
		return sbx_fail(err, SBX_E_SYSTEM, "nftables element: out of memory");
	return 0;
}
