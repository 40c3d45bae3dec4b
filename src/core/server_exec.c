/* Exec requests: a shim inside the sandbox runs the command as a child
 * subreaper, so everything the command starts stays its descendant and a
 * kill request can take down exactly that tree. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "base/fdutil.h"
#include "base/procfs.h"
#include "base/util.h"
#include "proto/proto.h"
#include "core/server.h"

/* The request fails: e's text to the client, and the end. */
static _Noreturn void refuse(int conn, const sbx_error *e)
{
	sbx_msg_send_error(conn, e, NULL);
	_exit(1);
}

static _Noreturn void refuse_malformed(int conn)
{
	sbx_error e;
	sbx_fail(&e, SBX_E_INVALID, "malformed exec request");
	refuse(conn, &e);
}

/* Split count NUL-terminated strings off *p (bounded by end). No malloc
 * anywhere in here: see sbx_map. */
static char **split(char **p, const char *end, uint32_t count)
{
	if (count > SBX_PROTO_MAX_ARGS)
		return NULL;
	char **v = sbx_map(((size_t)count + 1) * sizeof(char *));
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		char *z = memchr(*p, '\0', (size_t)(end - *p));
		if (!z)
			return NULL;
		v[i] = *p;
		*p = z + 1;
	}
	return v;
}

typedef struct proc_ent {
	pid_t pid, ppid;
	char state;
} proc_ent;

/* All processes visible in /proc, read with getdents64 (no opendir: it
 * allocates). Returns the count; *out is mapped memory of cap entries. */
static size_t list_procs(proc_ent **out, size_t cap)
{
	proc_ent *v = sbx_map(cap * sizeof(*v));
	size_t n = 0;
	int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char dbuf[16384] __attribute__((aligned(8)));
	long got;
	while (v && dfd >= 0 && (got = syscall(SYS_getdents64, dfd, dbuf, sizeof(dbuf))) > 0) {
		for (long off = 0; off < got && n < cap;) {
			struct dirent64 *e = (struct dirent64 *)(dbuf + off);
			off += e->d_reclen;
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			char path[64], buf[2048];
			snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
			sbx_procstat ps;
			if (sbx_read_fileat(AT_FDCWD, path, buf, sizeof(buf), NULL) <= 0 ||
			    sbx_procstat_parse(buf, &ps, NULL) < 0)
				continue;
			v[n++] = (proc_ent){.pid = ps.pid, .ppid = ps.ppid, .state = ps.state};
		}
	}
	if (dfd >= 0)
		close(dfd);
	*out = v;
	return n;
}

/* SIGKILL every live descendant of self, until none is left. Orphans
 * re-parent to us (we are a subreaper), so nothing escapes the walk. */
static void kill_tree(pid_t self)
{
	/* The sandbox's pids limit bounds what can exist; map room for it. */
	const size_t cap = 65536;
	for (int round = 0; round < 200; round++) {
		proc_ent *v = NULL;
		size_t n = list_procs(&v, cap);
		bool *in = sbx_map(cap * sizeof(bool));
		int live = 0;
		for (bool grew = true; in && grew;) {
			grew = false;
			for (size_t i = 0; i < n; i++) {
				if (in[i] || v[i].pid == self)
					continue;
				bool parent_in = v[i].ppid == self;
				for (size_t j = 0; !parent_in && j < n; j++)
					parent_in = in[j] && v[j].pid == v[i].ppid;
				if (parent_in)
					in[i] = grew = true;
			}
		}
		for (size_t i = 0; in && i < n; i++) {
			if (in[i] && v[i].state != 'Z' && v[i].state != 'X') {
				kill(v[i].pid, SIGKILL);
				live++;
			}
		}
		munmap(in, cap * sizeof(bool));
		munmap(v, cap * sizeof(proc_ent));
		if (live == 0)
			return;
		usleep(2000);
	}
}

