/* Unit tests: src/dockerapi/ports.c (HostConfig.PortBindings into
 * --publish entries, every value of the client's checked; the JSON of
 * inspect and list) through dapi_spec_parse, as a create body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dockerapi/engine.h"
#include "dockerapi/ports.h"

/* A create body with HostConfig.PortBindings = pb. */
static int parse_pb(const char *pb, dapi_spec *s, sbx_error *err)
{
	char body[8192];
	int n = snprintf(body, sizeof(body),
			 "{\"Image\":\"x\",\"ExposedPorts\":{\"8000/tcp\":{}},"
			 "\"HostConfig\":{\"PortBindings\":%s}}",
			 pb);
	assert_true(n > 0 && (size_t)n < sizeof(body));
	memset(err, 0, sizeof(*err));
	return dapi_spec_parse(body, (size_t)n, s, err);
}

static void test_cli_bindings(void **state)
{
	(void)state;
	dapi_spec s;
	sbx_error err;
	/* docker run -p 127.0.0.1:18000:8000 -p 18001:8000 -p 0.0.0.0:19000:9000 */
	assert_int_equal(parse_pb("{\"8000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":"
				  "\"18000\"},{\"HostIp\":\"\",\"HostPort\":\"18001\"}],"
				  "\"9000\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"19000\"}]}",
				  &s, &err),
			 0);
	assert_int_equal(s.n_ports, 3);
	assert_string_equal(s.publish[0], "127.0.0.1:18000:8000");
	assert_string_equal(s.publish[1], "127.0.0.1:18001:8000");
	assert_string_equal(s.publish[2], "0.0.0.0:19000:9000");
	assert_null(s.publish[3]);
	assert_string_equal(s.ports[1].host_ip, "");
	assert_string_equal(s.ports[1].bound_ip, "127.0.0.1");

	sbx_buf b = {0};
	dapi_ports_json(&b, s.ports, s.n_ports, false);
	assert_string_equal(b.data,
			    "{\"8000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"18000\"},"
			    "{\"HostIp\":\"\",\"HostPort\":\"18001\"}],"
			    "\"9000/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"19000\"}]}");
	sbx_buf_free(&b);
	memset(&b, 0, sizeof(b));
	dapi_ports_json(&b, s.ports, s.n_ports, true);
	assert_non_null(strstr(b.data, "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"18001\"}"));
	sbx_buf_free(&b);
	memset(&b, 0, sizeof(b));
	dapi_ports_list_json(&b, s.ports, 1);
	assert_string_equal(b.data, "[{\"IP\":\"127.0.0.1\",\"PrivatePort\":8000,\"PublicPort\":"
				    "18000,\"Type\":\"tcp\"}]");
	sbx_buf_free(&b);
	dapi_spec_free(&s);
}

/* HostPort "" (or none): a free port of the host, picked once. */
static void test_random(void **state)
{
	(void)state;
	dapi_spec s;
	sbx_error err;
	assert_int_equal(parse_pb("{\"8000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"},"
				  "{\"HostIp\":\"127.0.0.1\"},{\"HostPort\":\"18000\"}]}",
				  &s, &err),
			 0);
	assert_int_equal(s.n_ports, 3);
	assert_true(s.ports[0].random && s.ports[1].random && !s.ports[2].random);
	assert_int_equal(s.ports[0].host_port, 0);
	assert_int_equal(dapi_ports_pick(s.ports, s.n_ports, &err), 0);
	assert_true(s.ports[0].host_port > 0 && s.ports[1].host_port > 0);
	assert_int_not_equal(s.ports[0].host_port, s.ports[1].host_port);
	assert_int_equal(s.ports[2].host_port, 18000);
	char want[48];
	snprintf(want, sizeof(want), "127.0.0.1:%u:8000", s.ports[0].host_port);
	assert_string_equal(s.publish[0], want);
	/* picked once: a second call keeps them */
	uint16_t first = s.ports[0].host_port;
	assert_int_equal(dapi_ports_pick(s.ports, s.n_ports, &err), 0);
	assert_int_equal(s.ports[0].host_port, first);
	/* as asked ("" kept) and as bound (the port) */
	sbx_buf b = {0};
	dapi_ports_json(&b, s.ports, 1, false);
	assert_string_equal(b.data, "{\"8000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
	sbx_buf_free(&b);
	memset(&b, 0, sizeof(b));
	dapi_ports_json(&b, s.ports, 1, true);
	snprintf(want, sizeof(want), "\"HostPort\":\"%u\"", first);
	assert_non_null(strstr(b.data, want));
	sbx_buf_free(&b);
	dapi_spec_free(&s);
	/* an address this host does not have (TEST-NET-3): refused when
	 * picking */
	assert_int_equal(parse_pb("{\"8000\":[{\"HostIp\":\"203.0.113.254\"}]}", &s, &err), 0);
	assert_int_equal(dapi_ports_pick(s.ports, s.n_ports, &err), -SBX_E_INVALID);
	assert_non_null(strstr(err.msg, "203.0.113.254"));
	dapi_spec_free(&s);
}

