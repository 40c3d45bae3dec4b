# shellcheck shell=bash
# tools/bench: the Docker API section (key dockerapi, issue 11); sourced.
#
# `sbx serve --docker-api $TMP/dapi.sock --size 4` against the private
# dockerd of tools/benchlib/engines.sh, on the same machine, in the same run:
#  - rows of the startup table (dapi_rows, called by engine_rows: in the
#    same round-robin as every other row): the real docker CLI of the
#    "docker run" row, with the same argv but our socket ("docker run → sbx
#    API": --network none, which the `none` warm pool serves), the
#    issue's `docker run --rm IMAGE python3 -c pass` (Docker's default
#    network, which the warm pool serves), and `docker version` against
#    each socket: the CLI's own cost, a floor no server can go below;
#  - the dockerode cycle (dapi_section, after the startup table):
#    tools/benchlib/dockerapi-cycle.js, create + start + exec + remove,
#    interleaved between the two sockets;
#  - the targets (issue 11): the cycle >= 20x faster than on dockerd, the
#    docker run >= 10x; the ratios are dockerd's median / ours.
# The server is stopped with SIGTERM by dapi_stop (dapi_down: the cleanup
# hook), which checks that it left no process and no socket; its sandboxes'
# cgroups are checked with the bench's (add_creator).

DAPI_SOCK="" DAPI_PID="" DAPI_ERR="" DAPI_POOL=4
DAPI_CYCLE=$LIB/dockerapi-cycle.js
DAPI_CYCLE_TARGET_X=20 # dockerode cycle: dockerd median / sbx median
DAPI_RUN_TARGET_X=10   # docker run --rm IMAGE python3 -c pass, the same
DAPI_T_RUN="docker run → sbx API"
DAPI_T_POOL="docker run → sbx API, default network"
DAPI_T_VER="docker version → sbx API"
DAPI_T_VERD="docker version → dockerd"

# dapi_start: the server in the background; waits (60 s) until it says it
# serves and its socket is there.  Returns 1 with the reason in DAPI_ERR.
dapi_start() {
    local i st=0
    DAPI_SOCK=$TMP/dapi.sock
    "$SBX" serve --docker-api "$DAPI_SOCK" --size "$DAPI_POOL" </dev/null >/dev/null 2>"$TMP/dapi.err" &
    DAPI_PID=$!
    add_creator "$DAPI_PID"
    for ((i = 0; i < 600; i++)); do
        if [[ -S $DAPI_SOCK ]] && grep -q 'serving on' "$TMP/dapi.err" 2>/dev/null; then
            return 0
        fi
        kill -0 "$DAPI_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$DAPI_PID" 2>/dev/null; then
        DAPI_ERR="sbx serve --docker-api: not serving within 60 s: $(head -c 200 "$TMP/dapi.err" | head -1)"
        dapi_stop
    else
        wait "$DAPI_PID" 2>/dev/null || st=$?
        DAPI_ERR="sbx serve --docker-api exited with status $st: $(grep -m1 -v '^$' "$TMP/dapi.err" | head -c 200)"
        DAPI_PID=""
    fi
    return 1
}

