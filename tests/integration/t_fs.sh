# shellcheck shell=bash
# fs: read-only rootfs, /tmp tmpfs with a size cap, masked /proc, minimal
# /dev, the workspace bind (ro/rw), no /sys content, the writable root.

# python helper: try(label, fn) prints "label OK" or "label ERR <ERRNO>"
FS_PY_PRELUDE='
import errno, os, stat, sys
def attempt(label, fn):
    try:
        fn()
        print(label, "OK")
    except OSError as e:
        print(label, "ERR", errno.errorcode.get(e.errno, e.errno))
def write(p, data=b"x", mode="wb"):
    with open(p, mode) as f:
        f.write(data)
def ro(p):
    return bool(os.statvfs(p).f_flag & os.ST_RDONLY)
'

t_fs_rootfs_readonly() {
	local py=$FS_PY_PRELUDE'
attempt("W /usr/x", lambda: write("/usr/sbx-test-x"))
attempt("W /etc/x", lambda: write("/etc/sbx-test-x"))
attempt("W /x", lambda: write("/sbx-test-x"))
attempt("A /usr/bin/python3", lambda: write("/usr/bin/python3", b"", "ab"))
attempt("A /etc/passwd", lambda: write("/etc/passwd", b"", "ab"))
attempt("MKDIR /usr/d", lambda: os.mkdir("/usr/sbx-test-d"))
attempt("UNLINK /etc/os-release", lambda: os.unlink("/etc/os-release"))
attempt("CHMOD /etc/passwd", lambda: os.chmod("/etc/passwd", 0o666))
attempt("W /var/tmp/x", lambda: write("/var/tmp/sbx-test-x"))
print("ROOT_RO", ro("/"))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local l bad=
	for l in "W /usr/x" "W /etc/x" "W /x" "A /usr/bin/python3" "A /etc/passwd" "MKDIR /usr/d" \
		"UNLINK /etc/os-release" "CHMOD /etc/passwd"; do
		case $(out_line "$l") in
		"ERR EROFS" | "ERR EACCES" | "ERR EPERM") ;;
		*) bad+=" $l: $(out_line "$l");" ;;
		esac
	done
	local f
	for f in usr/sbx-test-x etc/sbx-test-x sbx-test-x usr/sbx-test-d var/tmp/sbx-test-x; do
		if [ -e "$ROOTFS/$f" ]; then
			bad+=" $ROOTFS/$f was created on the host;"
			rm -rf "${ROOTFS:?}/$f"
		fi
	done
	[ -z "$bad" ] || fail_out "rootfs is writable:$bad"
	out_has "ROOT_RO True" || note "/ is not a read-only mount (statvfs); writes fail by permissions only"
}

t_fs_tmp_writable() {
	local py=$FS_PY_PRELUDE'
write("/tmp/a", b"hello")
print("READ", open("/tmp/a").read())
os.mkdir("/tmp/d"); write("/tmp/d/f"); os.symlink("a", "/tmp/l"); os.rename("/tmp/d/f", "/tmp/g")
print("LIST", sorted(os.listdir("/tmp")))
fstype = "?"
for l in open("/proc/self/mountinfo"):
    pre, post = l.split(" - ")
    if pre.split()[4] == "/tmp":
        fstype = post.split()[0]
print("FSTYPE", fstype)
print("RO", ro("/tmp"))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	out_has "READ hello" || fail_out "/tmp is not writable"
	out_has "LIST ['a', 'd', 'g', 'l']" || fail_out "/tmp operations failed"
	out_has "FSTYPE tmpfs" || fail_out "/tmp is not a tmpfs mount"
}

TMP_FILL_PY='
import errno, os
st = os.statvfs("/tmp")
print("SIZE", st.f_blocks * st.f_frsize)
fd = os.open("/tmp/big", os.O_CREAT | os.O_WRONLY)
chunk = b"\xa5" * 1048576
written = 0
try:
    for i in range(int(os.environ.get("FILL_MB", "20"))):
        n = os.write(fd, chunk)
        written += n
        if n < len(chunk):
            raise OSError(errno.ENOSPC, "short write")
    print("FILL NOERR", written)
except OSError as e:
    print("FILL ERR", errno.errorcode.get(e.errno, e.errno), written)
'

