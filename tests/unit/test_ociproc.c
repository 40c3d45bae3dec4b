/* Unit tests: src/ocirt/process*.c (the container process's last steps:
 * user, capabilities, rlimits, umask, no_new_privs, seccomp's moment, cwd,
 * fds, console, the PATH look-up) and src/ocirt/hooks.c. Each case forks
 * the process under test and reads what it reports from inside. The
 * user and capability cases need root (they are skipped otherwise). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sbx.h"
#include "base/util.h"
#include "ocirt/hooks.h"
#include "ocirt/process.h"
#include "ocirt/process_int.h"
#include "ocirt/seccomp.h"

/* Until seccomp.c (another change) is linked: the kernel call itself.
 * Weak, so the real one wins once it is there. */
__attribute__((weak)) int sbx_oci_seccomp_load(const struct sock_fprog *prog, unsigned flags,
					       sbx_error *err)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "seccomp");
	return 0;
}

#define CAP_BIT(c) (UINT64_C(1) << (c))
#define NET_BIND 10 /* CAP_NET_BIND_SERVICE */

/* A process description for /bin/sh -c script, env {PATH=/usr/bin:/bin},
 * everything else off. */
typedef struct proc_case {
	sbx_oci_process p;
	char *argv[4];
	char *envv[4];
	sbx_oci_exec_opts o;
} proc_case;

static void case_init(proc_case *c, const char *script)
{
	memset(c, 0, sizeof(*c));
	c->argv[0] = "sh";
	c->argv[1] = "-c";
	c->argv[2] = (char *)script;
	c->p.args = c->argv;
	c->p.n_args = 3;
	c->envv[0] = "PATH=/usr/bin:/bin";
	c->p.env = c->envv;
	c->p.n_env = 1;
	c->p.cwd = "/";
	c->o.console_sock = -1;
	c->o.keep_fd = -1;
}

/* What a run gave: the child's stdout, the error it reported (empty when
 * it exec'd) and its exit status. */
typedef struct run_result {
	char out[8192];
	char err[600];
	int status;
} run_result;

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (n += (size_t)r) >= cap - 1)
			break;
	}
	buf[n] = 0;
	return n;
}

/* Fork, run setup (may be NULL) in the child, then
 * sbx_oci_process_exec with stdout to a pipe and keep_fd an error pipe. */
static void run(proc_case *c, void (*setup)(proc_case *), run_result *res)
{
	int out[2], ep[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ep, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(ep[0]);
		dup2(out[1], 1);
		close(out[1]);
		int efd = fcntl(ep[1], F_DUPFD_CLOEXEC, 20);
		close(ep[1]);
		c->o.keep_fd = efd;
		if (setup)
			setup(c);
		sbx_error e;
		memset(&e, 0, sizeof(e));
		int r = sbx_oci_process_exec(&c->p, &c->o, &e);
		dprintf(efd, "%d %s", r, e.msg);
		_exit(127);
	}
	close(out[1]);
	close(ep[1]);
	read_all(out[0], res->out, sizeof(res->out));
	read_all(ep[0], res->err, sizeof(res->err));
	close(out[0]);
	close(ep[0]);
	assert_int_equal(waitpid(pid, &res->status, 0), pid);
}

/* The value after "Name:\t" in a /proc/PID/status text, up to the line end. */
static void status_field(const char *text, const char *name, char *val, size_t cap)
{
	char key[64];
	snprintf(key, sizeof(key), "\n%s:\t", name);
	const char *s = strstr(text, key);
	if (!s)
		fail_msg("no %s line in:\n%s", name, text);
	s += strlen(key);
	size_t n = strcspn(s, "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(val, s, n);
	val[n] = 0;
}

static void expect_field(const char *text, const char *name, const char *want)
{
	char v[256];
	status_field(text, name, v, sizeof(v));
	if (strcmp(v, want) != 0)
		fail_msg("%s: '%s', want '%s'", name, v, want);
}

static void expect_ok(const run_result *r)
{
	if (r->err[0])
		fail_msg("process_exec failed: %s", r->err);
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
		fail_msg("status %#x, output:\n%s", r->status, r->out);
}

static void expect_err(const run_result *r, const char *want)
{
	char w[600];
	snprintf(w, sizeof(w), "-%d %s", SBX_E_SETUP, want);
	if (strcmp(r->err, w) != 0)
		fail_msg("error '%s', want '%s'", r->err, w);
	assert_true(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 127);
}

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (geteuid() != 0)                                                                \
			skip();                                                                    \
	} while (0)

