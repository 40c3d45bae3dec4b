/* docker/podman driver: reading and atomically replacing files inside a
 * long-lived sandbox's container. Both are one `ENGINE exec` of a small
 * shell script taking the path as an argument (never interpolated), run
 * with the container's own user, so permissions and the read-only root
 * apply as to sandboxed code; paths resolve inside the container's mount
 * namespace, relative ones from its working directory. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "base/util.h"
#include "drivers/oci_int.h"

#define FILE_TIMEOUT_MS 120000

static int check_path(const char *path, sbx_error *err)
{
	if (!path || !*path || strlen(path) >= PATH_MAX)
		return sbx_fail(err, SBX_E_PATH, "invalid path");
	return 0;
}

/* "sh: 1: cannot create /x.sbx-tmp-1: Read-only file system" -> the
 * reason after the last ": ". */
static void reason(const sbx_oci_out *o, char *out, size_t cap)
{
	char line[400];
	sbx_oci_first_line(o->err.data, o->err.len, line, sizeof(line));
	const char *p = line, *q;
	while ((q = strstr(p, ": ")))
		p = q + 2;
	snprintf(out, cap, "%s", *p ? p : "failed");
}

/* An exit status the script does not use: the exec itself failed. */
static int exec_failed(const char *engine, const char *name, const char *cname,
		       const sbx_oci_out *o, sbx_error *err)
{
	if (o->timed_out)
		return sbx_fail(err, SBX_E_SYSTEM, "%s exec in %s: no answer within %ds", engine,
				cname, FILE_TIMEOUT_MS / 1000);
	int st = sbx_oci_state(engine, cname);
	if (st == -1)
		return sbx_fail(err, SBX_E_NOTFOUND, "%s: no container %s for sandbox %s", engine,
				cname, name);
	if (st == 0)
		return sbx_fail(err, SBX_E_STATE, "sandbox %s is not running (sbx start %s)", name,
				name);
	char line[400];
	sbx_oci_first_line(o->err.data, o->err.len, line, sizeof(line));
	return sbx_oci_diagnose(engine, NULL, "exec", line, err);
}

static int file_cmd(const char *engine, const char *name, char *cname, size_t cap,
		    const char *script, const char *const *args, int in, uint64_t out_max,
		    sbx_oci_out *o, sbx_error *err)
{
	memset(o, 0, sizeof(*o));
	sbx_oci_host h = {0};
	int r = sbx_oci_check_engine(engine, err);
	if (r == 0)
		r = sbx_oci_cname(name, cname, cap, err);
	if (r == 0)
		r = sbx_oci_runtime(engine, &h.runtime, err);
	if (r < 0)
		return r;
	sbx_strv a = {0};
	sbx_oci_args_sh(&a, engine, &h, cname, in >= 0, script, args);
	if (a.oom)
		r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	else
		r = sbx_oci_cmd(engine, a.v, in, out_max, FILE_TIMEOUT_MS, o, err);
	sbx_strv_free(&a);
	return r;
}

int sbx_oci_read_file(const char *engine, const char *name, const char *path, uint64_t max,
		      char **data, size_t *len, sbx_error *err)
{
	*data = NULL;
	*len = 0;
	max = max ? max : SBX_OCI_FILE_DEFAULT;
	if (max > (1ull << 40))
		max = 1ull << 40;
	int r = check_path(path, err);
	if (r < 0)
		return r;
	char cname[96], maxs[24];
	snprintf(maxs, sizeof(maxs), "%llu", (unsigned long long)max);
	const char *args[] = {path, maxs, NULL};
	sbx_oci_out o;
	/* One byte more than allowed tells a file that grew past max. */
	r = file_cmd(engine, name, cname, sizeof(cname), sbx_oci_read_script, args, -1, max + 1, &o,
		     err);
	if (r < 0)
		return r;
	char why[400];
	switch (o.timed_out ? -1 : o.code) {
	case 0:
		if (o.out_truncated || o.out.len > max) {
			r = sbx_fail(err, SBX_E_PATH, "read %s: %s", path, strerror(EFBIG));
		} else {
			*len = o.out.len;
			*data = sbx_buf_steal(&o.out);
			if (!*data)
				r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
		}
		break;
	case 10:
		r = sbx_fail(err, SBX_E_PATH, "read %s: %s", path, strerror(ENOENT));
		break;
	case 11:
		r = sbx_fail(err, SBX_E_PATH, "read %s: %s", path, strerror(EISDIR));
		break;
	case 12:
		r = sbx_fail(err, SBX_E_PATH, "read %s: %s", path, strerror(EINVAL));
		break;
	case 13:
		r = sbx_fail(err, SBX_E_PATH, "read %s: %s", path, strerror(EFBIG));
		break;
	case 14:
	case 16:
		reason(&o, why, sizeof(why));
		r = sbx_fail(err, SBX_E_PATH, "read %s: %s", path, why);
		break;
	default:
		r = exec_failed(engine, name, cname, &o, err);
	}
	sbx_oci_out_free(&o);
	return r;
}

/* The data as a file descriptor at offset 0, for the client's stdin. */
static int data_fd(const void *data, size_t len, sbx_error *err)
{
	int fd = memfd_create("sbx-write", MFD_CLOEXEC);
	if (fd < 0)
		return sbx_fail(err, SBX_E_SYSTEM, "memfd_create: %s", strerror(errno));
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return sbx_fail(err, SBX_E_SYSTEM, "buffering the file: %s", strerror(e));
		}
		p += w;
		left -= (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return sbx_fail(err, SBX_E_SYSTEM, "buffering the file: %s", strerror(e));
	}
	return fd;
}

int sbx_oci_write_file(const char *engine, const char *name, const char *path, const void *data,
		       size_t len, uint64_t max, sbx_error *err)
{
	max = max ? max : SBX_OCI_FILE_DEFAULT;
	int r = check_path(path, err);
	if (r < 0)
		return r;
	if (len > max)
		return sbx_fail(err, SBX_E_INVALID, "write %s: %zu bytes exceed the limit of %llu",
				path, len, (unsigned long long)max);
	_cleanup_close_ int in = data_fd(data, len, err);
	if (in < 0)
		return in;
	char cname[96], suffix[9];
	sbx_random_id(suffix, 8);
	const char *args[] = {path, suffix, NULL};
	sbx_oci_out o;
	r = file_cmd(engine, name, cname, sizeof(cname), sbx_oci_write_script, args, in, 4096, &o,
		     err);
	if (r < 0)
		return r;
	char why[400];
	switch (o.timed_out ? -1 : o.code) {
	case 0:
		break;
	case 11:
		r = sbx_fail(err, SBX_E_PATH, "write %s: %s", path, strerror(EISDIR));
		break;
	case 14:
	case 15:
		reason(&o, why, sizeof(why));
		r = sbx_fail(err, SBX_E_PATH, "write %s: %s", path, why);
		break;
	default:
		r = exec_failed(engine, name, cname, &o, err);
	}
	sbx_oci_out_free(&o);
	return r;
}