t_fs_tmp_size_cap() {
	run_sbx run --tmp-size 8M --env FILL_MB=20 -- python3 -c "$TMP_FILL_PY"
	expect_rc 0
	local size fill written
	size=$(out_line SIZE)
	fill=$(out_line FILL)
	[ "$size" = 8388608 ] || fail_out "--tmp-size 8M: /tmp is $size bytes"
	case $fill in
	"ERR ENOSPC "*) ;;
	*) fail_out "--tmp-size 8M: writing 20 MB gave '$fill', expected ENOSPC" ;;
	esac
	written=${fill##* }
	[ "$written" -le 8388608 ] || fail_out "wrote $written bytes into an 8M /tmp"

	# the default cap is 64M
	run_sbx run --env FILL_MB=0 -- python3 -c "$TMP_FILL_PY"
	expect_rc 0
	[ "$(out_line SIZE)" = 67108864 ] || fail_out "default /tmp size is $(out_line SIZE), expected 64M"
}

t_fs_proc_masked() {
	local py=$FS_PY_PRELUDE'
def rd(p):
    try:
        if os.path.isdir(p):
            return "DIR %d" % len(os.listdir(p))
        with open(p, "rb") as f:
            return "READ %d" % len(f.read(65536))
    except OSError as e:
        return "ERR " + errno.errorcode.get(e.errno, str(e.errno))
for p in sys.argv[1:]:
    print("MASK", p, os.path.exists(p), rd(p))
attempt("OPENW /proc/sysrq-trigger", lambda: os.close(os.open("/proc/sysrq-trigger", os.O_WRONLY)))
attempt("W /proc/sys/kernel/hostname", lambda: write("/proc/sys/kernel/hostname", b"x"))
attempt("W /proc/sys/vm/overcommit_memory", lambda: write("/proc/sys/vm/overcommit_memory", b"0"))
print("PROCSYS_RO", ro("/proc/sys"))
print("PROC_OK", os.path.exists("/proc/self/status"))
'
	# the usual masked set (Docker/OCI defaults) that exists on this host
	local p paths=() hostonly=
	for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats \
		/proc/timer_stats /proc/acpi /proc/scsi; do
		[ -e "$p" ] && paths+=("$p")
	done
	[ -e /proc/kcore ] || hostonly+=" /proc/kcore"
	run_sbx run -- python3 -c "$py" /proc/kcore "${paths[@]}"
	expect_rc 0
	out_has "PROC_OK True" || fail_out "/proc is not usable"
	local bad= line
	while read -r line; do
		# "MASK path exists result"
		set -- $line
		case "$3 $4 $5" in
		False*) ;;               # absent
		*" READ 0" | *" ERR "*) ;; # empty or unreadable
		*" DIR 0") ;;            # empty dir
		*) bad+=" $2 ($4 $5);" ;;
		esac
	done < <(grep '^MASK ' "$T/out")
	case $(out_line "OPENW /proc/sysrq-trigger") in OK) bad+=" /proc/sysrq-trigger opens for writing;" ;; esac
	[ -z "$bad" ] || fail_out "/proc paths not masked:$bad"
	out_has "PROCSYS_RO True" || fail_out "/proc/sys is not mounted read-only"
	for l in "W /proc/sys/kernel/hostname" "W /proc/sys/vm/overcommit_memory"; do
		case $(out_line "$l") in ERR*) ;; *) fail_out "$l: $(out_line "$l")" ;; esac
	done
	[ -n "$hostonly" ] && note "this kernel has no$hostonly (nothing to mask there)"
	return 0
}

