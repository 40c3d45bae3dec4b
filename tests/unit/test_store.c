/* Unit tests: src/state/store.c, the sandbox config and state files
 * (sbx_sbconf_format/parse, sbx_sbstate_format/parse, save and load). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/buf.h"
#include "state/store.h"

/* ---- helpers ---------------------------------------------------------- */

static int parse_conf(const char *text, sbx_sbconf *c, sbx_error *err)
{
	memset(err, 0, sizeof(*err));
	return sbx_sbconf_parse(text, strlen(text), c, err);
}

/* text must be refused with code, and the message must mention want. */
static void conf_bad(const char *text, sbx_errcode code, const char *want)
{
	sbx_sbconf c;
	sbx_error err;
	int r = parse_conf(text, &c, &err);
	if (r != -(int)code)
		fail_msg("parse of %s: got %d (%s), want %d", text, r, err.msg, -(int)code);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" does not mention \"%s\"", err.msg, want);
	/* Nothing is owned after a failure: free is a no-op, env is gone. */
	assert_null(c.env);
	assert_int_equal(c.n_env, 0);
	sbx_sbconf_free(&c);
}

/* "version=1\n" + line + "\n" must be refused. */
static void conf_bad_line(const char *line, sbx_errcode code, const char *want)
{
	char text[512];
	snprintf(text, sizeof(text), "version=1\nenv=A=1\n%s\n", line);
	conf_bad(text, code, want);
}

static void conf_ok(const char *text, sbx_sbconf *c)
{
	sbx_error err;
	int r = parse_conf(text, c, &err);
	if (r != 0)
		fail_msg("parse of %s refused: %s", text, err.msg);
}

static char *format_conf(const sbx_sbconf *c)
{
	sbx_buf b = {0};
	sbx_error err;
	assert_int_equal(sbx_sbconf_format(c, &b, &err), 0);
	return sbx_buf_steal(&b);
}

static void add_to(char ***v, size_t *n, const char *s)
{
	*v = realloc(*v, (*n + 2) * sizeof(char *));
	assert_non_null(*v);
	(*v)[(*n)++] = strdup(s);
	(*v)[*n] = NULL;
}

static void add_env(sbx_sbconf *c, const char *kv)
{
	add_to(&c->env, &c->n_env, kv);
}

/* A config with every field away from its default. */
static void full_conf(sbx_sbconf *c)
{
	memset(c, 0, sizeof(*c));
	sbx_config_init(&c->cfg);
	sbx_config *g = &c->cfg;
	c->created = 1700000000;
	snprintf(c->rootfs, sizeof(c->rootfs), "/srv/root fs\\with\nodd=chars");
	g->memory_bytes = 268435456;
	g->cpu_millis = 1500;
	g->pids_max = 7;
	g->timeout_ms = 0;
	g->output_limit = 12345;
	g->tmp_size = 1ull << 33;
	g->root_size = (1ull << 40) + 3;
	g->fsize_limit = 99;
	g->nofile = 77;
	g->net = SBX_NET_EGRESS;
	add_to(&c->net_allow, &c->n_net_allow, "pypi.org");
	add_to(&c->net_allow, &c->n_net_allow, "*.pythonhosted.org:443");
	add_to(&c->net_allow, &c->n_net_allow, "[2001:db8::/32]:443");
	add_to(&c->net_allow, &c->n_net_allow, "pypi.org"); /* repeats kept */
	add_to(&c->net_publish, &c->n_net_publish, "8080:80");
	add_to(&c->net_publish, &c->n_net_publish, "127.0.0.2:8443:443");
	snprintf(c->net_dns, sizeof(c->net_dns), "[::1]:5353");
	snprintf(c->workspace, sizeof(c->workspace), "/home/u/ws\\");
	g->workspace_mode = SBX_WS_RO;
	c->own_workspace = true;
	snprintf(c->cwd, sizeof(c->cwd), "/work dir");
	snprintf(c->hostname, sizeof(c->hostname), "box-1");
	snprintf(c->cgroup_parent, sizeof(c->cgroup_parent), "/sbx.slice");
	snprintf(c->driver, sizeof(c->driver), "podman");
	snprintf(c->image, sizeof(c->image), "python:3.11");
	g->map_uid = 200000;
	g->map_gid = 300000;
	g->map_count = 1000;
	c->idle_timeout_ms = 60000;
	add_env(c, "A=1");
	add_env(c, "MULTI=line one\nline two\\n not an escape\\");
	add_env(c, "EQ=a=b=c");
	add_env(c, "EMPTY=");
	add_env(c, "A=again"); /* order and repeats are kept as given */
}

