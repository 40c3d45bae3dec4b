# shellcheck shell=bash
# drivers: one behavioural suite run on every driver — native, podman and
# docker. The harness provides the engines (engines.sh): a private dockerd
# for the docker tests, the image sbx-python:latest in it and in podman.
# An engine's tests skip only when it is not installed here; an engine that
# is installed but does not come up, or that `sbx check --driver D` then
# finds unusable, fails them.
#
# One-shot runs are `sbx run --driver D`; long-lived sandboxes `sbx create
# NAME --driver D` and the usual exec/read/write/stop/start/rm. Every test
# keeps its sandboxes' state in $T (SBX_STATE_DIR, SBX_RUN_DIR). After each
# engine test no container may remain that this test's sbx processes made
# (label sbx.pid=<their pid>) or that is named after its sandboxes; leftovers
# fail the test and are removed.

# ---------------------------------------------------------------- helpers

# drv_need DRIVER: use DRIVER for this test; skip if the engine is not
# installed, fail if it is unusable (decided once per harness run).
drv_need() {
	DRV=$1 DRV_NAMES=
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	on_exit drv_cleanup
	[ "$DRV" = native ] && return 0
	local f=$H/drivers-health-$DRV out setup
	if [ ! -s "$f" ]; then
		setup=$(cat "$H/engine-$DRV" 2>/dev/null)
		case $setup in
		skip:* | fail:*) echo "$setup" >"$f.tmp" ;;
		*)
			if out=$("$SBX" check --driver "$DRV" 2>&1); then
				echo ok >"$f.tmp"
			else
				out=$(echo "$out" | sed -n 's/^FAIL *[^ ]* *//p' | head -n 1)
				echo "fail: sbx check --driver $DRV: ${out:-failed}" >"$f.tmp"
			fi
			;;
		esac
		mv "$f.tmp" "$f"
	fi
	case $(cat "$f") in
	ok) ;;
	skip:*) skip "$DRV unavailable on this machine: $(sed 's/^skip: *//' "$f")" ;;
	*) fail "$DRV unusable: $(sed 's/^fail: *//' "$f")" ;;
	esac
}

# drv_run ARGS...: sbx run --driver $DRV ARGS...
drv_run() {
	run_sbx run --driver "$DRV" "$@"
}

# drv_name: a sandbox name of this test, unique on the host (container
# names are global to the engine).
drv_name() {
	local n="drv${BASHPID}x${RANDOM}"
	DRV_NAMES+=" $n"
	echo "$n"
}

# drv_ok WHAT ARGS...: sbx ARGS must exit 0.
drv_ok() {
	local what=$1
	shift
	run_sbx "$@"
	expect_rc 0 "$what"
}

# Containers of this test that still exist, one "name (why)" per line.
drv_leftovers() {
	[ "$DRV" = native ] && return 0
	local pids=" " f n name pid fmt='{{.Names}} {{index .Labels "sbx.pid"}}'
	# docker ps has .Labels as a "k=v,..." string and a .Label method
	[ "$DRV" = docker ] && fmt='{{.Names}} {{.Label "sbx.pid"}}'
	for f in "$T"/.runs/*.pid; do
		[ -e "$f" ] && pids+="$(cat "$f") "
	done
	"$DRV" ps -a --filter label=sbx=1 --format "$fmt" 2>/dev/null |
		while read -r name pid; do
			if [[ $pids == *" $pid "* ]]; then
				echo "$name (made by sbx pid $pid)"
				continue
			fi
			for n in $DRV_NAMES; do
				[ "$name" = "sbx-$n" ] && echo "$name (sandbox $n)"
			done
		done
}

# drv_expect_no_leftovers: fail if a container of this test remains.
drv_expect_no_leftovers() {
	local left
	left=$(drv_leftovers)
	[ -z "$left" ] || fail "containers left behind: $(echo "$left" | tr '\n' ';')"
}

drv_cleanup() {
	local d name
	for d in "$SBX_STATE_DIR"/sandboxes/*; do
		[ -d "$d" ] && "$SBX" rm -f "${d##*/}"
	done
	[ "$DRV" = native ] && return 0
	drv_leftovers | while read -r name _; do "$DRV" rm -f "$name"; done
}