t_fs_dev_minimal() {
	local py=$FS_PY_PRELUDE'
print("LIST", " ".join(sorted(os.listdir("/dev"))))
for n in ["null", "zero", "full", "random", "urandom", "tty"]:
    try:
        st = os.stat("/dev/" + n)
        print("DEV", n, stat.S_ISCHR(st.st_mode), "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    except OSError as e:
        print("DEV", n, "missing", e)
print("ISDIR", os.path.isdir("/dev/pts"), os.path.isdir("/dev/shm"))
attempt("W /dev/null", lambda: write("/dev/null"))
print("ZERO", open("/dev/zero", "rb").read(8) == bytes(8))
attempt("W /dev/full", lambda: write("/dev/full", b"x", "wb", ))
print("URANDOM", len(open("/dev/urandom", "rb").read(16)))
blocks = []
for root, dirs, files in os.walk("/dev"):
    for f in files + dirs:
        p = os.path.join(root, f)
        try:
            if stat.S_ISBLK(os.lstat(p).st_mode):
                blocks.append(p)
        except OSError:
            pass
print("BLOCKDEVS", blocks)
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local bad= n want
	for n in "null 1:3" "zero 1:5" "full 1:7" "random 1:8" "urandom 1:9" "tty 5:0"; do
		set -- $n
		out_has "DEV $1 True $2" || bad+=" /dev/$1 ($(out_line "DEV $1"));"
	done
	out_has "ISDIR True True" || bad+=" /dev/pts or /dev/shm missing;"
	out_has "W /dev/null OK" || bad+=" /dev/null not writable;"
	out_has "ZERO True" || bad+=" /dev/zero does not read zeros;"
	out_has "W /dev/full ERR ENOSPC" || bad+=" /dev/full: $(out_line "W /dev/full");"
	out_has "URANDOM 16" || bad+=" /dev/urandom unreadable;"
	out_has "BLOCKDEVS []" || bad+=" block devices: $(out_line BLOCKDEVS);"
	local extra
	extra=$(out_line LIST | tr ' ' '\n' |
		grep -vxE 'null|zero|full|random|urandom|tty|shm|pts|ptmx|fd|stdin|stdout|stderr|core|console|mqueue' | tr '\n' ' ')
	[ -n "$extra" ] && bad+=" unexpected /dev entries: $extra;"
	[ -z "$bad" ] || fail_out "/dev:$bad"
}

t_fs_workspace_ro() {
	local ws
	ws=$(mk_dir ws)
	echo original >"$ws/file.txt"
	mkdir "$ws/sub"
	ws_usable "$ws" || return 0
	local py=$FS_PY_PRELUDE'
print("READ", open("/workspace/file.txt").read().strip())
attempt("W new", lambda: write("/workspace/new.txt"))
attempt("A existing", lambda: write("/workspace/file.txt", b"more", "ab"))
attempt("W sub/new", lambda: write("/workspace/sub/new.txt"))
attempt("MKDIR", lambda: os.mkdir("/workspace/d"))
attempt("UNLINK", lambda: os.unlink("/workspace/file.txt"))
attempt("CHMOD", lambda: os.chmod("/workspace/file.txt", 0o600))
print("RO", ro("/workspace"))
'
	run_sbx run --workspace "$ws:ro" -- python3 -c "$py"
	expect_rc 0
	out_has "READ original" || fail_out "cannot read the workspace"
	local l bad=
	for l in "W new" "A existing" "W sub/new" "MKDIR" "UNLINK" "CHMOD"; do
		case $(out_line "$l") in "ERR EROFS" | "ERR EACCES" | "ERR EPERM") ;; *) bad+=" $l: $(out_line "$l");" ;; esac
	done
	[ "$(cat "$ws/file.txt")" = original ] || bad+=" host file changed;"
	[ "$(stat -c %a "$ws/file.txt")" = 644 ] || bad+=" host file mode changed;"
	[ "$(ls "$ws" | tr '\n' ' ')" = "file.txt sub " ] || bad+=" host dir now has: $(ls "$ws" | tr '\n' ' ');"
	[ -z "$(ls "$ws/sub")" ] || bad+=" host sub/ changed;"
	[ -z "$bad" ] || fail_out ":ro workspace is writable:$bad"
	out_has "RO True" || note "/workspace (:ro) is not a read-only mount (statvfs); writes fail by permissions only"
}

t_fs_workspace_rw() {
	# an ordinary directory made by the (root) user running sbx
	local ws
	ws=$(mk_dir ws 0755)
	echo before >"$ws/existing.txt"
	if ! ws_idmap_ok "$ws"; then
		# $T's file system cannot be idmapped (tmpfs before 6.3, overlayfs):
		# refused with the documented line, nothing written
		run_sbx run --workspace "$ws:rw" -- sh -c 'echo x >/workspace/new.txt'
		ws_expect_refused "$ws" ":rw workspace on a file system without idmapped mounts"
		[ "$(ls -A "$ws")" = existing.txt ] || fail "the refused run left files: $(ls -A "$ws")"
		note "$T cannot be idmapped here: the :rw workspace was refused as documented"
		return 0
	fi
	local py=$FS_PY_PRELUDE'
attempt("W new", lambda: write("/workspace/new.txt", b"written inside\n"))
attempt("A existing", lambda: write("/workspace/existing.txt", b"appended\n", "ab"))
attempt("MKDIR", lambda: os.mkdir("/workspace/sub"))
attempt("W sub/f", lambda: write("/workspace/sub/f", b"deep\n"))
'
	run_sbx run --workspace "$ws:rw" -- python3 -c "$py"
	expect_rc 0
	local bad=
	[ "$(cat "$ws/new.txt" 2>/dev/null)" = "written inside" ] || bad+=" new.txt on the host: '$(cat "$ws/new.txt" 2>&1)' ($(out_line "W new"));"
	[ "$(cat "$ws/existing.txt")" = "before
appended" ] || bad+=" existing.txt on the host: '$(tr '\n' '|' <"$ws/existing.txt")' ($(out_line "A existing"));"
	[ "$(cat "$ws/sub/f" 2>/dev/null)" = deep ] || bad+=" sub/f missing on the host ($(out_line MKDIR), $(out_line "W sub/f"));"
	[ -z "$bad" ] || fail_out ":rw workspace (root-owned 0755 dir):$bad"
	note "files written in a :rw workspace are owned on the host by $(stat -c %u:%g "$ws/new.txt")"
}

t_fs_no_workspace_by_default() {
	run_sbx run -- python3 -c '
import os
print("WS", os.path.exists("/workspace"), os.listdir("/workspace") if os.path.isdir("/workspace") else None)'
	expect_rc 0
	case $(out_line WS) in
	"False None" | "True []") ;;
	*) fail_out "/workspace has content without --workspace: $(out_line WS)" ;;
	esac
}

