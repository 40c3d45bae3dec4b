# shellcheck shell=bash
# tools/bench: the OCI runtime section (key oci, issue 13); sourced.
#
# One cold container run of `python3 -c pass` per sample, the same image
# (the rootfs, imported once), by:
#   podman: `podman run --rm --network none --ulimit nofile=1024:1024
#     --ulimit nproc=1024:1024 IMAGE python3 -c pass` with --runtime runc
#     (the baseline of these rows), crun and build/sbx-oci (SBX_OCI), on the
#     private store of tools/benchlib/engines.sh (cgroupfs, its cgroups
#     below /sbx-bench-PID/podman). No --runtime-flag root=: podman 4.3
#     does not pass it to the exit command's `delete --force`, so the
#     runtime's state must be in its default root (/run/runc, /run/crun,
#     /run/sbx-oci) for the delete to do its work. crun refuses this
#     host's hybrid cgroups: when it fails that way, its row is the one of
#     engines.sh (podman-crun: a private mount namespace with cgroup2,
#     --cgroups=disabled), and says so.
#   ctr: `ctr run --rm --runc-binary RUNTIME --runc-root DIR --cgroup NAME
#     IMAGE ID python3 -c pass` on a private containerd this section starts
#     (its root, state and sockets in the bench's temp dir; the CRI plugin
#     off), the image imported from podman's private store; runc is the
#     baseline, then sbx-oci, and crun when it runs under the shim here. The
#     id is the same for every sample of a row (--rm removes the container).
# All rows in ONE interleaved round-robin (build/benchrun), N runs after W
# warm-ups; build/benchstat gives median, p95, the ratio to the baseline of
# the same run (95% CI) and the extra ms. A row whose probe run fails is
# "not run" with the reason (--strict fails). The section stops containerd
# and checks that no state dir, cgroup, process or mount of its runs is left.

OCI_SBX=${SBX_OCI:-$REPO/build/sbx-oci}
OCI_FAILED=()         # "what: why" of rows not run or failed (--strict)
OCI_CTD_PID=""        # the private containerd
OCI_CTD_DIR=""        # its dir (set when started)
OCI_CTR_MADE=""       # /run/containerd dirs this section made
OCI_IMAGE=localhost/sbx-python:latest
OCI_CG=sbx-bench-$$-ctr
OCI_PYW=(python3 -c pass)

