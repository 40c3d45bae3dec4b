/* sbx pool serve|stats|cleanup, sbx run --pool, sbx python. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <limits.h>

#include "base/buf.h"
#include "base/procfs.h"
#include "core/cgroup.h"
#include "state/store.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/daemon.h"
#include "proto/json.h"
#include "proto/jsonparse.h"
#include "cli/options.h"

#define SBX_POOL_SERVE_ACQUIRE_MS 30000

#define CLIENT_OPTS (SBX_OPT_TIMEOUT | SBX_OPT_ENV | SBX_OPT_CWD | SBX_OPT_OUTPUT | SBX_OPT_JSON)

static void pool_usage(void)
{
	fputs(
	    "usage: sbx pool serve --socket PATH [--size N] [--max-total N] [--max-age DUR]\n"
	    "                      [--acquire-timeout DUR|wait] [--python|--no-python]\n"
	    "                      [--preload MOD,...] [--fresh] [--group NAME]\n"
	    "                      [sandbox options, --net egress, --allow, --dns; no --publish]\n"
	    "       sbx pool stats --socket PATH\n"
	    "       sbx pool cleanup\n",
	    stderr);
}

static int pool_serve(int argc, char **argv)
{
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	char msg[512];
	uint64_t allowed = SBX_OPT_SANDBOX | SBX_OPT_SOCKET | SBX_OPT_SIZE | SBX_OPT_MAXTOTAL |
			   SBX_OPT_MAXAGE | SBX_OPT_ACQTIMEOUT | SBX_OPT_PYTHON | SBX_OPT_NOPYTHON |
			   SBX_OPT_PRELOAD | SBX_OPT_GROUP | SBX_OPT_FRESH;
	int rc = 0;
	if (sbx_opts_parse(&o, argc, argv, 3, msg, sizeof(msg)) < 0)
		rc = sbx_cli_error("%s", msg);
	const char *bad = rc ? NULL : sbx_opts_disallowed(&o, allowed);
	if (!rc && bad)
		rc = sbx_cli_error("option %s is not valid for pool serve", bad);
	if (!rc && o.cmd_index < argc)
		rc = sbx_cli_error("pool serve: unexpected argument '%s'", argv[o.cmd_index]);
	if (!rc && !o.socket)
		rc = sbx_cli_error("pool serve needs --socket PATH");
	if (!rc && (o.seen & SBX_OPT_PUBLISH))
		rc = sbx_cli_error("option --publish is not valid for pool serve: a host port "
				   "can be published by one sandbox, not by a pool of them");
	if (!rc && o.size > o.max_total)
		rc = sbx_cli_error("--size %u exceeds --max-total %u", o.size, o.max_total);
	if (rc)
		return rc;
	/* Leftovers of an earlier pool killed with SIGKILL go first, busy
	 * ones included: sbx_cleanup removes every sbx cgroup that no live
	 * process outside it holds open (core/cgroup.c, sbx_cgroup_sweep). */
	sbx_cleanup(NULL);
	sbx_pool_config pc;
	sbx_pool_config_init(&pc);
	pc.tmpl = o.cfg;
	pc.size = o.size;
	pc.max_total = o.max_total;
	pc.max_idle_age_ms = o.max_age_ms;
	/* Requests queue at --max-total: 30 s unless told otherwise. */
	pc.acquire_timeout_ms =
	    o.seen & SBX_OPT_ACQTIMEOUT ? o.acquire_timeout_ms : SBX_POOL_SERVE_ACQUIRE_MS;
	pc.python = o.python;
	pc.fork = !o.fresh;
	pc.preload = o.preload;
	sigset_t old;
	int sfd = sbx_cli_signalfd(&old);
	sbx_pool *p;
	sbx_error err = {0};
	/* The socket first: a live daemon there is an error before any pool
	 * is made. */
	int lfd = sbx_daemon_listen(o.socket, o.group, &err);
	if (lfd < 0) {
		rc = sbx_cli_error("%s", err.msg);
	} else if (sbx_pool_create(&pc, &p, &err) < 0) {
		rc = sbx_cli_error("%s", err.msg);
		close(lfd);
		unlink(o.socket);
	} else {
		sbx_cli_note("pool of %u serving on %s", o.size, o.socket);
		if (sbx_daemon_serve(p, lfd, o.socket, sfd, &err) < 0)
			rc = sbx_cli_error("%s", err.msg);
		/* SIGTERM/SIGINT or an error: everything of the pool goes. */
		sbx_pool_destroy(p);
	}
	/* Consume the stop signal, or unblocking it below would deliver it. */
	struct signalfd_siginfo si;
	while (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int call(const char *sock, sbx_buf *req, sbx_jval **resp_out)
{
	if (req->oom)
		return sbx_cli_error("out of memory");
	if (req->len > SBX_DAEMON_MAX_LINE)
		return sbx_cli_error("request too large for the pool: %zu bytes as JSON, more "
				     "than %u",
				     req->len, SBX_DAEMON_MAX_LINE);
	sbx_buf_puts(req, "\n");
	if (req->oom)
		return sbx_cli_error("out of memory");
	_cleanup_free_ char *resp = NULL;
	sbx_error err = {0};
	if (sbx_daemon_call(sock, req->data, req->len, &resp, &err) < 0) {
		/* As a shell pipeline's writer would end: SIGPIPE, quietly. */
		if (err.sys_errno == EPIPE && strstr(err.msg, SBX_DAEMON_READER_GONE))
			return 128 + SIGPIPE;
		return sbx_cli_error("%s", err.msg);
	}
	_cleanup_jval_ sbx_jval *v = NULL;
	int r = sbx_jparse(resp, strlen(resp), &v, &err);
	bool ok = false;
	if (r == 0 && !sbx_jget_bool(v, "ok", &ok))
		r = sbx_fail(&err, SBX_E_INVALID, "no \"ok\"");
	if (r < 0)
		return sbx_cli_error("bad response from the pool: %s", err.msg);
	if (!ok) {
		const char *e = sbx_jget_str(v, "error");
		return sbx_cli_error("%s", e ? e : "the pool failed the request");
	}
	*resp_out = v;
	v = NULL;
	return 0;
}

/* s as one word of a stats line: at most 300 bytes, and none that is not
 * printable ASCII without spaces (the answer is not trusted to be so). */
static void put_word(const char *s)
{
	for (size_t i = 0; s[i] && i < 300; i++)
		putchar(s[i] > ' ' && s[i] <= '~' ? s[i] : '?');
}

/* "net MODE", and with egress "allow ENTRY..." ("-": none) and "dns ADDR"
 * ("-": the host's). Nothing from a daemon that does not say (older). */
static void print_net(const sbx_jval *st)
{
	const char *net = sbx_jget_str(st, "net"), *dns = sbx_jget_str(st, "dns");
	if (!net)
		return;
	fputs("net ", stdout);
	put_word(net);
	putchar('\n');
	if (strcmp(net, "egress") != 0)
		return;
	const sbx_jval *al = sbx_jget(st, "allow");
	size_t shown = 0;
	fputs("allow", stdout);
	for (size_t i = 0; al && al->type == SBX_J_ARR && i < al->n; i++) {
		if (al->items[i].type != SBX_J_STR)
			continue;
		putchar(' ');
		put_word(al->items[i].str);
		shown++;
	}
	fputs(shown ? "\ndns " : " -\ndns ", stdout);
	put_word(dns && *dns ? dns : "-");
	putchar('\n');
}

static int pool_stats(int argc, char **argv)
{
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	char msg[512];
	if (sbx_opts_parse(&o, argc, argv, 3, msg, sizeof(msg)) < 0)
		return sbx_cli_error("%s", msg);
	if (!o.socket)
		return sbx_cli_error("pool stats needs --socket PATH");
	_cleanup_buf_ sbx_buf req = {0};
	sbx_buf_printf(&req, "{\"v\":%d,\"op\":\"stats\"}", SBX_PROTO_VERSION);
	_cleanup_jval_ sbx_jval *v = NULL;
	int rc = call(o.socket, &req, &v);
	if (rc)
		return rc;
	const sbx_jval *st = sbx_jget(v, "stats");
	/* One "key value" line per field, in this order (absent: 0). */
	static const char *const ints[] = {"idle",	 "in_use",	 "created",  "destroyed",
					   "failures",	 "acquired",	 "creating", "waited",
					   "zygote_pid", "zygote_starts"};
	static const char *const ms[] = {"acquire_p50_ms", "acquire_p95_ms", "acquire_p99_ms"};
	for (size_t i = 0; i < ARRAY_LEN(ints); i++) {
		int64_t n = 0;
		sbx_jget_int(st, ints[i], &n);
		printf("%s %lld\n", ints[i], (long long)n);
	}
	for (size_t i = 0; i < ARRAY_LEN(ms); i++) {
		const sbx_jval *x = sbx_jget(st, ms[i]);
		printf("%s %.3f\n", ms[i], x && x->type == SBX_J_NUM ? x->num : 0.0);
	}
	const char *mode = sbx_jget_str(st, "mode"), *le = sbx_jget_str(st, "last_error");
	printf("mode %s\nlast_error %s\n", mode && *mode ? mode : "-", le && *le ? le : "-");
	print_net(st);
	return 0;
}

int sbx_cli_cleanup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sbx_error err = {0};
	int n = sbx_cleanup(&err);
	if (n < 0)
		return sbx_cli_error("%s", err.msg);
	printf("removed %d leftover%s (cgroups, containers)\n", n, n == 1 ? "" : "s");
	return 0;
}

