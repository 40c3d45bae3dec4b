# shellcheck shell=bash
# tools/bench: PSS of idle warm sandboxes (key memory, and the zygote
# section's memory table); sourced.

# ------------------------------------------------------------------ memory
memory() {
    local sock=$1 pid=$2 out kb n procs total
    print_header
    echo "### Memory"
    echo
    # A pre-forked pool (issue 10): its zygote's sandbox is not one of the
    # idle sandboxes; the cgroup walk of the zygote section tells them apart.
    local zp
    zp=$(jnum "$("$BENCHPOOL" stats --socket "$sock" 2>/dev/null || true)" zygote_pid)
    if [[ -n $zp && $zp != 0 ]]; then
        mem_measure "$sock"
        if [[ -n $MM_ERR ]]; then
            echo "- PSS per idle warm sandbox: not measured: $MM_ERR"
        else
            kb=$((MM_TOTAL / MM_FOUND))
            local verdict=MISS
            ((kb < MEM_TARGET_KB)) && verdict=PASS
            ((MM_FOUND == MEM_POOL_SIZE)) || verdict="$verdict (found $MM_FOUND sandboxes, expected $MEM_POOL_SIZE)"
            echo "- PSS per idle warm sandbox (pre-forked): **$(mib "$kb") MiB** (Pss of smaps_rollup; $MM_FOUND idle" \
                "sandboxes of \`sbx pool serve --size $MEM_POOL_SIZE\`, $MM_NPROC processes, $(mib "$MM_TOTAL") MiB in all;" \
                "the zygote's sandbox apart: $(mem_zygote_text)). Target < 10 MiB: **$verdict**"
            echo "- private (USS) per idle warm sandbox: $(mib $((MM_PRIV / MM_FOUND))) MiB"
        fi
        echo
        return 0
    fi
    if ! out=$("$PSS" -v "$pid" 2>&1); then
        echo "- PSS per idle warm sandbox: not measured: ${out%%$'\n'*}"
        echo
        return 0
    fi
    local priv
    read -r _ n _ procs _ total _ kb _ _ _ priv _ _ <<<"$(tail -1 <<<"$out")"
    # Per process kind, summed over the sandboxes.
    local py other
    py=$(head -n -1 <<<"$out" | awk '$4 ~ /python3/ { s += $3 } END { print s + 0 }')
    other=$((total - py))
    local verdict=MISS
    ((kb < MEM_TARGET_KB)) && verdict=PASS
    ((n == MEM_POOL_SIZE)) || verdict="$verdict (found $n sandboxes, expected $MEM_POOL_SIZE)"
    echo "- PSS per idle warm sandbox: **$(mib "$kb") MiB** (Pss of smaps_rollup; $n idle sandboxes of" \
        "\`sbx pool serve --size $MEM_POOL_SIZE\`, $procs processes, $(mib "$total") MiB in all;" \
        "per sandbox: python3 $(mib $((py / n))) MiB + sbx init/exec processes $(mib $((other / n))) MiB)." \
        "Target < 10 MiB: **$verdict**"
    echo "- private (USS) per idle warm sandbox: $(mib "$priv") MiB (PSS also charges a share of the" \
        "rootfs' python3 and libraries, which every process mapping them on this host splits)"
    echo
}


# ------------------------------------------------------------------ zygote memory
# The memory cgroup directory of process PID (v1 memory hierarchy, else v2).
memcg_dir() {
    local pid=$1 rel="" v2="" mnt root
    rel=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3; exit }' "/proc/$pid/cgroup")
    if [[ -z $rel ]]; then
        rel=$(awk -F: '$1 == "0" { print $3; exit }' "/proc/$pid/cgroup")
        v2=1
    fi
    read -r mnt root < <(awk -v v2="$v2" '{
        for (i = 7; i <= NF; i++) if ($i == "-") break
        t = $(i + 1); o = $(i + 3)
        if (v2 && t == "cgroup2") { print $5, $4; exit }
        if (!v2 && t == "cgroup" && o ~ /(^|,)memory(,|$)/) { print $5, $4; exit } }' /proc/self/mountinfo)
    [[ -n $mnt && -n $rel ]] || return 1
    [[ $root == / ]] || rel=${rel#"$root"}
    echo "$mnt$rel"
}

