# shellcheck shell=bash
# dockerapi: `sbx serve --docker-api SOCK` (issue 11) driven by real clients
# nobody here wrote: dockerode (npm, pinned in tests/dockerapi/package-
# lock.json) running the flows of tests/dockerapi/*.js, and Debian's docker
# CLI (tests/dockerapi/cli.sh). The same tests pass against a real dockerd
# (tests/dockerapi/run-against-dockerd.sh) but for the documented places
# where sbx is meant to differ.
#
# Each test starts its own server on $T/d.sock with sbx_start (so the
# harness stops it however the test ends), with SBX_STATE_DIR/SBX_RUN_DIR
# in $T, and stops it with SIGTERM at its end: it must exit 0, and the leak
# check must find nothing of its containers. The first test that needs it
# installs the npm packages (npm ci, skipped when node_modules already
# matches the lock file); the outcome is kept for the run in $H.

DAPI_DIR=$REPO/tests/dockerapi

# dapi_npm: node and the pinned packages, once per run.
dapi_npm() {
	command -v node >/dev/null || skip "node is not installed (make deps installs nodejs)"
	command -v npm >/dev/null || skip "npm is not installed (make deps installs it)"
	if [ ! -e "$H/dapi-npm" ]; then
		local out
		if (cd "$DAPI_DIR" && timeout 60 npm ls --all >/dev/null 2>&1); then
			echo ok >"$H/dapi-npm"
		elif out=$(cd "$DAPI_DIR" && timeout 600 npm ci --no-audit --no-fund --ignore-scripts 2>&1); then
			echo ok >"$H/dapi-npm"
		else
			echo "npm ci in tests/dockerapi failed: $(echo "$out" | grep -v '^npm warn' | tail -n 3 | tr '\n' ' ')" >"$H/dapi-npm"
		fi
	fi
	[ "$(cat "$H/dapi-npm")" = ok ] || fail "$(cat "$H/dapi-npm")"
}

# dapi_up [serve options...]: start the server on $T/d.sock (DAPI_SOCK);
# wait (60 s) until the socket answers GET /_ping; it must be 0600 root
# (0660 with --group).
dapi_up() {
	local end
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	DAPI_SOCK=$T/d.sock
	# Loaded images live under $T: a sandbox's root needs to reach them.
	chmod 755 "$T"
	on_exit dapi_log
	sbx_start dapi serve --docker-api "$DAPI_SOCK" "$@"
	end=$(($(now_us) + 60000000))
	until [ -S "$DAPI_SOCK" ] && dapi_ping; do
		sbx_running dapi ||
			fail "the server exited with $(cat "$T/.runs/dapi.rc") before serving: $(head -c 600 "$T/.runs/dapi.err")"
		(($(now_us) > end)) && fail "the server did not answer GET /_ping on $DAPI_SOCK within 60 s"
		sleep 0.05
	done
}

# dapi_ping: GET /_ping answers 200 OK (node's http, 5 s).
dapi_ping() {
	timeout -k 1 5 node -e '
		const r = require("http").request({ socketPath: process.argv[1], path: "/_ping" }, (res) => {
			let b = ""; res.on("data", (d) => b += d);
			res.on("end", () => process.exit(res.statusCode === 200 && b === "OK" ? 0 : 1));
		});
		r.on("error", () => process.exit(1)); r.end();' "$DAPI_SOCK" 2>/dev/null
}

# dapi_log: the server's exit status and stderr into the details (shown
# only if the test fails).
dapi_log() {
	local f=$T/.runs/dapi.err
	[ -e "$f" ] || return 0
	{
		echo "--- the server: exit $(cat "$T/.runs/dapi.rc" 2>/dev/null || echo '(running)'), stderr (last 40 lines):"
		tail -n 40 "$f" | cat -v
	} >>"$T/.details"
}

# dapi_down: SIGTERM the server; it must exit 0 within 30 s and remove its
# socket.
dapi_down() {
	kill -TERM "$(sbx_pid dapi)" 2>/dev/null
	sbx_wait dapi 30
	expect_rc 0 "the server after SIGTERM"
	[ -e "$DAPI_SOCK" ] && fail "the server left its socket $DAPI_SOCK after SIGTERM"
	return 0
}

# dapi_flow NAME: run tests/dockerapi/NAME.js on the server; a failure
# shows its FAIL line (and its other lines in the details).
dapi_flow() {
	local out=$T/flow-$1.out rc msg
	DOCKER_SOCK=$DAPI_SOCK DAPI_PEER=sbx timeout -k 5 600 node "$DAPI_DIR/$1.js" >"$out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		{
			echo "--- node $1.js: exit $rc, its output (last 40 lines):"
			tail -n 40 "$out"
		} >>"$T/.details"
		msg=$(grep -m1 '^FAIL - ' "$out" | cut -c8-)
		fail "${msg:-node $1.js exited $rc}"
	fi
	note "$(grep -c '^ok - ' "$out") checks passed"
}

