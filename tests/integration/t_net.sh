# shellcheck shell=bash
# net: `--net egress` with --allow, --dns and --publish (issue 12).
#
# Only addresses of this machine are ever connected to: servers the tests
# start on the host's loopback and own addresses, and servers inside network
# namespaces the tests create (each held by a process tagged
# "sbxt-<harness pid>-ns<r|p>", not a named /run/netns entry: other tools on
# a shared host remount those, which breaks `ip netns exec` at random):
#   r  "a public server": veth sbxt<harness pid>r NET_PUB_HOST/30 (host side)
#      <-> NET_PUB/30 (inside), in 198.51.100.0/24 (TEST-NET-2: not one of
#      the ranges sbx always refuses, so plain --net egress reaches it);
#      servers on NET_PUB:8080 and :8081 (TCP), a DNS server on NET_PUB:53.
#   p  "a private server": sbxt<harness pid>p NET_PRIV_HOST/30 <-> NET_PRIV/30
#      in 10.213.0.0/16 (private: refused unless allowed) and
#      NET_LL_HOST/30 <-> NET_LL/30 in 169.254.0.0/16 (link-local: always
#      refused, even when a name's answer points there); servers on
#      NET_PRIV:8080, NET_PRIV:8081, NET_LL:8080, a DNS server on NET_PRIV:53.
# plus servers on the host (127.0.0.1, the veth's NET_PUB_HOST, the host's
# main address) and a DNS server (tests/net/dnsd.py) on 127.0.0.1 that sbx
# is pointed at with --dns. Every egress run gets that --dns, so no query
# ever goes to the host's real resolver. The servers are tests/net/*.py run
# with the rootfs's python3 (chroot; the host may have no python), each
# logging the connections it accepts, so a refusal is also checked from the
# server's side. Everything is removed when the test ends (on_exit), and
# the harness's leak check (run.sh) also looks for the veths, the servers
# and namespace holders (their command lines carry "sbxt-<harness pid>-")
# and any slirp4netns of ours.
#
# Inside, tests/net/probe.py does the attempts and prints one line each;
# a refusal must be ECONNREFUSED or EHOSTUNREACH within NET_FAST_MS: a
# timeout (a hang) fails every refusal check.

NET_DIR=$REPO/tests/net
NET_FAST_MS=1500

# ---------------------------------------------------------------- helpers

# net_hostpy SCRIPT ARGS...: run tests/net/SCRIPT with the rootfs's python3
# on the host (in the caller's network namespace).
net_hostpy() {
	local script=$1
	shift
	chroot "$ROOTFS" /usr/bin/python3 -I -B -c "$(cat "$NET_DIR/$script")" "$@"
}

# net_server NAME NSPID|- SCRIPT ARGS...: start a server in the background
# (in the network namespace of process NSPID, or the host's with -), its
# output in $T/NAME.log; waits for its READY line (5 s), killed when the
# test ends.
net_server() {
	local name=$1 ns=$2 script=$3
	shift 3
	local log=$T/$name.log pid i
	local code
	code=$(cat "$NET_DIR/$script") || fail "cannot read $NET_DIR/$script"
	if [ "$ns" = - ]; then
		chroot "$ROOTFS" /usr/bin/python3 -I -B -c "$code" --tag "sbxt-$$-$name" "$@" >"$log" 2>&1 &
	else
		nsenter --net="/proc/$ns/ns/net" chroot "$ROOTFS" /usr/bin/python3 -I -B -c "$code" --tag "sbxt-$$-$name" "$@" >"$log" 2>&1 &
	fi
	pid=$!
	on_exit "kill -KILL $pid; wait $pid"
	for ((i = 0; i < 250; i++)); do
		grep -qs '^READY' "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	fail "server $name ($script $*) did not start: $(head -c 400 "$log")"
}

# net_listen_port NAME ADDR: the port server NAME listens on at ADDR.
net_listen_port() {
	awk -v a="$2" '$1 == "LISTEN" && $2 == a { print $3; exit }' "$T/$1.log"
}

# net_accepts NAME [ADDR:PORT]: how many connections server NAME accepted
# (on ADDR:PORT only, if given).
net_accepts() {
	awk -v w="${2:-}" '$1 == "ACCEPT" && (w == "" || $2 == w) { n++ } END { print n + 0 }' "$T/$1.log"
}

# net_ns NAME: a new network namespace, held by a process tagged
# "sbxt-<harness pid>-nsNAME" (killed by net_teardown_ns), its pid added
# to NET_NS_PIDS and set in NET_NS_PID.
net_ns() {
	local pid i self ns
	unshare -n -- chroot "$ROOTFS" /usr/bin/python3 -I -B -c 'import time; time.sleep(300)' \
		--tag "sbxt-$$-ns$1" </dev/null >/dev/null 2>&1 &
	pid=$!
	NET_NS_PIDS+=("$pid")
	NET_NS_PID=$pid
	self=$(readlink /proc/self/ns/net)
	for ((i = 0; i < 250; i++)); do
		ns=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || break
		[ "$ns" != "$self" ] && return 0
		sleep 0.01
	done
	fail "cannot make a network namespace (unshare -n)"
}

# net_veth NSPID HOSTIF ADDRS...: a veth pair between the host (HOSTIF) and
# the network namespace of NSPID (eth0), each ADDR "host/inside" (a /30
# each), lo and both ends up.
net_veth() {
	local ns=$1 hif=$2 a
	local -a in=(nsenter --net="/proc/$ns/ns/net")
	shift 2
	ip link add "$hif" type veth peer name eth0 netns "$ns" || fail "ip link add $hif (veth into netns of $ns) failed"
	for a in "$@"; do
		ip addr add "${a%/*}/30" dev "$hif" || fail "ip addr add ${a%/*}/30 dev $hif failed"
		"${in[@]}" ip addr add "${a#*/}/30" dev eth0 || fail "ip addr add ${a#*/}/30 (netns of $ns) failed"
	done
	ip link set "$hif" up && "${in[@]}" ip link set eth0 up && "${in[@]}" ip link set lo up ||
		fail "cannot bring up the veth $hif <-> netns of $ns"
}

# net_free_range ADDR...: true if the host has no route but the default
# one to any of these addresses (no address or network of the host, or of
# someone else's test, is there).
net_free_range() {
	local a
	for a in "$@"; do
		[ -z "$(ip -4 route show to match "$a" 2>/dev/null | grep -v '^default')" ] || return 1
	done
	return 0
}

# net_teardown_ns: kill the namespaces' holders and remove the veths
# (idempotent; the servers are killed before, by their own on_exit).
net_teardown_ns() {
	local pid
	for pid in "${NET_NS_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	ip link del "sbxt$$r" 2>/dev/null
	ip link del "sbxt$$p" 2>/dev/null
	return 0
}