static void assert_conf_equal(const sbx_sbconf *a, const sbx_sbconf *b)
{
	assert_int_equal(a->created, b->created);
	assert_string_equal(a->rootfs, b->rootfs);
	assert_int_equal(a->cfg.memory_bytes, b->cfg.memory_bytes);
	assert_int_equal(a->cfg.cpu_millis, b->cfg.cpu_millis);
	assert_int_equal(a->cfg.pids_max, b->cfg.pids_max);
	assert_int_equal(a->cfg.timeout_ms, b->cfg.timeout_ms);
	assert_int_equal(a->cfg.output_limit, b->cfg.output_limit);
	assert_int_equal(a->cfg.tmp_size, b->cfg.tmp_size);
	assert_int_equal(a->cfg.root_size, b->cfg.root_size);
	assert_int_equal(a->cfg.fsize_limit, b->cfg.fsize_limit);
	assert_int_equal(a->cfg.nofile, b->cfg.nofile);
	assert_int_equal(a->cfg.net, b->cfg.net);
	assert_string_equal(a->workspace, b->workspace);
	assert_int_equal(a->cfg.workspace_mode, b->cfg.workspace_mode);
	assert_int_equal(a->own_workspace, b->own_workspace);
	assert_string_equal(a->cwd, b->cwd);
	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->cgroup_parent, b->cgroup_parent);
	assert_string_equal(a->driver, b->driver);
	assert_string_equal(a->image, b->image);
	assert_int_equal(a->cfg.map_uid, b->cfg.map_uid);
	assert_int_equal(a->cfg.map_gid, b->cfg.map_gid);
	assert_int_equal(a->cfg.map_count, b->cfg.map_count);
	assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
	assert_int_equal(a->n_env, b->n_env);
	for (size_t i = 0; i < a->n_env; i++)
		assert_string_equal(a->env[i], b->env[i]);
	assert_int_equal(a->n_net_allow, b->n_net_allow);
	for (size_t i = 0; i < a->n_net_allow; i++)
		assert_string_equal(a->net_allow[i], b->net_allow[i]);
	assert_int_equal(a->n_net_publish, b->n_net_publish);
	for (size_t i = 0; i < a->n_net_publish; i++)
		assert_string_equal(a->net_publish[i], b->net_publish[i]);
	assert_string_equal(a->net_dns, b->net_dns);
}

/* ---- config: round trip and format ------------------------------------- */

static void test_conf_round_trip(void **state)
{
	(void)state;
	sbx_sbconf in, out;
	full_conf(&in);
	char *text = format_conf(&in);
	conf_ok(text, &out);
	assert_conf_equal(&in, &out);
	/* The borrowed view in cfg points at the parsed strings. */
	assert_ptr_equal(out.cfg.rootfs, out.rootfs);
	assert_ptr_equal(out.cfg.workspace, out.workspace);
	assert_ptr_equal(out.cfg.cwd, out.cwd);
	assert_ptr_equal(out.cfg.hostname, out.hostname);
	assert_ptr_equal(out.cfg.cgroup_parent, out.cgroup_parent);
	assert_ptr_equal(out.cfg.driver, out.driver);
	assert_ptr_equal(out.cfg.image, out.image);
	assert_ptr_equal(out.cfg.env, out.env);
	assert_int_equal(out.cfg.n_env, out.n_env);
	assert_ptr_equal(out.cfg.net_allow, out.net_allow);
	assert_int_equal(out.cfg.n_net_allow, 4);
	assert_ptr_equal(out.cfg.net_publish, out.net_publish);
	assert_int_equal(out.cfg.n_net_publish, 2);
	assert_ptr_equal(out.cfg.net_dns, out.net_dns);
	assert_null(out.net_allow[out.n_net_allow]);
	assert_null(out.net_publish[out.n_net_publish]);
	assert_null(out.env[out.n_env]);
	assert_null(out.cfg.argv);
	/* Formatting what was parsed gives the same text. */
	char *again = format_conf(&out);
	assert_string_equal(text, again);
	free(again);
	free(text);
	sbx_sbconf_free(&in);
	sbx_sbconf_free(&out);
	sbx_sbconf_free(&out); /* twice is fine */
}

/* The file format itself (older and newer sbx read it; tests grep it). */
static void test_conf_format_text(void **state)
{
	(void)state;
	sbx_sbconf c;
	memset(&c, 0, sizeof(c));
	sbx_config_init(&c.cfg);
	c.created = 42;
	snprintf(c.rootfs, sizeof(c.rootfs), "/r\\oot\nfs");
	add_env(&c, "K=a\\b\nc");
	char *text = format_conf(&c);
	assert_string_equal(text, "version=1\n"
				  "created=42\n"
				  "rootfs=/r\\\\oot\\nfs\n"
				  "memory=536870912\n"
				  "cpu_millis=1000\n"
				  "pids=100\n"
				  "timeout_ms=30000\n"
				  "output_limit=102400\n"
				  "tmp_size=67108864\n"
				  "root_size=0\n"
				  "fsize=1073741824\n"
				  "nofile=1024\n"
				  "net=none\n"
				  "dns=\n"
				  "workspace=\n"
				  "workspace_mode=none\n"
				  "own_workspace=0\n"
				  "cwd=\n"
				  "hostname=\n"
				  "cgroup_parent=\n"
				  "driver=\n"
				  "image=\n"
				  "map_uid=4294967295\n"
				  "map_gid=4294967295\n"
				  "map_count=65536\n"
				  "idle_timeout_ms=0\n"
				  "env=K=a\\\\b\\nc\n");
	free(text);
	sbx_sbconf_free(&c);
}

static void test_conf_format_appends(void **state)
{
	(void)state;
	sbx_sbconf c;
	memset(&c, 0, sizeof(c));
	sbx_config_init(&c.cfg);
	sbx_buf b = {0};
	sbx_buf_puts(&b, "#");
	assert_int_equal(sbx_sbconf_format(&c, &b, NULL), 0);
	assert_true(strncmp(b.data, "#version=1\n", 11) == 0);
	sbx_buf_free(&b);
}

/* ---- config: what parse accepts ---------------------------------------- */