# drv_json_keys: the run's --json object has every documented key.
drv_json_keys() {
	local k missing=
	for k in exit_code signal timed_out oom_killed stdout stderr stdout_truncated \
		stderr_truncated duration_ms cpu_ms max_rss_kb; do
		json_get "$k" >/dev/null || missing+=" $k"
	done
	[ -z "$missing" ] || fail_out "--json output lacks:$missing"
}

# ---------------------------------------------------------------- the suite

# print(6*7), exit codes, --json keys, stdout/stderr apart, stdin, 126/127.
drv_basics() {
	drv_need "$1"
	drv_run -- python3 -c 'print(6*7)'
	expect_rc 0 "print(6*7)"
	expect_stdout 42
	drv_run -- python3 -c 'import sys; sys.exit(3)'
	expect_rc 3 "sys.exit(3)"
	drv_run -- python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'
	expect_rc 137 "a self-SIGKILL"

	drv_run --json -- python3 -c 'import os; os.kill(os.getpid(), 9)'
	expect_rc 137 "--json self-SIGKILL"
	[ "$(json_get exit_code)" = 137 ] && [ "$(json_get signal)" = 9 ] ||
		fail_out "self-SIGKILL: want exit_code 137 and signal 9"

	drv_run --json -- sh -c 'echo out; echo err >&2; exit 5'
	expect_rc 5 "--json exit 5"
	drv_json_keys
	[ "$(json_get stdout)" = 'out\n' ] || fail_out "stdout is not 'out\\n'"
	[ "$(json_get stderr)" = 'err\n' ] || fail_out "stderr is not 'err\\n'"
	[ "$(json_get exit_code)" = 5 ] && [ "$(json_get signal)" = null ] &&
		[ "$(json_get timed_out)" = false ] && [ "$(json_get oom_killed)" = false ] ||
		fail_out "--json: want exit_code 5, signal null, timed_out and oom_killed false"

	drv_run -- sh -c 'echo to-out; echo to-err >&2'
	expect_rc 0 "streaming"
	expect_stdout to-out
	grep -qx to-err "$T/err" || fail_out "stderr does not have the command's line"
	grep -q to-out "$T/err" && fail_out "stdout leaked into stderr"

	echo 'print(1 + 1)' >"$T/in"
	drv_run -- python3 - <"$T/in"
	expect_rc 0 "python3 - with stdin"
	expect_stdout 2

	drv_run -- sbx-no-such-command
	expect_rc 127 "a missing command"
	drv_run -- /etc/passwd
	expect_rc 126 "a non-executable file"
	drv_expect_no_leftovers
}

