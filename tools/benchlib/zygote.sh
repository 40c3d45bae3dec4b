# shellcheck shell=bash
# tools/bench: the pre-forked pool section (key zygote, issue 10); sourced.

# ------------------------------------------------------------------ zygote
# Issue 10: the pre-forked pool against bare python3, cold sbx run and the
# fresh pool, under load (8 clients) and idle, in the same rounds.
declare -A ZN=() ZKIND=() ZSOCK=() ZCMD=() ZSRC=() ZGRP=() ZSKIP=() ZFAIL=() ZMODE=()
declare -A ZRATES=() ZERR=() ZOK=() ZIERR=() ZW=() ZA=() ZCR=() ZLAST=()
declare -A ZSN=() ZSI0=() ZSCS=() ZSCM=()   # sampled: samples, none idle, creating sum, max
ZKEYS=()

jnum() { # LINE KEY -> the number after "KEY": (nothing if absent)
    [[ $1 =~ \"$2\":(-?[0-9.]+) ]] && echo "${BASH_REMATCH[1]}"
    return 0
}

# pct FILE P -> the P-th percentile (nearest rank; 50: the median, the mean
# of the middle two for an even count) of the µs in FILE; nothing if empty.
pct() {
    [[ -s $1 ]] || return 0
    sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
        if (NR == 0) exit
        if (p == 50) { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2); exit }
        i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

zy_row() { # KEY NAME GROUP
    ZKEYS+=("$1")
    ZN[$1]=$2 ZGRP[$1]=$3 ZSKIP[$1]="" ZFAIL[$1]="" ZRATES[$1]="" ZERR[$1]=0 ZOK[$1]=0 ZIERR[$1]=0
    ZW[$1]=0 ZA[$1]=0 ZCR[$1]=0 ZLAST[$1]="" ZMODE[$1]="" ZKIND[$1]=none
    ZSN[$1]=0 ZSI0[$1]=0 ZSCS[$1]=0 ZSCM[$1]=0
}

zy_cmd_row() { # KEY NAME GROUP CMD...
    local k=$1 n=$2 g=$3
    shift 3
    zy_row "$k" "$n" "$g"
    ZKIND[$k]=cmd
    ZCMD[$k]=$(IFS=$SEP; echo "$*")
    probe "$@" || ZSKIP[$k]=$PROBE_ERR
    return 0
}

zy_daemon_row() { # KEY NAME GROUP SOURCE DAEMON-OPTION...
    local k=$1 n=$2 g=$3 src=$4 s=$TMP/zy-$1.sock
    shift 4
    zy_row "$k" "$n" "$g"
    ZKIND[$k]=daemon ZSOCK[$k]=$s ZSRC[$k]=$src
    if [[ -n $BENCHPOOL_ERR ]]; then ZSKIP[$k]=$BENCHPOOL_ERR; return 0; fi
    if ! start_daemon "$s" "$ZY_SIZE" "$@"; then ZSKIP[$k]=$DAEMON_ERR; return 0; fi
    if ! probe "$BENCHPOOL" idle --count 1 --socket "$s" --size "$ZY_SIZE" --source "$src" --expect ""; then
        ZSKIP[$k]=$PROBE_ERR
        stop_daemon "$s"
        return 0
    fi
    ZMODE[$k]=$(daemon_mode "$s")
}

zy_active() { # KEY: measured so far
    [[ -z ${ZSKIP[$1]} && -z ${ZFAIL[$1]} ]]
}

# Every daemon of the section full and quiet (no refill overlaps a
# measurement); a daemon that does not get there fails its row.
zy_settle() {
    local k
    for k in "${ZKEYS[@]}"; do
        [[ ${ZKIND[$k]} == daemon ]] && zy_active "$k" || continue
        if ! "$BENCHPOOL" wait --socket "${ZSOCK[$k]}" --size "$ZY_SIZE" 2>"$TMP/wait.err"; then
            ZFAIL[$k]="failed during the rounds: $(head -1 "$TMP/wait.err")"
            stop_daemon "${ZSOCK[$k]}"
        fi
    done
}

zy_load() { # KEY ROUND
    local k=$1 r=$2 out before="" after="" ok errs usec i0=0 i1=0 v sn=0 si0=0 scs=0 scm=0
    local -a cmd
    if [[ ${ZKIND[$k]} == daemon ]]; then
        before=$("$BENCHPOOL" stats --socket "${ZSOCK[$k]}" 2>/dev/null) || before=""
        out=$("$BENCHPOOL" load --seconds "$ZY_SECONDS" --clients "$ZY_CLIENTS" --lat "$TMP/zy-$k.load" \
            --socket "${ZSOCK[$k]}" --source "${ZSRC[$k]}" --expect "" 2>>"$TMP/zy-$k.err") || out=""
        after=$("$BENCHPOOL" stats --socket "${ZSOCK[$k]}" 2>/dev/null) || after=""
    else
        IFS=$SEP read -ra cmd <<<"${ZCMD[$k]}"
        out=$("$BENCHPOOL" load --seconds "$ZY_SECONDS" --clients "$ZY_CLIENTS" --lat "$TMP/zy-$k.load" \
            --pidlog "$TMP/zy.pids" -- "${cmd[@]}" 2>>"$TMP/zy-$k.err") || out=""
    fi
    read -r _ ok _ errs _ usec _ i0 _ i1 _ sn _ si0 _ scs _ scm <<<"$out"
    if [[ $out != ok\ * ]] || ((usec <= 0)); then
        ZFAIL[$k]="benchpool load failed in round $((r + 1)): $(head -1 "$TMP/zy-$k.err")"
        return 0
    fi
    # Without the pre-warmed stock the round began with (daemons only).
    ok=$((ok - (i0 - i1)))
    ZRATES[$k]+=" $((ok * 100000000 / usec))"   # per second ×100
    ZOK[$k]=$((ZOK[$k] + ok)) ZERR[$k]=$((ZERR[$k] + errs))
    ZSN[$k]=$((ZSN[$k] + ${sn:-0})) ZSI0[$k]=$((ZSI0[$k] + ${si0:-0})) ZSCS[$k]=$((ZSCS[$k] + ${scs:-0}))
    ((${scm:-0} <= ZSCM[$k])) || ZSCM[$k]=$scm
    if [[ -n $before && -n $after ]]; then
        ZLAST[$k]=$after
        v=$(jnum "$after" waited)
        if [[ -n $v ]]; then ZW[$k]=$((ZW[$k] + v - $(jnum "$before" waited))); else ZW[$k]=n/a; fi
        ZA[$k]=$((ZA[$k] + $(jnum "$after" acquired) - $(jnum "$before" acquired)))
        v=$(jnum "$after" creating)
        if [[ -z $v ]]; then ZCR[$k]=n/a; elif [[ ${ZCR[$k]} != n/a ]] && ((v > ZCR[$k])); then ZCR[$k]=$v; fi
    fi
}

zy_idle() { # KEY ROUND
    local k=$1 r=$2 out ok errs
    local -a cmd
    if [[ ${ZKIND[$k]} == daemon ]]; then
        out=$("$BENCHPOOL" idle --count "$ZY_IDLE" --lat "$TMP/zy-$k.idle" --socket "${ZSOCK[$k]}" \
            --size "$ZY_SIZE" --source "${ZSRC[$k]}" --expect "" 2>>"$TMP/zy-$k.err") || out=""
    else
        IFS=$SEP read -ra cmd <<<"${ZCMD[$k]}"
        out=$("$BENCHPOOL" idle --count "$ZY_IDLE" --lat "$TMP/zy-$k.idle" --pidlog "$TMP/zy.pids" \
            -- "${cmd[@]}" 2>>"$TMP/zy-$k.err") || out=""
    fi
    read -r _ ok _ errs <<<"$out"
    if [[ $out != ok\ * ]]; then
        ZFAIL[$k]="benchpool idle failed in round $((r + 1)): $(head -1 "$TMP/zy-$k.err")"
        return 0
    fi
    ZIERR[$k]=$((ZIERR[$k] + errs))
}

# ×100 -> "x.xx"
x100() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

zygote() {
    local fork_name="pool daemon, fork (default)" fresh_name="pool daemon, fresh (--fresh)"
    ((${#FRESH_OPT[@]})) || fresh_name="pool daemon, fresh (this sbx has no --fresh: its default pool)"
    if ((EUID == 0)) && have chroot; then
        zy_cmd_row bare "bare \`chroot ROOTFS python3 -c pass\`" pass chroot "$ROOTFS" /usr/bin/python3 -c pass
    else
        zy_row bare "bare \`chroot ROOTFS python3 -c pass\`" pass
        ZSKIP[bare]="needs root and chroot(8)"
    fi
    zy_cmd_row cold "\`sbx run -- python3 -c pass\` (cold)" pass "$SBX" run -- python3 -c pass
    zy_daemon_row dfresh "$fresh_name, \`$ZY_SRC\`" pass "$ZY_SRC" "${FRESH_OPT[@]}"
    zy_daemon_row dfork "$fork_name, \`$ZY_SRC\`" pass "$ZY_SRC"
    local np=1 why=""
    if [[ ! -d $NUMPY_ROOTFS ]]; then
        np=0 why="no rootfs with numpy at ${NUMPY_ROOTFS#"$REPO"/} (make rootfs-numpy)"
    elif ! ((EUID == 0)) || ! have chroot; then
        zy_row nbare "bare \`chroot ROOTFS-NUMPY python3 -c 'import numpy'\`" numpy
        ZSKIP[nbare]="needs root and chroot(8)"
    else
        zy_cmd_row nbare "bare \`chroot ROOTFS-NUMPY python3 -c 'import numpy'\`" numpy \
            chroot "$NUMPY_ROOTFS" /usr/bin/python3 -c 'import numpy'
    fi
    if ((np)); then
        zy_daemon_row nfork "${fork_name/(default)/--preload numpy}, numpy script" numpy "$ZY_NP_SRC" \
            --preload numpy --rootfs "$NUMPY_ROOTFS"
        zy_daemon_row nfresh "${fresh_name/(--fresh)/--fresh --preload numpy}, numpy script" numpy "$ZY_NP_SRC" \
            "${FRESH_OPT[@]}" --preload numpy --rootfs "$NUMPY_ROOTFS"
    else
        local k
        zy_row nbare "bare \`chroot ROOTFS-NUMPY python3 -c 'import numpy'\`" numpy
        zy_row nfork "$fork_name --preload numpy, numpy script" numpy
        zy_row nfresh "$fresh_name --preload numpy, numpy script" numpy
        for k in nbare nfork nfresh; do ZSKIP[$k]=$why; done
    fi

    # The rounds: every variant under load in turn (rotated), then idle.
    local r j k n keys=()
    for k in "${ZKEYS[@]}"; do zy_active "$k" && keys+=("$k"); done
    n=${#keys[@]}
    for ((r = 0; r < ZY_ROUNDS && n > 0; r++)); do
        for ((j = 0; j < n; j++)); do
            k=${keys[(j + r) % n]}
            zy_settle
            zy_active "$k" && zy_load "$k" "$r"
        done
        for ((j = 0; j < n; j++)); do
            k=${keys[(j + r) % n]}
            zy_settle
            zy_active "$k" && zy_idle "$k" "$r"
        done
    done
    if [[ -s $TMP/zy.pids ]]; then
        mapfile -t ZPIDS <"$TMP/zy.pids"
        add_creator "${ZPIDS[@]}"
    fi

    print_header
    echo "### Pre-forked pool (issue 10): $ZY_CLIENTS clients, single-use sandboxes"
    echo
    echo "$ZY_ROUNDS round(s); in each, every variant ran $ZY_SECONDS s with $ZY_CLIENTS concurrent clients (order" \
        "rotated per round), then $ZY_IDLE requests from one client (idle); every pool full and quiet" \
        "before each. Daemons: \`sbx pool serve --size $ZY_SIZE\`; a request is connect + python request" \
        "+ response line (a new connection each); their completions exclude the pre-warmed stock a" \
        "round began with. Latency: per request, over all rounds."
    echo
    echo "| variant | completions/s (median of rounds) | rounds min–max /s | ratio to bare | errors | p50 under load ms | p99 under load ms | idle median ms | p99 load / idle median | target |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    local c med min max bare_med base ratio p50 p99 im rr tgt errs
    local -A RMED=()
    for k in "${ZKEYS[@]}"; do
        [[ -n ${ZRATES[$k]} ]] || continue
        read -r c med _ min < <(stats "${ZRATES[$k]}")
        RMED[$k]=$med
    done
    for k in "${ZKEYS[@]}"; do
        if [[ -n ${ZSKIP[$k]} ]]; then
            echo "| ${ZN[$k]} | skipped: ${ZSKIP[$k]//|/\\|} | | | | | | | | |"
            continue
        fi
        if [[ -z ${ZRATES[$k]} ]]; then
            echo "| ${ZN[$k]} | not measured: ${ZFAIL[$k]//|/\\|} | | | | | | | | |"
            continue
        fi
        read -r c med _ min < <(stats "${ZRATES[$k]}")
        max=$(tr ' ' '\n' <<<"${ZRATES[$k]}" | grep . | sort -n | tail -1)
        base=bare
        [[ ${ZGRP[$k]} == numpy ]] && base=nbare
        ratio=-
        bare_med=${RMED[$base]:-}
        if [[ -n $bare_med ]] && ((bare_med > 0)); then
            rr=$(((med * 100 + bare_med / 2) / bare_med))
            ratio="$(x100 "$rr")x"
        fi
        p50=$(pct "$TMP/zy-$k.load" 50) p99=$(pct "$TMP/zy-$k.load" 99) im=$(pct "$TMP/zy-$k.idle" 50)
        local lr=-
        if [[ -n $p99 && -n $im ]] && ((im > 0)); then lr="$(x100 $(((p99 * 100 + im / 2) / im)))x"; fi
        tgt=""
        if [[ $k == dfork || $k == nfork ]]; then
            local want_x=$ZY_TP_TARGET_X
            [[ $k == nfork ]] && want_x=$ZY_NP_TARGET_X
            if [[ $ratio == - ]]; then
                tgt=">= ${want_x}x bare: - (no bare row)"
            elif ((rr >= want_x * 100)); then tgt=">= ${want_x}x bare: PASS"; else tgt=">= ${want_x}x bare: MISS"; fi
            if [[ $lr == - ]]; then
                tgt+="; p99 <= ${ZY_P99_TARGET_X}x idle: -"
            elif ((p99 * 100 <= ZY_P99_TARGET_X * 100 * im)); then
                tgt+="; p99 <= ${ZY_P99_TARGET_X}x idle: PASS"
            else tgt+="; p99 <= ${ZY_P99_TARGET_X}x idle: MISS"; fi
        fi
        errs=$((ZERR[$k] + ZIERR[$k]))
        echo "| ${ZN[$k]} | $(x100 "$med") | $(x100 "$min")–$(x100 "$max") | $ratio | $errs |" \
            "${p50:+$(ms "$p50")} | ${p99:+$(ms "$p99")} | ${im:+$(ms "$im")} | $lr | $tgt |"
    done
    echo
    for k in "${ZKEYS[@]}"; do
        if ((ZERR[$k] + ZIERR[$k] > 0)) && [[ -s $TMP/zy-$k.err ]]; then
            echo "- ${ZN[$k]}: $((ZERR[$k] + ZIERR[$k])) request(s) failed (not counted as completions, their" \
                "latencies left out); the first: $(grep -m1 . "$TMP/zy-$k.err" | cut -c1-300)"
        fi
        [[ -n ${ZRATES[$k]} && -n ${ZFAIL[$k]} ]] && echo "- ${ZN[$k]}: ${ZFAIL[$k]}; the figures are of the rounds before"
        [[ ${ZKIND[$k]} == daemon && -z ${ZSKIP[$k]} && ${ZMODE[$k]} != fork && ${ZN[$k]} == *fork* ]] &&
            echo "- ${ZN[$k]}: the daemon reports mode '${ZMODE[$k]}': pre-forked mode is not in effect in this sbx, the row measures a fresh pool"
    done
    echo

    # The daemons' own view of the loaded phases.
    echo "Daemon stats over the loaded phases (the protocol's \`stats\`, as \`sbx pool stats\` shows it):" \
        "acquired and waited (acquisitions that found no idle sandbox) counted over the loaded phases;" \
        "sampled every 50 ms during them: the share of samples with no idle sandbox, and \`creating\`" \
        "(sandboxes being made) mean and largest; acquire percentiles over the daemon's last 1024" \
        "acquisitions, taken after the last loaded phase."
    echo
    echo "| daemon | mode | acquired under load | waited | samples with none idle | creating mean / max | acquire p50 / p95 / p99 ms | zygote starts |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    local L a50 a95 a99 zs
    for k in "${ZKEYS[@]}"; do
        [[ ${ZKIND[$k]:-} == daemon ]] || continue
        if [[ -n ${ZSKIP[$k]} || -z ${ZLAST[$k]} ]]; then
            echo "| ${ZN[$k]} | not measured${ZSKIP[$k]:+ (skipped)}${ZFAIL[$k]:+: ${ZFAIL[$k]//|/\\|}} | | | | | | |"
            continue
        fi
        L=${ZLAST[$k]}
        a50=$(jnum "$L" acquire_p50_ms) a95=$(jnum "$L" acquire_p95_ms) a99=$(jnum "$L" acquire_p99_ms)
        zs=$(jnum "$L" zygote_starts)
        local share=- cm=-
        if ((ZSN[$k] > 0)); then
            share="$((ZSI0[$k] * 100 / ZSN[$k]))% of ${ZSN[$k]}"
            [[ ${ZCR[$k]} == n/a ]] && cm="n/a" || cm="$(x100 $((ZSCS[$k] * 100 / ZSN[$k]))) / ${ZSCM[$k]}"
        fi
        echo "| ${ZN[$k]} | ${ZMODE[$k]} | ${ZA[$k]} | ${ZW[$k]} | $share | $cm | ${a50:-n/a} / ${a95:-n/a} / ${a99:-n/a} | ${zs:-n/a} |"
    done
    echo
    for k in "${ZKEYS[@]}"; do
        [[ ${ZKIND[$k]:-} == daemon && -z ${ZSKIP[$k]} ]] && stop_daemon "${ZSOCK[$k]}"
    done
    zy_memory
}