static void send_status(int conn, int status, const struct rusage *ru)
{
	sbx_exec_status st = {
	    .wstatus = status,
	    .cpu_us = (int64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000 +
		      ru->ru_utime.tv_usec + ru->ru_stime.tv_usec,
	    .maxrss_kb = ru->ru_maxrss,
	};
	sbx_msg_send(conn, SBX_REP_STATUS, &st, sizeof(st), NULL, 0, NULL);
}

_Noreturn void sbx_serve_exec(const sbx_launch *l, int conn, const char *req, size_t n, int *fds,
			      int nfds)
{
	sbx_exec_req h;
	sbx_error e; /* on the stack: nothing here may allocate */
	if (n < 1 + sizeof(h) || nfds != 3)
		refuse_malformed(conn);
	memcpy(&h, req + 1, sizeof(h));
	if (h.argc == 0 || h.blob_len > SBX_PROTO_MAX_ARGS)
		refuse_malformed(conn);
	char *blob = sbx_map((size_t)h.blob_len + 1);
	int r = blob ? sbx_chunks_recv(conn, blob, h.blob_len, &e)
		     : sbx_fail_errno(&e, SBX_E_SYSTEM, ENOMEM, "map");
	if (r < 0) {
		sbx_error_wrap(&e, r, "exec request: cannot read arguments");
		refuse(conn, &e);
	}
	blob[h.blob_len] = '\0';
	char *p = blob, *end = blob + h.blob_len;
	char **argv = split(&p, end, h.argc);
	char **envp = argv ? split(&p, end, h.envc) : NULL;
	if (!envp || p > end)
		refuse_malformed(conn);

	sbx_launch lx = *l;
	lx.argv = argv;
	lx.envp = envp;
	lx.sock = conn; /* set-up errors of the command go to the client */
	if (p < end && *p)
		snprintf(lx.cwd, sizeof(lx.cwd), "%s", p);

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	pid_t self = getpid();
	/* SIGCHLD stays blocked (for the signalfd): the command clears its
	 * own mask before exec (sbx_workload_exec). */
	if (sfd < 0) {
		sbx_fail_errno(&e, SBX_E_SETUP, errno, "exec: signalfd");
		refuse(conn, &e);
	}
	pid_t cmd = sbx_spawn_workload(&lx, fds[0], fds[1], fds[2], &e);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	if (cmd < 0) {
		sbx_error_wrap(&e, cmd, "exec");
		refuse(conn, &e);
	}
	/* The shim only waits and kills from here on. */
	sbx_privs_drop_all(&l->privs, NULL); /* best effort: it only waits now */
	prctl(PR_SET_DUMPABLE, 0);
	int32_t inside = cmd;
	sbx_msg_send(conn, SBX_REP_STARTED, &inside, sizeof(inside), NULL, 0, NULL);

	bool done = false;
	for (bool first = true;; first = false) {
		struct pollfd pf[2] = {{sfd, POLLIN, 0}, {conn, POLLIN, 0}};
		/* A command that ended before we got here is reaped at once. */
		if (!first && poll(pf, conn >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (conn >= 0 && pf[1].revents) {
			char m[16];
			ssize_t k = sbx_msg_recv(conn, m, sizeof(m), NULL, NULL, 0, NULL);
			int32_t sig;
			if (k > 0 && m[0] == SBX_MSG_KILL) {
				kill_tree(self);
			} else if (k == 1 + (ssize_t)sizeof(sig) && m[0] == SBX_MSG_SIGNAL) {
				/* Passed on (sbx exec got SIGTERM...): to the
				 * command's process group (it called setsid). */
				memcpy(&sig, m + 1, sizeof(sig));
				if (!done && sbx_sig_forwardable(sig) && kill(-cmd, sig) < 0)
					kill(cmd, sig);
			} else if (k <= 0) {
				/* The client went away before the command ended
				 * (its timeout, its death): the tree goes too. */
				if (!done)
					kill_tree(self);
				sbx_closep(&conn);
			}
		}
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
		}
		int status;
		struct rusage ru;
		pid_t w;
		while ((w = wait4(-1, &status, WNOHANG | __WALL, &ru)) > 0) {
			if (w == cmd) {
				done = true;
				if (conn >= 0)
					send_status(conn, status, &ru);
			}
		}
		/* Background processes of the command may live on; we stay
		 * their reaper until the last one ends. */
		if (w < 0 && errno == ECHILD && done)
			_exit(0);
	}
	_exit(1);
}
