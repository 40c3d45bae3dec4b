/* Unit tests: `sbx run` option parsing and the command environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/env.h"
#include "cli/options.h"

#define ARGV(...) ((char *[]){"sbx", "run", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"sbx", "run", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, msg, ...)                                                                         \
	sbx_opts_parse(&(o), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), 2, msg, sizeof(msg))

static void test_defaults(void **state)
{
	sbx_run_opts o;
	char msg[256];
	assert_int_equal(PARSE(o, msg, "python3", "-c", "pass"), 0);
	assert_int_equal(o.cfg.memory_bytes, 512ull << 20);
	assert_int_equal(o.cfg.cpu_millis, 1000);
	assert_int_equal(o.cfg.pids_max, 100);
	assert_int_equal(o.cfg.timeout_ms, 30000);
	assert_int_equal(o.cfg.stop_timeout_ms, 10000);
	assert_int_equal(o.cfg.signal_fd, -1);
	assert_int_equal(o.cfg.output_limit, 100 << 10);
	assert_int_equal(o.cfg.net, SBX_NET_NONE);
	assert_int_equal(o.cfg.workspace_mode, SBX_WS_NONE);
	assert_int_equal(o.cfg.map_uid, SBX_MAP_AUTO);
	assert_int_equal(o.cfg.map_gid, SBX_MAP_AUTO);
	assert_int_equal(o.cfg.root_size, 0); /* read-only root */
	assert_null(o.cfg.net_allow);
	assert_int_equal(o.cfg.n_net_allow, 0);
	assert_null(o.cfg.net_publish);
	assert_int_equal(o.cfg.n_net_publish, 0);
	assert_null(o.cfg.net_dns);
	assert_false(o.json);
	assert_string_equal(o.cfg.argv[0], "python3");
	assert_string_equal(o.cfg.argv[2], "pass");
	assert_null(o.cfg.argv[3]);
	sbx_opts_free(&o);
}

static void test_all_options(void **state)
{
	sbx_run_opts o;
	char msg[256];
	assert_int_equal(PARSE(o, msg, "--memory", "256M", "--cpus=0.5", "--pids", "64",
			       "--timeout", "10s", "--stop-timeout", "2s", "--output-limit", "1K",
			       "--tmp-size", "8M", "--net", "loopback", "--workspace", "/data:ro",
			       "--env", "A=1", "--env=B=2", "--cwd", "/tmp", "--hostname", "box",
			       "--cgroup-parent", "/x", "--map-uid", "200000", "--json", "--",
			       "--not-an-option"),
			 0);
	assert_int_equal(o.cfg.memory_bytes, 256ull << 20);
	assert_int_equal(o.cfg.cpu_millis, 500);
	assert_int_equal(o.cfg.pids_max, 64);
	assert_int_equal(o.cfg.timeout_ms, 10000);
	assert_int_equal(o.cfg.stop_timeout_ms, 2000);
	assert_true(o.seen & SBX_OPT_STOPTIMEOUT);
	assert_int_equal(o.cfg.output_limit, 1024);
	assert_int_equal(o.cfg.tmp_size, 8ull << 20);
	assert_int_equal(o.cfg.net, SBX_NET_LOOPBACK);
	assert_string_equal(o.cfg.workspace, "/data");
	assert_int_equal(o.cfg.workspace_mode, SBX_WS_RO);
	assert_int_equal(o.cfg.n_env, 2);
	assert_string_equal(o.cfg.env[1], "B=2");
	assert_string_equal(o.cfg.cwd, "/tmp");
	assert_string_equal(o.cfg.hostname, "box");
	assert_string_equal(o.cfg.cgroup_parent, "/x");
	assert_int_equal(o.cfg.map_uid, 200000);
	assert_true(o.json);
	assert_string_equal(o.cfg.argv[0], "--not-an-option");
	sbx_opts_free(&o);
}

static void expect_bad(int argc, char **argv, const char *needle)
{
	sbx_run_opts o;
	char msg[256] = "";
	if (sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)) != -1)
		fail_msg("accepted: %s %s", argv[2], argc > 3 ? argv[3] : "");
	if (!strstr(msg, needle))
		fail_msg("message '%s' does not name '%s'", msg, needle);
	assert_null(strchr(msg, '\n'));
	sbx_opts_free(&o);
}
#define BAD(needle, ...) expect_bad(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), needle)

