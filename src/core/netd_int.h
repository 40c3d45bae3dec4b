/* netd's own parts (netd.h): the process, its children, its DNS proxy. */
#ifndef SBX_NETD_INT_H
#define SBX_NETD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/netspec.h"
#include "sbx.h"

/* Deadlines of the set-up steps: generous (a loaded or emulated host is
 * slow), they only stop a step that hangs. The launcher waits for all of
 * them (SBX_NETD_START_MS). */
#define SBX_NETD_STEP_MS 15000
#define SBX_NETD_START_MS 40000

typedef struct sbx_netd_ctx {
	int netns;    /* the sandbox's network namespace */
	int hostns;   /* ours */
	int init_fd;  /* pidfd of the sandbox's init */
	int slirp_fd; /* pidfd of slirp4netns */
	pid_t slirp;
	int dns_fd; /* UDP 127.0.0.1:53 inside */
	bool debug;
	sbx_net_allow *allow;
	size_t n_allow;
	bool have_upstream;
	sbx_net_dns upstream;
} sbx_netd_ctx;

/* Run argv (argv[0] an absolute path) with the given fds as its 0, 1, 2
 * (-1: /dev/null) and extra fds moved to 3, 4, ... (n_extra of them),
 * signals reset, every other fd closed; in the network namespace netns
 * first if netns >= 0. The pid (and *pidfd), or -1 with errno. */
pid_t sbx_netd_spawn(char *const argv[], int in, int out, int errfd, const int *extra,
		     size_t n_extra, int netns, int *pidfd);

/* Wait for pidfd's process (our child pid) to end, at most ms; SIGKILL it
 * then. Its exit status as waitpid's, or -1 if it had to be killed. */
int sbx_netd_reap(pid_t pid, int pidfd, int ms);

/* nft running (sbx_netd_nft_begin) until sbx_netd_nft_end. */
typedef struct sbx_netd_job {
	pid_t pid;
	int pidfd, err;
} sbx_netd_job;

/* Start nft -f with text in the sandbox's namespace; the job is always
 * set (pid -1 if it did not start). 0, or -SBX_E_SETUP. */
int sbx_netd_nft_begin(const sbx_netd_ctx *c, const char *text, size_t len, sbx_netd_job *j,
		       sbx_error *err);

/* Wait for it (SBX_NETD_STEP_MS at most, then killed). 0, or -SBX_E_SETUP with nft's
 * first line of errors. */
int sbx_netd_nft_end(sbx_netd_job *j, sbx_error *err);

/* Run nft -f with text in the sandbox's namespace (SBX_NETD_STEP_MS at most). 0, or
 * -SBX_E_SETUP with nft's first line of errors. */
int sbx_netd_nft(const sbx_netd_ctx *c, const char *text, size_t len, sbx_error *err);

/* The absolute path of a program found in the usual system directories,
 * into out. 0, or -SBX_E_SETUP naming the package to install. */
int sbx_netd_find(const char *prog, const char *package, char *out, size_t cap, sbx_error *err);

/* Serve the DNS socket until the sandbox's init or slirp4netns ends. */
void sbx_netd_dns_loop(sbx_netd_ctx *c);

#endif