int sbx_cli_pool(int argc, char **argv)
{
	if (argc < 3) {
		pool_usage();
		return SBX_EXIT_ERROR;
	}
	if (!strcmp(argv[2], "serve"))
		return pool_serve(argc, argv);
	if (!strcmp(argv[2], "stats"))
		return pool_stats(argc, argv);
	if (!strcmp(argv[2], "cleanup"))
		return sbx_cli_cleanup(argc, argv);
	pool_usage();
	return SBX_EXIT_ERROR;
}

/* Read all of stdin when it is a pipe or a file (never a terminal), at
 * most max bytes: more is an error (read no further: memory stays bounded). */
static int slurp_stdin(sbx_buf *b, bool *have, size_t max, sbx_error *err)
{
	struct stat st;
	*have = false;
	if (fstat(STDIN_FILENO, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode)))
		return 0;
	*have = true;
	char buf[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		if (b->len + (size_t)n > max)
			return sbx_fail(err, SBX_E_INVALID,
					"stdin is too large for a pool request (more than %zu "
					"bytes; the pool's limit is %u bytes per request)",
					max, SBX_DAEMON_MAX_LINE);
		if (sbx_buf_append(b, buf, (size_t)n) < 0)
			return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "cannot read stdin");
	}
	if (n < 0)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot read stdin");
	return 0;
}

