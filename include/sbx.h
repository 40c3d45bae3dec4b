/* sbx — sandbox runtime for untrusted code. Public C API.
 *
 * Thread-safety: every function may be called from several threads at once
 * on distinct configs/results. sbx_run() blocks the calling thread until the
 * sandbox has ended and every resource it took has been released.
 */
#ifndef SBX_H
#define SBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SBX_VERSION "0.1.0"

/* Exit statuses shared by the CLI and sbx_result.exit_code. */
#define SBX_EXIT_TIMEOUT 124
#define SBX_EXIT_ERROR 125
#define SBX_EXIT_NOEXEC 126
#define SBX_EXIT_NOTFOUND 127

/* NONE: no interface but a down loopback. LOOPBACK: a private loopback.
 * EGRESS: a private loopback and user-mode networking (slirp4netns) to the
 * outside, filtered by net_allow (docs/network.md). */
typedef enum { SBX_NET_NONE = 0, SBX_NET_LOOPBACK = 1, SBX_NET_EGRESS = 2 } sbx_net_mode;

typedef enum { SBX_WS_NONE = 0, SBX_WS_RO = 1, SBX_WS_RW = 2 } sbx_ws_mode;

/* Error codes returned (negated) by the library. */
typedef enum {
	SBX_OK = 0,
	SBX_E_INVALID = 1,   /* bad configuration value */
	SBX_E_ROOTFS = 2,    /* rootfs missing or unusable */
	SBX_E_PRIVILEGE = 3, /* not root / lacking a capability */
	SBX_E_KERNEL = 4,    /* kernel lacks a feature */
	SBX_E_CGROUP = 5,    /* cgroup set-up failed */
	SBX_E_SETUP = 6,     /* namespace/mount set-up inside the sandbox failed */
	SBX_E_SYSTEM = 7,    /* other system error (out of memory, fds, ...) */
	SBX_E_NOTFOUND = 8,  /* named sandbox does not exist */
	SBX_E_EXISTS = 9,    /* named sandbox already exists */
	SBX_E_STATE = 10,    /* sandbox is not in a state allowing the operation */
	SBX_E_PATH = 11,     /* path escapes the sandbox or is unusable */
} sbx_errcode;

/* Error detail: a code, the errno behind it (0 if none) and one
 * human-readable line (no trailing newline), outermost context first:
 * "creating sandbox box1: cgroup memory: mkdir: Permission denied". */
typedef struct sbx_error {
	sbx_errcode code;
	int sys_errno;
	char msg[512];
} sbx_error;

/* Everything that describes one sandbox run. Initialise with
 * sbx_config_init() and override fields; strings are borrowed, not copied. */
/* map_uid/map_gid: a host id range of the sandbox's own, allocated per
 * sandbox and released when it is gone (docs/security.md). */
#define SBX_MAP_AUTO ((uid_t)-1)

