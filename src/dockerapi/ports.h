/* HostConfig.PortBindings: Docker's published ports, as sbx's --publish
 * entries of an egress sandbox (docs/docker-api.md, "Network"). */
#ifndef SBX_DAPI_PORTS_H
#define SBX_DAPI_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "sbx.h"

#define DAPI_PORTS_MAX 64 /* as --publish's cap */

/* One binding: TCP host_ip:host_port on the host reaches port inside. */
typedef struct dapi_port {
	uint16_t port;
	uint16_t host_port; /* 0: random, until dapi_ports_pick */
	bool random;	    /* HostPort "": the host port is picked */
	char host_ip[16];   /* as the client gave it ("" : the default) */
	char bound_ip[16];  /* where it is published: host_ip, "" -> 127.0.0.1 */
	char publish[48];   /* "BOUND_IP:HOST_PORT:PORT", sbx_config.net_publish's */
} dapi_port;

struct sbx_jval;
/* v: {"8000/tcp": [{"HostIp": "", "HostPort": "18000"}], ...} (null or {}:
 * none). Only TCP, an IPv4 host address or "", a host port 1..65535 or ""
 * (a random one: dapi_ports_pick), no ranges, each host port once, at
 * most DAPI_PORTS_MAX. *out (malloc'd, NULL when none) and *n; or
 * -SBX_E_INVALID with err naming the entry. */
int dapi_ports_parse(const struct sbx_jval *v, dapi_port **out, size_t *n, sbx_error *err);

/* A free port of the host (the kernel's choice for a socket bound to the
 * binding's address with port 0, then closed) for every random binding
 * still without one, none twice; their publish strings filled. 0, or
 * -SBX_E_SYSTEM (-SBX_E_INVALID: an address the host cannot bind). Another
 * process may take the port before the sandbox publishes it: the create
 * then fails as for a taken port. */
int dapi_ports_pick(dapi_port *p, size_t n, sbx_error *err);

/* {"8000/tcp":[{"HostIp":"..","HostPort":".."}],...}, grouped by port:
 * bound false: the HostIp as given (HostConfig.PortBindings), true: where
 * it is published (NetworkSettings.Ports). */
void dapi_ports_json(sbx_buf *b, const dapi_port *p, size_t n, bool bound);
/* GET /containers/json's Ports: [{"IP":..,"PrivatePort":..,"PublicPort":..,
 * "Type":"tcp"},...]. */
void dapi_ports_list_json(sbx_buf *b, const dapi_port *p, size_t n);

#endif
