# shellcheck shell=bash
# tools/bench: what every section uses (building the timers, the temporary
# directory and its cleanup, the daemons, probes, small number formatting);
# sourced once by tools/bench after its options are parsed.

have() { command -v "$1" >/dev/null; }

# build_tool OUT SRC [CC-ARGS...]: cc -O2 SRC into OUT when OUT is missing or
# older than SRC (or build/libsbx.a, for what links it).  The lead may be
# rebuilding libsbx.a: a failed link is retried a few times.  Sets BUILD_ERR.
BUILD_ERR=""
build_tool() {
    local out=$1 src=$2 msg
    shift 2
    if [[ -x $out && ! $src -nt $out ]] && { [[ " $* " != *" $LIBSBX "* ]] || [[ ! $LIBSBX -nt $out ]]; }; then
        return 0
    fi
    have cc || { BUILD_ERR="cc not found"; return 1; }
    mkdir -p "$(dirname "$out")"
    for _ in 1 2 3 4 5; do
        if msg=$(cc -O2 -Wall -Wextra -o "$out.tmp.$$" "$src" "$@" 2>&1); then
            mv -f "$out.tmp.$$" "$out"
            return 0
        fi
        rm -f "$out.tmp.$$"
        [[ " $* " == *" $LIBSBX "* ]] || break
        sleep 3
    done
    BUILD_ERR="cannot build ${out#"$REPO"/}: ${msg%%$'\n'*}"
    return 1
}

build_tool "$BENCHRUN" "$BENCHRUN_SRC" || die "$BUILD_ERR"
build_tool "$BENCHSTAT" "$BENCHSTAT_SRC" -lm || die "$BUILD_ERR"
BENCHPOOL_ERR=""
NEED_POOL=0
for k in pool daemon cli throughput memory zygote concurrency; do want $k && NEED_POOL=1; done
if ((NEED_POOL)); then
    [[ -f $LIBSBX ]] || BENCHPOOL_ERR="$LIBSBX missing (make all)"
    if [[ -z $BENCHPOOL_ERR ]] && ! build_tool "$BENCHPOOL" "$BENCHPOOL_SRC" -I"$REPO/include" \
        "$LIBSBX" -lseccomp -lcap -lcgroup -lpthread; then
        BENCHPOOL_ERR=$BUILD_ERR
    fi
    [[ -z $BENCHPOOL_ERR ]] || note "$BENCHPOOL_ERR"
fi

# ------------------------------------------------------------------ cleanup
# Everything this run creates lives under $TMP (state and run dirs of the
# named sandboxes, the daemons' sockets), except the podman/docker
# containers, which are named after our pid.
TMP=$(mktemp -d /tmp/sbxbench.XXXXXX)
export SBX_STATE_DIR=$TMP/state SBX_RUN_DIR=$TMP/run SBX_ROOTFS=$ROOTFS
mkdir -p "$SBX_STATE_DIR" "$SBX_RUN_DIR"
CREATORS=()          # pids of processes that may have created sbx-PID-* cgroups
declare -A DAEMON=() # socket -> daemon pid
BOXES=()             # named sandboxes to remove
CLEANUP_HOOKS=()     # functions cleanup calls after the boxes are removed;
                     # each prints what it left behind (nothing: all gone)
CLEANED=0
LEFTOVER=""

# Pids from benchrun's output, the helper, the daemons, the supervisors.
add_creator() {
    local p
    for p in "$@"; do [[ $p =~ ^[1-9][0-9]*$ ]] && CREATORS+=("$p"); done
    return 0
}