typedef struct sbx_config {
	const char *rootfs;	    /* NULL: sbx_default_rootfs() */
	uint64_t memory_bytes;	    /* 0: unlimited. default 512M */
	uint32_t cpu_millis;	    /* 1000 = one CPU; 0: unlimited. default 1000 */
	uint32_t pids_max;	    /* 0: unlimited. default 100 */
	uint64_t timeout_ms;	    /* 0: none. default 30000 */
	uint64_t output_limit;	    /* per stream, bytes. default 100K */
	uint64_t tmp_size;	    /* /tmp tmpfs cap, bytes. default 64M */
	uint64_t fsize_limit;	    /* RLIMIT_FSIZE, bytes. default 1G */
	uint32_t nofile;	    /* RLIMIT_NOFILE. default 1024 */
	sbx_net_mode net;	    /* default SBX_NET_NONE */
	const char *workspace;	    /* host directory, NULL: none */
	sbx_ws_mode workspace_mode; /* default SBX_WS_NONE */
	const char *const *env;	    /* "K=V" strings added to the base env */
	size_t n_env;
	const char *cwd;	   /* absolute path inside; NULL: /workspace or /tmp */
	const char *hostname;	   /* NULL: "sandbox" */
	const char *cgroup_parent; /* NULL: the caller's own cgroup */
	uid_t map_uid;		   /* host uid root inside maps to; default SBX_MAP_AUTO */
	gid_t map_gid;		   /* host gid root inside maps to; default SBX_MAP_AUTO */
	uint32_t map_count;	   /* ids mapped (inside 0..count-1). default 65536 */
	const char *driver;	   /* "native" (NULL), "docker" or "podman" */
	const char *image;	   /* docker/podman image; NULL: "sbx-python:latest" */

	const char *const *argv; /* command, NULL-terminated; argv[0] looked up in PATH */

	int stdin_fd;  /* fd handed to the command as stdin; -1: /dev/null */
	int stdout_fd; /* >=0: stdout streamed there as it comes (capped) */
	int stderr_fd; /* >=0: stderr streamed there as it comes (capped) */
	bool capture;  /* keep stdout/stderr in sbx_result */
	int cancel_fd; /* >=0: readable => kill the sandbox (e.g. signalfd) */
	/* >=0: signal requests, forwarded to the command (its process group):
	 * a signalfd(2), or the read end of a pipe or socket to which
	 * sbx_signal_request() writes. stop_timeout_ms after the first one the
	 * sandbox is killed (result: cancelled). One fd per run. */
	int signal_fd;
	uint64_t stop_timeout_ms; /* default 10000; 0: kill right after forwarding */
	/* 0 (default): the root file system is read-only. >0: it is writable,
	 * as a container's: an overlay of the rootfs (idmapped, so root inside
	 * owns what host root owns) under an upper layer on a tmpfs of this
	 * many bytes, owned by the sandbox's root and gone with the sandbox.
	 * The host's rootfs is never written (docs/runtime.md). */
	uint64_t root_size;
	/* SBX_NET_EGRESS only (docs/network.md). net_allow: "HOST|CIDR[:PORT]"
	 * entries (HOST a name or "*.suffix", resolved through the sandbox's
	 * own resolver). None: every public IPv4 address, never the host's own,
	 * loopback, private or link-local ones. Given: only those. */
	const char *const *net_allow;
	size_t n_net_allow;
	/* "[HOSTIP:]HOSTPORT:PORT": TCP port HOSTPORT on the host's HOSTIP
	 * (default 127.0.0.1) forwarded to PORT inside. */
	const char *const *net_publish;
	size_t n_net_publish;
	/* "IP[:PORT]": where the sandbox's DNS queries go (from the host);
	 * NULL: the host's first nameserver in /etc/resolv.conf. */
	const char *net_dns;
} sbx_config;

/* The CLI's --writable-root without a size: the upper layer's tmpfs cap
 * (its pages count against memory_bytes, as /tmp's do). */
#define SBX_ROOT_SIZE_DEFAULT (256ull << 20)

typedef struct sbx_result {
	int exit_code; /* as the CLI exits: command's, 128+N, 124, ... */
	int signal;    /* signal that ended the command, 0 if none */
	bool timed_out;
	bool oom_killed;
	bool cancelled;	     /* ended because cancel_fd became readable, or still
				running stop_timeout_ms after a signal request */
	int received_signal; /* first signal requested on signal_fd, 0: none */
	char *stdout_buf;    /* captured bytes (raw, may be invalid UTF-8), NUL-terminated */
	size_t stdout_len;
	bool stdout_truncated;
	char *stderr_buf;
	size_t stderr_len;
	bool stderr_truncated;
	uint64_t duration_ms;
	uint64_t cpu_ms;
	uint64_t max_rss_kb;
} sbx_result;

/* Fill *cfg with the documented defaults. */
void sbx_config_init(sbx_config *cfg);

/* Run cfg->argv in a fresh sandbox and wait for it to end.
 * Returns 0 and fills *res (free with sbx_result_free) when the command ran
 * (whatever its exit status), or a negative sbx_errcode with *err filled
 * when sbx itself could not set the sandbox up. Nothing is left behind. */
int sbx_run(const sbx_config *cfg, sbx_result *res, sbx_error *err);

void sbx_result_free(sbx_result *res);