# net_setup: the test network, its servers and the DNS server. Sets
#   NET_PUB NET_PUB_HOST NET_PRIV NET_PRIV_HOST NET_LL NET_LL_HOST
#   NET_MAIN      the host's main IPv4 address (empty if it has none)
#   HLO HLO2      host servers' ports on 127.0.0.1
#   HPUBH HMAIN   host servers' ports on NET_PUB_HOST and NET_MAIN
#   DNSP          the DNS server's port (127.0.0.1); its log: $T/dns.log
# Server logs: $T/{host,pub,priv,dns}.log. Checks from the host that every
# server answers (so a refusal seen inside is the sandbox's).
net_setup() {
	command -v ip >/dev/null || fail "no ip (iproute2) on the host"
	[ -x "$ROOTFS/usr/bin/python3" ] || fail "no python3 in the rootfs $ROOTFS"
	# the first free /30s from a start that depends on the harness's pid
	local i k x
	for ((i = 0; i < 63; i++)); do
		k=$((($$ + i) % 63 + 1))
		NET_PUB_HOST=198.51.100.$((4 * k + 1)) NET_PUB=198.51.100.$((4 * k + 2))
		net_free_range "$NET_PUB" && break
	done
	net_free_range "$NET_PUB" || fail "no free /30 in 198.51.100.0/24 for the test network: $(ip -4 route | grep 198.51.100 | head -n 3 | tr '\n' ';')"
	for ((i = 0; i < 250; i++)); do
		x=$((($$ + i) % 250 + 1))
		NET_PRIV_HOST=10.213.$x.1 NET_PRIV=10.213.$x.2
		NET_LL_HOST=169.254.$x.1 NET_LL=169.254.$x.2
		net_free_range "$NET_PRIV" "$NET_LL" && break
	done
	net_free_range "$NET_PRIV" "$NET_LL" || fail "no free 10.213.X.0/30 and 169.254.X.0/30 for the test network"
	NET_NS_PIDS=()
	on_exit net_teardown_ns
	local nsr nsp
	net_ns r
	nsr=$NET_NS_PID
	net_ns p
	nsp=$NET_NS_PID
	net_veth "$nsr" "sbxt$$r" "$NET_PUB_HOST/$NET_PUB"
	net_veth "$nsp" "sbxt$$p" "$NET_PRIV_HOST/$NET_PRIV" "$NET_LL_HOST/$NET_LL"
	NET_MAIN=$(host_ipv4s | grep -vE '^(127\.|198\.51\.100\.|10\.213\.|169\.254\.)' | head -n 1)
	local hostspecs=(127.0.0.1:0 127.0.0.1:0 "$NET_PUB_HOST:0")
	[ -n "$NET_MAIN" ] && hostspecs+=("$NET_MAIN:0")
	net_server pub "$nsr" netsrv.py --lifetime 180 "$NET_PUB:8080" "$NET_PUB:8081"
	net_server priv "$nsp" netsrv.py --lifetime 180 "$NET_PRIV:8080" "$NET_PRIV:8081" "$NET_LL:8080"
	net_server host - netsrv.py --lifetime 180 "${hostspecs[@]}"
	# DNS servers the sandbox may query by itself (UDP to an address)
	net_server pubdns "$nsr" dnsd.py --lifetime 180 --listen "$NET_PUB:53" "pub2.test=$NET_PUB"
	net_server privdns "$nsp" dnsd.py --lifetime 180 --listen "$NET_PRIV:53" "pub2.test=$NET_PUB"
	net_server dns - dnsd.py --lifetime 180 --ttl 60 "srv.test=$NET_PUB" "other.test=$NET_PUB" \
		"priv.test=$NET_PRIV" "rebind.test=$NET_LL" "lo.test=127.0.0.1"
	HLO=$(awk '$1 == "LISTEN" && $2 == "127.0.0.1" { print $3 }' "$T/host.log" | sed -n 1p)
	HLO2=$(awk '$1 == "LISTEN" && $2 == "127.0.0.1" { print $3 }' "$T/host.log" | sed -n 2p)
	HPUBH=$(net_listen_port host "$NET_PUB_HOST")
	HMAIN=
	[ -n "$NET_MAIN" ] && HMAIN=$(net_listen_port host "$NET_MAIN")
	DNSP=$(sed -n 's/^READY //p' "$T/dns.log")
	[ -n "$HLO" ] && [ -n "$HLO2" ] && [ -n "$HPUBH" ] && [ -n "$DNSP" ] ||
		fail "servers did not report their ports: $(cat "$T/host.log" "$T/dns.log" | tr '\n' ' ')"
	# the host reaches every server (else a refusal inside would prove nothing)
	local t want=() bad
	want=("$NET_PUB:8080" "$NET_PUB:8081" "$NET_PRIV:8080" "$NET_PRIV:8081" "$NET_LL:8080"
		"127.0.0.1:$HLO" "127.0.0.1:$HLO2" "$NET_PUB_HOST:$HPUBH")
	[ -n "$HMAIN" ] && want+=("$NET_MAIN:$HMAIN")
	local args=()
	for t in "${want[@]}"; do args+=("tcp:$t"); done
	args+=("udpdns:$NET_PUB:53:pub2.test" "udpdns:$NET_PRIV:53:pub2.test")
	net_hostpy probe.py "${args[@]}" >"$T/hostprobe.out" 2>&1
	bad=$(awk '($1 == "TCP" && $3 != "ok") || ($1 == "UDPDNS" && $4 != "'"$NET_PUB"'")' "$T/hostprobe.out")
	[ "$(grep -c '^TCP .* ok ' "$T/hostprobe.out")" = ${#want[@]} ] && [ -z "$bad" ] ||
		fail "the host cannot reach the test servers: $(tr '\n' ';' <"$T/hostprobe.out")"
	# the accepts and queries so far are the host's own; count only the
	# sandbox's from here
	NET_BASE_PUB=$(net_accepts pub) NET_BASE_PRIV=$(net_accepts priv) NET_BASE_HOST=$(net_accepts host)
	NET_QBASE_PUB=$(grep -c '^QUERY' "$T/pubdns.log") NET_QBASE_PRIV=$(grep -c '^QUERY' "$T/privdns.log")
}

# net_own_queries pubdns|privdns: queries that DNS server got since net_setup
net_own_queries() {
	local base=$NET_QBASE_PUB
	[ "$1" = privdns ] && base=$NET_QBASE_PRIV
	echo $(($(grep -c '^QUERY' "$T/$1.log") - base))
}

# net_new_accepts NAME [ADDR:PORT]: accepts by server NAME since net_setup
# (or since net_mark_accepts).
net_new_accepts() {
	local base
	case $1 in
	pub) base=$NET_BASE_PUB ;;
	priv) base=$NET_BASE_PRIV ;;
	host) base=$NET_BASE_HOST ;;
	*) base=0 ;;
	esac
	if [ -n "${2:-}" ]; then
		# per address: count the host's own sanity connection (one each)
		local n
		n=$(net_accepts "$1" "$2")
		echo $((n - ${NET_MARK[$1:$2]:-1}))
	else
		echo $(($(net_accepts "$1") - base))
	fi
}

# net_mark_accepts: from now on, net_new_accepts counts from the current
# accept counts.
declare -A NET_MARK 2>/dev/null
net_mark_accepts() {
	NET_BASE_PUB=$(net_accepts pub) NET_BASE_PRIV=$(net_accepts priv) NET_BASE_HOST=$(net_accepts host)
	local name w
	for name in pub priv host; do
		for w in $(awk '$1 == "LISTEN" { print $2 ":" $3 }' "$T/$name.log"); do
			NET_MARK[$name:$w]=$(net_accepts "$name" "$w")
		done
	done
}

# net_egress ARGS... -- ACTION...: sbx run --net egress --dns (ours) ARGS,
# running probe.py with the ACTIONs; must exit 0.
net_egress() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	run_sbx run --net egress --dns "127.0.0.1:$DNSP" --timeout 120s "${opts[@]}" -- \
		python3 -c "$(cat "$NET_DIR/probe.py")" "$@"
	expect_rc 0 "sbx run --net egress ${opts[*]}"
	grep -q '^BADARG' "$T/out" && fail_out "probe.py did not understand an action"
	return 0
}

# net_line KIND TARGET [NTH]: the NTH (default 1st) probe line for TARGET.
net_line() {
	awk -v k="$1" -v t="$2" -v n="${3:-1}" '$1 == k && $2 == t && ++c == n { print; exit }' "$T/out"
}

# expect_ok TARGET [NTH] [BODY]: a probe's TCP attempt got an HTTP 200 (and
# the server's answer is "sbxt BODY", if BODY is given).
expect_ok() {
	local l
	l=$(net_line TCP "$1" "${2:-1}")
	[ -n "$l" ] || fail_out "no probe result for $1 (#${2:-1})"
	set -- "$1" "${2:-1}" "${3:-}" $l
	[ "$6" = ok ] || fail_out "$1 (#$2) not reachable: $4 $5 $6 (${7}ms)"
	[ -z "$3" ] || [ "${*:8}" = "sbxt $3" ] || fail_out "$1 (#$2): answered by '${*:8}', expected 'sbxt $3'"
	return 0
}

