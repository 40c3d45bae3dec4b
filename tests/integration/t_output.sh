# shellcheck shell=bash
# output: --json capture, output caps that never block the child, UTF-8
# replacement, streaming without --json, binary data.

t_output_json_fields() {
	run_sbx run --json -- python3 -c 'import sys; sys.stdout.write("out-data\n"); sys.stderr.write("err-data\n")'
	expect_rc 0
	local k bad=
	for k in exit_code signal timed_out oom_killed stdout stderr stdout_truncated stderr_truncated \
		duration_ms cpu_ms max_rss_kb; do
		json_get "$k" >/dev/null || bad+=" $k;"
	done
	[ -z "$bad" ] || fail_out "--json object lacks:$bad"
	json_str_to stdout "$T/o.txt"
	json_str_to stderr "$T/e.raw"
	strip_san_noise <"$T/e.raw" >"$T/e.txt" # (an ASan build's warnings from the child)
	printf 'out-data\n' | cmp -s - "$T/o.txt" || fail_out "stdout field is not 'out-data\\n'"
	printf 'err-data\n' | cmp -s - "$T/e.txt" || fail_out "stderr field is not 'err-data\\n'"
	local want
	for want in exit_code=0 signal=null timed_out=false oom_killed=false stdout_truncated=false stderr_truncated=false; do
		[ "$(json_get "${want%%=*}")" = "${want#*=}" ] || bad+=" ${want%%=*}=$(json_get "${want%%=*}");"
	done
	for k in duration_ms cpu_ms max_rss_kb; do
		[[ $(json_get $k) =~ ^[0-9]+$ ]] || bad+=" $k=$(json_get $k) is not a number;"
	done
	[[ $(json_get max_rss_kb) =~ ^[0-9]+$ ]] && [ "$(json_get max_rss_kb)" -gt 1000 ] || bad+=" max_rss_kb=$(json_get max_rss_kb) implausible for python;"
	[ -z "$bad" ] || fail_out "--json values:$bad"
	# exactly one object on stdout, nothing of the command's on sbx's stderr
	local first last
	first=$(tr -d ' \n\t\r' <"$T/out" | head -c 1)
	last=$(tr -d ' \n\t\r' <"$T/out" | tail -c 1)
	[ "$first$last" = "{}" ] || fail_out "stdout is not one JSON object"
	[ "$(grep -o '"exit_code"' "$T/out" | wc -l)" = 1 ] || fail_out "more than one object on stdout"
	grep -q 'err-data' "$T/err" && fail_out "with --json the command's stderr also went to sbx's stderr"
	iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null 2>&1 || fail_out "the JSON is not valid UTF-8"
	return 0
}

BIG_OUTPUT_PY='
import sys
chunk = b"x" * 65536
echunk = b"y" * 65536
for i in range(160):                      # 10 MiB on each stream
    sys.stdout.buffer.write(chunk)
    sys.stderr.buffer.write(echunk)
sys.stdout.flush()
sys.stderr.flush()
'

