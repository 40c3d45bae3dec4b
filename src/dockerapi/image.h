/* Images of the Docker API server: names mapped to root file system
 * directories. "sbx-python:latest" (and "sbx-python") is the default rootfs
 * (sbx_default_rootfs()); others were loaded with POST /images/load (a
 * `docker save` tarball) into DIR/<id>/rootfs with DIR/<id>/config.json
 * (the image's config: Env, Cmd, Entrypoint, WorkingDir, ...) and
 * DIR/repositories.json (name:tag -> id). DIR is the server's image dir
 * (default $SBX_STATE_DIR/images, /var/lib/sbx/images). Thread-safe: one
 * lock file in DIR serialises writers. */
#ifndef SBX_DAPI_IMAGE_H
#define SBX_DAPI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/util.h"
#include "dockerapi/tar.h"

typedef struct dapi_image {
	char id[80];  /* "sha256:<64 hex>" (the config's digest); default: sha256 of the rootfs path
		       */
	char *name;   /* the name it was found by, normalised "repo:tag" */
	char *rootfs; /* absolute directory */
	char **env;   /* "K=V" (NULL-terminated, may be empty) */
	char **cmd;   /* NULL-terminated; NULL: none */
	char **entrypoint; /* NULL-terminated; NULL: none */
	char *workdir;	   /* "" if none */
	char *user;	   /* "" if none */
	int64_t created;   /* unix time */
	uint64_t size;	   /* bytes (approximate) */
	char **tags;	   /* every "repo:tag" naming it (NULL-terminated) */
} dapi_image;

void dapi_image_free(dapi_image *img);

/* "python" -> "python:latest", "docker.io/library/x:1" -> "x:1". *out
 * malloc'd. -SBX_E_INVALID on a bad reference. */
int dapi_image_normalise(const char *ref, char **out, sbx_error *err);

/* Find an image by name, "repo:tag", full or short id (>= 12 hex, with or
 * without "sha256:"): 0 and *img, -SBX_E_NOTFOUND. */
int dapi_image_find(const char *dir, const char *ref, dapi_image *img, sbx_error *err);

/* Every image (the default one first). *imgs malloc'd array. */
int dapi_image_list(const char *dir, dapi_image **imgs, size_t *n, sbx_error *err);
void dapi_image_list_free(dapi_image *imgs, size_t n);

/* Load a `docker save` archive read through rd: every image in its
 * manifest.json is unpacked layer by layer (whiteouts ".wh.NAME" and
 * opaque ".wh..wh..opq" honoured; entries escaping the root, devices and
 * setuid/setgid bits refused or dropped; hard links only inside the
 * image) into DIR/<id>/rootfs, its config saved, its RepoTags recorded.
 * progress(ctx, line) is called with one line per image loaded ("Loaded
 * image: NAME"). Nothing is left of a failed load. max_bytes caps the
 * unpacked size. */
int dapi_image_load(const char *dir, dapi_tar_reader *rd, uint64_t max_bytes,
		    void (*progress)(void *ctx, const char *line), void *ctx, sbx_error *err);

/* Remove an image by reference (not the default one): 0, -SBX_E_NOTFOUND. */
int dapi_image_remove(const char *dir, const char *ref, sbx_error *err);

#endif
