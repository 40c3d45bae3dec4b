/* oci_test: drive the docker/podman driver (src/oci.h) directly, as the
 * CLI will once it dispatches --driver. Used by t_drivers.sh.
 *
 *   oci_test health ENGINE [IMAGE]
 *   oci_test run ENGINE [sbx run options] [--] CMD [ARG...]
 *   oci_test create ENGINE NAME [sbx run options]
 *   oci_test exec ENGINE NAME [--timeout D] [--env K=V] [--cwd DIR]
 *                 [--output-limit N] [--json] [--] CMD [ARG...]
 *   oci_test read ENGINE NAME PATH [MAX]     file bytes on stdout
 *   oci_test write ENGINE NAME PATH [MAX]    file bytes from stdin
 *   oci_test stop|start|rm|running ENGINE NAME
 *
 * Exit status as `sbx`: the command's (run, exec), 0 for success, 125 with
 * "sbx: <message>" on stderr for errors; `running` exits 0 if running,
 * 1 if not. SIGINT/SIGTERM cancel a run or exec.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "buf.h"
#include "oci.h"
#include "options.h"
#include "store.h"

static int usage(void)
{
	fputs(
	    "usage: oci_test health|run|create|exec|read|write|stop|start|rm|running ENGINE ...\n",
	    stderr);
	return 2;
}

static int error(const char *msg)
{
	fprintf(stderr, "sbx: %s\n", msg);
	return 125;
}

/* Drain the cancel signals (they must not kill us once unblocked), restore. */
static void uncancel(int fd, const sigset_t *old)
{
	struct signalfd_siginfo si;
	fflush(stdout);
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	close(fd);
	sigprocmask(SIG_SETMASK, old, NULL);
}

static int cancel_fd(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int finish(sbx_result *res, bool json)
{
	if (json) {
		char *j = sbx_result_to_json(res);
		if (!j) {
			sbx_result_free(res);
			return error("out of memory");
		}
		printf("%s\n", j);
		free(j);
	}
	int code = res->exit_code;
	sbx_result_free(res);
	return code;
}

static int do_run(const char *engine, int argc, char **argv)
{
	char msg[512];
	sbx_run_opts o;
	if (sbx_opts_parse(&o, argc, argv, 3, msg, sizeof(msg)) < 0) {
		sbx_opts_free(&o);
		return error(msg);
	}
	if (!o.cfg.argv) {
		sbx_opts_free(&o);
		return error("no command given");
	}
	sigset_t old;
	o.cfg.cancel_fd = cancel_fd(&old);
	o.cfg.stdin_fd = STDIN_FILENO;
	if (o.json) {
		o.cfg.capture = true;
	} else {
		o.cfg.stdout_fd = STDOUT_FILENO;
		o.cfg.stderr_fd = STDERR_FILENO;
	}
	sbx_result res;
	sbx_error err = {0};
	int rc = sbx_oci_run(engine, &o.cfg, &res, &err);
	int status = rc < 0 ? error(err.msg) : finish(&res, o.json);
	uncancel(o.cfg.cancel_fd, &old);
	sbx_opts_free(&o);
	return status;
}

static int do_create(const char *engine, int argc, char **argv)
{
	if (argc < 4)
		return usage();
	char msg[512];
	sbx_run_opts o;
	if (sbx_opts_parse(&o, argc, argv, 4, msg, sizeof(msg)) < 0) {
		sbx_opts_free(&o);
		return error(msg);
	}
	sbx_sbconf c;
	sbx_error err = {0};
	int rc = sbx_sbconf_from(&c, &o.cfg, &err);
	if (rc == 0)
		rc = sbx_oci_create(engine, argv[3], &c, &err);
	sbx_sbconf_free(&c);
	sbx_opts_free(&o);
	return rc < 0 ? error(err.msg) : 0;
}

static int do_exec(const char *engine, int argc, char **argv)
{
	if (argc < 4)
		return usage();
	char msg[512];
	sbx_run_opts o;
	if (sbx_opts_parse(&o, argc, argv, 4, msg, sizeof(msg)) < 0) {
		sbx_opts_free(&o);
		return error(msg);
	}
	if (!o.cfg.argv) {
		sbx_opts_free(&o);
		return error("no command given");
	}
	/* The sandbox's own config: what create got is in the container
	 * already; here only the hostname matters for the exec's env. */
	sbx_sbconf c;
	memset(&c, 0, sizeof(c));
	sbx_exec_opts e;
	sbx_exec_opts_init(&e);
	e.argv = o.cfg.argv;
	e.env = o.cfg.env;
	e.n_env = o.cfg.n_env;
	e.cwd = o.cfg.cwd;
	e.timeout_ms = o.cfg.timeout_ms;
	e.output_limit = o.cfg.output_limit;
	e.stdin_fd = STDIN_FILENO;
	sigset_t old;
	e.cancel_fd = cancel_fd(&old);
	if (o.json) {
		e.capture = true;
	} else {
		e.stdout_fd = STDOUT_FILENO;
		e.stderr_fd = STDERR_FILENO;
	}
	sbx_result res;
	sbx_error err = {0};
	int rc = sbx_oci_exec(engine, argv[3], &c, &e, &res, &err);
	int status = rc < 0 ? error(err.msg) : finish(&res, o.json);
	uncancel(e.cancel_fd, &old);
	sbx_opts_free(&o);
	return status;
}

static int do_read(const char *engine, int argc, char **argv)
{
	if (argc < 5)
		return usage();
	uint64_t max = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
	char *data;
	size_t len;
	sbx_error err = {0};
	if (sbx_oci_read_file(engine, argv[3], argv[4], max, &data, &len, &err) < 0)
		return error(err.msg);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(STDOUT_FILENO, data + off, len - off);
		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0)
			off += (size_t)w;
	}
	free(data);
	return off == len ? 0 : error("short write on stdout");
}