# Output caps (JSON and streamed) and invalid UTF-8 in JSON.
drv_output() {
	drv_need "$1"
	drv_run --json --output-limit 1K -- python3 -c \
		'import sys; sys.stdout.write("x" * 5000); sys.stderr.write("y" * 10)'
	expect_rc 0 "capped --json run"
	local out
	out=$(json_get stdout)
	[ ${#out} = 1024 ] || fail_out "stdout has ${#out} bytes, want the 1K cap"
	[ "$(json_get stdout_truncated)" = true ] || fail_out "stdout_truncated is not true"
	[ "$(json_get stderr)" = yyyyyyyyyy ] && [ "$(json_get stderr_truncated)" = false ] ||
		fail_out "stderr (under the cap) is not complete and untruncated"

	drv_run --output-limit 1K -- python3 -c 'print("z" * 100000)'
	expect_rc 0 "capped streamed run"
	[ "$(stat -c %s "$T/out")" = 1024 ] || fail_out "streamed stdout is $(stat -c %s "$T/out") bytes, want 1024"

	drv_run --json -- python3 -c 'import sys; sys.stdout.buffer.write(b"a\xffb\xc3")'
	expect_rc 0 "invalid UTF-8 run"
	json_str_to stdout "$T/got"
	printf 'a\xef\xbf\xbdb\xef\xbf\xbd' >"$T/want"
	cmp -s "$T/got" "$T/want" || fail_out "invalid UTF-8 is not replaced by U+FFFD: $(od -An -tx1 "$T/got")"
	drv_expect_no_leftovers
}

# Environment, working directory, host name.
drv_env_cwd() {
	drv_need "$1"
	drv_run --env A=1 --env 'B=x y' -- sh -c 'echo "$A|$B|$HOME|$LANG|$PATH"; pwd; hostname'
	expect_rc 0 "env run"
	out_has "1|x y|/root|C.UTF-8|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ||
		fail_out "environment is not A, B plus the base (HOME, LANG, PATH)"
	out_has /tmp || fail_out "default cwd without a workspace is not /tmp"
	out_has sandbox || fail_out "default hostname is not 'sandbox'"
	drv_run --cwd /usr --hostname box -- sh -c 'pwd; hostname'
	expect_rc 0 "--cwd --hostname"
	out_has /usr && out_has box || fail_out "--cwd /usr --hostname box not applied"
	local ws
	ws=$(mk_dir ws)
	drv_run --workspace "$ws:ro" -- pwd
	expect_rc 0 "workspace cwd"
	expect_stdout /workspace
	drv_expect_no_leftovers
}

# Workspace ro refuses writes, rw persists on the host; the root is
# read-only, /tmp writable.
drv_workspace() {
	drv_need "$1"
	local ws
	ws=$(mk_dir ws)
	echo hi >"$ws/in.txt"
	local ids=()
	if [ "$DRV" = native ] && ! ws_idmap_ok "$ws"; then
		# $T's file system cannot be idmapped: refused as documented, then
		# used with root inside mapped to its owner
		local m
		for m in ro rw; do
			drv_run --workspace "$ws:$m" -- sh -c 'echo x >/workspace/new'
			ws_expect_refused "$ws" ":$m workspace"
		done
		[ "$(ls -A "$ws")" = in.txt ] || fail "a refused run changed $ws"
		chown -R "$((0x6f000000)):$((0x6f000000))" "$ws"
		ids=(--map-uid "$((0x6f000000))" --map-gid "$((0x6f000000))")
		note "$T cannot be idmapped here: the workspace is used with --map-uid/--map-gid of its owner"
	fi
	drv_run "${ids[@]}" --workspace "$ws:ro" -- sh -c 'cat /workspace/in.txt; echo x >/workspace/new'
	[ "$RC" != 0 ] || fail_out "writing to a :ro workspace succeeded"
	out_has hi || fail_out "a :ro workspace is not readable"
	[ ! -e "$ws/new" ] || fail_out "a :ro workspace was written to on the host"
	drv_run "${ids[@]}" --workspace "$ws:rw" -- sh -c 'echo persisted >/workspace/out.txt'
	expect_rc 0 "writing to a :rw workspace"
	[ "$(cat "$ws/out.txt" 2>/dev/null)" = persisted ] ||
		fail_out "what was written to a :rw workspace is not on the host"
	drv_run -- sh -c 'echo x >/etc/sbx-x'
	[ "$RC" != 0 ] || fail_out "the root file system is writable"
	drv_run -- sh -c 'echo t >/tmp/t && cat /tmp/t'
	expect_rc 0 "writing /tmp"
	expect_stdout t
	drv_expect_no_leftovers
}

# --net none: only a loopback interface, nothing reachable.
drv_net() {
	drv_need "$1"
	local ip
	ip=$(host_ipv4s | grep -v '^127\.' | head -n 1)
	drv_run --net none -- python3 -c '
import socket, sys
ifs = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:])
print("ifaces", " ".join(ifs))
for host in ["1.1.1.1", sys.argv[1]]:
    if not host:
        continue
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, 22))
        print("connected", host)
    except OSError as e:
        print("unreachable", host, e.errno)
' "${ip:-}"
	expect_rc 0 "network probe"
	[ "$(out_line ifaces)" = lo ] || fail_out "interfaces are '$(out_line ifaces)', want only lo"
	grep -q '^connected' "$T/out" && fail_out "a connection succeeded with --net none"
	drv_expect_no_leftovers
}

# A memory limit ends an over-allocating command with 137 and oom_killed.
drv_memory() {
	drv_need "$1"
	drv_run --json --memory 64M -- python3 -c 'x = bytearray(256 << 20); print("survived")'
	expect_rc 137 "allocating 256M under --memory 64M"
	grep -q survived "$T/out" && fail_out "the allocation survived the limit"
	if [ "$(json_get oom_killed)" != true ]; then
		[ "$DRV" = native ] && fail_out "oom_killed is not true"
		drv_expect_no_leftovers
		skip "$DRV reported OOMKilled=false for the OOM kill (exit 137 is right; the engine does not tell)"
	fi
	drv_expect_no_leftovers
}