# expect_refused TARGET [NTH]: a probe's TCP attempt was refused fast
# (ECONNREFUSED or EHOSTUNREACH within NET_FAST_MS).
expect_refused() {
	local l
	l=$(net_line TCP "$1" "${2:-1}")
	[ -n "$l" ] || fail_out "no probe result for $1 (#${2:-1})"
	set -- "$1" "${2:-1}" $l
	case $5 in
	ECONNREFUSED | EHOSTUNREACH) ;;
	ok | badresp) fail_out "$1 (#$2) was REACHED from the sandbox ($5), expected a refusal" ;;
	timeout) fail_out "$1 (#$2): the connect hung (timeout after ${6}ms), expected ECONNREFUSED or EHOSTUNREACH" ;;
	*) fail_out "$1 (#$2): $5, expected ECONNREFUSED or EHOSTUNREACH" ;;
	esac
	[ "$6" -le "$NET_FAST_MS" ] || fail_out "$1 (#$2): refused ($5) but only after ${6}ms (want <= ${NET_FAST_MS}ms)"
	return 0
}

# expect_udp_refused HOST:PORT:NAME [NTH]: the sandbox's own UDP DNS query
# there was refused fast (EHOSTUNREACH, EPERM or ECONNREFUSED: an ICMP
# error or the rule set's verdict, not a timeout, not an answer).
expect_udp_refused() {
	local l
	l=$(net_line UDPDNS "$1" "${2:-1}")
	[ -n "$l" ] || fail_out "no probe result for udpdns:$1"
	set -- "$1" "${2:-1}" $l
	case $5 in
	EHOSTUNREACH | EPERM | ECONNREFUSED) ;;
	ok) fail_out "udp $1 (#$2) was REACHED from the sandbox (answer: $6), expected a refusal" ;;
	timeout) fail_out "udp $1 (#$2): no answer and no error (timeout after ${7}ms), expected EHOSTUNREACH/EPERM/ECONNREFUSED" ;;
	*) fail_out "udp $1 (#$2): $5, expected EHOSTUNREACH/EPERM/ECONNREFUSED" ;;
	esac
	[ "$7" -le "$NET_FAST_MS" ] || fail_out "udp $1 (#$2): refused ($5) but only after ${7}ms"
	return 0
}

# expect_udp_answer HOST:PORT:NAME WANT: the sandbox's own UDP DNS query got
# the answer WANT (an address).
expect_udp_answer() {
	local l
	l=$(net_line UDPDNS "$1" 1)
	[ -n "$l" ] || fail_out "no probe result for udpdns:$1"
	set -- "$1" "$2" $l
	[ "$5" = ok ] && [ "$6" = "$2" ] || fail_out "udp $1: got '$5 $6', expected the answer $2"
}

# expect_dns NAME WANT [NTH]: a probe's getaddrinfo of NAME gave exactly the
# address WANT ("fail": any EAI_* error, within 5 s).
expect_dns() {
	local l
	l=$(net_line DNS "$1" "${3:-1}")
	[ -n "$l" ] || fail_out "no probe result for dns:$1"
	set -- "$1" "$2" $l
	if [ "$2" = fail ]; then
		[[ $5 == EAI_* ]] || fail_out "$1 resolved or did not fail cleanly: $5 $6, expected a resolver error"
		[ "$7" -le 5000 ] || fail_out "$1: the resolver error took ${7}ms (want <= 5000)"
	else
		[ "$5" = ok ] || fail_out "$1 did not resolve: $5 (${7}ms), expected $2"
		[ "$6" = "$2" ] || fail_out "$1 resolved to $6, expected $2"
	fi
	return 0
}

# expect_no_accept NAME ADDR:PORT WHAT: server NAME saw no new connection on
# ADDR:PORT.
expect_no_accept() {
	local n
	n=$(net_new_accepts "$1" "$2")
	[ "$n" = 0 ] || fail_out "$3: the server on $2 accepted $n connection(s) from the sandbox"
}

# dns_asked NAME: the DNS server got a query for NAME.
dns_asked() {
	grep -q "^QUERY $1 " "$T/dns.log"
}

# ---------------------------------------------------------------- allow and deny

# No --allow: public addresses only. Private, link-local, the host's
# loopback (at the gateway and at the sandbox's own 127.0.0.1) and the host's
# own addresses are refused, fast, and the servers there see nothing.
t_net_egress_public() {
	net_setup
	local acts=("tcp:$NET_PUB:8080" "tcp:$NET_PUB:8081" "tcp:$NET_PRIV:8080" "tcp:$NET_LL:8080"
		"tcp:127.0.0.1:$HLO" "tcp:10.0.2.2:$HLO" "tcp:$NET_PUB_HOST:$HPUBH" "tcp:$NET_PUB:9"
		"udpdns:$NET_PUB:53:pub2.test" "udpdns:$NET_PRIV:53:pub2.test"
		"tcp:[::ffff:$NET_PRIV]:8080" "tcp:[::ffff:$NET_PUB]:8081" "tcp:[::ffff:10.0.2.2]:$HLO")
	[ -n "$HMAIN" ] && acts+=("tcp:$NET_MAIN:$HMAIN")
	net_egress -- "${acts[@]}"
	expect_ok "$NET_PUB:8080" 1 "$NET_PUB:8080"
	expect_ok "$NET_PUB:8081" 1 "$NET_PUB:8081"
	expect_refused "$NET_PRIV:8080"
	expect_refused "$NET_LL:8080"
	expect_refused "127.0.0.1:$HLO"
	expect_refused "10.0.2.2:$HLO"
	expect_refused "$NET_PUB_HOST:$HPUBH"
	[ -n "$HMAIN" ] && expect_refused "$NET_MAIN:$HMAIN"
	[ -n "$HMAIN" ] || note "the host has no main IPv4 address besides loopback: not probed"
	# UDP: the sandbox's own DNS query to a public server goes out, to a
	# private one it is refused (no answer from the server there)
	expect_udp_answer "$NET_PUB:53:pub2.test" "$NET_PUB"
	expect_udp_refused "$NET_PRIV:53:pub2.test"
	[ "$(net_own_queries privdns)" = 0 ] || fail_out "the private DNS server got a query from the sandbox"
	# IPv4-mapped IPv6 addresses are IPv4: the same verdicts
	expect_refused "[::ffff:$NET_PRIV]:8080"
	expect_ok "[::ffff:$NET_PUB]:8081" 1 "$NET_PUB:8081"
	expect_refused "[::ffff:10.0.2.2]:$HLO"
	[ "$(net_new_accepts pub)" = 3 ] || fail_out "the public server accepted $(net_new_accepts pub) connections, expected 3"
	[ "$(net_new_accepts priv)" = 0 ] || fail_out "the private/link-local server accepted a connection from the sandbox"
	[ "$(net_new_accepts host)" = 0 ] || fail_out "a server on the host accepted a connection from the sandbox: $(grep ACCEPT "$T/host.log" | tail -n 3 | tr '\n' ';')"
	# a closed port on a reachable public host: not sbx's refusal, but no hang either
	local l
	l=$(net_line TCP "$NET_PUB:9")
	note "closed port on a public address ($NET_PUB:9): $(echo "$l" | awk '{ print $3 " in " $4 "ms" }')"
}

