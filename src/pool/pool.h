/* Pool internals shared with the daemon. */
#ifndef SBX_POOL_H
#define SBX_POOL_H

#include "sbx.h"

/* Stop handing out sandboxes (waiting acquisitions fail at once); the
 * pool stays valid until sbx_pool_destroy. */
void sbx_pool_stop(sbx_pool *p);

/* Does the pool fork its sandboxes from a zygote (fork mode in effect)? */
bool sbx_pool_forks(const sbx_pool *p);

/* The configuration every sandbox of the pool was made from. */
const sbx_config *sbx_pool_template(const sbx_pool *p);

#endif