t_fs_sys_empty_or_readonly() {
	local py=$FS_PY_PRELUDE'
if not os.path.exists("/sys"):
    print("SYS absent")
else:
    entries = os.listdir("/sys")
    print("SYS", "entries=%d" % len(entries), "ro=%s" % ro("/sys"))
    attempt("W /sys/x", lambda: write("/sys/sbx-test-x"))
    attempt("W /sys/kernel/uevent_helper", lambda: write("/sys/kernel/uevent_helper", b""))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local sys
	sys=$(out_line SYS)
	case $sys in
	absent | "entries=0 "*) ;;
	*" ro=True") note "/sys has content but is read-only ($sys)" ;;
	*) fail_out "/sys has content and is writable: $sys" ;;
	esac
	grep -q '^W /sys/.* OK$' "$T/out" && fail_out "wrote into /sys"
	return 0
}

# The sandbox's mount table does not name the rootfs's host path: the
# rootfs is a read-only overlay whose layers are "." and an empty tmpfs
# (a bind mount's root field is its host path). The workspace is a bind
# mount: its path within its own file system stays visible (documented in
# docs/security.md); here the workspace is checked to be the only one.
t_fs_mountinfo_hides_host_paths() {
	local real
	real=$(readlink -f "$ROOTFS")
	mkdir -p "$T/ws"
	run_sbx run --workspace "$T/ws" -- cat /proc/self/mountinfo
	expect_rc 0
	grep -qE ' / / ro,[^ ]* - overlay ' "$T/out" || fail_out "the root is not a read-only overlay"
	if grep -F -e "$ROOTFS" -e "$real" -e "$(dirname "$real")" "$T/out"; then
		fail_out "mountinfo shows the rootfs's host path"
	fi
	local others
	others=$(grep -vF " $T/ws /workspace " "$T/out" | grep -F -e "$T" -e /work -e /home -e /root -e /var/lib)
	[ -z "$others" ] || fail_out "mountinfo shows host paths: $others"
	# the root file system still works as before: read-only, python runs
	run_sbx run -- sh -c 'touch /x 2>/dev/null && echo WRITABLE; python3 -c "import json; print(json.dumps(1))"'
	expect_rc 0
	expect_stdout 1
}

