/* Configuration defaults and the default rootfs location. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "base/parse.h"
#include "base/netspec.h"

#ifndef SBX_DATADIR
#define SBX_DATADIR "/usr/local/share/sbx"
#endif

SBX_API void sbx_config_init(sbx_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_bytes = 512ull << 20;
	cfg->cpu_millis = 1000;
	cfg->pids_max = 100;
	cfg->timeout_ms = 30000;
	cfg->output_limit = 100 << 10;
	cfg->tmp_size = 64ull << 20;
	cfg->fsize_limit = 1ull << 30;
	cfg->nofile = 1024;
	cfg->net = SBX_NET_NONE;
	cfg->workspace_mode = SBX_WS_NONE;
	cfg->map_uid = SBX_MAP_AUTO; /* a range of its own per sandbox */
	cfg->map_gid = SBX_MAP_AUTO;
	cfg->map_count = 65536;
	cfg->stdin_fd = -1;
	cfg->stdout_fd = -1;
	cfg->stderr_fd = -1;
	cfg->cancel_fd = -1;
	cfg->signal_fd = -1;
	cfg->stop_timeout_ms = 10000;
}

int sbx_config_validate(const sbx_config *cfg, bool need_argv, sbx_error *err)
{
	if (need_argv && (!cfg->argv || !cfg->argv[0] || !cfg->argv[0][0]))
		return sbx_fail(err, SBX_E_INVALID, "no command given");
	int r;
	/* The words of this one are documented (docs/protocol.md). */
	if (cfg->cwd && sbx_valid_inside_path(cfg->cwd, NULL) < 0)
		return sbx_fail(err, SBX_E_PATH,
				"invalid working directory %s: must be absolute, without . or ..",
				cfg->cwd);
	if (cfg->hostname && (r = sbx_valid_hostname(cfg->hostname, err)) < 0)
		return r;
	for (size_t i = 0; i < cfg->n_env; i++)
		if ((r = sbx_parse_env(cfg->env[i], err)) < 0)
			return r;
	if (cfg->workspace_mode != SBX_WS_NONE && (!cfg->workspace || !*cfg->workspace))
		return sbx_fail(err, SBX_E_INVALID, "workspace mode given without a directory");
	if (cfg->output_limit == 0)
		return sbx_fail(err, SBX_E_INVALID, "output limit must be positive");
	if (cfg->tmp_size == 0)
		return sbx_fail(err, SBX_E_INVALID, "/tmp size must be positive");
	if (cfg->nofile == 0)
		return sbx_fail(err, SBX_E_INVALID, "open file limit must be positive");
	if (cfg->image && (!*cfg->image || cfg->image[0] == '-'))
		return sbx_fail(err, SBX_E_INVALID, "invalid image name '%s'", cfg->image);
	if ((r = sbx_net_config_check(cfg, err)) < 0)
		return r;
	return 0;
}

static char default_rootfs[PATH_MAX];
static pthread_once_t rootfs_once = PTHREAD_ONCE_INIT;

static void find_rootfs(void)
{
	const char *env = getenv("SBX_ROOTFS");
	if (env && *env) {
		snprintf(default_rootfs, sizeof(default_rootfs), "%s", env);
		return;
	}
	/* <tree>/build/sbx -> <tree>/rootfs/python */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
			char cand[PATH_MAX + 32];
			snprintf(cand, sizeof(cand), "%s/rootfs/python", exe);
			struct stat st;
			if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode) &&
			    strlen(cand) < sizeof(default_rootfs)) {
				memcpy(default_rootfs, cand, strlen(cand) + 1);
				return;
			}
		}
	}
	snprintf(default_rootfs, sizeof(default_rootfs), "%s/python", SBX_DATADIR);
}

SBX_API const char *sbx_default_rootfs(void)
{
	pthread_once(&rootfs_once, find_rootfs);
	return default_rootfs;
}
