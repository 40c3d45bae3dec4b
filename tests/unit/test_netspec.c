/* Unit tests: src/base/netspec.c (--allow, --publish, --dns parsing, name
 * matching, resolv.conf, the config check and the nftables rule set). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/buf.h"
#include "base/netspec.h"
#include "base/util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static sbx_net_allow allow_ok(const char *s)
{
	sbx_net_allow a;
	sbx_error e;
	memset(&e, 0, sizeof(e));
	if (sbx_net_allow_parse(s, &a, &e) != 0)
		fail_msg("--allow '%s' refused: %s", s, e.msg);
	return a;
}

/* Refused, with a one-line message naming the entry and containing why;
 * out untouched. */
static void allow_bad(const char *s, const char *why)
{
	sbx_net_allow a;
	memset(&a, 0xAB, sizeof(a));
	sbx_error e;
	memset(&e, 0, sizeof(e));
	if (sbx_net_allow_parse(s, &a, &e) != -SBX_E_INVALID)
		fail_msg("--allow '%s' accepted", s);
	assert_int_equal(e.code, SBX_E_INVALID);
	char want[400];
	snprintf(want, sizeof(want), "invalid --allow '%s': ", s);
	if (strncmp(e.msg, want, strlen(want)) != 0)
		fail_msg("--allow '%s': message '%s'", s, e.msg);
	if (why && !strstr(e.msg, why))
		fail_msg("--allow '%s': message '%s' lacks '%s'", s, e.msg, why);
	assert_null(strchr(e.msg, '\n'));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(((unsigned char *)&a)[i], 0xAB);
}

/* A name of len characters (labels of 63) into out. */
static void long_name(char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = i % 64 == 63 ? '.' : 'b';
	out[len - 1] = 'c';
	out[len] = '\0';
}

static void assert_addr4(const sbx_net_allow *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	assert_int_equal(a->addr[0], b0);
	assert_int_equal(a->addr[1], b1);
	assert_int_equal(a->addr[2], b2);
	assert_int_equal(a->addr[3], b3);
}

static void test_allow_names(void **state)
{
	(void)state;
	sbx_net_allow a = allow_ok("pypi.org");
	assert_int_equal(a.kind, SBX_ALLOW_NAME);
	assert_string_equal(a.name, "pypi.org");
	assert_false(a.wildcard);
	assert_int_equal(a.port, 0);

	a = allow_ok("PyPI.Org.:443");
	assert_string_equal(a.name, "pypi.org");
	assert_int_equal(a.port, 443);

	a = allow_ok("*.PythonHosted.org");
	assert_int_equal(a.kind, SBX_ALLOW_NAME);
	assert_true(a.wildcard);
	assert_string_equal(a.name, "pythonhosted.org");

	a = allow_ok("*.example.com:65535");
	assert_true(a.wildcard);
	assert_int_equal(a.port, 65535);

	a = allow_ok("_srv.x-1.example:1");
	assert_string_equal(a.name, "_srv.x-1.example");
	assert_int_equal(a.port, 1);

	a = allow_ok("localhost");
	assert_string_equal(a.name, "localhost");
	a = allow_ok("1password.com"); /* digits first are fine */
	assert_string_equal(a.name, "1password.com");

	/* Labels of exactly 63 characters, a name of exactly 253. */
	char name[300];
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	a = allow_ok(name);
	assert_string_equal(a.name, name);
	long_name(name, 253);
	a = allow_ok(name);
	assert_string_equal(a.name, name);
	assert_int_equal(strlen(a.name), 253);
	name[62] = '*';		 /* name[63] is a '.' */
	a = allow_ok(name + 62); /* "*." and 189 characters */
	assert_true(a.wildcard);
	assert_int_equal(strlen(a.name), 189);
}