/* Ask the run or exec watching fd's read end (its signal_fd) to forward
 * signal sig to its command: writes one byte to fd (a pipe's or socket's
 * write end). Thread-safe and async-signal-safe (callable from a signal
 * handler). 0, or -SBX_E_INVALID for a bad signal (SIGKILL and SIGSTOP are
 * refused: use cancel_fd), -SBX_E_SYSTEM if the write failed. */
int sbx_signal_request(int fd, int sig);

/* The result as one JSON object (malloc'd, NUL-terminated; NULL on ENOMEM).
 * Invalid UTF-8 in captured output is replaced by U+FFFD. */
char *sbx_result_to_json(const sbx_result *res);

/* Short static description of an error code. */
const char *sbx_strerror(int code);

/* Default rootfs: $SBX_ROOTFS, else <exe dir>/../rootfs/python, else the
 * installed data dir. Returns a static string. */
const char *sbx_default_rootfs(void);

/* ---- Long-lived sandboxes ------------------------------------------------
 *
 * A named sandbox is created once and then runs many commands, keeps its
 * /tmp between them, and has a persistent workspace. A small supervisor
 * process (detached from the caller) owns its cgroups; the sandbox's init
 * serves exec and file requests on a Unix socket under the runtime dir.
 *
 * State: $SBX_STATE_DIR (default /var/lib/sbx) keeps sandboxes/NAME/config
 * and, unless a workspace directory is given, sandboxes/NAME/workspace;
 * $SBX_RUN_DIR (default /run/sbx) keeps NAME/state and NAME/ctl.sock.
 * Handles are cheap (a name and paths) and may be used from several
 * threads at once; every call opens its own connection. */

typedef struct sbx_sandbox sbx_sandbox;

typedef enum { SBX_STOPPED = 0, SBX_RUNNING = 1 } sbx_sandbox_state;

typedef struct sbx_exec_opts {
	const char *const *argv; /* command, NULL-terminated */
	const char *const *env;	 /* "K=V" added to the sandbox's environment */
	size_t n_env;
	const char *cwd;	  /* NULL: the sandbox's working directory */
	uint64_t timeout_ms;	  /* 0: none; kills this command's tree only */
	uint64_t output_limit;	  /* per stream; 0: 100K */
	int stdin_fd;		  /* -1: /dev/null */
	int stdout_fd, stderr_fd; /* >=0: stream there as it comes (capped) */
	bool capture;		  /* keep output in the result */
	int cancel_fd;		  /* >=0: readable => kill the command's tree */
	int signal_fd;		  /* as in sbx_config: forwarded to the command */
	uint64_t stop_timeout_ms; /* as in sbx_config; default 10000 */
} sbx_exec_opts;

typedef struct sbx_sandbox_info {
	char name[72];
	sbx_sandbox_state state;
	int64_t created;		       /* unix time */
	int64_t started;		       /* unix time of the last start, 0 if stopped */
	pid_t pid;			       /* supervisor pid, 0 if stopped */
	uint64_t memory_limit, memory_current; /* bytes */
	uint32_t cpu_millis, pids_max;
	int64_t pids_current; /* -1 if unknown */
	int64_t cpu_usage_us; /* -1 if unknown */
	uint64_t idle_timeout_ms;
	char workspace[4096];
	bool own_workspace;	/* workspace lives in the state dir */
	char workspace_mode[5]; /* "rw", "ro", "none" */
	/* The saved network configuration. The lists and net_dns (NULL: the
	 * host's resolver) are borrowed from sb: valid until it is closed. */
	sbx_net_mode net;
	const char *const *net_allow;
	size_t n_net_allow;
	const char *const *net_publish;
	size_t n_net_publish;
	const char *net_dns;
} sbx_sandbox_info;

void sbx_exec_opts_init(sbx_exec_opts *o);

/* Create NAME with cfg (argv ignored) and start it. Without a workspace in
 * cfg, the sandbox gets its own under the state dir, mounted rw. */
int sbx_sandbox_create(const char *name, const sbx_config *cfg, uint64_t idle_timeout_ms,
		       sbx_sandbox **out, sbx_error *err);