# Issue 15: a host directory on a file system without idmapped mounts
# (ramfs here; tmpfs before Linux 6.3, overlayfs, NFS...) is refused with
# one documented line and exit 125, leaving nothing, unless root inside
# already maps to its owner (--map-uid/--map-gid), which works.
t_fs_workspace_no_idmap() {
	ws_ramfs rfs
	local ws=$WS_RAMFS/h
	mkdir -m 0755 "$ws" && echo before >"$ws/existing.txt"
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	local mode
	for mode in rw ro; do
		run_sbx run --workspace "$ws:$mode" -- sh -c 'echo x >/workspace/new; echo RAN'
		ws_expect_refused "$ws" "run :$mode (root-owned dir on ramfs)"
		run_sbx create NI --workspace "$ws:$mode"
		ws_expect_refused "$ws" "create :$mode (root-owned dir on ramfs)"
	done
	[ -z "$(ls -A "$ws" | grep -v existing.txt)" ] || fail "the refused runs left files in $ws: $(ls -A "$ws")"
	[ -z "$(ls -A "$T/state/sandboxes" 2>/dev/null)" ] || fail "a refused create left state: $(ls -A "$T/state/sandboxes")"
	run_sbx ls
	expect_rc 0 "sbx ls"
	grep -q NI "$T/out" && fail_out "a refused create is listed"

	# owned by a uid of no one: the message names its ids; with them, it works
	local id=$((0x6f000000))
	chown -R "$id:$id" "$ws"
	run_sbx run --workspace "$ws:rw" -- true
	ws_expect_refused "$ws" "run :rw (dir of uid $id on ramfs, automatic ids)"
	run_sbx run --map-uid "$id" --map-gid "$id" --workspace "$ws:rw" -- sh -c 'echo inside >/workspace/new.txt && echo more >>/workspace/existing.txt && mkdir /workspace/sub && echo deep >/workspace/sub/f'
	expect_rc 0 "writing a ramfs workspace with --map-uid/--map-gid of its owner"
	[ "$(cat "$ws/new.txt" 2>&1)" = inside ] && [ "$(cat "$ws/sub/f" 2>&1)" = deep ] &&
		[ "$(tr '\n' '|' <"$ws/existing.txt")" = "before|more|" ] || fail "the writes are not on the host: $(ls -lnR "$ws" | tr '\n' '|')"
	[ "$(stat -c %u:%g "$ws/new.txt" "$ws/sub" | sort -u)" = "$id:$id" ] ||
		fail "files made inside are not owned by $id on the host: $(stat -c '%n %u:%g' "$ws/new.txt" "$ws/sub")"
	run_sbx run --map-uid "$id" --map-gid "$id" --workspace "$ws:ro" -- sh -c 'cat /workspace/new.txt; echo x >/workspace/y'
	[ "$RC" != 0 ] && out_has inside && [ ! -e "$ws/y" ] || fail_out ":ro with --map-uid/--map-gid: not read-only or not readable"

	# a long-lived sandbox: accepted with the ids; refused at start once
	# the directory changed owner
	run_sbx create NM --map-uid "$id" --map-gid "$id" --workspace "$ws:rw"
	expect_rc 0 "create with --map-uid/--map-gid of the owner"
	run_sbx exec NM -- sh -c 'echo lived >/workspace/lived.txt'
	expect_rc 0 "exec in the ramfs workspace"
	[ "$(stat -c %u "$ws/lived.txt" 2>&1)" = "$id" ] || fail "lived.txt is not owned by $id"
	run_sbx stop NM
	expect_rc 0 "stop"
	chown "$((id + 1)):$((id + 1))" "$ws"
	run_sbx start NM
	ws_expect_refused "$ws" "start after the dir changed owner"
	run_sbx ls
	grep -E '^NM +running' "$T/out" && fail_out "a refused start left NM running"
	run_sbx rm -f NM
	expect_rc 0 "rm -f"
	[ -z "$(ls -A "$T/state/sandboxes" 2>/dev/null)" ] || fail "rm left state: $(ls -A "$T/state/sandboxes")"
}

# ---------------------------------------------------------------- writable root
# --writable-root: / is an overlay of the idmapped rootfs under a tmpfs
# upper layer (docs/runtime.md): root inside writes anywhere, the host's
# rootfs never changes, the tmpfs's size caps the writes.

# What a sandbox writes everywhere under /: one "label OK|ERR E" line each.
WR_PY=$FS_PY_PRELUDE'
import shutil
site = "/usr/local/lib/python3.11/site-packages/sbxwr"
attempt("W /etc/x", lambda: write("/etc/sbx-wr-x", b"etc"))
attempt("W /x", lambda: write("/sbx-wr-x"))
attempt("A /etc/passwd", lambda: write("/etc/passwd", b"wr:x:7:7::/:/bin/sh\n", "ab"))
attempt("CHMOD /etc/os-release", lambda: os.chmod("/etc/os-release", 0o600))
attempt("UNLINK /usr/bin/env", lambda: os.unlink("/usr/bin/env"))
attempt("MKDIR site", lambda: os.makedirs(site))
attempt("W site", lambda: write(site + "/__init__.py", b"V = 7\n"))
attempt("RMTREE /usr/share/doc", lambda: shutil.rmtree("/usr/share/doc"))
attempt("REMKDIR /usr/share/doc", lambda: os.mkdir("/usr/share/doc"))
attempt("RENAME /etc/hostname", lambda: os.rename("/etc/sbx-wr-x", "/etc/sbx-wr-y"))
attempt("RENAMEDIR /usr/share/zoneinfo", lambda: os.rename("/usr/share/zoneinfo", "/usr/share/zi"))
attempt("MKDIR /var/lib/sbxwr", lambda: os.mkdir("/var/lib/sbxwr"))
attempt("W /tmp/x", lambda: write("/tmp/sbx-wr-x"))
'

