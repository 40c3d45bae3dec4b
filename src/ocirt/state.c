/* A container's state directory: ROOT/ID/{state.json,config.json,exec.fifo}. */
#include "ocirt/state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/procfs.h"
#include "base/readall.h"
#include "proto/json.h"
#include "proto/jsonparse.h"
#include "ocirt/spec.h"

#define STATE_MAX (256u << 10)

int sbx_oci_valid_id(const char *id, sbx_error *err)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0)
		return sbx_fail(err, SBX_E_INVALID, "container id cannot be empty");
	if (n > SBX_OCI_ID_MAX || !strcmp(id, ".") || !strcmp(id, ".."))
		return sbx_fail(err, SBX_E_INVALID, "invalid container id '%.64s'", id);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-' || c == '.'))
			return sbx_fail(
			    err, SBX_E_INVALID,
			    "invalid container id '%.64s' (letters, digits, _ + - . only)", id);
	}
	return 0;
}

int sbx_oci_state_path(const char *root, const char *id, char **dir, sbx_error *err)
{
	*dir = NULL;
	int r = sbx_oci_valid_id(id, err);
	if (r < 0)
		return r;
	if (asprintf(dir, "%s/%s", root, id) < 0) {
		*dir = NULL;
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state path");
	}
	return 0;
}

int sbx_oci_state_claim(const char *root, const char *id, sbx_error *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = sbx_oci_state_path(root, id, &dir, err);
	if (r < 0)
		return r;
	r = sbx_mkdir_p(root, 0700, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "runtime root");
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return sbx_fail(err, SBX_E_EXISTS, "container %s already exists", id);
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot create %s", dir);
	}
	return 0;
}

static void put_str(sbx_buf *b, const char *key, const char *v, bool comma)
{
	sbx_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
	sbx_json_string(b, v ? v : "", v ? strlen(v) : 0);
}

int sbx_oci_state_save(const sbx_oci_state *st, sbx_error *err)
{
	_cleanup_buf_ sbx_buf b = {0};
	_cleanup_buf_ sbx_buf cg = {0};
	sbx_oci_cg_to_text(&st->cg, &cg);
	sbx_buf_puts(&b, "{");
	put_str(&b, "id", st->id, false);
	sbx_buf_printf(&b, ",\"pid\":%d,\"pid_start\":%llu", (int)st->pid,
		       (unsigned long long)st->pid_start);
	put_str(&b, "bundle", st->bundle, true);
	put_str(&b, "created", st->created, true);
	sbx_buf_printf(&b, ",\"systemd\":%s", st->systemd ? "true" : "false");
	put_str(&b, "cgroups", cg.data, true);
	sbx_buf_puts(&b, "}\n");
	if (b.oom || cg.oom)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state");
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/state.json", st->dir) < 0) {
		path = NULL;
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state");
	}
	return sbx_write_file_atomic(path, b.data, b.len, 0600, err);
}

static char *dup_str(const sbx_jval *o, const char *key)
{
	const char *s = sbx_jget_str(o, key);
	return s ? strdup(s) : NULL;
}

static int state_load(const char *root, const char *id, sbx_oci_state *st, sbx_error *err)
{
	memset(st, 0, sizeof(*st));
	int r = sbx_oci_state_path(root, id, &st->dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/state.json", st->dir) < 0) {
		path = NULL;
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state");
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	r = sbx_read_all(AT_FDCWD, path, STATE_MAX, &text, &len, err);
	if (r == -SBX_E_NOTFOUND)
		return sbx_fail(err, SBX_E_NOTFOUND, "container %s does not exist", id);
	if (r < 0)
		return r;
	_cleanup_jval_ sbx_jval *j = NULL;
	r = sbx_jparse_max(text, len, 64, &j, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "%s", path);
	int64_t pid = 0, start = 0;
	const char *cg = sbx_jget_str(j, "cgroups");
	if (!sbx_jget_int(j, "pid", &pid) || pid < 0 || pid > (1 << 22) ||
	    !sbx_jget_int(j, "pid_start", &start) || start < 0 || !cg)
		return sbx_fail(err, SBX_E_INVALID, "%s: not a state file of sbx-oci", path);
	st->pid = (pid_t)pid;
	st->pid_start = (uint64_t)start;
	st->id = strdup(id);
	st->bundle = dup_str(j, "bundle");
	st->created = dup_str(j, "created");
	sbx_jget_bool(j, "systemd", &st->systemd);
	if (!st->id || !st->bundle || !st->created)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state");
	r = sbx_oci_cg_from_text(cg, &st->cg, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "%s", path);
	return 0;
}

int sbx_oci_state_load(const char *root, const char *id, sbx_oci_state *st, sbx_error *err)
{
	int r = state_load(root, id, st, err);
	if (r < 0)
		sbx_oci_state_clear(st); /* nothing half-loaded for the caller to free */
	return r;
}

void sbx_oci_state_clear(sbx_oci_state *st)
{
	free(st->id);
	free(st->dir);
	free(st->bundle);
	free(st->created);
	memset(st, 0, sizeof(*st));
}

sbx_oci_status sbx_oci_state_status(const sbx_oci_state *st)
{
	if (st->pid <= 0)
		return SBX_OCI_CREATING;
	if (sbx_proc_start(st->pid) != st->pid_start)
		return SBX_OCI_STOPPED;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/exec.fifo", st->dir);
	struct stat sb;
	if (lstat(path, &sb) == 0)
		return SBX_OCI_CREATED;
	return SBX_OCI_RUNNING;
}

const char *sbx_oci_status_name(sbx_oci_status s)
{
	switch (s) {
	case SBX_OCI_CREATING:
		return "creating";
	case SBX_OCI_CREATED:
		return "created";
	case SBX_OCI_RUNNING:
		return "running";
	case SBX_OCI_STOPPED:
		break;
	}
	return "stopped";
}

int sbx_oci_state_json(const sbx_oci_state *st, sbx_oci_status status, sbx_buf *b, sbx_error *err)
{
	_cleanup_spec_ sbx_oci_spec *spec = NULL;
	sbx_error e = {0};
	if (sbx_oci_spec_load(st->dir, &spec, &e) < 0)
		spec = NULL; /* the state stays answerable without annotations */
	sbx_buf_puts(b, "{\"ociVersion\":\"1.0.2\"");
	put_str(b, "id", st->id, true);
	put_str(b, "status", sbx_oci_status_name(status), true);
	sbx_buf_printf(b, ",\"pid\":%d", status == SBX_OCI_STOPPED ? 0 : (int)st->pid);
	put_str(b, "bundle", st->bundle, true);
	put_str(b, "created", st->created, true);
	sbx_buf_puts(b, ",\"annotations\":{");
	for (size_t i = 0; spec && i < spec->n_annotations; i++) {
		if (i)
			sbx_buf_puts(b, ",");
		sbx_json_string(b, spec->annotations[i].key, strlen(spec->annotations[i].key));
		sbx_buf_puts(b, ":");
		sbx_json_string(b, spec->annotations[i].value, strlen(spec->annotations[i].value));
	}
	sbx_buf_puts(b, "}}");
	if (b->oom)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "state");
	return 0;
}

int sbx_oci_state_remove(const sbx_oci_state *st, sbx_error *err)
{
	static const char *const files[] = {"state.json", "state.json.tmp", "config.json",
					    "exec.fifo"};
	_cleanup_close_ int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot open %s", st->dir);
	}
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove %s/%s",
					      st->dir, files[i]);
	if (rmdir(st->dir) < 0 && errno != ENOENT)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot remove %s", st->dir);
	return 0;
}