/* A handle on an existing sandbox (running or stopped). */
int sbx_sandbox_open(const char *name, sbx_sandbox **out, sbx_error *err);
void sbx_sandbox_close(sbx_sandbox *sb);

int sbx_sandbox_exec(sbx_sandbox *sb, const sbx_exec_opts *o, sbx_result *res, sbx_error *err);
/* Read a whole file (at most max bytes; 0: 10M) as the sandbox sees it. */
int sbx_sandbox_read_file(sbx_sandbox *sb, const char *path, uint64_t max, char **data, size_t *len,
			  sbx_error *err);
/* Create or atomically replace a file inside the sandbox. */
int sbx_sandbox_write_file(sbx_sandbox *sb, const char *path, const void *data, size_t len,
			   uint64_t max, sbx_error *err);
/* Bound each later read_file/write_file on this handle to timeout_ms as a
 * whole (connecting, the request, the transfer, the answer); 0: no bound.
 * Default 60000. A call past it fails with SBX_E_STATE. Set it before the
 * handle is shared between threads. */
void sbx_sandbox_set_io_timeout(sbx_sandbox *sb, uint64_t timeout_ms);
int sbx_sandbox_stop(sbx_sandbox *sb, sbx_error *err);
int sbx_sandbox_start(sbx_sandbox *sb, sbx_error *err);
/* Remove it; force stops it first. A host workspace directory is kept. */
int sbx_sandbox_destroy(sbx_sandbox *sb, bool force, sbx_error *err);
/* Remove sandbox `name`, as destroy. With force, also a broken one (no or
 * a corrupt config, a lock that is not a file), which sbx_sandbox_open
 * refuses with SBX_E_STATE: its live supervisor and cgroups are found
 * through the kernel and killed, its directory removed. */
int sbx_sandbox_remove(const char *name, bool force, sbx_error *err);
bool sbx_sandbox_is_running(sbx_sandbox *sb);
int sbx_sandbox_info_get(sbx_sandbox *sb, sbx_sandbox_info *info, sbx_error *err);
/* Names of all sandboxes (malloc'd array of malloc'd strings). */
int sbx_sandbox_list(char ***names, size_t *n, sbx_error *err);
void sbx_sandbox_list_free(char **names, size_t n);

/* ---- Running Python -------------------------------------------------------
 *
 * Runs source as __main__, exactly as `python3 FILE ARGS...` would (traceback
 * format, sys.exit codes, atexit, stdin). In a pool sandbox with a
 * pre-started interpreter the script starts without paying Python's start-up.
 * sbx_sandbox_python takes pool sandboxes (native: the pre-started
 * interpreter, started now if it is gone; docker/podman: python3 on a copy
 * of the script in /tmp); other sandboxes get SBX_E_STATE. */
typedef struct sbx_python_opts {
	const char *source; /* the script's text */
	size_t source_len;
	const char *filename;	 /* shown in tracebacks and sys.argv[0]; NULL: "<stdin>" */
	const char *const *args; /* sys.argv[1:], NULL-terminated (may be NULL) */
	sbx_exec_opts exec;	 /* env, cwd, timeout, output, stdio, cancel (argv unused) */
} sbx_python_opts;

void sbx_python_opts_init(sbx_python_opts *o);
int sbx_sandbox_python(sbx_sandbox *sb, const sbx_python_opts *o, sbx_result *res, sbx_error *err);
/* One-shot: a fresh sandbox from cfg (argv ignored) runs the script. */
int sbx_run_python(const sbx_config *cfg, const sbx_python_opts *o, sbx_result *res,
		   sbx_error *err);

/* ---- Warm pool --------------------------------------------------------------
 *
 * Keeps `size` sandboxes fully set up ahead of need (namespaces, mounts,
 * cgroup, seccomp filter ready, capabilities dropped), each waiting on its
 * control channel; in Python mode each already runs an initialised python3
 * blocked on reading a script. A background thread replenishes the pool,
 * recycles sandboxes older than max_idle_age_ms, drops any that died while
 * idle, and backs off after failures. A sandbox is handed out once: release
 * destroys it (or sbx_pool_release_named keeps it as a named sandbox).
 * Thread-safe. On docker/podman (tmpl.driver) pool sandboxes are containers
 * made ahead, without a pre-started interpreter. */
