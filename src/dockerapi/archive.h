/* PUT|GET|HEAD /containers/{id}/archive?path=: tar in and out. */
#ifndef SBX_DAPI_ARCHIVE_H
#define SBX_DAPI_ARCHIVE_H

#include "dockerapi/engine.h"
#include "dockerapi/http.h"

/* Answer the request: 0 keep the connection, 1 close it. */
int dapi_archive(dapi_ctr *ctr, dapi_conn *c, dapi_req *r);

#endif
