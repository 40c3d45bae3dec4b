/* sbx create/exec/read/write/ls/inspect/stop/start/rm: long-lived sandboxes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "proto/json.h"
#include "cli/options.h"

/* argv[2] is the sandbox name; options follow from argv[3]. */
static int parse(int argc, char **argv, const char *cmd, uint64_t allowed, bool want_cmd,
		 sbx_run_opts *o, int first)
{
	char msg[512];
	if (sbx_opts_parse(o, argc, argv, first, msg, sizeof(msg)) < 0)
		return sbx_cli_error("%s", msg);
	const char *bad = sbx_opts_disallowed(o, allowed);
	if (bad)
		return sbx_cli_error("option %s is not valid for %s", bad, cmd);
	if (!want_cmd && o->cmd_index < argc)
		return sbx_cli_error("%s: unexpected argument '%s'", cmd, argv[o->cmd_index]);
	if (want_cmd && !o->cfg.argv)
		return sbx_cli_error("%s: no command given (sbx %s NAME [options] -- CMD...)", cmd,
				     cmd);
	return 0;
}

static const char *name_arg(int argc, char **argv, const char *cmd, const char *usage)
{
	if (argc < 3 || argv[2][0] == '-') {
		sbx_cli_error("usage: sbx %s %s", cmd, usage);
		return NULL;
	}
	return argv[2];
}

static void close_sb(sbx_sandbox **sb)
{
	if (*sb)
		sbx_sandbox_close(*sb);
	*sb = NULL;
}
#define _cleanup_sandbox_ _cleanup_(close_sb)

static int open_sb(const char *name, sbx_sandbox **sb)
{
	sbx_error err = {0};
	if (sbx_sandbox_open(name, sb, &err) < 0)
		return sbx_cli_error("%s", err.msg);
	return 0;
}

int sbx_cli_create(int argc, char **argv)
{
	const char *name =
	    name_arg(argc, argv, "create", "NAME [run options] [--idle-timeout DUR]");
	if (!name)
		return SBX_EXIT_ERROR;
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	int rc = parse(argc, argv, "create", SBX_OPT_SANDBOX | SBX_OPT_IDLE, false, &o, 3);
	if (rc != 0)
		return rc;
	sbx_error err = {0};
	if (sbx_sandbox_create(name, &o.cfg, o.idle_timeout_ms, NULL, &err) < 0)
		return sbx_cli_error("%s", err.msg);
	return 0;
}

