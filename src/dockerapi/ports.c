/* HostConfig.PortBindings into --publish entries, and back as Docker's
 * JSON. Every value is checked: the body is a client's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "dockerapi/ports.h"
#include "proto/json.h"
#include "proto/jsonparse.h"

#define WHAT "HostConfig.PortBindings"

/* "1".."65535", decimal digits only. */
static bool port_num(const char *s, size_t len, uint16_t *out)
{
	if (len == 0 || len > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* A binding's string member: absent or null is "". */
static int member(const sbx_jval *o, const char *key, const char *k, const char **out,
		  sbx_error *err)
{
	const sbx_jval *v = sbx_jget(o, key);
	*out = "";
	if (!v || v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_STR || strlen(v->str) != v->len)
		return sbx_fail(err, SBX_E_INVALID, WHAT ".%s: %s is not a string", k, key);
	*out = v->str;
	return 0;
}

static int binding(const char *k, uint16_t port, const sbx_jval *o, dapi_port *p, sbx_error *err)
{
	if (o->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, WHAT ".%s: a binding is not an object", k);
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], "HostIp") && strcmp(o->keys[i], "HostPort"))
			return sbx_fail(err, SBX_E_INVALID, WHAT ".%s: unknown field %.40s", k,
					o->keys[i]);
	const char *ip, *hp;
	int r = member(o, "HostIp", k, &ip, err);
	if (r == 0)
		r = member(o, "HostPort", k, &hp, err);
	if (r < 0)
		return r;
	memset(p, 0, sizeof(*p));
	p->port = port;
	if (strchr(hp, '-'))
		return sbx_fail(err, SBX_E_INVALID,
				WHAT ".%s: host port range %.20s: give one port, or none for a "
				     "random one",
				k, hp);
	p->random = !hp[0];
	if (!p->random && !port_num(hp, strlen(hp), &p->host_port))
		return sbx_fail(err, SBX_E_INVALID, WHAT ".%s: invalid host port %.20s", k, hp);
	struct in_addr a;
	if (ip[0] && strchr(ip, ':'))
		return sbx_fail(err, SBX_E_INVALID,
				WHAT
				".%s: host address %.46s: only IPv4 addresses can be published "
				"on",
				k, ip);
	if (ip[0] && (strlen(ip) >= sizeof(p->host_ip) || inet_pton(AF_INET, ip, &a) != 1))
		return sbx_fail(err, SBX_E_INVALID, WHAT ".%s: invalid host address %.46s", k, ip);
	snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip);
	snprintf(p->bound_ip, sizeof(p->bound_ip), "%s", ip[0] ? ip : "127.0.0.1");
	if (!p->random)
		snprintf(p->publish, sizeof(p->publish), "%s:%u:%u", p->bound_ip, p->host_port,
			 p->port);
	return 0;
}

/* "8000", "8000/tcp" -> 8000; other protocols refused. */
static int port_key(const char *k, uint16_t *port, sbx_error *err)
{
	const char *slash = strchr(k, '/');
	size_t len = slash ? (size_t)(slash - k) : strlen(k);
	if (slash && strcmp(slash + 1, "tcp") != 0)
		return sbx_fail(err, SBX_E_INVALID,
				WHAT ": %.40s: only TCP ports can be published (sbx has no UDP "
				     "publishing)",
				k);
	if (!port_num(k, len, port))
		return sbx_fail(err, SBX_E_INVALID, WHAT ": %.40s: not PORT or PORT/tcp", k);
	return 0;
}

