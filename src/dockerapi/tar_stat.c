/* What a tar entry means to Docker's archive routes: the
 * X-Docker-Container-Path-Stat header, and whether a name stays inside. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "base/buf.h"
#include "dockerapi/tar.h"
#include "proto/json.h"

/* Go's os.FileMode bits. */
#define GO_DIR (1u << 31)
#define GO_SYMLINK (1u << 27)
#define GO_DEVICE (1u << 26)
#define GO_PIPE (1u << 25)
#define GO_SETUID (1u << 23)
#define GO_SETGID (1u << 22)
#define GO_CHARDEV (1u << 21)
#define GO_STICKY (1u << 20)

static uint32_t go_mode(const dapi_tar_entry *e)
{
	uint32_t m = e->mode & 0777;
	if (e->mode & 04000)
		m |= GO_SETUID;
	if (e->mode & 02000)
		m |= GO_SETGID;
	if (e->mode & 01000)
		m |= GO_STICKY;
	switch (e->type) {
	case DAPI_TAR_DIR:
		m |= GO_DIR;
		break;
	case DAPI_TAR_SYMLINK:
		m |= GO_SYMLINK;
		break;
	case DAPI_TAR_CHAR:
		m |= GO_DEVICE | GO_CHARDEV;
		break;
	case DAPI_TAR_BLOCKDEV:
		m |= GO_DEVICE;
		break;
	case DAPI_TAR_FIFO:
		m |= GO_PIPE;
		break;
	default:
		break;
	}
	return m;
}

static char *base64(const char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	return out;
}

int dapi_tar_path_stat(const dapi_tar_entry *e, const char *name, char **out, sbx_error *err)
{
	struct tm tm;
	time_t t = (time_t)e->mtime;
	char when[64];
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		t = 0, gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *link = e->type == DAPI_TAR_SYMLINK && e->linkname ? e->linkname : "";
	uint64_t size = e->type == DAPI_TAR_SYMLINK ? strlen(link) : e->size;
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(&b, "{\"name\":");
	sbx_json_string(&b, name, strlen(name));
	sbx_buf_printf(&b, ",\"size\":%llu,\"mode\":%u,\"mtime\":\"%s\",\"linkTarget\":",
		       (unsigned long long)size, go_mode(e), when);
	sbx_json_string(&b, link, strlen(link));
	sbx_buf_puts(&b, "}");
	char *s = b.oom ? NULL : base64(b.data, b.len);
	if (!s)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "path stat");
	*out = s;
	return 0;
}

int dapi_tar_check_name(const char *name, sbx_error *err)
{
	const char *p = name;
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/';)
			p++;
	if (!*p)
		return sbx_fail(err, SBX_E_PATH, "empty name in archive");
	if (*p == '/')
		return sbx_fail(err, SBX_E_PATH, "absolute name in archive: %.200s", name);
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return sbx_fail(err, SBX_E_PATH, "name escapes with '..': %.200s", name);
		c += n;
		while (*c == '/')
			c++;
	}
	return 0;
}