typedef struct sbx_pool sbx_pool;

typedef struct sbx_pool_config {
	sbx_config tmpl;	    /* every sandbox's configuration (argv ignored) */
	uint32_t size;		    /* idle sandboxes kept ready. default 2 */
	uint32_t max_total;	    /* idle + in use + being made or torn
				       down. default 64 */
	uint64_t max_idle_age_ms;   /* recycle idle ones older than this; 0: never */
	int64_t acquire_timeout_ms; /* none idle: one is created synchronously
				       below max_total; at max_total, -1: wait,
				       0: fail at once (default), >0: wait at
				       most this long */
	bool python;		    /* pre-started interpreter mode. default true */
	const char *preload;	    /* modules imported ahead, "json,re" */
	/* Pre-forked mode (native driver, python mode, no workspace): one
	 * zygote, a python3 started once with `preload` imported, forks every
	 * sandbox copy-on-write; each child then gets its own namespaces,
	 * host id range, cgroup, /tmp, seccomp filter and capabilities before
	 * any of the request runs. A zygote that dies is restarted. default
	 * true; false (or another driver, or a workspace): every sandbox
	 * starts its own python3 ("fresh"). */
	bool fork;
} sbx_pool_config;

typedef struct sbx_pool_stats {
	uint32_t idle, in_use;
	uint64_t created, destroyed, failures, acquired;
	double acquire_p50_ms, acquire_p95_ms; /* over the last 1024 acquisitions */
	char last_error[256];		       /* the latest replenish failure, "" if none */
	bool fork;			       /* pre-forked mode in effect */
	int zygote_pid;			       /* the zygote's host pid, 0: none now */
	uint64_t zygote_starts;		       /* zygotes started (restarts + 1) */
	uint32_t creating;		       /* sandboxes being made now */
	uint64_t waited;		       /* acquisitions that found none idle */
	double acquire_p99_ms;
} sbx_pool_stats;

void sbx_pool_config_init(sbx_pool_config *c);
int sbx_pool_create(const sbx_pool_config *c, sbx_pool **out, sbx_error *err);
/* timeout_ms as acquire_timeout_ms; SBX_POOL_DEFAULT uses the pool's. */
#define SBX_POOL_DEFAULT INT64_MIN
int sbx_pool_acquire(sbx_pool *p, int64_t timeout_ms, sbx_sandbox **out, sbx_error *err);
/* Destroy the sandbox (in the background) and free the handle. */
void sbx_pool_release(sbx_pool *p, sbx_sandbox *sb);
/* Keep the sandbox as the named sandbox `name` (like sbx create); frees the
 * handle. */
int sbx_pool_release_named(sbx_pool *p, sbx_sandbox *sb, const char *name, sbx_error *err);
void sbx_pool_get_stats(sbx_pool *p, sbx_pool_stats *st);
/* Destroy every sandbox of the pool, idle or handed out, and the pool. */
void sbx_pool_destroy(sbx_pool *p);

/* Remove what pools and one-shot runs killed with SIGKILL left behind
 * (empty sbx-<pid>-* cgroups of dead processes). Returns how many. */
int sbx_cleanup(sbx_error *err);

/* Parsers shared by the CLI and embedders. Return 0, or -1 on bad input. */
int sbx_parse_size(const char *s, uint64_t *out);	 /* 512M, 1G, 100K, 4096 */
int sbx_parse_duration(const char *s, uint64_t *out_ms); /* 500ms, 30s, 5m, 1h */
/* The longest duration sbx_parse_duration accepts (and any timeout may
 * be): 10 years, so that deadlines in nanoseconds never overflow. */
#define SBX_DURATION_MAX_MS (10ull * 365 * 24 * 3600 * 1000)
int sbx_parse_cpus(const char *s, uint32_t *out_millis); /* 0.5 -> 500 */

#ifdef __cplusplus
}
#endif
#endif
