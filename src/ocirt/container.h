/* Creating a container: the runtime side (container.c) and the two
 * processes it forks (init.c): the stage, which enters or makes the
 * namespaces and forks the init, and the init, which becomes the
 * container's process. They talk over a SOCK_SEQPACKET pair; every
 * message is one byte of type and a payload. */
#ifndef SBX_OCIRT_CONTAINER_H
#define SBX_OCIRT_CONTAINER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>
#include "ocirt/cmd.h"
#include "ocirt/spec.h"
#include "ocirt/state.h"

/* Message types. */
#define SBX_OCI_MSG_USERNS 'U' /* stage -> runtime: write my id maps */
#define SBX_OCI_MSG_MAPPED 'M' /* runtime -> stage */
#define SBX_OCI_MSG_PID 'P'    /* stage -> runtime: the init's pid (decimal) */
#define SBX_OCI_MSG_GO 'G'     /* runtime -> init: in the cgroups, go on */
#define SBX_OCI_MSG_READY 'R'  /* init -> runtime: set up, waiting for start */
#define SBX_OCI_MSG_ERROR 'E'  /* stage/init -> runtime: a one-line error */

/* Deadline of each step the runtime waits for. */
#define SBX_OCI_STEP_MS 60000

#define SBX_OCI_NS_MAX 8

/* What the forked processes need, all prepared by the runtime before the
 * fork (they only make system calls on it). */
typedef struct sbx_oci_child {
	const sbx_oci_spec *spec;
	const char *rootfs; /* absolute */
	int sync;	    /* our end of the socket pair */
	int fifo;	    /* O_PATH fd of exec.fifo */
	int console;	    /* connected console socket, or -1 */
	int preserve_fds;
	int join_fd[SBX_OCI_NS_MAX]; /* namespaces to join (opened paths) */
	int join_kind[SBX_OCI_NS_MAX];
	int n_join;
	int new_flags; /* CLONE_NEW* to make (user and cgroup handled apart) */
	bool new_user, new_cgroup, in_userns;
	const struct sock_fprog *seccomp;
} sbx_oci_child;

/* The stage: in the forked child of the runtime. Never returns. */
__attribute__((noreturn)) void sbx_oci_stage_main(const sbx_oci_child *k);

/* Message helpers: one send / one receive with a deadline (0: none). */
int sbx_oci_msg_send(int fd, char type, const char *payload, sbx_error *err);
/* Receives into buf (NUL-terminated payload); *type the message's type.
 * -SBX_E_SETUP if the peer went away without a word. */
int sbx_oci_msg_recv(int fd, char *type, char *buf, size_t cap, uint64_t deadline_ns,
		     sbx_error *err);

/* Connect to a --console-socket (a unix stream socket). The fd, or
 * -SBX_E_INVALID with err. */
int sbx_oci_console_connect(const char *path, sbx_error *err);

typedef struct sbx_oci_create_req {
	const char *id;
	const char *bundle; /* NULL: the current directory */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	bool no_pivot;
} sbx_oci_create_req;

/* `create`: everything up to the created state. On success *st is the
 * saved state (st->pid the init). On failure nothing is left. */
int sbx_oci_container_create(const sbx_oci_ctx *c, const sbx_oci_create_req *q, sbx_oci_state *st,
			     sbx_error *err);
/* Kill the container (its init and its cgroups), wait for it to end
 * (deadline), remove its cgroups, run poststop hooks, remove the state. */
int sbx_oci_container_destroy(sbx_oci_state *st, sbx_error *err);
/* `start`: a created container's init goes on to exec its process. */
int sbx_oci_container_start(sbx_oci_state *st, sbx_error *err);
/* Signal the init (pidfd, checked against its start time). */
int sbx_oci_container_signal(const sbx_oci_state *st, int sig, sbx_error *err);
/* The hooks of one kind from the copied config, with the state as JSON. */
int sbx_oci_container_hooks(const sbx_oci_state *st, const sbx_oci_spec *spec, int kind,
			    sbx_oci_status status, sbx_error *err);

#endif