static void test_allow_names_bad(void **state)
{
	(void)state;
	allow_bad("", "empty");
	allow_bad("*", NULL);
	allow_bad("*.", "empty name");
	allow_bad("a.*.com", "'*'");
	allow_bad("*a.com", "'*'");
	allow_bad("**.com", "'*'");
	allow_bad("*.*.com", "'*'");
	allow_bad("a..com", "empty label");
	allow_bad(".a.com", "empty label");
	allow_bad("a.com..", "empty label");
	allow_bad("-a.com", "start with '-'");
	allow_bad("a-.com", "end with '-'");
	allow_bad("a b.com", "letters");
	allow_bad("a/b.com", "IPv4");
	allow_bad("exa$mple.com", "letters");
	allow_bad("example.123", "all digits");
	allow_bad("1.2.3", "invalid IPv4");
	allow_bad("1.2.3.4.5", "invalid IPv4");
	allow_bad("256.1.1.1", "invalid IPv4");
	allow_bad("01.2.3.4", "invalid IPv4");
	allow_bad("example.com:", "port");
	allow_bad(":443", "no host");
	allow_bad("example.com:0", "port");
	allow_bad("example.com:65536", "port");
	allow_bad("example.com:+80", "port");
	allow_bad("example.com:-1", "port");
	allow_bad("example.com: 80", "port");
	allow_bad("example.com:080", "port");
	allow_bad("example.com:80x", "port");
	allow_bad("example.com:0x50", "port");
	allow_bad("example.com:99999999999", "port");

	char name[400];
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	allow_bad(name, "63");
	long_name(name, 254);
	allow_bad(name, "253");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	sbx_error e;
	assert_int_equal(sbx_net_allow_parse(name, &(sbx_net_allow){0}, &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "too long"));
	assert_int_equal(sbx_net_allow_parse(NULL, &(sbx_net_allow){0}, NULL), -SBX_E_INVALID);
}

static void test_allow_cidr4(void **state)
{
	(void)state;
	sbx_net_allow a = allow_ok("198.51.100.7");
	assert_int_equal(a.kind, SBX_ALLOW_CIDR4);
	assert_addr4(&a, 198, 51, 100, 7);
	assert_int_equal(a.prefix, 32);
	assert_int_equal(a.port, 0);

	a = allow_ok("10.0.0.0/8:443");
	assert_addr4(&a, 10, 0, 0, 0);
	assert_int_equal(a.prefix, 8);
	assert_int_equal(a.port, 443);

	a = allow_ok("0.0.0.0/0");
	assert_int_equal(a.prefix, 0);
	a = allow_ok("1.2.3.4/32:65535");
	assert_int_equal(a.prefix, 32);
	assert_int_equal(a.port, 65535);
	a = allow_ok("1.2.3.0/24");
	assert_addr4(&a, 1, 2, 3, 0);

	allow_bad("1.2.3.4/24", "bits set");
	allow_bad("1.2.3.4/33", "0..32");
	allow_bad("1.2.3.4/", "0..32");
	allow_bad("1.2.3.4/-1", "0..32");
	allow_bad("1.2.3.4/08", "0..32");
	allow_bad("1.2.3.4/+8", "0..32");
	allow_bad("0.0.0.1/0", "bits set");
	allow_bad("11.0.0.0/7", "bits set");
	allow_ok("10.0.0.0/7");
	allow_bad("1.2.3.4:0", "port");
	allow_bad("1.2.3.4:65536", "port");
	allow_bad("1.2.3.0/24:", "port");
	allow_bad("[1.2.3.4]:80", "IPv6");
	allow_bad("/8", "IPv4");
	allow_bad("1.2.3.4/8/8", "0..32");
}

static void test_allow_cidr6(void **state)
{
	(void)state;
	sbx_net_allow a = allow_ok("[2001:db8::/32]:443");
	assert_int_equal(a.kind, SBX_ALLOW_CIDR6);
	assert_int_equal(a.prefix, 32);
	assert_int_equal(a.port, 443);
	assert_int_equal(a.addr[0], 0x20);
	assert_int_equal(a.addr[1], 0x01);
	assert_int_equal(a.addr[2], 0x0d);
	assert_int_equal(a.addr[3], 0xb8);

	a = allow_ok("2001:db8::1");
	assert_int_equal(a.kind, SBX_ALLOW_CIDR6);
	assert_int_equal(a.prefix, 128);
	assert_int_equal(a.port, 0);
	assert_int_equal(a.addr[15], 1);

	a = allow_ok("fd00::/8");
	assert_int_equal(a.prefix, 8);
	a = allow_ok("::/0");
	assert_int_equal(a.prefix, 0);

	/* Brackets without a port: the address alone. */
	a = allow_ok("[::1]");
	assert_int_equal(a.kind, SBX_ALLOW_CIDR6);
	assert_int_equal(a.prefix, 128);
	assert_int_equal(a.port, 0);
	assert_int_equal(a.addr[15], 1);

	/* Two or more ':' without brackets: an IPv6 address, never a port. */
	a = allow_ok("::1:53");
	assert_int_equal(a.kind, SBX_ALLOW_CIDR6);
	assert_int_equal(a.port, 0);
	assert_int_equal(a.prefix, 128);
	assert_int_equal(a.addr[13], 1);
	assert_int_equal(a.addr[15], 0x53);

	allow_bad("2001:db8::1/129", "0..128");
	allow_bad("2001:db8::1/64", "bits set");
	allow_bad("[2001:db8::1/64]:80", "bits set");
	allow_bad("2001:db8::1:80:", "IPv6");
	allow_bad("2001:db8:::1", "IPv6");
	allow_bad("fe80::1%eth0", "IPv6");
	allow_bad("[::1", "']'");
	allow_bad("[::1]80", "':PORT'");
	allow_bad("[::1]:", "port");
	allow_bad("[::1]:0", "port");
	allow_bad("[::1]:65536", "port");
	allow_bad("[]:80", "IPv6");
	allow_bad("[example.com]:80", "IPv6");
	allow_bad("example.com:80:90", "IPv6");
}

