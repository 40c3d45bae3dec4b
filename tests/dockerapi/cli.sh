#!/bin/bash
# The real docker CLI against a Docker Engine API socket (issue 11).
#
#   DOCKER_SOCK=/path/to.sock tests/dockerapi/cli.sh [PART...]
#
# PART: run (one-shot `docker run --rm` with limits, a read-only
# /workspace, exit codes, stdin), lifecycle (create/start/exec/cp/logs/
# wait/ps/inspect/stats/kill/rm), load (`docker load` of a docker-save
# archive made here by hand, two layers with a whiteout, then run and
# images), isolation (the checks of t_isolation.sh through docker run),
# ports (`docker run -d -p 127.0.0.1:HOSTPORT:8000` of python3 -m
# http.server, the page fetched from the host, docker port, docker rm -f
# frees the port; needs a server with --net egress); default: the first
# four. One line per check ("ok - ..."); the first
# failure prints "FAIL - ..." and exits 1. Every docker command has a
# deadline (DAPI_CMD_TIMEOUT_S, default 60).
#
# DOCKER: the client (default Debian's /usr/bin/docker, 20.10, from the
# docker.io package; /usr/local/bin may hold another). DAPI_IMAGE: the
# image (sbx-python:latest). DAPI_TMP: where its temp dirs go (/tmp).
# DAPI_PEER=dockerd: the socket is a real
# dockerd; where sbx is meant to differ, what Docker did is printed as
# "note - ..." instead of failing. Containers are named and labelled with a
# random run id and removed at the end, also after a failure; the loaded
# image is removed too (its removal is not checked: sbx need not have rmi).
set -u

SOCK=${DOCKER_SOCK:-}
[ -n "$SOCK" ] || {
	echo "FAIL - setup: DOCKER_SOCK is not set (the path of the API socket)"
	exit 2
}
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || {
	echo "FAIL - setup: no docker CLI (make deps installs docker.io)"
	exit 2
}
export DOCKER_HOST=unix://$SOCK
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_API_VERSION
# a config dir of our own: no credential helpers, no user settings
DOCKER_CONFIG=$(mktemp -d "${DAPI_TMP:-/tmp}/dapi-cli-cfg.XXXXXX") || exit 2
export DOCKER_CONFIG
IMG=${DAPI_IMAGE:-sbx-python:latest}
PEER=${DAPI_PEER:-sbx}
CT=${DAPI_CMD_TIMEOUT_S:-60}
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
W=$(mktemp -d "${DAPI_TMP:-/tmp}/dapi-cli.XXXXXX") || exit 2
chmod 0755 "$W"
LOADED=