# --allow IP:PORT and --allow CIDR: only those; everything else refused,
# the public server included.
t_net_allow_cidr() {
	net_setup
	net_egress --allow "$NET_PRIV:8080" -- "tcp:$NET_PRIV:8080" "tcp:$NET_PRIV:8081" \
		"tcp:$NET_PUB:8080" "tcp:$NET_LL:8080" "tcp:10.0.2.2:$HLO" "dns:srv.test" "udpdns:$NET_PUB:53:pub2.test" \
		"udpdns:$NET_PRIV:53:pub2.test"
	expect_ok "$NET_PRIV:8080" 1 "$NET_PRIV:8080"
	expect_refused "$NET_PRIV:8081"
	expect_refused "$NET_PUB:8080"
	expect_refused "$NET_LL:8080"
	expect_refused "10.0.2.2:$HLO"
	[ "$(net_new_accepts pub)" = 0 ] || fail_out "the public server was reached although not allowed"
	expect_no_accept priv "$NET_PRIV:8081" "--allow $NET_PRIV:8080"
	expect_no_accept priv "$NET_LL:8080" "--allow $NET_PRIV:8080"
	[ "$(net_new_accepts host)" = 0 ] || fail_out "a host server was reached"
	# only CIDR entries: every name is NXDOMAIN, none goes upstream; UDP to
	# other addresses (or other ports of the allowed one) refused
	expect_dns srv.test fail
	dns_asked srv.test && fail_out "with only CIDR entries, srv.test was still asked upstream"
	expect_udp_refused "$NET_PUB:53:pub2.test"
	expect_udp_refused "$NET_PRIV:53:pub2.test"
	[ "$(net_own_queries pubdns)" = 0 ] && [ "$(net_own_queries privdns)" = 0 ] ||
		fail_out "a DNS server not allowed got the sandbox's own query"

	# a CIDR without a port: every port of the range, nothing outside it
	net_mark_accepts
	local net=${NET_PRIV%.*}.0/30
	net_egress --allow "$net" -- "tcp:$NET_PRIV:8080" "tcp:$NET_PRIV:8081" "tcp:$NET_PUB:8080" "tcp:$NET_LL:8080"
	expect_ok "$NET_PRIV:8080" 1 "$NET_PRIV:8080"
	expect_ok "$NET_PRIV:8081" 1 "$NET_PRIV:8081"
	expect_refused "$NET_PUB:8080"
	expect_refused "$NET_LL:8080"
	expect_no_accept priv "$NET_LL:8080" "--allow $net"
	[ "$(net_new_accepts pub)" = 0 ] || fail_out "--allow $net: the public server was reached"

	# a public address's port: that port only
	net_mark_accepts
	net_egress --allow "$NET_PUB:8081" -- "tcp:$NET_PUB:8080" "tcp:$NET_PUB:8081"
	expect_refused "$NET_PUB:8080"
	expect_ok "$NET_PUB:8081" 1 "$NET_PUB:8081"
	expect_no_accept pub "$NET_PUB:8080" "--allow $NET_PUB:8081"
}

# --allow NAME: the name resolves through the sandbox's resolver and its
# answer opens its address; other names never reach the upstream server and
# do not resolve; an allowed name's answer cannot open private or
# link-local addresses.
t_net_allow_name_dns() {
	net_setup
	net_egress --allow srv.test --allow rebind.test --allow priv.test -- \
		"tcp:$NET_PUB:8080" "dns:srv.test" "tcp:$NET_PUB:8080" "tcp:$NET_PUB:8081" \
		"dns:other.test" "dns:rebind.test" "tcp:$NET_LL:8080" "dns:priv.test" "tcp:$NET_PRIV:8080" \
		"dns:nosuch.test" "tcp:10.0.2.2:$HLO"
	expect_refused "$NET_PUB:8080" 1
	expect_dns srv.test "$NET_PUB"
	expect_ok "$NET_PUB:8080" 2 "$NET_PUB:8080"
	expect_ok "$NET_PUB:8081" 1 "$NET_PUB:8081"
	expect_dns other.test fail
	expect_dns nosuch.test fail
	expect_refused "$NET_LL:8080"
	expect_refused "$NET_PRIV:8080"
	expect_refused "10.0.2.2:$HLO"
	expect_no_accept priv "$NET_LL:8080" "rebind.test's answer"
	expect_no_accept priv "$NET_PRIV:8080" "priv.test's answer"
	[ "$(net_new_accepts pub)" = 2 ] || fail_out "the public server accepted $(net_new_accepts pub) connections, expected 2 (after srv.test resolved)"
	dns_asked srv.test || fail_out "srv.test never reached the DNS server given with --dns: $(tr '\n' ';' <"$T/dns.log")"
	dns_asked other.test && fail_out "other.test (not allowed) reached the upstream DNS server"
	dns_asked nosuch.test && fail_out "nosuch.test (not allowed) reached the upstream DNS server"
	# what rebind.test and priv.test resolved to is not the point (the
	# connects are): say it
	note "allowed names with refused answers: $(net_line DNS rebind.test | cut -d' ' -f3,4); $(net_line DNS priv.test | cut -d' ' -f3,4)"

	# a name with a port: only that port of its answer
	net_mark_accepts
	net_egress --allow srv.test:8081 -- "dns:srv.test" "tcp:$NET_PUB:8080" "tcp:$NET_PUB:8081"
	expect_dns srv.test "$NET_PUB"
	expect_refused "$NET_PUB:8080"
	expect_ok "$NET_PUB:8081" 1 "$NET_PUB:8081"
	expect_no_accept pub "$NET_PUB:8080" "--allow srv.test:8081"

	# a wildcard: names below the suffix, not other names
	net_mark_accepts
	net_egress --allow '*.test' -- "dns:srv.test" "tcp:$NET_PUB:8080" "dns:srv.example" "dns:test"
	expect_dns srv.test "$NET_PUB"
	expect_ok "$NET_PUB:8080" 1 "$NET_PUB:8080"
	expect_dns srv.example fail
	expect_dns test fail
	dns_asked srv.example && fail_out "srv.example (not under *.test) reached the upstream DNS server"
	return 0
}

# What the sandbox resolves by itself opens nothing: with a DNS server it may
# query directly (--allow IP:53), its own answer for a name does not make
# the address reachable; only netd's answers for allowed names do, with
# their entry's port. Its resolver port (127.0.0.1:53) cannot be taken, and
# malformed queries do not break it or go upstream.
t_net_dns_bypass() {
	net_setup
	net_egress --allow "$NET_PUB:53" --allow srv.test:8081 -- \
		"udpdns:$NET_PUB:53:pub2.test" "tcp:$NET_PUB:8080" "tcp:$NET_PUB:8081" \
		"bind:udp:127.0.0.1:53" "junk:127.0.0.1:53" "udpdns:127.0.0.1:53:other.test" \
		"dns:srv.test" "tcp:$NET_PUB:8081" "tcp:$NET_PUB:8080" "udpdns:$NET_PRIV:53:pub2.test"
	expect_udp_answer "$NET_PUB:53:pub2.test" "$NET_PUB"
	expect_refused "$NET_PUB:8080" 1
	expect_refused "$NET_PUB:8081" 1
	[ "$(awk '$1 == "BIND" { print $3 }' "$T/out")" != ok ] || fail_out "the sandbox could bind 127.0.0.1:53 (its resolver's port)"
	out_has "JUNK 127.0.0.1:53 sent 33" || fail_out "the malformed queries were not all sent: $(grep JUNK "$T/out")"
	local l
	l=$(net_line UDPDNS "127.0.0.1:53:other.test")
	[[ $l == "UDPDNS 127.0.0.1:53:other.test ok NXDOMAIN "* ]] ||
		fail_out "a not-allowed name asked directly at 127.0.0.1:53 after the junk: '$l', expected NXDOMAIN"
	expect_dns srv.test "$NET_PUB"
	expect_ok "$NET_PUB:8081" 2 "$NET_PUB:8081"
	expect_refused "$NET_PUB:8080" 2
	expect_udp_refused "$NET_PRIV:53:pub2.test"
	expect_no_accept pub "$NET_PUB:8080" "answers not from netd, or a port outside the entry"
	dns_asked other.test && fail_out "other.test (not allowed) reached the upstream DNS server"
	local bad
	bad=$(grep '^QUERY' "$T/dns.log" | grep -v '^QUERY srv\.test ')
	[ -z "$bad" ] || fail_out "queries other than srv.test reached the upstream server: $(echo "$bad" | sort | uniq -c | tr '\n' ';')"
}