static void test_name_match(void **state)
{
	(void)state;
	sbx_net_allow w = allow_ok("*.example.com");
	assert_true(sbx_net_allow_name_match(&w, "a.example.com"));
	assert_true(sbx_net_allow_name_match(&w, "a.b.example.com"));
	assert_true(sbx_net_allow_name_match(&w, "A.Example.COM."));
	assert_false(sbx_net_allow_name_match(&w, "example.com"));
	assert_false(sbx_net_allow_name_match(&w, "badexample.com"));
	assert_false(sbx_net_allow_name_match(&w, ".example.com"));
	assert_false(sbx_net_allow_name_match(&w, "a..example.com"));
	assert_false(sbx_net_allow_name_match(&w, "a.example.com.."));
	assert_false(sbx_net_allow_name_match(&w, "a.example.com.evil"));
	assert_false(sbx_net_allow_name_match(&w, "a.example.co"));
	assert_false(sbx_net_allow_name_match(&w, "a b.example.com"));
	assert_false(sbx_net_allow_name_match(&w, ""));
	assert_false(sbx_net_allow_name_match(&w, "."));
	assert_false(sbx_net_allow_name_match(&w, NULL));

	sbx_net_allow p = allow_ok("pypi.org");
	assert_true(sbx_net_allow_name_match(&p, "pypi.org"));
	assert_true(sbx_net_allow_name_match(&p, "PYPI.ORG."));
	assert_false(sbx_net_allow_name_match(&p, "pypi.org.."));
	assert_false(sbx_net_allow_name_match(&p, "www.pypi.org"));
	assert_false(sbx_net_allow_name_match(&p, "pypi.or"));
	assert_false(sbx_net_allow_name_match(&p, "pypi.orgx"));
	assert_false(sbx_net_allow_name_match(&p, "xpypi.org"));

	/* A query name too long to be one never matches. */
	char longname[600];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname + sizeof(longname) - 1 - 12, ".example.com", 12);
	assert_false(sbx_net_allow_name_match(&w, longname));

	/* CIDR entries match no name. */
	sbx_net_allow c = allow_ok("1.2.3.4");
	assert_false(sbx_net_allow_name_match(&c, "1.2.3.4"));
}

static void test_allow_names_list(void **state)
{
	(void)state;
	sbx_net_allow a[4] = {allow_ok("10.0.0.0/8"), allow_ok("*.example.com:443"),
			      allow_ok("pypi.org"), allow_ok("www.example.com:80")};
	uint16_t port = 7;
	assert_true(sbx_net_allow_names(a, N(a), "www.example.com", &port));
	assert_int_equal(port, 443); /* the first match */
	port = 7;
	assert_true(sbx_net_allow_names(a, N(a), "pypi.org.", &port));
	assert_int_equal(port, 0);
	port = 7;
	assert_false(sbx_net_allow_names(a, N(a), "example.com", &port));
	assert_int_equal(port, 7);
	assert_false(sbx_net_allow_names(a, 0, "pypi.org", &port));
	assert_true(sbx_net_allow_names(a, N(a), "pypi.org", NULL));
}

