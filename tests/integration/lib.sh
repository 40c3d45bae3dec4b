# shellcheck shell=bash
# Helpers shared by the integration tests. Sourced by run.sh.
#
# Variables set by run.sh and usable in tests:
#   SBX        absolute path of the sbx binary under test
#   SBX_REAL   its canonical path (to recognise stray sbx processes)
#   REPO       repository root
#   ROOTFS     the rootfs the runtime uses by default (for host-side checks)
#   H          the harness's private dir (removed at exit)
#   HELPERS    dir with the compiled helpers (mode 0755), empty if not built
#   HELPERS_ERR why the helpers could not be built
#   HOST_PIDNS the harness's pid namespace (readlink /proc/self/ns/pid)
#   T          per-test temp dir /tmp/sbx-test-XXXXXX (the test's cwd)
#
# After each sbx run: RC (exit status), $T/out, $T/err (stdout, stderr),
# ELAPSED_MS (wall clock of the run as seen by the harness).

# ---------------------------------------------------------------- reporting

# fail REASON...: the test fails with this one-line reason.
fail() {
	printf '%s\n' "$*" >"$T/.reason"
	exit 1
}

# fail_out REASON...: fail, showing the last sbx run's exit status and output
# (LAST_PREFIX, default "sbx ", is put before LAST_ARGS: "" when LAST_ARGS
# holds a whole command line of another program).
fail_out() {
	{
		local a=${LAST_ARGS//$'\n'/ }
		[ ${#a} -gt 300 ] && a="${a:0:300}..."
		echo "last run: exit=$RC elapsed=${ELAPSED_MS}ms: ${LAST_PREFIX-sbx }$a"
		echo "--- stdout (first 1500 bytes):"
		head -c 1500 "$T/out" 2>/dev/null | cat -v
		echo
		echo "--- stderr (first 1500 bytes):"
		head -c 1500 "$T/err" 2>/dev/null | cat -v
		echo
	} >>"$T/.details"
	fail "$@"
}

# detail TEXT...: extra lines shown under a FAIL.
detail() {
	printf '%s\n' "$*" >>"$T/.details"
}

# note TEXT...: an observation printed under the PASS/FAIL line.
note() {
	printf '%s\n' "$*" >>"$T/.notes"
}

skip() {
	printf '%s\n' "$*" >"$T/.reason"
	exit 77
}

# on_exit CMD: run CMD (eval'd) when the test ends, last registered first.
on_exit() {
	ON_EXIT=("$1" "${ON_EXIT[@]}")
}

_test_exit() {
	local rc=$? c
	trap - EXIT
	_stop_background
	for c in "${ON_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	exit "$rc"
}

# ---------------------------------------------------------------- time

now_us() {
	local t=$EPOCHREALTIME
	echo $((10#${t/./}))
}

# ---------------------------------------------------------------- running sbx

RUNS=0
LAST_ARGS=
LAST_NAME=
ELAPSED_MS=0
RC=

# sbx_start NAME ARGS...: start "$SBX" ARGS in the background with the
# caller's stdin; output in $T/.runs/NAME.{out,err}. Use sbx_wait NAME.
sbx_start() {
	local name=$1
	shift
	local d=$T/.runs
	mkdir -p "$d"
	rm -f "$d/$name".*
	LAST_ARGS=$(printf '%q ' "$@")
	echo "$LAST_ARGS" >"$d/$name.args"
	now_us >"$d/$name.t0"
	exec 3<&0
	(
		"$SBX" "$@" <&3 3<&- >"$d/$name.out" 2>"$d/$name.err" &
		echo $! >"$d/$name.pid.tmp"
		mv "$d/$name.pid.tmp" "$d/$name.pid"
		wait $!
		echo $? >"$d/$name.rc.tmp"
		now_us >"$d/$name.t1"
		mv "$d/$name.rc.tmp" "$d/$name.rc"
	) &
	exec 3<&-
	echo "$name" >>"$d/.bglist"
	local i
	for ((i = 0; i < 500; i++)); do
		[ -s "$d/$name.pid" ] && return 0
		sleep 0.01
	done
	fail "could not start $SBX"
}

# sbx_pid NAME: host pid of the sbx process.
sbx_pid() {
	cat "$T/.runs/$1.pid"
}

# sbx_running NAME: true while the sbx process has not ended.
sbx_running() {
	[ ! -e "$T/.runs/$1.rc" ]
}

# sbx_wait NAME [SECONDS]: wait for the run to end (default 90 s, then
# SIGKILL and the test fails). Sets RC, ELAPSED_MS; links $T/out, $T/err.
sbx_wait() {
	local name=$1 limit=${2:-90} d=$T/.runs
	local end=$(($(now_us) + limit * 1000000))
	while [ ! -e "$d/$name.rc" ]; do
		if (($(now_us) > end)); then
			kill -KILL "$(cat "$d/$name.pid")" 2>/dev/null
			local i
			for ((i = 0; i < 200; i++)); do
				[ -e "$d/$name.rc" ] && break
				sleep 0.01
			done
			RC=$(cat "$d/$name.rc" 2>/dev/null)
			ln -f "$d/$name.out" "$T/out" 2>/dev/null
			ln -f "$d/$name.err" "$T/err" 2>/dev/null
			ELAPSED_MS=$((limit * 1000))
			LAST_ARGS=$(cat "$d/$name.args")
			fail_out "harness watchdog: sbx still running after ${limit}s, killed it"
		fi
		sleep 0.02
	done
	RC=$(cat "$d/$name.rc")
	ELAPSED_MS=$((($(cat "$d/$name.t1") - $(cat "$d/$name.t0")) / 1000))
	LAST_ARGS=$(cat "$d/$name.args")
	LAST_NAME=$name
	ln -f "$d/$name.out" "$T/out"
	ln -f "$d/$name.err" "$T/err"
	return 0
}

# run_sbx ARGS...: run sbx in the foreground (stdin inherited, /dev/null by
# default in tests). WATCHDOG (seconds, default 90) bounds the run.
run_sbx() {
	RUNS=$((RUNS + 1))
	sbx_start "run$RUNS" "$@"
	sbx_wait "run$RUNS" "${WATCHDOG:-90}"
}

# Stop background sbx runs a failed test left behind (SIGTERM, then SIGKILL).
_stop_background() {
	local d=$T/.runs name pid i left
	[ -f "$d/.bglist" ] || return 0
	left=()
	while read -r name; do
		[ -e "$d/$name.rc" ] && continue
		pid=$(cat "$d/$name.pid" 2>/dev/null) || continue
		kill -TERM "$pid" 2>/dev/null && left+=("$name")
	done <"$d/.bglist"
	[ ${#left[@]} -eq 0 ] && return 0
	for ((i = 0; i < 300; i++)); do
		local busy=0
		for name in "${left[@]}"; do
			[ -e "$d/$name.rc" ] || busy=1
		done
		[ $busy = 0 ] && return 0
		sleep 0.01
	done
	for name in "${left[@]}"; do
		[ -e "$d/$name.rc" ] || kill -KILL "$(cat "$d/$name.pid")" 2>/dev/null
	done
	sleep 0.2
}

# ---------------------------------------------------------------- assertions

# expect_rc N [WHAT]: the last run exited with N.
expect_rc() {
	[ "$RC" = "$1" ] || fail_out "${2:-sbx} exited with $RC, expected $1"
}

# expect_stdout TEXT: stdout is exactly TEXT plus one newline.
expect_stdout() {
	local got
	got=$(
		cat "$T/out"
		echo x
	)
	[ "$got" = "$1"$'\n'x ] || fail_out "stdout is not '$1'"
}

# out_has LINE: stdout contains this exact line.
out_has() {
	grep -qxF -- "$1" "$T/out"
}

# out_line KEY: the rest of the first stdout line starting with "KEY ".
out_line() {
	awk -v k="$1 " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$T/out"
}

# Sanitizer chatter that an ASan build may print (also from the child it
# forks, i.e. into the command's own stderr) without it being an error
# report: "==PID==WARNING..." and its follow-up lines. Real reports
# ("ERROR: AddressSanitizer", "runtime error:") fail the test in run.sh.
SAN_NOISE_RE='^==[0-9]+==|^=+$|^SUMMARY: |^False positive error reports may follow|^For details see https://github.com/google/sanitizers/'

# strip_san_noise: filter sanitizer chatter lines from stdin
strip_san_noise() {
	grep -avE "$SAN_NOISE_RE"
}

# stderr_lines FILE: the file's lines without sanitizer chatter and blank lines.
stderr_lines() {
	grep -avE "$SAN_NOISE_RE"'|^[[:space:]]*$' "${1:-$T/err}"
}

# ---------------------------------------------------------------- JSON

# json_get KEY [FILE]: raw value of a top-level key of the JSON object in
# FILE ($T/out by default): numbers/true/false/null as written, strings
# without the quotes and still escaped. Status 1 if the key is missing.
json_get() {
	LC_ALL=C awk -v key="$1" '
		{ s = s $0 }
		END {
			if (!match(s, "\"" key "\"[ \t\r]*:[ \t\r]*")) exit 1
			rest = substr(s, RSTART + RLENGTH)
			if (substr(rest, 1, 1) == "\"") {
				if (!match(rest, /^"([^"\\]|\\.)*"/)) exit 1
				printf "%s", substr(rest, 2, RLENGTH - 2)
			} else {
				if (!match(rest, /^[^,} \t\r\n]+/)) exit 1
				printf "%s", substr(rest, RSTART, RLENGTH)
			}
		}' "${2:-$T/out}"
}

# json_unescape: decode a JSON string body on stdin (\n, \t, \", \\, \/,
# \b, \f, \r, \uXXXX incl. surrogate pairs) to UTF-8 bytes on stdout.
json_unescape() {
	LC_ALL=C awk '
		function hex(h,   i, v, c) {
			v = 0
			for (i = 1; i <= length(h); i++) {
				c = index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
				if (c < 0) return -1
				v = v * 16 + c
			}
			return v
		}
		function utf8(cp) {
			if (cp < 128) return sprintf("%c", cp)
			if (cp < 2048) return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
			if (cp < 65536) return sprintf("%c%c%c", 224 + int(cp / 4096), 128 + int(cp / 64) % 64, 128 + cp % 64)
			return sprintf("%c%c%c%c", 240 + int(cp / 262144), 128 + int(cp / 4096) % 64, 128 + int(cp / 64) % 64, 128 + cp % 64)
		}
		{ s = s $0 }
		END {
			out = ""
			while ((i = index(s, "\\")) > 0) {
				out = out substr(s, 1, i - 1)
				c = substr(s, i + 1, 1)
				if (c == "u") {
					cp = hex(substr(s, i + 2, 4))
					s = substr(s, i + 6)
					if (cp >= 55296 && cp < 56320 && substr(s, 1, 2) == "\\u") {
						lo = hex(substr(s, 3, 4))
						if (lo >= 56320 && lo < 57344) {
							cp = 65536 + (cp - 55296) * 1024 + (lo - 56320)
							s = substr(s, 7)
						}
					}
					out = out utf8(cp)
					continue
				}
				if (c == "n") out = out "\n"
				else if (c == "t") out = out "\t"
				else if (c == "r") out = out "\r"
				else if (c == "b") out = out "\b"
				else if (c == "f") out = out "\f"
				else out = out c
				s = substr(s, i + 2)
			}
			printf "%s", out s
		}'
}

# json_str KEY [FILE]: decoded string value (command substitution drops
# trailing newlines; use json_str_to for exact bytes).
json_str() {
	json_get "$@" | json_unescape
}

# json_str_to KEY FILE_OUT [FILE]: decoded string value written to FILE_OUT.
json_str_to() {
	local key=$1 dst=$2
	shift 2
	json_get "$key" "$@" | json_unescape >"$dst"
}

# json_py FILE PYCODE: parse FILE with the sandboxed python3 (the host may
# have no python); PYCODE sees the object as `d` and prints its verdict.
# Sets PY_OUT (its stdout) and returns its exit status. Uses the sbx under test.
json_py() {
	local file=$1 code=$2 saved_rc=$RC saved_args=$LAST_ARGS saved_name=$LAST_NAME
	local saved_ms=$ELAPSED_MS
	local pre="import json,sys
d=json.loads(sys.stdin.buffer.read().decode('utf-8'))
"
	RUNS=$((RUNS + 1))
	sbx_start "jsonpy$RUNS" run --output-limit 1M --timeout 60s -- python3 -c "$pre$code" <"$file"
	sbx_wait "jsonpy$RUNS" 90
	PY_OUT=$(cat "$T/out")
	local st=$RC
	if [ "$st" != 0 ]; then
		detail "json_py check exited $st; stderr: $(head -c 1500 "$T/err")"
	fi
	# restore the caller's view of the previous run
	RC=$saved_rc LAST_ARGS=$saved_args ELAPSED_MS=$saved_ms LAST_NAME=$saved_name
	if [ -n "$saved_name" ]; then
		ln -f "$T/.runs/$saved_name.out" "$T/out"
		ln -f "$T/.runs/$saved_name.err" "$T/err"
	fi
	return "$st"
}

# ---------------------------------------------------------------- files, sync

# mk_dir NAME [MODE]: a dir under $T (default mode 0755); prints its path.
mk_dir() {
	mkdir -p "$T/$1" && chmod "${2:-0755}" "$T/$1" && echo "$T/$1"
}

# mk_sync: a world-writable dir, mounted :rw as /workspace, used only to
# pass "ready"/"go" files between the harness and a sandbox (so the tests
# that use it do not depend on how the runtime maps workspace ownership).
mk_sync() {
	mk_dir sync 0777
}

# wait_for_file PATH SECONDS
wait_for_file() {
	local end=$(($(now_us) + $2 * 1000000))
	while [ ! -e "$1" ]; do
		(($(now_us) > end)) && return 1
		sleep 0.02
	done
	return 0
}

# unique marker to recognise a sandbox's processes from the host
new_mark() {
	echo "sbxmark${BASHPID}x${RANDOM}${RANDOM}"
}

# ---------------------------------------------------------------- host views

# pidns_of PID
pidns_of() {
	readlink "/proc/$1/ns/pid" 2>/dev/null
}

# mark_pids MARK: host pids of processes outside the harness's pid
# namespace whose command line contains MARK.
mark_pids() {
	local f pid ns
	for f in $(grep -laF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		ns=$(pidns_of "$pid")
		[ -n "$ns" ] && [ "$ns" != "$HOST_PIDNS" ] && echo "$pid"
	done
}

# wait_no_mark MARK SECONDS: wait until no process carries MARK.
wait_no_mark() {
	local end=$(($(now_us) + $2 * 1000000))
	while [ -n "$(mark_pids "$1")" ]; do
		(($(now_us) > end)) && return 1
		sleep 0.05
	done
	return 0
}

# describe_pids PID...: "pid state cmdline" per line
describe_pids() {
	local p
	for p in "$@"; do
		printf '%s %s %s\n' "$p" "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" \
			"$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | head -c 200)"
	done
}

# cg_mount CTRL: mount point of the cgroup v1 hierarchy holding CTRL.
cg_mount() {
	awk -v c="$1" '{
		for (i = 7; i <= NF && $i != "-"; i++) ;
		if ($(i + 1) != "cgroup") next
		n = split($(i + 3), o, ",")
		for (j = 1; j <= n; j++) if (o[j] == c) { print $5; exit }
	}' /proc/self/mountinfo
}

# cg_own CTRL [PID]: PID's cgroup path in CTRL's v1 hierarchy.
cg_own() {
	awk -F: -v c="$1" '{
		n = split($2, o, ",")
		for (j = 1; j <= n; j++) if (o[j] == c) { sub(/^[^:]*:[^:]*:/, ""); print; exit }
	}' "/proc/${2:-self}/cgroup"
}

# cg_dir CTRL PATH: filesystem dir of a cgroup path
cg_dir() {
	local m
	m=$(cg_mount "$1")
	if [ "$2" = / ]; then echo "$m"; else echo "$m$2"; fi
}

# host_ipv4s: the host's local IPv4 addresses (one per line)
host_ipv4s() {
	awk '/32 host/ { print f } { f = $2 }' /proc/net/fib_trie 2>/dev/null | sort -u
}

# host_gateway: default gateway (dotted quad) or nothing
host_gateway() {
	awk 'NR > 1 && $2 == "00000000" && $3 != "00000000" { print $3; exit }' /proc/net/route |
		{
			read -r h || exit 0
			printf '%d.%d.%d.%d\n' "0x${h:6:2}" "0x${h:4:2}" "0x${h:2:2}" "0x${h:0:2}"
		}
}

need_helpers() {
	[ -n "$HELPERS" ] || skip "helpers not built: $HELPERS_ERR"
}

# ---------------------------------------------------------------- workspaces without idmapped mounts

# ws_refusal_line DIR: the one line sbx prints when it refuses host
# directory DIR as a workspace (its file system cannot be idmapped and root
# inside is not its owner), as documented in docs/cli.md.
ws_refusal_line() {
	local dir=$1 t type uid gid
	t=$(stat -f -c %t "$dir")
	case $t in
	1021994) type=tmpfs ;;
	794c7630) type=overlayfs ;;
	6969) type=nfs ;;
	858458f6) type=ramfs ;;
	1021997) type=9p ;;
	65735546) type=fuse ;;
	*) type=0x$t ;;
	esac
	uid=$(stat -c %u "$dir")
	gid=$(stat -c %g "$dir")
	if [ "$uid" = 0 ] || [ "$gid" = 0 ]; then
		echo "sbx: workspace $dir: its file system ($type) cannot be idmapped, so root inside the sandbox would not own it: use a file system with idmapped mounts (ext4, xfs, btrfs; tmpfs from Linux 6.3), or chown it to a user other than root and give that user's ids with --map-uid/--map-gid"
	else
		echo "sbx: workspace $dir: its file system ($type) cannot be idmapped, so root inside the sandbox would not own it: use a file system with idmapped mounts (ext4, xfs, btrfs; tmpfs from Linux 6.3), or give --map-uid $uid --map-gid $gid (the directory's owner)"
	fi
}