/* The prefix of /proc/self/status a process sees of itself, plus its
 * rlimits, umask and cwd. */
static const char STATUS_SCRIPT[] =
    "echo; cat /proc/self/status; echo \"nofile=$(ulimit -n)/$(ulimit -Hn)\"; "
    "echo \"umask=$(umask)\"; echo \"cwd=$(pwd)\"; printf 'home:\\t%s\\n' \"$HOME\"";

static void test_user_caps(void **state)
{
	NEED_ROOT();
	proc_case c;
	case_init(&c, STATUS_SCRIPT);
	c.p.uid = 1000;
	c.p.gid = 1001;
	uint32_t groups[] = {10, 20};
	c.p.additional_gids = groups;
	c.p.n_additional_gids = 2;
	c.p.has_caps = true;
	for (int i = 0; i < SBX_OCI_CAP_NSETS; i++)
		c.p.caps[i] = CAP_BIT(NET_BIND);
	c.p.no_new_privileges = true;
	sbx_oci_rlimit rl = {.resource = RLIMIT_NOFILE, .soft = 100, .hard = 200};
	c.p.rlimits = &rl;
	c.p.n_rlimits = 1;
	c.p.has_umask = true;
	c.p.umask = 027;
	c.p.cwd = "/tmp";
	run_result r;
	run(&c, NULL, &r);
	expect_ok(&r);
	expect_field(r.out, "Uid", "1000\t1000\t1000\t1000");
	expect_field(r.out, "Gid", "1001\t1001\t1001\t1001");
	expect_field(r.out, "Groups", "10 20 ");
	expect_field(r.out, "CapInh", "0000000000000400");
	expect_field(r.out, "CapPrm", "0000000000000400");
	expect_field(r.out, "CapEff", "0000000000000400");
	expect_field(r.out, "CapBnd", "0000000000000400");
	expect_field(r.out, "CapAmb", "0000000000000400");
	expect_field(r.out, "NoNewPrivs", "1");
	assert_non_null(strstr(r.out, "\nnofile=100/200\n"));
	assert_non_null(strstr(r.out, "\numask=0027\n"));
	assert_non_null(strstr(r.out, "\ncwd=/tmp\n"));
	/* HOME from /etc/passwd (cloudsdk's here, or "/" when 1000 has none). */
	char home[300];
	status_field(r.out, "home", home, sizeof(home));
	FILE *f = fopen("/etc/passwd", "r");
	assert_non_null(f);
	char line[512], want[300] = "/";
	while (fgets(line, sizeof(line), f)) {
		char *fl[7] = {line};
		int nf = 1;
		for (char *q = line; *q && nf < 7; q++)
			if (*q == ':') {
				*q = 0;
				fl[nf++] = q + 1;
			}
		if (nf == 7 && !strcmp(fl[2], "1000") && *fl[5]) {
			snprintf(want, sizeof(want), "%s", fl[5]);
			break;
		}
	}
	fclose(f);
	assert_string_equal(home, want);
}

/* Root with no capabilities at all, no_new_privs off, default umask, no
 * extra groups. */