static void json_strv(sbx_buf *b, const char *key, const char *const *v, size_t n)
{
	sbx_buf_printf(b, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbx_buf_puts(b, ",");
		sbx_json_string(b, v[i], strlen(v[i]));
	}
	sbx_buf_puts(b, "]");
}

/* Print a daemon result as the local commands do; returns the exit status. */
static int finish_remote(const sbx_jval *v, bool json, const sbx_run_opts *o)
{
	const sbx_jval *r = sbx_jget(v, "result");
	if (!r || r->type != SBX_J_OBJ)
		return sbx_cli_error("bad response from the pool: no result");
	int64_t code = SBX_EXIT_ERROR;
	sbx_jget_int(r, "exit_code", &code);
	if (json) {
		/* The daemon's result object, as `--json` prints it locally. */
		sbx_buf b = {0};
		sbx_buf_puts(&b, "{");
		for (size_t i = 0; i < r->n; i++) {
			const sbx_jval *x = &r->items[i];
			if (i)
				sbx_buf_puts(&b, ",");
			sbx_json_string(&b, r->keys[i], strlen(r->keys[i]));
			sbx_buf_puts(&b, ":");
			if (x->type == SBX_J_STR)
				sbx_json_string(&b, x->str, x->len);
			else if (x->type == SBX_J_BOOL)
				sbx_buf_puts(&b, x->b ? "true" : "false");
			else if (x->type == SBX_J_NULL)
				sbx_buf_puts(&b, "null");
			else
				sbx_buf_printf(&b, "%lld", (long long)x->i);
		}
		sbx_buf_puts(&b, "}\n");
		fputs(b.data ? b.data : "", stdout);
		sbx_buf_free(&b);
		return (int)code;
	}
	const sbx_jval *out = sbx_jget(r, "stdout"), *err = sbx_jget(r, "stderr");
	if (out && out->type == SBX_J_STR)
		fwrite(out->str, 1, out->len, stdout);
	fflush(stdout);
	if (err && err->type == SBX_J_STR)
		fwrite(err->str, 1, err->len, stderr);
	bool b = false;
	if (sbx_jget_bool(r, "timed_out", &b) && b)
		sbx_cli_note("timed out after %llums: killed",
			     (unsigned long long)o->cfg.timeout_ms);
	if (sbx_jget_bool(r, "oom_killed", &b) && b)
		sbx_cli_note("out of memory: killed by the OOM killer");
	if (sbx_jget_bool(r, "stdout_truncated", &b) && b)
		sbx_cli_note("stdout truncated");
	if (sbx_jget_bool(r, "stderr_truncated", &b) && b)
		sbx_cli_note("stderr truncated");
	return (int)code;
}

