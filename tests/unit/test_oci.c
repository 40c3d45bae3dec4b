/* Unit tests: the docker/podman driver's argument vectors and helpers
 * (src/oci_args.c), its in-container scripts (run with the host's
 * /bin/sh) and its client supervision (src/oci_proc.c, with /bin/sh
 * standing in for the engine's client). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/util.h"
#include "drivers/oci_int.h"

/* ---------------------------------------------------------------- helpers */

/* Index of s in a->v at or after from, or -1. */
static int find(const sbx_strv *a, const char *s, int from)
{
	for (size_t i = (size_t)from; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return (int)i;
	return -1;
}

static bool has(const sbx_strv *a, const char *s)
{
	return find(a, s, 0) >= 0;
}

/* s is followed by value. */
static bool has_pair(const sbx_strv *a, const char *s, const char *value)
{
	for (int i = find(a, s, 0); i >= 0; i = find(a, s, i + 1))
		if ((size_t)i + 1 < a->n && !strcmp(a->v[i + 1], value))
			return true;
	return false;
}

static void defaults(sbx_config *cfg, const char *const *argv)
{
	sbx_config_init(cfg);
	cfg->argv = argv;
}

static const sbx_oci_host podman_host = {.runtime = "runc", .nproc = 32768};
static const sbx_oci_host plain_host = {.nproc = 4194304};

/* ---------------------------------------------------------------- argv */

static void test_run_defaults_podman(void **state)
{
	(void)state;
	const char *argv[] = {"python3", "-c", "print(6*7)", NULL};
	sbx_config cfg;
	defaults(&cfg, argv);
	sbx_strv a = {0};
	assert_int_equal(sbx_oci_args_run(&a, "podman", &cfg, &podman_host, "sbx-run-x", false), 0);
	assert_false(a.oom);
	assert_null(a.v[a.n]);
	/* engine and global flags come before the verb */
	assert_string_equal(a.v[0], "podman");
	int run = find(&a, "run", 0);
	assert_true(run > 0);
	assert_true(has_pair(&a, "--runtime", "runc") && find(&a, "--runtime", 0) < run);
	assert_true(has_pair(&a, "--cgroup-manager", "cgroupfs"));
	assert_true(has_pair(&a, "--events-backend", "file"));
	assert_string_equal(a.v[run + 1], "-i");
	assert_false(has(&a, "--rm")); /* inspected, then removed by us */
	assert_true(has_pair(&a, "--name", "sbx-run-x"));
	assert_true(has_pair(&a, "--label", "sbx=1"));
	assert_true(has_pair(&a, "--pull", "never"));
	assert_true(has(&a, "--init"));
	assert_true(has_pair(&a, "--network", "none"));
	assert_true(has(&a, "--memory=536870912"));
	assert_true(has(&a, "--memory-swap=536870912"));
	assert_true(has(&a, "--cpus=1.000"));
	assert_true(has(&a, "--pids-limit=100"));
	assert_true(has(&a, "--read-only"));
	assert_true(has(&a, "--read-only-tmpfs=false"));
	assert_true(has_pair(&a, "--tmpfs", "/tmp:rw,exec,nosuid,nodev,size=67108864,mode=1777"));
	assert_true(has_pair(&a, "--cap-drop", "ALL"));
	assert_true(has_pair(&a, "--security-opt", "no-new-privileges"));
	assert_true(has(&a, "--user=0:0"));
	assert_true(has_pair(&a, "--hostname", "sandbox"));
	assert_true(has_pair(&a, "--workdir", "/tmp"));
	assert_true(has(&a, "--ulimit=nofile=1024:1024"));
	assert_true(has(&a, "--ulimit=nproc=32768:32768"));
	assert_true(has(&a, "--ulimit=fsize=1073741824:1073741824"));
	assert_true(has(&a, "--ulimit=core=0:0"));
	assert_true(has_pair(&a, "--log-driver", "none"));
	assert_true(has(&a, "--unsetenv-all"));
	assert_false(has(&a, "-v"));
	assert_false(has(&a, "--cgroup-parent"));
	assert_false(has_pair(&a, "--label", "sbx.pid=0")); /* no owner given */
	/* the same environment as native */
	assert_true(has_pair(&a, "-e",
			     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	assert_true(has_pair(&a, "-e", "HOME=/root"));
	assert_true(has_pair(&a, "-e", "LANG=C.UTF-8"));
	assert_true(has_pair(&a, "-e", "HOSTNAME=sandbox"));
	/* image, then the wrapper with the command as its arguments */
	int img = find(&a, SBX_OCI_DEFAULT_IMAGE, 0);
	assert_true(img > 0);
	assert_string_equal(a.v[img - 1], "/bin/sh"); /* --entrypoint /bin/sh */
	assert_string_equal(a.v[img - 2], "--entrypoint");
	assert_string_equal(a.v[img + 1], "-c");
	assert_string_equal(a.v[img + 2], sbx_oci_wrap_script);
	assert_string_equal(a.v[img + 3], "sh");
	assert_string_equal(a.v[img + 4], "python3");
	assert_string_equal(a.v[img + 5], "-c");
	assert_string_equal(a.v[img + 6], "print(6*7)");
	assert_int_equal((size_t)img + 7, a.n);
	sbx_strv_free(&a);
}

static void test_run_docker_and_limits(void **state)
{
	(void)state;
	const char *argv[] = {"true", NULL};
	const char *env[] = {"K=1", "X=y z", "K=2"};
	sbx_config cfg;
	defaults(&cfg, argv);
	cfg.memory_bytes = 0;
	cfg.cpu_millis = 2500;
	cfg.pids_max = 0;
	cfg.fsize_limit = 0;
	cfg.nofile = 64;
	cfg.env = env;
	cfg.n_env = 3;
	cfg.hostname = "box";
	cfg.cwd = "/usr";
	cfg.image = "example/img:1";
	cfg.cgroup_parent = "/mine";
	sbx_oci_host h = plain_host;
	h.workspace = "/data/ws";
	h.workspace_ro = true;
	h.uid = 1000;
	h.gid = 1001;
	h.owner = 77;
	sbx_strv a = {0};
	assert_int_equal(sbx_oci_args_run(&a, "docker", &cfg, &h, "sbx-run-y", false), 0);
	assert_string_equal(a.v[0], "docker");
	assert_string_equal(a.v[1], "run"); /* no global flags */
	assert_false(has(&a, "--runtime"));
	assert_false(has(&a, "--read-only-tmpfs=false"));
	assert_false(has(&a, "--unsetenv-all"));
	for (size_t i = 0; i < a.n; i++) {
		assert_false(!strncmp(a.v[i], "--memory", 8));
		assert_false(!strncmp(a.v[i], "--ulimit=fsize", 14));
	}
	assert_true(has(&a, "--cpus=2.500"));
	assert_true(has(&a, "--pids-limit=-1"));
	assert_true(has(&a, "--ulimit=nofile=64:64"));
	assert_true(has(&a, "--ulimit=nproc=4194304:4194304"));
	assert_true(has(&a, "--user=1000:1001"));
	assert_true(has_pair(&a, "--label", "sbx.pid=77"));
	assert_true(has_pair(&a, "--hostname", "box"));
	assert_true(has_pair(&a, "--workdir", "/usr"));
	assert_true(has_pair(&a, "--cgroup-parent", "/mine"));
	assert_true(has_pair(&a, "-v", "/data/ws:/workspace:ro"));
	assert_true(has_pair(&a, "-e", "HOSTNAME=box"));
	assert_true(has_pair(&a, "-e", "X=y z"));
	/* a later value of a key replaces the earlier one, as native */
	assert_true(has_pair(&a, "-e", "K=2"));
	assert_false(has_pair(&a, "-e", "K=1"));
	assert_true(has(&a, "example/img:1"));
	assert_false(has(&a, SBX_OCI_DEFAULT_IMAGE));
	sbx_strv_free(&a);

	/* a workspace without --cwd: /workspace; an rw one */
	cfg.cwd = NULL;
	h.workspace_ro = false;
	assert_int_equal(sbx_oci_args_run(&a, "docker", &cfg, &h, "sbx-run-y", false), 0);
	assert_true(has_pair(&a, "--workdir", "/workspace"));
	assert_true(has_pair(&a, "-v", "/data/ws:/workspace:rw"));
	sbx_strv_free(&a);

	cfg.cpu_millis = 1;
	assert_int_equal(sbx_oci_args_run(&a, "docker", &cfg, &h, "n", false), 0);
	assert_true(has(&a, "--cpus=0.001"));
	sbx_strv_free(&a);
}

static void test_run_detached(void **state)
{
	(void)state;
	sbx_config cfg;
	defaults(&cfg, NULL);
	sbx_strv a = {0};
	assert_int_equal(sbx_oci_args_run(&a, "podman", &cfg, &podman_host, "sbx-box", true), 0);
	int run = find(&a, "run", 0);
	assert_string_equal(a.v[run + 1], "-d");
	assert_true(has_pair(&a, "--name", "sbx-box"));
	assert_true(has(&a, "--init")); /* reaps the execs' orphans */
	int img = find(&a, SBX_OCI_DEFAULT_IMAGE, 0);
	assert_string_equal(a.v[img + 1], "-c");
	assert_string_equal(a.v[img + 2], "exec sleep infinity");
	assert_int_equal((size_t)img + 3, a.n);
	sbx_strv_free(&a);
}

/* root_size: the engine's own writable layer, no --read-only (podman's
 * read-only tmpfs option goes with it); /tmp stays as it is. */
static void test_run_writable_root(void **state)
{
	(void)state;
	const char *argv[] = {"true", NULL};
	const char *engines[] = {"podman", "docker"};
	for (size_t e = 0; e < 2; e++) {
		sbx_config cfg;
		defaults(&cfg, argv);
		cfg.root_size = 1 << 20;
		sbx_strv a = {0};
		assert_int_equal(
		    sbx_oci_args_run(&a, engines[e], &cfg, &podman_host, "sbx-wr", false), 0);
		assert_false(has(&a, "--read-only"));
		assert_false(has(&a, "--read-only-tmpfs=false"));
		assert_true(
		    has_pair(&a, "--tmpfs", "/tmp:rw,exec,nosuid,nodev,size=67108864,mode=1777"));
		sbx_strv_free(&a);
	}
}

/* How many of a->v are s. */
static int count(const sbx_strv *a, const char *s)
{
	int n = 0;
	for (int i = find(a, s, 0); i >= 0; i = find(a, s, i + 1))
		n++;
	return n;
}

/* net egress: the engines' own user-mode or bridge networking, published
 * ports always with a host address (127.0.0.1 unless given), --dns without
 * its port; before the image, so never taken for the command's. */
static void test_run_net_egress(void **state)
{
	(void)state;
	const char *argv[] = {"true", "--network", "host", NULL};
	const char *publish[] = {"8080:80", "127.0.0.2:8443:443", "0.0.0.0:9000:9000"};
	sbx_config cfg;
	defaults(&cfg, argv);
	cfg.net = SBX_NET_EGRESS;
	cfg.net_publish = publish;
	cfg.n_net_publish = 3;
	cfg.net_dns = "127.0.0.1:53";
	sbx_error err;
	assert_int_equal(sbx_oci_net_check("podman", &cfg, &err), 0);
	assert_int_equal(sbx_oci_net_check("docker", &cfg, &err), 0);
	sbx_strv a = {0};
	assert_int_equal(sbx_oci_args_run(&a, "podman", &cfg, &podman_host, "sbx-n", false), 0);
	assert_true(
	    has_pair(&a, "--network", "slirp4netns:allow_host_loopback=false,enable_ipv6=false"));
	assert_int_equal(count(&a, "--network"), 2); /* ours, and the command's argument */
	assert_true(has(&a, "--publish=127.0.0.1:8080:80"));
	assert_true(has(&a, "--publish=127.0.0.2:8443:443"));
	assert_true(has(&a, "--publish=0.0.0.0:9000:9000"));
	assert_true(has(&a, "--dns=127.0.0.1"));
	int img = find(&a, SBX_OCI_DEFAULT_IMAGE, 0);
	assert_true(find(&a, "--network", 0) < img);
	assert_true(find(&a, "--publish=127.0.0.1:8080:80", 0) < img);
	assert_true(find(&a, "--dns=127.0.0.1", 0) < img);
	sbx_strv_free(&a);

	cfg.net_dns = "[::1]";
	assert_int_equal(sbx_oci_args_run(&a, "docker", &cfg, &plain_host, "sbx-n", false), 0);
	assert_true(has_pair(&a, "--network", "bridge"));
	assert_true(has(&a, "--publish=127.0.0.1:8080:80"));
	assert_true(has(&a, "--dns=::1"));
	assert_false(has(&a, "--unsetenv-all"));
	sbx_strv_free(&a);

	/* None of it without egress: "none" has only lo. */
	cfg.net = SBX_NET_LOOPBACK;
	cfg.n_net_publish = 0;
	cfg.net_dns = NULL;
	assert_int_equal(sbx_oci_args_run(&a, "docker", &cfg, &plain_host, "sbx-n", false), 0);
	assert_true(has_pair(&a, "--network", "none"));
	sbx_strv_free(&a);
}

/* What the engines cannot do is refused with one line naming the option:
 * --allow (no allowlist in docker or podman), a DNS port other than 53. */
static void test_net_check_refusals(void **state)
{
	(void)state;
	const char *allow[] = {"pypi.org"};
	const char *engines[] = {"podman", "docker"};
	for (size_t e = 0; e < 2; e++) {
		sbx_config cfg;
		defaults(&cfg, NULL);
		cfg.net = SBX_NET_EGRESS;
		cfg.net_allow = allow;
		cfg.n_net_allow = 1;
		sbx_error err = {0};
		assert_int_equal(sbx_oci_net_check(engines[e], &cfg, &err), -SBX_E_INVALID);
		assert_int_equal(err.code, SBX_E_INVALID);
		assert_non_null(strstr(err.msg, "--allow"));
		assert_non_null(strstr(err.msg, engines[e]));
		assert_null(strchr(err.msg, '\n'));
		sbx_strv a = {0};
		assert_int_equal(sbx_oci_args_run(&a, engines[e], &cfg, &plain_host, "x", true),
				 -1);
		sbx_strv_free(&a);
		cfg.n_net_allow = 0;

		static const char *const bad_port[] = {"127.0.0.1:5353", "[::1]:54", "1.2.3.4:1"};
		for (size_t i = 0; i < ARRAY_LEN(bad_port); i++) {
			cfg.net_dns = bad_port[i];
			assert_int_equal(sbx_oci_net_check(engines[e], &cfg, &err), -SBX_E_INVALID);
			assert_non_null(strstr(err.msg, "port other than 53"));
			assert_int_equal(
			    sbx_oci_args_run(&a, engines[e], &cfg, &plain_host, "x", true), -1);
			sbx_strv_free(&a);
		}
		static const char *const bad_dns[] = {
		    "", "[::1", "[::1]x", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "[]:53", ":53"};
		for (size_t i = 0; i < ARRAY_LEN(bad_dns); i++) {
			cfg.net_dns = bad_dns[i];
			if (sbx_oci_net_check(engines[e], &cfg, &err) != -SBX_E_INVALID)
				fail_msg("--dns '%s' accepted", bad_dns[i]);
			assert_non_null(strstr(err.msg, "--dns"));
		}
		cfg.net_dns = "10.0.0.1:53"; /* port 53 given: fine */
		assert_int_equal(sbx_oci_net_check(engines[e], &cfg, &err), 0);
		cfg.net_dns = NULL;

		static const char *const bad_pub[] = {
		    "80",	":80",		"80:",	 "1:2:3:4",	    "127.0.0.1::80",
		    ":8080:80", "a:80",		"80:8a", "1.2.3.4:80.1:90", "::1:80:80",
		    "80 :80",	"127.0.0.1:80:"};
		for (size_t i = 0; i < ARRAY_LEN(bad_pub); i++) {
			const char *pub[] = {bad_pub[i]};
			cfg.net_publish = pub;
			cfg.n_net_publish = 1;
			if (sbx_oci_net_check(engines[e], &cfg, &err) != -SBX_E_INVALID)
				fail_msg("--publish '%s' accepted", bad_pub[i]);
			assert_non_null(strstr(err.msg, "--publish"));
			assert_int_equal(
			    sbx_oci_args_run(&a, engines[e], &cfg, &plain_host, "x", true), -1);
			sbx_strv_free(&a);
		}
		cfg.n_net_publish = 0;
		/* Not egress: nothing to check here (validation refuses the rest). */
		cfg.net = SBX_NET_NONE;
		cfg.net_allow = allow;
		cfg.n_net_allow = 1;
		assert_int_equal(sbx_oci_net_check(engines[e], &cfg, &err), 0);
	}
}

static void test_exec_and_sh(void **state)
{
	(void)state;
	char *env[] = {"A=1", "B=two words", NULL};
	const char *argv[] = {"ls", "-l", "$HOME", NULL};
	sbx_strv a = {0};
	assert_int_equal(sbx_oci_args_exec(&a, "podman", &podman_host, "sbx-b", env, "/w", argv),
			 0);
	int ex = find(&a, "exec", 0);
	assert_true(ex > 0 && has_pair(&a, "--runtime", "runc"));
	assert_string_equal(a.v[ex + 1], "-i");
	assert_true(has_pair(&a, "-e", "A=1"));
	assert_true(has_pair(&a, "-e", "B=two words"));
	assert_true(has_pair(&a, "-w", "/w"));
	int name = find(&a, "sbx-b", 0);
	assert_string_equal(a.v[name + 1], "/bin/sh");
	assert_string_equal(a.v[name + 2], "-c");
	assert_string_equal(a.v[name + 3], sbx_oci_wrap_script);
	assert_string_equal(a.v[name + 4], "sh");
	assert_string_equal(a.v[name + 5], "ls");
	assert_string_equal(a.v[name + 7], "$HOME"); /* never interpolated */
	assert_int_equal((size_t)name + 8, a.n);
	sbx_strv_free(&a);

	assert_int_equal(sbx_oci_args_exec(&a, "docker", &plain_host, "sbx-b", NULL, NULL, argv),
			 0);
	assert_false(has(&a, "-w"));
	assert_false(has(&a, "-e"));
	sbx_strv_free(&a);

	const char *args[] = {"/p a/th", "9", NULL};
	sbx_oci_args_sh(&a, "docker", &plain_host, "sbx-c", false, sbx_oci_read_script, args);
	assert_string_equal(a.v[1], "exec");
	assert_string_equal(a.v[2], "sbx-c");
	assert_string_equal(a.v[5], sbx_oci_read_script);
	assert_string_equal(a.v[7], "/p a/th");
	sbx_strv_free(&a);
	sbx_oci_args_sh(&a, "docker", &plain_host, "sbx-c", true, sbx_oci_write_script, args);
	assert_string_equal(a.v[2], "-i");
	sbx_strv_free(&a);
}

/* ---------------------------------------------------------------- helpers */

static void test_codes(void **state)
{
	(void)state;
	assert_int_equal(sbx_oci_code(W_EXITCODE(3, 0)), 3);
	assert_int_equal(sbx_oci_code(W_EXITCODE(0, SIGKILL)), 137);
	assert_int_equal(sbx_oci_signal_of(137), SIGKILL);
	assert_int_equal(sbx_oci_signal_of(143), SIGTERM);
	assert_int_equal(sbx_oci_signal_of(128), 0);
	assert_int_equal(sbx_oci_signal_of(125), 0);
	assert_int_equal(sbx_oci_signal_of(192), 64);
	assert_int_equal(sbx_oci_signal_of(193), 0);
	assert_int_equal(sbx_oci_signal_of(255), 0);
}

static void line(const char *in, const char *want)
{
	char out[128];
	sbx_oci_first_line(in, in ? strlen(in) : 0, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_first_line(void **state)
{
	(void)state;
	line(NULL, "");
	line("", "");
	line("\n\n", "");
	line("Error: nope:latest: image not known\n", "nope:latest: image not known");
	line("  Error: a\nb\n", "a");
	line("docker: Error response from daemon: Conflict. The name is in use.\nSee 'docker run "
	     "--help'.\n",
	     "Conflict. The name is in use.");
	line("WARN[0000] cgroup thing\nError: real problem\n", "real problem");
	line("WARN[0000] only a warning\n", "WARN[0000] only a warning");
	line("time=\"x\" level=warning\nError: the one\n", "the one");
	line("tab\there\x01", "tab here");
	char small[8];
	sbx_oci_first_line("0123456789abcdef", 16, small, sizeof(small));
	assert_string_equal(small, "0123456");
	char s[] = " \t x y \n";
	assert_string_equal(sbx_oci_trim(s), "x y");
}

static void test_strv(void **state)
{
	(void)state;
	sbx_strv a = {0};
	for (int i = 0; i < 1000; i++)
		sbx_strv_addf(&a, "arg%d", i);
	assert_int_equal(a.n, 1000);
	assert_string_equal(a.v[999], "arg999");
	assert_null(a.v[1000]);
	sbx_strv_free(&a);
	assert_null(a.v);
	assert_int_equal(a.n, 0);
}

/* ---------------------------------------------------------------- scripts */

/* Run /bin/sh -c script sh args... with stdin from in (or /dev/null);
 * returns the exit code, stdout into out (NUL-terminated). */
static int sh(const char *script, const char *const *args, const char *in, char *out, size_t cap)
{
	char *argv[16] = {"/bin/sh", "-c", (char *)script, "sh"};
	int n = 4;
	for (; args && *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	int op[2], ip[2];
	assert_int_equal(pipe(op), 0);
	assert_int_equal(pipe(ip), 0);
	pid_t p = fork();
	if (p == 0) {
		dup2(ip[0], 0);
		dup2(op[1], 1);
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 2);
		close(ip[0]);
		close(ip[1]);
		close(op[0]);
		close(op[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	if (in)
		assert_int_equal(write(ip[1], in, strlen(in)), (ssize_t)strlen(in));
	close(ip[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(op[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(op[0]);
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_scripts(void **state)
{
	(void)state;
	char dir[] = "/tmp/sbx-unit-oci-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], out[4096];
	snprintf(path, sizeof(path), "%s/f 'q\" $x", dir);

	/* wrapper: marker on stderr, then exec'd command with its arguments
	 * as given; a missing command is 127 as native */
	const char *w1[] = {"printf", "%s|", "a b", "$HOME", "*", NULL};
	assert_int_equal(sh(sbx_oci_wrap_script, w1, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "a b|$HOME|*|");
	const char *w2[] = {"sbx-no-such-command", NULL};
	assert_int_equal(sh(sbx_oci_wrap_script, w2, NULL, out, sizeof(out)), 127);
	const char *w3[] = {"sh", "-c", "exit 7", NULL};
	assert_int_equal(sh(sbx_oci_wrap_script, w3, NULL, out, sizeof(out)), 7);

	/* write then read, with a path full of shell syntax */
	const char *wa[] = {path, "abcd1234", NULL};
	assert_int_equal(sh(sbx_oci_write_script, wa, "hello\n", out, sizeof(out)), 0);
	const char *ra[] = {path, "100", NULL};
	assert_int_equal(sh(sbx_oci_read_script, ra, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "hello\n");
	const char *small[] = {path, "5", NULL};
	assert_int_equal(sh(sbx_oci_read_script, small, NULL, out, sizeof(out)), 13);
	const char *exact[] = {path, "6", NULL};
	assert_int_equal(sh(sbx_oci_read_script, exact, NULL, out, sizeof(out)), 0);
	const char *d[] = {dir, "100", NULL};
	assert_int_equal(sh(sbx_oci_read_script, d, NULL, out, sizeof(out)), 11);
	const char *dw[] = {dir, "x", NULL};
	assert_int_equal(sh(sbx_oci_write_script, dw, "x", out, sizeof(out)), 11);
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	const char *m[] = {missing, "100", NULL};
	assert_int_equal(sh(sbx_oci_read_script, m, NULL, out, sizeof(out)), 10);
	const char *dn[] = {"/dev/null", "100", NULL};
	assert_int_equal(sh(sbx_oci_read_script, dn, NULL, out, sizeof(out)), 12);
	snprintf(missing, sizeof(missing), "%s/no/dir/f", dir);
	const char *mw[] = {missing, "x", NULL};
	assert_int_equal(sh(sbx_oci_write_script, mw, "x", out, sizeof(out)), 14);
	/* replace: no temp file left */
	assert_int_equal(sh(sbx_oci_write_script, wa, "2", out, sizeof(out)), 0);
	const char *ls[] = {dir, NULL};
	assert_int_equal(sh("ls -A \"$1\" | wc -l", ls, NULL, out, sizeof(out)), 0);
	assert_int_equal(atoi(out), 1);

	/* kill: a process group and its session; a bogus pid is harmless */
	const char *k[] = {"999999", NULL};
	assert_int_equal(sh(sbx_oci_kill_script, k, NULL, out, sizeof(out)), 0);
	pid_t p = fork();
	if (p == 0) {
		setsid();
		execl("/bin/sh", "sh", "-c", "sleep 100 & sleep 100 & wait", (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)p);
	const char *kp[] = {pid, NULL};
	assert_int_equal(sh(sbx_oci_kill_script, kp, NULL, out, sizeof(out)), 0);
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* its sleeps are gone too (their session): nothing with p's sid */
	usleep(50000);
	snprintf(out, sizeof(out),
		 "for f in /proc/[0-9]*/stat; do { read -r l <\"$f\"; } 2>/dev/null || "
		 "continue; set -- ${l##*) }; [ \"$1\" != Z ] && [ \"$4\" = %d ] && echo \"$l\"; "
		 "done; :",
		 (int)p);
	char res[256];
	assert_int_equal(sh(out, NULL, NULL, res, sizeof(res)), 0);
	assert_string_equal(res, "");

	const char *rm[] = {dir, NULL};
	sh("rm -rf -- \"$1\"", rm, NULL, out, sizeof(out));
}

/* ---------------------------------------------------------------- client */

static int client(const char *script, uint64_t limit, uint64_t timeout_ms, int cancel,
		  sbx_oci_client *c)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	sbx_oci_io io = {.stdout_fd = -1,
			 .stderr_fd = -1,
			 .capture = true,
			 .limit = limit,
			 .timeout_ms = timeout_ms,
			 .cancel_fd = cancel};
	sbx_oci_client_attach(c, &io, sbx_now_ns(), NULL, NULL);
	sbx_error e = {0};
	return sbx_oci_client_run(c, argv, -1, "testengine", &e);
}

static void test_client_marker(void **state)
{
	(void)state;
	sbx_oci_client c;
	assert_int_equal(client("printf 'Trying to pull\\nWARN x\\n' >&2; printf '" SBX_OCI_MARK
				"42\\n' >&2; echo out; printf 'err\\n' >&2; exit 3",
				1000, 0, -1, &c),
			 0);
	assert_true(c.l.reaped && c.seen_mark);
	assert_int_equal(c.mark_pid, 42);
	assert_int_equal(sbx_oci_code(c.l.wstatus), 3);
	assert_string_equal(c.l.out.buf.data, "out\n");
	assert_string_equal(c.l.err.buf.data, "err\n");
	assert_string_equal(c.held.data, "Trying to pull\nWARN x\n");
	sbx_oci_client_free(&c);

	/* split across writes; the marker must start a line */
	assert_int_equal(client("printf 'x " SBX_OCI_MARK "1\\nsbx-oci-' >&2; sleep 0.05; "
				"printf 'started 7\\nrest' >&2",
				1000, 0, -1, &c),
			 0);
	assert_true(c.seen_mark);
	assert_int_equal(c.mark_pid, 7);
	assert_string_equal(c.l.err.buf.data, "rest");
	sbx_oci_client_free(&c);

	/* never started: everything is held, nothing reaches the stream */
	assert_int_equal(client("echo 'Error: image not known' >&2; exit 125", 1000, 0, -1, &c), 0);
	assert_false(c.seen_mark);
	assert_int_equal(sbx_oci_code(c.l.wstatus), 125);
	assert_null(c.l.err.buf.data);
	char l[100];
	sbx_oci_first_line(c.held.data, c.held.len, l, sizeof(l));
	assert_string_equal(l, "image not known");
	sbx_oci_client_free(&c);

	/* lots of engine noise: the first lines are kept, memory is bounded */
	assert_int_equal(client("i=0; while [ $i -lt 3000 ]; do echo \"Error: noise $i\" >&2; "
				"i=$((i+1)); done; printf '" SBX_OCI_MARK "5\\n' >&2; echo e >&2",
				1000, 0, -1, &c),
			 0);
	assert_true(c.seen_mark);
	assert_true(c.held.len <= 20000);
	assert_int_equal(strncmp(c.held.data, "Error: noise 0\n", 15), 0);
	assert_string_equal(c.l.err.buf.data, "e\n");
	sbx_oci_client_free(&c);
}

static void test_client_limits(void **state)
{
	(void)state;
	sbx_oci_client c;
	/* output cap: the rest is drained, the client is not blocked */
	assert_int_equal(
	    client("printf '" SBX_OCI_MARK "1\\n' >&2; head -c 300000 /dev/zero", 1000, 0, -1, &c),
	    0);
	assert_int_equal(c.l.out.buf.len, 1000);
	assert_true(c.l.out.truncated);
	assert_int_equal(sbx_oci_code(c.l.wstatus), 0);
	sbx_oci_client_free(&c);

	/* timeout without a kill action: the client is SIGKILLed */
	uint64_t t0 = sbx_now_ns();
	assert_int_equal(client("exec sleep 10", 1000, 200, -1, &c), 0);
	assert_true(c.l.timed_out);
	assert_int_equal(sbx_oci_code(c.l.wstatus), 137);
	assert_true(sbx_now_ns() - t0 < 3000000000ull);
	sbx_oci_client_free(&c);

	/* cancellation */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(client("exec sleep 10", 1000, 0, p[0], &c), 0);
	assert_true(c.l.cancelled && !c.l.timed_out);
	assert_int_equal(sbx_oci_code(c.l.wstatus), 137);
	sbx_oci_client_free(&c);
	close(p[0]);
	close(p[1]);

	/* a missing client binary is an error, not a result */
	char *argv[] = {"sbx-no-such-engine", NULL};
	sbx_oci_client c2;
	sbx_oci_client_init(&c2);
	c2.l.out.limit = c2.l.err.limit = 1;
	sbx_error e = {0};
	assert_true(sbx_oci_client_run(&c2, argv, -1, "sbx-no-such-engine", &e) < 0);
	assert_non_null(strstr(e.msg, "not found in PATH"));
	sbx_oci_client_free(&c2);
}

static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_client_fds(void **state)
{
	(void)state;
	/* nothing but stdio reaches the client, whatever this process has open */
	int leak = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
	assert_true(leak >= 3);
	sbx_oci_client c;
	assert_int_equal(
	    client("printf '" SBX_OCI_MARK "1\\n' >&2; ls /proc/self/fd | wc -l", 100, 0, -1, &c),
	    0);
	/* 0, 1, 2 and the fd ls reads the directory with */
	assert_int_equal(atoi(c.l.out.buf.data), 4);
	sbx_oci_client_free(&c);
	close(leak);

	/* and nothing stays open or unreaped here, whichever way a client ends */
	int before = count_fds();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(client("exit 0", 10, 0, -1, &c), 0);
		sbx_oci_client_free(&c);
		assert_int_equal(client("exec sleep 5", 10, 50, -1, &c), 0);
		sbx_oci_client_free(&c);
		sbx_oci_out o;
		char *argv[] = {"/bin/echo", "hi", NULL};
		assert_int_equal(sbx_oci_cmd("echo", argv, -1, 100, 1000, &o, NULL), 0);
		assert_string_equal(o.out.data, "hi\n");
		sbx_oci_out_free(&o);
	}
	assert_int_equal(count_fds(), before);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* ECHILD: no child left */
	assert_int_equal(errno, ECHILD);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_defaults_podman),
		cmocka_unit_test(test_run_docker_and_limits),
		cmocka_unit_test(test_run_detached),
		cmocka_unit_test(test_run_writable_root),
		cmocka_unit_test(test_run_net_egress),
		cmocka_unit_test(test_net_check_refusals),
		cmocka_unit_test(test_exec_and_sh),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_client_marker),
		cmocka_unit_test(test_client_limits),
		cmocka_unit_test(test_client_fds),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