int sbx_cli_exec(int argc, char **argv)
{
	const char *name = name_arg(argc, argv, "exec", "NAME [options] -- CMD [ARG...]");
	if (!name)
		return SBX_EXIT_ERROR;
	_cleanup_(sbx_opts_free) sbx_run_opts o;
	uint64_t allowed = SBX_OPT_TIMEOUT | SBX_OPT_ENV | SBX_OPT_CWD | SBX_OPT_OUTPUT |
			   SBX_OPT_JSON | SBX_OPT_STOPTIMEOUT;
	int rc = parse(argc, argv, "exec", allowed, true, &o, 3);
	_cleanup_sandbox_ sbx_sandbox *sb = NULL;
	if (rc == 0)
		rc = open_sb(name, &sb);
	if (rc != 0)
		return rc;
	sbx_exec_opts x;
	sbx_exec_opts_init(&x);
	x.argv = o.cfg.argv;
	x.env = o.cfg.env;
	x.n_env = o.cfg.n_env;
	x.cwd = o.cfg.cwd;
	x.timeout_ms = o.cfg.timeout_ms;
	x.output_limit = o.cfg.output_limit;
	x.stdin_fd = STDIN_FILENO;
	if (o.json) {
		x.capture = true;
	} else {
		x.stdout_fd = STDOUT_FILENO;
		x.stderr_fd = STDERR_FILENO;
	}
	sigset_t old;
	int sfd = sbx_cli_signalfd(&old);
	x.signal_fd = sfd; /* passed on; killed --stop-timeout later */
	x.stop_timeout_ms = o.cfg.stop_timeout_ms;
	sbx_result res;
	sbx_error err = {0};
	if (sbx_sandbox_exec(sb, &x, &res, &err) < 0)
		rc = sbx_cli_error("%s", err.msg);
	else
		rc = sbx_cli_finish(&res, o.json, x.timeout_ms, 0, x.output_limit, sfd);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int file_cmd(int argc, char **argv, bool writing)
{
	const char *cmd = writing ? "write" : "read";
	const char *name =
	    name_arg(argc, argv, cmd, writing ? "NAME PATH < data" : "NAME PATH > data");
	if (!name)
		return SBX_EXIT_ERROR;
	if (argc < 4)
		return sbx_cli_error("usage: sbx %s NAME PATH [--max-size SIZE] [--timeout D]",
				     cmd);
	const char *path = argv[3];
	sbx_run_opts o;
	int rc = parse(argc, argv, cmd, SBX_OPT_MAXSIZE | SBX_OPT_TIMEOUT, false, &o, 4);
	uint64_t max = o.max_size ? o.max_size : 10ull << 20;
	sbx_sandbox *sb = NULL;
	if (rc == 0)
		rc = open_sb(name, &sb);
	/* --timeout bounds the whole call (default 60 s, 0: none). */
	if (rc == 0 && (o.seen & SBX_OPT_TIMEOUT))
		sbx_sandbox_set_io_timeout(sb, o.cfg.timeout_ms);
	sbx_opts_free(&o);
	if (rc != 0)
		return rc;
	sbx_error err = {0};
	if (writing) {
		sbx_buf in = {0};
		char buf[65536];
		ssize_t n;
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 && in.len <= max)
			sbx_buf_append(&in, buf, (size_t)n);
		if (n < 0 || in.oom)
			rc = sbx_cli_error("write %s: cannot read stdin", path);
		else if (in.len > max)
			rc = sbx_cli_error("write %s: input exceeds --max-size %llu bytes", path,
					   (unsigned long long)max);
		else if (sbx_sandbox_write_file(sb, path, in.data ? in.data : "", in.len, max,
						&err) < 0)
			rc = sbx_cli_error("%s", err.msg);
		sbx_buf_free(&in);
	} else {
		char *data = NULL;
		size_t len = 0;
		if (sbx_sandbox_read_file(sb, path, max, &data, &len, &err) < 0)
			rc = sbx_cli_error("%s", err.msg);
		else if (len && fwrite(data, 1, len, stdout) != len)
			rc = sbx_cli_error("read %s: cannot write stdout", path);
		free(data);
	}
	sbx_sandbox_close(sb);
	return rc;
}

int sbx_cli_read(int argc, char **argv)
{
	return file_cmd(argc, argv, false);
}

int sbx_cli_write(int argc, char **argv)
{
	return file_cmd(argc, argv, true);
}

static void iso_time(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || !gmtime_r(&tt, &tm))
		snprintf(out, cap, "-");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void str_array(sbx_buf *b, const char *const *v, size_t n)
{
	sbx_buf_puts(b, "[");
	for (size_t k = 0; k < n; k++) {
		if (k)
			sbx_buf_puts(b, ",");
		sbx_json_string(b, v[k], strlen(v[k]));
	}
	sbx_buf_puts(b, "]");
}

/* ,"net":"egress","allow":[...],"publish":[...],"dns":"IP[:PORT]"|null */
static void net_json(sbx_buf *b, const sbx_sandbox_info *i)
{
	sbx_buf_printf(b, ",\"net\":\"%s\",\"allow\":",
		       i->net == SBX_NET_EGRESS	    ? "egress"
		       : i->net == SBX_NET_LOOPBACK ? "loopback"
						    : "none");
	str_array(b, i->net_allow, i->n_net_allow);
	sbx_buf_puts(b, ",\"publish\":");
	str_array(b, i->net_publish, i->n_net_publish);
	sbx_buf_puts(b, ",\"dns\":");
	if (i->net_dns)
		sbx_json_string(b, i->net_dns, strlen(i->net_dns));
	else
		sbx_buf_puts(b, "null");
}

/* One sandbox as a JSON object (i's network lists are borrowed from its
 * handle, still open). */
