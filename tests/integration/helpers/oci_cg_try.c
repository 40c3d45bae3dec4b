/* By-hand check of src/ocirt/cgroups.c on a real host: make a container's
 * cgroups from a spec filled here, move a sleeping child in, print the
 * limits read back, the state text and the pids, then destroy and check
 * that nothing is left. Build (from the tree, after make all):
 *   cc -Iinclude -Isrc -o /tmp/oci_cg_try tests/integration/helpers/oci_cg_try.c \
 *      build/obj/ocirt/cgroups*.o build/libsbx.a -lseccomp -lcap -lcgroup -lpthread
 * Run: oci_cg_try CGROUPSPATH|- ID [blkio|badcpus|twice]   (exit 0: every
 * check passed; with a third argument create must fail (blkio: refused
 * from the config; badcpus: cpuset.cpus "99" fails after the directories
 * were made; twice: the second create of the same path) and nothing of it
 * may be left). OCI_CG_TRY_RT=1 in the environment: realtime 950000/1000000
 * too (the base cgroup needs that budget). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "ocirt/cgroups.h"
#include "ocirt/cgroups_v1.h"

static int failures;

static void expect_file(const sbx_oci_cg *cg, const char *ctrl, const char *file, const char *want)
{
	for (size_t i = 0; i < cg->n; i++) {
		if (cg->dir[i].version != 1 || !sbx_oci_cg_v1_has(cg->dir[i].name, ctrl))
			continue;
		char p[PATH_MAX + 64], got[4096] = "";
		snprintf(p, sizeof(p), "%s/%s", cg->dir[i].path, file);
		int fd = open(p, O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, got, sizeof(got) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0)
			got[n] = '\0';
		bool ok = n > 0 && strcmp(got, want) == 0;
		printf("%s %s = %s", ok ? "ok  " : "FAIL", p, n > 0 ? got : "(unreadable)\n");
		if (!ok) {
			printf("     wanted %s", want);
			failures++;
		}
		return;
	}
	printf("FAIL no %s hierarchy\n", ctrl);
	failures++;
}

/* Whether PATH exists beneath any hierarchy of this process's. */
static bool left_anywhere(const char *rel)
{
	char cmd[PATH_MAX + 128];
	snprintf(cmd, sizeof(cmd),
		 "find /sys/fs/cgroup -path '*/%s' -type d 2>/dev/null | grep -q .", rel);
	return system(cmd) == 0;
}