static void test_no_caps(void **state)
{
	NEED_ROOT();
	proc_case c;
	case_init(&c, STATUS_SCRIPT);
	run_result r;
	run(&c, NULL, &r);
	expect_ok(&r);
	expect_field(r.out, "Uid", "0\t0\t0\t0");
	char g[64];
	status_field(r.out, "Groups", g, sizeof(g));
	if (strspn(g, " ") != strlen(g))
		fail_msg("Groups: '%s', want none", g);
	expect_field(r.out, "CapEff", "0000000000000000");
	expect_field(r.out, "CapPrm", "0000000000000000");
	expect_field(r.out, "CapBnd", "0000000000000000");
	expect_field(r.out, "NoNewPrivs", "0");
	assert_non_null(strstr(r.out, "\numask=0022\n"));
}

/* Capabilities the kernel does not have (above cap_last_cap) are ignored. */
static void test_caps_above_last(void **state)
{
	NEED_ROOT();
	proc_case c;
	case_init(&c, STATUS_SCRIPT);
	c.p.has_caps = true;
	for (int i = 0; i < SBX_OCI_CAP_NSETS; i++)
		c.p.caps[i] = CAP_BIT(NET_BIND) | CAP_BIT(63);
	run_result r;
	run(&c, NULL, &r);
	expect_ok(&r);
	expect_field(r.out, "CapEff", "0000000000000400");
	expect_field(r.out, "CapBnd", "0000000000000400");
}

static void test_rlimit_errors(void **state)
{
	proc_case c;
	case_init(&c, "exit 0");
	sbx_oci_rlimit rl = {.resource = RLIMIT_NOFILE, .soft = 300, .hard = 200};
	c.p.rlimits = &rl;
	c.p.n_rlimits = 1;
	run_result r;
	run(&c, NULL, &r);
	expect_err(&r, "setrlimit RLIMIT_NOFILE: Invalid argument");

	/* Above our hard limit: refused without CAP_SYS_RESOURCE (this host's
	 * case, as podman's default 1048576 is here). */
	struct rlimit cur;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &cur), 0);
	if (cur.rlim_max == RLIM_INFINITY || setrlimit(RLIMIT_NOFILE, &cur) != 0)
		return;
	FILE *f = fopen("/proc/self/status", "r");
	assert_non_null(f);
	char line[256];
	unsigned long long eff = 0;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "CapEff: %llx", &eff);
	fclose(f);
	if (eff & CAP_BIT(24)) /* CAP_SYS_RESOURCE: raising would work */
		return;
	rl.soft = rl.hard = cur.rlim_max + 1;
	run(&c, NULL, &r);
	expect_err(&r, "setrlimit RLIMIT_NOFILE: Operation not permitted");
}

