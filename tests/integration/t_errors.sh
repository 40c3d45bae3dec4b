# shellcheck shell=bash
# errors: every bad input gives exit 125, one line on stderr starting
# "sbx: " that names the problem, nothing on stdout, and leaves nothing
# behind (the harness's leak check). Each case is reported by label.

ERRS=()

# bad_input LABEL REGEX ARGS...: run sbx ARGS; REGEX (extended, case-
# insensitive) must match the message, e.g. the option or the bad value.
bad_input() {
	local label=$1 re=$2
	shift 2
	run_sbx "$@"
	local problems= lines first n
	lines=$(stderr_lines "$T/err")
	n=$(printf '%s' "$lines" | grep -c '')
	first=$(printf '%s\n' "$lines" | head -n 1)
	[ "$RC" = 125 ] || problems+=" exit $RC (want 125);"
	[ "$n" = 1 ] || problems+=" $n lines on stderr (want 1);"
	case $first in "sbx: "*) ;; *) problems+=" message does not start with 'sbx: ';" ;; esac
	printf '%s\n' "$first" | grep -qiE -- "$re" || problems+=" message does not name the problem (/$re/);"
	[ -s "$T/out" ] && problems+=" stdout not empty;"
	[ -z "$problems" ] || ERRS+=("[$label]$problems stderr: $(head -c 300 "$T/err" | tr '\n' '|')")
}