static void test_conf_missing_keys_default(void **state)
{
	(void)state;
	sbx_sbconf c;
	sbx_config def;
	sbx_config_init(&def);
	conf_ok("version=1\n", &c);
	assert_int_equal(c.cfg.memory_bytes, def.memory_bytes);
	assert_int_equal(c.cfg.cpu_millis, def.cpu_millis);
	assert_int_equal(c.cfg.pids_max, def.pids_max);
	assert_int_equal(c.cfg.timeout_ms, def.timeout_ms);
	assert_int_equal(c.cfg.output_limit, def.output_limit);
	assert_int_equal(c.cfg.tmp_size, def.tmp_size);
	assert_int_equal(c.cfg.root_size, 0); /* a file of an older sbx: read-only root */
	assert_int_equal(c.cfg.fsize_limit, def.fsize_limit);
	assert_int_equal(c.cfg.nofile, def.nofile);
	assert_int_equal(c.cfg.net, SBX_NET_NONE);
	assert_int_equal(c.cfg.workspace_mode, SBX_WS_NONE);
	assert_int_equal(c.cfg.map_uid, def.map_uid);
	assert_int_equal(c.cfg.map_gid, def.map_gid);
	assert_int_equal(c.cfg.map_count, def.map_count);
	assert_int_equal(c.cfg.stdin_fd, -1);
	assert_int_equal(c.cfg.cancel_fd, -1);
	/* Absent or empty strings are NULL in the borrowed view. */
	assert_null(c.cfg.rootfs);
	assert_null(c.cfg.workspace);
	assert_null(c.cfg.cwd);
	assert_null(c.cfg.hostname);
	assert_null(c.cfg.driver);
	assert_null(c.cfg.image);
	assert_null(c.cfg.env);
	assert_int_equal(c.n_env, 0);
	assert_null(c.cfg.net_allow);
	assert_int_equal(c.cfg.n_net_allow, 0);
	assert_null(c.cfg.net_publish);
	assert_int_equal(c.cfg.n_net_publish, 0);
	assert_null(c.cfg.net_dns);
	assert_false(c.own_workspace);
	assert_int_equal(c.created, 0);
	sbx_sbconf_free(&c);

	conf_ok("version=1\nrootfs=\nhostname=\nmemory=0\n", &c);
	assert_null(c.cfg.rootfs);
	assert_null(c.cfg.hostname);
	assert_int_equal(c.cfg.memory_bytes, 0); /* 0 = unlimited, not "absent" */
	sbx_sbconf_free(&c);
}

static void test_conf_unknown_keys_skipped(void **state)
{
	(void)state;
	sbx_sbconf c;
	/* Keys of a newer sbx, whatever their value (even a bad escape). */
	conf_ok("future_knob=\\x\nversion=1\nmemoryy=-1\npids=5\nENV=X=1\n", &c);
	assert_int_equal(c.cfg.pids_max, 5);
	assert_int_equal(c.n_env, 0);
	sbx_sbconf_free(&c);
}

static void test_conf_empty_lines_skipped(void **state)
{
	(void)state;
	sbx_sbconf c;
	conf_ok("\nversion=1\n\npids=9\n\n", &c);
	assert_int_equal(c.cfg.pids_max, 9);
	sbx_sbconf_free(&c);
}

static void test_conf_env_order_and_repeats(void **state)
{
	(void)state;
	sbx_sbconf c;
	conf_ok("version=1\nenv=B=2\nenv=A=1\nenv=B=3\nenv=S=x\\\\y\\nz\nenv=E=\n", &c);
	assert_int_equal(c.n_env, 5);
	assert_string_equal(c.env[0], "B=2");
	assert_string_equal(c.env[1], "A=1");
	assert_string_equal(c.env[2], "B=3");
	assert_string_equal(c.env[3], "S=x\\y\nz");
	assert_string_equal(c.env[4], "E=");
	assert_null(c.env[5]);
	sbx_sbconf_free(&c);
}

static void test_conf_number_limits(void **state)
{
	(void)state;
	sbx_sbconf c;
	conf_ok("version=1\nmemory=18446744073709551615\ncpu_millis=4294967295\n"
		"created=-5\nmap_uid=0\nnofile=007\nroot_size=18446744073709551615\n",
		&c);
	assert_int_equal(c.cfg.memory_bytes, UINT64_MAX);
	assert_int_equal(c.cfg.root_size, UINT64_MAX);
	assert_int_equal(c.cfg.cpu_millis, UINT32_MAX);
	assert_int_equal(c.created, -5);
	assert_int_equal(c.cfg.map_uid, 0);
	assert_int_equal(c.cfg.nofile, 7);
	sbx_sbconf_free(&c);
}

static void test_conf_words(void **state)
{
	(void)state;
	sbx_sbconf c;
	conf_ok("version=1\nnet=loopback\nworkspace_mode=rw\nown_workspace=1\n", &c);
	assert_int_equal(c.cfg.net, SBX_NET_LOOPBACK);
	assert_int_equal(c.cfg.workspace_mode, SBX_WS_RW);
	assert_true(c.own_workspace);
	sbx_sbconf_free(&c);
	conf_ok("version=1\nnet=egress\n", &c);
	assert_int_equal(c.cfg.net, SBX_NET_EGRESS);
	sbx_sbconf_free(&c);
	conf_ok("version=1\nnet=none\nworkspace_mode=ro\nown_workspace=0\n", &c);
	assert_int_equal(c.cfg.net, SBX_NET_NONE);
	assert_int_equal(c.cfg.workspace_mode, SBX_WS_RO);
	assert_false(c.own_workspace);
	sbx_sbconf_free(&c);
}

/* ---- config: what parse refuses ---------------------------------------- */

/* A corrupted limit used to be read as something else: memory=-1 as
 * 2^64-1 (no limit), cpu_millis=abc as 0 (no limit). */