static void test_path_lookup(void **state)
{
	proc_case c;
	/* Found in the process's PATH, not ours. */
	case_init(&c, "echo \"PATH=$PATH\"");
	c.envv[0] = "PATH=/nonexistent::/bin";
	run_result r;
	run(&c, NULL, &r);
	expect_ok(&r);
	assert_string_equal(r.out, "PATH=/nonexistent::/bin\n");

	case_init(&c, "exit 0");
	c.envv[0] = "PATH=/nonexistent:/proc";
	run(&c, NULL, &r);
	expect_err(&r, "exec: \"sh\": executable file not found in $PATH");

	/* A directory of that name is not an executable; a file without x
	 * neither. */
	char dir[] = "/tmp/ociproc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[64], plain[64], path[200];
	snprintf(sub, sizeof(sub), "%s/sh", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(plain, sizeof(plain), "%s/x/sh", dir);
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	int fd = open(plain, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "PATH=%s:%s/x", dir, dir);
	case_init(&c, "exit 0");
	c.envv[0] = path;
	run(&c, NULL, &r);
	expect_err(&r, "exec: \"sh\": executable file not found in $PATH");
	/* ... and with /bin after them, /bin's. */
	snprintf(path, sizeof(path), "PATH=%s:%s/x:/bin", dir, dir);
	case_init(&c, "echo found");
	c.envv[0] = path;
	run(&c, NULL, &r);
	expect_ok(&r);
	assert_string_equal(r.out, "found\n");
	unlink(plain);
	snprintf(path, sizeof(path), "%s/x", dir);
	rmdir(path);
	rmdir(sub);
	rmdir(dir);

	/* A name with a slash is not looked up; a missing one is execve's
	 * error. */
	case_init(&c, "exit 0");
	c.argv[0] = "/nonexistent/sh";
	run(&c, NULL, &r);
	expect_err(&r, "exec /nonexistent/sh: No such file or directory");

	/* No PATH in the env: the usual default finds sh; its env has only
	 * the HOME added (root's in /etc/passwd). */
	case_init(&c, "tr '\\0' '\\n' < /proc/$$/environ");
	c.envv[0] = NULL;
	run(&c, NULL, &r);
	expect_ok(&r);
	assert_string_equal(r.out, "HOME=/root\n");
	/* A HOME of its own is kept. */
	case_init(&c, "tr '\\0' '\\n' < /proc/$$/environ");
	c.envv[0] = "HOME=/elsewhere";
	c.envv[1] = "PATH=/bin";
	run(&c, NULL, &r);
	expect_ok(&r);
	assert_string_equal(r.out, "HOME=/elsewhere\nPATH=/bin\n");
}

static void expect_home(const char *passwd, uint32_t uid, const char *want)
{
	char *h = sbx_oci_home_from_passwd(passwd, strlen(passwd), uid);
	assert_non_null(h);
	if (strcmp(h, want) != 0)
		fail_msg("uid %u: '%s', want '%s'", uid, h, want);
	free(h);
}

static void test_home_from_passwd(void **state)
{
	const char *pw = "root:x:0:0:root:/root:/bin/bash\n"
			 "# comment\n"
			 "bad line\n"
			 "short:x:7\n"
			 "neg:x:-5:0::/neg:/bin/sh\n"
			 "nohome:x:8:8::\n"
			 "u:x:1000:1000::/home/u:/bin/bash\n"
			 "dup:x:1000:1000::/home/dup:/bin/bash\n"
			 "last:x:4294967295:1::/last";
	expect_home(pw, 0, "HOME=/root");
	expect_home(pw, 1000, "HOME=/home/u");
	expect_home(pw, 7, "HOME=/");
	expect_home(pw, 8, "HOME=/");
	expect_home(pw, 4294967295u, "HOME=/last");
	expect_home(pw, 4294967291u, "HOME=/");
	expect_home(pw, 5, "HOME=/");
	expect_home("", 0, "HOME=/");
	/* Not NUL-terminated: only len bytes are read. */
	expect_home("a:x:3:3::/three", 0, "HOME=/");
	char *h = sbx_oci_home_from_passwd("a:x:3:3::/threeXYZ", 15, 3);
	assert_string_equal(h, "HOME=/three");
	free(h);
}

static void test_cwd_missing(void **state)
{
	proc_case c;
	case_init(&c, "exit 0");
	c.p.cwd = "/nonexistent-ociproc";
	run_result r;
	run(&c, NULL, &r);
	expect_err(&r, "chdir to cwd (\"/nonexistent-ociproc\") set in config.json failed: No "
		       "such file or directory");
}

static void test_apparmor_selinux(void **state)
{
	proc_case c;
	case_init(&c, "exit 0");
	c.p.apparmor_profile = "docker-default";
	run_result r;
	run(&c, NULL, &r);
	expect_err(&r, "process.apparmorProfile is not supported");
	case_init(&c, "exit 0");
	c.p.selinux_label = "system_u:system_r:container_t:s0";
	run(&c, NULL, &r);
	expect_err(&r, "process.selinuxLabel is not supported");
}

/* fd 3 (preserved, CLOEXEC before), fd 4 and 5 (not preserved): only 0-3
 * reach the program; keep_fd (20 or above) is open until exec. */
static void setup_fds(proc_case *c)
{
	int fd = fcntl(open("/dev/null", O_RDONLY | O_CLOEXEC), F_DUPFD_CLOEXEC, 30);
	dup3(fd, 3, O_CLOEXEC);
	dup2(fd, 4);
	dup2(fd, 5);
	close(fd);
	c->o.preserve_fds = 1;
	/* keep_fd still open here: the process_exec's error would go there. */
	if (fcntl(c->o.keep_fd, F_GETFD) < 0)
		_exit(99);
}

static void test_fds(void **state)
{
	proc_case c;
	case_init(&c, "for f in 3 4 5 6 7 8 9 10 20 21 22 23; do [ -e /proc/self/fd/$f ] && "
		      "echo \"open $f\"; done; exit 0");
	run_result r;
	run(&c, setup_fds, &r);
	expect_ok(&r);
	assert_string_equal(r.out, "open 3\n");
}

/* A filter failing capset with EPERM: without no_new_privs it is loaded
 * before the capabilities are set (so that fails); with it, after. */
static const struct sock_filter DENY_CAPSET[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_capset, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static void test_seccomp_moment(void **state)
{
	NEED_ROOT();
	struct sock_fprog prog = {.len = ARRAY_LEN(DENY_CAPSET),
				  .filter = (struct sock_filter *)DENY_CAPSET};
	proc_case c;
	case_init(&c, STATUS_SCRIPT);
	c.o.seccomp = &prog;
	c.p.uid = 1000;
	c.p.gid = 1000;
	c.p.no_new_privileges = true;
	run_result r;
	run(&c, NULL, &r);
	expect_ok(&r);
	expect_field(r.out, "Seccomp", "2");
	expect_field(r.out, "NoNewPrivs", "1");
	expect_field(r.out, "CapPrm", "0000000000000000");

	case_init(&c, STATUS_SCRIPT);
	c.o.seccomp = &prog;
	c.p.uid = 1000;
	c.p.gid = 1000;
	run(&c, NULL, &r);
	expect_err(&r, "capset: Operation not permitted");

	/* Without no_new_privs as uid 1000: still loaded (while root could). */
	static const struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog all = {.len = 1, .filter = (struct sock_filter *)allow};
	case_init(&c, STATUS_SCRIPT);
	c.o.seccomp = &all;
	c.p.uid = 1000;
	c.p.gid = 1000;
	run(&c, NULL, &r);
	expect_ok(&r);
	expect_field(r.out, "Seccomp", "2");
	expect_field(r.out, "NoNewPrivs", "0");
	expect_field(r.out, "Uid", "1000\t1000\t1000\t1000");
}

/* The pty: its master arrives on the console socket with "/dev/ptmx";
 * the program's 0-2 are the slave, its controlling terminal. */
static void console_run(bool bind_console)
{
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	proc_case c;
	case_init(&c,
		  "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo TTY; [ \"$(ps -o tty= -p $$)\" != "
		  "'?' ] && echo CTTY; [ \"$(stat -c %t:%T /dev/console)\" = \"$(stat -L -c %t:%T "
		  "/proc/self/fd/0)\" ] && echo CONSOLE; exit 0");
	c.p.terminal = true;
	c.o.console_sock = sp[1];
	c.o.console_mount = bind_console;
	run_result r;
	int out[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sp[0]);
		/* The bind over /dev/console in a mount namespace of this child's. */
		if (bind_console && (unshare(CLONE_NEWNS) < 0 ||
				     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
			_exit(98);
		sbx_error e;
		int rr = sbx_oci_process_exec(&c.p, &c.o, &e);
		dprintf(out[1], "%d %s", rr, e.msg);
		_exit(127);
	}
	close(sp[1]);
	close(out[1]);
	char data[32] = {0};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data) - 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(sp[0], &m, MSG_CMSG_CLOEXEC);
	close(sp[0]);
	if (n <= 0) {
		read_all(out[0], r.err, sizeof(r.err));
		fail_msg("no console fd: %s", r.err);
	}
	assert_string_equal(data, "/dev/ptmx");
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	unsigned ptn;
	assert_int_equal(ioctl(master, TIOCGPTN, &ptn), 0); /* a master, not a slave */
	/* Read until the slave's last holder is gone (EIO), with a deadline. */
	size_t len = 0;
	for (;;) {
		struct pollfd pf = {.fd = master, .events = POLLIN};
		if (poll(&pf, 1, 5000) <= 0)
			break;
		ssize_t k = read(master, r.out + len, sizeof(r.out) - 1 - len);
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	r.out[len] = 0;
	close(master);
	read_all(out[0], r.err, sizeof(r.err));
	close(out[0]);
	assert_int_equal(waitpid(pid, &r.status, 0), pid);
	expect_ok(&r);
	assert_non_null(strstr(r.out, "TTY\r\n"));
	assert_non_null(strstr(r.out, "CTTY\r\n"));
	if (bind_console)
		assert_non_null(strstr(r.out, "CONSOLE\r\n"));
	else
		assert_null(strstr(r.out, "CONSOLE"));
}

static void test_console(void **state)
{
	console_run(false);
}

static void test_console_mount(void **state)
{
	NEED_ROOT();
	console_run(true);
}

static void test_console_no_socket(void **state)
{
	proc_case c;
	case_init(&c, "exit 0");
	c.p.terminal = true;
	run_result r;
	run(&c, NULL, &r);
	expect_err(&r, "process.terminal is set but there is no console socket");
}

/* ---- hooks ---- */

static sbx_oci_hook sh_hook(char **argv, char **env, int timeout)
{
	sbx_oci_hook h = {.path = "/bin/sh", .args = argv, .env = env, .timeout = timeout};
	return h;
}

static void test_hook_stdin_env(void **state)
{
	char tmp[] = "/tmp/ociproc-hook-XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	char script[256];
	snprintf(script, sizeof(script),
		 "{ cat; echo; head -c 6 /proc/$$/cmdline; echo \" $0 FOO=$FOO\"; } > %s", tmp);
	char *argv[] = {"myhook", "-c", script, "arg1", NULL};
	char *env[] = {"FOO=bar", "PATH=/usr/bin:/bin", NULL};
	sbx_oci_hook h[2] = {sh_hook(argv, env, 5), sh_hook(argv, env, 0)};
	h[1].args = (char *[]){"second", "-c", "exit 0", NULL};
	sbx_error e;
	memset(&e, 0, sizeof(e));
	int r = sbx_oci_hooks_run("prestart", h, 2, "{\"ociVersion\":\"1.0.2\",\"id\":\"x\"}", &e);
	if (r != 0)
		fail_msg("%s", e.msg);
	char got[512];
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	read_all(fd, got, sizeof(got));
	close(fd);
	unlink(tmp);
	assert_string_equal(got, "{\"ociVersion\":\"1.0.2\",\"id\":\"x\"}\nmyhook arg1 FOO=bar\n");
}

static void test_hook_no_env(void **state)
{
	char *argv[] = {"sh", "-c",
			"[ -z \"$(env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v "
			"'^_=')\" ] || exit 3",
			NULL};
	sbx_oci_hook h = sh_hook(argv, NULL, 5);
	/* sh without PATH: env and grep through its default path. */
	sbx_error e;
	memset(&e, 0, sizeof(e));
	int r = sbx_oci_hooks_run("poststart", &h, 1, "{}", &e);
	if (r != 0)
		fail_msg("%s", e.msg);
}

static void test_hook_fails(void **state)
{
	char *argv[] = {"sh", "-c", "exit 1", NULL};
	char *ok[] = {"sh", "-c", "exit 0", NULL};
	char tmp[] = "/tmp/ociproc-hook-XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	unlink(tmp);
	char script[128];
	snprintf(script, sizeof(script), "touch %s", tmp);
	char *after[] = {"sh", "-c", script, NULL};
	sbx_oci_hook h[3] = {sh_hook(ok, NULL, 0), sh_hook(argv, NULL, 0), sh_hook(after, NULL, 0)};
	sbx_error e;
	memset(&e, 0, sizeof(e));
	assert_int_equal(sbx_oci_hooks_run("createRuntime", h, 3, "{}", &e), -SBX_E_SETUP);
	assert_string_equal(e.msg, "createRuntime hook /bin/sh: exit status 1");
	assert_int_equal(access(tmp, F_OK), -1); /* the rest did not run */

	sbx_oci_hook missing = {.path = "/nonexistent/hook"};
	assert_int_equal(sbx_oci_hooks_run("poststop", &missing, 1, "{}", &e), -SBX_E_SETUP);
	assert_string_equal(e.msg, "poststop hook /nonexistent/hook: exit status 127");

	char *killed[] = {"sh", "-c", "kill -TERM $$", NULL};
	sbx_oci_hook k = sh_hook(killed, NULL, 0);
	assert_int_equal(sbx_oci_hooks_run("prestart", &k, 1, "{}", &e), -SBX_E_SETUP);
	assert_string_equal(e.msg, "prestart hook /bin/sh: killed by signal 15");
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_hook_timeout(void **state)
{
	char *argv[] = {"sh", "-c", "exec sleep 30", NULL};
	sbx_oci_hook h = sh_hook(argv, NULL, 1);
	sbx_error e;
	memset(&e, 0, sizeof(e));
	double t0 = now_s();
	assert_int_equal(sbx_oci_hooks_run("prestart", &h, 1, "{}", &e), -SBX_E_SETUP);
	double dt = now_s() - t0;
	assert_string_equal(e.msg, "prestart hook /bin/sh: timed out after 1 s");
	if (dt < 0.9 || dt > 2.5)
		fail_msg("took %.2f s", dt);
	/* Killed and reaped: no child of ours is left. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* A hook that never reads its stdin and a state far bigger than a pipe
 * holds: it runs to its end, we do not block. */
static void test_hook_big_state_unread(void **state)
{
	size_t big = 4u << 20;
	char *s = malloc(big + 1);
	assert_non_null(s);
	memset(s, 'x', big);
	s[big] = 0;
	char *argv[] = {"sh", "-c", "sleep 0.2; exit 0", NULL};
	sbx_oci_hook h = sh_hook(argv, NULL, 5);
	sbx_error e;
	memset(&e, 0, sizeof(e));
	double t0 = now_s();
	int r = sbx_oci_hooks_run("prestart", &h, 1, s, &e);
	double dt = now_s() - t0;
	if (r != 0)
		fail_msg("%s", e.msg);
	if (dt > 2)
		fail_msg("took %.2f s", dt);
	/* A hook that reads it all gets it all. */
	char *wc[] = {"sh", "-c", "[ \"$(wc -c)\" = 4194304 ] || exit 4", NULL};
	h = sh_hook(wc, (char *[]){"PATH=/usr/bin:/bin", NULL}, 10);
	r = sbx_oci_hooks_run("prestart", &h, 1, s, &e);
	if (r != 0)
		fail_msg("%s", e.msg);
	/* One that closes its stdin at once: no SIGPIPE for us. */
	char *closer[] = {"sh", "-c", "exec 0<&-; sleep 0.1", NULL};
	h = sh_hook(closer, NULL, 5);
	r = sbx_oci_hooks_run("prestart", &h, 1, s, &e);
	if (r != 0)
		fail_msg("%s", e.msg);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_caps),
	    cmocka_unit_test(test_no_caps),
	    cmocka_unit_test(test_caps_above_last),
	    cmocka_unit_test(test_rlimit_errors),
	    cmocka_unit_test(test_path_lookup),
	    cmocka_unit_test(test_home_from_passwd),
	    cmocka_unit_test(test_cwd_missing),
	    cmocka_unit_test(test_apparmor_selinux),
	    cmocka_unit_test(test_fds),
	    cmocka_unit_test(test_seccomp_moment),
	    cmocka_unit_test(test_console),
	    cmocka_unit_test(test_console_mount),
	    cmocka_unit_test(test_console_no_socket),
	    cmocka_unit_test(test_hook_stdin_env),
	    cmocka_unit_test(test_hook_no_env),
	    cmocka_unit_test(test_hook_fails),
	    cmocka_unit_test(test_hook_timeout),
	    cmocka_unit_test(test_hook_big_state_unread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
