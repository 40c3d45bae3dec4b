# shellcheck shell=bash
# tools/bench: the network section (key net, issue 12); sourced.
#
# 1. Cold start: `sbx run --net none -- /bin/true` (the baseline),
#    `--net egress` and `--net egress --allow IP:PORT`, in one interleaved
#    round-robin (build/benchrun, N runs after W warm-ups); build/benchstat
#    gives median, p95, the ratio to --net none (95% CI) and the extra ms.
# 2. Throughput through the user-mode stack: a sink (tools/benchlib/nettcp.py)
#    in a network namespace this section creates, on a veth pair in the
#    first free /30 of 198.51.100.0/24 (.1 on the host, .2 in the namespace;
#    198.51.100.0/30 unless the host already uses it).  The same python3
#    sender (the rootfs's) sends NET_MIB MiB (tools/bench: 256, --quick 8)
#    from the host (chroot, no sandbox: the baseline), from inside a
#    `sbx run --net egress --allow 198.51.100.2:5001` sandbox, and from the
#    host to a sink inside a long-lived sandbox through a published port
#    (`sbx create --net egress --publish 127.0.0.1:HP:5001`).  NET_ROUNDS
#    rounds (tools/bench: 10, --quick 1), the order rotating; MB/s = bytes /
#    the time from connect() to the sink's count of the last byte.
# Only this machine's addresses and the namespace's are ever used.  The
# namespace (and with it the veth pair), the sinks and the sandbox are
# removed at the end of the section and by the bench's cleanup (net_down,
# a CLEANUP_HOOK), also on failure or Ctrl-C.

# The namespace is held by a process of ours (tagged sbxb-PID-ns), not a
# named /run/netns entry: other tools on a shared host remount those, which
# breaks `ip netns exec` at random.  It ends with that process; the veth
# pair with it.
NET_TAG=sbxb-$$-ns NET_VH=sbxb$$a NET_VN=sbxb$$b
NET_HOLDER_PID=""   # the process holding the namespace
# The addresses: the first /30 of 198.51.100.0/24 the host does not use
# (net_pick), 198.51.100.0/30 when free.
NET_HOST_IP=198.51.100.1 NET_NS_IP=198.51.100.2 NET_PREFIX=198.51.100.0/30 NET_PORT=5001
NET_ALLOW=$NET_NS_IP:$NET_PORT
NET_BOX=sbxbnet$$
NET_SRC=""          # nettcp.py's text
NET_SINK_PID=""     # the sink in the namespace
NET_BOX_UP=0        # the published-port sandbox exists
NET_BOX_SINK_PID="" # `sbx exec` of the sink inside it
NET_HP=""           # its host port
NET_SEND_PID=""     # the sender running now (sbx run or chroot)
NET_ERR=""
NET_FAILED=()       # "what: why" of rows not run or failed (--strict)
NET_IO_S=120        # deadline of one transfer, in seconds

# net_down: stop the sinks, remove the sandbox and the namespace (which
# takes the veth pair with it); idempotent.  NET_LEFT: what it could not
# remove ("" if nothing).  net_cleanup, the bench's hook, prints it.
NET_LEFT=""
net_cleanup() {
    net_down
    printf '%s' "$NET_LEFT"
}
net_down() {
    local left="" i
    # a sender first (interrupted mid-transfer: sbx run passes SIGTERM on)
    net_kill "$NET_SEND_PID"
    NET_SEND_PID=""
    net_kill "$NET_SINK_PID"
    NET_SINK_PID=""
    if ((NET_BOX_UP)); then
        "$SBX" rm -f "$NET_BOX" >/dev/null 2>&1 || true
        "$SBX" inspect "$NET_BOX" >/dev/null 2>&1 && left+="sandbox $NET_BOX; "
        NET_BOX_UP=0
    fi
    net_kill "$NET_BOX_SINK_PID"
    NET_BOX_SINK_PID=""
    if [[ -n $NET_HOLDER_PID ]]; then
        net_kill "$NET_HOLDER_PID"
        net_alive "$NET_HOLDER_PID" && left+="namespace holder $NET_HOLDER_PID; "
        NET_HOLDER_PID=""
        # the veth pair goes with the namespace, asynchronously
        for ((i = 0; i < 50; i++)); do
            ip link show "$NET_VH" >/dev/null 2>&1 || break
            sleep 0.1
        done
    fi
    ! ip link show "$NET_VH" >/dev/null 2>&1 || left+="veth $NET_VH; "
    NET_LEFT=${left%; }
    return 0
}