# ws_idmap_ok DIR: 0 if sbx accepts DIR (owned by someone else than root
# inside) as a workspace (an idmapped mount), 1 if sbx refuses it because
# its file system cannot be idmapped; the probe is the sbx binary itself
# (a :ro run of `true`); anything else fails the test.
ws_idmap_ok() {
	local rc
	"$SBX" run --workspace "$1:ro" -- true >"$T/.wsprobe.out" 2>"$T/.wsprobe.err"
	rc=$?
	[ "$rc" = 0 ] && return 0
	[ "$rc" = 125 ] && [ "$(stderr_lines "$T/.wsprobe.err")" = "$(ws_refusal_line "$1")" ] && return 1
	fail "workspace probe of $1: exit $rc: $(head -c 300 "$T/.wsprobe.err")"
}

# ws_usable DIR: 0 if DIR can be a workspace here; else (its file system
# cannot be idmapped, and ws_idmap_ok saw sbx refuse it with exactly the
# documented line and 125) a note and 1: `ws_usable "$dir" || return 0`
# ends a test that needs a host dir as a documented refusal, not a skip.
ws_usable() {
	ws_idmap_ok "$1" && return 0
	note "$1 cannot be idmapped here: refused with the documented line"
	return 1
}

# ws_expect_refused DIR WHAT: the last sbx run refused DIR with exit 125
# and exactly the documented line (and nothing on stdout).
ws_expect_refused() {
	local want
	want=$(ws_refusal_line "$1")
	[ "$RC" = 125 ] || fail_out "$2: exit $RC, want 125 (refused: $1 cannot be idmapped)"
	[ "$(stderr_lines "$T/err")" = "$want" ] || fail_out "$2: stderr is not the one line '$want'"
	[ -s "$T/out" ] && fail_out "$2: stdout is not empty"
	return 0
}

# ws_ramfs NAME: a fresh ramfs (a file system without idmapped mounts) at
# $T/NAME (WS_RAMFS), unmounted when the test ends (not in a subshell).
ws_ramfs() {
	WS_RAMFS=$T/$1
	mkdir -p "$WS_RAMFS" && mount -t ramfs -o mode=0755 ramfs "$WS_RAMFS" ||
		fail "cannot mount a ramfs at $WS_RAMFS"
	on_exit "umount -l '$WS_RAMFS'"
}
