# shellcheck shell=bash
# tools/bench: the state of the machine a run was measured on (the report's
# header and the "machine" object of results.json); sourced.

json_str() { # TEXT -> a JSON string
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    printf '"%s"' "$(tr -d '\000-\037' <<<"$s")"
}

cgroup_mode() {
    case $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) in
        cgroup2fs) echo "unified (cgroup v2)" ;;
        tmpfs)
            if [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
                echo "hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified with: $(tr '\n' ' ' </sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null | sed 's/ $//'))"
            else
                echo "legacy (cgroup v1 only)"
            fi
            ;;
        *) echo "unknown" ;;
    esac
}

cpu_model() {
    local m
    m=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')
    echo "${m:-unknown}"
}

mem_total() {
    awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo
}

virt() {
    local v=""
    have systemd-detect-virt && v=$(systemd-detect-virt 2>/dev/null)
    echo "${v:-unknown}"
}

# One line per tool: NAME VERSION (what is installed; the engines' from
# tools/benchlib/engines.sh).
tool_versions() {
    local v
    v=$("$SBX" --version 2>/dev/null | head -1) && echo "sbx: $v"
    v=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) && echo "sbx commit: $v$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
    have bwrap && echo "bwrap: $(bwrap --version 2>/dev/null | head -1)"
    have unshare && echo "unshare: $(unshare --version 2>/dev/null | head -1)"
    if declare -F beng_versions >/dev/null; then echo "engines: $(beng_versions)"; fi
    return 0
}

# machine_json LOAD-BEFORE LOAD-AFTER: the JSON object of this machine.
machine_json() {
    local mem tools="" line first=1
    mem=$(mem_total)
    while IFS= read -r line; do
        ((first)) || tools+=","
        first=0
        tools+="$(json_str "${line%%: *}"):$(json_str "${line#*: }")"
    done < <(tool_versions)
    printf '{"date":%s,"kernel":%s,"cpu":%s,"cores":%d,"memory":%s,"virtualization":%s,' \
        "$(json_str "$DATE_START")" "$(json_str "$(uname -srm)")" "$(json_str "$(cpu_model)")" "$(nproc)" \
        "$(json_str "$mem")" "$(json_str "$(virt)")"
    printf '"cgroup_mode":%s,"load_before":%s,"load_after":%s,"load_at_start_of_run":%s,' \
        "$(json_str "$(cgroup_mode)")" "$(json_str "$1")" "$(json_str "$2")" "$(json_str "$LOAD_START")"
    printf '"rootfs":%s,"runs":%d,"warmup":%d,"tools":{%s}}\n' "$(json_str "${ROOTFS#"$REPO"/}")" "$N" "$WARMUP" "$tools"
}

header_printed=0
print_header() {
    ((header_printed)) && return 0
    header_printed=1
    echo "## sbx benchmark"
    echo
    echo "- date: $DATE_START; results in ${OUT#"$REPO"/}"
    echo "- machine: $(uname -srm), $(cpu_model), $(nproc) cores, $(mem_total), virtualization: $(virt)"
    echo "- cgroups: $(cgroup_mode)"
    echo "- rootfs: ${ROOTFS#"$REPO"/} (every row runs the same one)"
    echo "- load average at start: $LOAD_START"
    echo "- versions: $(tool_versions | paste -sd ';' | sed 's/;/; /g')"
    echo
}