static void test_conf_memory_negative(void **state)
{
	(void)state;
	conf_bad_line("memory=-1", SBX_E_STATE, "memory=-1");
}

static void test_conf_cpu_not_a_number(void **state)
{
	(void)state;
	conf_bad_line("cpu_millis=abc", SBX_E_STATE, "cpu_millis=abc");
}

static void test_conf_numbers_bad(void **state)
{
	(void)state;
	conf_bad_line("memory=18446744073709551616", SBX_E_STATE, "memory");
	conf_bad_line("memory=99999999999999999999999", SBX_E_STATE, "memory");
	conf_bad_line("cpu_millis=4294967296", SBX_E_STATE, "cpu_millis");
	conf_bad_line("pids=", SBX_E_STATE, "pids");
	conf_bad_line("pids= 5", SBX_E_STATE, "pids");
	conf_bad_line("pids=5 ", SBX_E_STATE, "pids");
	conf_bad_line("pids=+5", SBX_E_STATE, "pids");
	conf_bad_line("pids=5k", SBX_E_STATE, "pids");
	conf_bad_line("pids=0x10", SBX_E_STATE, "pids");
	conf_bad_line("nofile=-0", SBX_E_STATE, "nofile");
	conf_bad_line("timeout_ms=1.5", SBX_E_STATE, "timeout_ms");
	conf_bad_line("map_uid=-1", SBX_E_STATE, "map_uid");
	conf_bad_line("idle_timeout_ms=x", SBX_E_STATE, "idle_timeout_ms");
	conf_bad_line("created=--1", SBX_E_STATE, "created");
	conf_bad_line("created=9223372036854775808", SBX_E_STATE, "created");
	conf_bad_line("created=", SBX_E_STATE, "created");
	conf_bad_line("own_workspace=2", SBX_E_STATE, "own_workspace");
	conf_bad_line("own_workspace=", SBX_E_STATE, "own_workspace");
}

static void test_conf_line_number_in_message(void **state)
{
	(void)state;
	conf_bad("version=1\npids=1\n\ncpu_millis=abc\n", SBX_E_STATE, "line 4");
}

static void test_conf_words_bad(void **state)
{
	(void)state;
	conf_bad_line("net=host", SBX_E_STATE, "net");
	conf_bad_line("net=EGRESS", SBX_E_STATE, "net");
	conf_bad_line("net=egress ", SBX_E_STATE, "net");
	conf_bad_line("net=", SBX_E_STATE, "net");
	conf_bad_line("workspace_mode=RW", SBX_E_STATE, "workspace_mode");
	conf_bad_line("workspace_mode=", SBX_E_STATE, "workspace_mode");
}

static void test_conf_duplicate_keys(void **state)
{
	(void)state;
	conf_bad_line("memory=1\nmemory=2", SBX_E_STATE, "memory given twice");
	conf_bad_line("hostname=a\nhostname=a", SBX_E_STATE, "hostname given twice");
	conf_bad("version=1\nversion=1\n", SBX_E_STATE, "twice");
}

static void test_conf_truncated(void **state)
{
	(void)state;
	/* The writer ends every line with a newline; a file cut anywhere
	 * else is refused, also when what is left would parse. */
	sbx_sbconf in;
	full_conf(&in);
	char *text = format_conf(&in);
	size_t len = strlen(text);
	for (size_t cut = 0; cut < len; cut++) {
		sbx_sbconf c;
		sbx_error err = {0};
		int r = sbx_sbconf_parse(text, cut, &c, &err);
		if (cut > 0 && text[cut - 1] == '\n') {
			sbx_sbconf_free(&c); /* at a line end: a shorter, well-formed file */
			continue;
		}
		if (r != -SBX_E_STATE)
			fail_msg("cut at %zu of %zu accepted (%d)", cut, len, r);
		assert_null(c.env);
	}
	free(text);
	sbx_sbconf_free(&in);
	conf_bad("", SBX_E_STATE, "empty");
	conf_bad("version=1", SBX_E_STATE, "truncated");
	conf_bad("version=1\nmemory=5", SBX_E_STATE, "truncated");
}

static void test_conf_version(void **state)
{
	(void)state;
	conf_bad("memory=5\n", SBX_E_STATE, "version");
	conf_bad("\n", SBX_E_STATE, "version");
	conf_bad("version=2\n", SBX_E_STATE, "version 2");
	conf_bad("version=\n", SBX_E_STATE, "version");
}

