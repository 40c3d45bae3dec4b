/* Unit tests: src/dockerapi/spec.c (POST /containers/create bodies: the
 * honoured fields, Docker's zero values, refusals) and proc.c's pure
 * helpers (the python3 -c fast path, the terminal's line ends). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dockerapi/engine.h"
#include "dockerapi/proc.h"

static int parse(const char *json, dapi_spec *s, sbx_error *err)
{
	return dapi_spec_parse(json, strlen(json), s, err);
}

/* The body docker CLI 20.10 sends for
 * `docker run --rm --network none -m 256m --cpus 0.5 --pids-limit 64
 *  -v /srv:/workspace:ro sbx-python python3 -c pass` (abridged: every
 * other field with its zero value, as the CLI sends them). */
static const char cli_body[] =
    "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"
    "\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,"
    "\"StdinOnce\":false,\"Env\":[],\"Cmd\":[\"python3\",\"-c\",\"pass\"],"
    "\"Image\":\"sbx-python\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,"
    "\"OnBuild\":null,\"Labels\":{\"a\":\"b\"},"
    "\"HostConfig\":{\"Binds\":[\"/srv:/workspace:ro\"],\"ContainerIDFile\":\"\","
    "\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"none\","
    "\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},"
    "\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"CapAdd\":null,"
    "\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],"
    "\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,"
    "\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,"
    "\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\","
    "\"ShmSize\":0,\"ConsoleSize\":[0,0],\"Isolation\":\"\",\"CpuShares\":0,"
    "\"Memory\":268435456,\"NanoCpus\":500000000,\"CgroupParent\":\"\","
    "\"BlkioWeight\":0,\"MemorySwap\":-1,\"MemorySwappiness\":-1,\"PidsLimit\":64,"
    "\"OomKillDisable\":false,\"Ulimits\":null,\"MaskedPaths\":null,"
    "\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}";

static void test_docker_cli_body(void **state)
{
	(void)state;
	dapi_spec s;
	sbx_error err;
	assert_int_equal(parse(cli_body, &s, &err), 0);
	assert_string_equal(s.image, "sbx-python");
	assert_string_equal(s.cmd[0], "python3");
	assert_string_equal(s.cmd[2], "pass");
	assert_null(s.cmd[3]);
	assert_false(s.entrypoint_set);
	assert_int_equal(s.memory, 256ull << 20);
	assert_int_equal(s.cpu_millis, 500);
	assert_int_equal(s.pids, 64);
	assert_string_equal(s.network_mode, "none");
	assert_string_equal(s.bind_src, "/srv");
	assert_true(s.bind_ro);
	assert_true(s.auto_remove);
	assert_int_equal(s.n_labels, 1);
	assert_string_equal(s.label_keys[0], "a");
	assert_string_equal(s.label_vals[0], "b");
	dapi_spec_free(&s);
}

/* A field outside what sbx honours: its zero value passes, any other
 * value is refused naming it. */
static void test_zero_values_only(void **state)
{
	(void)state;
	dapi_spec s;
	sbx_error err;
	assert_int_equal(parse("{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":false,"
			       "\"CpuShares\":0,\"Devices\":[],\"Sysctls\":{\"a\":{}}}}",
			       &s, &err),
			 0);
	dapi_spec_free(&s);
	assert_int_equal(parse("{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}", &s, &err),
			 -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "HostConfig.Privileged"));
	dapi_spec_free(&s);
	assert_int_equal(
	    parse("{\"Image\":\"x\",\"ExposedPorts\":{\"80/tcp\":{}},\"Foo\":1}", &s, &err),
	    -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "Foo"));
	dapi_spec_free(&s);
	assert_int_equal(parse("{\"Image\":\"x\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":"
			       "\"always\"}}}",
			       &s, &err),
			 -SBX_E_INVALID);
	dapi_spec_free(&s);
}

