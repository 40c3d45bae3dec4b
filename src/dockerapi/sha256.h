/* SHA-256 (FIPS 180-4): image ids are the digest of an image's config. */
#ifndef SBX_DAPI_SHA256_H
#define SBX_DAPI_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct dapi_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	unsigned char blk[64];
	size_t fill;
} dapi_sha256;

void dapi_sha256_init(dapi_sha256 *s);
void dapi_sha256_update(dapi_sha256 *s, const void *data, size_t n);
void dapi_sha256_final(dapi_sha256 *s, unsigned char out[32]);
/* The digest of data[0..n) as 64 lowercase hex digits into hex (65 bytes). */
void dapi_sha256_hex(const void *data, size_t n, char hex[65]);

#endif
