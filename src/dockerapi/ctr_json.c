/* Containers, execs and stats as Docker's JSON. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/netspec.h"
#include "dockerapi/ctr_json.h"
#include "dockerapi/strv.h"
#include "drivers/driver.h"
#include "proto/json.h"

static void jstr(sbx_buf *b, const char *s)
{
	sbx_json_string(b, s ? s : "", s ? strlen(s) : 0);
}

void dapi_json_strv(sbx_buf *b, char *const *v)
{
	if (!v) {
		sbx_buf_puts(b, "null");
		return;
	}
	sbx_buf_puts(b, "[");
	for (size_t i = 0; v[i]; i++) {
		if (i)
			sbx_buf_puts(b, ",");
		jstr(b, v[i]);
	}
	sbx_buf_puts(b, "]");
}

void dapi_json_time(sbx_buf *b, int64_t ns)
{
	if (ns <= 0) {
		sbx_buf_puts(b, "\"0001-01-01T00:00:00Z\"");
		return;
	}
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	sbx_buf_printf(b, "\"%s.%09lldZ\"", base, (long long)(ns % 1000000000));
}

/* The container's name as Docker shows it: "/NAME". */
static void jname(sbx_buf *b, const dapi_ctr *c)
{
	char nm[132];
	snprintf(nm, sizeof(nm), "/%s", c->name);
	jstr(b, nm);
}

static void labels(sbx_buf *b, const dapi_spec *s)
{
	sbx_buf_puts(b, "{");
	for (size_t i = 0; i < s->n_labels; i++) {
		if (i)
			sbx_buf_puts(b, ",");
		jstr(b, s->label_keys[i]);
		sbx_buf_puts(b, ":");
		jstr(b, s->label_vals[i]);
	}
	sbx_buf_puts(b, "}");
}

static const char *net_name(const dapi_ctr *c)
{
	return c->cfg.net == SBX_NET_NONE ? "none" : "default";
}

static void mounts(sbx_buf *b, const dapi_ctr *c)
{
	sbx_buf_puts(b, "[");
	if (c->spec.bind_src) {
		sbx_buf_puts(b, "{\"Type\":\"bind\",\"Source\":");
		jstr(b, c->spec.bind_src);
		sbx_buf_printf(b,
			       ",\"Destination\":\"/workspace\",\"Mode\":\"%s\",\"RW\":%s,"
			       "\"Propagation\":\"rprivate\"}",
			       c->spec.bind_ro ? "ro" : "", c->spec.bind_ro ? "false" : "true");
	}
	sbx_buf_puts(b, "]");
}

