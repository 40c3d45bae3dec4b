/* `state`, `list`, `ps`, `features`: questions that change nothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ocirt/cgroups.h"
#include "ocirt/container.h"
#include "proto/json.h"

static int put(sbx_buf *b, sbx_error *err)
{
	if (b->oom)
		return sbx_fail_errno(err, SBX_E_SYSTEM, ENOMEM, "output");
	fwrite(b->data, 1, b->len, stdout);
	return fflush(stdout) == 0 ? 0 : sbx_fail_errno(err, SBX_E_SYSTEM, errno, "stdout");
}

int sbx_oci_cmd_state(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	int first;
	int r = sbx_oci_opts("state", argc, argv, NULL, 0, &first, err);
	if (r < 0 || (r = sbx_oci_need_args("state", argc, argv, first, 1, "ID", err)) < 0)
		return r;
	sbx_oci_state st;
	r = sbx_oci_state_load(c->root, argv[first], &st, err);
	if (r < 0)
		return r;
	_cleanup_buf_ sbx_buf b = {0};
	r = sbx_oci_state_json(&st, sbx_oci_state_status(&st), &b, err);
	sbx_oci_state_clear(&st);
	if (r < 0)
		return r;
	sbx_buf_puts(&b, "\n");
	return put(&b, err);
}

int sbx_oci_cmd_list(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	const char *format = "table";
	bool quiet = false;
	const sbx_oci_opt opts[] = {{"format", 'f', SBX_OCI_OPT_STR, &format},
				    {"quiet", 'q', SBX_OCI_OPT_FLAG, &quiet}};
	int first;
	int r = sbx_oci_opts("list", argc, argv, opts, ARRAY_LEN(opts), &first, err);
	if (r < 0 ||
	    (r = sbx_oci_need_args("list", argc, argv, first, 0, "[--format table|json]", err)) < 0)
		return r;
	bool json = !strcmp(format, "json");
	if (!json && strcmp(format, "table"))
		return sbx_fail(err, SBX_E_INVALID, "list: --format must be table or json");
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(&b, json ? "[" : (quiet ? "" : "ID\tPID\tSTATUS\tBUNDLE\tCREATED\n"));
	_cleanup_closedir_ DIR *d = opendir(c->root);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		sbx_oci_state st;
		sbx_error e = {0};
		if (sbx_oci_state_load(c->root, de->d_name, &st, &e) < 0)
			continue;
		sbx_oci_status s = sbx_oci_state_status(&st);
		if (json) {
			if (n++)
				sbx_buf_puts(&b, ",");
			sbx_oci_state_json(&st, s, &b, &e);
		} else if (quiet) {
			sbx_buf_printf(&b, "%s\n", st.id);
		} else {
			sbx_buf_printf(&b, "%s\t%d\t%s\t%s\t%s\n", st.id,
				       s == SBX_OCI_STOPPED ? 0 : (int)st.pid,
				       sbx_oci_status_name(s), st.bundle, st.created);
		}
		sbx_oci_state_clear(&st);
	}
	if (json)
		sbx_buf_puts(&b, "]\n");
	return put(&b, err);
}

int sbx_oci_cmd_ps(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	const char *format = "table";
	const sbx_oci_opt opts[] = {{"format", 'f', SBX_OCI_OPT_STR, &format}};
	int first;
	int r = sbx_oci_opts("ps", argc, argv, opts, ARRAY_LEN(opts), &first, err);
	if (r < 0)
		return r;
	if (argc - first < 1)
		return sbx_oci_need_args("ps", argc, argv, first, 1, "[--format table|json] ID",
					 err);
	bool json = !strcmp(format, "json");
	if (!json && strcmp(format, "table"))
		return sbx_fail(err, SBX_E_INVALID, "ps: --format must be table or json");
	sbx_oci_state st;
	r = sbx_oci_state_load(c->root, argv[first], &st, err);
	if (r < 0)
		return r;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	r = sbx_oci_cg_pids(&st.cg, &pids, &n, err);
	sbx_oci_state_clear(&st);
	if (r < 0)
		return r;
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(&b, json ? "[" : "PID\tCMD\n");
	for (size_t i = 0; i < n; i++) {
		if (json) {
			sbx_buf_printf(&b, "%s%d", i ? "," : "", (int)pids[i]);
			continue;
		}
		char path[64], comm[256] = "";
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pids[i]);
		sbx_error e;
		if (sbx_read_fileat(AT_FDCWD, path, comm, sizeof(comm), &e) > 0)
			comm[strcspn(comm, "\n")] = 0;
		sbx_buf_printf(&b, "%d\t%s\n", (int)pids[i], comm);
	}
	if (json)
		sbx_buf_puts(&b, "]\n");
	return put(&b, err);
}

int sbx_oci_cmd_features(const sbx_oci_ctx *c, int argc, char **argv, sbx_error *err)
{
	int first;
	int r = sbx_oci_opts("features", argc, argv, NULL, 0, &first, err);
	if (r < 0 || (r = sbx_oci_need_args("features", argc, argv, first, 0, "", err)) < 0)
		return r;
	_cleanup_buf_ sbx_buf b = {0};
	sbx_buf_puts(
	    &b,
	    "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.0.2\","
	    "\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\",\"poststart\","
	    "\"poststop\"],"
	    "\"mountOptions\":[\"async\",\"atime\",\"bind\",\"defaults\",\"dev\",\"diratime\","
	    "\"exec\","
	    "\"noatime\",\"nodev\",\"nodiratime\",\"noexec\",\"norelatime\",\"nostrictatime\","
	    "\"nosuid\",\"private\",\"rbind\",\"relatime\",\"remount\",\"ro\",\"rprivate\","
	    "\"rshared\",\"rslave\",\"runbindable\",\"rw\",\"shared\",\"slave\",\"strictatime\","
	    "\"suid\",\"sync\",\"unbindable\"],"
	    "\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"user\","
	    "\"uts\"],\"capabilities\":[");
	for (int i = 0; i <= 40; i++) {
		static const char *const names[] = {"CHOWN",
						    "DAC_OVERRIDE",
						    "DAC_READ_SEARCH",
						    "FOWNER",
						    "FSETID",
						    "KILL",
						    "SETGID",
						    "SETUID",
						    "SETPCAP",
						    "LINUX_IMMUTABLE",
						    "NET_BIND_SERVICE",
						    "NET_BROADCAST",
						    "NET_ADMIN",
						    "NET_RAW",
						    "IPC_LOCK",
						    "IPC_OWNER",
						    "SYS_MODULE",
						    "SYS_RAWIO",
						    "SYS_CHROOT",
						    "SYS_PTRACE",
						    "SYS_PACCT",
						    "SYS_ADMIN",
						    "SYS_BOOT",
						    "SYS_NICE",
						    "SYS_RESOURCE",
						    "SYS_TIME",
						    "SYS_TTY_CONFIG",
						    "MKNOD",
						    "LEASE",
						    "AUDIT_WRITE",
						    "AUDIT_CONTROL",
						    "SETFCAP",
						    "MAC_OVERRIDE",
						    "MAC_ADMIN",
						    "SYSLOG",
						    "WAKE_ALARM",
						    "BLOCK_SUSPEND",
						    "AUDIT_READ",
						    "PERFMON",
						    "BPF",
						    "CHECKPOINT_RESTORE"};
		sbx_buf_printf(&b, "%s\"CAP_%s\"", i ? "," : "", names[i]);
	}
	sbx_buf_puts(
	    &b, "],\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,"
		"\"systemdUser\":false},"
		"\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\","
		"\"SCMP_ACT_ERRNO\",\"SCMP_ACT_KILL\",\"SCMP_ACT_KILL_PROCESS\","
		"\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_LOG\",\"SCMP_ACT_TRACE\","
		"\"SCMP_ACT_TRAP\"],\"operators\":[\"SCMP_CMP_EQ\",\"SCMP_CMP_GE\","
		"\"SCMP_CMP_GT\",\"SCMP_CMP_LE\",\"SCMP_CMP_LT\",\"SCMP_CMP_MASKED_EQ\","
		"\"SCMP_CMP_NE\"],\"archs\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86_64\","
		"\"SCMP_ARCH_X32\"]},"
		"\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false}},"
		"\"annotations\":{\"org.opencontainers.runtime-spec.features\":\"sbx-oci\"}}\n");
	(void)c;
	return put(&b, err);
}