static void publish_bad(const char *s, const char *why)
{
	sbx_net_publish p;
	memset(&p, 0xAB, sizeof(p));
	sbx_error e;
	if (sbx_net_publish_parse(s, &p, &e) != -SBX_E_INVALID)
		fail_msg("--publish '%s' accepted", s);
	char want[400];
	snprintf(want, sizeof(want), "invalid --publish '%s': ", s);
	if (strncmp(e.msg, want, strlen(want)) != 0 || (why && !strstr(e.msg, why)))
		fail_msg("--publish '%s': message '%s'", s, e.msg);
	for (size_t i = 0; i < sizeof(p); i++)
		assert_int_equal(((unsigned char *)&p)[i], 0xAB);
}

static void test_publish(void **state)
{
	(void)state;
	sbx_net_publish p;
	sbx_error e;
	assert_int_equal(sbx_net_publish_parse("8080:80", &p, &e), 0);
	assert_int_equal(p.host_addr[0], 127);
	assert_int_equal(p.host_addr[1], 0);
	assert_int_equal(p.host_addr[2], 0);
	assert_int_equal(p.host_addr[3], 1);
	assert_int_equal(p.host_port, 8080);
	assert_int_equal(p.port, 80);

	assert_int_equal(sbx_net_publish_parse("0.0.0.0:1:65535", &p, &e), 0);
	assert_int_equal(p.host_addr[0], 0);
	assert_int_equal(p.host_addr[3], 0);
	assert_int_equal(p.host_port, 1);
	assert_int_equal(p.port, 65535);

	assert_int_equal(sbx_net_publish_parse("192.0.2.5:443:8443", &p, &e), 0);
	assert_int_equal(p.host_addr[0], 192);
	assert_int_equal(p.host_addr[3], 5);

	publish_bad("", "empty");
	publish_bad("8080", "HOSTPORT:PORT");
	publish_bad("0:80", "host port");
	publish_bad("65536:80", "host port");
	publish_bad("8080:0", "port");
	publish_bad("8080:65536", "port");
	publish_bad("8080:", "port");
	publish_bad(":80", "host port");
	publish_bad("+8080:80", "host port");
	publish_bad("8080:80/tcp", "port");
	publish_bad("localhost:8080:80", "IPv4");
	publish_bad("1.2.3:8080:80", "IPv4");
	publish_bad(":8080:80", "IPv4");
	publish_bad("[::1]:8080:80", "IPv4");
	publish_bad("::1:8080:80", "IPv4");
	assert_int_equal(sbx_net_publish_parse(NULL, &p, NULL), -SBX_E_INVALID);
}

static void dns_bad(const char *s, const char *why)
{
	sbx_net_dns d;
	memset(&d, 0xAB, sizeof(d));
	sbx_error e;
	if (sbx_net_dns_parse(s, &d, &e) != -SBX_E_INVALID)
		fail_msg("--dns '%s' accepted", s);
	char want[400];
	snprintf(want, sizeof(want), "invalid --dns '%s': ", s);
	if (strncmp(e.msg, want, strlen(want)) != 0 || (why && !strstr(e.msg, why)))
		fail_msg("--dns '%s': message '%s'", s, e.msg);
	for (size_t i = 0; i < sizeof(d); i++)
		assert_int_equal(((unsigned char *)&d)[i], 0xAB);
}

static void test_dns(void **state)
{
	(void)state;
	sbx_net_dns d;
	sbx_error e;
	assert_int_equal(sbx_net_dns_parse("192.0.2.53", &d, &e), 0);
	assert_int_equal(d.family, AF_INET);
	assert_int_equal(d.addr[0], 192);
	assert_int_equal(d.addr[3], 53);
	assert_int_equal(d.port, 53);

	assert_int_equal(sbx_net_dns_parse("127.0.0.1:5353", &d, &e), 0);
	assert_int_equal(d.family, AF_INET);
	assert_int_equal(d.port, 5353);

	assert_int_equal(sbx_net_dns_parse("[2001:db8::53]:5300", &d, &e), 0);
	assert_int_equal(d.family, AF_INET6);
	assert_int_equal(d.addr[15], 0x53);
	assert_int_equal(d.port, 5300);

	assert_int_equal(sbx_net_dns_parse("[::1]", &d, &e), 0);
	assert_int_equal(d.family, AF_INET6);
	assert_int_equal(d.port, 53);

	/* "::1:53" is an address (::1:53), port 53 by default, not ::1 port 53. */
	assert_int_equal(sbx_net_dns_parse("::1:53", &d, &e), 0);
	assert_int_equal(d.family, AF_INET6);
	assert_int_equal(d.addr[13], 1);
	assert_int_equal(d.addr[15], 0x53);
	assert_int_equal(d.port, 53);

	dns_bad("", "empty");
	dns_bad("dns.example", "IPv4");
	dns_bad("1.2.3.4:0", "port");
	dns_bad("1.2.3.4:65536", "port");
	dns_bad("1.2.3.4:", "port");
	dns_bad("1.2.3.4/32", "IPv4");
	dns_bad("0.0.0.0", "unspecified");
	dns_bad("::", "unspecified");
	dns_bad("[::1]:", "port");
	dns_bad("[::1]x", "':PORT'");
	dns_bad("[1.2.3.4]:53", "IPv6");
	dns_bad("fe80::1%eth0", "IPv6");
	assert_int_equal(sbx_net_dns_parse(NULL, &d, NULL), -SBX_E_INVALID);
}