# No --allow, --dns: names resolve through the given server (all of them,
# NXDOMAIN passed on); the answers of private names still do not open them.
t_net_dns_plain() {
	net_setup
	net_egress -- "dns:srv.test" "tcp:$NET_PUB:8080" "dns:SRV.Test." "dns:nosuch.test" "dns:priv.test" "tcp:$NET_PRIV:8080"
	expect_dns srv.test "$NET_PUB"
	expect_dns SRV.Test. "$NET_PUB"
	expect_ok "$NET_PUB:8080" 1 "$NET_PUB:8080"
	expect_dns nosuch.test fail
	expect_dns priv.test "$NET_PRIV"
	expect_refused "$NET_PRIV:8080"
	dns_asked srv.test || fail_out "srv.test never reached the DNS server given with --dns"
	dns_asked nosuch.test || fail_out "nosuch.test never reached the DNS server given with --dns (no --allow: every name may be asked)"
	expect_no_accept priv "$NET_PRIV:8080" "priv.test's answer without --allow"

	# an upstream where nothing listens: the lookup fails, it does not hang
	local dead
	dead=$(net_free_port) || fail "no free port"
	run_sbx run --net egress --dns "127.0.0.1:$dead" --timeout 60s -- python3 -c "$(cat "$NET_DIR/probe.py")" "dns:srv.test"
	expect_rc 0 "--dns to a closed port"
	expect_dns srv.test fail
	note "upstream closed: $(net_line DNS srv.test | cut -d' ' -f3,5)ms"
}

# --allow 127.0.0.1:PORT: the host's loopback port at the gateway 10.0.2.2,
# that port only; the sandbox's own 127.0.0.1 stays its own.
t_net_host_loopback_allowed() {
	net_setup
	net_egress --allow "127.0.0.1:$HLO" -- "tcp:10.0.2.2:$HLO" "tcp:10.0.2.2:$HLO2" "tcp:127.0.0.1:$HLO" \
		"tcp:$NET_PUB:8080" "tcp:$NET_PUB_HOST:$HPUBH"
	expect_ok "10.0.2.2:$HLO" 1 "127.0.0.1:$HLO"
	expect_refused "10.0.2.2:$HLO2"
	expect_refused "127.0.0.1:$HLO"
	expect_refused "$NET_PUB:8080"
	expect_refused "$NET_PUB_HOST:$HPUBH"
	[ "$(net_new_accepts host "127.0.0.1:$HLO")" = 1 ] ||
		fail_out "the allowed host loopback server accepted $(net_new_accepts host "127.0.0.1:$HLO") connections, expected 1"
	expect_no_accept host "127.0.0.1:$HLO2" "another host loopback port"
	expect_no_accept host "$NET_PUB_HOST:$HPUBH" "a host address"
	[ "$(net_new_accepts pub)" = 0 ] || fail_out "the public server was reached although not allowed"

	# allowing slirp4netns's own network does not open the gateway (the
	# host's loopback) or its DNS forwarder 10.0.2.3 (docs/network.md)
	net_mark_accepts
	net_egress --allow 10.0.2.0/24 -- "tcp:10.0.2.2:$HLO" "tcp:10.0.2.3:53" "udpdns:10.0.2.3:53:srv.test"
	expect_refused "10.0.2.2:$HLO"
	expect_refused "10.0.2.3:53"
	expect_udp_refused "10.0.2.3:53:srv.test"
	expect_no_accept host "127.0.0.1:$HLO" "--allow 10.0.2.0/24"

	# "everything outside" is not the host's own services: only an entry
	# inside 127.0.0.0/8 opens the host's loopback
	net_mark_accepts
	net_egress --allow 0.0.0.0/0 -- "tcp:10.0.2.2:$HLO" "tcp:$NET_PUB:8080"
	expect_refused "10.0.2.2:$HLO"
	expect_ok "$NET_PUB:8080"
	expect_no_accept host "127.0.0.1:$HLO" "--allow 0.0.0.0/0"
}

# ---------------------------------------------------------------- published ports, sandboxes

