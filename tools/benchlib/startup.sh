# shellcheck shell=bash
# tools/bench: the startup section (cold and warm starts of every peer, two
# workloads, one interleaved round-robin); sourced.
#
# A series is one row of the table for one workload.  Every series is
# probed once (run, exit status checked) and then measured by build/benchrun
# in the same round-robin as all the others; the warm-pool series are
# measured in-process by build/benchpool, benchrun's co-process.  What a
# series could not do is kept with the reason: the table shows it as "not
# run: REASON".  build/benchstat turns the samples into the tables, the
# bootstrap intervals, the CSV/JSON files and the plot.

# The workloads: key -> what the table shows, and the argv every cold row runs.
WL_KEYS=(py true)
declare -A WL_NAME=([py]="python3 -c pass" [true]="/bin/true")
declare -A WL_ARGV=([py]="/usr/bin/python3${SEP}-c${SEP}pass" [true]="/bin/true")

S_ROW=() S_WL=() S_REF=() S_TARGET=() S_NOTE=() # per series; S_REF: "c N", "h N" or "-"
BR_ARGS=()         # benchrun's commands, SEP-separated
N_CMDS=0 N_HROWS=0 # benchrun commands, helper rows
HELPER=()          # the helper's command
HELPER_ARGS=()     # its pools and daemons
STARTUP_FAILED=()  # "ROW (WORKLOAD): reason" of series not run or failed

wl_argv() { # KEY -> WLA (array)
    IFS=$SEP read -ra WLA <<<"${WL_ARGV[$1]}"
}

s_add() { # ROW WL REF TARGET NOTE
    S_ROW+=("$1") S_WL+=("$2") S_REF+=("$3") S_TARGET+=("${4:--}") S_NOTE+=("${5:-}")
}

# s_skip ROW WL REASON: a series that is not run.
s_skip() {
    s_add "$1" "$2" - - "$3"
    STARTUP_FAILED+=("$1 (${WL_NAME[$2]}): $3")
}

# s_cmd ROW WL TARGET NOTE CMD...: probe CMD once; measure it if it works.
s_cmd() {
    local row=$1 wl=$2 target=$3 notetext=$4
    shift 4
    if ! probe "$@"; then
        s_skip "$row" "$wl" "$PROBE_ERR"
        return 0
    fi
    s_add "$row" "$wl" "c $N_CMDS" "$target" "$notetext"
    ((N_CMDS == 0)) || BR_ARGS+=("$SEP")
    BR_ARGS+=("$@")
    N_CMDS=$((N_CMDS + 1))
}

# s_helper ROW WL TARGET NOTE: the next row of the helper (already probed).
s_helper() {
    s_add "$1" "$2" "h $N_HROWS" "$3" "$4"
    N_HROWS=$((N_HROWS + 1))
}

# s_each ROW TARGET-PY NOTE CMD-PREFIX...: s_cmd for both workloads, the
# workload's argv appended to the prefix.
s_each() {
    local row=$1 tpy=$2 notetext=$3 wl
    shift 3
    for wl in "${WL_KEYS[@]}"; do
        wl_argv "$wl"
        s_cmd "$row" "$wl" "$([[ $wl == py ]] && echo "$tpy" || echo -)" "$notetext" "$@" "${WLA[@]}"
    done
}

s_skip_each() { # ROW REASON
    local wl
    for wl in "${WL_KEYS[@]}"; do s_skip "$1" "$wl" "$2"; done
}