static void test_conf_malformed_lines(void **state)
{
	(void)state;
	conf_bad_line("memory", SBX_E_STATE, "line 3");
	conf_bad_line("=5", SBX_E_STATE, "line 3");
	conf_bad_line("# comment", SBX_E_STATE, "key=value");
	/* A NUL byte inside a line. */
	static const char nul[] = "version=1\nhostname=a\0b\n";
	sbx_sbconf c;
	sbx_error err;
	assert_int_equal(sbx_sbconf_parse(nul, sizeof(nul) - 1, &c, &err), -SBX_E_STATE);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void test_conf_bad_escapes(void **state)
{
	(void)state;
	conf_bad_line("cwd=/a\\tb", SBX_E_STATE, "escape");
	conf_bad_line("cwd=/a\\", SBX_E_STATE, "escape");
	conf_bad_line("env=A=\\x", SBX_E_STATE, "escape");
}

static void test_conf_env_without_equals(void **state)
{
	(void)state;
	conf_bad_line("env=NOEQUALS", SBX_E_INVALID, "NOEQUALS");
	conf_bad_line("env==value", SBX_E_INVALID, "environment");
	conf_bad_line("env=", SBX_E_INVALID, "environment");
}

/* The network lists of an egress sandbox: kept in order; what a hand-edited
 * or corrupt file may hold instead is refused, nothing half-kept. */
static void test_conf_net_lists(void **state)
{
	(void)state;
	sbx_sbconf c;
	conf_ok("version=1\nallow=b.example\nnet=egress\npublish=9000:90\nallow=10.0.0.0/8:53\n"
		"dns=127.0.0.1:5353\n",
		&c);
	assert_int_equal(c.cfg.net, SBX_NET_EGRESS);
	assert_int_equal(c.cfg.n_net_allow, 2);
	assert_string_equal(c.cfg.net_allow[0], "b.example");
	assert_string_equal(c.cfg.net_allow[1], "10.0.0.0/8:53");
	assert_int_equal(c.cfg.n_net_publish, 1);
	assert_string_equal(c.cfg.net_publish[0], "9000:90");
	assert_string_equal(c.cfg.net_dns, "127.0.0.1:5353");
	sbx_sbconf_free(&c);
	assert_null(c.net_allow);
	assert_null(c.cfg.net_allow);
	assert_int_equal(c.cfg.n_net_publish, 0);

	/* dns= empty: the host's resolver. */
	conf_ok("version=1\nnet=egress\ndns=\n", &c);
	assert_null(c.cfg.net_dns);
	sbx_sbconf_free(&c);

	/* Only with net=egress, wherever the net line is. */
	conf_bad("version=1\nallow=a.example\n", SBX_E_STATE, "without net=egress");
	conf_bad("version=1\npublish=80:80\nnet=loopback\n", SBX_E_STATE, "without net=egress");
	conf_bad("version=1\nnet=none\ndns=1.2.3.4\n", SBX_E_STATE, "without net=egress");
	/* Not words: empty, spaces, control or non-ASCII bytes, too long. */
	conf_bad("version=1\nnet=egress\nallow=\n", SBX_E_STATE, "line 3: allow");
	conf_bad("version=1\nnet=egress\nallow=a b\n", SBX_E_STATE, "allow");
	conf_bad("version=1\nnet=egress\nallow=a\\nb\n", SBX_E_STATE, "allow");
	conf_bad("version=1\nnet=egress\npublish=8080:80\t\n", SBX_E_STATE, "publish");
	conf_bad("version=1\nnet=egress\npublish=caf\xc3\xa9:1\n", SBX_E_STATE, "publish");
	conf_bad("version=1\nnet=egress\ndns=1.2.3.4 \n", SBX_E_STATE, "dns");
	conf_bad("version=1\nnet=egress\ndns=a\\nb\n", SBX_E_STATE, "dns");
	conf_bad("version=1\nnet=egress\ndns=1.1.1.1\ndns=1.1.1.1\n", SBX_E_STATE, "twice");
	char text[1024];
	snprintf(text, sizeof(text), "version=1\nnet=egress\nallow=%0301d\n", 0);
	conf_bad(text, SBX_E_STATE, "allow");
	/* A name of 253 bytes (four labels of 63, a dot between) is fine. */
	char name[254];
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	snprintf(text, sizeof(text), "version=1\nnet=egress\nallow=%s\n", name);
	conf_ok(text, &c);
	assert_string_equal(c.net_allow[0], name);
	sbx_sbconf_free(&c);
	/* Words, but not what sbx_config_validate takes (base/netspec.h). */
	conf_bad("version=1\nnet=egress\nallow=10.0.0.1/33\n", SBX_E_STATE,
		 "line 3: invalid --allow");
	conf_bad("version=1\nnet=egress\nallow=10.0.0.1/8\n", SBX_E_STATE, "--allow");
	conf_bad("version=1\nnet=egress\nallow=-x.example\n", SBX_E_STATE, "--allow");
	conf_bad("version=1\nnet=egress\npublish=70000:80\n", SBX_E_STATE, "--publish");
	conf_bad("version=1\nnet=egress\npublish=80\n", SBX_E_STATE, "--publish");
	conf_bad("version=1\nnet=egress\npublish=::1:80:80\n", SBX_E_STATE, "--publish");
	conf_bad("version=1\nnet=egress\n\ndns=nothost\n", SBX_E_STATE, "line 4: invalid --dns");
	conf_bad("version=1\nnet=egress\ndns=1.2.3.4:0\n", SBX_E_STATE, "--dns");
	snprintf(text, sizeof(text), "version=1\nnet=egress\ndns=%064d\n", 0);
	conf_bad(text, SBX_E_STATE, "dns too long");
}

/* At most 256 allow and 64 publish lines. */
static void test_conf_net_caps(void **state)
{
	(void)state;
	sbx_buf b = {0};
	sbx_buf_puts(&b, "version=1\nnet=egress\n");
	for (int i = 0; i < SBX_STORE_MAX_ALLOW; i++)
		sbx_buf_printf(&b, "allow=10.0.%d.%d\n", i / 256, i % 256);
	for (int i = 0; i < SBX_STORE_MAX_PUBLISH; i++)
		sbx_buf_printf(&b, "publish=%d:80\n", 8000 + i);
	sbx_sbconf c;
	conf_ok(b.data, &c);
	assert_int_equal(c.cfg.n_net_allow, SBX_STORE_MAX_ALLOW);
	assert_int_equal(c.cfg.n_net_publish, SBX_STORE_MAX_PUBLISH);
	/* Written back, the same lines. */
	char *again = format_conf(&c);
	assert_non_null(strstr(again, "allow=10.0.0.255\npublish=8000:80\n"));
	assert_non_null(strstr(again, "publish=8063:80\n"));
	free(again);
	sbx_sbconf_free(&c);
	size_t len = b.len;
	sbx_buf_puts(&b, "allow=10.9.9.9\n");
	conf_bad(b.data, SBX_E_STATE, "more than 256 allow");
	b.len = len;
	b.data[len] = '\0';
	sbx_buf_puts(&b, "publish=9999:80\n");
	conf_bad(b.data, SBX_E_STATE, "more than 64 publish");
	sbx_buf_free(&b);
}

/* From a config (sbx create, pools): the lists are copied, not borrowed. */
static void test_conf_from_net(void **state)
{
	(void)state;
	char a0[] = "pypi.org", p0[] = "8080:80", dns[] = "127.0.0.1";
	const char *allow[] = {a0, "10.0.0.0/8"}, *publish[] = {p0};
	sbx_config cfg;
	sbx_config_init(&cfg);
	cfg.rootfs = "/";
	cfg.net = SBX_NET_EGRESS;
	cfg.net_allow = allow;
	cfg.n_net_allow = 2;
	cfg.net_publish = publish;
	cfg.n_net_publish = 1;
	cfg.net_dns = dns;
	sbx_sbconf c;
	sbx_error err;
	assert_int_equal(sbx_sbconf_from(&c, &cfg, &err), 0);
	a0[0] = p0[0] = dns[0] = 'X';
	assert_string_equal(c.cfg.net_allow[0], "pypi.org");
	assert_string_equal(c.cfg.net_allow[1], "10.0.0.0/8");
	assert_string_equal(c.cfg.net_publish[0], "8080:80");
	assert_string_equal(c.cfg.net_dns, "127.0.0.1");
	assert_ptr_equal(c.cfg.net_allow, c.net_allow);
	sbx_sbconf_free(&c);

	/* What the file could not hold is refused here already. */
	const char *bad[] = {"a b"};
	cfg.net_allow = bad;
	cfg.n_net_allow = 1;
	assert_int_equal(sbx_sbconf_from(&c, &cfg, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "allow"));
	sbx_sbconf_free(&c);
	cfg.n_net_allow = 0;
	cfg.n_net_publish = SBX_STORE_MAX_PUBLISH + 1;
	assert_int_equal(sbx_sbconf_from(&c, &cfg, &err), -SBX_E_INVALID);
	sbx_sbconf_free(&c);
	cfg.n_net_publish = 0;
	char long_dns[80];
	memset(long_dns, '1', sizeof(long_dns) - 1);
	long_dns[sizeof(long_dns) - 1] = '\0';
	cfg.net_dns = long_dns;
	assert_int_equal(sbx_sbconf_from(&c, &cfg, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "dns"));
	sbx_sbconf_free(&c);
}

static void test_conf_string_too_long(void **state)
{
	(void)state;
	char line[128];
	snprintf(line, sizeof(line), "hostname=%064d", 0); /* 64 chars, room for 63 */
	conf_bad_line(line, SBX_E_INVALID, "hostname too long");
	snprintf(line, sizeof(line), "driver=%016d", 0);
	conf_bad_line(line, SBX_E_INVALID, "driver too long");
	sbx_sbconf c;
	snprintf(line, sizeof(line), "version=1\nhostname=%063d\n", 0);
	conf_ok(line, &c);
	assert_int_equal(strlen(c.hostname), 63);
	sbx_sbconf_free(&c);
}

/* ---- state file ---------------------------------------------------------- */

static int parse_state(const char *text, sbx_sbstate *s, sbx_error *err)
{
	memset(err, 0, sizeof(*err));
	return sbx_sbstate_parse(text, strlen(text), s, err);
}

static void state_bad(const char *text, const char *want)
{
	sbx_sbstate s;
	sbx_error err;
	int r = parse_state(text, &s, &err);
	if (r != -SBX_E_STATE)
		fail_msg("state %s: got %d (%s)", text, r, err.msg);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" does not mention \"%s\"", err.msg, want);
	assert_int_equal(s.sup_pid, 0); /* nothing half-filled */
	assert_int_equal(s.cg[0][0], 0);
}