static void info_json(sbx_buf *b, const sbx_sandbox_info *i)
{
	char created[32], started[32];
	iso_time(i->created, created, sizeof(created));
	iso_time(i->started, started, sizeof(started));
	sbx_buf_puts(b, "{\"name\":");
	sbx_json_string(b, i->name, strlen(i->name));
	sbx_buf_printf(b, ",\"state\":\"%s\",\"created\":\"%s\",\"started\":",
		       i->state == SBX_RUNNING ? "running" : "stopped", created);
	if (i->state == SBX_RUNNING && i->pid > 0 && i->started > 0)
		sbx_buf_printf(b, "\"%s\",\"pid\":%d", started, (int)i->pid);
	else if (i->state == SBX_RUNNING && i->pid > 0) /* the state file did not say */
		sbx_buf_printf(b, "null,\"pid\":%d", (int)i->pid);
	else if (i->state == SBX_RUNNING)
		sbx_buf_puts(b, "null,\"pid\":null");
	else
		sbx_buf_puts(b, "null,\"pid\":null");
	sbx_buf_printf(b,
		       ",\"limits\":{\"memory\":%llu,\"cpus\":%u.%03u,\"pids\":%u},"
		       "\"idle_timeout_ms\":%llu,\"workspace\":",
		       (unsigned long long)i->memory_limit, i->cpu_millis / 1000,
		       i->cpu_millis % 1000, i->pids_max, (unsigned long long)i->idle_timeout_ms);
	sbx_json_string(b, i->workspace, strlen(i->workspace));
	sbx_buf_printf(b, ",\"workspace_mode\":\"%s\",\"own_workspace\":%s", i->workspace_mode,
		       i->own_workspace ? "true" : "false");
	net_json(b, i);
	if (i->state == SBX_RUNNING) {
		sbx_buf_printf(b, ",\"usage\":{\"memory_bytes\":%llu,\"pids\":",
			       (unsigned long long)i->memory_current);
		if (i->pids_current >= 0)
			sbx_buf_printf(b, "%lld", (long long)i->pids_current);
		else
			sbx_buf_puts(b, "null");
		sbx_buf_puts(b, ",\"cpu_us\":");
		if (i->cpu_usage_us >= 0)
			sbx_buf_printf(b, "%lld}", (long long)i->cpu_usage_us);
		else
			sbx_buf_puts(b, "null}");
	} else {
		sbx_buf_puts(b, ",\"usage\":null");
	}
	sbx_buf_puts(b, "}");
}

/* A sandbox sbx cannot open (no or a corrupt config, a bad lock): state
 * "broken", with the reason. */
static void broken_row(sbx_buf *b, bool json, size_t shown, const char *name, const char *why)
{
	if (!json) {
		sbx_buf_printf(b, "%-24s %-8s %s\n", name, "broken", why);
		return;
	}
	if (shown)
		sbx_buf_puts(b, ",");
	sbx_buf_puts(b, "{\"name\":");
	sbx_json_string(b, name, strlen(name));
	sbx_buf_puts(b, ",\"state\":\"broken\",\"error\":");
	sbx_json_string(b, why, strlen(why));
	sbx_buf_puts(b, "}");
}