# A timeout kills everything: 124, and the container is gone.
drv_timeout() {
	drv_need "$1"
	drv_run --json --timeout 2s -- sh -c 'echo started; sleep 60'
	expect_rc 124 "--timeout 2s"
	[ "$(json_get timed_out)" = true ] || fail_out "timed_out is not true"
	[ "$(json_get stdout)" = 'started\n' ] || fail_out "output before the timeout is lost"
	((ELAPSED_MS < 15000)) || fail_out "the timed-out run took ${ELAPSED_MS}ms"
	drv_expect_no_leftovers
}

# Long-lived: exec twice (/tmp kept), binary write/read, errors, stop/start
# keeps the workspace, an exec timeout kills only that command, rm -f.
drv_lifecycle() {
	drv_need "$1"
	local n
	n=$(drv_name)
	drv_ok "create" create "$n" --driver "$DRV" --memory 256M --env CREATED=yes
	drv_ok "first exec" exec "$n" -- sh -c 'echo kept >/tmp/state; echo one'
	expect_stdout one
	drv_ok "second exec" exec "$n" -- sh -c 'cat /tmp/state; echo "$CREATED"'
	out_has kept || fail_out "/tmp written by the first exec is not there for the second"
	out_has yes || fail_out "the create-time environment is not in the exec"
	drv_ok "exec env" exec "$n" --env E=1 -- sh -c 'echo "$E"'
	expect_stdout 1
	run_sbx exec "$n" -- sh -c 'exit 7'
	expect_rc 7 "exec exit 7"

	# every byte value, and more than a pipe buffer
	{
		printf "$(printf '\\%03o' $(seq 0 255))"
		head -c 200000 /dev/urandom
	} >"$T/bin"
	local p
	for p in /tmp/b.bin /workspace/b.bin; do
		run_sbx write "$n" "$p" <"$T/bin"
		expect_rc 0 "write $p"
		run_sbx read "$n" "$p"
		expect_rc 0 "read $p"
		cmp -s "$T/bin" "$T/out" || fail_out "read $p does not give back what was written"
	done
	run_sbx read "$n" /tmp
	expect_rc 125 "reading a directory"
	run_sbx read "$n" /tmp/no-such-file
	expect_rc 125 "reading a missing file"
	echo x | run_sbx write "$n" /etc/sbx-x
	expect_rc 125 "writing into the read-only root"

	# stop/start keeps the workspace
	drv_ok "write to the workspace" exec "$n" -- sh -c 'echo ws >/workspace/keep'
	drv_ok "stop" stop "$n"
	run_sbx exec "$n" -- true
	expect_rc 125 "exec in a stopped sandbox"
	drv_ok "start" start "$n"
	drv_ok "exec after start" exec "$n" -- cat /workspace/keep
	expect_stdout ws

	# an exec timeout kills that command's tree, not the sandbox or others
	drv_ok "background exec" exec "$n" -- sh -c 'sleep 301 >/dev/null 2>&1 &'
	run_sbx exec "$n" --timeout 2s --json -- sh -c 'sleep 302 & sleep 303 & echo started; wait'
	expect_rc 124 "exec --timeout 2s"
	[ "$(json_get timed_out)" = true ] || fail_out "exec timed_out is not true"
	[ "$(json_get stdout)" = 'started\n' ] || fail_out "exec output before the timeout is lost"
	local i
	for ((i = 0; i < 50; i++)); do
		drv_ok "process list" exec "$n" -- sh -c \
			'for p in /proc/[0-9]*; do { tr "\0" " " <$p/cmdline; echo; } 2>/dev/null; done'
		grep -qE 'sleep 30[23]' "$T/out" || break
		sleep 0.1
	done
	grep -qE 'sleep 30[23]' "$T/out" && fail_out "the timed-out exec's processes survived"
	grep -q 'sleep 301' "$T/out" || fail_out "another exec's process was killed by the timeout"

	drv_ok "rm -f" rm -f "$n"
	run_sbx ls
	grep -q "^$n " "$T/out" && fail_out "sbx ls still lists $n"
	drv_expect_no_leftovers
}