# ------------------------------------------------------------------ rows
startup_rows() {
    if ((EUID == 0)) && have chroot; then
        s_each chroot - "the floor: no isolation, only the same root" chroot "$ROOTFS"
    else
        s_skip_each chroot "needs root and chroot(8)"
    fi

    if want unshare; then
        if have unshare; then
            s_each "unshare" - "util-linux unshare: user (root mapped), pid, mount, net, ipc, uts, cgroup namespaces, --root" \
                unshare --user --map-root-user --pid --fork --mount --net --ipc --uts --cgroup --root="$ROOTFS"
        else
            s_skip_each unshare "unshare (util-linux) not found"
        fi
    fi

    if want bwrap; then
        if have bwrap; then
            s_each bwrap - "--unshare-all, the rootfs read-only, /proc, /dev, /tmp" \
                bwrap --unshare-all --ro-bind "$ROOTFS" / --proc /proc --dev /dev --tmpfs /tmp
        else
            s_skip_each bwrap "bwrap not installed (make deps installs bubblewrap)"
        fi
    fi

    engine_rows

    if want run; then
        if [[ -x $SBX ]]; then
            s_each "sbx run" - "" "$SBX" run --
            [[ -z $BASELINE ]] || s_each "sbx run (baseline)" - "$BASELINE" "$BASELINE" run --
        else
            s_skip_each "sbx run" "$SBX not built yet (make all)"
        fi
    fi

    if want exec; then
        local msg
        BOXES+=(benchbox)
        if ! msg=$("$SBX" create benchbox 2>&1 </dev/null); then
            s_skip_each "sbx exec" "sbx create failed: ${msg:0:120}"
        else
            # Its supervisor creates the cgroups.
            add_creator "$("$SBX" inspect benchbox 2>/dev/null | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')"
            s_each "sbx exec" "over:$EXEC_TARGET_US" "into a long-lived sandbox (sbx create)" "$SBX" exec benchbox --
        fi
        if [[ -n $BASELINE ]]; then
            BOXES+=(benchbox-base)
            if ! msg=$("$BASELINE" create benchbox-base 2>&1 </dev/null); then
                s_skip_each "sbx exec (baseline)" "sbx create failed: ${msg:0:120}"
            else
                add_creator "$("$BASELINE" inspect benchbox-base 2>/dev/null | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')"
                s_each "sbx exec (baseline)" - "$BASELINE" "$BASELINE" exec benchbox-base --
            fi
        fi
    fi

    if want podman; then driver_exec_rows podman; fi
    if want docker; then driver_exec_rows docker; fi

    pool_rows
}