cleanup() {
	local ids
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null
	ids=$(timeout 30 "$DOCKER" ps -aq --filter "label=sbx.test.run=$RUN" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$ids" ] && timeout 60 "$DOCKER" rm -f $ids >/dev/null 2>&1
	[ -n "$LOADED" ] && timeout 30 "$DOCKER" rmi -f "$LOADED" >/dev/null 2>&1
	rm -rf "$W" "$DOCKER_CONFIG"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - $*"; }
fail() {
	echo "FAIL - $*"
	exit 1
}
note() { echo "note - $*"; }
# differ WHAT: a check where sbx is meant to differ from Docker
differ() {
	if [ "$PEER" = dockerd ]; then note "$*"; else fail "$*"; fi
}

# d ARGS...: docker ARGS with a deadline; stdout in $W/out, stderr in
# $W/err, status in RC (124: the deadline passed).
d() {
	timeout -k 5 "$CT" "$DOCKER" "$@" >"$W/out" 2>"$W/err" </dev/null
	RC=$?
}
# di INPUT ARGS...: the same with INPUT (a file) on stdin
di() {
	local in=$1
	shift
	timeout -k 5 "$CT" "$DOCKER" "$@" >"$W/out" 2>"$W/err" <"$in"
	RC=$?
}
# host_ipv4s: this machine's own IPv4 addresses but 127.x (targets that must not be
# reached from --network none; never an address of another machine)
host_ipv4s() {
	awk '/32 host/ { print f } { f = $2 }' /proc/net/fib_trie 2>/dev/null | grep -v '^127\.' | sort -u
}
# errs: stderr without dockerd's warning about its disabled IP forwarding
# (the private dockerd runs with --ip-forward=false)
errs() { grep -v '^WARNING: IPv4 forwarding is disabled' "$W/err"; }
shown() { echo "exit $RC; stdout: $(head -c 600 "$W/out" | tr '\n' '|'); stderr: $(head -c 600 "$W/err" | tr '\n' '|')"; }
expect_rc() { # N WHAT
	[ "$RC" = "$1" ] || fail "$2: want exit $1: $(shown)"
}
out_is() { # TEXT WHAT
	[ "$(cat "$W/out")" = "$1" ] || fail "$2: stdout is not '$1': $(shown)"
}
has() { # LINE WHAT
	grep -qxF -- "$1" "$W/out" || fail "$2: no line '$1' in stdout: $(shown)"
}

# ---------------------------------------------------------------- run

# host_listener: a TCP listener on all of this machine's addresses (node,
# 120 s at most) that prints "PORT N", then "ACCEPT" per connection; sets
# LPORT and LOUT, and checks that the host itself reaches it.
host_listener() {
	LOUT=$W/listener.out
	timeout 120 node -e '
		const s = require("net").createServer((c) => { console.log("ACCEPT"); c.destroy(); });
		s.listen(0, "0.0.0.0", () => console.log("PORT " + s.address().port));' >"$LOUT" 2>&1 &
	LPID=$!
	local i
	for ((i = 0; i < 500; i++)); do
		grep -q '^PORT ' "$LOUT" && break
		sleep 0.02
	done
	LPORT=$(sed -n 's/^PORT //p' "$LOUT")
	[ -n "$LPORT" ] || fail "setup: the host listener did not start: $(cat "$LOUT")"
	(exec 9<>"/dev/tcp/127.0.0.1/$LPORT") 2>/dev/null || fail "setup: the host cannot reach its own listener"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^ACCEPT' "$LOUT")" = 1 ] && return 0
		sleep 0.02
	done
	fail "setup: the host listener did not see the host's own connection"
}

part_run() {
	local ws=$W/ws
	host_listener
	mkdir -p "$ws" && echo "from the host" >"$ws/in.txt" && chmod -R a+rX "$ws"
	local py='
import errno, os, socket, subprocess, sys, time
print("READ", open("/workspace/in.txt").read().strip())
try:
    open("/workspace/new", "w").write("x")
    print("WRITE ok")
except OSError as e:
    print("WRITE", errno.errorcode.get(e.errno, e.errno))
print("IFS", sorted(n for _, n in socket.if_nameindex()))
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    c = socket.socket()
    c.settimeout(2)
    try:
        c.connect((host, int(port)))
        print("CONNECT", target, "OK")
    except OSError as e:
        print("CONNECT", target, "ERR")
    c.close()
# pids: fork until refused (at most 200 children, 10 s)
kids, err = [], ""
end = time.time() + 10
while len(kids) < 200 and time.time() < end:
    try:
        kids.append(subprocess.Popen(["sleep", "30"]))
    except OSError as e:
        err = errno.errorcode.get(e.errno, str(e.errno))
        break
print("FORKS", len(kids), err)
for k in kids:
    k.kill()
    k.wait()
# cpu: a busy loop for 2 s of wall time, its cpu time
t0, c0 = time.time(), time.process_time()
while time.time() - t0 < 2:
    pass
print("CPU %.2f" % ((time.process_time() - c0) / (time.time() - t0)))
'
	# shellcheck disable=SC2046 # the addresses, one word each
	d run --rm --label "sbx.test.run=$RUN" --network none -m 256m --cpus 0.5 --pids-limit 64 \
		-v "$ws:/workspace:ro" "$IMG" python3 -c "$py" $({ echo 127.0.0.1; host_ipv4s | head -n 8; } | sed "s/\$/:$LPORT/")
	expect_rc 0 "docker run --rm with limits"
	has "READ from the host" "read the :ro /workspace"
	ok "docker run: /workspace (-v DIR:/workspace:ro) is readable"
	has "WRITE EROFS" "writing the :ro /workspace"
	ok "docker run: writing the :ro /workspace fails with EROFS"
	has "IFS ['lo']" "--network none: interfaces"
	grep -q '^CONNECT .* OK$' "$W/out" && fail "--network none: a connection succeeded: $(shown)"
	[ "$(grep -c '^CONNECT ' "$W/out")" -ge 1 ] || fail "--network none: connection attempts missing: $(shown)"
	sleep 0.2
	[ "$(grep -c '^ACCEPT' "$LOUT")" = 1 ] || fail "--network none: the host listener saw a connection from the container"
	kill "$LPID" 2>/dev/null
	wait "$LPID" 2>/dev/null
	ok "docker run --network none: only lo, no connection to 127.0.0.1 nor to the host's addresses"
	local forks
	forks=$(sed -n 's/^FORKS \([0-9]*\) .*/\1/p' "$W/out")
	[ -n "$forks" ] && ((forks < 64)) && grep -q '^FORKS [0-9]* EAGAIN$' "$W/out" ||
		fail "--pids-limit 64: want EAGAIN before 64 children: $(shown)"
	ok "docker run --pids-limit 64: fork refused (EAGAIN) after $forks children"
	local cpu
	cpu=$(sed -n 's/^CPU //p' "$W/out")
	awk -v c="$cpu" 'BEGIN { exit !(c > 0 && c < 0.7) }' ||
		fail "--cpus 0.5: a busy loop got $cpu of a cpu (want < 0.7): $(shown)"
	ok "docker run --cpus 0.5: a busy loop got $cpu of a cpu"

	d run --rm --label "sbx.test.run=$RUN" -m 64m --memory-swap 64m "$IMG" \
		python3 -c 'b = b"x" * (1 << 30)'
	expect_rc 137 "docker run -m 64m allocating 1 GiB"
	ok "docker run -m 64m: allocating 1 GiB is killed (137)"

	d run --rm --label "sbx.test.run=$RUN" "$IMG" sh -c 'exit 3'
	expect_rc 3 "docker run --rm IMG sh -c 'exit 3'"
	ok "docker run: exit code 3 propagates"
	d run --rm --label "sbx.test.run=$RUN" "$IMG" /no/such/command
	expect_rc 127 "docker run of a missing command"
	ok "docker run of a missing command -> 127"
	d run --rm --label "sbx.test.run=$RUN" "$IMG" sh -c 'echo out; echo err >&2'
	expect_rc 0 "docker run stdout/stderr"
	out_is out "docker run stdout"
	[ "$(errs)" = err ] || fail "docker run stderr is not 'err': $(shown)"
	ok "docker run: stdout and stderr apart"

	printf 'hi\n' >"$W/in"
	di "$W/in" run --rm -i --label "sbx.test.run=$RUN" "$IMG" cat
	expect_rc 0 "echo hi | docker run --rm -i IMG cat"
	out_is hi "echo hi | docker run --rm -i IMG cat"
	ok "docker run -i: stdin reaches the command"
	head -c 1048576 /dev/urandom >"$W/bin"
	di "$W/bin" run --rm -i --label "sbx.test.run=$RUN" "$IMG" sha256sum
	expect_rc 0 "1 MiB through docker run -i"
	[ "$(cut -d' ' -f1 "$W/out")" = "$(sha256sum <"$W/bin" | cut -d' ' -f1)" ] ||
		fail "1 MiB of random bytes through docker run -i: sha256 differs: $(shown)"
	ok "docker run -i: 1 MiB of binary stdin intact"

	d run --rm --label "sbx.test.run=$RUN" -e A=1 -e 'B=two words' -w /usr/lib "$IMG" \
		sh -c 'echo "$A|$B|$(pwd)"'
	out_is "1|two words|/usr/lib" "docker run -e -w"
	ok "docker run -e and -w"
	# sbx has one tmpfs, /tmp (its size from --tmpfs /tmp:size=...).
	d run --rm --label "sbx.test.run=$RUN" --read-only --tmpfs /tmp:size=8m "$IMG" \
		sh -c 'touch /tmp/ok && echo tmpfs-ok; df -k /tmp | awk "NR==2{print \$2}"; touch /etc/x 2>/dev/null && echo root-writable || echo root-ro'
	out_is $'tmpfs-ok\n8192\nroot-ro' "docker run --read-only --tmpfs /tmp:size=8m"
	ok "docker run --read-only: the root is read-only, --tmpfs is writable"
	d run --rm --label "sbx.test.run=$RUN" "$IMG" sh -c 'echo x > /etc/newfile && cat /etc/newfile'
	out_is x "docker run: the root file system is writable"
	ok "docker run: the root file system is writable (without --read-only)"
	d run --rm --label "sbx.test.run=$RUN" "$IMG" sh -c 'test -e /etc/newfile && echo kept || echo fresh'
	out_is fresh "docker run: a new container's root"
	ok "docker run: a new container does not see an earlier one's writes"
	d run --rm --label "sbx.test.run=$RUN" "$IMG" python3 -c 'import os; print(os.getuid(), os.getpid() < 10, open("/proc/1/cmdline").read() != "")'
	expect_rc 0 "docker run: ids"
	out_is "0 True True" "docker run: uid 0 in its own pid namespace"
	ok "docker run: uid 0, a small pid (own pid namespace)"
}

# ---------------------------------------------------------------- lifecycle

part_lifecycle() {
	local n=sbxtest-cli-$RUN
	d create --name "$n" --label "sbx.test.run=$RUN" --label "role=cli" "$IMG" sleep infinity
	expect_rc 0 "docker create"
	local id
	id=$(cat "$W/out")
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "docker create: not a 64-hex id: $(shown)"
	ok "docker create: id ${id:0:12}"
	d inspect --format '{{.State.Status}}' "$n"
	out_is created "docker inspect of a created container"
	ok "docker inspect --format {{.State.Status}}: created"
	d start "$n"
	expect_rc 0 "docker start"
	d inspect --format '{{.State.Status}} {{.State.Running}}' "$n"
	out_is "running true" "docker inspect after start"
	ok "docker start: running"

	d ps --filter "label=sbx.test.run=$RUN" --filter label=role=cli --format '{{.Names}} {{.Status}}'
	expect_rc 0 "docker ps --filter label="
	grep -q "^$n Up" "$W/out" || fail "docker ps --filter label=: $n not listed as Up: $(shown)"
	ok "docker ps --filter label=: listed, Up"
	d ps -q --filter "label=sbx.test.run=$RUN" --filter label=role=none
	out_is "" "docker ps --filter with no match"
	ok "docker ps --filter with no match: empty"

	d exec "$n" sh -c 'echo hi > /tmp/f; echo out; echo err >&2; exit 4'
	expect_rc 4 "docker exec exit code"
	out_is out "docker exec stdout"
	[ "$(errs)" = err ] || fail "docker exec stderr: $(shown)"
	ok "docker exec: stdout, stderr, exit code 4"
	printf 'line\n' >"$W/in"
	di "$W/in" exec -i "$n" sh -c 'cat; echo eof'
	out_is $'line\neof' "docker exec -i"
	ok "docker exec -i: stdin to EOF"
	d exec -e X=5 -w /var "$n" sh -c 'echo $X $(pwd)'
	out_is "5 /var" "docker exec -e -w"
	ok "docker exec -e -w"

	head -c 300001 /dev/urandom >"$W/up.bin"
	d cp "$W/up.bin" "$n:/tmp/up.bin"
	expect_rc 0 "docker cp host -> container"
	d exec "$n" sha256sum /tmp/up.bin
	[ "$(cut -d' ' -f1 "$W/out")" = "$(sha256sum <"$W/up.bin" | cut -d' ' -f1)" ] ||
		fail "docker cp host -> container: sha256 differs inside: $(shown)"
	ok "docker cp host -> container: a binary file intact"
	d cp "$n:/tmp/up.bin" "$W/down.bin"
	expect_rc 0 "docker cp container -> host"
	cmp -s "$W/up.bin" "$W/down.bin" || fail "docker cp container -> host: the file differs"
	ok "docker cp container -> host: the same bytes back"
	mkdir -p "$W/tree/sub" && echo deep >"$W/tree/sub/f" && chmod 0750 "$W/tree/sub"
	d cp "$W/tree" "$n:/tmp/"
	expect_rc 0 "docker cp of a directory"
	d exec "$n" sh -c 'cat /tmp/tree/sub/f; stat -c %a /tmp/tree/sub'
	out_is $'deep\n750' "docker cp of a directory"
	ok "docker cp of a directory: content and mode"
	d cp "$n:/tmp/f" - 
	expect_rc 0 "docker cp to stdout"
	tar -xOf "$W/out" f >"$W/f" 2>/dev/null && [ "$(cat "$W/f")" = hi ] || fail "docker cp CONTAINER:/tmp/f -: not a tar of f with 'hi'"
	ok "docker cp container -> stdout: a tar"
	d cp "$n:/tmp/no-such" "$W/x"
	[ "$RC" != 0 ] && grep -qi 'no such\|not found\|could not find' "$W/err" || fail "docker cp of a missing path: $(shown)"
	ok "docker cp of a missing path fails: $(head -n 1 "$W/err")"

	d stats --no-stream --format '{{.Name}} {{.MemUsage}}' "$n"
	expect_rc 0 "docker stats --no-stream"
	grep -q "^$n " "$W/out" || fail "docker stats --no-stream: no line for $n: $(shown)"
	ok "docker stats --no-stream: $(head -n 1 "$W/out")"

	d kill "$n"
	expect_rc 0 "docker kill"
	d wait "$n"
	out_is 137 "docker wait after kill"
	ok "docker kill; docker wait: 137"
	d inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$n"
	out_is "exited 137" "docker inspect after kill"
	ok "docker inspect after kill: exited 137"
	d exec "$n" true
	[ "$RC" != 0 ] && grep -qi 'not running' "$W/err" || fail "docker exec on a stopped container: $(shown)"
	ok "docker exec on a stopped container refused: $(head -n 1 "$W/err")"

	# logs of a finished container
	local l=sbxtest-cli-logs-$RUN
	d run --name "$l" --label "sbx.test.run=$RUN" "$IMG" sh -c 'echo one; echo two >&2; echo three'
	expect_rc 0 "docker run (for logs)"
	d logs "$l"
	out_is $'one\nthree' "docker logs stdout"
	[ "$(errs)" = two ] || fail "docker logs stderr: $(shown)"
	ok "docker logs: stdout and stderr apart"
	# the order of stdout and stderr lines in the log is not defined: one line
	d logs --tail 1 "$l"
	[ "$({ cat "$W/out"; errs; } | wc -l)" = 1 ] || fail "docker logs --tail 1: not one line: $(shown)"
	ok "docker logs --tail 1: one line"
	d wait "$l"
	out_is 0 "docker wait on an exited container"
	ok "docker wait on an exited container: 0"
	d start -a "$l"
	out_is $'one\nthree' "docker start -a (a second run)"
	d logs "$l"
	out_is $'one\nthree\none\nthree' "docker logs after a second run"
	ok "docker start -a of an exited container runs it again; logs keep both runs"

	d rm -f "$n" "$l"
	expect_rc 0 "docker rm -f"
	d inspect "$n"
	[ "$RC" != 0 ] && grep -qi 'no such' "$W/err" || fail "docker inspect after rm -f: $(shown)"
	ok "docker rm -f; inspect: No such object"
	d ps -aq --filter "label=sbx.test.run=$RUN"
	out_is "" "docker ps -a after rm"
	ok "docker ps -a: nothing left"
}

# ---------------------------------------------------------------- load

# A docker-save archive (the legacy layout docker load reads): two layers,
# the second with a whiteout of a file of the first.
make_image_tar() { # DIR NAME:TAG -> DIR/image.tar
	local dir=$1 tag=$2 l1 l2 cfg d1 d2 bb
	bb=$(command -v busybox) || return 1
	file "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' || return 1
	mkdir -p "$dir/r1/bin" "$dir/r1/etc" "$dir/r2/etc" "$dir/img"
	cp "$bb" "$dir/r1/bin/busybox"
	ln -s busybox "$dir/r1/bin/sh"
	echo a >"$dir/r1/etc/a"
	echo b >"$dir/r1/etc/b"
	echo c >"$dir/r2/etc/c"
	: >"$dir/r2/etc/.wh.b"
	tar --numeric-owner --owner=0 --group=0 --mtime=@1700000000 --sort=name -C "$dir/r1" -cf "$dir/l1.tar" . || return 1
	tar --numeric-owner --owner=0 --group=0 --mtime=@1700000000 --sort=name -C "$dir/r2" -cf "$dir/l2.tar" . || return 1
	d1=$(sha256sum <"$dir/l1.tar" | cut -d' ' -f1)
	d2=$(sha256sum <"$dir/l2.tar" | cut -d' ' -f1)
	l1=$d1
	l2=$(printf '%s %s' "$d1" "$d2" | sha256sum | cut -d' ' -f1)
	mkdir -p "$dir/img/$l1" "$dir/img/$l2"
	mv "$dir/l1.tar" "$dir/img/$l1/layer.tar"
	mv "$dir/l2.tar" "$dir/img/$l2/layer.tar"
	echo 1.0 >"$dir/img/$l1/VERSION"
	echo 1.0 >"$dir/img/$l2/VERSION"
	printf '{"id":"%s","created":"2023-11-14T22:13:20Z","os":"linux"}' "$l1" >"$dir/img/$l1/json"
	printf '{"id":"%s","parent":"%s","created":"2023-11-14T22:13:20Z","os":"linux"}' "$l2" "$l1" >"$dir/img/$l2/json"
	printf '{"architecture":"amd64","os":"linux","created":"2023-11-14T22:13:20Z","config":{"Env":["PATH=/bin"],"Cmd":["/bin/busybox","echo","default-cmd"],"WorkingDir":"/etc","Labels":{"sbx.test":"load"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]},"history":[{"created":"2023-11-14T22:13:20Z","created_by":"sbx tests/dockerapi/cli.sh"},{"created":"2023-11-14T22:13:20Z","created_by":"sbx tests/dockerapi/cli.sh"}]}' \
		"$d1" "$d2" >"$dir/cfg.json"
	cfg=$(sha256sum <"$dir/cfg.json" | cut -d' ' -f1)
	mv "$dir/cfg.json" "$dir/img/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar","%s/layer.tar"]}]' \
		"$cfg" "$tag" "$l1" "$l2" >"$dir/img/manifest.json"
	printf '{"%s":{"%s":"%s"}}' "${tag%:*}" "${tag##*:}" "$l2" >"$dir/img/repositories"
	tar --numeric-owner --owner=0 --group=0 -C "$dir/img" -cf "$dir/image.tar" . || return 1
	IMAGE_ID=$cfg
}

