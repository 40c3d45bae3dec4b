/* Results: JSON encoding, release; error code descriptions. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sbx.h"
#include "base/util.h"
#include "base/buf.h"
#include "proto/json.h"

static const char *json_bool(bool v)
{
	return v ? "true" : "false";
}

static void json_signal(sbx_buf *b, int sig)
{
	if (sig == 0)
		sbx_buf_puts(b, ",\"signal\":null");
	else
		sbx_buf_printf(b, ",\"signal\":%d", sig);
}

static void json_stream(sbx_buf *b, const char *key, const char *data, size_t len)
{
	sbx_buf_printf(b, ",\"%s\":", key);
	sbx_json_string(b, data ? data : "", data ? len : 0);
}

SBX_API char *sbx_result_to_json(const sbx_result *res)
{
	sbx_buf b = {0};

	if (!res)
		return NULL;
	sbx_buf_printf(&b, "{\"exit_code\":%d", res->exit_code);
	json_signal(&b, res->signal);
	sbx_buf_printf(&b, ",\"timed_out\":%s,\"oom_killed\":%s", json_bool(res->timed_out),
		       json_bool(res->oom_killed));
	json_stream(&b, "stdout", res->stdout_buf, res->stdout_len);
	json_stream(&b, "stderr", res->stderr_buf, res->stderr_len);
	sbx_buf_printf(&b, ",\"stdout_truncated\":%s,\"stderr_truncated\":%s",
		       json_bool(res->stdout_truncated), json_bool(res->stderr_truncated));
	sbx_buf_printf(
	    &b, ",\"duration_ms\":%" PRIu64 ",\"cpu_ms\":%" PRIu64 ",\"max_rss_kb\":%" PRIu64 "}",
	    res->duration_ms, res->cpu_ms, res->max_rss_kb);
	return sbx_buf_steal(&b); /* NULL if any append ran out of memory */
}

SBX_API void sbx_result_free(sbx_result *res)
{
	if (!res)
		return;
	free(res->stdout_buf);
	free(res->stderr_buf);
	memset(res, 0, sizeof(*res));
}

/* Accepts a code or its negation, as returned by the library. */
SBX_API const char *sbx_strerror(int code)
{
	static const char *const msgs[] = {
	    [SBX_OK] = "success",
	    [SBX_E_INVALID] = "invalid configuration value",
	    [SBX_E_ROOTFS] = "rootfs missing or unusable",
	    [SBX_E_PRIVILEGE] = "insufficient privilege",
	    [SBX_E_KERNEL] = "kernel lacks a required feature",
	    [SBX_E_CGROUP] = "cgroup set-up failed",
	    [SBX_E_SETUP] = "sandbox set-up failed",
	    [SBX_E_SYSTEM] = "system error",
	    [SBX_E_NOTFOUND] = "no such sandbox",
	    [SBX_E_EXISTS] = "sandbox already exists",
	    [SBX_E_STATE] = "sandbox is not in a suitable state",
	    [SBX_E_PATH] = "path escapes the sandbox or is unusable",
	};

	if (code < 0 && code != INT_MIN)
		code = -code;
	if (code < 0 || (size_t)code >= ARRAY_LEN(msgs) || !msgs[code])
		return "unknown error";
	return msgs[code];
}
