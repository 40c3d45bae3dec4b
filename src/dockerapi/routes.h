/* The Docker Engine API routes. */
#ifndef SBX_DAPI_ROUTES_H
#define SBX_DAPI_ROUTES_H

#include "dockerapi/engine.h"
#include "dockerapi/http.h"

/* Answer one request (its head read): 0 keep the connection for the
 * next one, 1 close it (a stream took it over, or it is broken). */
int dapi_route(dapi_engine *e, dapi_conn *c, dapi_req *r);

#endif