# The pids below PID (children, their children...), one a line.
dapi_descendants() { # PID
    local -A kids=()
    local f pid line rest
    for f in /proc/[0-9]*/stat; do
        pid=${f#/proc/}
        pid=${pid%/stat}
        { read -r line <"$f"; } 2>/dev/null || continue
        rest=${line##*) } # "STATE PPID ..."
        rest=${rest#* }
        kids[${rest%% *}]+=" $pid"
    done
    local todo=("$1") p k
    while ((${#todo[@]})); do
        p=${todo[0]}
        todo=("${todo[@]:1}")
        for k in ${kids[$p]:-}; do
            echo "$k"
            todo+=("$k")
        done
    done
}

# dapi_alive PID...: those still running (not zombies).
dapi_alive() {
    local p line
    for p; do
        { read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
        line=${line##*) }
        [[ ${line:0:1} == Z ]] || echo "$p"
    done
}

# dapi_stop: SIGTERM, 30 s, then SIGKILL; what was left behind (a process
# of the server's, the socket) goes to DAPI_LEFT.
DAPI_LEFT=""
dapi_stop() {
    [[ -n $DAPI_PID ]] || return 0
    local pid=$DAPI_PID i p left=() kids
    DAPI_PID=""
    kids=$(dapi_descendants "$pid" | tr '\n' ' ')
    # shellcheck disable=SC2086 # a list of pids
    add_creator $kids
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        left+=("sbx serve --docker-api (pid $pid) still running 30 s after SIGTERM: killed it")
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    # Its sandboxes' processes end with it.
    for ((i = 0; i < 50; i++)); do
        # shellcheck disable=SC2086
        [[ -z $(dapi_alive $kids) ]] && break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    for p in $(dapi_alive $kids); do
        left+=("pid $p of sbx serve still running 5 s after it ended: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 100)")
    done
    [[ ! -e $DAPI_SOCK ]] || left+=("socket $DAPI_SOCK left")
    ((${#left[@]})) || return 0
    DAPI_LEFT+=$(printf 'dockerapi: %s\n' "${left[@]}")
}

# The cleanup hook: prints what was left behind.
dapi_down() {
    dapi_stop
    [[ -z $DAPI_LEFT ]] || printf '%s\n' "$DAPI_LEFT"
}
CLEANUP_HOOKS=(dapi_down "${CLEANUP_HOOKS[@]}")

# dapi_rows: the startup rows (in engine_rows, after the docker run row).
dapi_rows() {
    local wl why="" dargv=()
    have docker || why="the docker CLI is not installed"
    [[ -n $why ]] || [[ -x $SBX ]] || why="$SBX not built yet (make all)"
    [[ -n $why ]] || dapi_start || why=$DAPI_ERR
    if [[ -n $why ]]; then
        s_skip_each "$DAPI_T_RUN" "$why"
        s_skip_each "$DAPI_T_POOL" "$why"
        s_skip_each "$DAPI_T_VER" "$why"
        return 0
    fi
    local host=unix://$DAPI_SOCK
    for wl in "${WL_KEYS[@]}"; do
        wl_argv "$wl"
        # The docker row's argv with our socket instead of dockerd's.
        if [[ -n ${BENG_OK[docker]:-} ]]; then
            beng_argv docker "${WLA[@]}"
            dargv=("${BENG_ARGV[@]}")
            [[ ${dargv[1]} == -H ]] && dargv[2]=$host
        else
            dargv=(docker -H "$host" run --rm --network none "$BENG_IMAGE" "${WLA[@]}")
        fi
        s_cmd "$DAPI_T_RUN" "$wl" - "the docker run row's argv (--network none: the none warm pool), \`sbx serve --docker-api --size $DAPI_POOL\`" \
            "${dargv[@]}"
        s_cmd "$DAPI_T_POOL" "$wl" - "\`docker run --rm IMAGE CMD\` (no --network: Docker's default, which the warm pool serves)" \
            docker -H "$host" run --rm "$BENG_IMAGE" "${WLA[@]}"
        s_cmd "$DAPI_T_VER" "$wl" - "the docker CLI's own floor: \`docker version\` (the same in both columns)" \
            docker -H "$host" version
        if [[ -n ${BENG_OK[docker]:-} ]]; then
            s_cmd "$DAPI_T_VERD" "$wl" - "the same against the private dockerd" docker -H "$BENG_DOCKER_HOST" version
        else
            s_skip "$DAPI_T_VERD" "$wl" "${BENG_WHY[docker]:-dockerd not set up}"
        fi
    done
}

# dapi_summary FILE -> "n median p95" of the µs in FILE (benchstat).
dapi_summary() {
    local s
    s=$("$BENCHSTAT" summary "$1" 2>/dev/null) || { echo "0 0 0"; return 0; }
    [[ $s =~ n\ ([0-9]+)\ median\ ([0-9]+)\ p95\ ([0-9]+) ]] || { echo "0 0 0"; return 0; }
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}

# dapi_x THEIRS OURS: "12.3x" (THEIRS / OURS, one decimal).
dapi_x() {
    (($2 > 0)) || { echo "-"; return 0; }
    local t=$(((($1) * 10 + $2 / 2) / $2))
    echo "$((t / 10)).$((t % 10))x"
}

# dapi_target X10 TARGET: "met"/"missed" (X10: the ratio times 10).
dapi_met() { (($1 >= $2 * 10)) && echo met || echo missed; }

# The samples of startup series ROW|WL (status 0) into FILE; "" if not run.
dapi_series() { # ROW WL FILE
    local idx
    idx=$(s_find "$1" "$2")
    : >"$3"
    [[ $idx != - && -f $OUT/samples.tsv ]] || return 1
    awk -F'\t' -v i="$idx" '$1 == "run" && $2 == i && $4 == 0 { print $3 }' "$OUT/samples.tsv" >"$3"
}

# dapi_section: after the startup table: the docker CLI rows against each
# other, the dockerode cycle, the targets; stops the server.
dapi_section() {
    local f=$TMP/dapi.s n m p dn dm dp x10 wl row line
    print_header
    {
        echo "### Docker API (issue 11): sbx serve --docker-api against the private dockerd"
        echo
        echo "Same machine, same run; \`sbx serve --docker-api SOCKET --size $DAPI_POOL\` (warm pools of $DAPI_POOL, one per network mode)." \
            "Ratio: dockerd's median / ours. The docker CLI rows are rows of the startup table above (same round-robin)."
        echo
        echo "| | workload | runs | median ms | p95 ms | dockerd median ms | dockerd p95 ms | ratio | target |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
    } >"$OUT/dockerapi.md"
    for wl in "${WL_KEYS[@]}"; do
        for row in "$DAPI_T_RUN" "$DAPI_T_POOL" "$DAPI_T_VER"; do
            local ref="docker run" tgt=""
            [[ $row == "$DAPI_T_VER" ]] && ref=$DAPI_T_VERD
            if ! dapi_series "$row" "$wl" "$f" || [[ ! -s $f ]]; then
                echo "| $row | ${WL_NAME[$wl]} | 0 | not measured | | | | | |" >>"$OUT/dockerapi.md"
                continue
            fi
            read -r n m p < <(dapi_summary "$f")
            dn=0 dm=0 dp=0
            if dapi_series "$ref" "$wl" "$f" && [[ -s $f ]]; then read -r dn dm dp < <(dapi_summary "$f"); fi
            if [[ $row == "$DAPI_T_POOL" && $wl == py ]] && ((dm > 0)); then
                x10=$(((dm * 10 + m / 2) / m))
                tgt=">= ${DAPI_RUN_TARGET_X}x: $(dapi_met "$x10" "$DAPI_RUN_TARGET_X")"
                echo "docker run --rm IMAGE python3 -c pass ${DAPI_RUN_TARGET_X}x: $(dapi_met "$x10" "$DAPI_RUN_TARGET_X") ($(dapi_x "$dm" "$m"))" >"$TMP/dapi.target.run"
            fi
            if ((dm > 0)); then
                line="| $row | ${WL_NAME[$wl]} | $n | $(msr "$m") | $(msr "$p") | $(msr "$dm") | $(msr "$dp") | $(dapi_x "$dm" "$m") | $tgt |"
            else
                line="| $row | ${WL_NAME[$wl]} | $n | $(msr "$m") | $(msr "$p") | not measured | | | $tgt |"
            fi
            echo "$line" >>"$OUT/dockerapi.md"
        done
    done
    echo >>"$OUT/dockerapi.md"
    dapi_cycle >>"$OUT/dockerapi.md"
    dapi_stop
    [[ -z $DAPI_LEFT ]] || { echo "- left behind by the server: $DAPI_LEFT"; echo; } >>"$OUT/dockerapi.md"
    cat "$OUT/dockerapi.md"
}

# dapi_cycle: the dockerode cycle, its table (markdown on stdout).
dapi_cycle() {
    local why="" st=0 n m p dn dm dp x10 f=$TMP/dapi.c
    echo "**dockerode cycle** (\`tools/benchlib/dockerapi-cycle.js\`, dockerode from tests/dockerapi): createContainer" \
        "(sbx-python:latest, Cmd [\"sleep\",\"infinity\"], no limits) + start + exec \`python3 -c \"print(1)\"\`" \
        "(output demuxed and read to its end, checked) + remove({force: true}); $WARMUP warm-up cycles on each socket," \
        "then $N on each, interleaved sbx, dockerd, sbx, ... The same options on both sockets: no NetworkMode" \
        "(Docker's default: the warm pool's on sbx; on the private dockerd, which has no bridge, no network)." \
        "Time: the whole cycle in the client (process.hrtime), the connection kept alive by dockerode's agent."
    echo
    have node || why="node is not installed (make deps)"
    [[ -n $why ]] || [[ -d $REPO/tests/dockerapi/node_modules/dockerode ]] ||
        why="dockerode missing: npm ci in tests/dockerapi (make dockerapi-deps)"
    [[ -n $why ]] || [[ -n ${BENG_OK[docker]:-} ]] || why="no dockerd: ${BENG_WHY[docker]:-not set up}"
    [[ -n $why ]] || [[ -S $DAPI_SOCK && -n $DAPI_PID ]] || why="sbx serve --docker-api not running${DAPI_ERR:+: $DAPI_ERR}"
    if [[ -n $why ]]; then
        echo "- dockerode cycle: not measured: $why"
        echo
        return 0
    fi
    local dsock=${BENG_DOCKER_HOST#unix://}
    note "dockerapi: dockerode cycle, $N cycles on each socket after $WARMUP warm-up cycles"
    # the whole run's deadline: 20 s per cycle pair, and 2 minutes
    DAPI_BENCH_TOTAL_S=$(((N + WARMUP) * 20 + 120)) node "$DAPI_CYCLE" -w "$WARMUP" "$DAPI_SOCK" "$dsock" "$N" \
        >"$OUT/dockerapi-cycle.tsv" 2>"$TMP/dapi.cycle.err" </dev/null || st=$?
    if ((st != 0)); then
        STARTUP_FAILED+=("dockerode cycle: exit $st: $(grep -m1 . "$TMP/dapi.cycle.err" | head -c 200)")
        if [[ -s $TMP/dapi.cycle.err ]]; then cp "$TMP/dapi.cycle.err" "$OUT/dockerapi-cycle.err"; fi
    fi
    awk -F'\t' '$1 == "sbx" && $3 == "ok" { print $2 }' "$OUT/dockerapi-cycle.tsv" >"$f"
    read -r n m p < <(dapi_summary "$f")
    awk -F'\t' '$1 == "dockerd" && $3 == "ok" { print $2 }' "$OUT/dockerapi-cycle.tsv" >"$f"
    read -r dn dm dp < <(dapi_summary "$f")
    local ne nde
    ne=$(awk -F'\t' '$1 == "sbx" && $3 != "ok"' "$OUT/dockerapi-cycle.tsv" | wc -l)
    nde=$(awk -F'\t' '$1 == "dockerd" && $3 != "ok"' "$OUT/dockerapi-cycle.tsv" | wc -l)
    echo "| | cycles ok | failed | median ms | p95 ms | ratio | target |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    if ((n > 0 && dn > 0)); then
        x10=$(((dm * 10 + m / 2) / m))
        echo "| sbx API | $n | $ne | $(msr "$m") | $(msr "$p") | $(dapi_x "$dm" "$m") | >= ${DAPI_CYCLE_TARGET_X}x: $(dapi_met "$x10" "$DAPI_CYCLE_TARGET_X") |"
        echo "dockerode cycle ${DAPI_CYCLE_TARGET_X}x: $(dapi_met "$x10" "$DAPI_CYCLE_TARGET_X") ($(dapi_x "$dm" "$m"))" >"$TMP/dapi.target.cycle"
    else
        echo "| sbx API | $n | $ne | $( ((n)) && msr "$m") | $( ((n)) && msr "$p") | | not measured |"
    fi
    echo "| dockerd | $dn | $nde | $( ((dn)) && msr "$dm") | $( ((dn)) && msr "$dp") | 1.0x | |"
    echo
    # Where the time goes: each step's median (cycles that worked).
    local lab s line
    echo "| step medians ms | create | start | exec python3 print(1) | remove |"
    echo "|---|---:|---:|---:|---:|"
    for lab in sbx dockerd; do
        line="| $lab"
        for s in create start exec remove; do
            awk -F'\t' -v l="$lab" -v s="$s" '$1 == l && $3 == "ok" {
                n = split($4, kv, ",")
                for (i = 1; i <= n; i++) { split(kv[i], p, "="); if (p[1] == s) print p[2] }
            }' "$OUT/dockerapi-cycle.tsv" >"$f"
            read -r n m p < <(dapi_summary "$f")
            line+=" | $( ((n)) && msr "$m")"
        done
        echo "$line |"
    done
    echo
    echo "- targets (issue 11): $(cat "$TMP/dapi.target.cycle" 2>/dev/null || echo "dockerode cycle: not measured");" \
        "$(cat "$TMP/dapi.target.run" 2>/dev/null || echo "docker run: not measured")"
    echo "- samples: \`dockerapi-cycle.tsv\` (LABEL, µs, ok|error, the steps' µs per cycle); these tables: \`dockerapi.md\`"
    echo
}
