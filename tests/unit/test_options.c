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
		cmocka_unit_test(test_help_version_no_command),
		cmocka_unit_test(test_env_build),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
