/* Tar archives (ustar, with GNU long names and PAX headers read): the
 * header of a tar stream that sandboxed tar(1) produced, and the entries
 * of an untrusted archive (docker save, image layers). Pure parsing, no
 * I/O of its own: the caller feeds 512-byte blocks. Thread-safe. */
#ifndef SBX_DAPI_TAR_H
#define SBX_DAPI_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/util.h"

#define DAPI_TAR_BLOCK 512

typedef enum {
	DAPI_TAR_FILE,	   /* '0' or '\0' (and '7') */
	DAPI_TAR_HARDLINK, /* '1' */
	DAPI_TAR_SYMLINK,  /* '2' */
	DAPI_TAR_CHAR,	   /* '3' */
	DAPI_TAR_BLOCKDEV, /* '4' */
	DAPI_TAR_DIR,	   /* '5' */
	DAPI_TAR_FIFO,	   /* '6' */
} dapi_tar_type;

typedef struct dapi_tar_entry {
	char *name;	/* malloc'd, as in the archive (long names resolved) */
	char *linkname; /* malloc'd, "" if none */
	dapi_tar_type type;
	mode_t mode; /* permission bits (07777) */
	uid_t uid;
	gid_t gid;
	uint64_t size; /* data bytes that follow (0 for links, dirs ...) */
	int64_t mtime;
	unsigned dev_major, dev_minor;
} dapi_tar_entry;

void dapi_tar_entry_free(dapi_tar_entry *e);

/* Parse one ustar header block: 1 an entry (*e filled), 0 an all-zero
 * block (end of archive), negative with err on a bad checksum or field.
 * GNU 'L'/'K' and PAX 'x'/'g' headers are returned as is by this call
 * (type field in *raw_type); dapi_tar_reader handles them. */
int dapi_tar_parse_header(const unsigned char blk[DAPI_TAR_BLOCK], dapi_tar_entry *e,
			  char *raw_type, sbx_error *err);

/* A streaming reader: read(ctx, buf, n) must fill exactly n bytes or fail
 * (returns n, or negative / short at EOF). */
typedef ssize_t (*dapi_tar_read_fn)(void *ctx, void *buf, size_t n);

typedef struct dapi_tar_reader {
	dapi_tar_read_fn read;
	void *ctx;
	uint64_t data_left; /* data bytes of the current entry not yet read */
	uint64_t pad_left;  /* padding after them */
	uint64_t max_meta;  /* cap on a long name / PAX header: default 64K */
} dapi_tar_reader;

void dapi_tar_reader_init(dapi_tar_reader *r, dapi_tar_read_fn fn, void *ctx);
/* The next entry (skipping what is left of the current one): 1 and *e,
 * 0 at the end of the archive, negative with err (truncated, bad header). */
int dapi_tar_next(dapi_tar_reader *r, dapi_tar_entry *e, sbx_error *err);
/* Read up to n bytes of the current entry's data: count, 0 at its end. */
ssize_t dapi_tar_data(dapi_tar_reader *r, void *buf, size_t n, sbx_error *err);

/* Docker's X-Docker-Container-Path-Stat value for an entry: base64 of
 * {"name":..,"size":..,"mode":<Go os.FileMode>,"mtime":"RFC3339","linkTarget":..}
 * into out (malloc'd). name: the base name to report. */
int dapi_tar_path_stat(const dapi_tar_entry *e, const char *name, char **out, sbx_error *err);

/* Reject names that are absolute after stripping "./", contain ".."
 * components, or are empty: 0 fine, -SBX_E_PATH with err. */
int dapi_tar_check_name(const char *name, sbx_error *err);

#endif