static void test_none(void **state)
{
	(void)state;
	const char *none[] = {"{}", "null", "{\"8000/tcp\":null}", "{\"8000/tcp\":[]}"};
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++) {
		dapi_spec s;
		sbx_error err;
		assert_int_equal(parse_pb(none[i], &s, &err), 0);
		assert_int_equal(s.n_ports, 0);
		assert_null(s.publish);
		sbx_buf b = {0};
		dapi_ports_json(&b, s.ports, s.n_ports, true);
		assert_string_equal(b.data, "{}");
		sbx_buf_free(&b);
		dapi_spec_free(&s);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *pb, *msg;
	} bad[] = {
	    {"{\"8000/udp\":[{\"HostPort\":\"1\"}]}", "only TCP"},
	    {"{\"8000/sctp\":[{\"HostPort\":\"1\"}]}", "only TCP"},
	    {"{\"8000/tcp\":[{\"HostPort\":\"18000-18010\"}]}", "range"},
	    {"{\"8000/tcp\":[{\"HostPort\":\"0\"}]}", "invalid host port"},
	    {"{\"8000/tcp\":[{\"HostPort\":\"65536\"}]}", "invalid host port"},
	    {"{\"8000/tcp\":[{\"HostPort\":\"+80\"}]}", "invalid host port"},
	    {"{\"8000/tcp\":[{\"HostPort\":\" 80\"}]}", "invalid host port"},
	    {"{\"8000/tcp\":[{\"HostPort\":\"000080\"}]}", "invalid host port"},
	    {"{\"8000/tcp\":[{\"HostPort\":18000}]}", "not a string"},
	    {"{\"8000/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"1\"}]}", "IPv4"},
	    {"{\"8000/tcp\":[{\"HostIp\":\"1.2.3\",\"HostPort\":\"1\"}]}", "invalid host address"},
	    {"{\"8000/tcp\":[{\"HostIp\":\"localhost\",\"HostPort\":\"1\"}]}",
	     "invalid host address"},
	    {"{\"8000/tcp\":[{\"HostIp\":\"127.0.0.1\\u0000x\",\"HostPort\":\"1\"}]}",
	     "not a string"},
	    {"{\"8000/tcp\":[{\"HostPort\":\"1\",\"Proto\":\"x\"}]}", "unknown field"},
	    {"{\"8000/tcp\":[\"1\"]}", "not an object"},
	    {"{\"8000/tcp\":{\"HostPort\":\"1\"}}", "not an array"},
	    {"{\"0/tcp\":[{\"HostPort\":\"1\"}]}", "not PORT"},
	    {"{\"x/tcp\":[{\"HostPort\":\"1\"}]}", "not PORT"},
	    {"{\"/tcp\":[{\"HostPort\":\"1\"}]}", "not PORT"},
	    {"[]", "not an object"},
	    {"{\"8000\":[{\"HostPort\":\"1\"}],\"8001\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":"
	     "\"1\"}]}",
	     "bound twice"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		dapi_spec s;
		sbx_error err;
		int r = parse_pb(bad[i].pb, &s, &err);
		if (r != -SBX_E_INVALID || !strstr(err.msg, bad[i].msg))
			fail_msg("%s: r=%d msg=%s (want %s)", bad[i].pb, r, err.msg, bad[i].msg);
		assert_non_null(strstr(err.msg, "PortBindings"));
		dapi_spec_free(&s);
	}
}

/* At most DAPI_PORTS_MAX bindings: 64 pass, 65 are refused. */
static void test_cap(void **state)
{
	(void)state;
	for (int n = DAPI_PORTS_MAX; n <= DAPI_PORTS_MAX + 1; n++) {
		char pb[6000] = "{\"8000/tcp\":[";
		for (int i = 0; i < n; i++) {
			char one[64];
			snprintf(one, sizeof(one), "%s{\"HostPort\":\"%d\"}", i ? "," : "",
				 20000 + i);
			strcat(pb, one);
		}
		strcat(pb, "]}");
		dapi_spec s;
		sbx_error err;
		int r = parse_pb(pb, &s, &err);
		if (n == DAPI_PORTS_MAX) {
			assert_int_equal(r, 0);
			assert_int_equal(s.n_ports, DAPI_PORTS_MAX);
		} else {
			assert_int_equal(r, -SBX_E_INVALID);
			assert_non_null(strstr(err.msg, "more than"));
		}
		dapi_spec_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_bindings), cmocka_unit_test(test_random),
	    cmocka_unit_test(test_none),	 cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