# drv_free_port: a TCP port of 127.0.0.1 nothing listens on now.
drv_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# drv_listening PORT: something listens on PORT; the addresses, one a line.
drv_listening() {
	ss -Hltn "sport = :$1" | awk '{ print $4 }' | grep .
}

# --net egress on podman: slirp4netns. A --publish'ed port of 127.0.0.1
# reaches a python http.server inside (and is bound on 127.0.0.1 only);
# the host's loopback is not reachable from inside; --allow and a DNS port
# other than 53 are refused before any container is made; stopping the
# sandbox closes the port and leaves no container.
drv_egress() {
	drv_need "$1"
	local port token
	port=$(drv_free_port) || fail "no free port on 127.0.0.1"
	token="sbx-egress-$RANDOM$RANDOM"
	sbx_start srv run --driver "$DRV" --net egress --publish "127.0.0.1:$port:8000" \
		--timeout 60s -- sh -c 'cd /tmp && echo "$1" >index.txt &&
			exec python3 -m http.server 8000 --bind 0.0.0.0' sh "$token"
	local i body=
	for ((i = 0; i < 150; i++)); do
		sbx_running srv || break
		body=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().strip())' \
			"http://127.0.0.1:$port/index.txt" 2>/dev/null) && break
		sleep 0.2
	done
	if ! sbx_running srv; then
		sbx_wait srv
		fail_out "the egress server ended before it answered"
	fi
	[ "$body" = "$token" ] || fail "published port 127.0.0.1:$port answered '$body', want '$token'"
	local addrs
	addrs=$(drv_listening "$port")
	[ "$addrs" = "127.0.0.1:$port" ] ||
		fail "published port listens on '$(echo "$addrs" | tr '\n' ' ')', want 127.0.0.1:$port only"

	# From another egress sandbox, the host's loopback (and so the port
	# published there) is not reachable through the gateway.
	drv_run --net egress -- python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("10.0.2.2", int(sys.argv[1])))
    print("connected")
except OSError as e:
    print("refused", e.errno)
' "$port"
	expect_rc 0 "host loopback probe"
	grep -q '^refused' "$T/out" || fail_out "the host's loopback was reachable from an egress sandbox"

	kill -TERM "$(sbx_pid srv)"
	sbx_wait srv 60
	expect_rc 143 "the server after SIGTERM"
	grep -q "GET /index.txt" "$T/err" || fail_out "the server did not log the request"
	for ((i = 0; i < 50; i++)); do
		drv_listening "$port" >/dev/null || break
		sleep 0.1
	done
	drv_listening "$port" >/dev/null && fail "port $port still listens after the sandbox ended"

	drv_run --net egress --allow 127.0.0.1 -- true
	expect_rc 125 "--allow with $DRV"
	grep -q -- "--allow is not available with the $DRV driver" "$T/err" ||
		fail_out "--allow with $DRV: no clear error"
	[ "$(wc -l <"$T/err")" = 1 ] || fail_out "--allow with $DRV: not one line"
	drv_run --net egress --dns 127.0.0.1:5353 -- true
	expect_rc 125 "--dns with a port"
	grep -q "port other than 53" "$T/err" || fail_out "--dns 127.0.0.1:5353 with $DRV: no clear error"
	# a pool: refused before it serves, not sandbox by sandbox
	run_sbx pool serve --driver "$DRV" --socket "$T/p.sock" --size 1 --net egress \
		--allow 127.0.0.1
	expect_rc 125 "pool serve --allow with $DRV"
	grep -q -- "--allow is not available with the $DRV driver" "$T/err" ||
		fail_out "pool serve --allow with $DRV: no clear error"
	[ -e "$T/p.sock" ] && fail "pool serve --allow with $DRV left its socket"
	drv_expect_no_leftovers
}

