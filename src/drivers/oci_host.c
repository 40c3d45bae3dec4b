/* docker/podman driver: what the host needs (runtime choice, limits the
 * engine may set, workspace ownership), health and error diagnosis. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "base/procfs.h"
#include "base/util.h"
#include "drivers/oci_int.h"
#include "base/parse.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int sbx_oci_check_engine(const char *engine, sbx_error *err)
{
	if (engine && (!strcmp(engine, "docker") || !strcmp(engine, "podman")))
		return 0;
	return sbx_fail(err, SBX_E_INVALID, "unknown driver '%s' (native, docker or podman)",
			engine ? engine : "");
}

int sbx_oci_cname(const char *name, char *out, size_t cap, sbx_error *err)
{
	if (!name || sbx_valid_name(name, NULL) < 0)
		return sbx_fail(err, SBX_E_INVALID, "invalid sandbox name '%s'", name ? name : "");
	snprintf(out, cap, "sbx-%s", name);
	return 0;
}

/* crun (podman's default runtime on Debian) refuses cgroup v1 "hybrid"
 * hosts whose v2 hierarchy has any controller enabled (here: hugetlb):
 * "cgroups in hybrid mode not supported, drop all controllers from
 * cgroupv2". runc handles them. Decided once per process. */
static const char *podman_rt;
static bool podman_rt_missing;
static pthread_once_t rt_once = PTHREAD_ONCE_INIT;

static void pick_runtime(void)
{
	struct statfs fs;
	if (statfs("/sys/fs/cgroup", &fs) == 0 && (unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC)
		return; /* pure v2: the default is fine */
	if (statfs("/sys/fs/cgroup/unified", &fs) < 0 ||
	    (unsigned long)fs.f_type != CGROUP2_SUPER_MAGIC)
		return; /* pure v1 */
	char ctrl[256];
	if (sbx_read_fileat(AT_FDCWD, "/sys/fs/cgroup/unified/cgroup.controllers", ctrl,
			    sizeof(ctrl), NULL) <= 0 ||
	    !*sbx_oci_trim(ctrl))
		return;
	char p[PATH_MAX];
	if (sbx_oci_which("runc", p, sizeof(p)))
		podman_rt = "runc";
	else
		podman_rt_missing = true;
}

int sbx_oci_runtime(const char *engine, const char **runtime, sbx_error *err)
{
	*runtime = NULL;
	if (strcmp(engine, "podman") != 0)
		return 0;
	pthread_once(&rt_once, pick_runtime);
	if (podman_rt_missing)
		return sbx_fail(err, SBX_E_SYSTEM,
				"podman: this host's hybrid cgroups need the runc runtime "
				"(crun refuses them): apt-get install runc");
	*runtime = podman_rt;
	return 0;
}

/* RLIMIT_NPROC counts all of a user's processes on the host (the container
 * shares root's uid), so it must be big enough never to matter — the pids
 * cgroup is the real limit — yet no bigger than what the engine may set:
 * podman lowers its own limit to kernel.pid_max, root without
 * CAP_SYS_RESOURCE cannot raise it beyond its hard limit. */
static uint64_t nproc_limit(void)
{
	uint64_t v = 4194304;
	int64_t m;
	if (sbx_read_key(AT_FDCWD, "/proc/sys/kernel/pid_max", NULL, &m, NULL) == 0 && m > 0 &&
	    (uint64_t)m < v)
		v = (uint64_t)m;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
		v = rl.rlim_max;
	return v;
}

int sbx_oci_host_for(const char *engine, const sbx_config *cfg, sbx_oci_host *h, char *ws_buf,
		     size_t ws_cap, sbx_error *err)
{
	memset(h, 0, sizeof(*h));
	int r = sbx_oci_net_check(engine, cfg, err);
	if (r == 0)
		r = sbx_oci_runtime(engine, &h->runtime, err);
	if (r < 0)
		return r;
	h->nproc = nproc_limit();
	h->owner = getpid();
	if (!cfg->workspace || cfg->workspace_mode == SBX_WS_NONE)
		return 0;
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(cfg->workspace, real))
		return sbx_fail(err, SBX_E_PATH, "workspace not found: %s", cfg->workspace);
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_fail(err, SBX_E_PATH, "workspace is not a directory: %s", real);
	if (strchr(real, ':') || strchr(real, ',') || strlen(real) >= ws_cap)
		return sbx_fail(err, SBX_E_PATH, "workspace path unusable with %s: %s", engine,
				real);
	memcpy(ws_buf, real, strlen(real) + 1);
	h->workspace = ws_buf;
	h->workspace_ro = cfg->workspace_mode == SBX_WS_RO;
	/* Native runs map the workspace's owner to root inside (idmapped
	 * mount); here the command runs as that owner, so it can write what
	 * native root could and files it creates belong to the same host
	 * user. Without capabilities, root could not write someone else's
	 * directory anyway. */
	h->uid = st.st_uid;
	h->gid = st.st_gid;
	return 0;
}