/* c->mu held. */
void dapi_ctr_inspect_json(sbx_buf *b, const dapi_ctr *c)
{
	bool running = c->state == DAPI_RUNNING;
	sbx_buf_printf(b, "{\"Id\":\"%s\",\"Created\":", c->id);
	dapi_json_time(b, c->created_ns);
	sbx_buf_puts(b, ",\"Path\":");
	jstr(b, c->argv[0]);
	sbx_buf_puts(b, ",\"Args\":");
	dapi_json_strv(b, c->argv + 1);
	sbx_buf_printf(b,
		       ",\"State\":{\"Status\":\"%s\",\"Running\":%s,\"Paused\":false,"
		       "\"Restarting\":false,\"OOMKilled\":%s,\"Dead\":false,\"Pid\":%d,"
		       "\"ExitCode\":%d,\"Error\":",
		       dapi_state_name(c->state), running ? "true" : "false",
		       c->oom_killed ? "true" : "false", running ? 1 : 0, c->exit_code);
	jstr(b, c->error);
	sbx_buf_puts(b, ",\"StartedAt\":");
	dapi_json_time(b, c->started_ns);
	sbx_buf_puts(b, ",\"FinishedAt\":");
	dapi_json_time(b, running ? 0 : c->finished_ns);
	sbx_buf_printf(b,
		       "},\"Image\":\"%s\",\"ResolvConfPath\":\"\",\"HostnamePath\":\"\","
		       "\"HostsPath\":\"\",\"LogPath\":\"\",\"Name\":",
		       c->img.id);
	jname(b, c);
	sbx_buf_printf(
	    b,
	    ",\"RestartCount\":%llu,\"Driver\":\"sbx\",\"Platform\":\"linux\","
	    "\"MountLabel\":\"\",\"ProcessLabel\":\"\",\"AppArmorProfile\":\"\",\"ExecIDs\":",
	    (unsigned long long)c->restarts);
	if (!c->execs) {
		sbx_buf_puts(b, "null");
	} else {
		sbx_buf_puts(b, "[");
		for (const dapi_exec *x = c->execs; x; x = x->next)
			sbx_buf_printf(b, "%s\"%s\"", x == c->execs ? "" : ",", x->id);
		sbx_buf_puts(b, "]");
	}
	sbx_buf_printf(
	    b,
	    ",\"HostConfig\":{\"Memory\":%llu,\"MemorySwap\":%lld,\"NanoCpus\":%llu,"
	    "\"CpuQuota\":0,\"CpuPeriod\":0,\"PidsLimit\":%u,\"NetworkMode\":\"%s\","
	    "\"AutoRemove\":%s,\"ReadonlyRootfs\":%s,\"Privileged\":false,"
	    "\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},"
	    "\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{}},\"Binds\":",
	    (unsigned long long)c->cfg.memory_bytes, (long long)c->spec.memory_swap,
	    (unsigned long long)c->cfg.cpu_millis * 1000000ull, c->cfg.pids_max,
	    c->spec.network_mode && c->spec.network_mode[0] ? c->spec.network_mode : "default",
	    c->spec.auto_remove ? "true" : "false", c->spec.readonly_root ? "true" : "false");
	if (c->spec.bind_src) {
		sbx_buf_puts(b, "[");
		char bind[4200];
		snprintf(bind, sizeof(bind), "%s:/workspace%s", c->spec.bind_src,
			 c->spec.bind_ro ? ":ro" : "");
		jstr(b, bind);
		sbx_buf_puts(b, "]");
	} else {
		sbx_buf_puts(b, "null");
	}
	sbx_buf_printf(b, ",\"Tmpfs\":{\"/tmp\":\"size=%llu\"},\"PortBindings\":",
		       (unsigned long long)c->cfg.tmp_size);
	dapi_ports_json(b, c->spec.ports, c->spec.n_ports, false);
	sbx_buf_puts(b, "},");
	sbx_buf_puts(b, "\"GraphDriver\":{\"Name\":\"sbx\",\"Data\":{}},\"Mounts\":");
	mounts(b, c);
	sbx_buf_puts(b, ",\"Config\":{\"Hostname\":");
	jstr(b, c->cfg.hostname ? c->cfg.hostname : "sandbox");
	sbx_buf_puts(b, ",\"Domainname\":\"\",\"User\":");
	jstr(b, c->spec.user);
	sbx_buf_printf(b,
		       ",\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
		       "\"Tty\":%s,\"OpenStdin\":%s,\"StdinOnce\":%s,\"Env\":",
		       c->spec.tty ? "true" : "false", c->spec.open_stdin ? "true" : "false",
		       c->spec.stdin_once ? "true" : "false");
	dapi_json_strv(b, c->env);
	sbx_buf_puts(b, ",\"Cmd\":");
	dapi_json_strv(b, c->spec.cmd ? c->spec.cmd : c->spec.entrypoint_set ? NULL : c->img.cmd);
	sbx_buf_puts(b, ",\"Image\":");
	jstr(b, c->spec.image);
	sbx_buf_puts(b, ",\"Volumes\":null,\"WorkingDir\":");
	jstr(b, c->spec.workdir && c->spec.workdir[0] ? c->spec.workdir : c->img.workdir);
	sbx_buf_puts(b, ",\"Entrypoint\":");
	dapi_json_strv(b, c->spec.entrypoint_set ? c->spec.entrypoint : c->img.entrypoint);
	sbx_buf_puts(b, ",\"OnBuild\":null,\"Labels\":");
	labels(b, &c->spec);
	/* Published while it has its sandbox (from create until it is
	 * removed; Docker: while it runs). */
	sbx_buf_puts(b, "},\"NetworkSettings\":{\"Bridge\":\"\",\"SandboxID\":\"\",\"Ports\":");
	dapi_ports_json(b, c->spec.ports, c->sb ? c->spec.n_ports : 0, true);
	/* egress: the address every sandbox has on its own user-mode net */
	bool eg = c->cfg.net == SBX_NET_EGRESS;
	const char *ip = eg ? SBX_NET_GUEST_ADDR : "", *gw = eg ? SBX_NET_GATEWAY : "";
	sbx_buf_printf(b,
		       ",\"IPAddress\":\"%s\",\"IPPrefixLen\":%d,\"Gateway\":\"%s\","
		       "\"MacAddress\":\"\",\"Networks\":{\"%s\":{\"IPAddress\":\"%s\","
		       "\"IPPrefixLen\":%d,\"Gateway\":\"%s\",\"MacAddress\":\"\","
		       "\"NetworkID\":\"\",\"EndpointID\":\"\"}}}}",
		       ip, eg ? 24 : 0, gw, net_name(c), ip, eg ? 24 : 0, gw);
}

