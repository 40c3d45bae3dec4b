# shellcheck shell=bash
# basic: the command runs in the rootfs and its result comes back.

t_basic_python_42() {
	run_sbx run -- python3 -c 'print(6*7)'
	expect_rc 0
	expect_stdout 42
}

t_basic_runs_in_rootfs() {
	echo host-only >"$T/host-only-marker"
	local py='
import os, sys
osr = dict(l.strip().split("=", 1) for l in open("/etc/os-release") if "=" in l)
print("CODENAME", osr.get("VERSION_CODENAME", "?"))
print("MARKER", os.path.exists(sys.argv[1]), os.path.exists(sys.argv[2]))
print("HOSTREPO", os.path.exists(sys.argv[3]))
print("EXE", os.path.realpath(sys.executable))
'
	run_sbx run -- python3 -c "$py" "$T/host-only-marker" "$T" "$REPO"
	expect_rc 0
	out_has "CODENAME bookworm" || fail_out "/etc/os-release inside does not say bookworm"
	out_has "MARKER False False" || fail_out "the harness's temp dir $T is visible inside"
	out_has "HOSTREPO False" || fail_out "the host's $REPO is visible inside"
	[ -e "$ROOTFS/usr/bin/python3" ] || [ -L "$ROOTFS/usr/bin/python3" ] || return 0
	grep -q '^EXE /usr/bin/python3' "$T/out" || fail_out "python3 inside is not the rootfs's /usr/bin/python3"
}

t_basic_stdin() {
	# (process substitution, not a pipe into run_sbx: that would run it in a subshell)
	run_sbx run -- python3 - < <(printf 'print(1+1)\n')
	expect_rc 0
	expect_stdout 2

	# more than a pipe buffer of binary data, from a file
	head -c 1048576 /dev/urandom >"$T/in.bin"
	local sum
	sum=$(sha256sum <"$T/in.bin" | cut -d' ' -f1)
	run_sbx run -- python3 -c 'import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())' <"$T/in.bin"
	expect_rc 0
	expect_stdout "$sum"

	# through a pipe, binary, unterminated
	head -c 300000 /dev/urandom >"$T/in2.bin"
	sum=$(sha256sum <"$T/in2.bin" | cut -d' ' -f1)
	run_sbx run -- python3 -c 'import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())' < <(cat "$T/in2.bin")
	expect_rc 0
	expect_stdout "$sum"

	# stdin at EOF (the harness runs tests with </dev/null): no hang
	run_sbx run --timeout 20s -- python3 -c 'import sys; print(repr(sys.stdin.read()))'
	expect_rc 0
	expect_stdout "''"
}

t_basic_env() {
	export SBX_TEST_HOST_MARKER=host-secret-$RANDOM
	local py='
import os
for k in sorted(os.environ): print(k + "=" + os.environ[k])
'
	run_sbx run --env FOO=bar --env 'SPACED=a b=c' --env EMPTY= -- python3 -c "$py"
	expect_rc 0
	local l bad=
	for l in 'FOO=bar' 'SPACED=a b=c' 'EMPTY=' 'HOME=/root' 'LANG=C.UTF-8'; do
		out_has "$l" || bad+=" missing '$l';"
	done
	grep -q '^PATH=/' "$T/out" || bad+=" no absolute PATH;"
	grep -q SBX_TEST_HOST_MARKER "$T/out" && bad+=" the host's SBX_TEST_HOST_MARKER leaked in;"
	local extra
	extra=$(sed 's/=.*//' "$T/out" | grep -vxE 'PATH|HOME|LANG|HOSTNAME|FOO|SPACED|EMPTY' | tr '\n' ' ')
	[ -n "$extra" ] && bad+=" unexpected variables: $extra;"
	[ -z "$bad" ] || fail_out "environment:$bad"
}

t_basic_exit_codes() {
	local c bad=
	for c in 0 1 3 255; do
		run_sbx run -- python3 -c "import sys; sys.exit($c)"
		[ "$RC" = "$c" ] || bad+=" sys.exit($c) gave $RC;"
	done
	[ -z "$bad" ] || fail_out "exit codes:$bad"
	run_sbx run --json -- python3 -c 'import sys; sys.exit(3)'
	expect_rc 3 "sbx --json"
	[ "$(json_get exit_code)" = 3 ] || fail_out "--json exit_code is not 3"
	[ "$(json_get signal)" = null ] || fail_out "--json signal is not null for a normal exit"
}

t_basic_killed_by_signal() {
	run_sbx run -- python3 -c 'import os; os.kill(os.getpid(), 9)'
	expect_rc 137 "SIGKILL"
	run_sbx run -- python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'
	expect_rc 143 "SIGTERM"
	run_sbx run --json -- python3 -c 'import os; os.kill(os.getpid(), 9)'
	expect_rc 137 "sbx --json, SIGKILL"
	[ "$(json_get exit_code)" = 137 ] || fail_out "--json exit_code is not 137"
	[ "$(json_get signal)" = 9 ] || fail_out "--json signal is not 9"
	[ "$(json_get oom_killed)" = false ] || fail_out "--json oom_killed is not false for a plain SIGKILL"
}