t_output_limit_json() {
	run_sbx run --output-limit 1K --timeout 30s --json -- python3 -c "$BIG_OUTPUT_PY"
	expect_rc 0 "10 MB of output with --output-limit 1K (the command must not block)"
	[ "$(json_get timed_out)" = false ] || fail_out "timed out: the command blocked on output"
	[ "$(json_get stdout_truncated)" = true ] || fail_out "stdout_truncated is not true"
	[ "$(json_get stderr_truncated)" = true ] || fail_out "stderr_truncated is not true"
	local so se n
	so=$(json_get stdout)
	json_str_to stderr "$T/e.raw"
	n=$(wc -c <"$T/e.raw")
	se=$(strip_san_noise <"$T/e.raw") # (an ASan build's warnings from the child)
	[ ${#so} -le 1024 ] && [ ${#so} -gt 0 ] || fail_out "stdout field has ${#so} bytes (want 1..1024)"
	[ "$n" -le 1024 ] && [ ${#se} -gt 0 ] || fail_out "stderr field has $n bytes (want 1..1024)"
	[[ $so =~ ^x+$ ]] || fail_out "stdout field is not just the command's bytes"
	[[ $se =~ ^y+$ ]] || fail_out "stderr field is not just the command's bytes"
	[ "$ELAPSED_MS" -lt 20000 ] || fail_out "took ${ELAPSED_MS}ms"
	note "kept ${#so} bytes of stdout, ${#se} of stderr"
}

t_output_limit_stream() {
	run_sbx run --output-limit 1K --timeout 30s -- python3 -c "$BIG_OUTPUT_PY"
	expect_rc 0 "10 MB of output with --output-limit 1K, streamed"
	local n ny
	n=$(wc -c <"$T/out")
	# (sbx may add its own "sbx: ... truncated" notice, an ASan build its
	# warnings: count the command's bytes, the one run of y's)
	ny=$(tr -c y '\n' <"$T/err" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
	[ "$n" -le 1024 ] && [ "$n" -gt 0 ] || fail_out "streamed $n bytes of stdout (want 1..1024)"
	[ "$ny" -le 1024 ] && [ "$ny" -gt 0 ] || fail_out "streamed $ny bytes of the command's stderr (want 1..1024)"
	[ "$(tr -d x <"$T/out" | wc -c)" = 0 ] || fail_out "stdout has bytes the command did not write"
	# the default cap is 100K
	run_sbx run --timeout 30s -- python3 -c "$BIG_OUTPUT_PY"
	expect_rc 0
	n=$(wc -c <"$T/out")
	[ "$n" = 102400 ] || fail_out "default output limit: streamed $n bytes of 10 MB (want 102400)"
}

t_output_invalid_utf8() {
	run_sbx run --json -- python3 -c 'import sys; sys.stdout.buffer.write(b"a\xffb"); sys.stderr.buffer.write(b"c\xfed")'
	expect_rc 0
	local so se fffd
	so=$(json_get stdout)
	fffd=$(printf '\357\277\275')
	case $so in 'a\ufffdb' | 'a\uFFFDb' | "a${fffd}b") ;; *) fail_out "stdout field is '$so', want a\\ufffdb" ;; esac
	# stderr decoded (an ASan build may have put warnings from the child before it)
	se=$(json_str stderr | strip_san_noise)
	[ "$se" = "c${fffd}d" ] || fail_out "stderr field decodes to '$se', want c<U+FFFD>d"
	iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null 2>&1 || fail_out "the JSON is not valid UTF-8"
}

t_output_utf8_replacement_detail() {
	# one U+FFFD per maximal invalid subpart (Unicode/WHATWG practice);
	# valid multibyte characters and control characters survive.
	run_sbx run --json -- python3 -c '
import sys
sys.stdout.buffer.write(b"x\xc0\xafy|\xe2\x82|\xed\xa0\x80|\xf4\x90\x80\x80|caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80|\x00\x01\x1f\x7f\"\\/\t\n|\xe2\x82")'
	expect_rc 0
	iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null 2>&1 || fail_out "the JSON is not valid UTF-8"
	cp "$T/out" "$T/result.json"
	json_py "$T/result.json" '
want = "x\ufffd\ufffdy|\ufffd|\ufffd\ufffd\ufffd|\ufffd\ufffd\ufffd\ufffd|caf\u00e9 \u20ac \U0001F600|\x00\x01\x1f\x7f\"\\/\t\n|\ufffd"
got = d["stdout"]
print("SAME" if got == want else "DIFF got=%s want=%s" % (ascii(got), ascii(want)))'
	[ "$PY_OUT" = SAME ] || fail_out "replacement: $PY_OUT"
}

t_output_streams_live() {
	sbx_start S run -- python3 -c '
import sys, time
print("first", flush=True)
print("efirst", file=sys.stderr, flush=True)
time.sleep(2)
print("second", flush=True)'
	local d=$T/.runs t_out= t_err= now
	while sbx_running S; do
		now=$(now_us)
		[ -z "$t_out" ] && grep -q first "$d/S.out" && t_out=$now
		[ -z "$t_err" ] && grep -q efirst "$d/S.err" && t_err=$now
		sleep 0.02
	done
	sbx_wait S 30
	expect_rc 0
	local t_end
	t_end=$(cat "$d/S.t1")
	[ "$(cat "$T/out")" = "first
second" ] || fail_out "wrong stdout"
	[ -n "$t_out" ] || fail_out "stdout's first line only appeared after sbx ended"
	[ -n "$t_err" ] || fail_out "stderr's first line only appeared after sbx ended"
	# the first lines must be readable well before the end (sleep 2 in between)
	[ $((t_end - t_out)) -ge 1000000 ] || fail_out "stdout's first line arrived only $(((t_end - t_out) / 1000))ms before the end: not streamed"
	[ $((t_end - t_err)) -ge 1000000 ] || fail_out "stderr's first line arrived only $(((t_end - t_err) / 1000))ms before the end: not streamed"
}

t_output_binary_stream() {
	run_sbx run --output-limit 2M -- python3 -c '
import hashlib, sys
d = bytes(range(256)) * 4096
sys.stdout.buffer.write(d)
sys.stdout.flush()
print(hashlib.sha256(d).hexdigest(), file=sys.stderr)'
	expect_rc 0
	local want got
	want=$(grep -aoE '^[0-9a-f]{64}$' "$T/err" | head -n 1)
	got=$(sha256sum <"$T/out" | cut -d' ' -f1)
	[ "$(wc -c <"$T/out")" = 1048576 ] || fail_out "got $(wc -c <"$T/out") bytes of 1048576"
	[ -n "$want" ] && [ "$got" = "$want" ] || fail_out "binary stdout altered (sha256 $got, want $want)"
}

t_output_large_non_utf8_json() {
	run_sbx run --output-limit 2M --json -- python3 -c '
import sys
sys.stdout.buffer.write(bytes(range(256)) * 4096)'
	expect_rc 0
	[ "$(json_get stdout_truncated)" = false ] || fail_out "1 MiB truncated under --output-limit 2M"
	iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null 2>&1 || fail_out "the JSON is not valid UTF-8"
	cp "$T/out" "$T/result.json"
	json_py "$T/result.json" '
want = (bytes(range(256)) * 4096).decode("utf-8", "replace")
got = d["stdout"]
if got == want:
    print("SAME")
else:
    i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
    print("DIFF len got=%d want=%d first difference at %d: got %s want %s" % (len(got), len(want), i, ascii(got[i:i+8]), ascii(want[i:i+8])))'
	[ "$PY_OUT" = SAME ] || fail_out "1 MiB of bytes 0..255: $PY_OUT"
}

# ---------------------------------------------------------------- a reader that goes away (issue 9)

# out_pipe_rc ARGS...: `sbx ARGS | head -c 10` (or | $READER), bounded by a
# 40 s watchdog; sets RC (sbx's status) and ELAPSED_MS.
out_pipe_rc() {
	local t0 reader=${READER:-head -c 10}
	LAST_ARGS="$* | $reader"
	t0=$(now_us)
	# shellcheck disable=SC2086
	timeout -k 5 40 "$SBX" "$@" 2>"$T/err" | $reader >"$T/out"
	RC=${PIPESTATUS[0]}
	ELAPSED_MS=$((($(now_us) - t0) / 1000))
}

# `sbx run -- yes | head`: the sandbox ends on EPIPE, sbx exits 141 as a
# shell pipeline's writer would, even without a timeout.
t_output_reader_gone_run() {
	out_pipe_rc run --timeout 0 -- yes
	expect_rc 141 "sbx run --timeout 0 -- yes | head -c 10"
	[ "$(stderr_lines | wc -l)" = 0 ] || fail_out "sbx printed notes for a reader that went away"
	out_pipe_rc run --timeout 0 -- sh -c 'yes >&2' 2>&1
	out_pipe_rc run --timeout 0 -- python3 -c 'import sys
while True: sys.stdout.write("x" * 1000)'
	expect_rc 141 "sbx run -- python3 (endless writer) | head -c 10"
}

t_output_reader_gone_exec() {
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	on_exit '"$SBX" rm -f OUT1'
	run_sbx create OUT1
	expect_rc 0 "sbx create"
	out_pipe_rc exec OUT1 --timeout 0 -- yes
	expect_rc 141 "sbx exec --timeout 0 -- yes | head -c 10"
	run_sbx exec OUT1 -- sh -c 'ps -e -o comm= | grep -c "^yes$" || true'
	expect_rc 0
	expect_stdout 0
}

t_output_reader_gone_pool() {
	# The pool answers in one line at the end, so its client sees a reader
	# go away before there is anything to write: one that never reads. The
	# client then closes its connection, and the daemon ends the request
	# (no timeout here: without that, `yes` would run forever).
	local S=$T/pool.sock i
	pool_up P "$S" --size 1 --timeout 0
	READER="sleep 1" out_pipe_rc run --pool "$S" --timeout 0 -- yes
	expect_rc 141 "sbx run --pool -- yes | sleep 1"
	printf 'while True: print("y")\n' >"$T/y.py"
	READER="sleep 1" out_pipe_rc python --pool "$S" --timeout 0 "$T/y.py"
	expect_rc 141 "sbx python --pool | sleep 1"
	for ((i = 0; i < 300; i++)); do
		[ "$(pool_stat "$S" in_use)" = 0 ] && break
		sleep 0.1
	done
	[ "$(pool_stat "$S" in_use)" = 0 ] ||
		fail "the daemon still runs the requests of clients that left ($(pool_stat "$S" in_use) in use)"
	pool_stop P
}