# oci_snapshot: the state dirs in the runtimes' default roots and the
# containers of podman's private store, one a line, sorted.
OCI_BEFORE=""
oci_snapshot() {
    local p
    {
        for p in /run/runc/* /run/crun/* /run/sbx-oci/*; do [[ -e $p ]] && echo "$p"; done
        if [[ -n ${BENG_DIR:-} && -d $BENG_DIR/podman/root ]]; then
            _beng_podman
            "${BENG_ARGV[@]}" ps -aq --no-trunc 2>/dev/null | sed 's/^/podman:/'
        fi
    } | sort
}

# oci_cleanup: the bench's hook; prints what it could not remove.
oci_cleanup() {
    oci_down
    printf '%s' "$OCI_LEFT"
}
OCI_LEFT=""
oci_down() {
    local left="" i p d=$OCI_CTD_DIR
    # podman's --rm ends with an exit command conmon runs after the client
    # has returned (podman container cleanup -> the runtime's delete): on a
    # loaded machine it can still be running here. Give the store's
    # containers up to 20 s to go before anything counts as left behind.
    for ((i = 0; i < 100; i++)); do
        [[ -z $(comm -13 <(echo "$OCI_BEFORE") <(oci_snapshot)) ]] && break
        sleep 0.2
    done
    if [[ -n $OCI_CTD_PID ]]; then
        local ctr=(ctr -a "$d/c.sock")
        for i in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$i" >/dev/null 2>&1; done
        for i in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$i" >/dev/null 2>&1; done
        for i in $("${ctr[@]}" containers ls -q 2>/dev/null); do "${ctr[@]}" containers delete "$i" >/dev/null 2>&1; done
        kill -TERM "$OCI_CTD_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$OCI_CTD_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$OCI_CTD_PID" 2>/dev/null && left+="containerd needed SIGKILL; "
        wait "$OCI_CTD_PID" 2>/dev/null || true
        OCI_CTD_PID=""
    fi
    if [[ -n $d ]]; then
        # its shims (their command lines name its socket)
        for p in $(grep -laF -- "$d/c.sock" /proc/[0-9]*/cmdline 2>/dev/null); do
            p=${p#/proc/}
            p=${p%/cmdline}
            [[ $p == "$$" || $p == "$BASHPID" ]] && continue
            case $(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) in
                S | R | D) left+="process $p; "; kill -KILL "$p" 2>/dev/null || true ;;
            esac
        done
        while read -r p; do
            [[ -n $p ]] || continue
            left+="mount $p; "
            umount -l "$p" 2>/dev/null || true
        done < <(awk -v d="$d/" 'index($5, d) == 1 { print length($5) " " $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
        rm -rf "$d"
        OCI_CTD_DIR=""
    fi
    for p in $OCI_CTR_MADE; do rm -rf "$p"; done
    OCI_CTR_MADE=""
    # the ctr rows' cgroups
    while read -r p; do
        [[ -n $p ]] || continue
        find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [[ -d $p ]] && left+="cgroup $p; "
    done < <(find /sys/fs/cgroup -maxdepth 8 -type d -name "$OCI_CG-*" 2>/dev/null)
    # state dirs of our containers in the runtimes' default roots
    for p in /run/runc/* /run/crun/* /run/sbx-oci/*; do
        [[ -e $p ]] || continue
        grep -qxF -- "$p" <<<"$OCI_BEFORE" && continue # not ours
        if [[ ${p##*/} == sbxbench-$$-* ]] || { [[ -n $BENG_DIR ]] && grep -rqsF -- "$BENG_DIR/" "$p" 2>/dev/null; }; then
            left+="state dir $p; "
            rm -rf "$p"
        fi
    done
    OCI_LEFT=${left%; }
    return 0
}

# oci_ctd_up: the private containerd and the image in it; 1 (OCI_ERR) if not.
OCI_ERR=""
oci_ctd_up() {
    local d=$TMP/ctd i st=0
    have containerd && have ctr || { OCI_ERR="containerd is not installed (make deps)"; return 1; }
    for i in /run/containerd/fifo /run/containerd/runc /run/containerd/s /run/containerd; do
        [[ -e $i ]] || OCI_CTR_MADE+=" $i"
    done
    mkdir -p "$d" && chmod 0700 "$d" || { OCI_ERR="cannot make $d"; return 1; }
    OCI_CTD_DIR=$d
    cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/c.sock"
[ttrpc]
  address = "$d/c.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
TOML
    containerd --config "$d/config.toml" </dev/null >"$d/log" 2>&1 &
    OCI_CTD_PID=$!
    add_creator "$OCI_CTD_PID"
    for ((i = 0; i < 300; i++)); do
        [[ -S $d/c.sock ]] && ctr -a "$d/c.sock" version >/dev/null 2>&1 && break
        kill -0 "$OCI_CTD_PID" 2>/dev/null || break
        sleep 0.1
    done
    ctr -a "$d/c.sock" version >/dev/null 2>&1 || {
        OCI_ERR="the private containerd did not start: $(grep -v '^$' "$d/log" | tail -1 | cut -c1-120)"
        return 1
    }
    [[ -n ${BENG_OK[podman-runc]:-} ]] || { OCI_ERR="no image: podman's private store is not up: ${BENG_WHY[podman-runc]:-}"; return 1; }
    _beng_podman
    "${BENG_ARGV[@]}" save "$OCI_IMAGE" 2>"$d/save.err" | ctr -a "$d/c.sock" images import - >"$d/import.out" 2>&1 || st=$?
    if ((st != 0)) || ! ctr -a "$d/c.sock" images ls -q 2>/dev/null | grep -qxF "$OCI_IMAGE"; then
        OCI_ERR="podman save | ctr images import failed: $(cat "$d/save.err" "$d/import.out" | grep -v '^$' | head -1 | cut -c1-120)"
        return 1
    fi
}