# Host-side fingerprint of the rootfs: content and metadata of a few files
# and directories the sandbox writes to.
wr_fingerprint() {
	(cd "$ROOTFS" && stat -c '%n %s %Y %a %u' . etc etc/passwd etc/os-release usr/bin usr/bin/env \
		usr/share/doc usr/local/lib var/lib && md5sum etc/passwd usr/bin/env) 2>&1
}

# wr_host_unchanged BEFORE: the fingerprint is BEFORE and nothing the
# sandboxes made is on the host.
wr_host_unchanged() {
	local now f
	now=$(wr_fingerprint)
	[ "$now" = "$1" ] || fail "the host's rootfs changed: $(diff <(echo "$1") <(echo "$now") | tr '\n' '|')"
	for f in etc/sbx-wr-x etc/sbx-wr-y sbx-wr-x usr/local/lib/python3.11/site-packages/sbxwr \
		var/lib/sbxwr usr/sbx-wr-big etc/sbx-wr-kept; do
		[ ! -e "$ROOTFS/$f" ] || fail "$ROOTFS/$f was created on the host"
	done
	[ -e "$ROOTFS/usr/bin/env" ] || fail "$ROOTFS/usr/bin/env was removed on the host"
}

# tmpfs has user xattrs (overlayfs's userxattr) from Linux 6.6.
wr_tmpfs_user_xattrs() {
	local v maj min
	v=$(uname -r)
	maj=${v%%.*}
	min=${v#*.}
	min=${min%%[!0-9]*}
	((maj > 6 || (maj == 6 && min >= 6)))
}

t_fs_writable_root_writes() {
	local before l bad=
	before=$(wr_fingerprint)
	run_sbx run --writable-root -- python3 -c "$WR_PY"'
print("ROOT_RO", ro("/"))
print("OWNER", os.stat("/etc/sbx-wr-y").st_uid, os.stat("/usr/local/lib/python3.11/site-packages/sbxwr").st_gid)
print("OLD_OWNER", os.stat("/etc/passwd").st_uid, os.stat("/usr/bin").st_uid)
print("READ", open("/etc/sbx-wr-y").read(), os.path.exists("/usr/bin/env"), os.listdir("/usr/share/doc"))
sys.path.insert(0, "/usr/local/lib/python3.11/site-packages")
import sbxwr
print("IMPORT", sbxwr.V)
print("CAPS", [l.split()[1] for l in open("/proc/self/status") if l.startswith("Cap")])
mi = {l.split()[4]: l.split(" - ")[1].split()[0] + " " + l.split()[5].split(",")[0] for l in open("/proc/self/mountinfo")}
print("MOUNTS", mi.get("/"), mi.get("/proc"), mi.get("/dev"), mi.get("/tmp"))
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)
print("MOUNT", r, errno.errorcode.get(ctypes.get_errno()))
'
	expect_rc 0
	local dirs_ok=1 doc="[]"
	wr_tmpfs_user_xattrs || dirs_ok=
	for l in "W /etc/x" "W /x" "A /etc/passwd" "CHMOD /etc/os-release" "UNLINK /usr/bin/env" \
		"MKDIR site" "W site" ${dirs_ok:+"RMTREE /usr/share/doc" "REMKDIR /usr/share/doc"} \
		"RENAME /etc/hostname" "MKDIR /var/lib/sbxwr" "W /tmp/x"; do
		[ "$(out_line "$l")" = OK ] || bad+=" $l: $(out_line "$l");"
	done
	# documented limits: a directory of the rootfs cannot be renamed (no
	# redirect_dir: EXDEV, mv copies), nor removed before Linux 6.6
	[ "$(out_line "RENAMEDIR /usr/share/zoneinfo")" = "ERR EXDEV" ] || bad+=" RENAMEDIR: $(out_line "RENAMEDIR /usr/share/zoneinfo");"
	if [ -z "$dirs_ok" ]; then
		[ "$(out_line "RMTREE /usr/share/doc")" = "ERR EIO" ] || bad+=" RMTREE (before 6.6): $(out_line "RMTREE /usr/share/doc");"
		note "Linux $(uname -r): no user xattrs on tmpfs, a directory of the rootfs cannot be removed (EIO, documented)"
		doc=
	fi
	[ -z "$bad" ] || fail_out "writes under / failed with --writable-root:$bad"
	[ "$(out_line ROOT_RO)" = False ] || fail_out "/ is still a read-only mount"
	[ "$(out_line OWNER)" = "0 0" ] || fail_out "files made inside are not owned by root inside: $(out_line OWNER)"
	[ "$(out_line OLD_OWNER)" = "0 0" ] || fail_out "the rootfs's own files are not root's inside: $(out_line OLD_OWNER)"
	case "$(out_line READ)" in
	"etc False ${doc:-[}"*) ;;
	*) fail_out "the writes do not read back: $(out_line READ)" ;;
	esac
	[ "$(out_line IMPORT)" = 7 ] || fail_out "a module written under /usr/local/lib does not import"
	# the capabilities of every sandbox's root (docs/security.md), no more
	[ "$(out_line CAPS)" = "['0000000000000000', '00000000000004fb', '00000000000004fb', '00000000000004fb', '0000000000000000']" ] ||
		fail_out "root inside has other capabilities with --writable-root: $(out_line CAPS)"
	[ "$(out_line MOUNTS)" = "overlay rw proc rw tmpfs ro tmpfs rw" ] || fail_out "mounts: $(out_line MOUNTS)"
	case $(out_line MOUNT) in
	"-1 EPERM" | "-1 EACCES" | "-1 ENOSYS") ;;
	*) fail_out "mount(2) inside is not denied: $(out_line MOUNT)" ;;
	esac
	wr_host_unchanged "$before"

	# the same writes without --writable-root: read-only (the /tmp one aside)
	run_sbx run -- python3 -c "$WR_PY"
	expect_rc 0
	for l in "W /etc/x" "W /x" "A /etc/passwd" "UNLINK /usr/bin/env" "MKDIR site" "MKDIR /var/lib/sbxwr"; do
		[ "$(out_line "$l")" = "ERR EROFS" ] || bad+=" $l: $(out_line "$l");"
	done
	[ -z "$bad" ] || fail_out "without --writable-root, writes under / did not fail with EROFS:$bad"
	[ "$(out_line "W /tmp/x")" = OK ] || fail_out "/tmp is not writable"
	wr_host_unchanged "$before"

	# the mount table names no host path (the layers are ".", "tmp/upper")
	local real
	real=$(readlink -f "$ROOTFS")
	run_sbx run --writable-root -- cat /proc/self/mountinfo
	expect_rc 0
	grep -qE ' / / rw,[^ ]* - overlay ' "$T/out" || fail_out "the root is not a writable overlay"
	if grep -F -e "$ROOTFS" -e "$real" -e "$(dirname "$real")" "$T/out"; then
		fail_out "mountinfo shows the rootfs's host path with --writable-root"
	fi
}