# net_free_port: a TCP port free on the host's 127.0.0.1 right now.
net_free_port() {
	chroot "$ROOTFS" /usr/bin/python3 -I -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# net_port_bindable PORT: the host can listen on 127.0.0.1:PORT (nothing
# holds it; SO_REUSEADDR: the closed connections' TIME_WAIT do not count).
net_port_bindable() {
	chroot "$ROOTFS" /usr/bin/python3 -I -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(1)
except OSError as e:
    print("BIND", e)
    sys.exit(1)' "$1"
}

# net_serve_in NAME RUN PORT...: `sbx exec NAME` netsrv.py on 0.0.0.0:PORT...
# in the background (run RUN); waits until its READY line.
net_serve_in() {
	local name=$1 run=$2 p specs=()
	shift 2
	for p in "$@"; do specs+=("0.0.0.0:$p"); done
	sbx_start "$run" exec "$name" --timeout 120s -- python3 -c "$(cat "$NET_DIR/netsrv.py")" --lifetime 120 "${specs[@]}"
	local i
	for ((i = 0; i < 500; i++)); do
		grep -q '^READY' "$T/.runs/$run.out" 2>/dev/null && return 0
		sbx_running "$run" || break
		sleep 0.02
	done
	sbx_wait "$run" 5
	fail_out "the server inside $name did not start"
}

# net_host_wait_ok TARGET SECONDS: poll from the host until TARGET answers.
net_host_wait_ok() {
	local end=$(($(now_us) + $2 * 1000000))
	while :; do
		net_hostpy probe.py "tcp:$1" >"$T/hostprobe.out" 2>&1
		grep -q '^TCP .* ok ' "$T/hostprobe.out" && return 0
		(($(now_us) > end)) && return 1
		sleep 0.1
	done
}

# --publish: the host's 127.0.0.1:HP reaches the server inside, only on the
# address given; after rm -f the port is free again.
t_net_publish() {
	lc_setup
	local hp hp2 name=pub$$
	hp=$(net_free_port) && hp2=$(net_free_port) || fail "no free host port"
	[ "$hp" != "$hp2" ] || hp2=$(net_free_port)
	ls -d /tmp/sbx-net-* 2>/dev/null | sort >"$T/netdirs.before"
	run_sbx create "$name" --net egress --dns 127.0.0.1:9 --publish "127.0.0.1:$hp:8000" --publish "$hp2:8001"
	expect_rc 0 "sbx create --net egress --publish"
	net_serve_in "$name" srv 8000 8001
	net_host_wait_ok "127.0.0.1:$hp" 10 || fail "127.0.0.1:$hp (published to 8000) does not answer: $(cat "$T/hostprobe.out")"
	grep -q "^TCP 127.0.0.1:$hp ok [0-9]* sbxt 0.0.0.0:8000\$" "$T/hostprobe.out" ||
		fail "127.0.0.1:$hp: wrong answer: $(cat "$T/hostprobe.out")"
	net_host_wait_ok "127.0.0.1:$hp2" 10 || fail "127.0.0.1:$hp2 (published without HOSTIP to 8001) does not answer: $(cat "$T/hostprobe.out")"
	grep -q "sbxt 0.0.0.0:8001\$" "$T/hostprobe.out" || fail "127.0.0.1:$hp2: wrong answer: $(cat "$T/hostprobe.out")"
	# curl, a real HTTP client
	local body
	body=$(curl -s --max-time 5 "http://127.0.0.1:$hp/") || fail "curl http://127.0.0.1:$hp/ failed"
	[ "$body" = "sbxt 0.0.0.0:8000" ] || fail "curl http://127.0.0.1:$hp/ got '$body'"
	# only on 127.0.0.1: not on the host's other addresses
	local a
	for a in $(host_ipv4s | grep -v '^127\.'); do
		net_hostpy probe.py "tcp:$a:$hp" >"$T/hostprobe.out" 2>&1
		grep -q '^TCP .* ok ' "$T/hostprobe.out" && fail "the port published on 127.0.0.1 also answers on $a:$hp"
	done
	run_sbx rm -f "$name"
	expect_rc 0 "sbx rm -f"
	sbx_wait srv 20
	net_hostpy probe.py "tcp:127.0.0.1:$hp" "tcp:127.0.0.1:$hp2" >"$T/hostprobe.out" 2>&1
	grep -q ' ok ' "$T/hostprobe.out" && fail "a published port still answers after rm -f: $(cat "$T/hostprobe.out")"
	net_port_bindable "$hp" || fail "127.0.0.1:$hp cannot be bound after rm -f"
	net_port_bindable "$hp2" || fail "127.0.0.1:$hp2 cannot be bound after rm -f"

	# the same with a one-shot `sbx run` (the port lives as long as the run)
	sbx_start one run --net egress --dns 127.0.0.1:9 --publish "127.0.0.1:$hp:8000" --timeout 60s -- \
		python3 -c "$(cat "$NET_DIR/netsrv.py")" --lifetime 60 0.0.0.0:8000
	net_host_wait_ok "127.0.0.1:$hp" 15 || {
		sbx_wait one 1
		fail_out "sbx run --publish: 127.0.0.1:$hp does not answer: $(cat "$T/hostprobe.out")"
	}
	grep -q "sbxt 0.0.0.0:8000\$" "$T/hostprobe.out" || fail "sbx run --publish: wrong answer: $(cat "$T/hostprobe.out")"
	kill -TERM "$(sbx_pid one)"
	sbx_wait one 20
	net_hostpy probe.py "tcp:127.0.0.1:$hp" >"$T/hostprobe.out" 2>&1
	grep -q ' ok ' "$T/hostprobe.out" && fail "the port published by sbx run still answers after it ended"
	net_port_bindable "$hp" || fail "127.0.0.1:$hp cannot be bound after sbx run ended"
	# netd's private dir for slirp4netns's API socket (docs/network.md)
	local left
	left=$(ls -d /tmp/sbx-net-* 2>/dev/null | sort | comm -13 "$T/netdirs.before" -)
	[ -z "$left" ] || fail "left behind after rm -f: $left"
}

# Sandbox A serves on a published port; sandbox B (egress, no --allow)
# cannot reach it by any route, while the host can.
t_net_sandbox_to_sandbox() {
	lc_setup
	net_setup
	local hp name=s2s$$
	hp=$(net_free_port) || fail "no free host port"
	run_sbx create "$name" --net egress --dns "127.0.0.1:$DNSP" --publish "127.0.0.1:$hp:8000"
	expect_rc 0 "sbx create A --publish"
	net_serve_in "$name" srv 8000
	net_host_wait_ok "127.0.0.1:$hp" 10 || fail "A's published port does not answer the host: $(cat "$T/hostprobe.out")"
	local before acts=("tcp:127.0.0.1:$hp" "tcp:10.0.2.2:$hp" "tcp:10.0.2.100:8000" "tcp:127.0.0.1:8000"
		"tcp:$NET_PUB_HOST:$hp" "tcp:$NET_PUB:8080")
	[ -n "$NET_MAIN" ] && acts+=("tcp:$NET_MAIN:$hp")
	before=$(grep -c '^ACCEPT' "$T/.runs/srv.out")
	net_egress -- "${acts[@]}"
	expect_refused "127.0.0.1:$hp"
	expect_refused "10.0.2.2:$hp"
	expect_refused "10.0.2.100:8000"
	expect_refused "127.0.0.1:8000"
	expect_refused "$NET_PUB_HOST:$hp"
	[ -n "$NET_MAIN" ] && expect_refused "$NET_MAIN:$hp"
	expect_ok "$NET_PUB:8080" 1 "$NET_PUB:8080"
	[ "$(grep -c '^ACCEPT' "$T/.runs/srv.out")" = "$before" ] ||
		fail_out "sandbox A's server accepted a connection from sandbox B: $(grep ACCEPT "$T/.runs/srv.out" | tail -n 2 | tr '\n' ';')"
	# A still serves the host (so B's refusals were not A being gone)
	net_host_wait_ok "127.0.0.1:$hp" 5 || fail "A's published port stopped answering the host"
	run_sbx rm -f "$name"
	expect_rc 0 "sbx rm -f A"
	sbx_wait srv 20
}

# ---------------------------------------------------------------- teardown

# net_sandbox_view MARK: the sandbox whose command line carries MARK, seen
# from the host: NV_PID (a process in it), NV_NETNS ("net:[inode]"),
# NV_CGS (its cgroup dirs, v1 hierarchies and the v2 one), NV_SLIRP (the
# slirp4netns process(es) serving it: descendants of sbx pid $2 or in the
# sandbox's cgroup).
net_sandbox_view() {
	local mark=$1 sbxpid=$2 p
	NV_PID=$(mark_pids "$mark" | head -n 1)
	[ -n "$NV_PID" ] || fail "cannot find the sandbox's process from the host"
	NV_NETNS=$(readlink "/proc/$NV_PID/ns/net")
	[ -n "$NV_NETNS" ] && [ "$NV_NETNS" != "$(readlink /proc/self/ns/net)" ] ||
		fail "the sandbox's network namespace is the host's or unreadable ($NV_NETNS)"
	NV_CGS=()
	local ctrl path mnt
	while IFS=: read -r _ ctrl path; do
		[[ $path == */sbx-* ]] || continue
		if [ -z "$ctrl" ]; then
			mnt=$(awk '{ for (i = 7; i <= NF && $i != "-"; i++) ; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
		else
			mnt=$(cg_mount "${ctrl%%,*}")
		fi
		[ -n "$mnt" ] && [ -d "$mnt$path" ] && NV_CGS+=("$mnt$path")
	done <"/proc/$NV_PID/cgroup"
	[ ${#NV_CGS[@]} -gt 0 ] || fail "the sandbox's process is in no sbx-* cgroup: $(tr '\n' ' ' <"/proc/$NV_PID/cgroup")"
	NV_SLIRP=()
	local mycg
	mycg=$(grep -m1 ':memory:' "/proc/$NV_PID/cgroup")
	for p in $(net_slirp_pids); do
		if net_descends "$p" "$sbxpid" || [ "$(grep -m1 ':memory:' "/proc/$p/cgroup" 2>/dev/null)" = "$mycg" ]; then
			NV_SLIRP+=("$p")
		fi
	done
	if [ ${#NV_SLIRP[@]} = 0 ]; then
		detail "the sandbox's cgroup $mycg holds: $(for c in "${NV_CGS[@]}"; do cat "$c/cgroup.procs"; done 2>/dev/null | sort -u | while read -r p; do describe_pids "$p"; done | tr '\n' ';')"
		detail "sbx $sbxpid: $(describe_pids "$sbxpid"); the sandbox's process $NV_PID: $(describe_pids "$NV_PID")"
		detail "$(ls /proc/"$NV_PID"/net/dev >/dev/null 2>&1 && awk 'NR > 2 { printf "%s ", $1 }' "/proc/$NV_PID/net/dev")"
		# shellcheck disable=SC2046
		detail "no slirp4netns process found for the sandbox (child of sbx $sbxpid or in its cgroup); all slirp4netns: $(describe_pids $(net_slirp_pids) | tr '\n' ';')"
		sbx_wait N 20
		fail_out "no slirp4netns process found for the sandbox while it ran"
	fi
	# slirp4netns runs in the sandbox's cgroups (its memory counts there)
	for p in "${NV_SLIRP[@]}"; do
		[ "$(grep -m1 ':memory:' "/proc/$p/cgroup" 2>/dev/null)" = "$mycg" ] ||
			fail "slirp4netns $p is not in the sandbox's memory cgroup ($mycg): $(grep -m1 ':memory:' "/proc/$p/cgroup")"
	done
	# every host-side process in the sandbox's cgroups (netd, slirp4netns),
	# as "pid:starttime"
	NV_HOSTPROCS=()
	local c
	for c in "${NV_CGS[@]}"; do
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do
			[ "$(pidns_of "$p")" = "$HOST_PIDNS" ] || continue
			NV_HOSTPROCS+=("$p:$(net_pstart "$p")")
		done
	done
	mapfile -t NV_HOSTPROCS < <(printf '%s\n' "${NV_HOSTPROCS[@]}" | grep -v ':$' | sort -u)
}

# net_pstart PID: start time of a live (non-zombie) process, else nothing.
net_pstart() {
	local l
	read -r l <"/proc/$1/stat" 2>/dev/null || return 0
	l=${l##*) }
	# shellcheck disable=SC2086
	set -- $l
	[ "$1" = Z ] || [ "$1" = X ] && return 0
	echo "${20}"
}

# net_slirp_pids: every slirp4netns process on the host (live, not zombies)
net_slirp_pids() {
	local f pid
	for f in $(grep -lx slirp4netns /proc/[0-9]*/comm 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/comm}
		[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
		echo "$pid"
	done
}

# net_descends PID ANCESTOR: PID's parent chain reaches ANCESTOR.
net_descends() {
	local p=$1 i
	for ((i = 0; i < 64; i++)); do
		[ "$p" = "$2" ] && return 0
		[ -z "$p" ] || [ "$p" -le 1 ] && return 1
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)
	done
	return 1
}

# net_gone WHAT SECONDS: wait until none of NV_SLIRP lives, no process or
# fd holds NV_NETNS and no NV_CGS dir remains; fail naming what is left.
net_gone() {
	local what=$1 end=$(($(now_us) + $2 * 1000000)) left p c
	while :; do
		left=
		for p in "${NV_SLIRP[@]}"; do
			[ -d "/proc/$p" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != Z ] &&
				left+=" slirp4netns $p ($(describe_pids "$p"));"
		done
		for p in "${NV_HOSTPROCS[@]}"; do
			[ -n "$p" ] && [ "$(net_pstart "${p%%:*}")" = "${p#*:}" ] &&
				left+=" host process ${p%%:*} of the sandbox's cgroup ($(describe_pids "${p%%:*}"));"
		done
		p=$(find /proc/[0-9]*/ns/net /proc/[0-9]*/task/*/ns/net /proc/[0-9]*/fd -maxdepth 1 -lname "$NV_NETNS" 2>/dev/null | head -n 3 | tr '\n' ' ')
		[ -n "$p" ] && left+=" the netns $NV_NETNS is still held: $p;"
		grep -qF "$NV_NETNS" /proc/self/mountinfo && left+=" the netns $NV_NETNS is bind-mounted;"
		for c in "${NV_CGS[@]}"; do
			[ -d "$c" ] && left+=" cgroup $c;"
		done
		[ -z "$left" ] && return 0
		(($(now_us) > end)) && fail "$what: left behind:$left"
		sleep 0.1
	done
}

# net_socket_paths PID...: the paths of the unix sockets these processes
# (and their descendants) hold open, bound in the host's network namespace.
net_socket_paths() {
	local p all=() inodes
	for p in "$@"; do
		all+=("$p")
		mapfile -t -O ${#all[@]} all < <(net_descendants "$p")
	done
	inodes=$(for p in "${all[@]}"; do
		find "/proc/$p/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' -printf '%l\n' 2>/dev/null
	done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u)
	[ -n "$inodes" ] || return 0
	awk -v list=" $(echo $inodes) " 'NR > 1 && NF >= 8 && index(list, " " $7 " ") { print $8 }' /proc/net/unix | sort -u
}

# net_descendants PID: every descendant's pid
net_descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		net_descendants "$c"
	done
}

# net_teardown_case HOW: a sleeping egress sandbox ended by HOW (exit,
# timeout, kill9); afterwards nothing of it is left.
net_teardown_case() {
	local how=$1 sync mark
	export SBX_RUN_DIR=$T/run
	mkdir -p "$SBX_RUN_DIR"
	sync=$(mk_sync)
	mark=$(new_mark)
	local py='
import sys, time
open("/workspace/ready", "w").close()
while not __import__("os").path.exists("/workspace/go"):
    time.sleep(0.02)
if sys.argv[2] == "sleep":
    time.sleep(60)'
	local arg=exit tmo=60s
	[ "$how" = exit ] || arg="sleep"
	[ "$how" = timeout ] && tmo=12s
	sbx_start N run --net egress --dns 127.0.0.1:9 --timeout "$tmo" --workspace "$sync:rw" -- python3 -c "$py" "$mark" "$arg"
	wait_for_file "$sync/ready" 20 || {
		sbx_wait N 70
		fail_out "the egress sandbox did not start"
	}
	net_sandbox_view "$mark" "$(sbx_pid N)"
	# the unix sockets sbx and slirp4netns hold (slirp4netns's API socket...)
	net_socket_paths "$(sbx_pid N)" "${NV_SLIRP[@]}" "${NV_HOSTPROCS[@]%%:*}" >"$T/sockets.during"
	touch "$sync/go"
	case $how in
	exit)
		sbx_wait N 30
		expect_rc 0 "sbx run --net egress (normal end)"
		;;
	timeout)
		sbx_wait N 30
		expect_rc 124 "sbx run --net egress --timeout $tmo"
		;;
	kill9)
		kill -KILL "$(sbx_pid N)"
		sbx_wait N 15
		# what --exit-fd alone did, before any cleanup
		local p alive=
		sleep 0.5
		for p in "${NV_SLIRP[@]}"; do [ -d "/proc/$p" ] && alive+=" $p"; done
		note "after SIGKILL of sbx, before sbx cleanup: slirp4netns ${alive:+still running:$alive}${alive:-gone}"
		run_sbx cleanup
		expect_rc 0 "sbx cleanup"
		;;
	esac
	net_gone "after $how" 5
	local s left=
	while read -r s; do
		[ -n "$s" ] || continue
		[[ $s == /* ]] && { [ -e "$s" ] || [ -L "$s" ]; } && left+=" file $s;"
		awk 'NR > 1 && NF >= 8 { print $8 }' /proc/net/unix | grep -qxF -- "$s" && left+=" bound $s;"
	done <"$T/sockets.during"
	[ -z "$left" ] || fail "unix sockets of the sandbox's sbx/slirp4netns left after $how:$left"
	left=$(find "$SBX_RUN_DIR" -mindepth 1 2>/dev/null | head -n 5)
	[ -z "$left" ] || fail "files left in SBX_RUN_DIR ($SBX_RUN_DIR) after $how: $(echo "$left" | tr '\n' ' ')"
	[ -s "$T/sockets.during" ] && note "unix sockets while it ran: $(tr '\n' ' ' <"$T/sockets.during")"
	note "host processes in the sandbox's cgroups while it ran: ${#NV_HOSTPROCS[@]} (all gone)"
	return 0
}

t_net_teardown_exit() {
	net_teardown_case exit
}

t_net_teardown_timeout() {
	net_teardown_case timeout
}

t_net_teardown_kill9() {
	net_teardown_case kill9
}

# ---------------------------------------------------------------- no capabilities over the filter

# Inside: tap0 is 10.0.2.100, lo is up, CAP_NET_ADMIN is not in the
# effective set, nf_tables (list and delete) and interface changes are
# refused, and the filter still holds after the attempts.
t_net_no_caps() {
	net_setup
	local py='
import errno, fcntl, os, socket, struct, sys
def ifaddr(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()))
        return socket.inet_ntoa(r[20:24])
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def ifflags(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = fcntl.ioctl(s.fileno(), 0x8913, struct.pack("16sH14x", name.encode(), 0))
    return struct.unpack("16sH14x", r)[1]
names = sorted(n for _, n in socket.if_nameindex())
print("IFS", " ".join(names))
print("TAP0", ifaddr("tap0"))
print("LOUP", ifflags("lo") & 1)
capeff = int([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff:")][0], 16)
print("NETADMIN", (capeff >> 12) & 1)
# nf_tables over netlink: a batch deleting table inet sbx, and a dump of tables
NFNL_SUBSYS_NFTABLES = 10
def nlmsg(mtype, flags, seq, payload):
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, seq, 0) + payload
def nfgen(family, res_id=0):
    return struct.pack("=BBH", family, 0, socket.htons(res_id))
def attr(t, data):
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + b"\0" * ((4 - len(a) % 4) % 4)
def nl_result(msgs):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    s.settimeout(3)
    s.bind((0, 0))
    s.send(b"".join(msgs))
    errs = []
    try:
        while True:
            d = s.recv(65536)
            off = 0
            while off + 16 <= len(d):
                ln, t, fl, sq, pid = struct.unpack_from("=IHHII", d, off)
                if t == 2:  # NLMSG_ERROR
                    e = struct.unpack_from("=i", d, off + 16)[0]
                    errs.append(errno.errorcode.get(-e, str(-e)) if e else "ACK")
                elif t == 3:
                    errs.append("DONE")
                else:
                    errs.append("DATA")
                off += (ln + 3) & ~3
                if ln == 0:
                    break
            if "DONE" in errs or errs:
                break
    except socket.timeout:
        errs.append("timeout")
    return ",".join(errs)
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NFT_MSG_GETTABLE, NFT_MSG_DELTABLE = 1, 2
name = attr(1, b"sbx\0")  # NFTA_TABLE_NAME
print("NFT_DEL", nl_result([
    nlmsg(0x10, NLM_F_REQUEST, 1, nfgen(0, NFNL_SUBSYS_NFTABLES)),  # batch begin
    nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_REQUEST | NLM_F_ACK, 2, nfgen(1) + name),
    nlmsg(0x11, NLM_F_REQUEST, 3, nfgen(0, NFNL_SUBSYS_NFTABLES)),  # batch end
]))
print("NFT_LIST", nl_result([nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_REQUEST | NLM_F_DUMP, 4, nfgen(0))]))
# take tap0 down (SIOCSIFFLAGS) and change its address (SIOCSIFADDR)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14x", b"tap0", ifflags("tap0") & ~1))
    print("IFDOWN", "ok")
except OSError as e:
    print("IFDOWN", errno.errorcode.get(e.errno, str(e.errno)))
try:
    fcntl.ioctl(s.fileno(), 0x8916, struct.pack("16sHH4s8x", b"tap0", socket.AF_INET, 0, socket.inet_aton("10.0.2.101")))
    print("IFADDR", "ok")
except OSError as e:
    print("IFADDR", errno.errorcode.get(e.errno, str(e.errno)))
sys.stdout.flush()
# then probe.py (argv[1]) with the remaining arguments
code = sys.argv[1]
sys.argv = ["probe"] + sys.argv[2:]
exec(compile(code, "probe.py", "exec"), {"__name__": "__main__"})
'
	run_sbx run --net egress --dns "127.0.0.1:$DNSP" --timeout 60s -- python3 -c "$py" "$(cat "$NET_DIR/probe.py")" \
		"tcp:$NET_PRIV:8080" "tcp:$NET_PUB:8080"
	expect_rc 0 "the capability probe"
	out_has "TAP0 10.0.2.100" || fail_out "tap0 is not 10.0.2.100 (got: $(out_line TAP0))"
	[[ " $(out_line IFS) " == *" tap0 "* ]] && [[ " $(out_line IFS) " == *" lo "* ]] ||
		fail_out "interfaces are not lo and tap0: $(out_line IFS)"
	out_has "LOUP 1" || fail_out "lo is not up in an egress sandbox"
	out_has "NETADMIN 0" || fail_out "CAP_NET_ADMIN is in the sandbox's effective set"
	[[ $(out_line NFT_DEL) == *EPERM* ]] && [[ $(out_line NFT_DEL) != *ACK* ]] ||
		fail_out "deleting table inet sbx over netlink was not refused with EPERM: $(out_line NFT_DEL)"
	[[ $(out_line NFT_LIST) == *EPERM* ]] && [[ $(out_line NFT_LIST) != *DATA* ]] ||
		fail_out "listing nf_tables over netlink was not refused with EPERM: $(out_line NFT_LIST)"
	out_has "IFDOWN EPERM" || fail_out "taking tap0 down: $(out_line IFDOWN), expected EPERM"
	out_has "IFADDR EPERM" || fail_out "changing tap0's address: $(out_line IFADDR), expected EPERM"
	expect_refused "$NET_PRIV:8080"
	expect_ok "$NET_PUB:8080" 1 "$NET_PUB:8080"
	expect_no_accept priv "$NET_PRIV:8080" "after the netlink attempts"
}

# ---------------------------------------------------------------- bad input

# Bad network options: 125, one "sbx: " line on stderr naming the problem
# (the messages of src/base/netspec.c), nothing on stdout, nothing left
# (the harness's leak check), no sandbox created.
t_net_bad_input() {
	lc_setup
	# "OPTIONS|text the error line contains"
	local -a cases=(
		"--net egress --allow 1.2.3.4/24|invalid --allow '1.2.3.4/24': address has bits set below its prefix"
		"--net egress --allow a?b|invalid --allow 'a?b': names may hold only"
		"--net egress --allow 10.0.0.0/33|invalid --allow '10.0.0.0/33': prefix must be 0..32"
		"--net egress --allow 198.51.100.2:65536|invalid --allow '198.51.100.2:65536': port must be 1..65535"
		"--net egress --publish 70000:80|invalid --publish '70000:80': host port must be 1..65535"
		"--net egress --publish 8080:0|invalid --publish '8080:0': port must be 1..65535"
		"--net egress --publish 127.0.0.1:abc:80|invalid --publish '127.0.0.1:abc:80': host port must be 1..65535"
		"--net egress --publish 18080:80 --publish 18080:81|host port 18080 published twice"
		"--net egress --dns x|invalid --dns 'x': invalid IPv4 address"
		"--net egress --dns 127.0.0.1:99999|invalid --dns '127.0.0.1:99999': port must be 1..65535"
		"--allow 198.51.100.2|--allow needs --net egress"
		"--net loopback --allow 198.51.100.2|--allow needs --net egress"
		"--net none --publish 18080:80|--publish needs --net egress"
		"--dns 127.0.0.1|--dns needs --net egress"
		"--net bogus|invalid --net 'bogus'"
	)
	local c cmd opts want line
	for cmd in run create; do
		for c in "${cases[@]}"; do
			opts=${c%%|*} want=${c#*|}
			local args
			read -r -a args <<<"$opts"
			if [ "$cmd" = run ]; then
				run_sbx run "${args[@]}" -- true
			else
				run_sbx create "bad$$" "${args[@]}"
			fi
			[ "$RC" = 125 ] || fail_out "sbx $cmd $opts: exit $RC, expected 125"
			[ "$(stderr_lines | wc -l)" = 1 ] || fail_out "sbx $cmd $opts: not one line on stderr"
			line=$(stderr_lines)
			[[ $line == "sbx: "* ]] || fail_out "sbx $cmd $opts: the error line does not start with 'sbx: '"
			[[ $line == *"$want"* ]] || fail_out "sbx $cmd $opts: the error line does not say '$want'"
			[ -s "$T/out" ] && fail_out "sbx $cmd $opts: something on stdout"
		done
	done
	# an allow entry with a space, as one argument
	run_sbx run --net egress --allow 'a b' -- true
	[ "$RC" = 125 ] && [ "$(stderr_lines | wc -l)" = 1 ] || fail_out "--allow 'a b': exit $RC, expected 125 and one line"
	[[ $(stderr_lines) == "sbx: invalid --allow 'a b'"* ]] || fail_out "--allow 'a b': unexpected message"
	run_sbx ls
	expect_rc 0 "sbx ls"
	grep -q "^bad$$ " "$T/out" && fail_out "a refused create left sandbox bad$$"
	[ -z "$(ls -A "$SBX_STATE_DIR/sandboxes" 2>/dev/null)" ] ||
		fail "refused creates left state: $(ls -A "$SBX_STATE_DIR/sandboxes")"
	[ -z "$(ls -A "$SBX_RUN_DIR" 2>/dev/null)" ] || fail "refused runs left files in $SBX_RUN_DIR: $(ls -A "$SBX_RUN_DIR")"
	return 0
}