static void test_dns_from_resolv(void **state)
{
	(void)state;
	sbx_net_dns d;
	sbx_error e;
	assert_int_equal(sbx_net_dns_from_resolv("# generated\n"
						 "; nameserver 192.0.2.1\n"
						 "#nameserver 192.0.2.2\n"
						 "search example.com\n"
						 "nameservers 192.0.2.3\n"
						 "nameserver\n"
						 "nameserver bogus\n"
						 "nameserver fe80::1%eth0\n"
						 "nameserver 0.0.0.0\n"
						 "nameserver\t192.0.2.9 # the first good one\n"
						 "nameserver 192.0.2.10\n",
						 &d, &e),
			 0);
	assert_int_equal(d.family, AF_INET);
	assert_int_equal(d.addr[0], 192);
	assert_int_equal(d.addr[3], 9);
	assert_int_equal(d.port, 53);

	assert_int_equal(sbx_net_dns_from_resolv("nameserver 2001:db8::1;x", &d, &e), 0);
	assert_int_equal(d.family, AF_INET6);
	assert_int_equal(d.addr[15], 1);

	assert_int_equal(sbx_net_dns_from_resolv("nameserver 192.0.2.1\r\n", &d, &e), 0);
	assert_int_equal(d.addr[3], 1);

	assert_int_equal(sbx_net_dns_from_resolv("", &d, &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "nameserver"));
	assert_int_equal(sbx_net_dns_from_resolv(NULL, &d, &e), -SBX_E_INVALID);
	assert_int_equal(sbx_net_dns_from_resolv("options ndots:1\n # nameserver 1.1.1.1\n"
						 " nameserver 1.1.1.1\n",
						 &d, &e),
			 -SBX_E_INVALID);
}

static int check(const sbx_config *c, const char *want)
{
	sbx_error e;
	memset(&e, 0, sizeof(e));
	int r = sbx_net_config_check(c, &e);
	if (want && (r != -SBX_E_INVALID || !strstr(e.msg, want)))
		fail_msg("config check: %d '%s', want '%s'", r, e.msg, want);
	if (!want && r != 0)
		fail_msg("config check refused: %s", e.msg);
	return r;
}