part_load() {
	local tag=sbxtest-loaded-$RUN:v1
	make_image_tar "$W/load" "$tag" || fail "docker load: cannot build the archive (needs a static busybox: make deps installs busybox-static)"
	d load -i "$W/load/image.tar"
	expect_rc 0 "docker load -i"
	LOADED=$tag
	grep -qF "Loaded image: $tag" "$W/out" || fail "docker load -i: no 'Loaded image: $tag': $(shown)"
	ok "docker load -i: $(head -n 1 "$W/out")"
	d images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	expect_rc 0 "docker images"
	grep -q "^$tag \(sha256:\)\?${IMAGE_ID:0:12}" "$W/out" || fail "docker images: $tag (${IMAGE_ID:0:12}) not listed: $(shown)"
	grep -q "^$IMG " "$W/out" || fail "docker images: $IMG not listed: $(shown)"
	ok "docker images: $tag and $IMG listed"
	d image inspect --format '{{.Id}} {{json .Config.Cmd}}' "$tag"
	out_is "sha256:$IMAGE_ID [\"/bin/busybox\",\"echo\",\"default-cmd\"]" "docker image inspect"
	ok "docker image inspect: Id and Config.Cmd"
	d run --rm --label "sbx.test.run=$RUN" "$tag"
	expect_rc 0 "docker run of the loaded image (its Cmd)"
	out_is default-cmd "docker run of the loaded image (its Cmd)"
	ok "docker run LOADED: the image's Cmd"
	d run --rm --label "sbx.test.run=$RUN" "$tag" sh -c 'pwd; test -e /etc/b && echo b-present || echo b-gone; cat /etc/a /etc/c'
	expect_rc 0 "docker run of the loaded image"
	out_is $'/etc\nb-gone\na\nc' "docker run of the loaded image: WorkingDir, layers, whiteout"
	ok "docker run LOADED: WorkingDir, both layers, the whiteout honoured"
	printf 'not a tar at all\n' >"$W/bad.tar"
	d load -i "$W/bad.tar"
	[ "$RC" != 0 ] || fail "docker load of a bad archive succeeded: $(shown)"
	ok "docker load of a bad archive fails: $(head -n 1 "$W/err")"
}

