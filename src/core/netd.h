/* The network of an egress sandbox (SBX_NET_EGRESS), from the host side.
 *
 * netd is a small host process of its own per sandbox, started by the
 * launcher after the id maps and cgroups and before GO, and detached (a
 * grandchild, adopted by pid 1: never a zombie of ours). It joins the
 * sandbox's cgroups (its pids and memory count there, and removing the
 * sandbox kills it), then, with the sandbox's network namespace:
 *   - starts slirp4netns (user-mode TCP/IP to the outside, with tap0
 *     10.0.2.100/24 inside), which ends when netd does (--exit-fd);
 *   - loads the nftables rule set of net_allow (base/netspec.h) into the
 *     sandbox's namespace, where the sandbox (no CAP_NET_ADMIN) cannot
 *     change it;
 *   - binds 127.0.0.1:53 inside and answers the sandbox's DNS queries
 *     from the host: only allowed names go upstream (net_dns), and their
 *     addresses are added to the rule set before the answer is passed on;
 *   - adds the published ports (net_publish) through slirp4netns's API.
 * It ends when the sandbox's init does (its pidfd), or when killed. */
#ifndef SBX_NETD_H
#define SBX_NETD_H

#include <sys/types.h>

#include "core/cgroup.h"
#include "sbx.h"

typedef struct sbx_netd {
	pid_t pid; /* 0: none */
	int pidfd;
} sbx_netd;

void sbx_netd_init(sbx_netd *n);

/* Start netd for the sandbox whose init is `init` (maps written, cgroups
 * made) and wait until all of the above is in place (at most
 * SBX_NETD_START_MS). 0, or
 * a negative sbx error (netd is then stopped). */
int sbx_netd_start(sbx_netd *n, const sbx_config *cfg, pid_t init, const sbx_cgroup *cg,
		   sbx_error *err);

/* Kill netd (slirp4netns follows) and wait up to 2 s for it to be gone. */
void sbx_netd_stop(sbx_netd *n);

/* Forget it: it ends with the sandbox (whoever owns that now). */
void sbx_netd_forget(sbx_netd *n);

/* Can --net egress work here (slirp4netns, nft, /dev/net/tun)? 0 with the
 * programs found in detail, or -SBX_E_SETUP saying what is missing. */
int sbx_netd_available(char *detail, size_t cap, sbx_error *err);

#endif