static int must_fail(sbx_oci_spec *s, const char *id, const char *mode)
{
	sbx_oci_cg cg, first;
	sbx_error err = {0};
	const char *rel = s->cgroups_path ? s->cgroups_path : "sbx-oci";
	while (*rel == '/')
		rel++;
	if (!strcmp(mode, "blkio"))
		s->resources.has_blkio = true;
	else if (!strcmp(mode, "badcpus"))
		s->resources.cpus = "99";
	else if (strcmp(mode, "twice") != 0)
		return 2;
	if (!strcmp(mode, "twice") && sbx_oci_cg_create(s, id, false, NULL, &first, &err) < 0) {
		printf("FAIL first create: %s\n", err.msg);
		return 1;
	}
	int rc = sbx_oci_cg_create(s, id, false, NULL, &cg, &err);
	printf("%s create (%s): %s\n", rc < 0 ? "ok  " : "FAIL", mode, rc < 0 ? err.msg : "made");
	if (!strcmp(mode, "twice")) {
		/* the first one is still whole */
		bool whole = true;
		for (size_t i = 0; i < first.n; i++)
			whole &= access(first.dir[i].path, F_OK) == 0;
		printf("%s first still there\n", whole ? "ok  " : "FAIL");
		rc = rc < 0 && whole ? -1 : 0;
		sbx_oci_cg_destroy(&first, sbx_now_ns() + 5000000000ull, &err);
	} else if (rc == 0) {
		sbx_oci_cg_destroy(&cg, sbx_now_ns() + 5000000000ull, &err);
	}
	bool left = left_anywhere(rel);
	printf("%s nothing left of %s\n", left ? "FAIL" : "ok  ", rel);
	return rc < 0 && !left ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: oci_cg_try CGROUPSPATH ID [blkio|badcpus|twice]\n");
		return 2;
	}
	sbx_oci_devrule rules[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
	    {.allow = true, .type = 'c', .major = 5, .minor = -1, .access = "rw"},
	};
	sbx_oci_spec s = {0};
	s.cgroups_path = strcmp(argv[1], "-") ? argv[1] : NULL; /* "-": the default */
	s.has_resources = true;
	s.resources = (sbx_oci_resources){
	    .mem_limit = 64 << 20,
	    .mem_reservation = 32 << 20,
	    .mem_swap = 128 << 20,
	    .mem_kernel = 16 << 20,
	    .mem_kernel_tcp = -1,
	    .mem_swappiness = 10,
	    .cpu_shares = 512,
	    .cpu_quota = 50000,
	    .cpu_period = 100000,
	    .cpu_rt_runtime = -1,
	    .cpus = "0",
	    .mems = "0",
	    .has_pids_limit = true,
	    .pids_limit = 32,
	    .devices = rules,
	    .n_devices = 3,
	};
	if (getenv("OCI_CG_TRY_RT")) { /* the base needs that budget */
		s.resources.cpu_rt_period = 1000000;
		s.resources.cpu_rt_runtime = 950000;
	}
	sbx_oci_cg cg;
	sbx_error err = {0};
	if (argc == 4)
		return must_fail(&s, argv[2], argv[3]);
	if (sbx_oci_cg_create(&s, argv[2], false, NULL, &cg, &err) < 0) {
		printf("create: %s\n", err.msg);
		return 1;
	}
	sbx_buf b = {0};
	sbx_oci_cg_to_text(&cg, &b);
	printf("--- state text\n%.*s---\n", (int)b.len, b.data);
	sbx_oci_cg back;
	char *text = sbx_buf_steal(&b);
	if (sbx_oci_cg_from_text(text, &back, &err) < 0 || back.n != cg.n) {
		printf("FAIL from_text: %s\n", err.msg);
		failures++;
	}
	free(text);

	pid_t child = fork();
	if (child == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	if (sbx_oci_cg_attach(&cg, child, &err) < 0) {
		printf("FAIL attach: %s\n", err.msg);
		failures++;
	}
	expect_file(&cg, "memory", "memory.limit_in_bytes", "67108864\n");
	expect_file(&cg, "memory", "memory.soft_limit_in_bytes", "33554432\n");
	expect_file(&cg, "memory", "memory.memsw.limit_in_bytes", "134217728\n");
	expect_file(&cg, "memory", "memory.swappiness", "10\n");
	expect_file(&cg, "pids", "pids.max", "32\n");
	expect_file(&cg, "cpu", "cpu.cfs_quota_us", "50000\n");
	expect_file(&cg, "cpu", "cpu.cfs_period_us", "100000\n");
	expect_file(&cg, "cpu", "cpu.shares", "512\n");
	if (getenv("OCI_CG_TRY_RT"))
		expect_file(&cg, "cpu", "cpu.rt_runtime_us", "950000\n");
	expect_file(&cg, "cpuset", "cpuset.cpus", "0\n");
	expect_file(&cg, "devices", "devices.list", "c 1:3 rwm\nc 5:* rw\n");

	pid_t *pids = NULL;
	size_t n = 0;
	if (sbx_oci_cg_pids(&cg, &pids, &n, &err) < 0 || n != 1 || pids[0] != child) {
		printf("FAIL pids: n=%zu %s\n", n, err.msg);
		failures++;
	} else {
		printf("ok   pids: %d\n", (int)pids[0]);
	}
	free(pids);
	if (sbx_oci_cg_signal(&cg, SIGTERM, &err) < 0) {
		printf("FAIL signal: %s\n", err.msg);
		failures++;
	}
	int st = 0;
	waitpid(child, &st, 0);
	printf("%s child ended by signal %d\n",
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? "ok  " : "FAIL",
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	failures += !(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	/* a second child left running: destroy must kill it */
	child = fork();
	if (child == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	sbx_oci_cg_attach(&cg, child, &err);
	/* as a container with a writable cgroup mount might: a sub-cgroup
	 * (not in cpuset, whose new cgroups start without cpus) with the child
	 * in it */
	for (size_t i = 0; i < cg.n; i++) {
		if (sbx_oci_cg_v1_has(cg.dir[i].name, "cpuset"))
			continue;
		char p[PATH_MAX + 32], pid[24];
		snprintf(p, sizeof(p), "%s/inner", cg.dir[i].path);
		snprintf(pid, sizeof(pid), "%d", (int)child);
		if (mkdir(p, 0755) < 0 || (strcat(p, "/cgroup.procs"), 0) ||
		    sbx_write_file(p, pid, &err) < 0) {
			printf("FAIL sub-cgroup %s\n", p);
			failures++;
		}
	}
	pids = NULL;
	if (sbx_oci_cg_pids(&cg, &pids, &n, &err) < 0 || n != 1 || pids[0] != child) {
		printf("FAIL pids of the sub-cgroup: n=%zu\n", n);
		failures++;
	} else {
		printf("ok   pids in the sub-cgroup: %d\n", (int)pids[0]);
	}
	free(pids);
	if (sbx_oci_cg_destroy(&cg, sbx_now_ns() + 5000000000ull, &err) < 0) {
		printf("FAIL destroy: %s\n", err.msg);
		failures++;
	}
	waitpid(child, &st, 0);
	printf("%s remaining child killed (signal %d)\n",
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "ok  " : "FAIL",
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	failures += !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	for (size_t i = 0; i < cg.n; i++) {
		struct stat sb;
		if (stat(cg.dir[i].path, &sb) == 0) {
			printf("FAIL left: %s\n", cg.dir[i].path);
			failures++;
		}
	}
	printf("%s\n", failures ? "FAILED" : "all ok");
	return failures ? 1 : 0;
}