/* Common request fields of run and python. */
static void request_common(sbx_buf *b, const sbx_run_opts *o, const sbx_buf *in, bool have_in)
{
	sbx_buf_printf(b, ",\"timeout_ms\":%llu,\"output_limit\":%llu",
		       (unsigned long long)o->cfg.timeout_ms,
		       (unsigned long long)o->cfg.output_limit);
	if (o->cfg.cwd) {
		sbx_buf_puts(b, ",\"cwd\":");
		sbx_json_string(b, o->cfg.cwd, strlen(o->cfg.cwd));
	}
	json_strv(b, "env", o->cfg.env, o->cfg.n_env);
	if (have_in) {
		sbx_buf_puts(b, ",\"stdin\":");
		sbx_json_string(b, in->data ? in->data : "", in->len);
	}
}

int sbx_cli_run_remote(const sbx_run_opts *o)
{
	const char *bad = sbx_opts_disallowed(o, CLIENT_OPTS | SBX_OPT_POOL);
	if (bad)
		return sbx_cli_error("option %s is not valid with --pool (the pool sets it)", bad);
	_cleanup_buf_ sbx_buf in = {0}, req = {0};
	bool have_in;
	sbx_error err;
	if (slurp_stdin(&in, &have_in, SBX_DAEMON_MAX_LINE, &err) < 0)
		return sbx_cli_error("%s", err.msg);
	size_t argc = 0;
	while (o->cfg.argv[argc])
		argc++;
	sbx_buf_printf(&req, "{\"v\":%d,\"op\":\"run\"", SBX_PROTO_VERSION);
	json_strv(&req, "argv", o->cfg.argv, argc);
	request_common(&req, o, &in, have_in);
	sbx_buf_puts(&req, "}");
	_cleanup_jval_ sbx_jval *v = NULL;
	int rc = call(o->pool, &req, &v);
	if (!rc)
		rc = finish_remote(v, o->json, o);
	return rc;
}

static int read_file(const char *path, sbx_buf *b, sbx_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "rbe");
	if (!f)
		return sbx_fail_errno(err, SBX_E_SYSTEM, errno, "cannot read script %s", path);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sbx_buf_append(b, buf, n);
	if (ferror(f))
		return sbx_fail_errno(err, SBX_E_SYSTEM, EIO, "cannot read script %s", path);
	if (b->oom)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "cannot read script %s", path);
	return 0;
}