int dapi_ports_parse(const sbx_jval *v, dapi_port **out, size_t *n, sbx_error *err)
{
	*out = NULL;
	*n = 0;
	if (!v || v->type == SBX_J_NULL)
		return 0;
	if (v->type != SBX_J_OBJ)
		return sbx_fail(err, SBX_E_INVALID, WHAT ": not an object");
	size_t total = 0;
	for (size_t i = 0; i < v->n; i++) {
		const sbx_jval *l = &v->items[i];
		if (l->type != SBX_J_NULL && l->type != SBX_J_ARR)
			return sbx_fail(err, SBX_E_INVALID, WHAT ".%.40s: not an array",
					v->keys[i]);
		total += l->type == SBX_J_ARR ? l->n : 0;
	}
	if (total > DAPI_PORTS_MAX)
		return sbx_fail(err, SBX_E_INVALID, WHAT ": more than %d bindings", DAPI_PORTS_MAX);
	if (!total)
		return 0;
	_cleanup_free_ dapi_port *p = calloc(total, sizeof(*p));
	if (!p)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++) {
		const sbx_jval *l = &v->items[i];
		uint16_t port = 0;
		int r = port_key(v->keys[i], &port, err);
		for (size_t j = 0; r == 0 && l->type == SBX_J_ARR && j < l->n; j++) {
			r = binding(v->keys[i], port, &l->items[j], &p[k], err);
			for (size_t m = 0; r == 0 && !p[k].random && m < k; m++)
				if (p[m].host_port == p[k].host_port)
					r = sbx_fail(err, SBX_E_INVALID,
						     WHAT ": host port %u is bound twice",
						     p[k].host_port);
			k += r == 0;
		}
		if (r < 0)
			return r;
	}
	*out = p;
	p = NULL;
	*n = k;
	return 0;
}

/* The kernel's free port for a socket bound to ip. */
static int free_port(const char *ip, uint16_t *out, sbx_error *err)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return sbx_fail(err, SBX_E_INVALID, WHAT ": invalid host address %s", ip);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(a);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "socket");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return sbx_fail_errno(err, errno == EADDRNOTAVAIL ? SBX_E_INVALID : SBX_E_SYSTEM,
				      errno, WHAT ": a free port on %s", ip);
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "getsockname");
	*out = ntohs(a.sin_port);
	return 0;
}

int dapi_ports_pick(dapi_port *p, size_t n, sbx_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!p[i].random || p[i].host_port)
			continue;
		/* not one the container already has (a few tries) */
		for (int tries = 0;; tries++) {
			uint16_t hp = 0;
			int r = free_port(p[i].bound_ip, &hp, err);
			if (r < 0)
				return r;
			bool taken = false;
			for (size_t j = 0; j < n && !taken; j++)
				taken = j != i && p[j].host_port == hp;
			if (!taken) {
				p[i].host_port = hp;
				break;
			}
			if (tries == 16)
				return sbx_fail(err, SBX_E_SYSTEM, WHAT ": no free port found");
		}
		snprintf(p[i].publish, sizeof(p[i].publish), "%s:%u:%u", p[i].bound_ip,
			 p[i].host_port, p[i].port);
	}
	return 0;
}

static void jstr(sbx_buf *b, const char *s)
{
	sbx_json_string(b, s, strlen(s));
}

void dapi_ports_json(sbx_buf *b, const dapi_port *p, size_t n, bool bound)
{
	sbx_buf_puts(b, "{");
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = p[j].port == p[i].port;
		if (seen)
			continue;
		sbx_buf_printf(b, "%s\"%u/tcp\":[", first ? "" : ",", p[i].port);
		first = false;
		for (size_t j = i; j < n; j++) {
			if (p[j].port != p[i].port)
				continue;
			sbx_buf_printf(b, "%s{\"HostIp\":", j == i ? "" : ",");
			jstr(b, bound ? p[j].bound_ip : p[j].host_ip);
			if (!bound && p[j].random)
				sbx_buf_puts(b, ",\"HostPort\":\"\"}");
			else
				sbx_buf_printf(b, ",\"HostPort\":\"%u\"}", p[j].host_port);
		}
		sbx_buf_puts(b, "]");
	}
	sbx_buf_puts(b, "}");
}

void dapi_ports_list_json(sbx_buf *b, const dapi_port *p, size_t n)
{
	sbx_buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		sbx_buf_printf(b, "%s{\"IP\":", i ? "," : "");
		jstr(b, p[i].bound_ip);
		sbx_buf_printf(b, ",\"PrivatePort\":%u,\"PublicPort\":%u,\"Type\":\"tcp\"}",
			       p[i].port, p[i].host_port);
	}
	sbx_buf_puts(b, "]");
}