stop_daemon() { # socket
    local s=$1 pid=${DAEMON[$1]:-} i
    [[ -n $pid ]] || return 0
    unset "DAEMON[$s]"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        note "daemon $pid did not exit within 30 s of SIGTERM: killing it (SIGKILL)"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# sbx-PID-* cgroup directories of our creators, one per line (a lookup
# table: the zygote section's cold runs add thousands of creators).
our_cgroups() {
    ((${#CREATORS[@]})) || return 0
    local m d p
    local -A mine=()
    for p in "${CREATORS[@]}"; do mine[$p]=1; done
    awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
           if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo |
        sort -u | while read -r m; do
            find "$m" -maxdepth 8 -type d -name 'sbx-*' 2>/dev/null
        done | while read -r d; do
            [[ ${d##*/} =~ ^sbx-([0-9]+)-[0-9a-f]{8}$ ]] || continue
            [[ -n ${mine[${BASH_REMATCH[1]}]:-} ]] && echo "$d"
        done
    return 0
}

cleanup() {
    ((CLEANED)) && return 0
    CLEANED=1
    set +e
    local s b left d hp i
    # The helper ends when benchrun closes its stdin (or dies): wait for it.
    if [[ -s $TMP/helper.pid ]]; then
        hp=$(<"$TMP/helper.pid")
        add_creator "$hp"
        for ((i = 0; i < 300; i++)); do [[ -d /proc/$hp ]] || break; sleep 0.1; done
    fi
    for s in "${!DAEMON[@]}"; do stop_daemon "$s"; done
    for b in "${BOXES[@]}"; do
        # each box by the sbx that made it (the baseline's own binary)
        local bin=$SBX
        [[ $b == benchbox-base ]] && bin=$BASELINE
        "$bin" inspect "$b" >/dev/null 2>&1 || continue   # never created
        "$bin" rm -f "$b" >/dev/null 2>&1 || note "sbx rm -f $b failed"
    done
    local hook hleft=""
    for hook in "${CLEANUP_HOOKS[@]}"; do
        hleft+=$("$hook" 2>&1)
    done
    rm -rf "$TMP"
    [[ ! -e $TMP ]] || hleft+="${hleft:+; }$TMP could not be removed"
    left=$(our_cgroups)
    LEFTOVER=$left${hleft:+${left:+$'\n'}$hleft}
    if [[ -n $left ]]; then
        note "leftover cgroups of this run (should not happen):"
        sed 's/^/  /' <<<"$left" >&2
        # Remove the empty ones, deepest first; a populated one stays.
        while read -r d; do rmdir "$d" 2>/dev/null; done < <(sort -r <<<"$left")
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(loadavg)
DATE_START=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

# start_daemon SOCKET SIZE [OPTION...]: `sbx pool serve` in the background,
# wait until its pool is full.  Prints nothing; returns 1 (reason in
# $DAEMON_ERR).
DAEMON_ERR=""
start_daemon() {
    local s=$1 size=$2 pid
    shift 2
    "$SBX" pool serve --socket "$s" --size "$size" "$@" </dev/null >/dev/null 2>"$s.err" &
    pid=$!
    DAEMON[$s]=$pid
    add_creator "$pid"
    if ! "$BENCHPOOL" wait --socket "$s" --size "$size" --timeout-ms 120000 2>>"$s.err"; then
        local st=0 why
        if ! kill -0 "$pid" 2>/dev/null; then
            unset "DAEMON[$s]"
            wait "$pid" 2>/dev/null || st=$?
            why="exited with status $st"
            ((st <= 128)) || why="died of signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null || echo ?))"
            DAEMON_ERR="sbx pool serve${*:+ $*} $why: $(grep -v -e 'serving on' -e '^benchpool' "$s.err" | head -1)"
        else
            DAEMON_ERR="sbx pool serve${*:+ $*}: $(grep -v 'serving on' "$s.err" | head -1)"
        fi
        stop_daemon "$s"
        return 1
    fi
    return 0
}


# engines_up KEY...: the container engines of tools/benchlib/engines.sh,
# set up in $TMP/engines (once each); their long-lived processes are ours.
engines_up() {
    beng_up "$TMP/engines" "$ROOTFS" "$@" || note "engines: beng_up failed"
    local p
    for p in $BENG_PIDS; do add_creator "$p"; done
}

# ------------------------------------------------------------------ probes
# probe CMD [ARGS...]: run it once; on failure set PROBE_ERR.
PROBE_ERR=""
probe() {
    local st=0 pid
    "$@" </dev/null >/dev/null 2>"$TMP/probe.err" &
    pid=$!
    add_creator "$pid"
    wait "$pid" || st=$?
    if ((st != 0)); then
        PROBE_ERR=$(grep -v '^$' "$TMP/probe.err" | head -1)
        PROBE_ERR="probe failed (exit $st)${PROBE_ERR:+: ${PROBE_ERR:0:100}}"
        return 1
    fi
}

# probe_modes ARGS: benchpool probe of in-process pools; their modes, one a
# line ("inproc fork|fresh"), in $TMP/modes.
probe_modes() {
    local st=0 pid
    "$BENCHPOOL" probe "$@" </dev/null >"$TMP/modes" 2>"$TMP/probe.err" &
    pid=$!
    add_creator "$pid"
    wait "$pid" || st=$?
    return $st
}

# The mode a daemon's stats report ("fork"/"fresh"), or what is known.
daemon_mode() { # socket
    local line
    line=$("$BENCHPOOL" stats --socket "$1" 2>/dev/null) || { echo "unknown (no stats)"; return 0; }
    if [[ $line =~ \"mode\":\"([a-z]+)\" ]]; then
        echo "${BASH_REMATCH[1]}"
    else
        echo "fresh (no \"mode\" in its stats: a pool before issue 10)"
    fi
}

# `sbx pool serve --fresh` where this sbx has it (issue 10), else nothing:
# before issue 10 every pool is fresh.
FRESH_OPT=()
POOL_USAGE=$({ "$SBX" pool serve --help; "$SBX" pool; } 2>&1 </dev/null || true)
[[ $POOL_USAGE != *--fresh* ]] || FRESH_OPT=(--fresh)

# ------------------------------------------------------------------ numbers
mib() { # KiB -> MiB "x.xx"
    local v=$(((${1} * 100 + 512) / 1024))
    printf '%d.%02d' $((v / 100)) $((v % 100))
}

ms() { # µs (may be negative) -> "x.xxx"
    local v=$1 sign=""
    ((v < 0)) && sign=- v=$((-v))
    printf '%s%d.%03d' "$sign" $((v / 1000)) $((v % 1000))
}

# stats "µs list" -> "count median p95 min" (median of an even count: mean of
# the middle two; p95: nearest rank).
stats() {
    local -a v
    mapfile -t v < <(tr ' ' '\n' <<<"$1" | grep . | sort -n)
    local c=${#v[@]}
    ((c > 0)) || { echo "0 0 0 0"; return; }
    local med p95i=$(((95 * c + 99) / 100 - 1))
    if ((c % 2)); then med=${v[c / 2]}; else med=$(((v[c / 2 - 1] + v[c / 2]) / 2)); fi
    echo "$c $med ${v[p95i]} ${v[0]}"
}


msr() { # µs -> ms, 1 decimal from 10 ms on, else 2 (as the startup tables)
    local v=$1
    if ((v >= 9995)); then
        printf '%d.%d' $(((v + 50) / 1000)) $((((v + 50) % 1000) / 100))
    else
        printf '%d.%02d' $(((v + 5) / 1000)) $((((v + 5) % 1000) / 10))
    fi
}