/* sbx python --pool: the script goes to a pool daemon. */
static int python_remote(const sbx_run_opts *o, const char *script, const sbx_buf *src)
{
	_cleanup_buf_ sbx_buf in = {0}, req = {0};
	/* A script read from stdin leaves the command an empty stdin. */
	bool have_in = strcmp(script, "-") == 0;
	sbx_error err;
	if (!have_in && slurp_stdin(&in, &have_in, SBX_DAEMON_MAX_LINE, &err) < 0)
		return sbx_cli_error("%s", err.msg);
	size_t nargs = 0;
	while (o->cfg.argv[1 + nargs])
		nargs++;
	sbx_buf_printf(&req, "{\"v\":%d,\"op\":\"python\",\"source\":", SBX_PROTO_VERSION);
	sbx_json_string(&req, src->data ? src->data : "", src->len);
	sbx_buf_puts(&req, ",\"filename\":");
	sbx_json_string(&req, script, strlen(script));
	json_strv(&req, "args", o->cfg.argv + 1, nargs);
	request_common(&req, o, &in, have_in);
	sbx_buf_puts(&req, "}");
	_cleanup_jval_ sbx_jval *v = NULL;
	int rc = call(o->pool, &req, &v);
	return rc ? rc : finish_remote(v, o->json, o);
}

/* sbx python without --pool: a fresh sandbox. */
static int python_local(const sbx_run_opts *o, const char *script, const sbx_buf *src)
{
	sbx_python_opts po;
	sbx_python_opts_init(&po);
	po.source = src->data ? src->data : "";
	po.source_len = src->len;
	po.filename = script;
	po.args = o->cfg.argv + 1;
	po.exec.env = o->cfg.env;
	po.exec.n_env = o->cfg.n_env;
	po.exec.cwd = o->cfg.cwd;
	po.exec.timeout_ms = o->cfg.timeout_ms;
	po.exec.output_limit = o->cfg.output_limit;
	/* The script came from stdin: the program's stdin is at its end. */
	po.exec.stdin_fd = strcmp(script, "-") ? STDIN_FILENO : -1;
	if (o->json)
		po.exec.capture = true;
	else {
		po.exec.stdout_fd = STDOUT_FILENO;
		po.exec.stderr_fd = STDERR_FILENO;
	}
	sigset_t old;
	int sfd = sbx_cli_signalfd(&old);
	po.exec.cancel_fd = sfd;
	sbx_config cfg = o->cfg;
	cfg.env = NULL; /* applied per run above */
	cfg.n_env = 0;
	cfg.cwd = NULL;
	sbx_result res;
	sbx_error err = {0};
	int rc;
	if (sbx_run_python(&cfg, &po, &res, &err) < 0)
		rc = sbx_cli_error("%s", err.msg);
	else
		rc = sbx_cli_finish(&res, o->json, po.exec.timeout_ms, cfg.memory_bytes,
				    po.exec.output_limit, sfd);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int sbx_cli_python(int argc, char **argv)
{
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	char msg[512];
	if (sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)) < 0)
		return sbx_cli_error("%s", msg);
	uint64_t allowed =
	    o.pool ? CLIENT_OPTS | SBX_OPT_POOL : SBX_OPT_SANDBOX | SBX_OPT_JSON | SBX_OPT_HELP;
	const char *bad = sbx_opts_disallowed(&o, allowed);
	if (bad)
		return sbx_cli_error("option %s is not valid for python%s", bad,
				     o.pool ? " with --pool" : "");
	if (o.help) {
		fputs("usage: sbx python [--pool SOCKET] [options] SCRIPT|- [ARG...]\n"
		      "  runs SCRIPT (read on the host; - reads it from stdin) as python3 would,\n"
		      "  in a warm pool sandbox with --pool, else in a fresh sandbox.\n",
		      stdout);
		return 0;
	}
	if (!o.cfg.argv)
		return sbx_cli_error(
		    "python: no script given (sbx python [options] SCRIPT [ARG...])");
	const char *script = o.cfg.argv[0];
	_cleanup_buf_ sbx_buf src = {0};
	sbx_error err = {0};
	int r;
	if (strcmp(script, "-") == 0) {
		bool have_in = false;
		r = slurp_stdin(&src, &have_in, SIZE_MAX, &err);
		if (r == 0 && !have_in)
			r = sbx_fail(&err, SBX_E_INVALID,
				     "cannot read script from stdin (a terminal)");
	} else {
		r = read_file(script, &src, &err);
	}
	if (r < 0)
		return sbx_cli_error("%s", err.msg);
	return o.pool ? python_remote(&o, script, &src) : python_local(&o, script, &src);
}
