/* A container's state on the host: ROOT/ID/ (the --root, default
 * /run/sbx-oci) holds state.json (what create learnt), config.json (the
 * bundle's, copied: delete and state need it when the bundle is gone) and
 * exec.fifo (present from create until start). The files are advisory:
 * whether the container lives comes from the kernel (its init's pid and
 * start time in /proc). */
#ifndef SBX_OCIRT_STATE_H
#define SBX_OCIRT_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/buf.h"
#include "ocirt/cgroups.h"

#define SBX_OCI_DEFAULT_ROOT "/run/sbx-oci"
#define SBX_OCI_ID_MAX 1024

typedef struct sbx_oci_state {
	char *id;
	char *dir; /* ROOT/ID */
	pid_t pid; /* the init, host pid; 0 before it exists */
	uint64_t pid_start;
	char *bundle;
	char *created; /* RFC 3339, UTC */
	bool systemd;
	sbx_oci_cg cg;
} sbx_oci_state;

typedef enum { SBX_OCI_CREATING, SBX_OCI_CREATED, SBX_OCI_RUNNING, SBX_OCI_STOPPED } sbx_oci_status;

/* Container ids: [A-Za-z0-9_+.-]{1,1024}, not "." or "..". -SBX_E_INVALID. */
int sbx_oci_valid_id(const char *id, sbx_error *err);
/* ROOT/ID into *dir (malloc'd) after checking id. */
int sbx_oci_state_path(const char *root, const char *id, char **dir, sbx_error *err);
/* Make ROOT (0700, missing parents too) and ROOT/ID (0700): the directory
 * is the container's claim on its id. -SBX_E_EXISTS "container ID already
 * exists". */
int sbx_oci_state_claim(const char *root, const char *id, sbx_error *err);
/* Write st to st->dir/state.json (atomically). */
int sbx_oci_state_save(const sbx_oci_state *st, sbx_error *err);
/* Load ROOT/ID. -SBX_E_NOTFOUND "container ID does not exist". */
int sbx_oci_state_load(const char *root, const char *id, sbx_oci_state *st, sbx_error *err);
void sbx_oci_state_clear(sbx_oci_state *st);
/* From the kernel: stopped unless st->pid lives with its start time (a
 * zombie is stopped); created while exec.fifo exists. */
sbx_oci_status sbx_oci_state_status(const sbx_oci_state *st);
const char *sbx_oci_status_name(sbx_oci_status s);
/* The runtime-spec state document (ociVersion, id, status, pid, bundle,
 * annotations from the copied config) into b. */
int sbx_oci_state_json(const sbx_oci_state *st, sbx_oci_status status, sbx_buf *b, sbx_error *err);
/* Remove ROOT/ID and what it holds (files only; never follows links). */
int sbx_oci_state_remove(const sbx_oci_state *st, sbx_error *err);

#endif