static void test_config_check(void **state)
{
	(void)state;
	sbx_config c;
	sbx_config_init(&c);
	check(&c, NULL);

	const char *allow[] = {"pypi.org", "*.example.com:443", "10.0.0.0/8"};
	const char *pub[] = {"8080:80", "0.0.0.0:8081:80"};
	c.net_allow = allow;
	c.n_net_allow = N(allow);
	check(&c, "--allow needs --net egress");
	c.net = SBX_NET_LOOPBACK;
	check(&c, "--allow needs --net egress");
	c.n_net_allow = 0;
	c.net_publish = pub;
	c.n_net_publish = N(pub);
	check(&c, "--publish needs --net egress");
	c.n_net_publish = 0;
	c.net_dns = "192.0.2.53";
	check(&c, "--dns needs --net egress");

	c.net = SBX_NET_EGRESS;
	c.n_net_allow = N(allow);
	c.n_net_publish = N(pub);
	check(&c, NULL);

	c.net_dns = "192.0.2.53:0";
	check(&c, "invalid --dns '192.0.2.53:0'");
	c.net_dns = NULL;

	const char *bad_allow[] = {"pypi.org", "1.2.3.4/24"};
	c.net_allow = bad_allow;
	c.n_net_allow = N(bad_allow);
	check(&c, "invalid --allow '1.2.3.4/24'");
	c.n_net_allow = 0;

	const char *dup[] = {"8080:80", "9090:90", "0.0.0.0:8080:81"};
	c.net_publish = dup;
	c.n_net_publish = N(dup);
	check(&c, "published twice");
	const char *bad_pub[] = {"8080:80", "x:1:2"};
	c.net_publish = bad_pub;
	c.n_net_publish = N(bad_pub);
	check(&c, "invalid --publish 'x:1:2'");

	/* Limits: 256 allow and 64 publish entries. */
	const char **many = calloc(257, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i < 257; i++)
		many[i] = "pypi.org";
	c.net_allow = many;
	c.n_net_allow = 256;
	c.n_net_publish = 0;
	check(&c, NULL);
	c.n_net_allow = 257;
	check(&c, "too many --allow");
	c.n_net_allow = 0;

	char(*ports)[16] = calloc(65, sizeof(*ports));
	const char **pubs = calloc(65, sizeof(*pubs));
	assert_non_null(ports);
	assert_non_null(pubs);
	for (size_t i = 0; i < 65; i++) {
		snprintf(ports[i], sizeof(ports[i]), "%zu:80", 10000 + i);
		pubs[i] = ports[i];
	}
	c.net_publish = pubs;
	c.n_net_publish = 64;
	check(&c, NULL);
	c.n_net_publish = 65;
	check(&c, "too many --publish");
	free(many);
	free(ports);
	free(pubs);

	/* sbx_config_validate refuses them too. */
	sbx_config v;
	sbx_config_init(&v);
	v.net_allow = allow;
	v.n_net_allow = 1;
	sbx_error e;
	assert_int_equal(sbx_config_validate(&v, false, &e), -SBX_E_INVALID);
	assert_string_equal(e.msg, "--allow needs --net egress");
	v.net = SBX_NET_EGRESS;
	assert_int_equal(sbx_config_validate(&v, false, &e), 0);
	v.net_dns = "nope";
	assert_int_equal(sbx_config_validate(&v, false, &e), -SBX_E_INVALID);
	assert_non_null(strstr(e.msg, "invalid --dns 'nope'"));
}

static void test_host_loopback(void **state)
{
	(void)state;
	sbx_net_allow a[3] = {allow_ok("pypi.org"), allow_ok("10.0.0.0/8"), allow_ok("::1")};
	assert_false(sbx_net_allow_host_loopback(a, N(a)));
	assert_false(sbx_net_allow_host_loopback(a, 0));
	a[0] = allow_ok("127.0.0.1:8080");
	assert_true(sbx_net_allow_host_loopback(a, N(a)));
	a[0] = allow_ok("127.0.0.0/8");
	assert_true(sbx_net_allow_host_loopback(a, N(a)));
	a[0] = allow_ok("0.0.0.0/0"); /* "everything outside": not the host's own */
	assert_false(sbx_net_allow_host_loopback(a, N(a)));
	a[0] = allow_ok("64.0.0.0/2");
	assert_false(sbx_net_allow_host_loopback(a, N(a)));
	a[0] = allow_ok("127.0.0.2");
	assert_false(sbx_net_allow_host_loopback(a, N(a)));
}

/* The rule set of entries (NULL-terminated) and host addresses, as text. */
static char *ruleset(const char *const *entries, const uint8_t *hosts, size_t n_host)
{
	sbx_net_allow a[16];
	size_t n = 0;
	for (; entries && entries[n]; n++)
		a[n] = allow_ok(entries[n]);
	sbx_buf b = {0};
	sbx_error e;
	assert_int_equal(sbx_net_ruleset(&b, a, n, hosts, n_host, &e), 0);
	return sbx_buf_steal(&b);
}

static void has(const char *text, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "\t%s\n", line);
	if (!strstr(text, want))
		fail_msg("rule set lacks '%s':\n%s", line, text);
}

static void lacks(const char *text, const char *piece)
{
	if (strstr(text, piece))
		fail_msg("rule set has '%s':\n%s", piece, text);
}

#define DENY                                                                                       \
	"ip daddr { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, "           \
	"172.16.0.0/12, 192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/4, 240.0.0.0/4 } "  \
	"goto refuse"