# PID runs (a zombie does not: the hook runs in a subshell, which cannot reap).
net_alive() {
    local st
    st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z && $st != X ]]
}

net_kill() { # PID: TERM, 5 s, KILL, reap
    local p=$1 i
    [[ -n $p ]] || return 0
    kill -TERM "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
    for ((i = 0; i < 50; i++)); do
        net_alive "$p" || break
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

# net_wait_ready FILE PID: until FILE says "ready" (10 s); 1 (NET_ERR) if not.
net_wait_ready() {
    local f=$1 p=$2 i
    for ((i = 0; i < 100; i++)); do
        grep -qx ready "$f" 2>/dev/null && return 0
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    NET_ERR="the sink did not start: $(grep -v '^$' "$f.err" 2>/dev/null | head -1 | cut -c1-120)"
    NET_ERR=${NET_ERR%: }
    return 1
}

# net_free BLOCK: no address and no route of the host (other than the
# default) in or over 198.51.100.BLOCK/30.
net_free() {
    local p=198.51.100.$1/30 b routes addrs
    routes=$(ip -4 route show table all root "$p" 2>/dev/null; ip -4 route show table all match "$p" 2>/dev/null)
    addrs=$(ip -4 -o addr show 2>/dev/null)
    ! grep -qv -e '^default' -e '^$' <<<"$routes" || return 1
    for b in 0 1 2 3; do
        ! grep -q " 198\.51\.100\.$(($1 + b))/" <<<"$addrs" || return 1
    done
}

# net_pick: the first free /30 of 198.51.100.0/24 (TEST-NET-2), from .0;
# never one the host already routes (the integration tests use some).
net_pick() {
    local b
    for ((b = 0; b < 256; b += 4)); do
        net_free "$b" || continue
        NET_HOST_IP=198.51.100.$((b + 1)) NET_NS_IP=198.51.100.$((b + 2)) NET_PREFIX=198.51.100.$b/30
        NET_ALLOW=$NET_NS_IP:$NET_PORT
        return 0
    done
    NET_ERR="no free /30 in 198.51.100.0/24 on this host"
    return 1
}

# net_setup: the namespace, the veth pair, the sink.  1 (NET_ERR) on failure.
net_setup() {
    ((EUID == 0)) || { NET_ERR="needs root"; return 1; }
    have ip || { NET_ERR="ip (iproute2) not found"; return 1; }
    { have unshare && have nsenter; } || { NET_ERR="unshare and nsenter (util-linux) needed"; return 1; }
    have chroot || { NET_ERR="chroot not found"; return 1; }
    [[ -x $ROOTFS/usr/bin/python3 ]] || { NET_ERR="no python3 in $ROOTFS"; return 1; }
    [[ -r $LIB/nettcp.py ]] || { NET_ERR="$LIB/nettcp.py missing"; return 1; }
    NET_SRC=$(<"$LIB/nettcp.py")
    net_pick || return 1
    local msg i f=$TMP/net.holder
    unshare --net -- bash -c "echo ready; exec -a $NET_TAG sleep 3600" </dev/null >"$f" 2>&1 &
    NET_HOLDER_PID=$!
    for ((i = 0; i < 100; i++)); do
        grep -qx ready "$f" && break
        kill -0 "$NET_HOLDER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if ! grep -qx ready "$f"; then
        NET_ERR="unshare --net failed: $(grep -v '^$' "$f" | head -1 | cut -c1-120)"
        NET_ERR=${NET_ERR%: }
        return 1
    fi
    local ns=(nsenter "--net=/proc/$NET_HOLDER_PID/ns/net")
    if ! msg=$({
        ip link add "$NET_VH" type veth peer name "$NET_VN" netns "$NET_HOLDER_PID" &&
            ip addr add "$NET_HOST_IP/30" dev "$NET_VH" && ip link set "$NET_VH" up &&
            "${ns[@]}" ip addr add "$NET_NS_IP/30" dev "$NET_VN" &&
            "${ns[@]}" ip link set "$NET_VN" up && "${ns[@]}" ip link set lo up
    } 2>&1); then
        NET_ERR="veth: ${msg%%$'\n'*}"
        return 1
    fi
    # Someone else may have taken the same /30 meanwhile: then ours is not alone.
    msg=$(ip -4 route show table all match "$NET_PREFIX" 2>/dev/null)
    if awk -v d=" dev $NET_VH " 'NF && !/^default/ && index($0, d) == 0 { f = 1 } END { exit !f }' <<<"$msg"; then
        NET_ERR="$NET_PREFIX was taken by another interface meanwhile"
        return 1
    fi
    f=$TMP/net.sink
    "${ns[@]}" chroot "$ROOTFS" /usr/bin/python3 -c "$NET_SRC" \
        sink "$NET_NS_IP" "$NET_PORT" 0 3600 </dev/null >"$f" 2>"$f.err" &
    NET_SINK_PID=$!
    net_wait_ready "$f" "$NET_SINK_PID"
}

# net_publish_setup: the long-lived sandbox with the sink behind a published
# port on 127.0.0.1.  1 (NET_ERR) on failure.
net_publish_setup() {
    local msg f=$TMP/net.boxsink
    NET_HP=$(chroot "$ROOTFS" /usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) || NET_HP=""
    [[ $NET_HP =~ ^[0-9]+$ ]] || { NET_ERR="no free port on 127.0.0.1"; return 1; }
    NET_BOX_UP=1
    if ! msg=$("$SBX" create "$NET_BOX" --net egress --publish "127.0.0.1:$NET_HP:$NET_PORT" 2>&1 </dev/null); then
        NET_ERR="sbx create --net egress --publish failed: ${msg:0:120}"
        return 1
    fi
    add_creator "$("$SBX" inspect "$NET_BOX" 2>/dev/null | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')"
    "$SBX" exec "$NET_BOX" --timeout "$(((NET_ROUNDS + 2) * NET_IO_S + 60))s" -- /usr/bin/python3 -c "$NET_SRC" \
        sink 0.0.0.0 "$NET_PORT" 0 $(((NET_ROUNDS + 2) * NET_IO_S)) </dev/null >"$f" 2>"$f.err" &
    NET_BOX_SINK_PID=$!
    net_wait_ready "$f" "$NET_BOX_SINK_PID"
}

# net_send VARIANT BYTES: one transfer; NET_RES "BYTES USEC", or 1 (NET_ERR).
#   host: the rootfs's python3 on the host (chroot) -> the namespace's sink
#   out:  the same inside `sbx run --net egress --allow` -> the namespace's sink
#   in:   the same on the host -> 127.0.0.1:HP -> the sink in the sandbox
net_send() {
    local v=$1 bytes=$2 st=0 pid f=$TMP/net.send argv=()
    local send=(/usr/bin/python3 -c "$NET_SRC" send)
    case $v in
        host) argv=(timeout "$NET_IO_S" chroot "$ROOTFS" "${send[@]}" "$NET_NS_IP" "$NET_PORT" "$bytes") ;;
        out) argv=("$SBX" run --net egress --allow "$NET_ALLOW" --timeout "${NET_IO_S}s" --
            "${send[@]}" "$NET_NS_IP" "$NET_PORT" "$bytes") ;;
        in) argv=(timeout "$NET_IO_S" chroot "$ROOTFS" "${send[@]}" 127.0.0.1 "$NET_HP" "$bytes") ;;
    esac
    # a simple command: $! is sbx's own pid (its cgroups are named after it)
    "${argv[@]}" </dev/null >"$f" 2>"$f.err" &
    pid=$!
    NET_SEND_PID=$pid
    add_creator "$pid"
    wait "$pid" || st=$?
    NET_SEND_PID=""
    NET_RES=$(<"$f")
    if ((st != 0)) || [[ ! $NET_RES =~ ^$bytes\ [1-9][0-9]*$ ]]; then
        NET_ERR="exit $st: $(grep -v '^$' "$f.err" | head -1 | cut -c1-120)"
        NET_ERR=${NET_ERR%: }
        return 1
    fi
}