# dapi_cli PART: tests/dockerapi/cli.sh PART on the server.
dapi_cli() {
	local out=$T/cli-$1.out rc msg
	command -v docker >/dev/null || [ -x /usr/bin/docker ] || skip "the docker CLI is not installed (make deps installs docker.io)"
	DOCKER_SOCK=$DAPI_SOCK DAPI_PEER=sbx DAPI_TMP=$T timeout -k 5 900 "$DAPI_DIR/cli.sh" "$1" >"$out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		{
			echo "--- cli.sh $1: exit $rc, its output (last 40 lines):"
			tail -n 40 "$out"
		} >>"$T/.details"
		msg=$(grep -m1 '^FAIL - ' "$out" | cut -c8-)
		fail "${msg:-cli.sh $1 exited $rc}"
	fi
	note "$(grep -c '^ok - ' "$out") checks passed"
}

# one flow per test: its own server, stopped with SIGTERM at the end
dapi_flow_test() {
	dapi_npm
	dapi_up
	dapi_flow "$1"
	dapi_down
}

t_dockerapi_pool() { dapi_flow_test pool; }
t_dockerapi_getorcreate() { dapi_flow_test getorcreate; }
t_dockerapi_exec() { dapi_flow_test exec; }
t_dockerapi_archive() { dapi_flow_test archive; }
t_dockerapi_run() { dapi_flow_test run; }
t_dockerapi_oom() { dapi_flow_test oom; }
t_dockerapi_kill() { dapi_flow_test kill; }
t_dockerapi_remove() { dapi_flow_test remove; }

t_dockerapi_errors() {
	dapi_npm
	dapi_up
	local m
	m=$(stat -c '%a %U' "$DAPI_SOCK")
	[ "$m" = "600 root" ] || fail "the socket is '$m', want '600 root'"
	dapi_flow errors
	dapi_down
	# --group: 0660 and that group
	local g
	g=$(getent group adm | cut -d: -f1)
	[ -n "$g" ] || g=$(getent group daemon | cut -d: -f1)
	[ -n "$g" ] || fail "no group adm nor daemon on this host"
	dapi_up --group "$g"
	m=$(stat -c '%a %U %G' "$DAPI_SOCK")
	[ "$m" = "660 root $g" ] || fail "with --group $g the socket is '$m', want '660 root $g'"
	dapi_down
}

dapi_cli_test() {
	dapi_npm
	dapi_up
	dapi_cli "$1"
	dapi_down
}

t_dockerapi_cli_run() { dapi_cli_test run; }
t_dockerapi_cli_lifecycle() { dapi_cli_test lifecycle; }
t_dockerapi_cli_load() { dapi_cli_test load; }
t_dockerapi_isolation() { dapi_cli_test isolation; }

# kill -9 of the server while containers run (one busy in an exec): `sbx
# cleanup` must leave nothing (the harness's leak check after the test).
t_dockerapi_kill9() {
	dapi_npm
	dapi_up
	local mark out
	mark=$(new_mark)
	out=$T/k9.out
	DOCKER_SOCK=$DAPI_SOCK timeout -k 5 120 node -e '
		const L = require(process.argv[1] + "/lib.js");
		const mark = process.argv[2];
		L.main("kill9", async () => {
			for (let i = 0; i < 3; i++) {
				const c = await L.create({ Cmd: ["sh", "-c", "sleep 1000", mark + "-" + i] });
				await L.t(c.start(), "start");
			}
			const c = await L.create({ Cmd: ["sleep", "infinity"] });
			await L.t(c.start(), "start");
			const ex = await L.t(c.exec({ Cmd: ["sh", "-c", "sleep 1000", mark + "-exec"], AttachStdout: true }), "exec");
			await L.t(ex.start({ hijack: true, stdin: false }), "exec start");
			L.ok("3 containers and an exec running");
			process.exit(0); // leave them running: no clean-up
		});' "$DAPI_DIR" "$mark" >"$out" 2>&1 || {
		detail "$(cat "$out")"
		fail "could not start the containers: $(grep -m1 '^FAIL' "$out")"
	}
	local end n
	end=$(($(now_us) + 20000000))
	until [ "$(mark_pids "$mark" | wc -l)" -ge 4 ]; do
		# shellcheck disable=SC2046 # pids, one word each
		(($(now_us) > end)) && fail "the 4 processes carrying $mark are not all seen from the host: $(describe_pids $(mark_pids "$mark") | tr '\n' ';')"
		sleep 0.05
	done
	kill -KILL "$(sbx_pid dapi)"
	sbx_wait dapi 10
	[ "$RC" = 137 ] || fail "the server killed with -9 exited $RC"
	run_sbx cleanup
	expect_rc 0 "sbx cleanup after kill -9 of the server"
	# shellcheck disable=SC2046 # pids, one word each
	wait_no_mark "$mark" 10 || fail "processes left after kill -9 and sbx cleanup: $(describe_pids $(mark_pids "$mark") | tr '\n' ';')"
	n=$(mark_pids "$mark" | wc -l)
	note "sbx cleanup: $(head -n 1 "$T/out"); $n processes left"
}