static void test_bad_values(void **state)
{
	BAD("--memory", "--memory", "12Q", "true");
	BAD("--memory", "--memory", "-1", "true");
	BAD("--memory", "--memory", "1K", "true"); /* below the 4M floor */
	BAD("--output-limit", "--output-limit", "", "true");
	BAD("--output-limit", "--output-limit", "0", "true");
	BAD("--timeout", "--timeout", "10x", "true");
	BAD("--stop-timeout", "--stop-timeout", "soon", "true");
	BAD("--stop-timeout", "--stop-timeout", "25h", "true");
	BAD("--cpus", "--cpus", "abc", "true");
	BAD("--pids", "--pids", "-3", "true");
	BAD("--pids", "--pids", "1e3", "true");
	BAD("--net", "--net", "host", "true");
	BAD("--workspace", "--workspace", "/d:rx", "true");
	BAD("--env", "--env", "NOEQUALS", "true");
	BAD("--env", "--env", "=v", "true");
	BAD("--cwd", "--cwd", "relative/path", "true");
	BAD("--cwd", "--cwd", "/../etc", "true");
	BAD("--hostname", "--hostname", "-bad", "true");
	BAD("--cgroup-parent", "--cgroup-parent", "../escape", "true");
	BAD("--map-uid", "--map-uid", "0", "true");
	BAD("--bogus", "--bogus", "true");
	BAD("-x", "-x", "true");
	BAD("needs a value", "--memory");
	BAD("takes no value", "--json=1", "true");
}

/* --writable-root: a flag with an optional =SIZE; a following word is the
 * command, never its size. */
static void test_writable_root(void **state)
{
	sbx_run_opts o;
	char msg[256];
	assert_int_equal(PARSE(o, msg, "--writable-root", "true"), 0);
	assert_int_equal(o.cfg.root_size, SBX_ROOT_SIZE_DEFAULT);
	assert_true(o.seen & SBX_OPT_WRROOT);
	assert_true(SBX_OPT_SANDBOX & SBX_OPT_WRROOT);
	assert_string_equal(o.cfg.argv[0], "true");
	sbx_opts_free(&o);
	assert_int_equal(PARSE(o, msg, "--writable-root=1G", "true"), 0);
	assert_int_equal(o.cfg.root_size, 1ull << 30);
	sbx_opts_free(&o);
	assert_int_equal(PARSE(o, msg, "--writable-root", "64M"), 0);
	assert_int_equal(o.cfg.root_size, SBX_ROOT_SIZE_DEFAULT);
	assert_string_equal(o.cfg.argv[0], "64M");
	sbx_opts_free(&o);
	BAD("--writable-root", "--writable-root=0", "true");
	BAD("--writable-root", "--writable-root=", "true");
	BAD("--writable-root", "--writable-root=12Q", "true");
}

/* --net egress and its repeatable options: kept in order, as given (the
 * values are checked later, with the whole config). */
static void test_net_options(void **state)
{
	sbx_run_opts o;
	char msg[256];
	assert_int_equal(PARSE(o, msg, "--net", "egress", "--allow", "pypi.org",
			       "--allow=10.0.0.0/8:443", "--publish", "8080:80",
			       "--publish=127.0.0.1:8443:443", "--dns", "127.0.0.1:5353", "--allow",
			       "[2001:db8::/32]:443", "python3"),
			 0);
	assert_int_equal(o.cfg.net, SBX_NET_EGRESS);
	assert_int_equal(o.cfg.n_net_allow, 3);
	assert_string_equal(o.cfg.net_allow[0], "pypi.org");
	assert_string_equal(o.cfg.net_allow[1], "10.0.0.0/8:443");
	assert_string_equal(o.cfg.net_allow[2], "[2001:db8::/32]:443");
	assert_int_equal(o.cfg.n_net_publish, 2);
	assert_string_equal(o.cfg.net_publish[0], "8080:80");
	assert_string_equal(o.cfg.net_publish[1], "127.0.0.1:8443:443");
	assert_string_equal(o.cfg.net_dns, "127.0.0.1:5353");
	assert_true(o.seen & SBX_OPT_ALLOW);
	assert_true(o.seen & SBX_OPT_PUBLISH);
	assert_true(o.seen & SBX_OPT_DNS);
	assert_true((SBX_OPT_SANDBOX & (SBX_OPT_ALLOW | SBX_OPT_PUBLISH | SBX_OPT_DNS)) ==
		    (SBX_OPT_ALLOW | SBX_OPT_PUBLISH | SBX_OPT_DNS));
	assert_string_equal(o.cfg.argv[0], "python3");
	sbx_opts_free(&o);
	assert_null(o.allow);
	assert_int_equal(o.n_allow, 0);

	/* The last --dns wins, as for every single-valued option. */
	assert_int_equal(PARSE(o, msg, "--dns", "1.2.3.4", "--dns", "127.0.0.1", "true"), 0);
	assert_string_equal(o.cfg.net_dns, "127.0.0.1");
	sbx_opts_free(&o);

	BAD("--net", "--net", "Egress", "true");
	BAD("none, loopback or egress", "--net", "bridge", "true");
	BAD("--allow", "--allow", "", "true");
	BAD("--allow", "--allow", "a b", "true");
	BAD("--allow", "--allow", "a\nb", "true");
	BAD("--allow", "--allow", "caf\xc3\xa9.example", "true");
	BAD("--publish", "--publish", "", "true");
	BAD("--publish", "--publish", "80 :80", "true");
	BAD("--dns", "--dns", "", "true");
	BAD("--dns", "--dns", "\t1.2.3.4", "true");
	BAD("needs a value", "--allow");
}

