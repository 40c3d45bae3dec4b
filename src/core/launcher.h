/* Starting a sandbox: everything from validation to the GO message, shared
 * by one-shot runs and long-lived sandboxes' supervisors. */
#ifndef SBX_LAUNCHER_H
#define SBX_LAUNCHER_H

#include "core/cgroup.h"
#include "core/idrange.h"
#include "core/launch.h"
#include "core/netd.h"

typedef struct sbx_launcher {
	sbx_launch l;
	sbx_cgroup cg;
	char **envp;
	char **argv;		     /* our copy: the caller's may live in memory init wipes */
	int out[2], err[2], sock[2]; /* [0] parent's end */
	pid_t pid;		     /* the sandbox's init, 0 once handed over */
	int pidfd;
	sbx_idrange ids; /* the host id range held (lock_fd -1: explicit ids) */
	uid_t map_uid;	 /* the ids in effect: explicit or ids' */
	gid_t map_gid;
	uint32_t map_count;
	/* Set by the caller before start: cfg->workspace is sbx's own (a
	 * sandbox's dir in the state dir, its shift record next to it as
	 * WORKSPACE.shift): where it cannot be idmapped its owners are shifted
	 * to the ids root inside maps to; a host directory is refused then. */
	bool ws_own;
	/* Set by the caller before start: a pre-forked pool's template
	 * (launch.h template_mode) whose user namespace maps tmpl_slots host id
	 * ranges of its own, inside ids slot*65536.. for slot 0..tmpl_slots-1
	 * (0 is the zygote's; each forked sandbox maps one of the others). */
	uint32_t tmpl_slots;
	sbx_idrange *tmpl_ids; /* the ranges held (tmpl_slots of them) */
	sbx_netd net;	       /* SBX_NET_EGRESS: the network's host side */
} sbx_launcher;

void sbx_launcher_init(sbx_launcher *s);

/* An fd handed to a sandbox's command (stdin, or any stdio fd that goes
 * inside as it is) must be a pipe, socket, regular file or character
 * device, opened for I/O (not O_PATH): a directory (or an O_PATH fd) would
 * give the command a host path through /proc/self/fd (runc's
 * CVE-2024-21626). -1 passes (none). 0, or -SBX_E_INVALID naming `what`. */
int sbx_stdio_fd_check(int fd, const char *what, sbx_error *err);

/* Validate cfg, create cgroups, clone the init, map ids, join cgroups and
 * send GO. server starts a long-lived sandbox (no command, no output
 * pipes) that serves connections passed with sbx_launcher_connect. On failure everything taken is
 * released by sbx_launcher_release. */
int sbx_launcher_start(sbx_launcher *s, const sbx_config *cfg, bool server,
		       uint64_t idle_timeout_ms, sbx_error *err);

/* Server mode: wait for the init's READY (or its set-up error). */
int sbx_launcher_wait_ready(sbx_launcher *s, sbx_error *err);

/* Server mode: a new connection to the sandbox's server (SOCK_SEQPACKET),
 * passed to the init over its control socket. fd or negative with err. */
int sbx_launcher_connect(int sock, sbx_error *err);

/* Close our fds of a sandbox that now belongs to someone else (nothing is
 * killed or removed). */
void sbx_launcher_forget(sbx_launcher *s);

/* Kill and reap the init if still owned, close fds, remove cgroups. */
void sbx_launcher_release(sbx_launcher *s);

#endif
