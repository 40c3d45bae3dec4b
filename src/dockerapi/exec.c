/* Exec instances: made by POST /containers/{id}/exec, kept with their
 * container (freed with it), found by id. */
#include <stdio.h>
#include <string.h>

#include "dockerapi/engine.h"
#include "dockerapi/strv.h"
#include "proto/jsonparse.h"

#define EXEC_MAX_VALUES 10000

static int parse(dapi_exec *x, const char *body, size_t len, sbx_error *err)
{
	_cleanup_jval_ sbx_jval *root = NULL;
	int r = dapi_json_object(body, len, EXEC_MAX_VALUES, &root, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < root->n; i++) {
		const char *k = root->keys[i];
		const sbx_jval *v = &root->items[i];
		r = 0;
		bool *flag = strcmp(k, "Tty") == 0	      ? &x->tty
			     : strcmp(k, "AttachStdin") == 0  ? &x->attach_stdin
			     : strcmp(k, "AttachStdout") == 0 ? &x->attach_stdout
			     : strcmp(k, "AttachStderr") == 0 ? &x->attach_stderr
							      : NULL;
		if (flag) {
			if (v->type == SBX_J_BOOL)
				*flag = v->b;
			else if (v->type != SBX_J_NULL)
				r = sbx_fail(err, SBX_E_INVALID, "%s: not a boolean", k);
		} else if (strcmp(k, "Cmd") == 0) {
			r = dapi_json_strs(v, "Cmd", &x->argv, err);
		} else if (strcmp(k, "Env") == 0) {
			r = dapi_json_strs(v, "Env", &x->env, err);
			for (size_t j = 0; r == 0 && x->env && x->env[j]; j++)
				if (!strchr(x->env[j], '=') || x->env[j][0] == '=')
					r = sbx_fail(err, SBX_E_INVALID, "Env: %s: not NAME=VALUE",
						     x->env[j]);
		} else if (strcmp(k, "WorkingDir") == 0) {
			if (v->type == SBX_J_STR && v->len && v->str[0] != '/')
				r = sbx_fail(err, SBX_E_INVALID,
					     "WorkingDir %s: must be an absolute path", v->str);
			else if (v->type == SBX_J_STR && v->len && !(x->workdir = strdup(v->str)))
				r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
			else if (v->type != SBX_J_STR && v->type != SBX_J_NULL)
				r = sbx_fail(err, SBX_E_INVALID, "WorkingDir: not a string");
		} else if (strcmp(k, "User") == 0) {
			if (v->type == SBX_J_STR && v->len && strcmp(v->str, "root") &&
			    strcmp(v->str, "0") && strcmp(v->str, "0:0") &&
			    strcmp(v->str, "root:root"))
				r = sbx_fail(err, SBX_E_INVALID,
					     "User %s: sbx runs commands as the sandbox's root",
					     v->str);
		} else if (strcmp(k, "Privileged") == 0) {
			if (v->type == SBX_J_BOOL && v->b)
				r = sbx_fail(err, SBX_E_INVALID,
					     "Privileged exec is not supported by sbx");
		} else if (strcmp(k, "ConsoleSize") == 0 || strcmp(k, "DetachKeys") == 0) {
			/* accepted: there is no terminal to size or detach from */
		} else if (!dapi_json_zero(v)) {
			r = sbx_fail(err, SBX_E_INVALID, "%s is not supported by sbx", k);
		}
		if (r < 0)
			return r;
	}
	if (!x->argv || !x->argv[0])
		return sbx_fail(err, SBX_E_INVALID, "No exec command specified");
	return 0;
}

int dapi_exec_create(dapi_ctr *c, const char *body, size_t len, dapi_exec **out, int *status,
		     sbx_error *err)
{
	dapi_exec *x = calloc(1, sizeof(*x));
	if (!x) {
		*status = 500;
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	}
	dapi_proc_init(&x->proc);
	x->stdin_w = -1;
	x->ctr = c;
	int r = parse(x, body, len, err);
	if (r < 0) {
		*status = r == -SBX_E_SYSTEM ? 500 : 400;
		dapi_exec_free(x);
		return r;
	}
	pthread_mutex_lock(&c->mu);
	if (c->state != DAPI_RUNNING) {
		pthread_mutex_unlock(&c->mu);
		dapi_exec_free(x);
		*status = 409;
		return sbx_fail(err, SBX_E_STATE, "Container %s is not running", c->id);
	}
	sbx_random_id(x->id, 64);
	x->next = c->execs;
	c->execs = x;
	pthread_mutex_unlock(&c->mu);
	*out = x;
	return 0;
}

dapi_exec *dapi_exec_get(dapi_engine *e, const char *id)
{
	dapi_ctr **all = NULL;
	size_t n = 0;
	if (dapi_ctr_all(e, &all, &n) < 0)
		return NULL;
	dapi_exec *found = NULL;
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&all[i]->mu);
		for (dapi_exec *x = all[i]->execs; x && !found; x = x->next)
			if (strcmp(x->id, id) == 0)
				found = x;
		pthread_mutex_unlock(&all[i]->mu);
		if (found && found->ctr == all[i]) {
			all[i] = NULL; /* its reference goes to the caller */
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		dapi_ctr_put(all[i]);
	free(all);
	return found;
}