#define STATE_HEAD "sup_pid=12\nsup_start=345\ninit_pid=13\nstarted=1700000000\n"

static void test_state_round_trip(void **state)
{
	(void)state;
	sbx_sbstate in = {
	    .sup_pid = 2147483647, .sup_start = UINT64_MAX, .init_pid = 1, .started = -1};
	snprintf(in.cg[0], PATH_MAX, "/sys/fs/cgroup/memory/a b/sbx-1-0123abcd");
	snprintf(in.cg[1], PATH_MAX, "/sys/fs/cgroup/cpu/we\\ird\nname/sbx-1-0123abcd");
	snprintf(in.cg[2], PATH_MAX, "/sys/fs/cgroup/pids/sbx-1-0123abcd");
	sbx_buf b = {0};
	assert_int_equal(sbx_sbstate_format(&in, &b, NULL), 0);
	sbx_sbstate out;
	sbx_error err;
	assert_int_equal(parse_state(b.data, &out, &err), 0);
	assert_int_equal(out.sup_pid, in.sup_pid);
	assert_int_equal(out.sup_start, in.sup_start);
	assert_int_equal(out.init_pid, in.init_pid);
	assert_int_equal(out.started, in.started);
	for (int c = 0; c < SBX_CG_N; c++)
		assert_string_equal(out.cg[c], in.cg[c]);
	sbx_buf_free(&b);
}