# ---- issue 12: the network (sbx serve --net egress)

# Published ports through dockerode (tests/dockerapi/ports.js) and through
# the docker CLI (cli.sh ports): a python server inside reached from the
# host on 127.0.0.1, inspect/port/ps, refusals, the port free after rm -f.
t_dockerapi_ports() {
	dapi_npm
	dapi_up --net egress
	dapi_flow ports
	dapi_down
}

t_dockerapi_cli_ports() {
	dapi_npm
	dapi_up --net egress
	dapi_cli ports
	dapi_down
}

# dapi_docker ARGS...: the docker CLI on the server (60 s); stdout in
# $T/dout, stderr in $T/derr, status in RC.
dapi_docker() {
	command -v docker >/dev/null || skip "the docker CLI is not installed (make deps installs docker.io)"
	mkdir -p "$T/dcfg"
	DOCKER_HOST=unix://$DAPI_SOCK DOCKER_CONFIG=$T/dcfg timeout -k 5 60 docker "$@" >"$T/dout" 2>"$T/derr" </dev/null
	RC=$?
}

# The server's --allow reaches its containers: with --allow
# 127.0.0.1:PORT a container fetches a page of the host's loopback at
# 10.0.2.2:PORT, and another listening port of the host's loopback is
# refused at once; --network none reaches neither. Without --net egress
# port bindings are refused, and --allow alone does not start.
t_dockerapi_egress_allow() {
	dapi_npm
	local tok lout lpid p1 p2 i
	tok=tok-$(new_mark)
	lout=$T/listener.out
	# two HTTP servers on the host's loopback answering tok (120 s at most)
	timeout 120 python3 - "$tok" >"$lout" 2>&1 <<'PY' &
import http.server, sys, threading
tok = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(tok)))
        self.end_headers()
        self.wfile.write(tok)
    def log_message(self, *a):
        pass
srv = [http.server.HTTPServer(("127.0.0.1", 0), H) for _ in range(2)]
for s in srv:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("PORTS %d %d" % tuple(s.server_address[1] for s in srv), flush=True)
threading.Event().wait()
PY
	lpid=$!
	on_exit "kill $lpid"
	for ((i = 0; i < 500; i++)); do
		grep -q '^PORTS ' "$lout" && break
		sleep 0.02
	done
	read -r p1 p2 < <(sed -n 's/^PORTS //p' "$lout")
	[ -n "$p2" ] || fail "setup: the host's servers did not start: $(cat "$lout")"

	dapi_up --net egress --allow "127.0.0.1:$p1"
	local get='
import socket, sys, urllib.request
try:
    print(urllib.request.urlopen("http://10.0.2.2:%s/" % sys.argv[1], timeout=10).read().decode())
except Exception as e:
    print("ERR", getattr(e, "reason", e))
'
	dapi_docker run --rm sbx-python:latest python3 -c "$get" "$p1"
	if [ "$RC" != 0 ] || [ "$(cat "$T/dout")" != "$tok" ]; then
		fail "a container fetching 10.0.2.2:$p1 (allowed 127.0.0.1:$p1): exit $RC, '$(head -c 300 "$T/dout")' $(head -c 300 "$T/derr")"
	fi
	note "allowed 127.0.0.1:$p1 reached at 10.0.2.2:$p1"
	dapi_docker run --rm sbx-python:latest python3 -c "$get" "$p2"
	grep -q '^ERR .*[Rr]efused' "$T/dout" ||
		fail "a container fetching 10.0.2.2:$p2 (not allowed, listening on the host): exit $RC, '$(head -c 300 "$T/dout")' $(head -c 300 "$T/derr")"
	dapi_docker run --rm --network none sbx-python:latest python3 -c "$get" "$p1"
	grep -q '^ERR ' "$T/dout" ||
		fail "--network none fetching 10.0.2.2:$p1: exit $RC, '$(head -c 300 "$T/dout")'"
	dapi_down

	# without --net egress: a private loopback, no publishing
	dapi_up
	dapi_docker run --rm -p "127.0.0.1:$p2:8000" sbx-python:latest true
	if [ "$RC" != 125 ] || ! grep -q 'port publishing needs sbx serve --net egress' "$T/derr"; then
		fail "docker run -p on a server without --net egress: exit $RC, $(head -c 300 "$T/derr")"
	fi
	dapi_docker run --rm sbx-python:latest python3 -c "$get" "$p1"
	grep -q '^ERR ' "$T/dout" || fail "the default network without --net egress reached 10.0.2.2:$p1: '$(head -c 300 "$T/dout")'"
	dapi_down
	run_sbx serve --docker-api "$T/d2.sock" --allow "127.0.0.1:$p1"
	if [ "$RC" != 125 ] || ! grep -q 'net egress' "$T/err"; then
		fail "sbx serve --allow without --net egress: exit $RC, $(head -c 300 "$T/err")"
	fi
	[ -e "$T/d2.sock" ] && fail "sbx serve --allow without --net egress left its socket"
	return 0
}