# ------------------------------------------------------------------ cold start
net_cold() {
    local v idx=0 floor=- st=0 i
    local -a keys=(none egress allow) argv=() br=() rows=()
    local -A title=([none]="--net none" [egress]="--net egress" [allow]="--net egress --allow $NET_ALLOW")
    local -A note=([none]="the baseline: the sandbox's own network namespace, no interface up"
        [egress]="netd: slirp4netns, the nftables rule set and the DNS responder, started before the command and stopped after"
        [allow]="the same with one allowlist entry (the throughput sink's address and port)")
    local -A line=()
    for v in "${keys[@]}"; do
        argv=("$SBX" run)
        case $v in
            none) argv+=(--net none) ;;
            egress) argv+=(--net egress) ;;
            allow) argv+=(--net egress --allow "$NET_ALLOW") ;;
        esac
        argv+=(-- /bin/true)
        if [[ ! -x $SBX ]]; then
            PROBE_ERR="$SBX not built yet (make all)"
        elif probe "${argv[@]}"; then
            ((idx == 0)) || br+=("$SEP")
            br+=("${argv[@]}")
            [[ $v == none ]] && floor=$idx
            rows+=("$idx${SEP}$v")
            line[$v]="$idx${SEP}sbx run ${title[$v]}${SEP}/bin/true${SEP}FLOOR${SEP}-${SEP}${note[$v]}"
            idx=$((idx + 1))
            continue
        fi
        line[$v]="-${SEP}sbx run ${title[$v]}${SEP}/bin/true${SEP}-${SEP}-${SEP}${PROBE_ERR//$'\t'/ }"
        NET_FAILED+=("net cold start, sbx run ${title[$v]}: $PROBE_ERR")
    done
    print_header
    echo "### Network (issue 12): cold start, \`sbx run --net MODE -- /bin/true\`"
    echo
    if ((idx == 0)); then
        echo "- net cold start: not measured: no variant could run"
        echo
        return 0
    fi
    local load0 load1
    load0=$(loadavg)
    note "net: cold start, $idx series, $N runs each after $WARMUP warm-up runs, interleaved"
    "$BENCHRUN" -n "$N" -w "$WARMUP" -s "$SEP" -- "${br[@]}" >"$OUT/net-cold.tsv" || st=$?
    load1=$(loadavg)
    local pid
    while read -r pid; do add_creator "$pid"; done < <(cut -f5 "$OUT/net-cold.tsv" | sort -u)
    if ((st != 0 && st != 1)); then
        echo "- net cold start: not measured: benchrun failed (exit $st)"
        echo
        return 0
    fi
    local r k
    for r in "${rows[@]}"; do
        i=${r%%"$SEP"*} k=${r#*"$SEP"}
        local fails
        fails=$(awk -F'\t' -v i="$i" '$1 == "run" && $2 == i && $4 != 0' "$OUT/net-cold.tsv" | wc -l)
        ((fails == 0)) || NET_FAILED+=("net cold start, sbx run ${title[$k]}: $fails of $N runs failed")
    done
    # benchstat's rows (tools/benchstat.c), --net none the floor of the others
    local fl
    : >"$TMP/net-rows.tsv"
    for v in "${keys[@]}"; do
        fl=$floor
        [[ $v == none ]] && fl=-
        r=${line[$v]//"$SEP"/$'\t'}
        echo "${r/$'\t'FLOOR$'\t'/$'\t'$fl$'\t'}" >>"$TMP/net-rows.tsv"
    done
    mkdir -p "$OUT/net"
    cp "$TMP/net-rows.tsv" "$OUT/net/rows.tsv"
    local machine=()
    # the machine's state for results.json (the engines' versions take
    # seconds: not in the smoke test)
    if ((!QUICK)); then
        machine_json "$load0" "$load1" >"$TMP/net-machine.json"
        machine=(--machine "$TMP/net-machine.json")
    fi
    if ! "$BENCHSTAT" report --rows "$TMP/net-rows.tsv" --samples "$OUT/net-cold.tsv" --out "$OUT/net" \
        "${machine[@]}" --no-plot >/dev/null 2>"$TMP/net.stat.err"; then
        echo "- net cold start: not measured: benchstat failed: $(head -1 "$TMP/net.stat.err")"
        echo
        return 0
    fi
    echo "The rows in one round-robin (build/benchrun), $N runs each after $WARMUP warm-up runs. Ratio (95% CI," \
        "paired bootstrap over the rounds) and extra ms: to \`--net none\` of the same run. Load average $load0 before, $load1 after." \
        "Samples: \`net-cold.tsv\`, statistics: \`net/results.json\`."
    echo
    # benchstat's table, without its workload heading (one workload here).
    grep '^|' "$OUT/net/latency.md" | sed 's/ratio to floor/ratio to --net none/; s/| overhead ms |/| extra ms |/'
    echo
    # The extra cost at the median and at p95 (runs that exited 0).
    [[ $floor != - ]] || return 0
    local f=$TMP/net.us nb mb pb n m p
    awk -F'\t' -v i="$floor" '$1 == "run" && $2 == i && $4 == 0 { print $3 }' "$OUT/net-cold.tsv" >"$f"
    read -r nb mb pb < <(net_summary "$f")
    ((nb > 0 && mb > 0 && pb > 0)) || return 0
    for r in "${rows[@]}"; do
        i=${r%%"$SEP"*} k=${r#*"$SEP"}
        [[ $k != none ]] || continue
        awk -F'\t' -v i="$i" '$1 == "run" && $2 == i && $4 == 0 { print $3 }' "$OUT/net-cold.tsv" >"$f"
        read -r n m p < <(net_summary "$f")
        ((n > 0)) || continue
        echo "- extra cost of \`${title[$k]}\` over \`--net none\`: median $(net_dms $((m - mb))) ms ($(net_x "$m" "$mb")), p95 $(net_dms $((p - pb))) ms ($(net_x "$p" "$pb"))"
    done
    echo
}

net_dms() { # µs (signed) -> "+x.x" ms
    local v=$1 sign=+
    ((v < 0)) && sign=- v=$((-v))
    v=$(((v + 50) / 100))
    printf '%s%d.%d' "$sign" $((v / 10)) $((v % 10))
}

net_x() { # A B -> "A/B x" with two decimals
    local t=$((($1 * 100 + $2 / 2) / $2))
    printf '%d.%02dx' $((t / 100)) $((t % 100))
}

# ------------------------------------------------------------------ throughput
net_throughput() { # SETUP-ERROR ("": the namespace and its sink are up)
    local v bytes=$((NET_MIB * 1048576)) r k
    local -a vars=(host out in) order=()
    local -A title=([host]="host -> namespace (no sandbox): the baseline"
        [out]="sandbox -> namespace: \`sbx run --net egress --allow $NET_ALLOW\`"
        [in]="host -> published port -> sandbox: \`sbx create --net egress --publish 127.0.0.1:HP:$NET_PORT\`")
    local -A why=()
    print_header
    echo "### Network (issue 12): TCP throughput through the user-mode stack"
    echo
    if [[ -n $1 ]]; then
        for v in "${vars[@]}"; do why[$v]=$1; done
    elif ! net_publish_setup; then
        why[in]=$NET_ERR
    fi
    # The probes (1 MiB each) are the warm-up.
    for v in "${vars[@]}"; do
        [[ -z ${why[$v]:-} ]] || continue
        net_send "$v" 1048576 || why[$v]="probe failed: $NET_ERR"
    done
    echo "variant,round,bytes,usec" >"$OUT/net-throughput.csv"
    for v in "${vars[@]}"; do : >"$TMP/net-tp-$v"; done
    note "net: throughput, $NET_ROUNDS rounds of $NET_MIB MiB per variant, interleaved"
    for ((r = 0; r < NET_ROUNDS; r++)); do
        order=()
        for ((k = 0; k < ${#vars[@]}; k++)); do order+=("${vars[(k + r) % ${#vars[@]}]}"); done
        for v in "${order[@]}"; do
            [[ -z ${why[$v]:-} ]] || continue
            if ! net_send "$v" "$bytes"; then
                why[$v]="round $((r + 1)) failed: $NET_ERR"
                continue
            fi
            echo "${NET_RES#* }" >>"$TMP/net-tp-$v"
            echo "$v,$((r + 1)),$bytes,${NET_RES#* }" >>"$OUT/net-throughput.csv"
        done
    done
    echo "The rootfs's python3 sends $NET_MIB MiB over one TCP connection to a sink that counts them" \
        "(\`tools/benchlib/nettcp.py\`) and answers the count: MB/s (10^6 bytes/s) = bytes / time from just before" \
        "connect() to that answer, measured by the sender. $NET_ROUNDS rounds, the three variants in each, the order" \
        "rotating. The sink of the first two rows runs in a network namespace of the bench" \
        "(veth $NET_HOST_IP/30 on the host, $NET_NS_IP/30 in it); the sandboxes have sbx's defaults (--cpus 1," \
        "--memory 512M) and slirp4netns runs in the sandbox's cgroup. Samples: \`net-throughput.csv\`."
    echo
    echo "| variant | transfers | median s | p95 s | median MB/s | MB/s at p95 time | ratio to baseline (median MB/s) |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    local n m p base=0 line
    for v in "${vars[@]}"; do
        read -r n m p < <(net_summary "$TMP/net-tp-$v")
        if ((n == 0 || m <= 0 || p <= 0)); then
            [[ -n ${why[$v]:-} ]] || why[$v]="no transfer completed"
            echo "| ${title[$v]} | not run: ${why[$v]//|/\\|} | | | | | |"
            NET_FAILED+=("net throughput, $v: ${why[$v]}")
            continue
        fi
        [[ -z ${why[$v]:-} ]] || NET_FAILED+=("net throughput, $v: ${why[$v]}")
        [[ $v == host ]] && base=$((bytes * 1000 / m))
        local rate=$((bytes * 1000 / m)) ratio="1.00x (baseline)"
        if [[ $v != host ]]; then
            ratio="-"
            ((base > 0)) && ratio=$(printf '%d.%02dx' $((rate * 100 / base / 100)) $((rate * 100 / base % 100)))
        fi
        line="| ${title[$v]} | $n | $(net_sec "$m") | $(net_sec "$p") | $(net_mbs "$rate") | $(net_mbs $((bytes * 1000 / p))) | $ratio |"
        [[ -z ${why[$v]:-} ]] || line+=" then failed: ${why[$v]//|/\\|}"
        echo "$line"
    done
    echo
}

# net_summary FILE -> "n median p95" of the µs in FILE (benchstat).
net_summary() {
    local s
    s=$("$BENCHSTAT" summary "$1" 2>/dev/null) || { echo "0 0 0"; return 0; }
    [[ $s =~ n\ ([0-9]+)\ median\ ([0-9]+)\ p95\ ([0-9]+) ]] || { echo "0 0 0"; return 0; }
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}

net_sec() { # µs -> "x.xxx" s
    local m=$((($1 + 500) / 1000))
    printf '%d.%03d' $((m / 1000)) $((m % 1000))
}

net_mbs() { # kB/s (bytes per ms) -> "x.x" MB/s
    local t=$((($1 + 50) / 100))
    printf '%d.%d' $((t / 10)) $((t % 10))
}

# ------------------------------------------------------------------ section
net_section() {
    local setup_err=""
    net_setup || setup_err=$NET_ERR
    net_cold
    net_throughput "$setup_err"
    net_down
    [[ -z $NET_LEFT ]] || NET_FAILED+=("net: left behind: $NET_LEFT")
}