static void test_refusals(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"Image\":5}",
	    "{\"Cmd\":[\"x\"]}",					   /* no Image */
	    "{\"Image\":\"x\",\"Cmd\":[1]}",				   /* not strings */
	    "{\"Image\":\"x\",\"Env\":[\"NOEQUALS\"]}",			   /* not NAME=VALUE */
	    "{\"Image\":\"x\",\"User\":\"1000\"}",			   /* root only */
	    "{\"Image\":\"x\",\"WorkingDir\":\"rel\"}",			   /* absolute only */
	    "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[\"/a:/data\"]}}", /* /workspace only */
	    "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[\"vol:/workspace\"]}}",
	    "{\"Image\":\"x\",\"HostConfig\":{\"Binds\":[\"/a:/workspace:shared\"]}}",
	    "{\"Image\":\"x\",\"HostConfig\":{\"Tmpfs\":{\"/data\":\"\"}}}",
	    "{\"Image\":\"x\",\"HostConfig\":{\"Memory\":1000}}", /* under 6 MB */
	    "{\"Image\":\"x\",\"HostConfig\":{\"Memory\":104857600,\"MemorySwap\":1048576}}",
	    "{\"Image\":\"x\",\"HostConfig\":{\"NanoCpus\":1,\"CpuQuota\":1000}}",
	    "{\"Image\":\"x\",\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"]}}",
	    "{\"Image\":\"x\",\"Image\":\"y\"}", /* duplicate key */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dapi_spec s;
		sbx_error err;
		int r = parse(bad[i], &s, &err);
		if (r != -SBX_E_INVALID)
			fail_msg("accepted or wrong error (%d): %s", r, bad[i]);
		assert_true(strlen(err.msg) > 0);
		dapi_spec_free(&s);
	}
}

static void test_limits_and_mounts(void **state)
{
	(void)state;
	dapi_spec s;
	sbx_error err;
	/* CpuQuota/CpuPeriod: 150000/100000 is 1.5 CPUs; Tmpfs /tmp size */
	assert_int_equal(
	    parse("{\"Image\":\"x\",\"Entrypoint\":\"sh\",\"HostConfig\":{"
		  "\"CpuQuota\":150000,\"CpuPeriod\":100000,\"PidsLimit\":-1,"
		  "\"Tmpfs\":{\"/tmp\":\"rw,size=8m,mode=1777\"},\"ReadonlyRootfs\":true,"
		  "\"Binds\":[\"/w/:/workspace/:rw,z\"]}}",
		  &s, &err),
	    0);
	assert_int_equal(s.cpu_millis, 1500);
	assert_int_equal(s.pids, 0); /* -1: the server's default */
	assert_int_equal(s.tmp_size, 8ull << 20);
	assert_true(s.readonly_root);
	assert_string_equal(s.bind_src, "/w/");
	assert_false(s.bind_ro);
	/* a string Entrypoint is a one-element vector and replaces the image's */
	assert_true(s.entrypoint_set);
	assert_string_equal(s.entrypoint[0], "sh");
	assert_null(s.entrypoint[1]);
	dapi_spec_free(&s);
	/* NanoCpus rounds up to a thousandth; NetworkDisabled is none */
	assert_int_equal(parse("{\"Image\":\"x\",\"NetworkDisabled\":true,\"HostConfig\":{"
			       "\"NanoCpus\":1}}",
			       &s, &err),
			 0);
	assert_int_equal(s.cpu_millis, 1);
	assert_string_equal(s.network_mode, "none");
	dapi_spec_free(&s);
}

static void test_python_code(void **state)
{
	(void)state;
	const char *a1[] = {"python3", "-c", "print(1)", "x", NULL};
	const char *a2[] = {"/usr/bin/python3", "-c", "pass", NULL};
	const char *a3[] = {"python3", "script.py", NULL};
	const char *a4[] = {"python3", "-c", NULL};
	const char *a5[] = {"perl", "-c", "1", NULL};
	assert_string_equal(dapi_python_code(a1), "print(1)");
	assert_string_equal(dapi_python_code(a2), "pass");
	assert_null(dapi_python_code(a3));
	assert_null(dapi_python_code(a4));
	assert_null(dapi_python_code(a5));
	assert_null(dapi_python_code(NULL));
}

static void test_onlcr(void **state)
{
	(void)state;
	char out[64];
	size_t n = dapi_onlcr("a\nb\r\nc\n", 7, out);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "a\r\nb\r\nc\r\n", 9);
	assert_int_equal(dapi_onlcr("", 0, out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_cli_body), cmocka_unit_test(test_zero_values_only),
	    cmocka_unit_test(test_refusals),	    cmocka_unit_test(test_limits_and_mounts),
	    cmocka_unit_test(test_python_code),	    cmocka_unit_test(test_onlcr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
