/* docker/podman driver: the engines' argument vectors, and small pure
 * helpers. Nothing here does I/O, so it is unit-tested directly. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "base/env.h"
#include "base/netspec.h"
#include "base/util.h"
#include "drivers/oci_int.h"

void sbx_strv_add(sbx_strv *a, const char *s)
{
	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **g = realloc(a->v, cap * sizeof(char *));
		if (!g) {
			a->oom = true;
			return;
		}
		a->v = g;
		a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s))) {
		a->oom = true;
		return;
	}
	a->v[++a->n] = NULL;
}

void sbx_strv_addf(sbx_strv *a, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->oom = true;
		return;
	}
	sbx_strv_add(a, s);
	free(s);
}

void sbx_strv_free(sbx_strv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The user's command runs under this wrapper: it reports that the
 * container (or exec session) really started, and its pid, on stderr;
 * everything the engine printed before that is the engine's, not the
 * command's. Then it becomes the command. Arguments are never
 * interpolated: they are the script's positional parameters. */
const char sbx_oci_wrap_script[] =
    "printf '" SBX_OCI_MARK "%s\\n' \"$$\" >&2\n"
    "case $1 in */*) ;; *) command -v \"$1\" >/dev/null 2>&1 || "
    "{ printf 'sbx: %s: command not found\\n' \"$1\" >&2; exit 127; } ;; esac\n"
    "exec \"$@\"\n";

/* Kill an exec'd command's tree: the engine makes each exec'd process a
 * session (and process group) leader, so SIGKILL its group and every
 * process still in its session. Processes that made their own session
 * escape this (the native runtime's subreaper walk catches them). */
const char sbx_oci_kill_script[] = "s=$1\n"
				   "for r in 1 2; do\n"
				   "kill -9 -\"$s\" \"$s\" 2>/dev/null\n"
				   "for f in /proc/[0-9]*/stat; do\n"
				   "{ read -r l <\"$f\"; } 2>/dev/null || continue\n"
				   "set -- ${l##*) }\n"
				   "[ \"$4\" = \"$s\" ] && kill -9 \"${l%% *}\" 2>/dev/null\n"
				   "done\n"
				   "done\n"
				   "exit 0\n";

/* read PATH MAX: exit 10 ENOENT, 11 EISDIR, 12 not a regular file, 13
 * too large, 14 read error, 16 stat error; the bytes on stdout. */
const char sbx_oci_read_script[] = "if [ ! -e \"$1\" ]; then exit 10; fi\n"
				   "if [ -d \"$1\" ]; then exit 11; fi\n"
				   "if [ ! -f \"$1\" ]; then exit 12; fi\n"
				   "s=$(stat -L -c %s -- \"$1\") || exit 16\n"
				   "[ \"$s\" -le \"$2\" ] || exit 13\n"
				   "cat -- \"$1\" || exit 14\n";

/* write PATH SUFFIX: stdin into PATH.sbx-tmp-SUFFIX, renamed over PATH
 * (atomic replace). 11 EISDIR, 14 create/write error, 15 rename error. */
const char sbx_oci_write_script[] =
    "if [ -d \"$1\" ]; then exit 11; fi\n"
    "t=\"$1.sbx-tmp-$2\"\n"
    "if ! cat >\"$t\"; then rm -f -- \"$t\"; exit 14; fi\n"
    "if ! mv -fT -- \"$t\" \"$1\"; then rm -f -- \"$t\"; exit 15; fi\n";

void sbx_oci_args_engine(sbx_strv *a, const char *engine, const sbx_oci_host *h)
{
	sbx_strv_add(a, engine);
	if (strcmp(engine, "podman") != 0)
		return;
	/* No systemd here to talk to and no journald to log to: plain cgroupfs
	 * and a file for events work everywhere, and every call of ours uses
	 * the same settings. */
	if (h && h->runtime) {
		sbx_strv_add(a, "--runtime");
		sbx_strv_add(a, h->runtime);
	}
	sbx_strv_add(a, "--cgroup-manager");
	sbx_strv_add(a, "cgroupfs");
	sbx_strv_add(a, "--events-backend");
	sbx_strv_add(a, "file");
}