/* At most 256 --allow and 64 --publish: one more is refused by name. */
static void test_net_caps(void **state)
{
	(void)state;
	enum { N = 2 + 2 * (SBX_OPTS_MAX_ALLOW + 1) + 1 };
	char *argv[N + 1];
	int argc = 0;
	argv[argc++] = "sbx";
	argv[argc++] = "run";
	for (int i = 0; i < SBX_OPTS_MAX_ALLOW; i++) {
		argv[argc++] = "--allow";
		argv[argc++] = "10.0.0.1";
	}
	argv[argc++] = "true";
	argv[argc] = NULL;
	sbx_run_opts o;
	char msg[256] = "";
	assert_int_equal(sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)), 0);
	assert_int_equal(o.cfg.n_net_allow, SBX_OPTS_MAX_ALLOW);
	sbx_opts_free(&o);
	argv[argc - 1] = "--allow";
	argv[argc++] = "10.0.0.2";
	argv[argc++] = "true";
	argv[argc] = NULL;
	assert_int_equal(sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "too many --allow"));
	sbx_opts_free(&o);

	argc = 2;
	for (int i = 0; i < SBX_OPTS_MAX_PUBLISH; i++) {
		argv[argc++] = "--publish";
		argv[argc++] = "8080:80";
	}
	argv[argc++] = "true";
	argv[argc] = NULL;
	assert_int_equal(sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)), 0);
	assert_int_equal(o.cfg.n_net_publish, SBX_OPTS_MAX_PUBLISH);
	sbx_opts_free(&o);
	argv[argc - 1] = "--publish";
	argv[argc++] = "8081:81";
	argv[argc] = NULL;
	assert_int_equal(sbx_opts_parse(&o, argc, argv, 2, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "too many --publish"));
	sbx_opts_free(&o);
}

static void test_help_version_no_command(void **state)
{
	sbx_run_opts o;
	char msg[64];
	assert_int_equal(PARSE(o, msg, "--help"), 0);
	assert_true(o.help);
	assert_null(o.cfg.argv);
	sbx_opts_free(&o);
	assert_int_equal(PARSE(o, msg, "--version"), 0);
	assert_true(o.version);
	sbx_opts_free(&o);
}

static void test_env_build(void **state)
{
	const char *extra[] = {"KEY=VALUE", "HOME=/tmp", "KEY=second"};
	char **env = sbx_env_build("box", extra, 3);
	assert_non_null(env);
	size_t n = 0;
	int home = 0, key = 0, host = 0;
	for (; env[n]; n++) {
		home += strcmp(env[n], "HOME=/tmp") == 0;
		key += strcmp(env[n], "KEY=second") == 0;
		host += strcmp(env[n], "HOSTNAME=box") == 0;
		assert_int_not_equal(strcmp(env[n], "HOME=/root"), 0);
		assert_int_not_equal(strcmp(env[n], "KEY=VALUE"), 0);
	}
	assert_int_equal(n, 5); /* PATH, HOME, LANG, HOSTNAME, KEY */
	assert_int_equal(home + key + host, 3);
	sbx_env_free(env);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_writable_root),
		cmocka_unit_test(test_net_options),
		cmocka_unit_test(test_net_caps),
		cmocka_unit_test(test_help_version_no_command),
		cmocka_unit_test(test_env_build),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