/* Lines common to every rule set, in this order. */
static void common(const char *t)
{
	assert_int_equal(strncmp(t, "table inet sbx {\n", 17), 0);
	const char *order[] = {
	    "\tset names4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n",
	    "\tset names4p {\n\t\ttype ipv4_addr . inet_service\n\t\tflags timeout\n\t}\n",
	    "\tchain refuse {\n\t\tmeta l4proto tcp reject with tcp reset\n"
	    "\t\treject with icmpx type admin-prohibited\n\t}\n",
	    "\tchain out {\n\t\ttype filter hook output priority filter; policy drop;\n"
	    "\t\toifname \"lo\" accept\n\t\tct state established,related accept\n",
	    "\t\tip daddr { 10.0.2.2, 10.0.2.3 } goto refuse\n",
	    "\t\t" DENY "\n",
	    "\t\tip daddr @names4 accept\n"
	    "\t\tmeta l4proto { tcp, udp } ip daddr . th dport @names4p accept\n",
	    "\t\tgoto refuse\n\t}\n}\n",
	};
	const char *p = t;
	for (size_t i = 0; i < N(order); i++) {
		const char *q = strstr(p, order[i]);
		if (!q)
			fail_msg("rule set lacks (in order) '%s':\n%s", order[i], t);
		p = q + strlen(order[i]);
	}
	assert_string_equal(p, ""); /* the end */
}

static void test_ruleset_empty(void **state)
{
	(void)state;
	char *t = ruleset(NULL, NULL, 0);
	common(t);
	/* No entries: every other IPv4 address, after the refusals. */
	has(t, "meta nfproto ipv4 accept");
	assert_true(strstr(t, DENY) < strstr(t, "meta nfproto ipv4 accept"));
	lacks(t, "ip daddr 10.0.2.2 ");
	free(t);
}

static void test_ruleset_cidr(void **state)
{
	(void)state;
	const char *e[] = {"198.51.100.0/24", "198.51.100.7:8080", "192.168.1.0/24:443",
			   "2001:db8::/32",   "[::1]:80",	   NULL};
	char *t = ruleset(e, NULL, 0);
	common(t);
	has(t, "ip daddr 198.51.100.0/24 accept");
	has(t, "ip daddr 198.51.100.7/32 meta l4proto { tcp, udp } th dport 8080 accept");
	has(t, "ip daddr 192.168.1.0/24 meta l4proto { tcp, udp } th dport 443 accept");
	/* Accepted before the refusals (an allowed private range wins). */
	assert_true(strstr(t, "192.168.1.0/24 meta") < strstr(t, DENY));
	/* Not the gateway, and no IPv6 rules at all. */
	assert_true(strstr(t, "ip daddr { 10.0.2.2, 10.0.2.3 } goto refuse") <
		    strstr(t, "198.51.100.0/24"));
	lacks(t, "ip daddr 10.0.2.2 ");
	lacks(t, "ip6");
	lacks(t, "2001:db8");
	lacks(t, "meta nfproto ipv4 accept");
	free(t);
}

static void test_ruleset_host_loopback(void **state)
{
	(void)state;
	const char *e[] = {"127.0.0.1:8080", "127.0.0.0/8:9000", "0.0.0.0/0:443", NULL};
	char *t = ruleset(e, NULL, 0);
	common(t);
	has(t, "ip daddr 10.0.2.2 meta l4proto { tcp, udp } th dport 8080 accept");
	has(t, "ip daddr 10.0.2.2 meta l4proto { tcp, udp } th dport 9000 accept");
	lacks(t, "ip daddr 10.0.2.2 meta l4proto { tcp, udp } th dport 443 accept");
	has(t, "ip daddr 0.0.0.0/0 meta l4proto { tcp, udp } th dport 443 accept");
	/* Before the gateway's refusal; 127/8 itself is the sandbox's "lo". */
	assert_true(strstr(t, "10.0.2.2 meta") < strstr(t, "{ 10.0.2.2, 10.0.2.3 }"));
	lacks(t, "ip daddr 127.");
	free(t);

	const char *any[] = {"127.0.0.1", NULL};
	t = ruleset(any, NULL, 0);
	has(t, "ip daddr 10.0.2.2 accept");
	free(t);
}