errors_done() {
	[ ${#ERRS[@]} -eq 0 ] && return 0
	local e
	for e in "${ERRS[@]}"; do detail "$e"; done
	fail "${#ERRS[@]} bad input(s) not rejected properly: $(printf '%s\n' "${ERRS[@]}" | sed 's/\].*/]/' | tr '\n' ' ')"
}

CMD=(-- python3 -c 'print(1)')

t_errors_bad_memory() {
	bad_input "--memory 12Q" 'memory|12Q' run --memory 12Q "${CMD[@]}"
	bad_input "--memory -1" 'memory|-1' run --memory -1 "${CMD[@]}"
	bad_input "--memory ''" 'memory' run --memory '' "${CMD[@]}"
	bad_input "--memory abc" 'memory|abc' run --memory abc "${CMD[@]}"
	bad_input "--memory 1.5.5G" 'memory|1\.5\.5G' run --memory 1.5.5G "${CMD[@]}"
	bad_input "--memory 99999999999999999999G (overflow)" 'memory|9999' run --memory 99999999999999999999G "${CMD[@]}"
	errors_done
}

t_errors_bad_output_limit() {
	bad_input "--output-limit ''" 'output' run --output-limit '' "${CMD[@]}"
	bad_input "--output-limit 10X" 'output|10X' run --output-limit 10X "${CMD[@]}"
	bad_input "--output-limit -5" 'output|-5' run --output-limit -5 "${CMD[@]}"
	errors_done
}

t_errors_bad_tmp_size() {
	bad_input "--tmp-size 5Z" 'tmp|5Z' run --tmp-size 5Z "${CMD[@]}"
	bad_input "--tmp-size ''" 'tmp' run --tmp-size '' "${CMD[@]}"
	errors_done
}

t_errors_bad_timeout() {
	bad_input "--timeout 5x" 'timeout|5x' run --timeout 5x "${CMD[@]}"
	bad_input "--timeout ''" 'timeout' run --timeout '' "${CMD[@]}"
	bad_input "--timeout -1s" 'timeout|-1s' run --timeout -1s "${CMD[@]}"
	bad_input "--timeout s" 'timeout' run --timeout s "${CMD[@]}"
	bad_input "--timeout 1.5.5s" 'timeout|1\.5\.5s' run --timeout 1.5.5s "${CMD[@]}"
	bad_input "--timeout 2562047788015h (overflow)" 'timeout|2562047788015h' run --timeout 2562047788015h "${CMD[@]}"
	bad_input "--timeout 87601h (over 10 years)" 'timeout|87601h' run --timeout 87601h "${CMD[@]}"
	errors_done
}

t_errors_bad_cpus() {
	bad_input "--cpus abc" 'cpus|abc' run --cpus abc "${CMD[@]}"
	bad_input "--cpus -1" 'cpus|-1' run --cpus -1 "${CMD[@]}"
	bad_input "--cpus ''" 'cpus' run --cpus '' "${CMD[@]}"
	bad_input "--cpus 1.2.3" 'cpus|1\.2\.3' run --cpus 1.2.3 "${CMD[@]}"
	errors_done
}

t_errors_bad_pids() {
	bad_input "--pids abc" 'pids|abc' run --pids abc "${CMD[@]}"
	bad_input "--pids -5" 'pids|-5' run --pids -5 "${CMD[@]}"
	bad_input "--pids ''" 'pids' run --pids '' "${CMD[@]}"
	bad_input "--pids 1.5" 'pids|1\.5' run --pids 1.5 "${CMD[@]}"
	errors_done
}

t_errors_bad_net() {
	bad_input "--net bridge" 'net|bridge' run --net bridge "${CMD[@]}"
	bad_input "--net host" 'net|host' run --net host "${CMD[@]}"
	bad_input "--net ''" 'net' run --net '' "${CMD[@]}"
	errors_done
}

t_errors_unknown_option() {
	bad_input "--frobnicate" 'frobnicate' run --frobnicate "${CMD[@]}"
	bad_input "-Z" 'Z|option' run -Z "${CMD[@]}"
	bad_input "unknown subcommand" 'frob|command' frob "${CMD[@]}"
	errors_done
}

t_errors_missing_option_value() {
	bad_input "--memory at the end" 'memory' run --memory
	bad_input "--timeout at the end" 'timeout' run --timeout
	errors_done
}

t_errors_missing_command() {
	bad_input "run" 'command' run
	bad_input "run --" 'command' run --
	bad_input "run --memory 64M --" 'command' run --memory 64M --
	errors_done
}

t_errors_missing_rootfs() {
	bad_input "--rootfs /nonexistent" 'rootfs|/nonexistent' run --rootfs /nonexistent "${CMD[@]}"
	bad_input "--rootfs FILE" 'rootfs|passwd' run --rootfs /etc/passwd "${CMD[@]}"
	errors_done
}

t_errors_rootfs_without_python() {
	local empty
	empty=$(mk_dir empty)
	bad_input "--rootfs EMPTY_DIR" 'rootfs|python|empty' run --rootfs "$empty" "${CMD[@]}"
	errors_done
}

t_errors_workspace_missing() {
	bad_input "--workspace MISSING:ro" 'workspace|no-such-dir' run --workspace "$T/no-such-dir:ro" "${CMD[@]}"
	bad_input "--workspace MISSING:rw" 'workspace|no-such-dir' run --workspace "$T/no-such-dir:rw" "${CMD[@]}"
	echo x >"$T/a-file"
	bad_input "--workspace FILE:ro" 'workspace|a-file' run --workspace "$T/a-file:ro" "${CMD[@]}"
	errors_done
}

t_errors_workspace_bad_mode() {
	local ws
	ws=$(mk_dir ws)
	bad_input "--workspace DIR:rx" 'workspace|rx|mode' run --workspace "$ws:rx" "${CMD[@]}"
	bad_input "--workspace DIR:" 'workspace|mode' run --workspace "$ws:" "${CMD[@]}"
	bad_input "--workspace ''" 'workspace' run --workspace '' "${CMD[@]}"
	errors_done
}

t_errors_bad_cwd() {
	bad_input "--cwd relative/path" 'cwd|relative' run --cwd relative/path "${CMD[@]}"
	bad_input "--cwd /../etc" 'cwd|\.\.' run --cwd /../etc "${CMD[@]}"
	bad_input "--cwd /tmp/./x" 'cwd' run --cwd /tmp/./x "${CMD[@]}"
	bad_input "--cwd ''" 'cwd' run --cwd '' "${CMD[@]}"
	errors_done
}

t_errors_bad_env() {
	bad_input "--env NOEQUALS" 'env|NOEQUALS' run --env NOEQUALS "${CMD[@]}"
	bad_input "--env =value" 'env|=value' run --env =value "${CMD[@]}"
	bad_input "--env ''" 'env' run --env '' "${CMD[@]}"
	bad_input "--env 1BAD=x" 'env|1BAD' run --env 1BAD=x "${CMD[@]}"
	errors_done
}

t_errors_bad_hostname() {
	bad_input "--hostname 'bad host'" 'hostname|bad host' run --hostname 'bad host' "${CMD[@]}"
	bad_input "--hostname ''" 'hostname' run --hostname '' "${CMD[@]}"
	bad_input "--hostname -lead" 'hostname|-lead' run --hostname -lead "${CMD[@]}"
	bad_input "--hostname under_score" 'hostname|under_score' run --hostname under_score "${CMD[@]}"
	bad_input "--hostname 64 chars" 'hostname|aaaa' run --hostname "$(printf 'a%.0s' {1..64})" "${CMD[@]}"
	errors_done
}

# An error line is one write(2): lines of concurrent sbx processes sharing
# a stderr never interleave ("sbx: sbx: no such sandbox" came from three
# writes per line). Checked with strace (every write to fd 2), then with
# 40 concurrent failing processes appending to one file.
t_errors_one_write_per_line() {
	command -v strace >/dev/null || fail "strace is not installed (make deps installs it)"
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	local args writes
	for args in "exec no-such-box-$$ -- true" "run --memory 12Q -- true" "rm no-such-box-$$"; do
		# (LeakSanitizer cannot run under ptrace: off for an ASan build, and
		# a sanitizer's own "==PID==" lines are not sbx's)
		# shellcheck disable=SC2086
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -qq -e trace=write -e signal=none -o "$T/strace" "$SBX" $args 2>"$T/err" >/dev/null
		writes=$(grep 'write(2, ' "$T/strace" | grep -vc 'write(2, "==')
		[ "$writes" = 1 ] || {
			detail "$(grep 'write(2, ' "$T/strace")"
			fail "sbx $args: $writes writes to stderr for one error line (want 1)"
		}
	done
	local i
	: >"$T/all"
	for ((i = 0; i < 40; i++)); do
		"$SBX" exec "no-such-box-$$-$i" -- true 2>>"$T/all" &
	done
	wait
	local n bad
	n=$(grep -c '' "$T/all")
	bad=$(grep -cvE "^sbx: [^:]*no-such-box-$$-[0-9]+[^:]*(: [^:]+)*$|^sbx: no such sandbox" "$T/all")
	[ "$n" = 40 ] || fail "$n lines from 40 failing processes: $(head -c 300 "$T/all" | tr '\n' '|')"
	grep -q 'sbx: .*sbx: ' "$T/all" && fail "interleaved lines: $(grep 'sbx: .*sbx: ' "$T/all" | head -3 | tr '\n' '|')"
	[ "$bad" = 0 ] || fail "$bad malformed lines: $(head -c 300 "$T/all" | tr '\n' '|')"
}