static void test_state_format_text(void **state)
{
	(void)state;
	/* Empty slots are not written; the tests read this file with sed. */
	sbx_sbstate s = {.sup_pid = 12, .sup_start = 345, .init_pid = 13, .started = 1700000000};
	snprintf(s.cg[1], PATH_MAX, "/cg/cpu/sbx-1\\x");
	sbx_buf b = {0};
	assert_int_equal(sbx_sbstate_format(&s, &b, NULL), 0);
	assert_string_equal(b.data, STATE_HEAD "cgroup=/cg/cpu/sbx-1\\\\x\n");
	sbx_buf_free(&b);
	/* Read back, the one path takes the first slot. */
	sbx_sbstate t;
	sbx_error err;
	assert_int_equal(parse_state(STATE_HEAD "cgroup=/cg/cpu/sbx-1\\\\x\n", &t, &err), 0);
	assert_string_equal(t.cg[0], "/cg/cpu/sbx-1\\x");
	assert_string_equal(t.cg[1], "");
}

static void test_state_no_cgroups_unknown_keys(void **state)
{
	(void)state;
	sbx_sbstate s;
	sbx_error err;
	assert_int_equal(parse_state("later=1\n" STATE_HEAD, &s, &err), 0);
	assert_int_equal(s.sup_pid, 12);
	assert_int_equal(s.sup_start, 345);
	assert_int_equal(s.init_pid, 13);
	assert_int_equal(s.started, 1700000000);
	assert_string_equal(s.cg[0], "");
}

static void test_state_bad(void **state)
{
	(void)state;
	state_bad("", "empty");
	state_bad(STATE_HEAD "cgroup=/x", "truncated");
	state_bad("sup_pid=12\nsup_start=345\ninit_pid=13\n", "no started");
	state_bad("sup_start=345\ninit_pid=13\nstarted=1\n", "no sup_pid");
	state_bad("sup_pid=-1\nsup_start=345\ninit_pid=13\nstarted=1\n", "sup_pid=-1");
	state_bad("sup_pid=2147483648\nsup_start=345\ninit_pid=13\nstarted=1\n", "sup_pid");
	state_bad("sup_pid=12\nsup_start=abc\ninit_pid=13\nstarted=1\n", "sup_start=abc");
	state_bad("sup_pid=12\nsup_start=1\ninit_pid=13\nstarted=x\n", "started=x");
	state_bad(STATE_HEAD "sup_pid=12\n", "twice");
	state_bad(STATE_HEAD "cgroup=/a\ncgroup=/b\ncgroup=/c\ncgroup=/d\n", "more than 3");
	state_bad(STATE_HEAD "cgroup=\n", "cgroup");
	state_bad(STATE_HEAD "cgroup=/a\\q\n", "escape");
	state_bad(STATE_HEAD "garbage\n", "key=value");
}

/* ---- save and load through files ---------------------------------------- */

static char tmpdir[64];

static int files_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sbx-test-store-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	char d[128];
	setenv("SBX_STATE_DIR", tmpdir, 1);
	setenv("SBX_RUN_DIR", tmpdir, 1);
	snprintf(d, sizeof(d), "%s/sandboxes", tmpdir);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/sandboxes/box", tmpdir);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/box", tmpdir);
	mkdir(d, 0700);
	return 0;
}

static int files_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_files_conf(void **state)
{
	(void)state;
	sbx_paths p;
	sbx_error err;
	assert_int_equal(sbx_paths_for("box", &p, &err), 0);
	sbx_sbconf in, out;
	full_conf(&in);
	assert_int_equal(sbx_sbconf_save(&p, &in, &err), 0);
	assert_int_equal(access(p.config, F_OK), 0);
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p.config);
	assert_int_not_equal(access(tmp, F_OK), 0); /* renamed into place */
	assert_int_equal(sbx_sbconf_load(&p, &out, &err), 0);
	assert_conf_equal(&in, &out);
	sbx_sbconf_free(&in);
	sbx_sbconf_free(&out);

	/* A corrupt file: the message names the sandbox, file and line. */
	write_text(p.config, "version=1\nmemory=-1\n");
	assert_int_equal(sbx_sbconf_load(&p, &out, &err), -SBX_E_STATE);
	assert_non_null(strstr(err.msg, "sandbox box"));
	assert_non_null(strstr(err.msg, p.config));
	assert_non_null(strstr(err.msg, "line 2: memory=-1"));
	sbx_sbconf_free(&out);

	assert_int_equal(unlink(p.config), 0);
	assert_int_equal(sbx_sbconf_load(&p, &out, &err), -SBX_E_NOTFOUND);
	assert_string_equal(err.msg, "no such sandbox: box");
	assert_int_equal(sbx_sbconf_load(&p, &out, NULL), -SBX_E_NOTFOUND);
	sbx_sbconf_free(&out);
}

