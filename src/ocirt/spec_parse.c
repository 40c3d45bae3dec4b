/* config.json: the top level (ociVersion, root, hostname, mounts, hooks,
 * annotations), the file's load, and the spec's free. process is in
 * spec_process.c, linux in spec_linux.c and spec_seccomp.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "ocirt/spec_json.h"

/* "1.MINOR.PATCH" with an optional "-suffix" or "+build": runtime-spec
 * 1.x keeps compatibility within its major version. */
static bool version_ok(const char *v)
{
	if (strncmp(v, "1.", 2) != 0)
		return false;
	const char *p = v + 2;
	for (int part = 0; part < 2; part++) {
		const char *start = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start || p - start > 6)
			return false;
		if (part == 0) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	return *p == '\0' || *p == '-' || *p == '+';
}

static int parse_mounts(oci_pctx *c, const sbx_jval *a, sbx_oci_spec *s)
{
	s->mounts = calloc(a->n ? a->n : 1, sizeof(*s->mounts));
	if (!s->mounts)
		return oci_oom(c);
	s->n_mounts = a->n;
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->n; i++) {
		size_t old = oci_push_idx(c, i);
		const sbx_jval *o = &a->items[i];
		sbx_oci_mount *m = &s->mounts[i];
		if (o->type != SBX_J_OBJ)
			r = oci_bad(c, "not an object");
		else if ((r = oci_need(c, o, "destination")) < 0 ||
			 (r = oci_get_str(c, o, "destination", &m->destination)) < 0 ||
			 (r = oci_get_str(c, o, "type", &m->type)) < 0 ||
			 (r = oci_get_str(c, o, "source", &m->source)) < 0 ||
			 (r = oci_get_strv(c, o, "options", &m->options, &m->n_options)) < 0)
			;
		else if (m->destination[0] != '/')
			r = oci_bad_key(c, "destination", "'%.200s' is not an absolute path",
					m->destination);
		oci_pop(c, old);
	}
	return r;
}

static const char *const hook_kinds[SBX_OCI_HOOK_NKINDS] = {
    [SBX_OCI_HOOK_PRESTART] = "prestart",
    [SBX_OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
    [SBX_OCI_HOOK_CREATE_CONTAINER] = "createContainer",
    [SBX_OCI_HOOK_START_CONTAINER] = "startContainer",
    [SBX_OCI_HOOK_POSTSTART] = "poststart",
    [SBX_OCI_HOOK_POSTSTOP] = "poststop",
};

static int parse_hook(oci_pctx *c, const sbx_jval *o, sbx_oci_hook *h)
{
	int r;
	size_t n;
	int64_t timeout = 0;
	bool has_timeout = false;
	if (o->type != SBX_J_OBJ)
		return oci_bad(c, "not an object");
	if ((r = oci_need(c, o, "path")) < 0 || (r = oci_get_str(c, o, "path", &h->path)) < 0 ||
	    (r = oci_get_strv(c, o, "args", &h->args, &n)) < 0 ||
	    (r = oci_get_strv(c, o, "env", &h->env, &n)) < 0 ||
	    (r = oci_get_int(c, o, "timeout", INT32_MIN, INT32_MAX, &timeout, &has_timeout)) < 0)
		return r;
	if (h->path[0] != '/')
		return oci_bad_key(c, "path", "'%.200s' is not an absolute path", h->path);
	if (has_timeout && timeout <= 0)
		return oci_bad_key(c, "timeout", "must be positive");
	h->timeout = (int)timeout;
	return 0;
}

static int parse_hooks(oci_pctx *c, const sbx_jval *obj, sbx_oci_spec *s)
{
	for (int k = 0; k < SBX_OCI_HOOK_NKINDS; k++) {
		const sbx_jval *a;
		int r = oci_get_arr(c, obj, hook_kinds[k], &a);
		if (r < 0)
			return r;
		if (!a)
			continue;
		s->hooks[k] = calloc(a->n ? a->n : 1, sizeof(sbx_oci_hook));
		if (!s->hooks[k])
			return oci_oom(c);
		s->n_hooks[k] = a->n;
		size_t old = oci_push_key(c, hook_kinds[k]);
		for (size_t i = 0; r == 0 && i < a->n; i++) {
			size_t o2 = oci_push_idx(c, i);
			r = parse_hook(c, &a->items[i], &s->hooks[k][i]);
			oci_pop(c, o2);
		}
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_top(oci_pctx *c, const sbx_jval *root, sbx_oci_spec *s)
{
	int r;
	const sbx_jval *o, *a;
	if (root->type != SBX_J_OBJ)
		return oci_bad(c, "not a JSON object");
	if ((r = oci_need(c, root, "ociVersion")) < 0 ||
	    (r = oci_get_str(c, root, "ociVersion", &s->oci_version)) < 0)
		return r;
	if (!version_ok(s->oci_version))
		return oci_bad_key(c, "ociVersion", "version '%.64s' not supported (1.x.y is)",
				   s->oci_version);
	if ((r = oci_need(c, root, "root")) < 0 || (r = oci_get_obj(c, root, "root", &o)) < 0)
		return r;
	size_t old = oci_push_key(c, "root");
	if ((r = oci_need(c, o, "path")) == 0 &&
	    (r = oci_get_str(c, o, "path", &s->root_path)) == 0)
		r = oci_get_bool(c, o, "readonly", &s->root_readonly, NULL);
	if (r == 0 && !s->root_path[0])
		r = oci_bad_key(c, "path", "empty");
	oci_pop(c, old);
	if (r < 0)
		return r;
	if ((r = oci_get_str(c, root, "hostname", &s->hostname)) < 0 ||
	    (r = oci_get_str(c, root, "domainname", &s->domainname)) < 0 ||
	    (r = oci_get_arr(c, root, "mounts", &a)) < 0)
		return r;
	if (a) {
		old = oci_push_key(c, "mounts");
		r = parse_mounts(c, a, s);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_obj(c, root, "process", &o)) < 0)
		return r;
	if (o) {
		s->has_process = true;
		old = oci_push_key(c, "process");
		r = oci_parse_process(c, o, &s->process);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_obj(c, root, "hooks", &o)) < 0)
		return r;
	if (o) {
		old = oci_push_key(c, "hooks");
		r = parse_hooks(c, o, s);
		oci_pop(c, old);
		if (r < 0)
			return r;
	}
	if ((r = oci_get_kv(c, root, "annotations", &s->annotations, &s->n_annotations)) < 0 ||
	    (r = oci_get_obj(c, root, "linux", &o)) < 0)
		return r;
	if (o) {
		old = oci_push_key(c, "linux");
		r = oci_parse_linux(c, o, s);
		oci_pop(c, old);
	}
	return r;
}

int sbx_oci_spec_parse(const char *json, size_t len, sbx_oci_spec **out, sbx_error *err)
{
	*out = NULL;
	if (len > SBX_OCI_CONFIG_MAX)
		return sbx_fail(err, SBX_E_INVALID, "more than %u bytes", SBX_OCI_CONFIG_MAX);
	_cleanup_jval_ sbx_jval *root = NULL;
	int r = sbx_jparse_max(json, len, OCI_MAX_VALUES, &root, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "invalid JSON");
	_cleanup_spec_ sbx_oci_spec *s = calloc(1, sizeof(*s));
	if (!s)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "config");
	oci_resources_defaults(&s->resources);
	oci_pctx c = {.err = err};
	r = parse_top(&c, root, s);
	if (r < 0)
		return r;
	*out = s;
	s = NULL;
	return 0;
}