# The cold container rows (tools/benchlib/engines.sh sets the engines up).
engine_rows() {
    local keys=() k wl
    want crun && keys+=(crun)
    want runc && keys+=(runc)
    want podman && keys+=(podman-crun podman-runc)
    { want docker || want dockerapi; } && keys+=(docker)
    ((${#keys[@]})) || return 0
    note "setting up: ${keys[*]} (private dockerd and podman storage, images imported from the rootfs, OCI bundles)"
    engines_up "${keys[@]}"
    declare -A title=([crun]="crun run" [runc]="runc run" [podman-crun]="podman run (crun)"
        [podman-runc]="podman run (runc)" [docker]="docker run")
    for k in "${keys[@]}"; do
        if [[ -z ${BENG_OK[$k]:-} ]]; then
            s_skip_each "${title[$k]}" "${BENG_WHY[$k]:-not set up}"
            continue
        fi
        for wl in "${WL_KEYS[@]}"; do
            wl_argv "$wl"
            beng_argv "$k" "${WLA[@]}"
            s_cmd "${title[$k]}" "$wl" - "${BENG_NOTE[$k]:-}" "${BENG_ARGV[@]}"
        done
    done
    # The Docker API server's rows next to docker run (tools/benchlib/dockerapi.sh).
    if want dockerapi; then dapi_rows; fi
    # sbx's docker and podman drivers (the exec rows) use the same private
    # dockerd and podman store.
    [[ -z $BENG_DOCKER_HOST ]] || export DOCKER_HOST=$BENG_DOCKER_HOST
    if [[ -n ${BENG_OK[podman-runc]:-}${BENG_OK[podman-crun]:-} ]]; then
        local d=$TMP/engines/podman
        printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n' "$d" "$d" >"$d/storage.conf"
        printf '[engine]\ntmp_dir = "%s/tmp"\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n' "$d" >"$d/containers.conf"
        export CONTAINERS_STORAGE_CONF=$d/storage.conf CONTAINERS_CONF=$d/containers.conf
    fi
}

# sbx exec into a sandbox of the docker/podman driver, and the engine's own
# exec into that sandbox's container.
driver_exec_rows() { # engine
    local e=$1 box="bench$$$1" msg cid
    if ! have "$e"; then
        s_skip_each "sbx exec --driver $e" "$e not installed"
        s_skip_each "$e exec" "$e not installed"
        return 0
    fi
    if ! msg=$("$SBX" check --driver "$e" 2>&1); then
        msg=$(grep -m1 '^FAIL' <<<"$msg" | sed 's/^FAIL *[^ ]* *//')
        s_skip_each "sbx exec --driver $e" "sbx check --driver $e failed: ${msg:0:100}"
        s_skip_each "$e exec" "sbx check --driver $e failed"
        return 0
    fi
    BOXES+=("$box")
    if ! msg=$("$SBX" create "$box" --driver "$e" 2>&1 </dev/null); then
        s_skip_each "sbx exec --driver $e" "sbx create --driver $e failed: ${msg:0:120}"
        s_skip_each "$e exec" "sbx create --driver $e failed"
        return 0
    fi
    s_each "sbx exec --driver $e" - "into a sandbox sbx made with the $e driver" "$SBX" exec "$box" --
    # The engine alone, into the same container (sbx names it sbx-NAME).
    s_each "$e exec" - "plain $e exec into that container" "$e" exec "sbx-$box"
}

# The warm pools: a daemon in the default mode (pre-forked where sbx can)
# for the daemon and CLI rows; with the zygote key also the fresh ones.
pool_rows() {
    local want_daemon=0 want_fresh=0 want_inproc=0
    { want daemon || want cli; } && want_daemon=1
    want zygote && want_fresh=1
    want pool && want_inproc=1
    ((want_daemon + want_fresh + want_inproc)) || return 0
    local sock=$TMP/pool.sock fsock=$TMP/poolfresh.sock m
    local names=("pool in-process" "pool in-process, fresh" "pool via daemon" "pool via daemon, fresh" "sbx CLI with --pool")
    if [[ -n $BENCHPOOL_ERR ]]; then
        local n
        for n in "${names[@]}"; do s_skip_each "$n" "$BENCHPOOL_ERR"; done
        return 0
    fi
    local dnote="" fnote="" inote=""
    if ((want_inproc)); then
        local pargs=(--inproc "$POOL_SIZE" --true)
        ((want_fresh)) && pargs+=(--inproc-fresh "$POOL_SIZE" --true)
        if probe_modes "${pargs[@]}"; then
            m=$(sed -n '1s/^inproc //p' "$TMP/modes")
            inote="size $POOL_SIZE, mode $m; $(wl_pool_note)"
            s_helper "pool in-process" py "abs:$POOL_TARGET_US" "$inote"
            s_helper "pool in-process" true - "$inote"
            if ((want_fresh)); then
                s_helper "pool in-process, fresh" py - "size $POOL_SIZE"
                s_helper "pool in-process, fresh" true - "size $POOL_SIZE"
            fi
            HELPER_ARGS+=("${pargs[@]}")
        else
            PROBE_ERR=$(grep -v '^$' "$TMP/probe.err" | head -1)
            s_skip_each "pool in-process" "probe failed: ${PROBE_ERR:0:100}"
            ((want_fresh)) && s_skip_each "pool in-process, fresh" "probe failed: ${PROBE_ERR:0:100}"
        fi
    fi
    if ((want_daemon + want_fresh)); then
        if ! start_daemon "$sock" "$POOL_SIZE"; then
            s_skip_each "pool via daemon" "$DAEMON_ERR"
            want cli && s_skip_each "sbx CLI with --pool" "$DAEMON_ERR"
            want_daemon=0
        else
            m=$(daemon_mode "$sock")
            dnote="\`sbx pool serve --size $POOL_SIZE\`, mode $m; $(wl_pool_note)"
        fi
    fi
    if ((want_daemon)); then
        if want daemon || want zygote; then
            if probe "$BENCHPOOL" probe --socket "$sock" --size "$POOL_SIZE" --true; then
                local t=daemon
                [[ $m == fork ]] && t=daemonfork
                s_helper "pool via daemon" py "abs:$([[ $t == daemonfork ]] && echo "$DAEMON_FORK_TARGET_US" || echo "$DAEMON_TARGET_US")" "$dnote"
                s_helper "pool via daemon" true - "$dnote"
                HELPER_ARGS+=(--socket "$sock" --size "$POOL_SIZE" --true)
            else
                s_skip_each "pool via daemon" "$PROBE_ERR"
                HELPER_ARGS+=(--socket "$sock" --size "$POOL_SIZE" --settle-only)
            fi
        else
            HELPER_ARGS+=(--socket "$sock" --size "$POOL_SIZE" --settle-only)
        fi
    fi
    if ((want_fresh)); then
        if ! start_daemon "$fsock" "$POOL_SIZE" "${FRESH_OPT[@]}"; then
            s_skip_each "pool via daemon, fresh" "$DAEMON_ERR"
        elif probe "$BENCHPOOL" probe --socket "$fsock" --size "$POOL_SIZE" --true; then
            fnote="\`sbx pool serve --size $POOL_SIZE ${FRESH_OPT[*]}\`, mode $(daemon_mode "$fsock")"
            s_helper "pool via daemon, fresh" py "abs:$DAEMON_TARGET_US" "$fnote"
            s_helper "pool via daemon, fresh" true - "$fnote"
            HELPER_ARGS+=(--socket "$fsock" --size "$POOL_SIZE" --true)
        else
            s_skip_each "pool via daemon, fresh" "$PROBE_ERR"
        fi
    fi
    if ((want_daemon)) && want cli; then
        printf 'pass\n' >"$TMP/x.py"
        s_cmd "sbx CLI with --pool" py - "\`sbx python --pool SOCKET x.py\` (x.py: pass), the daemon above" \
            "$SBX" python --pool "$sock" "$TMP/x.py"
        s_cmd "sbx CLI with --pool" true "notslower:sbx exec|true" "\`sbx run --pool SOCKET -- /bin/true\`" \
            "$SBX" run --pool "$sock" -- /bin/true
    fi
    ((${#HELPER_ARGS[@]} == 0)) || HELPER=("$BENCHPOOL" helper "${HELPER_ARGS[@]}" --pidfile "$TMP/helper.pid")
}

wl_pool_note() {
    echo "column python3 -c pass: a \`print(1)\` request to the pre-started interpreter (output checked); /bin/true: a \`run\` request"
}

# ------------------------------------------------------------------ measure
# The index benchrun gives a series (helper rows come after the commands).
s_index() { # REF
    case $1 in
        c\ *) echo "${1#c }" ;;
        h\ *) echo $((N_CMDS + ${1#h })) ;;
        *) echo - ;;
    esac
}

# The index of series ROW|WL, or "-".
s_find() { # ROW WL
    local i
    for i in "${!S_ROW[@]}"; do
        if [[ ${S_ROW[i]} == "$1" && ${S_WL[i]} == "$2" ]]; then
            s_index "${S_REF[i]}"
            return 0
        fi
    done
    echo -
}

startup() {
    startup_rows
    local floor_py floor_true
    if ((N_CMDS + N_HROWS == 0)); then
        note "startup: nothing to measure (every row was not run)"
        return 0
    fi
    local hopt=()
    if ((${#HELPER[@]})); then
        hopt=(-H "$N_HROWS")
        ((${#BR_ARGS[@]} == 0)) || BR_ARGS+=("$SEP")
        BR_ARGS+=("${HELPER[@]}")
    fi
    local load0 st=0 out
    load0=$(loadavg)
    note "startup: $((N_CMDS + N_HROWS)) series, $N runs each after $WARMUP warm-up runs, interleaved"
    # benchrun exits 1 when some run failed; that is reported in the table.
    "$BENCHRUN" -n "$N" -w "$WARMUP" -s "$SEP" "${hopt[@]}" -- "${BR_ARGS[@]}" >"$OUT/samples.tsv" || st=$?
    [[ -s $TMP/helper.pid ]] && add_creator "$(<"$TMP/helper.pid")"
    ((st == 0 || st == 1)) || die "benchrun failed (exit $st)"
    local pid
    while read -r pid; do add_creator "$pid"; done < <(cut -f5 "$OUT/samples.tsv" | sort -u)
    machine_json "$load0" "$(loadavg)" >"$TMP/machine.json"

    # The table's rows for build/benchstat.
    floor_py=$(s_find chroot py) floor_true=$(s_find chroot true)
    local i idx floor tgt
    : >"$TMP/rows.tsv"
    for i in "${!S_ROW[@]}"; do
        idx=$(s_index "${S_REF[i]}")
        floor=$floor_py
        [[ ${S_WL[i]} == true ]] && floor=$floor_true
        [[ ${S_ROW[i]} == chroot ]] && floor=-
        tgt=${S_TARGET[i]}
        if [[ $tgt == notslower:* ]]; then
            local ref=${tgt#notslower:}
            tgt="notslower:$(s_find "${ref%|*}" "${ref#*|}")"
            [[ $tgt != notslower:- ]] || tgt=-
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$idx" "${S_ROW[i]//$'\t'/ }" "${WL_NAME[${S_WL[i]}]}" "$floor" "$tgt" \
            "${S_NOTE[i]//$'\t'/ }" >>"$TMP/rows.tsv"
    done
    cp "$TMP/rows.tsv" "$OUT/rows.tsv"
    local plot=()
    ((PLOT)) || plot=(--no-plot)
    if ! "$BENCHSTAT" report --rows "$TMP/rows.tsv" --samples "$OUT/samples.tsv" --out "$OUT" \
        --machine "$TMP/machine.json" "${plot[@]}" \
        --title "sbx startup benchmark, $(date -u '+%Y-%m-%d'), $N runs per row (log scale)"; then
        die "benchstat failed on $OUT/samples.tsv"
    fi
    # Failed samples make a series suspect in strict mode.
    local fails
    fails=$(awk -F'\t' '$1 == "run" && $4 != 0 { n[$2]++ } END { for (k in n) print k, n[k] }' "$OUT/samples.tsv")
    while read -r idx c; do
        [[ -n $idx ]] || continue
        for i in "${!S_ROW[@]}"; do
            [[ $(s_index "${S_REF[i]}") == "$idx" ]] &&
                STARTUP_FAILED+=("${S_ROW[i]} (${WL_NAME[${S_WL[i]}]}): $c of $N runs failed")
        done
    done <<<"$fails"

    print_header
    echo "### Startup latency (interleaved, $N runs per row after $WARMUP warm-up runs)"
    echo
    echo "Every row of both tables ran in one round-robin: round k of every row ran at about the same time." \
        "Warm pools full and quiet before every sample of every row. Load average $load0 before, $(loadavg) after."
    echo
    cat "$OUT/latency.md"
    echo
    echo "Raw samples: \`samples.csv\`, statistics: \`results.json\`, plot: \`latency.svg\`/\`latency.png\` in ${OUT#"$REPO"/}."
    echo
    for s in "${!DAEMON[@]}"; do stop_daemon "$s"; done
}