# drv_get_until URL TEXT: within 15 s, URL of 127.0.0.1 answers TEXT.
drv_get_until() {
	local i body=
	for ((i = 0; i < 75; i++)); do
		body=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().strip())' "$1" 2>/dev/null) &&
			[ "$body" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

# A named egress sandbox: create saves --net egress, --publish and --dns
# (inspect and ls --json show them), the published port reaches a server
# started with exec, before and after stop/start; a config whose network
# lines were garbled while stopped is refused as broken, and rm -f removes it.
drv_egress_named() {
	drv_need "$1"
	local n port srv
	n=$(drv_name)
	port=$(drv_free_port) || fail "no free port on 127.0.0.1"
	srv='cd /tmp && echo "$1" >index.txt &&
		nohup python3 -m http.server 8000 --bind 0.0.0.0 >/dev/null 2>&1 &'
	drv_ok "create --net egress" create "$n" --driver "$DRV" --net egress \
		--publish "$port:8000" --dns 127.0.0.1
	drv_ok inspect inspect "$n"
	grep -qF '"net":"egress","allow":[],"publish":["'"$port"':8000"],"dns":"127.0.0.1"' "$T/out" ||
		fail_out "inspect does not show the network"
	drv_ok "exec a server" exec "$n" -- sh -c "$srv" sh first
	drv_get_until "http://127.0.0.1:$port/index.txt" first ||
		fail "published port $port did not reach the server"
	drv_ok stop stop "$n"
	drv_ok "ls --json" ls --json
	grep -qF '"state":"stopped"' "$T/out" && grep -qF '"publish":["'"$port"':8000"]' "$T/out" ||
		fail_out "ls --json of the stopped sandbox lacks its network"
	drv_ok start start "$n"
	drv_ok "exec a server again" exec "$n" -- sh -c "$srv" sh second
	drv_get_until "http://127.0.0.1:$port/index.txt" second ||
		fail "after stop/start, published port $port did not reach the server"
	drv_ok "stop again" stop "$n"

	# Garbled, then put back (rm -f of a broken sandbox would not know its
	# engine, and leave the container).
	local conf=$SBX_STATE_DIR/sandboxes/$n/config
	[ -f "$conf" ] || fail "no config at $conf"
	cp "$conf" "$T/config.saved"
	printf 'allow=a b\n' >>"$conf"
	run_sbx inspect "$n"
	expect_rc 125 "inspect of a garbled config"
	grep -q "broken.*allow" "$T/err" || fail_out "inspect of a garbled config: no clear error"
	[ "$(wc -l <"$T/err")" = 1 ] || fail_out "inspect of a garbled config: not one line"
	run_sbx start "$n"
	expect_rc 125 "start of a garbled config"
	cp "$T/config.saved" "$conf"
	drv_ok "rm -f" rm -f "$n"
	[ -e "$SBX_STATE_DIR/sandboxes/$n" ] && fail "rm -f left the sandbox's directory"
	drv_listening "$port" >/dev/null && fail "port $port still listens after rm -f"
	drv_expect_no_leftovers
}

# ---------------------------------------------------------------- per driver
# (the harness finds tests by their literal names)

t_drivers_native_basics() { drv_basics native; }
t_drivers_native_output() { drv_output native; }
t_drivers_native_env_cwd() { drv_env_cwd native; }
t_drivers_native_workspace() { drv_workspace native; }
t_drivers_native_net() { drv_net native; }
t_drivers_native_memory() { drv_memory native; }
t_drivers_native_timeout() { drv_timeout native; }
t_drivers_native_lifecycle() { drv_lifecycle native; }

t_drivers_podman_basics() { drv_basics podman; }
t_drivers_podman_output() { drv_output podman; }
t_drivers_podman_env_cwd() { drv_env_cwd podman; }
t_drivers_podman_workspace() { drv_workspace podman; }
t_drivers_podman_net() { drv_net podman; }
t_drivers_podman_memory() { drv_memory podman; }
t_drivers_podman_timeout() { drv_timeout podman; }
t_drivers_podman_lifecycle() { drv_lifecycle podman; }
t_drivers_podman_egress() { drv_egress podman; }
t_drivers_podman_egress_named() { drv_egress_named podman; }

t_drivers_docker_basics() { drv_basics docker; }
t_drivers_docker_output() { drv_output docker; }
t_drivers_docker_env_cwd() { drv_env_cwd docker; }
t_drivers_docker_workspace() { drv_workspace docker; }
t_drivers_docker_net() { drv_net docker; }
t_drivers_docker_memory() { drv_memory docker; }
t_drivers_docker_timeout() { drv_timeout docker; }
t_drivers_docker_lifecycle() { drv_lifecycle docker; }