oci_section() {
    local idx=0 st=0 i k r v rt
    local -a keys=() br=() rows=() argv=()
    local -A title=() note=() line=() floor=()
    # What exists before this section (other sections' containers, such as
    # the exec rows' long-lived podman box, are theirs to remove): only
    # what appears after counts as ours.
    OCI_BEFORE=$(oci_snapshot)
    print_header
    echo "### OCI runtime (issue 13): \`podman run --rm\` and \`ctr run --rm\` of \`python3 -c pass\`"
    echo
    engines_up podman-runc podman-crun
    local pod_ok=1 ctr_ok=1 ctd_err=""
    [[ -n ${BENG_OK[podman-runc]:-} ]] || pod_ok=0
    if ! oci_ctd_up; then ctr_ok=0 ctd_err=$OCI_ERR; fi
    for rt in runc crun sbx-oci; do
        keys+=("podman-$rt")
        title[podman-$rt]="podman run --rm --runtime $rt"
        note[podman-$rt]=""
        floor[podman-$rt]=podman-runc
    done
    note[podman-runc]="the baseline of the podman rows"
    for rt in runc sbx-oci crun; do
        keys+=("ctr-$rt")
        title[ctr-$rt]="ctr run --rm --runc-binary $rt"
        note[ctr-$rt]=""
        floor[ctr-$rt]=ctr-runc
    done
    note[ctr-runc]="the baseline of the ctr rows"
    for k in "${keys[@]}"; do
        rt=${k#*-}
        local bin=$rt why=""
        [[ $rt == sbx-oci ]] && bin=$OCI_SBX
        [[ $rt != sbx-oci ]] && { bin=$(command -v "$rt" 2>/dev/null) || why="$rt is not installed"; }
        [[ $rt == sbx-oci && ! -x $bin ]] && why="$bin not built (make all)"
        case $k in
            podman-*)
                ((pod_ok)) || why=${why:-"podman's private store: ${BENG_WHY[podman-runc]:-not up}"}
                _beng_podman
                argv=("${BENG_ARGV[@]}" --runtime "$bin" run --rm --network none
                    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
                    --cgroup-parent "/$BENG_CG/podman" "$BENG_IMAGE" "${OCI_PYW[@]}")
                ;;
            ctr-*)
                ((ctr_ok)) || why=${why:-$ctd_err}
                argv=(ctr -a "$OCI_CTD_DIR/c.sock" run --rm --runc-binary "$bin"
                    --runc-root "$OCI_CTD_DIR/rt-$rt" --cgroup "$OCI_CG-$rt"
                    "$OCI_IMAGE" "sbxbench-$$-$rt" "${OCI_PYW[@]}")
                ;;
        esac
        if [[ -z $why ]] && ! probe "${argv[@]}"; then
            why=$PROBE_ERR
            # crun on a hybrid-cgroup host: engines.sh's way, if it works
            if [[ $k == podman-crun && -n ${BENG_OK[podman-crun]:-} ]]; then
                beng_argv podman-crun "${OCI_PYW[@]}"
                argv=("${BENG_ARGV[@]}")
                local plain=$why how=${BENG_NOTE[podman-crun]:-}
                if probe "${argv[@]}"; then
                    why=""
                    note[$k]="plain: ${plain:0:120}; so, as tools/benchlib/engines.sh does: ${how:-podman-crun}"
                fi
            fi
        fi
        if [[ -z $why ]]; then
            ((idx == 0)) || br+=("$SEP")
            br+=("${argv[@]}")
            rows+=("$idx${SEP}$k")
            line[$k]=$idx
            idx=$((idx + 1))
        else
            line[$k]=-
            note[$k]=$why
            # crun under containerd's shim is a row only where it runs (it
            # refuses hybrid cgroups); every other row must run
            if [[ $k == ctr-crun ]] && [[ $why == *"hybrid mode not supported"* ]]; then
                note[$k]="crun does not run under the shim on this host: $why"
            else
                OCI_FAILED+=("oci, ${title[$k]}: $why")
            fi
        fi
    done
    if ((idx == 0)); then
        echo "- oci: not measured: no row could run"
        echo
        oci_down
        [[ -z $OCI_LEFT ]] || OCI_FAILED+=("oci: left behind: $OCI_LEFT")
        return 0
    fi
    local load0 load1
    load0=$(loadavg)
    note "oci: $idx series, $N runs each after $WARMUP warm-up runs, interleaved"
    "$BENCHRUN" -n "$N" -w "$WARMUP" -s "$SEP" -- "${br[@]}" >"$OUT/oci.tsv" || st=$?
    load1=$(loadavg)
    while read -r i; do add_creator "$i"; done < <(cut -f5 "$OUT/oci.tsv" | sort -u)
    if ((st != 0 && st != 1)); then
        echo "- oci: not measured: benchrun failed (exit $st)"
        echo
        OCI_FAILED+=("oci: benchrun failed (exit $st)")
        oci_down
        return 0
    fi
    for r in "${rows[@]}"; do
        i=${r%%"$SEP"*} k=${r#*"$SEP"}
        local fails
        fails=$(awk -F'\t' -v i="$i" '$1 == "run" && $2 == i && $4 != 0' "$OUT/oci.tsv" | wc -l)
        ((fails == 0)) || OCI_FAILED+=("oci, ${title[$k]}: $fails of $N runs failed")
    done
    # benchstat's rows: each row's floor is its group's runc row
    : >"$TMP/oci-rows.tsv"
    for k in "${keys[@]}"; do
        local fl=${line[${floor[$k]}]}
        [[ $k == "${floor[$k]}" || ${line[$k]} == - ]] && fl=-
        local n=${note[$k]//$'\t'/ }
        printf '%s\t%s\t%s\t%s\t-\t%s\n' "${line[$k]}" "${title[$k]}" "python3 -c pass" "$fl" "$n" >>"$TMP/oci-rows.tsv"
    done
    mkdir -p "$OUT/oci"
    cp "$TMP/oci-rows.tsv" "$OUT/oci/rows.tsv"
    local machine=()
    if ((!QUICK)); then
        machine_json "$load0" "$load1" >"$TMP/oci-machine.json"
        machine=(--machine "$TMP/oci-machine.json")
    fi
    if ! "$BENCHSTAT" report --rows "$TMP/oci-rows.tsv" --samples "$OUT/oci.tsv" --out "$OUT/oci" \
        "${machine[@]}" --no-plot >/dev/null 2>"$TMP/oci.stat.err"; then
        echo "- oci: not measured: benchstat failed: $(head -1 "$TMP/oci.stat.err")"
        echo
        OCI_FAILED+=("oci: benchstat failed")
        oci_down
        return 0
    fi
    echo "The rows in one round-robin (build/benchrun), $N runs each after $WARMUP warm-up runs; the wall time of the" \
        "client (podman, ctr) from exec to exit. Ratio (95% CI, paired bootstrap over the rounds) and extra ms: to the" \
        "runc row of the same client in the same run. podman: private store on a tmpfs, cgroupfs, \`--network none" \
        "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024\`; ctr: a private containerd (CRI off), \`--runc-root\`" \
        "and \`--cgroup\` of the bench's own. Load average $load0 before, $load1 after." \
        "Samples: \`oci.tsv\`, statistics: \`oci/results.json\`."
    echo
    # benchstat's table and its notes, without its heading and legend
    grep -E '^(\||- )' "$OUT/oci/latency.md" | sed 's/ratio to floor/ratio to runc/; s/| overhead ms |/| extra ms |/'
    echo
    oci_down
    if [[ -n $OCI_LEFT ]]; then
        echo "- oci: **left behind**: $OCI_LEFT"
        echo
        OCI_FAILED+=("oci: left behind: $OCI_LEFT")
    fi
}