t_fs_writable_root_size_cap() {
	local before fill written
	before=$(wr_fingerprint)
	run_sbx run --writable-root=8M --memory 256M -- python3 -c "${TMP_FILL_PY//\/tmp\/big//usr/sbx-wr-big}"
	expect_rc 0
	fill=$(out_line FILL)
	case $fill in
	"ERR ENOSPC "*) ;;
	*) fail_out "--writable-root=8M: writing 20 MB gave '$fill', expected ENOSPC" ;;
	esac
	written=${fill##* }
	[ "$written" -le 8388608 ] || fail_out "wrote $written bytes into an 8M writable root"
	# /tmp's statvfs above: its own cap, untouched by --writable-root
	[ "$(out_line SIZE)" = 67108864 ] || fail_out "/tmp is $(out_line SIZE) bytes with --writable-root=8M"
	run_sbx run --writable-root=8M -- python3 -c 'import os; s = os.statvfs("/"); print("ROOT", s.f_blocks * s.f_frsize)'
	[ "$(out_line ROOT)" = 8388608 ] || fail_out "--writable-root=8M: / is $(out_line ROOT) bytes"
	run_sbx run --writable-root -- python3 -c 'import os; s = os.statvfs("/"); print("ROOT", s.f_blocks * s.f_frsize)'
	[ "$(out_line ROOT)" = $((256 << 20)) ] || fail_out "--writable-root: / is $(out_line ROOT) bytes, expected the 256M default"
	run_sbx run --writable-root=0 -- true
	expect_rc 125 "--writable-root=0"
	wr_host_unchanged "$before"
}