static void status_text(char *out, size_t cap, const dapi_ctr *c)
{
	int64_t now = sbx_realtime_ns();
	int64_t since = c->state == DAPI_RUNNING ? c->started_ns : c->finished_ns;
	int64_t s = since > 0 && now > since ? (now - since) / 1000000000 : 0;
	char ago[48];
	if (s < 1)
		snprintf(ago, sizeof(ago), "Less than a second");
	else if (s < 60)
		snprintf(ago, sizeof(ago), "%lld seconds", (long long)s);
	else if (s < 3600)
		snprintf(ago, sizeof(ago), "%lld minutes", (long long)s / 60);
	else
		snprintf(ago, sizeof(ago), "%lld hours", (long long)s / 3600);
	if (c->state == DAPI_RUNNING)
		snprintf(out, cap, "Up %s", ago);
	else if (c->state == DAPI_EXITED)
		snprintf(out, cap, "Exited (%d) %s ago", c->exit_code, ago);
	else if (c->state == DAPI_CREATED)
		snprintf(out, cap, "Created");
	else
		snprintf(out, cap, "Removal In Progress");
}

/* c->mu held. */
void dapi_ctr_list_json(sbx_buf *b, const dapi_ctr *c)
{
	sbx_buf_printf(b, "{\"Id\":\"%s\",\"Names\":[", c->id);
	jname(b, c);
	sbx_buf_puts(b, "],\"Image\":");
	jstr(b, c->spec.image);
	sbx_buf_printf(b, ",\"ImageID\":\"%s\",\"Command\":", c->img.id);
	sbx_buf cmd = {0};
	for (size_t i = 0; c->argv[i]; i++)
		sbx_buf_printf(&cmd, "%s%s", i ? " " : "", c->argv[i]);
	jstr(b, cmd.data ? cmd.data : "");
	sbx_buf_free(&cmd);
	char st[96];
	status_text(st, sizeof(st), c);
	sbx_buf_printf(b, ",\"Created\":%lld,\"Ports\":", (long long)(c->created_ns / 1000000000));
	dapi_ports_list_json(b, c->spec.ports, c->sb ? c->spec.n_ports : 0);
	sbx_buf_puts(b, ",\"Labels\":");
	labels(b, &c->spec);
	sbx_buf_printf(b, ",\"State\":\"%s\",\"Status\":", dapi_state_name(c->state));
	jstr(b, st);
	sbx_buf_printf(b,
		       ",\"HostConfig\":{\"NetworkMode\":\"%s\"},\"NetworkSettings\":{\"Networks\":"
		       "{\"%s\":{}}},\"Mounts\":",
		       net_name(c), net_name(c));
	mounts(b, c);
	sbx_buf_puts(b, "}");
}

static uint64_t system_cpu_ns(void)
{
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return 0;
	unsigned long long v[8] = {0};
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return 0;
	unsigned long long t = 0;
	for (int i = 0; i < n; i++)
		t += v[i];
	long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? t * (1000000000ull / (unsigned long long)hz) : 0;
}

