# shellcheck shell=bash
# tools/bench: single-use sandboxes per second (key throughput); sourced.

# ------------------------------------------------------------------ throughput
throughput() {
    local sock=$1 slices slice_ms i order v out ok errs usec i0 i1
    local -A OK=() ERR=() USEC=() ADJ=() MIN=() MAX=()
    # Alternating slices (ABBA...) of about 5 s, at least 2 per variant.
    slices=$(((TP_SECONDS + 2) / 5))
    ((slices >= 2)) || slices=2
    slice_ms=$((TP_SECONDS * 1000 / slices))
    local sec
    sec=$(printf '%d.%03d' $((slice_ms / 1000)) $((slice_ms % 1000)))
    for v in daemon bare; do OK[$v]=0 ERR[$v]=0 USEC[$v]=0 ADJ[$v]=0 MIN[$v]="" MAX[$v]=""; done
    for ((i = 0; i < slices; i++)); do
        if ((i % 2)); then order="bare daemon"; else order="daemon bare"; fi
        for v in $order; do
            # The pool full and quiet: no refill overlaps either variant.
            if ! "$BENCHPOOL" wait --socket "$sock" --size "$TP_POOL_SIZE"; then
                print_header
                echo "- throughput: not measured: the daemon's pool did not refill (see stderr)"
                echo
                return 1
            fi
            i0=0 i1=0
            if [[ $v == daemon ]]; then
                out=$("$BENCHPOOL" throughput --socket "$sock" --seconds "$sec" --clients "$TP_CLIENTS") || out=""
                read -r _ ok _ errs _ usec _ i0 _ i1 <<<"$out"
            else
                out=$("$BENCHPOOL" rate --seconds "$sec" --jobs "$(nproc)" -- chroot "$ROOTFS" /usr/bin/python3 -c pass) || out=""
                read -r _ ok _ errs _ usec <<<"$out"
            fi
            if [[ $out != ok\ * ]] || ((usec <= 0)); then
                print_header
                echo "- throughput: not measured: benchpool ${v/bare/rate} failed (see stderr)"
                echo
                return 1
            fi
            OK[$v]=$((OK[$v] + ok)) ERR[$v]=$((ERR[$v] + errs)) USEC[$v]=$((USEC[$v] + usec))
            # Without the pre-warmed stock the slice started with.
            local adj=$((ok - (i0 - i1)))
            ADJ[$v]=$((ADJ[$v] + adj))
            local r=$((adj * 100000000 / usec))   # per second ×100
            [[ -z ${MIN[$v]} ]] || ((r < MIN[$v])) && MIN[$v]=$r
            [[ -z ${MAX[$v]} ]] || ((r > MAX[$v])) && MAX[$v]=$r
        done
    done
    rate() { local x=$1; printf '%d.%02d' $((x / 100)) $((x % 100)); }
    local rd rb rraw pct verdict
    rd=$((ADJ[daemon] * 100000000 / USEC[daemon]))
    rraw=$((OK[daemon] * 100000000 / USEC[daemon]))
    rb=$((ADJ[bare] * 100000000 / USEC[bare]))
    pct=$((rb > 0 ? rd * 100 / rb : 0))
    verdict=MISS
    ((pct >= TP_TARGET_PCT)) && verdict=PASS
    print_header
    echo "### Throughput: single-use sandboxes per second"
    echo
    echo "$slices alternating slices of ${sec} s per variant, $TP_SECONDS s each in all; pool refilled and quiet before every slice."
    echo
    echo "| variant | completed | errors | seconds | per second | slice min–max /s |"
    echo "|---|---:|---:|---:|---:|---:|"
    echo "| daemon, pool size $TP_POOL_SIZE, $TP_CLIENTS clients, python print(1) (fresh sandbox each) | ${ADJ[daemon]} | ${ERR[daemon]} | $(ms $((USEC[daemon] / 1000))) | $(rate "$rd") | $(rate "${MIN[daemon]}")–$(rate "${MAX[daemon]}") |"
    echo "| bare \`chroot python3 -c pass\`, $(nproc) parallel loops | ${OK[bare]} | ${ERR[bare]} | $(ms $((USEC[bare] / 1000))) | $(rate "$rb") | $(rate "${MIN[bare]}")–$(rate "${MAX[bare]}") |"
    echo
    echo "- daemon / bare: **${pct}%**. Target >= ${TP_TARGET_PCT}%: **$verdict**"
    echo "- daemon completions exclude the pre-warmed stock each slice began with (idle before − idle after);" \
        "counting it: ${OK[daemon]} completed, $(rate "$rraw")/s."
    echo
}