# A long-lived sandbox keeps its writes between execs (and across sbx
# processes: the config file holds root_size); a restart starts from the
# rootfs again (the upper layer is a tmpfs of the sandbox).
t_fs_writable_root_long_lived() {
	local before
	before=$(wr_fingerprint)
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	run_sbx create WR --writable-root=16M
	expect_rc 0 "create --writable-root"
	grep -qx 'root_size=16777216' "$T/state/sandboxes/WR/config" || fail "the config file does not keep root_size: $(grep root "$T/state/sandboxes/WR/config")"
	run_sbx exec WR -- sh -c 'echo kept >/etc/sbx-wr-kept && rm /usr/bin/env && mkdir -p /usr/local/lib/python3.11/site-packages/sbxwr'
	expect_rc 0 "exec: writing under /"
	run_sbx exec WR -- sh -c 'cat /etc/sbx-wr-kept; [ -e /usr/bin/env ] || echo ENV-GONE; ls -ld /usr/local/lib/python3.11/site-packages/sbxwr | cut -d" " -f3'
	expect_rc 0 "exec: reading back"
	[ "$(tr '\n' '|' <"$T/out")" = "kept|ENV-GONE|root|" ] || fail_out "the writes of one exec are not seen by the next"
	run_sbx exec WR -- sh -c 'head -c 32M /dev/zero >/usr/sbx-wr-big'
	if [ "$RC" = 0 ] || ! grep -q "No space left" "$T/err"; then
		fail_out "a 32M write into a 16M writable root did not fail with ENOSPC"
	fi
	wr_host_unchanged "$before"
	run_sbx stop WR
	expect_rc 0 "stop"
	run_sbx start WR
	expect_rc 0 "start"
	run_sbx exec WR -- sh -c '[ -e /etc/sbx-wr-kept ] && echo KEPT; [ -e /usr/bin/env ] && echo ENV; touch /etc/x && echo RW'
	expect_rc 0
	[ "$(tr '\n' '|' <"$T/out")" = "ENV|RW|" ] || fail_out "after a restart: not the rootfs again, or not writable"
	run_sbx rm -f WR
	expect_rc 0 "rm -f"
	wr_host_unchanged "$before"
}

# A pool with a writable root is made fresh (a fork of the zygote cannot
# get its own idmapped rootfs): each sandbox writes, none sees another's.
t_fs_writable_root_pool() {
	local before S=$T/p.sock end
	before=$(wr_fingerprint)
	sbx_start P pool serve --socket "$S" --size 1 --writable-root=8M
	end=$(($(now_us) + 60000000))
	until "$SBX" pool stats --socket "$S" 2>/dev/null | grep -qx 'idle 1'; do
		sbx_running P || fail "pool daemon exited: $(head -c 600 "$T/.runs/P.err")"
		(($(now_us) > end)) && fail "the pool did not reach 1 idle sandbox within 60 s"
		sleep 0.1
	done
	[ "$("$SBX" pool stats --socket "$S" | awk '$1 == "mode" {print $2}')" = fresh ] ||
		fail "a --writable-root pool is not in fresh mode: $("$SBX" pool stats --socket "$S" | tr '\n' ' ')"
	run_sbx run --pool "$S" -- sh -c '[ -e /etc/sbx-wr-x ] && echo SEEN; echo a >/etc/sbx-wr-x && rm /usr/bin/env && echo WROTE'
	expect_rc 0
	expect_stdout WROTE
	run_sbx run --pool "$S" -- sh -c '[ -e /etc/sbx-wr-x ] && echo SEEN; [ -e /usr/bin/env ] && echo ENV; echo b >/etc/sbx-wr-x && echo WROTE'
	expect_rc 0
	[ "$(tr '\n' '|' <"$T/out")" = "ENV|WROTE|" ] || fail_out "the second pooled sandbox saw the first one's writes"
	kill -TERM "$(sbx_pid P)"
	sbx_wait P 30
	expect_rc 0 "pool daemon after SIGTERM"
	wr_host_unchanged "$before"
}

# A rootfs whose file system cannot be idmapped (ramfs): --writable-root
# fails before the sandbox starts with one line (exit 125), never giving a
# root that cannot write.
t_fs_writable_root_no_idmap() {
	ws_ramfs rr
	local r=$WS_RAMFS d
	for d in proc dev tmp; do mkdir "$r/$d"; done
	run_sbx run --rootfs "$r" --writable-root -- /bin/true
	expect_rc 125 "--writable-root on a ramfs rootfs"
	if [ "$(wc -l <"$T/err")" != 1 ] || ! grep -q "writable root: .*(ramfs) cannot be idmapped" "$T/err"; then
		fail_out "not one line naming the idmapping: $(cat "$T/err")"
	fi
	[ -z "$(ls -A "$r/tmp")" ] || fail "the ramfs rootfs's /tmp got $(ls -A "$r/tmp")"
}