static void cpu_block(sbx_buf *b, int64_t usage_us, uint64_t sys_ns, long ncpu)
{
	sbx_buf_printf(b,
		       "{\"cpu_usage\":{\"total_usage\":%lld,\"usage_in_kernelmode\":0,"
		       "\"usage_in_usermode\":%lld},\"system_cpu_usage\":%llu,\"online_cpus\":%ld,"
		       "\"throttling_data\":{\"periods\":0,\"throttled_periods\":0,"
		       "\"throttled_time\":0}}",
		       (long long)(usage_us > 0 ? usage_us * 1000 : 0),
		       (long long)(usage_us > 0 ? usage_us * 1000 : 0), (unsigned long long)sys_ns,
		       ncpu);
}

void dapi_stats_sample(dapi_ctr *c, dapi_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->read_ns = sbx_realtime_ns();
	s->system_ns = system_cpu_ns();
	s->cpu_us = -1;
	s->pids = -1;
	pthread_mutex_lock(&c->mu);
	if (c->sb && c->state == DAPI_RUNNING && c->sb->drv->info) {
		sbx_sandbox_info info;
		memset(&info, 0, sizeof(info));
		info.pids_current = -1;
		info.cpu_usage_us = -1;
		c->sb->drv->info(c->sb, &info);
		s->mem = info.memory_current;
		s->cpu_us = info.cpu_usage_us;
		s->pids = info.pids_current;
	}
	pthread_mutex_unlock(&c->mu);
}

void dapi_stats_json(sbx_buf *b, const dapi_ctr *c, const dapi_stats *now, const dapi_stats *pre)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	sbx_buf_puts(b, "{\"read\":");
	dapi_json_time(b, now->read_ns);
	sbx_buf_puts(b, ",\"preread\":");
	dapi_json_time(b, pre ? pre->read_ns : 0);
	sbx_buf_printf(b, ",\"pids_stats\":{\"current\":%lld,\"limit\":%u},\"cpu_stats\":",
		       (long long)(now->pids > 0 ? now->pids : 0), c->cfg.pids_max);
	cpu_block(b, now->cpu_us, now->system_ns, ncpu);
	sbx_buf_puts(b, ",\"precpu_stats\":");
	if (pre)
		cpu_block(b, pre->cpu_us, pre->system_ns, ncpu);
	else
		sbx_buf_puts(b, "{\"cpu_usage\":{\"total_usage\":0},\"throttling_data\":{}}");
	uint64_t limit = c->cfg.memory_bytes;
	if (!limit)
		limit = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	sbx_buf_printf(b,
		       ",\"memory_stats\":{\"usage\":%llu,\"limit\":%llu,\"stats\":{}},"
		       "\"blkio_stats\":{},\"num_procs\":0,\"storage_stats\":{},\"name\":",
		       (unsigned long long)now->mem, (unsigned long long)limit);
	jname(b, c);
	sbx_buf_printf(b, ",\"id\":\"%s\"}", c->id);
}

/* c->mu held. */
void dapi_exec_inspect_json(sbx_buf *b, const dapi_exec *x)
{
	sbx_buf_printf(b, "{\"ID\":\"%s\",\"Running\":%s,\"ExitCode\":", x->id,
		       x->running ? "true" : "false");
	if (x->ended)
		sbx_buf_printf(b, "%d", x->exit_code);
	else
		sbx_buf_puts(b, "null");
	sbx_buf_puts(b, ",\"ProcessConfig\":{\"tty\":");
	sbx_buf_puts(b, x->tty ? "true" : "false");
	sbx_buf_puts(b, ",\"entrypoint\":");
	jstr(b, x->argv[0]);
	sbx_buf_puts(b, ",\"arguments\":");
	dapi_json_strv(b, x->argv + 1);
	sbx_buf_printf(b,
		       ",\"privileged\":false,\"user\":\"\"},\"OpenStdin\":%s,\"OpenStderr\":%s,"
		       "\"OpenStdout\":%s,\"CanRemove\":false,\"ContainerID\":\"%s\","
		       "\"DetachKeys\":\"\",\"Pid\":%d}",
		       x->attach_stdin ? "true" : "false", x->attach_stderr ? "true" : "false",
		       x->attach_stdout ? "true" : "false", x->ctr->id, x->running ? 1 : 0);
}
