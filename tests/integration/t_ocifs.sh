# shellcheck shell=bash
# ocifs: the OCI runtime's container root (src/ocirt/rootfs*.c), driven by
# helpers/oci_rootfs_try.c in its own mount, pid, net, ipc and uts
# namespaces on the validation suite's busybox rootfs: the mounts of
# containerd's and podman's configs, cgroups, devices, masked and read-only
# paths, sysctl, the read-only root, a user namespace, destinations through
# symlinks, a refused mount. Nothing may stay mounted on the host.

OCIFS_TAR=${SBX_RUNTIME_TOOLS_TAR:-$REPO/../shared/vendor/runtime-tools-260e151.tar.gz}

# Build the driver (build/obj/ocirt/*.o but main.o, build/libsbx.a) and
# extract the busybox rootfs to $T/b/rootfs; bind sources in $T/b/binds.
ocifs_setup() {
	local objs=() o
	for o in "$REPO"/build/obj/ocirt/*.o; do
		[ "${o##*/}" = main.o ] || objs+=("$o")
	done
	[ ${#objs[@]} -gt 0 ] && [ -f "$REPO/build/libsbx.a" ] || fail "no build/obj/ocirt objects (make all)"
	[ -f "$OCIFS_TAR" ] || fail "no runtime-tools tarball at $OCIFS_TAR (SBX_RUNTIME_TOOLS_TAR)"
	cc -std=gnu11 -D_GNU_SOURCE -I"$REPO/include" -I"$REPO/src" -O1 -o "$T/try" \
		"$REPO/tests/integration/helpers/oci_rootfs_try.c" "${objs[@]}" "$REPO/build/libsbx.a" \
		-lseccomp -lcap -lcgroup -lpthread 2>"$T/cc.err" || fail "cc oci_rootfs_try.c: $(head -n 3 "$T/cc.err")"
	mkdir -p "$T/b/rootfs" "$T/b/binds/shm" "$T/rt"
	tar xzf "$OCIFS_TAR" -C "$T/rt" runtime-tools/rootfs-amd64.tar.gz || fail "no rootfs-amd64.tar.gz in $OCIFS_TAR"
	tar xzf "$T/rt/runtime-tools/rootfs-amd64.tar.gz" -C "$T/b/rootfs" || fail "cannot extract the busybox rootfs"
	echo "127.0.0.1 ocifs-hosts" >"$T/b/binds/hosts"
	echo ocifs-host >"$T/b/binds/hostname"
	: >"$T/b/binds/.containerenv"
	on_exit "ocifs_no_mounts"
}

# No mount of ours may be left in the host's namespace.
ocifs_no_mounts() {
	if grep -q " $T/" /proc/self/mountinfo; then
		grep " $T/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r -n1 umount -l
		return 1
	fi
}

# ocifs_run PROFILE 'SHELL COMMAND': RC, $T/out (the command's stdout), $T/err.
# $OCIFS_PRE: a command run before, in a private mount namespace of its own.
ocifs_run() {
	(cd "$T" && unshare -m --propagation private sh -c "${OCIFS_PRE:-:} && exec ./try \"\$0\" \"\$1\" \"\$2\"" \
		"$T/b/rootfs" "$1" "$2") >"$T/out" 2>"$T/err"
	RC=$?
	LAST_ARGS="oci_rootfs_try ROOTFS $1 '$2'"
	grep -q " $T/" /proc/self/mountinfo && fail "a mount under $T is left on the host"
	return 0
}

# mountinfo fields 5 (mount point), 6 (its options), after " - " type and super options.
OCIFS_MI="awk '{ for (i = 7; \$i != \"-\"; i++); print \$5, \$6, \$(i+1), \$(i+3) }' /proc/self/mountinfo"

# has MOUNTPOINT OPTS TYPE: a line "MOUNTPOINT OPTS... TYPE" of the output
# (the options as the kernel shows them, given as a regex).
ocifs_has() {
	grep -Eq "^$1 $2 $3( |\$)" "$T/out" || fail_out "no mount $1 ($3, options $2) in mountinfo"
}

t_ocifs_ctr_config() {
	ocifs_setup
	ocifs_run ctr "$OCIFS_MI; echo CWD; ls -d /work/dir; ls -ln /dev | awk '{print \$1, \$5, \$6, \$NF}';
		for l in /dev/ptmx /dev/fd /dev/stdin /dev/stdout /dev/stderr; do readlink \$l; done; echo KEYS \$(wc -c </proc/keys);
		echo hn >/proc/sys/kernel/hostname 2>/dev/null || echo SYS_RO; ls /proc/acpi | wc -l;
		echo x >/x && echo ROOT_RW; echo PID \$\$"
	expect_rc 0
	ocifs_has / rw,relatime ext4
	ocifs_has /proc rw,nosuid,nodev,noexec,relatime proc
	ocifs_has /dev rw,nosuid tmpfs
	ocifs_has /dev/pts rw,nosuid,noexec,relatime devpts
	ocifs_has /dev/shm rw,nosuid,nodev,noexec,relatime tmpfs
	ocifs_has /dev/mqueue rw,nosuid,nodev,noexec,relatime mqueue
	ocifs_has /sys ro,nosuid,nodev,noexec,relatime sysfs
	ocifs_has /run rw,nosuid tmpfs
	ocifs_has /proc/sys ro,.* proc
	ocifs_has /proc/acpi ro,.* tmpfs
	ocifs_has /proc/keys rw,.* tmpfs
	ocifs_has /sys/firmware ro,.* tmpfs
	grep -q "^$T" "$T/out" && fail_out "a mount point is a host path"
	local d
	for d in "crw-rw-rw- 1, 3 null" "crw-rw-rw- 1, 5 zero" "crw-rw-rw- 1, 7 full" \
		"crw-rw-rw- 1, 8 random" "crw-rw-rw- 1, 9 urandom" "crw-rw-rw- 5, 0 tty"; do
		grep -qx "$d" "$T/out" || fail_out "no device '$d' in /dev"
	done
	for d in pts/ptmx /proc/self/fd /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 \
		"KEYS 0" SYS_RO 0 ROOT_RW "PID 1" /work/dir; do
		grep -qx "$d" "$T/out" || fail_out "no line '$d'"
	done
}

t_ocifs_podman_config() {
	ocifs_setup
	local cmd="$OCIFS_MI; cat /etc/hosts /etc/hostname; cat /proc/sys/net/ipv4/ping_group_range;
		ls /sys/fs/cgroup; touch /sys/fs/cgroup/memory/x 2>/dev/null || echo CG_RO;
		cat /proc/self/cgroup"
	ocifs_run podman-nocgns "$cmd"
	expect_rc 0
	ocifs_has /etc/hosts rw,relatime ext4
	ocifs_has /etc/hostname rw,relatime ext4
	ocifs_has /run/.containerenv rw,relatime ext4
	ocifs_has /dev/shm rw,nosuid,nodev,noexec,relatime ext4
	ocifs_has /dev rw,nosuid,noexec tmpfs
	ocifs_has /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime tmpfs
	ocifs_has /sys/dev/block ro,.* tmpfs
	grep -qx "127.0.0.1 ocifs-hosts" "$T/out" || fail_out "/etc/hosts is not the bound file"
	grep -qx "ocifs-host" "$T/out" || fail_out "/etc/hostname is not the bound file"
	grep -qx "0	0" "$T/out" || fail_out "sysctl net.ipv4.ping_group_range not written"
	grep -qx CG_RO "$T/out" || fail_out "/sys/fs/cgroup/memory is writable"
	# Every v1 hierarchy of the process, read-only, at its own name.
	local id ctrls path name
	while IFS=: read -r id ctrls path; do
		[ -n "$ctrls" ] || continue
		name=${ctrls#name=}
		ocifs_has "/sys/fs/cgroup/$name" ro,nosuid,nodev,noexec,relatime cgroup
	done </proc/self/cgroup
	# The bound memory hierarchy is the process's own cgroup directory.
	local own
	own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
	[ -z "$own" ] || [ "$own" = / ] ||
		grep -q "^4:memory:$own\$\|^[0-9]*:memory:$own\$" "$T/out" || fail_out "memory cgroup not $own"
	ocifs_run podman "$cmd"
	expect_rc 0
	ocifs_has /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime tmpfs
	grep -q "^[0-9]*:memory:/\$" "$T/out" || fail_out "in a new cgroup namespace, memory is not /"
}

t_ocifs_readonly_root_devices_sysctl() {
	ocifs_setup
	# A mount below the "rro" bind's source (in the run's own namespace): read-only too.
	OCIFS_PRE="mount -t tmpfs -o size=1k,nosuid,nodev tmpfs $T/b/binds/shm"
	ocifs_run ro "head -n 1 /proc/self/mountinfo | cut -d' ' -f6; ls -ln /dev/fuse | awk '{print \$1, \$3, \$4, \$5, \$6}';
		touch /x 2>/dev/null || echo ROOT_RO; touch /run/x && echo RUN_RW; cat /proc/sys/net/ipv4/ping_group_range;
		touch /mnt/rro/x 2>/dev/null || echo RRO; touch /mnt/rro/shm/x 2>/dev/null || echo RRO_SUB;
		cat /mnt/rro/hosts; $OCIFS_MI | grep '^/mnt/rro'"
	expect_rc 0
	local l
	for l in ro,relatime "crw------- 1000 1001 10, 229" ROOT_RO RUN_RW "0	0" RRO RRO_SUB "127.0.0.1 ocifs-hosts"; do
		grep -qx "$l" "$T/out" || fail_out "no line '$l'"
	done
	ocifs_has /mnt/rro ro,noexec,relatime ext4
	ocifs_has /mnt/rro/shm ro,nosuid,nodev,noexec,relatime tmpfs
}

t_ocifs_userns_binds_devices() {
	ocifs_setup
	ocifs_run userns "$OCIFS_MI; cat /proc/self/uid_map; echo x >/dev/null && echo NULL_OK; ls -ln /dev/fuse"
	expect_rc 0
	ocifs_has /dev/null rw,.* devtmpfs
	ocifs_has /dev/fuse rw,.* devtmpfs
	ocifs_has / ro,relatime ext4
	grep -q NULL_OK "$T/out" || fail_out "/dev/null not writable"
}

t_ocifs_destination_symlinks_stay_inside() {
	ocifs_setup
	ln -s /etc "$T/b/rootfs/evil"
	ln -s ../../.. "$T/b/rootfs/up"
	ocifs_run escape "ls -d /etc/escaped /up-escaped /dotdot-escaped"
	expect_rc 0
	[ -d "$T/b/rootfs/etc/escaped" ] && [ -d "$T/b/rootfs/up-escaped" ] && [ -d "$T/b/rootfs/dotdot-escaped" ] ||
		fail_out "the destinations were not made inside the root"
	[ ! -e /etc/escaped ] && [ ! -e "$T/up-escaped" ] && [ ! -e /up-escaped ] && [ ! -e /dotdot-escaped ] ||
		fail "a destination was made outside the root"
}

t_ocifs_refused_mount() {
	ocifs_setup
	ocifs_run bad true
	expect_rc 100
	grep -qx "oci_rootfs_try: mount /dev/pts (devpts): Invalid argument" "$T/err" ||
		fail_out "not the one-line error naming the mount"
}
