/* netd's DNS proxy: the sandbox's queries (UDP, 127.0.0.1:53 inside) are
 * answered from the host. With an allowlist, only allowed names go
 * upstream, and the IPv4 addresses of their answers are added to the rule
 * set (with the entry's port, for their TTL) before the answer is passed
 * on; other names get NXDOMAIN without leaving the machine. Without one,
 * every query goes upstream (the rule set still refuses the always-refused
 * ranges, whatever a name resolves to). Upstream answers are checked
 * against the query (id, question) before anything is taken from them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/util.h"
#include "core/netd_int.h"
#include "proto/dnsmsg.h"

#define DNS_PENDING 64
#define DNS_WAIT_MS 5000
#define DNS_BURST 32 /* queries taken per wake-up */
#define DNS_ADDRS 32

typedef struct pending {
	int fd; /* connected to upstream, -1: free */
	struct sockaddr_in from;
	uint16_t orig_id;
	sbx_dns_query q; /* with the id sent upstream */
	uint8_t query[SBX_DNS_MAX];
	uint64_t deadline;
} pending;

static void reply_rcode(sbx_netd_ctx *c, const uint8_t *q, const sbx_dns_query *pq,
			const struct sockaddr_in *to, int rcode)
{
	uint8_t out[600];
	ssize_t n = sbx_dns_reply_rcode(q, pq, rcode, out, sizeof(out));
	if (n > 0)
		sendto(c->dns_fd, out, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)to,
		       sizeof(*to));
}

static void fail_pending(sbx_netd_ctx *c, pending *p, int rcode)
{
	sbx_dns_set_id(p->query, p->orig_id);
	p->q.id = p->orig_id;
	reply_rcode(c, p->query, &p->q, &p->from, rcode);
	sbx_closep(&p->fd);
}

static int upstream_socket(const sbx_netd_ctx *c)
{
	int fd = socket(c->upstream.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (c->upstream.family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(c->upstream.port);
		memcpy(&a->sin_addr, c->upstream.addr, 4);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(c->upstream.port);
		memcpy(&a->sin6_addr, c->upstream.addr, 16);
		len = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void take_query(sbx_netd_ctx *c, pending *pend, const uint8_t *buf, size_t n,
		       const struct sockaddr_in *from)
{
	sbx_dns_query q;
	if (sbx_dns_parse_query(buf, n, &q) < 0)
		return; /* not a query we answer: dropped */
	if (c->n_allow && !sbx_net_allow_names(c->allow, c->n_allow, q.name, NULL)) {
		reply_rcode(c, buf, &q, from, SBX_DNS_NXDOMAIN);
		return;
	}
	pending *p = NULL;
	for (int i = 0; i < DNS_PENDING && !p; i++)
		if (pend[i].fd < 0)
			p = &pend[i];
	int fd = p && c->have_upstream ? upstream_socket(c) : -1;
	if (fd < 0) {
		reply_rcode(c, buf, &q, from, SBX_DNS_SERVFAIL);
		return;
	}
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(sbx_now_ns() >> 7);
	p->fd = fd;
	p->from = *from;
	p->orig_id = q.id;
	memcpy(p->query, buf, n);
	sbx_dns_set_id(p->query, id);
	p->q = q;
	p->q.id = id;
	p->deadline = sbx_now_ns() + (uint64_t)DNS_WAIT_MS * 1000000;
	if (send(fd, p->query, n, MSG_DONTWAIT) != (ssize_t)n)
		fail_pending(c, p, SBX_DNS_SERVFAIL);
}

/* The addresses of an allowed name's answer into the rule set first, with
 * the port of every entry that allows the name (0: any). */
static int open_addrs(sbx_netd_ctx *c, const pending *p, const sbx_dns_addr *a, int n)
{
	if (!c->n_allow || n <= 0)
		return 0;
	_cleanup_buf_ sbx_buf b = {0};
	sbx_error err;
	int added = 0;
	for (size_t e = 0; e < c->n_allow; e++) {
		if (c->allow[e].kind != SBX_ALLOW_NAME ||
		    !sbx_net_allow_name_match(&c->allow[e], p->q.name))
			continue;
		for (int i = 0; i < n; i++)
			if (a[i].family == AF_INET) {
				if (sbx_net_ruleset_add_addr(&b, a[i].addr, c->allow[e].port,
							     a[i].ttl, &err) < 0)
					return -1;
				added++;
			}
	}
	if (!added)
		return 0;
	if (sbx_netd_nft(c, b.data, b.len, &err) < 0) {
		sbx_debug("dns: %s", err.msg);
		return -1;
	}
	return 0;
}

static void take_answer(sbx_netd_ctx *c, pending *p)
{
	uint8_t buf[SBX_DNS_MAX];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			fail_pending(c, p, SBX_DNS_SERVFAIL); /* e.g. ECONNREFUSED */
		return;
	}
	sbx_dns_addr addrs[DNS_ADDRS];
	int k = sbx_dns_answer_addrs(buf, (size_t)n, &p->q, addrs, DNS_ADDRS);
	if (k < 0)
		return; /* not the answer to this query: keep waiting */
	if (open_addrs(c, p, addrs, k) < 0) {
		fail_pending(c, p, SBX_DNS_SERVFAIL);
		return;
	}
	sbx_dns_set_id(buf, p->orig_id);
	sendto(c->dns_fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&p->from,
	       sizeof(p->from));
	sbx_closep(&p->fd);
}

void sbx_netd_dns_loop(sbx_netd_ctx *c)
{
	pending *pend = calloc(DNS_PENDING, sizeof(*pend));
	if (!pend)
		return;
	for (int i = 0; i < DNS_PENDING; i++)
		pend[i].fd = -1;
	for (;;) {
		struct pollfd pf[3 + DNS_PENDING];
		int map[3 + DNS_PENDING];
		int n = 0;
		pf[n++] = (struct pollfd){c->init_fd, POLLIN, 0};
		pf[n++] = (struct pollfd){c->slirp_fd, POLLIN, 0};
		pf[n++] = (struct pollfd){c->dns_fd, POLLIN, 0};
		uint64_t now = sbx_now_ns(), next = now + 60000000000ull;
		for (int i = 0; i < DNS_PENDING; i++) {
			if (pend[i].fd < 0)
				continue;
			if (pend[i].deadline <= now) {
				fail_pending(c, &pend[i], SBX_DNS_SERVFAIL);
				continue;
			}
			if (pend[i].deadline < next)
				next = pend[i].deadline;
			map[n] = i;
			pf[n++] = (struct pollfd){pend[i].fd, POLLIN, 0};
		}
		int pr = poll(pf, (nfds_t)n, (int)((next - now) / 1000000) + 1);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		if (pf[0].revents || pf[1].revents)
			break; /* the sandbox, or slirp4netns, is gone */
		for (int i = 3; i < n; i++)
			if (pf[i].revents)
				take_answer(c, &pend[map[i]]);
		for (int k = 0; k < DNS_BURST && (pf[2].revents & POLLIN); k++) {
			uint8_t buf[SBX_DNS_MAX];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t got = recvfrom(c->dns_fd, buf, sizeof(buf), MSG_DONTWAIT,
					       (struct sockaddr *)&from, &fl);
			if (got < 0)
				break;
			if (fl == sizeof(from) && from.sin_family == AF_INET)
				take_query(c, pend, buf, (size_t)got, &from);
		}
	}
	for (int i = 0; i < DNS_PENDING; i++)
		sbx_closep(&pend[i].fd);
	free(pend);
}