static void test_files_state(void **state)
{
	(void)state;
	sbx_paths p;
	sbx_error err;
	assert_int_equal(sbx_paths_for("box", &p, &err), 0);
	sbx_sbstate in = {.sup_pid = 5, .sup_start = 6, .init_pid = 7, .started = 8}, out;
	snprintf(in.cg[0], PATH_MAX, "/cg/memory/sbx-5-00000000");
	assert_int_equal(sbx_sbstate_save(&p, &in, &err), 0);
	assert_int_equal(sbx_sbstate_load(&p, &out, &err), 0);
	assert_int_equal(out.sup_pid, 5);
	assert_int_equal(out.sup_start, 6);
	assert_int_equal(out.init_pid, 7);
	assert_int_equal(out.started, 8);
	assert_string_equal(out.cg[0], in.cg[0]);

	write_text(p.state, "sup_pid=5\n");
	assert_int_equal(sbx_sbstate_load(&p, &out, &err), -SBX_E_STATE);
	assert_non_null(strstr(err.msg, "sandbox box"));
	assert_int_equal(out.sup_pid, 0);

	assert_int_equal(unlink(p.state), 0);
	assert_int_equal(sbx_sbstate_load(&p, &out, &err), -SBX_E_NOTFOUND);
	assert_int_equal(sbx_sbstate_load(&p, &out, NULL), -SBX_E_NOTFOUND);

	/* Cannot write: the run dir is gone. */
	char d[128];
	snprintf(d, sizeof(d), "%s/box", tmpdir);
	assert_int_equal(rmdir(d), 0);
	assert_int_equal(sbx_sbstate_save(&p, &in, &err), -SBX_E_SYSTEM);
	assert_non_null(strstr(err.msg, "cannot write"));
	assert_int_not_equal(err.sys_errno, 0);
	assert_int_equal(mkdir(d, 0700), 0);
}

/* A tree deeper than PATH_MAX, with symlinks (to a dir outside, to "..")
 * and a fifo: removed whole, nothing outside touched. */
static void test_rm_tree_deep(void **state)
{
	(void)state;
	char top[128], outside[128], keep[160];
	snprintf(top, sizeof(top), "%s/tree", tmpdir);
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	snprintf(keep, sizeof(keep), "%s/keep", outside);
	assert_int_equal(mkdir(outside, 0700), 0);
	write_text(keep, "x");
	assert_int_equal(mkdir(top, 0700), 0);
	int fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	for (int i = 0; i < 40; i++) { /* 40 * 201 bytes > PATH_MAX */
		assert_int_equal(symlinkat(outside, fd, "out"), 0);
		assert_int_equal(symlinkat("..", fd, "up"), 0);
		assert_int_equal(mkfifoat(fd, "fifo", 0600), 0);
		assert_int_equal(mkdirat(fd, name, 0700), 0);
		int c = openat(fd, name, O_RDONLY | O_DIRECTORY);
		assert_true(c >= 0);
		close(fd);
		fd = c;
	}
	int f = openat(fd, "file", O_WRONLY | O_CREAT, 0600);
	assert_true(f >= 0);
	close(f);
	close(fd);
	assert_int_equal(sbx_rm_tree(top), 0);
	assert_int_not_equal(access(top, F_OK), 0);
	assert_int_equal(access(keep, F_OK), 0);
	/* absent: fine; a symlink given itself: removed, not followed */
	assert_int_equal(sbx_rm_tree(top), 0);
	assert_int_equal(symlink(outside, top), 0);
	assert_int_equal(sbx_rm_tree(top), 0);
	assert_int_equal(access(keep, F_OK), 0);
}

/* The supervisor lock: held by a live process, its pid reported; released
 * by the kernel when it dies; a second holder refused. */
static void test_sup_lock(void **state)
{
	(void)state;
	sbx_paths p;
	sbx_error err;
	assert_int_equal(sbx_paths_for("box", &p, &err), 0);
	assert_int_equal(sbx_sup_holder(&p), 0);
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd = sbx_sup_lock(&p, NULL);
		char c = fd >= 0 ? 'y' : 'n';
		(void)!write(go[1], &c, 1);
		pause();
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(sbx_sup_holder(&p), child);
	assert_int_equal(sbx_sup_lock(&p, &err), -SBX_E_STATE);
	assert_non_null(strstr(err.msg, "another supervisor"));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(sbx_sup_holder(&p), 0);
	close(go[0]);
	close(go[1]);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_round_trip),
		cmocka_unit_test(test_conf_format_text),
		cmocka_unit_test(test_conf_format_appends),
		cmocka_unit_test(test_conf_missing_keys_default),
		cmocka_unit_test(test_conf_unknown_keys_skipped),
		cmocka_unit_test(test_conf_empty_lines_skipped),
		cmocka_unit_test(test_conf_env_order_and_repeats),
		cmocka_unit_test(test_conf_number_limits),
		cmocka_unit_test(test_conf_words),
		cmocka_unit_test(test_conf_memory_negative),
		cmocka_unit_test(test_conf_cpu_not_a_number),
		cmocka_unit_test(test_conf_numbers_bad),
		cmocka_unit_test(test_conf_line_number_in_message),
		cmocka_unit_test(test_conf_words_bad),
		cmocka_unit_test(test_conf_duplicate_keys),
		cmocka_unit_test(test_conf_truncated),
		cmocka_unit_test(test_conf_version),
		cmocka_unit_test(test_conf_malformed_lines),
		cmocka_unit_test(test_conf_bad_escapes),
		cmocka_unit_test(test_conf_env_without_equals),
		cmocka_unit_test(test_conf_net_lists),
		cmocka_unit_test(test_conf_net_caps),
		cmocka_unit_test(test_conf_from_net),
		cmocka_unit_test(test_conf_string_too_long),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_format_text),
		cmocka_unit_test(test_state_no_cgroups_unknown_keys),
		cmocka_unit_test(test_state_bad),
		cmocka_unit_test_setup_teardown(test_files_conf, files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_files_state, files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_rm_tree_deep, files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_sup_lock, files_setup, files_teardown),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
