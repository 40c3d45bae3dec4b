/* What the sandbox's init needs, prepared by the parent before clone. The
 * child only reads it and never allocates (the parent may be threaded). */
#ifndef SBX_LAUNCH_H
#define SBX_LAUNCH_H

#include <limits.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/privs.h"

/* Messages on the control socket (SOCK_SEQPACKET). */
enum {
	SBX_MSG_MAPPED = 'M', /* parent -> init: id maps written, set up mounts;
			       * carries the idmapped rootfs if root_size */
	SBX_MSG_GO = 'G',     /* parent -> init: start; carries v1 "tasks" fds to join */
	SBX_MSG_ERROR = 'E',  /* init -> parent: text of a set-up failure */
	SBX_MSG_STATUS = 'S', /* init -> parent: int wait status of the command */
	SBX_MSG_READY = 'R',  /* init -> parent: server mode, set up and serving */
	SBX_MSG_CONN = 'C',   /* parent -> init (server mode): a connection fd to serve */
};

typedef struct sbx_launch {
	char rootfs[PATH_MAX];
	char workspace[PATH_MAX]; /* host dir for a plain bind, "" if none */
	int ws_fd;		  /* detached idmapped workspace mount, or -1 */
	bool ws_ro;
	uint64_t tmp_size;
	uint64_t root_size; /* >0: writable root, its upper layer's tmpfs cap */
	char hostname[64];
	bool net_loopback;
	char cwd[PATH_MAX];
	char *const *argv;
	char *const *envp;
	const struct sock_fprog *seccomp;
	sbx_privs privs;
	int sock;			    /* child's end of the control socket */
	int stdin_fd, stdout_fd, stderr_fd; /* the command's stdio */
	bool debug;			    /* SBX_DEBUG: the child prints step timings */
	uint64_t t0;			    /* the parent's start time, for those */
	bool server;			    /* long-lived: serve connections passed on sock */
	uint64_t idle_timeout_ms;	    /* server mode: exit after this long idle */
	/* A pre-forked pool's template (drivers/native_zygote.c): no
	 * untrusted code ever runs in its own namespaces, only the zygote,
	 * whose children make their own namespaces and load the filter
	 * themselves. So /proc stays unmasked (a child's new /proc must find
	 * a fully visible one) and the exec'd zygote gets no seccomp filter
	 * (its children unshare and mount). */
	bool template_mode;
} sbx_launch;

/* The /proc entries a sandbox masks (files behind /dev/null, dirs behind
 * an empty tmpfs) and those it makes read-only: NULL-terminated, for the
 * zygote's children, which set up their own /proc. */
extern const char *const sbx_proc_masked[];
extern const char *const sbx_proc_readonly[];

/* In the new namespaces: mounts, pivot_root into the rootfs. root_tree:
 * with l->root_size, the detached idmapped rootfs (sbx_rootfs_idmap), else
 * -1. 0, or -SBX_E_SETUP with err (a stack sbx_error: no allocation). */
int sbx_mounts_setup(const sbx_launch *l, int root_tree, sbx_error *err);

/* The sandbox's pid 1: waits for GO, sets up, runs the command, reaps,
 * reports its status. Never returns. */
_Noreturn void sbx_init_main(const sbx_launch *l);

/* In a child of init: stdio, cwd, rlimits, privileges, seccomp, exec.
 * Never returns (exit 126/127 with a message on stderr on exec failure). */
_Noreturn void sbx_workload_exec(const sbx_launch *l, int in, int out, int errfd);

/* Server mode: serve exec and file requests on the connections passed on
 * l->sock until idle, killed, or the owner closes sock. Never returns. */
_Noreturn void sbx_server_main(const sbx_launch *l);

/* Start sbx_workload_exec(l, in, out, errfd) in a child sharing our memory
 * until it execs (CLONE_VM|CLONE_VFORK, as posix_spawn does): no page
 * tables are copied. The caller must be single-threaded. Returns the pid,
 * or -SBX_E_SETUP with err ("spawn: <strerror>"). */
pid_t sbx_spawn_workload(const sbx_launch *l, int in, int out, int errfd, sbx_error *err);

#endif