int sbx_oci_state(const char *engine, const char *cname)
{
	const char *args[] = {"inspect", "--type", "container", "--format", "{{.State.Running}}",
			      cname,	 NULL};
	sbx_oci_out o;
	int r = sbx_oci_simple(engine, args, 30000, &o, NULL);
	int st = -2;
	if (r == 0 && o.code == 0)
		st = o.out.data && !strncmp(o.out.data, "true", 4) ? 1 : 0;
	else if (r == 0 && o.err.data &&
		 (strcasestr(o.err.data, "no such") || strcasestr(o.err.data, "not found") ||
		  strcasestr(o.err.data, "not known")))
		st = -1;
	sbx_oci_out_free(&o);
	return st;
}

/* The engine is reachable. 0, or -code with a one-line reason. */
static int check_engine_up(const char *engine, sbx_error *err)
{
	char p[PATH_MAX];
	if (!sbx_oci_which(engine, p, sizeof(p)))
		return sbx_fail(err, SBX_E_SYSTEM, "%s: not found in PATH (install %s)", engine,
				engine);
	const char *args[] = {"info", "--format", "{{.Host.Arch}}", NULL};
	if (!strcmp(engine, "docker"))
		args[2] = "{{.ServerVersion}}";
	sbx_oci_out o;
	int r = sbx_oci_simple(engine, args, 10000, &o, err);
	if (r < 0)
		return r;
	if (o.timed_out)
		r = sbx_fail(err, SBX_E_SYSTEM, "%s: `%s info` did not answer within 10s", engine,
			     engine);
	else if (o.code != 0) {
		char line[400];
		sbx_oci_first_line(o.err.data, o.err.len, line, sizeof(line));
		r = sbx_fail(err, SBX_E_SYSTEM, "%s: %s not reachable: %s", engine,
			     !strcmp(engine, "docker") ? "daemon" : "service",
			     line[0] ? line : "info failed");
	}
	sbx_oci_out_free(&o);
	return r;
}

static int check_image(const char *engine, const char *image, sbx_error *err)
{
	const char *args[] = {"image", "inspect", "--format", "{{.Id}}", image, NULL};
	sbx_oci_out o;
	int r = sbx_oci_simple(engine, args, 30000, &o, err);
	if (r == 0 && o.code != 0)
		r = sbx_fail(err, SBX_E_ROOTFS,
			     "%s: image %s not found (run: tools/mkrootfs --import %s)", engine,
			     image, engine);
	sbx_oci_out_free(&o);
	return r;
}

int sbx_oci_health(const char *engine, const char *image, sbx_error *err)
{
	const char *rt;
	int r = sbx_oci_check_engine(engine, err);
	if (r == 0)
		r = check_engine_up(engine, err);
	if (r == 0)
		r = sbx_oci_runtime(engine, &rt, err);
	if (r == 0)
		r = check_image(engine, image ? image : SBX_OCI_DEFAULT_IMAGE, err);
	return r;
}

int sbx_oci_diagnose(const char *engine, const char *image, const char *what, const char *msg,
		     sbx_error *err)
{
	int r = check_engine_up(engine, err);
	if (r == 0 && image)
		r = check_image(engine, image, err);
	if (r < 0)
		return r;
	return sbx_fail(err, SBX_E_SETUP, "%s: %s failed: %s", engine, what,
			msg && *msg ? msg : "no message");
}

/* Here, not in oci_proc.c: it needs the runtime choice (above), and
 * oci_proc.c needs nothing of this file. */
int sbx_oci_simple(const char *engine, const char *const *args, uint64_t timeout_ms, sbx_oci_out *o,
		   sbx_error *err)
{
	memset(o, 0, sizeof(*o));
	const char *rt = NULL;
	int r = sbx_oci_runtime(engine, &rt, err);
	if (r < 0)
		return r;
	sbx_oci_host h = {.runtime = rt};
	sbx_strv a = {0};
	sbx_oci_args_engine(&a, engine, &h);
	for (size_t i = 0; args[i]; i++)
		sbx_strv_add(&a, args[i]);
	if (a.oom)
		r = sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	else
		r = sbx_oci_cmd(engine, a.v, -1, 1 << 20, timeout_ms, o, err);
	sbx_strv_free(&a);
	return r;
}