# ---------------------------------------------------------------- isolation

# The checks of tests/integration/t_isolation.sh (sbx run), through docker
# run. Where Docker's defaults are weaker than sbx's (no user namespace, a
# wider capability set, no no_new_privs, the host's cgroup namespace on
# cgroup v1), the sbx expectation is checked and dockerd gets a note.
part_isolation() {
	local mark=sbxmark$RUN hostname
	hostname=$(cat /proc/sys/kernel/hostname)
	echo secret >"$W/host-secret"
	local py='
import os, socket, subprocess, sys
print("SEES", os.path.exists(sys.argv[1]))
print("TMP", sorted(os.listdir("/tmp")))
for n in ["user", "pid", "mnt", "net", "ipc", "uts", "cgroup"]:
    print("NS", n, os.readlink("/proc/self/ns/" + n))
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("PID", os.getpid())
print("NPROCS", len(pids))
print("HOSTNAME", socket.gethostname())
print("UID_MAP", " ".join(open("/proc/self/uid_map").read().split()))
print("IDS", os.getuid(), os.geteuid(), os.getgid(), os.getegid())
st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
for k in ["CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]:
    print(k, st[k].strip())
for k in ["shm", "msg", "sem"]:
    print("IPC", k, len(open("/proc/sysvipc/" + k).read().splitlines()[1:]))
cg = open("/proc/self/cgroup").read().split()
print("CGROUP", " ".join(sorted(l.split(":", 2)[2] for l in cg)))
cmd = []
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            cmd.append(open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ").replace(b"\n", b" ").decode())
        except OSError:
            pass
print("CMDLINES", " | ".join(sorted(cmd)))
print("MARK", sys.argv[2])
'
	d run --rm --label "sbx.test.run=$RUN" -e "K=$mark" "$IMG" python3 -c "$py" "$W/host-secret" "$mark"
	expect_rc 0 "docker run (isolation probe)"
	local v n bad=
	has "SEES False" "the host's temp file"
	ok "isolation: the host's /tmp is not visible"
	for n in pid mnt net ipc uts; do
		v=$(sed -n "s/^NS $n //p" "$W/out")
		[ -n "$v" ] && [ "$v" != "$(readlink /proc/$$/ns/$n)" ] || bad+=" $n"
	done
	[ -z "$bad" ] || fail "isolation: namespaces shared with the host:$bad: $(shown)"
	ok "isolation: new pid, mnt, net, ipc, uts namespaces"
	v=$(sed -n 's/^NS user //p' "$W/out")
	if [ "$v" = "$(readlink /proc/$$/ns/user)" ]; then
		differ "isolation: the host's user namespace (Docker without userns-remap); sbx gives each container its own"
	else
		ok "isolation: a user namespace of its own"
	fi
	v=$(sed -n 's/^NS cgroup //p' "$W/out")
	if [ "$v" = "$(readlink /proc/$$/ns/cgroup)" ]; then
		differ "isolation: the host's cgroup namespace (Docker's default on cgroup v1); sbx gives a new one"
	else
		ok "isolation: a cgroup namespace of its own"
		v=$(sed -n 's/^CGROUP //p' "$W/out")
		[[ " $v " =~ ^(\ /)+\ $ ]] || fail "isolation: the cgroup paths inside are not all /: $v"
		ok "isolation: every cgroup path inside is /"
	fi
	v=$(sed -n 's/^PID //p' "$W/out")
	n=$(sed -n 's/^NPROCS //p' "$W/out")
	[ -n "$v" ] && ((v <= 10)) && ((n <= 4)) || fail "isolation: pid $v, $n processes in /proc: $(shown)"
	ok "isolation: pid $v, $n processes visible"
	v=$(sed -n 's/^HOSTNAME //p' "$W/out")
	[ -n "$v" ] && [ "$v" != "$hostname" ] || fail "isolation: the hostname inside is the host's ($v)"
	ok "isolation: hostname '$v', not the host's"
	has "IDS 0 0 0 0" "ids inside"
	v=$(sed -n 's/^UID_MAP //p' "$W/out")
	if [[ $v =~ ^0\ ([0-9]+)\ 65536$ ]] && ((BASH_REMATCH[1] >= 0x70000000)); then
		ok "isolation: root inside is uid ${BASH_REMATCH[1]} on the host ($v)"
	else
		differ "isolation: uid_map '$v' (Docker: root inside is the host's root); sbx maps 65536 ids of its own range"
	fi
	# no CAP_SYS_ADMIN (21), CAP_SYS_MODULE (16), CAP_SYS_PTRACE (19), CAP_SYS_RAWIO (17), CAP_NET_ADMIN (12)
	v=$(sed -n 's/^CapEff //p' "$W/out")
	[ -n "$v" ] && (((0x$v >> 21 & 1) == 0 && (0x$v >> 16 & 1) == 0 && (0x$v >> 19 & 1) == 0 && (0x$v >> 17 & 1) == 0 && (0x$v >> 12 & 1) == 0)) ||
		fail "isolation: CapEff $v has an admin capability"
	ok "isolation: CapEff $v: no SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, NET_ADMIN"
	if [ "$v" = 00000000000004fb ]; then
		ok "isolation: CapEff is sbx's set (0x4fb)"
	else
		differ "isolation: CapEff $v (Docker's default set); sbx keeps 0x4fb"
	fi
	has "CapAmb 0000000000000000" "ambient capabilities"
	has "Seccomp 2" "seccomp filter"
	ok "isolation: seccomp filter on, no ambient capabilities"
	if grep -qx "NoNewPrivs 1" "$W/out"; then
		ok "isolation: no_new_privs"
	else
		differ "isolation: NoNewPrivs 0 (Docker's default); sbx sets no_new_privs"
	fi
	# the host's command lines: nothing of docker's or sbx's own
	v=$(sed -n 's/^CMDLINES //p' "$W/out")
	case $v in
	*"$SOCK"* | *containerd* | *sbx\ serve* | *--docker-api*) fail "isolation: a host command line visible inside: $v" ;;
	esac
	ok "isolation: no host command line visible inside"
	# the host's SysV objects: make one of each, none visible inside
	if command -v ipcmk >/dev/null; then
		local shm
		shm=$(ipcmk -M 4096 | sed -n 's/.*id: *//p')
		d run --rm --label "sbx.test.run=$RUN" "$IMG" python3 -c 'print(len(open("/proc/sysvipc/shm").read().splitlines()[1:]))'
		[ -n "$shm" ] && ipcrm -m "$shm"
		out_is 0 "isolation: the host's SysV shm"
		ok "isolation: the host's SysV shm segment is not visible"
	fi

	# two containers at once: neither sees the other's /tmp or processes
	local a=sbxtest-isoA-$RUN b=sbxtest-isoB-$RUN
	d run -d --name "$a" --label "sbx.test.run=$RUN" "$IMG" sh -c 'echo A > /tmp/secret-A; exec python3 -c "import time; time.sleep(1000)" "$0"' "$mark-A"
	expect_rc 0 "docker run -d A"
	d run -d --name "$b" --label "sbx.test.run=$RUN" "$IMG" sh -c 'echo B > /tmp/secret-B; exec python3 -c "import time; time.sleep(1000)" "$0"' "$mark-B"
	expect_rc 0 "docker run -d B"
	d exec "$a" sh -c "cat /tmp/secret-B 2>/dev/null; grep -l -[B] /proc/[0-9]*/cmdline 2>/dev/null; cat /tmp/secret-A"
	out_is A "isolation: container A looking for B"
	d exec "$b" sh -c "cat /tmp/secret-A 2>/dev/null; grep -l -[A] /proc/[0-9]*/cmdline 2>/dev/null; cat /tmp/secret-B"
	out_is B "isolation: container B looking for A"
	ok "isolation: two containers see neither the other's /tmp nor its processes"
	# from the host: A's process, its host ids
	local f p uid
	for f in $(grep -laF -- "$mark-A" /proc/[0-9]*/cmdline 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$(readlink "/proc/$p/ns/pid")" != "$(readlink /proc/$$/ns/pid)" ] || continue
		uid=$(awk '/^Uid:/ { print $2 }' "/proc/$p/status")
	done
	[ -n "${uid:-}" ] || fail "isolation: container A's process not found from the host"
	if ((uid >= 0x70000000)); then
		ok "isolation: container A runs as host uid $uid"
	else
		differ "isolation: container A runs as host uid $uid (Docker without userns-remap); sbx uses an unprivileged uid of its own range"
	fi
	d rm -f "$a" "$b"
	expect_rc 0 "docker rm -f A B"
}

# ---------------------------------------------------------------- ports

# free_port: a TCP port of 127.0.0.1 free right now (bound on 0, closed).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# fetch PORT: GET http://127.0.0.1:PORT/ until it answers (30 s); the body
# in $W/page, the status in RC.
fetch() {
	timeout 40 python3 - "$1" "$W/page" "$([ "$PEER" = dockerd ] && echo 5 || echo 30)" <<'PY'
import sys, time, urllib.request
end = time.time() + int(sys.argv[3])
while True:
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=3).read()
        open(sys.argv[2], "wb").write(body)
        sys.exit(0)
    except Exception as e:
        if time.time() > end:
            print(e)
            sys.exit(1)
        time.sleep(0.1)
PY
	RC=$?
}
# port_free PORT: the host can listen on 127.0.0.1:PORT (SO_REUSEADDR, as
# servers do: the page fetch may leave a connection in TIME_WAIT)
port_free() {
	python3 -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()' "$1" 2>/dev/null
}

# bridged_out TEXT WHAT: the command succeeded with stdout TEXT; against
# the private dockerd (no bridge) what it did is a note.
bridged_out() {
	if [ "$RC" = 0 ] && [ "$(cat "$W/out")" = "$1" ]; then
		ok "$2: $1"
	elif [ "$PEER" = dockerd ]; then
		note "$2 without a bridge: $(shown)"
	else
		fail "$2: want '$1': $(shown)"
	fi
}

# Needs a server with --net egress (sbx) or a dockerd with a bridge.
part_ports() {
	local n=sbxtest-web-$RUN hp tok bridged=1
	hp=$(free_port)
	tok=tok-$RUN-$hp
	# the page: a file of the image's /tmp made by the command itself
	d run -d --name "$n" --label "sbx.test.run=$RUN" -p "127.0.0.1:$hp:8000" "$IMG" \
		sh -c 'mkdir -p /tmp/www && echo "$0" > /tmp/www/index.html && cd /tmp/www && exec python3 -m http.server 8000' "$tok"
	expect_rc 0 "docker run -d -p 127.0.0.1:$hp:8000"
	fetch "$hp"
	if [ "$RC" != 0 ] && [ "$PEER" = dockerd ]; then
		note "GET http://127.0.0.1:$hp/: no answer (this dockerd has no bridge: nothing is published)"
		bridged=0
	else
		[ "$RC" = 0 ] || fail "GET http://127.0.0.1:$hp/: no answer within 30 s"
		[ "$(cat "$W/page")" = "$tok" ] || fail "GET http://127.0.0.1:$hp/: got '$(head -c 200 "$W/page")', want '$tok'"
		ok "docker run -d -p 127.0.0.1:$hp:8000 python3 -m http.server: the host fetches its page"
	fi
	d port "$n"
	bridged_out "8000/tcp -> 127.0.0.1:$hp" "docker port"
	d port "$n" 8000
	bridged_out "127.0.0.1:$hp" "docker port NAME 8000"
	d ps --filter "name=$n" --format '{{.Ports}}'
	bridged_out "127.0.0.1:$hp->8000/tcp" "docker ps's ports"
	# the same host port again fails (sbx: at create, Docker: at start)
	if [ $bridged = 1 ]; then
		d run -d --name "$n-2" --label "sbx.test.run=$RUN" -p "127.0.0.1:$hp:8000" "$IMG" sleep 60
		[ "$RC" != 0 ] || fail "a second docker run -p 127.0.0.1:$hp:8000 succeeded: $(shown)"
		ok "a second -p 127.0.0.1:$hp:8000 fails: $(errs | head -n 1)"
		d rm -f "$n-2"
	fi
	# -p 127.0.0.1::8000: a random host port, as docker port shows it
	d run -d --name "$n-r" --label "sbx.test.run=$RUN" -p "127.0.0.1::8000" "$IMG" \
		sh -c 'mkdir -p /tmp/www && echo "$0" > /tmp/www/index.html && cd /tmp/www && exec python3 -m http.server 8000' "$tok-r"
	expect_rc 0 "docker run -d -p 127.0.0.1::8000"
	d port "$n-r" 8000
	local rp
	rp=$(sed -n 's/^127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$W/out")
	if [ -n "$rp" ]; then
		fetch "$rp"
		if [ "$RC" = 0 ] && [ "$(cat "$W/page")" = "$tok-r" ]; then
			ok "-p 127.0.0.1::8000: docker port says 127.0.0.1:$rp, and the page is there"
		elif [ $bridged = 1 ]; then
			fail "-p 127.0.0.1::8000: no page on 127.0.0.1:$rp: $(head -c 200 "$W/page" 2>/dev/null)"
		fi
	elif [ $bridged = 1 ]; then
		fail "-p 127.0.0.1::8000: docker port NAME 8000: $(shown)"
	else
		note "-p 127.0.0.1::8000 without a bridge: docker port: $(shown)"
	fi
	d rm -f "$n-r"
	expect_rc 0 "docker rm -f (random port)"
	if [ -n "$rp" ] && [ $bridged = 1 ]; then
		port_free "$rp" || fail "127.0.0.1:$rp is still taken right after docker rm -f"
	fi
	d run --rm -p "$hp:8000/udp" "$IMG" true
	if [ "$RC" = 125 ] && grep -q "TCP" "$W/err"; then
		ok "-p $hp:8000/udp: refused: $(errs | head -n 1)"
	else
		differ "-p $hp:8000/udp: $(shown)"
	fi
	d rm -f "$n"
	expect_rc 0 "docker rm -f"
	port_free "$hp" || fail "127.0.0.1:$hp is still taken right after docker rm -f"
	ok "docker rm -f: 127.0.0.1:$hp is free at once"
}

parts=("$@")
[ ${#parts[@]} = 0 ] && parts=(run lifecycle load isolation)
for p in "${parts[@]}"; do
	case $p in
	run | lifecycle | load | isolation | ports) ;;
	*) fail "setup: unknown part '$p' (run, lifecycle, load, isolation, ports)" ;;
	esac
done
d version --format '{{.Client.Version}} {{.Server.APIVersion}}'
expect_rc 0 "docker version"
ok "docker version (client, server API): $(cat "$W/out")"
for p in "${parts[@]}"; do
	"part_$p"
done
echo "ok - cli ${parts[*]}: all checks passed"