static void test_ruleset_hosts(void **state)
{
	(void)state;
	/* 10.1.2.3 and 192.168.0.9 are refused already (no overlapping
	 * interval); 203.0.113.9 is given twice. */
	const uint8_t hosts[] = {10, 1, 2,   3, 203, 0, 113, 9, 192, 168,
				 0,  9, 203, 0, 113, 9, 192, 0, 2,   5};
	const char *e[] = {"pypi.org", NULL};
	char *t = ruleset(e, hosts, sizeof(hosts) / 4);
	common(t);
	has(t, "ip daddr { 203.0.113.9, 192.0.2.5 } goto refuse");
	lacks(t, "10.1.2.3");
	lacks(t, "192.168.0.9");
	assert_true(strstr(t, "203.0.113.9") < strstr(t, "@names4 accept"));
	free(t);

	/* Only covered addresses: no empty set. */
	const uint8_t priv[] = {127, 0, 0, 1, 172, 17, 0, 1};
	t = ruleset(e, priv, 2);
	common(t);
	lacks(t, "{  }");
	lacks(t, "172.17.0.1");
	free(t);
}

static void test_ruleset_names_only(void **state)
{
	(void)state;
	const char *e[] = {"pypi.org", "*.pythonhosted.org:443", NULL};
	char *t = ruleset(e, NULL, 0);
	common(t);
	lacks(t, "meta nfproto ipv4 accept");
	lacks(t, "pypi");
	lacks(t, "ip daddr 10.0.2.2 ");
	/* Nothing between the gateway's refusal and the fixed one. */
	assert_non_null(strstr(t, "\t\tip daddr { 10.0.2.2, 10.0.2.3 } goto refuse\n\t\t" DENY
				  "\n\t\tip daddr @names4 accept\n"));
	free(t);
}

/* add, delete, add of one element (the expiry renewed) */
#define EL3(el, ttl)                                                                               \
	"add element inet sbx " el " timeout " ttl " }\n"                                          \
	"delete element inet sbx " el " }\n"                                                       \
	"add element inet sbx " el " timeout " ttl " }\n"

static void test_ruleset_add_addr(void **state)
{
	(void)state;
	const uint8_t ip[4] = {198, 51, 100, 7};
	sbx_buf b = {0};
	sbx_error e;
	assert_int_equal(sbx_net_ruleset_add_addr(&b, ip, 0, 60, &e), 0);
	assert_string_equal(b.data, EL3("names4 { 198.51.100.7", "60s"));
	sbx_buf_free(&b);
	assert_int_equal(sbx_net_ruleset_add_addr(&b, ip, 8080, 60, &e), 0);
	assert_string_equal(b.data, EL3("names4p { 198.51.100.7 . 8080", "60s"));
	sbx_buf_free(&b);
	/* ttl clamped to 30..86400 */
	assert_int_equal(sbx_net_ruleset_add_addr(&b, ip, 0, 0, &e), 0);
	assert_int_equal(sbx_net_ruleset_add_addr(&b, ip, 0, 29, &e), 0);
	assert_int_equal(sbx_net_ruleset_add_addr(&b, ip, 443, 86401, &e), 0);
	assert_int_equal(sbx_net_ruleset_add_addr(&b, ip, 443, UINT32_MAX, &e), 0);
	assert_string_equal(b.data,
			    EL3("names4 { 198.51.100.7", "30s") EL3("names4 { 198.51.100.7", "30s")
				EL3("names4p { 198.51.100.7 . 443", "86400s")
				    EL3("names4p { 198.51.100.7 . 443", "86400s"));
	sbx_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allow_names),	     cmocka_unit_test(test_allow_names_bad),
	    cmocka_unit_test(test_allow_cidr4),	     cmocka_unit_test(test_allow_cidr6),
	    cmocka_unit_test(test_name_match),	     cmocka_unit_test(test_allow_names_list),
	    cmocka_unit_test(test_publish),	     cmocka_unit_test(test_dns),
	    cmocka_unit_test(test_dns_from_resolv),  cmocka_unit_test(test_config_check),
	    cmocka_unit_test(test_host_loopback),    cmocka_unit_test(test_ruleset_empty),
	    cmocka_unit_test(test_ruleset_cidr),     cmocka_unit_test(test_ruleset_host_loopback),
	    cmocka_unit_test(test_ruleset_hosts),    cmocka_unit_test(test_ruleset_names_only),
	    cmocka_unit_test(test_ruleset_add_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