/* The engines' --dns value (an address, no port) of cfg->net_dns; -1 if it
 * does not parse or has a port other than 53 (sbx_oci_net_check says
 * which). */
static int dns_arg(const char *v, char *out, size_t cap, sbx_error *err)
{
	sbx_net_dns d;
	if (sbx_net_dns_parse(v, &d, err) < 0)
		return -1;
	if (d.port != 53)
		return -1;
	return inet_ntop(d.family, d.addr, out, (socklen_t)cap) ? 0 : -1;
}

/* "[HOSTIP:]HOSTPORT:PORT" as the engines' -p takes it, always with the
 * host address (theirs is 0.0.0.0, sbx's 127.0.0.1). -1 if it does not
 * parse. */
static int publish_arg(const char *v, char *out, size_t cap, sbx_error *err)
{
	sbx_net_publish p;
	if (sbx_net_publish_parse(v, &p, err) < 0)
		return -1;
	const uint8_t *a = p.host_addr;
	int n =
	    snprintf(out, cap, "%u.%u.%u.%u:%u:%u", a[0], a[1], a[2], a[3], p.host_port, p.port);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int sbx_oci_net_check(const char *engine, const sbx_config *cfg, sbx_error *err)
{
	if (cfg->net != SBX_NET_EGRESS)
		return 0;
	if (cfg->n_net_allow)
		return sbx_fail(err, SBX_E_INVALID,
				"--allow is not available with the %s driver: %s cannot enforce "
				"an egress allowlist (use the native driver, or egress without "
				"--allow)",
				engine, engine);
	char buf[INET6_ADDRSTRLEN + 16];
	sbx_net_dns d;
	if (cfg->net_dns && sbx_net_dns_parse(cfg->net_dns, &d, err) < 0)
		return -SBX_E_INVALID;
	if (cfg->net_dns && d.port != 53)
		return sbx_fail(err, SBX_E_INVALID,
				"--dns %.64s: the %s driver cannot use a DNS port other than 53",
				cfg->net_dns, engine);
	for (size_t i = 0; i < cfg->n_net_publish; i++)
		if (publish_arg(cfg->net_publish[i], buf, sizeof(buf), err) < 0)
			return -SBX_E_INVALID;
	return 0;
}

/* --network and what goes with it: none has only lo (SBX_NET_NONE and
 * SBX_NET_LOOPBACK alike); egress is docker's default bridge, podman's
 * slirp4netns (user-mode, as the native driver's) without the host's
 * loopback nor IPv6. -1 on what sbx_oci_net_check refuses. */
static int add_net(sbx_strv *a, bool podman, const sbx_config *cfg)
{
	sbx_strv_add(a, "--network");
	if (cfg->net != SBX_NET_EGRESS) {
		sbx_strv_add(a, "none");
		return 0;
	}
	sbx_strv_add(a,
		     podman ? "slirp4netns:allow_host_loopback=false,enable_ipv6=false" : "bridge");
	if (cfg->n_net_allow)
		return -1;
	char buf[INET6_ADDRSTRLEN + 16];
	for (size_t i = 0; i < cfg->n_net_publish; i++) {
		if (publish_arg(cfg->net_publish[i], buf, sizeof(buf), NULL) < 0)
			return -1;
		sbx_strv_addf(a, "--publish=%s", buf);
	}
	if (cfg->net_dns) {
		if (dns_arg(cfg->net_dns, buf, sizeof(buf), NULL) < 0)
			return -1;
		sbx_strv_addf(a, "--dns=%s", buf);
	}
	return 0;
}

static void add_env(sbx_strv *a, char *const *env)
{
	for (; env && *env; env++) {
		sbx_strv_add(a, "-e");
		sbx_strv_add(a, *env);
	}
}

int sbx_oci_args_run(sbx_strv *a, const char *engine, const sbx_config *cfg, const sbx_oci_host *h,
		     const char *name, bool detached)
{
	bool podman = strcmp(engine, "podman") == 0;
	const char *host = cfg->hostname ? cfg->hostname : "sandbox";
	sbx_oci_args_engine(a, engine, h);
	sbx_strv_add(a, "run");
	sbx_strv_add(a, detached ? "-d" : "-i");
	sbx_strv_add(a, "--name");
	sbx_strv_add(a, name);
	sbx_strv_add(a, "--label");
	sbx_strv_add(a, "sbx=1");
	if (h->owner > 0) {
		sbx_strv_add(a, "--label");
		sbx_strv_addf(a, "sbx.pid=%d", (int)h->owner);
	}
	/* A local image only: never a pull (no network; a typo must fail fast). */
	sbx_strv_add(a, "--pull");
	sbx_strv_add(a, "never");
	/* An init as pid 1 forwards signals, reaps orphans and exits 128+N
	 * when the command dies of signal N (a command as pid 1 could not
	 * even SIGKILL itself). */
	sbx_strv_add(a, "--init");
	if (add_net(a, podman, cfg) < 0)
		return -1; /* caller checks: sbx_oci_net_check */
	if (cfg->memory_bytes) {
		sbx_strv_addf(a, "--memory=%llu", (unsigned long long)cfg->memory_bytes);
		sbx_strv_addf(a, "--memory-swap=%llu", (unsigned long long)cfg->memory_bytes);
	}
	if (cfg->cpu_millis)
		sbx_strv_addf(a, "--cpus=%u.%03u", cfg->cpu_millis / 1000, cfg->cpu_millis % 1000);
	if (cfg->pids_max)
		sbx_strv_addf(a, "--pids-limit=%u", cfg->pids_max);
	else
		sbx_strv_add(a, "--pids-limit=-1");
	if (!cfg->root_size) { /* else the engine's own writable layer, uncapped */
		sbx_strv_add(a, "--read-only");
		if (podman)
			sbx_strv_add(a, "--read-only-tmpfs=false"); /* only /tmp is writable */
	}
	sbx_strv_add(a, "--tmpfs");
	sbx_strv_addf(a, "/tmp:rw,exec,nosuid,nodev,size=%llu,mode=1777",
		      (unsigned long long)cfg->tmp_size);
	sbx_strv_add(a, "--cap-drop");
	sbx_strv_add(a, "ALL");
	sbx_strv_add(a, "--security-opt");
	sbx_strv_add(a, "no-new-privileges");
	sbx_strv_addf(a, "--user=%u:%u", (unsigned)h->uid, (unsigned)h->gid);
	sbx_strv_add(a, "--hostname");
	sbx_strv_add(a, host);
	sbx_strv_add(a, "--workdir");
	sbx_strv_add(a, cfg->cwd ? cfg->cwd : h->workspace ? "/workspace" : "/tmp");
	/* Explicit limits: the engines' defaults (podman: 1048576 open files
	 * and processes) may exceed what this host lets root raise them to. */
	sbx_strv_addf(a, "--ulimit=nofile=%u:%u", cfg->nofile, cfg->nofile);
	sbx_strv_addf(a, "--ulimit=nproc=%llu:%llu", (unsigned long long)h->nproc,
		      (unsigned long long)h->nproc);
	if (cfg->fsize_limit)
		sbx_strv_addf(a, "--ulimit=fsize=%llu:%llu", (unsigned long long)cfg->fsize_limit,
			      (unsigned long long)cfg->fsize_limit);
	sbx_strv_add(a, "--ulimit=core=0:0");
	/* Output goes to us only, never also into a log file on disk. */
	sbx_strv_add(a, "--log-driver");
	sbx_strv_add(a, "none");
	if (cfg->cgroup_parent) {
		sbx_strv_add(a, "--cgroup-parent");
		sbx_strv_add(a, cfg->cgroup_parent);
	}
	/* The environment is exactly the native one (base + cfg->env). */
	if (podman)
		sbx_strv_add(a, "--unsetenv-all");
	char **env = sbx_env_build(host, cfg->env, cfg->n_env);
	if (!env) {
		a->oom = true;
		return -1;
	}
	add_env(a, env);
	sbx_env_free(env);
	if (h->workspace) {
		if (strchr(h->workspace, ':'))
			return -1; /* caller checks; -v cannot express it */
		sbx_strv_add(a, "-v");
		sbx_strv_addf(a, "%s:/workspace:%s", h->workspace, h->workspace_ro ? "ro" : "rw");
	}
	sbx_strv_add(a, "--entrypoint");
	sbx_strv_add(a, "/bin/sh");
	sbx_strv_add(a, cfg->image ? cfg->image : SBX_OCI_DEFAULT_IMAGE);
	if (detached) {
		/* The idle process: the exec'd commands are the work. */
		sbx_strv_add(a, "-c");
		sbx_strv_add(a, "exec sleep infinity");
	} else {
		sbx_strv_add(a, "-c");
		sbx_strv_add(a, sbx_oci_wrap_script);
		sbx_strv_add(a, "sh");
		for (size_t i = 0; cfg->argv && cfg->argv[i]; i++)
			sbx_strv_add(a, cfg->argv[i]);
	}
	return a->oom ? -1 : 0;
}

int sbx_oci_args_exec(sbx_strv *a, const char *engine, const sbx_oci_host *h, const char *name,
		      char *const *env, const char *cwd, const char *const *argv)
{
	sbx_oci_args_engine(a, engine, h);
	sbx_strv_add(a, "exec");
	sbx_strv_add(a, "-i");
	add_env(a, env);
	if (cwd) {
		sbx_strv_add(a, "-w");
		sbx_strv_add(a, cwd);
	}
	sbx_strv_add(a, name);
	sbx_strv_add(a, "/bin/sh");
	sbx_strv_add(a, "-c");
	sbx_strv_add(a, sbx_oci_wrap_script);
	sbx_strv_add(a, "sh");
	for (size_t i = 0; argv && argv[i]; i++)
		sbx_strv_add(a, argv[i]);
	return a->oom ? -1 : 0;
}

void sbx_oci_args_sh(sbx_strv *a, const char *engine, const sbx_oci_host *h, const char *name,
		     bool interactive, const char *script, const char *const *args)
{
	sbx_oci_args_engine(a, engine, h);
	sbx_strv_add(a, "exec");
	if (interactive)
		sbx_strv_add(a, "-i");
	sbx_strv_add(a, name);
	sbx_strv_add(a, "/bin/sh");
	sbx_strv_add(a, "-c");
	sbx_strv_add(a, script);
	sbx_strv_add(a, "sh");
	for (size_t i = 0; args && args[i]; i++)
		sbx_strv_add(a, args[i]);
}

int sbx_oci_code(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return SBX_EXIT_ERROR;
}

int sbx_oci_signal_of(int code)
{
	return code > 128 && code <= 128 + 64 ? code - 128 : 0;
}

char *sbx_oci_trim(char *s)
{
	char *p = s;
	while (*p && isspace((unsigned char)*p))
		p++;
	size_t n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	memmove(s, p, n);
	s[n] = '\0';
	return s;
}

void sbx_oci_first_line(const char *text, size_t len, char *out, size_t cap)
{
	static const char *const prefixes[] = {
	    "Error: ", "error: ", "Error response from daemon: ", "docker: ", "podman: "};
	out[0] = '\0';
	if (!cap)
		return;
	const char *p = text, *end = text + len;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n >= cap)
			n = cap - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		/* Non-printable bytes would garble the one-line message. */
		for (char *q = out; *q; q++)
			if ((unsigned char)*q < 0x20)
				*q = ' ';
		sbx_oci_trim(out);
		/* Skip pull-progress chatter and warnings when there is more. */
		bool chatter = !strncmp(out, "WARN", 4) || !strncmp(out, "time=", 5);
		if (out[0] && !(chatter && nl && nl + 1 < end))
			break;
		out[0] = '\0';
		p = nl ? nl + 1 : NULL;
	}
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < ARRAY_LEN(prefixes); i++) {
			size_t pl = strlen(prefixes[i]);
			if (!strncmp(out, prefixes[i], pl)) {
				memmove(out, out + pl, strlen(out + pl) + 1);
				again = true;
			}
		}
	}
}