static int do_write(const char *engine, int argc, char **argv)
{
	if (argc < 5)
		return usage();
	uint64_t max = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
	sbx_buf b = {0};
	char chunk[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || sbx_buf_append(&b, chunk, (size_t)n) < 0) {
			sbx_buf_free(&b);
			return error("reading stdin failed");
		}
	}
	sbx_error err = {0};
	int rc =
	    sbx_oci_write_file(engine, argv[3], argv[4], b.data ? b.data : "", b.len, max, &err);
	sbx_buf_free(&b);
	return rc < 0 ? error(err.msg) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[1], *engine = argv[2];
	sbx_error err = {0};
	int rc;
	if (!strcmp(cmd, "health")) {
		char msg[512];
		if (sbx_oci_health(engine, argc > 3 ? argv[3] : NULL, msg, sizeof(msg)) < 0) {
			printf("%s\n", msg);
			return 1;
		}
		printf("ok\n");
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return do_run(engine, argc, argv);
	if (!strcmp(cmd, "create"))
		return do_create(engine, argc, argv);
	if (!strcmp(cmd, "exec"))
		return do_exec(engine, argc, argv);
	if (!strcmp(cmd, "read"))
		return do_read(engine, argc, argv);
	if (!strcmp(cmd, "write"))
		return do_write(engine, argc, argv);
	if (argc < 4)
		return usage();
	if (!strcmp(cmd, "running"))
		return sbx_oci_is_running(engine, argv[3]) ? 0 : 1;
	if (!strcmp(cmd, "stop"))
		rc = sbx_oci_stop(engine, argv[3], &err);
	else if (!strcmp(cmd, "start"))
		rc = sbx_oci_start(engine, argv[3], &err);
	else if (!strcmp(cmd, "rm"))
		rc = sbx_oci_destroy(engine, argv[3], &err);
	else
		return usage();
	return rc < 0 ? error(err.msg) : 0;
}