# PSS and private kB of a process: "PSS PRIV" (nothing if gone).
proc_pss() {
    awk '/^Pss:/ { pss = $2 } /^Private_(Clean|Dirty):/ { pr += $2 }
         END { if (pss != "") print pss, pr + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null
}

# mem_measure SOCKET: the idle sandboxes of that daemon and their memory, in
# MM_* (MM_ERR set if it cannot tell).  They are the sbx-* cgroups beneath
# the daemon's memory cgroup named after the daemon or a descendant, or
# holding a descendant of it; the one holding stats.zygote_pid is the
# zygote's, counted apart.
mem_measure() {
    local s=$1 dpid line d p kb pk
    MM_ERR="" MM_FOUND=0 MM_NPROC=0 MM_TOTAL=0 MM_PRIV=0 MM_ZFOUND=0 MM_ZKB=0 MM_ZPROCS=0
    MM_OTHER=0 MM_DKB=0 MM_CG=""
    local -A PARENT=()
    dpid=${DAEMON[$s]}
    line=$("$BENCHPOOL" stats --socket "$s" 2>/dev/null) || line=""
    MM_ZPID=$(jnum "$line" zygote_pid)
    if ! MM_CG=$(memcg_dir "$dpid"); then
        MM_ERR="no memory cgroup of the daemon found"
        return 0
    fi
    local st pp rest
    for st in /proc/[0-9]*/stat; do
        p=${st#/proc/}; p=${p%/stat}
        { read -r line <"$st"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r _ pp _ <<<"$rest"
        PARENT[$p]=$pp
    done
    under_daemon() { # pid: the daemon or a descendant of it
        local q=$1 i=0
        while [[ -n $q && $q != 0 && $q != 1 ]] && ((i++ < 64)); do
            [[ $q == "$dpid" ]] && return 0
            q=${PARENT[$q]:-}
        done
        return 1
    }
    while IFS= read -r -d '' d; do
        local -a pids=()
        mapfile -t pids < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
        local mine=0
        [[ ${d##*/} =~ ^sbx-([0-9]+)- ]] && under_daemon "${BASH_REMATCH[1]}" && mine=1
        for p in "${pids[@]}"; do under_daemon "$p" && mine=1; done
        if ((!mine)); then MM_OTHER=$((MM_OTHER + 1)); continue; fi
        local is_z=0 bkb=0 bpk=0 bn=0
        for p in "${pids[@]}"; do [[ -n $MM_ZPID && $p == "$MM_ZPID" ]] && is_z=1; done
        for p in "${pids[@]}"; do
            read -r kb pk < <(proc_pss "$p") || continue
            [[ -n $kb ]] || continue
            bkb=$((bkb + kb)) bpk=$((bpk + pk)) bn=$((bn + 1))
        done
        if ((is_z)); then
            MM_ZFOUND=1 MM_ZKB=$((MM_ZKB + bkb)) MM_ZPROCS=$((MM_ZPROCS + bn))
        else
            MM_FOUND=$((MM_FOUND + 1)) MM_TOTAL=$((MM_TOTAL + bkb)) MM_PRIV=$((MM_PRIV + bpk))
            MM_NPROC=$((MM_NPROC + bn))
        fi
    done < <(find "$MM_CG" -mindepth 1 -type d -name 'sbx-*' -print0 -prune 2>/dev/null)
    unset -f under_daemon
    read -r MM_DKB _ < <(proc_pss "$dpid") || MM_DKB=0
    ((MM_FOUND > 0)) || MM_ERR="no idle sandbox found among the sbx-* cgroups beneath $MM_CG"
    return 0
}

# The zygote's sandbox, as text for the tables.
mem_zygote_text() {
    local kb
    if ((MM_ZFOUND)); then
        echo "$(mib "$MM_ZKB") MiB ($MM_ZPROCS processes)"
    elif [[ -n $MM_ZPID && $MM_ZPID != 0 ]]; then
        read -r kb _ < <(proc_pss "$MM_ZPID") || kb=""
        echo "pid $MM_ZPID not in an sbx-* cgroup beneath the daemon's${kb:+; its own PSS $(mib "$kb") MiB}"
    else
        echo "none (stats.zygote_pid ${MM_ZPID:-absent})"
    fi
}

# zy_mem_pool MODE SOCKET [OPTIONS-TEXT]: one table row for an idle pool of ZY_MEM_SIZE.
zy_mem_pool() {
    local mode=$1 s=$2 name
    name="$mode pool (\`sbx pool serve --size $ZY_MEM_SIZE${3:+ $3}\`)"
    mem_measure "$s"
    if [[ -n $MM_ERR ]]; then
        echo "| $name | not measured: $MM_ERR | | | | | | |"
        return 0
    fi
    local per=$((MM_TOTAL / MM_FOUND)) ppriv=$((MM_PRIV / MM_FOUND)) verdict=""
    if [[ $mode == fork ]]; then
        if ((per < ZY_MEM_TARGET_KB)); then verdict="< 2 MiB: PASS"; else verdict="< 2 MiB: MISS"; fi
    fi
    ((MM_FOUND == ZY_MEM_SIZE)) || verdict+="${verdict:+ }(found $MM_FOUND sandboxes, expected $ZY_MEM_SIZE)"
    echo "| $name | $MM_FOUND | $MM_NPROC | **$(mib "$per")** | $(mib "$ppriv") | $(mem_zygote_text) |" \
        "$(mib "${MM_DKB:-0}") | $verdict |"
    ((MM_OTHER == 0)) || ZMEM_NOTES+=("$name: $MM_OTHER other sbx-* cgroup(s) beneath the daemon's memory cgroup, not of this daemon, were left out")
}

zy_memory() {
    ZMEM_NOTES=()
    echo "#### Memory: PSS per idle sandbox, pool of $ZY_MEM_SIZE (one pool at a time, after the load daemons stopped)"
    echo
    echo "| pool | idle sandboxes | processes | PSS per sandbox MiB | private (USS) per sandbox MiB | zygote's sandbox (shared) PSS | daemon process PSS MiB | target |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    local s=$TMP/zymem.sock mode opts
    if [[ -n $BENCHPOOL_ERR ]]; then
        echo "| fork and fresh pools | not measured: $BENCHPOOL_ERR | | | | | | |"
        echo
        return 0
    fi
    for mode in fork fresh; do
        opts=()
        [[ $mode == fresh ]] && opts=("${FRESH_OPT[@]}")
        if ! start_daemon "$s" "$ZY_MEM_SIZE" "${opts[@]}"; then
            echo "| $mode pool | not measured: ${DAEMON_ERR//|/\\|} | | | | | | |"
            continue
        fi
        sleep 0.5   # anything the last sandbox does after it counts as idle
        local m
        m=$(daemon_mode "$s")
        zy_mem_pool "$mode" "$s" "${opts[*]}"
        [[ $m == "$mode" ]] || ZMEM_NOTES+=("$mode pool: the daemon reports mode '$m'")
        stop_daemon "$s"
    done
    echo
    echo "- PSS: \`Pss\` of /proc/PID/smaps_rollup summed over the processes of each idle sandbox (its sbx-* cgroup" \
        "beneath the daemon's memory cgroup, nested ones included), divided by the number of sandboxes; the" \
        "zygote's sandbox (the one holding stats.zygote_pid) is not among them and shown apart: its pages are" \
        "shared by the forked sandboxes, so their PSS is charged a share of them."
    local x
    for x in "${ZMEM_NOTES[@]}"; do echo "- $x"; done
    echo
}