t_basic_signal_state_clean() {
	# The command must not start with signals blocked or ignored that sbx
	# itself blocks or ignores. Baseline: the same file read by a process
	# the harness starts the same way without sbx (it may inherit ignored
	# signals from whoever started the harness; sbx may pass those on or
	# reset them, but must not add any).
	local base_blk base_ign
	(
		SBX=/bin/cat
		sbx_start baseline /proc/self/status
		sbx_wait baseline 10
	)
	base_blk=$(awk '/^SigBlk:/ {print $2}' "$T/.runs/baseline.out")
	base_ign=$(awk '/^SigIgn:/ {print $2}' "$T/.runs/baseline.out")
	run_sbx run -- cat /proc/self/status
	expect_rc 0
	local blk ign bad=
	blk=$(awk '/^SigBlk:/ {print $2}' "$T/out")
	ign=$(awk '/^SigIgn:/ {print $2}' "$T/out")
	[ -n "$blk" ] && [ -n "$ign" ] && [ -n "$base_blk" ] && [ -n "$base_ign" ] || fail_out "no SigBlk/SigIgn lines"
	(((0x$blk & ~0x$base_blk) == 0)) || bad+=" blocked signals: SigBlk $blk (started without sbx: $base_blk);"
	(((0x$ign & ~0x$base_ign) == 0)) || bad+=" ignored signals: SigIgn $ign (started without sbx: $base_ign);"
	run_sbx run -- sh -c 'kill -TERM $$; echo survived'
	[ "$RC" = 143 ] || bad+=" sh -c 'kill -TERM \$\$' exited $RC (want 143);"
	[ -z "$bad" ] || fail "the command starts with:$bad"
}

t_basic_command_not_found() {
	run_sbx run -- no-such-command-sbx
	expect_rc 127 "a command not in PATH"
	run_sbx run -- /usr/bin/no-such-command-sbx
	expect_rc 127 "a missing absolute path"
}

t_basic_not_executable() {
	local ws
	ws=$(mk_dir ws)
	printf '#!/bin/sh\necho should-not-run\n' >"$ws/script.sh"
	chmod 0644 "$ws/script.sh"
	run_sbx run --workspace "$ws:ro" -- /workspace/script.sh
	expect_rc 126 "a non-executable file in the workspace"
	grep -q should-not-run "$T/out" && fail_out "the non-executable script ran"
	run_sbx run -- /etc/passwd
	expect_rc 126 "a non-executable file in the rootfs"
	run_sbx run -- /usr
	expect_rc 126 "a directory as the command"
}

t_basic_cwd() {
	local pwd='import os; print(os.getcwd())'
	run_sbx run --cwd /usr/lib -- python3 -c "$pwd"
	expect_rc 0
	expect_stdout /usr/lib

	run_sbx run -- python3 -c "$pwd"
	expect_rc 0
	expect_stdout /tmp

	local ws
	ws=$(mk_dir ws)
	mkdir "$ws/sub"
	echo in-sub >"$ws/sub/file"
	run_sbx run --workspace "$ws:ro" -- python3 -c "$pwd"
	expect_rc 0
	expect_stdout /workspace

	run_sbx run --workspace "$ws:ro" --cwd /workspace/sub -- python3 -c "$pwd; print(open('file').read().strip())"
	expect_rc 0
	[ "$(cat "$T/out")" = "/workspace/sub
in-sub" ] || fail_out "--cwd /workspace/sub: wrong cwd or relative open failed"
}

t_basic_version_help() {
	local ver
	ver=$(sed -n 's/^#define SBX_VERSION "\(.*\)"/\1/p' "$REPO/include/sbx.h")
	local bad=
	run_sbx --version
	{ [ "$RC" = 0 ] && grep -qF "$ver" "$T/out"; } || bad+=" 'sbx --version' (exit $RC, stdout '$(head -c 100 "$T/out")', want $ver);"
	run_sbx run --version
	{ [ "$RC" = 0 ] && grep -qF "$ver" "$T/out"; } || bad+=" 'sbx run --version' (exit $RC, stdout '$(head -c 100 "$T/out")');"
	run_sbx --help
	{ [ "$RC" = 0 ] && grep -q 'run' "$T/out"; } || bad+=" 'sbx --help' (exit $RC, no usage on stdout);"
	run_sbx run --help
	{ [ "$RC" = 0 ] && grep -q -- '--memory' "$T/out"; } || bad+=" 'sbx run --help' (exit $RC, no --memory on stdout);"
	[ -z "$bad" ] || fail_out "version/help:$bad"
}

t_basic_rootfs_selection() {
	run_sbx run --rootfs "$ROOTFS" -- python3 -c 'print("explicit")'
	expect_rc 0 "--rootfs $ROOTFS"
	expect_stdout explicit

	# (the test runs in a subshell: changing SBX_ROOTFS here is local to it)
	export SBX_ROOTFS=/nonexistent-sbx-rootfs
	run_sbx run -- python3 -c 'print(1)'
	expect_rc 125 "SBX_ROOTFS=/nonexistent-sbx-rootfs (SBX_ROOTFS ignored?)"
	run_sbx run --rootfs "$ROOTFS" -- python3 -c 'print("override")'
	expect_rc 0 "--rootfs with a bad SBX_ROOTFS (--rootfs must win)"
	expect_stdout override

	if [ "$ROOTFS_DEFAULT_LOOKUP" = 1 ]; then
		unset SBX_ROOTFS
		run_sbx run -- python3 -c 'print("default")'
		expect_rc 0 "no --rootfs, no SBX_ROOTFS (rootfs next to the binary)"
		expect_stdout default
	else
		note "SBX_ROOTFS was set or no rootfs/python above $SBX_REAL: default-rootfs lookup not tested"
	fi
}
