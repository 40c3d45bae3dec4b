# shellcheck shell=bash
# tools/bench: concurrency (key concurrency): C clients (1, 2, 8, 32), each
# in a loop of one request after another, for S seconds per variant and
# client count; completions per second and the latency of each request;
# sourced.
#
# Variants: bare `chroot ROOTFS python3 -c pass` (the reference), `sbx run
# -- python3 -c pass`, the pool daemon (pre-forked by default; a python
# print(1) request on a new connection each, as the CLI does) and `docker
# run --rm` (the private dockerd of tools/benchlib/engines.sh).  For every
# client count the variants run one after another, the order rotated.

CONC_FAILED=()

concurrency() {
    local sock=$TMP/conc.sock size=$CONC_POOL_SIZE v c out ok errs usec n med p95
    local -a variants=(bare sbxrun pool docker)
    local -A title=([bare]="bare chroot python3 -c pass" [sbxrun]="sbx run -- python3 -c pass"
        [pool]="pool via daemon (size $size), print(1)" [docker]="docker run --rm python3 -c pass")
    local -A why=() cmd=()
    cmd[bare]="chroot${SEP}$ROOTFS${SEP}/usr/bin/python3${SEP}-c${SEP}pass"
    cmd[sbxrun]="$SBX${SEP}run${SEP}--${SEP}/usr/bin/python3${SEP}-c${SEP}pass"
    [[ -z $BENCHPOOL_ERR ]] || { note "concurrency: $BENCHPOOL_ERR"; why[bare]=$BENCHPOOL_ERR why[sbxrun]=$BENCHPOOL_ERR why[pool]=$BENCHPOOL_ERR why[docker]=$BENCHPOOL_ERR; }
    if [[ -z ${why[pool]:-} ]] && ! start_daemon "$sock" "$size"; then why[pool]=$DAEMON_ERR; fi
    if [[ -z ${why[docker]:-} ]]; then
        if ! declare -F beng_up >/dev/null; then
            why[docker]="tools/benchlib/engines.sh not loaded"
        else
            [[ -n ${BENG_OK[docker]:-}${BENG_WHY[docker]:-} ]] || engines_up docker
            if [[ -z ${BENG_OK[docker]:-} ]]; then
                why[docker]=${BENG_WHY[docker]:-not set up}
            else
                beng_argv docker /usr/bin/python3 -c pass
                cmd[docker]=$(IFS=$SEP; echo "${BENG_ARGV[*]}")
            fi
        fi
    fi
    echo "variant,clients,usec" >"$OUT/concurrency.csv"
    local -A RATE=() MED=() P95=() ERRS=() NREQ=()
    local round=0 order k
    for c in "${CONC_CLIENTS[@]}"; do
        order=()
        for ((k = 0; k < ${#variants[@]}; k++)); do order+=("${variants[(k + round) % ${#variants[@]}]}"); done
        round=$((round + 1))
        for v in "${order[@]}"; do
            [[ -z ${why[$v]:-} ]] || continue
            local lat=$TMP/conc-$v-$c.lat args=()
            : >"$lat"
            if [[ $v == pool ]]; then
                if ! "$BENCHPOOL" wait --socket "$sock" --size "$size" 2>"$TMP/conc.err"; then
                    why[$v]="the pool did not refill: $(head -1 "$TMP/conc.err")"
                    continue
                fi
                args=(--socket "$sock")
            else
                local -a argv
                IFS=$SEP read -ra argv <<<"${cmd[$v]}"
                args=(--pidlog "$TMP/conc.pids" -- "${argv[@]}")
            fi
            out=$("$BENCHPOOL" load --seconds "$CONC_SECONDS" --clients "$c" --lat "$lat" "${args[@]}" 2>"$TMP/conc.err") || out=""
            if [[ -s $TMP/conc.pids ]]; then
                local p
                while read -r p; do add_creator "$p"; done <"$TMP/conc.pids"
                : >"$TMP/conc.pids"
            fi
            read -r _ ok _ errs _ usec _ <<<"$out"
            if [[ $out != ok\ * ]] || ((usec <= 0)); then
                ERRS[$v,$c]="benchpool load failed: $(head -1 "$TMP/conc.err")"
                CONC_FAILED+=("${title[$v]}, $c clients: ${ERRS[$v,$c]}")
                continue
            fi
            NREQ[$v,$c]=$ok
            RATE[$v,$c]=$((ok * 100000000 / usec)) # per second x100
            ((errs == 0)) || CONC_FAILED+=("${title[$v]}, $c clients: $errs requests failed")
            ERRS[$v,$c]=$errs
            read -r _ n _ med _ p95 _ <<<"$("$BENCHSTAT" summary "$lat")"
            MED[$v,$c]=$med P95[$v,$c]=$p95
            sed "s/^/$v,$c,/" "$lat" >>"$OUT/concurrency.csv"
        done
    done
    [[ -z ${DAEMON[$sock]:-} ]] || stop_daemon "$sock"

    print_header
    echo "### Concurrency: C clients in parallel loops, ${CONC_SECONDS} s per variant and client count"
    echo
    echo "Completions per second (ratio to bare chroot at the same client count) and each request's latency, median / p95 in ms." \
        "Requests still running at the end finish and count. Raw latencies: \`concurrency.csv\`."
    echo
    local hdr="| variant |" sep="|---|"
    for c in "${CONC_CLIENTS[@]}"; do hdr+=" $c client$( ((c == 1)) || echo s) /s | median / p95 ms |"; sep+="---:|---:|"; done
    echo "$hdr"
    echo "$sep"
    local line r rb ratio
    for v in "${variants[@]}"; do
        if [[ -n ${why[$v]:-} ]]; then
            echo "| ${title[$v]} | not run: ${why[$v]//|/\\|} |"
            CONC_FAILED+=("${title[$v]}: ${why[$v]}")
            continue
        fi
        line="| ${title[$v]} |"
        for c in "${CONC_CLIENTS[@]}"; do
            r=${RATE[$v,$c]:-}
            if [[ -z $r ]]; then
                line+=" failed | ${ERRS[$v,$c]//|/\\|} |"
                continue
            fi
            rb=${RATE[bare,$c]:-0} ratio=""
            ((rb > 0)) && ratio=" ($(printf '%d.%02d' $((r * 100 / rb / 100)) $((r * 100 / rb % 100)))x)"
            line+=" $(printf '%d.%02d' $((r / 100)) $((r % 100)))$ratio |"
            line+=" $(msr "${MED[$v,$c]}") / $(msr "${P95[$v,$c]}")$( ((ERRS[$v,$c] == 0)) || echo " (${ERRS[$v,$c]} failed)") |"
        done
        echo "$line"
    done
    echo
}