int sbx_cli_ls(int argc, char **argv)
{
	sbx_run_opts o;
	int rc = parse(argc, argv, "ls", SBX_OPT_JSON, false, &o, 2);
	bool json = o.json;
	sbx_opts_free(&o);
	if (rc)
		return rc;
	char **names;
	size_t n;
	sbx_error err = {0};
	if (sbx_sandbox_list(&names, &n, &err) < 0)
		return sbx_cli_error("%s", err.msg);
	sbx_buf b = {0};
	if (json)
		sbx_buf_puts(&b, "[");
	else
		sbx_buf_printf(&b, "%-24s %-8s %-20s %-8s %-10s %-6s %s\n", "NAME", "STATE",
			       "CREATED", "PID", "MEMORY", "CPUS", "PIDS");
	size_t shown = 0;
	for (size_t k = 0; k < n; k++) {
		sbx_sandbox *sb;
		sbx_sandbox_info i;
		int r = sbx_sandbox_open(names[k], &sb, &err);
		if (r == -SBX_E_NOTFOUND)
			continue; /* removed meanwhile */
		if (r == 0) {
			r = sbx_sandbox_info_get(sb, &i, &err);
			if (r < 0)
				sbx_sandbox_close(sb);
		}
		if (r < 0) {
			/* Shown, so that it can be removed (sbx rm -f NAME). */
			broken_row(&b, json, shown, names[k], err.msg);
			shown++;
			continue;
		}
		if (json) {
			if (shown)
				sbx_buf_puts(&b, ",");
			info_json(&b, &i);
			sbx_sandbox_close(sb);
		} else {
			sbx_sandbox_close(sb);
			char created[32], pid[16] = "-";
			iso_time(i.created, created, sizeof(created));
			if (i.state == SBX_RUNNING && i.pid > 0)
				snprintf(pid, sizeof(pid), "%d", (int)i.pid);
			sbx_buf_printf(&b, "%-24s %-8s %-20s %-8s %-10llu %u.%02u   %u\n", i.name,
				       i.state == SBX_RUNNING ? "running" : "stopped", created, pid,
				       (unsigned long long)i.memory_limit, i.cpu_millis / 1000,
				       (i.cpu_millis % 1000) / 10, i.pids_max);
		}
		shown++;
	}
	if (json)
		sbx_buf_puts(&b, "]\n");
	sbx_sandbox_list_free(names, n);
	if (b.oom)
		rc = sbx_cli_error("out of memory");
	else
		fputs(b.data ? b.data : "", stdout);
	sbx_buf_free(&b);
	return rc;
}

int sbx_cli_inspect(int argc, char **argv)
{
	const char *name = name_arg(argc, argv, "inspect", "NAME");
	if (!name)
		return SBX_EXIT_ERROR;
	sbx_run_opts o;
	int rc = parse(argc, argv, "inspect", SBX_OPT_JSON, false, &o, 3);
	sbx_opts_free(&o);
	sbx_sandbox *sb = NULL;
	if (rc == 0)
		rc = open_sb(name, &sb);
	if (rc)
		return rc;
	sbx_sandbox_info i;
	sbx_error err = {0};
	if (sbx_sandbox_info_get(sb, &i, &err) < 0) {
		rc = sbx_cli_error("%s", err.msg);
	} else {
		sbx_buf b = {0};
		info_json(&b, &i);
		if (b.oom)
			rc = sbx_cli_error("out of memory");
		else
			printf("%s\n", b.data);
		sbx_buf_free(&b);
	}
	sbx_sandbox_close(sb);
	return rc;
}

static int simple(int argc, char **argv, const char *cmd, int (*fn)(sbx_sandbox *, sbx_error *))
{
	const char *name = name_arg(argc, argv, cmd, "NAME");
	if (!name)
		return SBX_EXIT_ERROR;
	sbx_run_opts o;
	int rc = parse(argc, argv, cmd, 0, false, &o, 3);
	sbx_opts_free(&o);
	sbx_sandbox *sb = NULL;
	if (rc == 0)
		rc = open_sb(name, &sb);
	if (rc)
		return rc;
	sbx_error err = {0};
	if (fn(sb, &err) < 0)
		rc = sbx_cli_error("%s", err.msg);
	sbx_sandbox_close(sb);
	return rc;
}

int sbx_cli_stop(int argc, char **argv)
{
	return simple(argc, argv, "stop", sbx_sandbox_stop);
}

int sbx_cli_start(int argc, char **argv)
{
	return simple(argc, argv, "start", sbx_sandbox_start);
}

int sbx_cli_rm(int argc, char **argv)
{
	/* rm [-f|--force] NAME or rm NAME [-f] */
	int first = 2;
	bool force = false;
	while (first < argc && (!strcmp(argv[first], "-f") || !strcmp(argv[first], "--force"))) {
		force = true;
		first++;
	}
	if (first >= argc || argv[first][0] == '-')
		return sbx_cli_error("usage: sbx rm [-f] NAME");
	const char *name = argv[first];
	sbx_run_opts o;
	int rc = parse(argc, argv, "rm", SBX_OPT_FORCE, false, &o, first + 1);
	force = force || (o.seen & SBX_OPT_FORCE);
	sbx_opts_free(&o);
	if (rc)
		return rc;
	sbx_error err = {0};
	if (sbx_sandbox_remove(name, force, &err) < 0)
		rc = sbx_cli_error("%s", err.msg);
	return rc;
}