int sbx_oci_spec_load(const char *bundle, sbx_oci_spec **out, sbx_error *err)
{
	*out = NULL;
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path))
		return sbx_fail(err, SBX_E_INVALID, "bundle path too long");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return sbx_fail_errno(err, errno == ENOENT ? SBX_E_NOTFOUND : SBX_E_SYSTEM, errno,
				      "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return sbx_fail(err, SBX_E_INVALID, "%s: not a regular file", path);
	if (st.st_size > (off_t)SBX_OCI_CONFIG_MAX)
		return sbx_fail(err, SBX_E_INVALID, "%s: more than %u bytes", path,
				SBX_OCI_CONFIG_MAX);
	/* read to the end (the size may change), one byte past the cap */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "%s", path);
	for (;;) {
		if (len == cap) {
			if (cap > SBX_OCI_CONFIG_MAX)
				return sbx_fail(err, SBX_E_INVALID, "%s: more than %u bytes", path,
						SBX_OCI_CONFIG_MAX);
			size_t ncap =
			    cap * 2 > SBX_OCI_CONFIG_MAX + 1 ? SBX_OCI_CONFIG_MAX + 1 : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb)
				return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "%s", path);
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "%s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	int r = sbx_oci_spec_parse(buf, len, out, err);
	if (r < 0)
		return sbx_error_wrap(err, r, "%s", path);
	return 0;
}

void sbx_oci_spec_free(sbx_oci_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; s->mounts && i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		oci_strv_free(s->mounts[i].options);
	}
	free(s->mounts);
	sbx_oci_process_clear(&s->process);
	for (int k = 0; k < SBX_OCI_HOOK_NKINDS; k++) {
		for (size_t i = 0; s->hooks[k] && i < s->n_hooks[k]; i++) {
			free(s->hooks[k][i].path);
			oci_strv_free(s->hooks[k][i].args);
			oci_strv_free(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	oci_kv_free(s->annotations, s->n_annotations);
	oci_linux_free(s);
	free(s);
}
