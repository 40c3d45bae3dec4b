/* `sbx serve --docker-api PATH`: the Docker Engine API (docs/docker-api.md)
 * on a Unix socket, one thread per connection, containers on native
 * sandboxes (src/dockerapi/). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/options.h"
#include "dockerapi/engine.h"
#include "dockerapi/routes.h"
#include "state/store.h"

#define SERVE_MAX_CONNS 512
#define SERVE_IDLE_MS 300000 /* a keep-alive connection silent this long is closed */
#define SERVE_POOL_DEFAULT 4
#define SERVE_DISCARD_MAX (1u << 20)

typedef struct serve_state {
	dapi_engine eng;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fds[SERVE_MAX_CONNS];
	int n;
	bool stopping;
} serve_state;

typedef struct conn_arg {
	serve_state *s;
	int fd;
} conn_arg;

static void conn_done(serve_state *s, int fd)
{
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->n; i++)
		if (s->fds[i] == fd) {
			s->fds[i] = s->fds[--s->n];
			break;
		}
	close(fd);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *conn_main(void *arg)
{
	conn_arg a = *(conn_arg *)arg;
	free(arg);
	dapi_conn c;
	sbx_error err;
	if (dapi_conn_init(&c, a.fd, &err) == 0) {
		for (;;) {
			dapi_req r;
			int status = 0;
			int rc = dapi_read_request(&c, &r, SERVE_IDLE_MS, &status, &err);
			if (rc != 0) {
				if (rc < 0 && status) {
					dapi_req bad;
					memset(&bad, 0, sizeof(bad));
					dapi_respond_error(&c, &bad, status, "%s", err.msg);
				}
				break;
			}
			int close_it = dapi_route(&a.s->eng, &c, &r);
			/* A body the route did not read would be taken for the
			 * next request: drop it (a bounded amount). */
			bool keep = !close_it && r.keep_alive &&
				    dapi_body_discard(&c, &r, SERVE_DISCARD_MAX, &err) == 0;
			dapi_req_free(&r);
			if (!keep)
				break;
		}
		dapi_conn_free(&c);
	}
	conn_done(a.s, a.fd);
	return NULL;
}

static int accept_loop(serve_state *s, int lfd, int sfd)
{
	for (;;) {
		struct pollfd p[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return 0;
		if (!p[0].revents)
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->mu);
		if (s->n >= SERVE_MAX_CONNS) {
			pthread_mutex_unlock(&s->mu);
			static const char busy[] =
			    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			    "Content-Length: 38\r\nConnection: close\r\n\r\n"
			    "{\"message\":\"too many connections\"}\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to say */
			}
			close(fd);
			continue;
		}
		s->fds[s->n++] = fd;
		pthread_mutex_unlock(&s->mu);
		conn_arg *a = malloc(sizeof(*a));
		pthread_t th;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (!a || (a->s = s, a->fd = fd, pthread_create(&th, &at, conn_main, a)) != 0) {
			free(a);
			conn_done(s, fd);
		}
		pthread_attr_destroy(&at);
	}
}

static void usage(FILE *f)
{
	fputs("usage: sbx serve --docker-api PATH [--group NAME] [--size N] [--preload MODS]\n"
	      "                 [--images DIR] [--memory SIZE] [--cpus N] [--pids N]\n"
	      "                 [--tmp-size SIZE] [--rootfs DIR] [--cgroup-parent PATH]\n"
	      "                 [--net egress [--allow HOST|CIDR[:PORT]]... [--dns IP[:PORT]]]\n"
	      "Serve the Docker Engine API (1.41) on a Unix socket: point a docker client\n"
	      "at it with DOCKER_HOST=unix://PATH. Containers are sbx sandboxes; --size\n"
	      "of them (default 4) are kept warm for containers with the default limits\n"
	      "(--memory, --cpus, --pids: the limits of containers that set none).\n"
	      "--images: where `docker load` puts images (default $SBX_STATE_DIR/images).\n"
	      "Docker's default network is a private loopback; with --net egress it is\n"
	      "egress filtered by --allow, names resolved through --dns (docs/network.md),\n"
	      "and `docker run -p [IP:]HOSTPORT:PORT` publishes TCP ports (IP default\n"
	      "127.0.0.1). --network none is none either way.\n",
	      f);
}

int sbx_cli_serve(int argc, char **argv)
{
	const char *sock = NULL, *images = NULL;
	/* Our own options out, the sandbox options to the shared parser. */
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	if (!rest)
		return sbx_cli_error("out of memory");
	int nrest = 0;
	rest[nrest++] = argv[0];
	rest[nrest++] = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = !strncmp(a, "--docker-api", 12) ? &sock
				   : !strncmp(a, "--images", 8)	   ? &images
								   : NULL;
		size_t kl = dst == &sock ? 12 : 8;
		if (dst && (a[kl] == 0 || a[kl] == '=')) {
			if (a[kl] == '=') {
				*dst = a + kl + 1;
			} else if (i + 1 < argc) {
				*dst = argv[++i];
			} else {
				free(rest);
				return sbx_cli_error("option %s needs a value", a);
			}
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			free(rest);
			usage(stdout);
			return 0;
		}
		rest[nrest++] = argv[i];
	}
	sbx_run_opts o;
	char msg[512];
	int pr = sbx_opts_parse(&o, nrest, rest, 2, msg, sizeof(msg));
	free(rest);
	if (pr < 0)
		return sbx_cli_error("%s", msg);
	int rc = 0;
	const char *bad = sbx_opts_disallowed(
	    &o, SBX_OPT_ROOTFS | SBX_OPT_MEMORY | SBX_OPT_CPUS | SBX_OPT_PIDS | SBX_OPT_TMP |
		    SBX_OPT_CGPARENT | SBX_OPT_GROUP | SBX_OPT_SIZE | SBX_OPT_PRELOAD |
		    SBX_OPT_MAXTOTAL | SBX_OPT_NET | SBX_OPT_ALLOW | SBX_OPT_DNS);
	if (bad) {
		sbx_opts_free(&o);
		return sbx_cli_error("serve: %s is not an option of sbx serve", bad);
	}
	if (o.cmd_index < nrest) {
		sbx_opts_free(&o);
		return sbx_cli_error("serve: unexpected argument (see sbx serve --help)");
	}
	if (!sock || !sock[0]) {
		sbx_opts_free(&o);
		return sbx_cli_error("serve: --docker-api PATH is required (see sbx serve --help)");
	}
	char imgdir[4096];
	if (!images) {
		snprintf(imgdir, sizeof(imgdir), "%s/images", sbx_state_root());
		images = imgdir;
	}
	serve_state *s = calloc(1, sizeof(*s));
	if (!s) {
		sbx_opts_free(&o);
		return sbx_cli_error("out of memory");
	}
	pthread_mutex_init(&s->mu, NULL);
	sbx_cond_init(&s->cv);
	dapi_opts eo = {0};
	eo.pool_size = o.seen & SBX_OPT_SIZE ? o.size : SERVE_POOL_DEFAULT;
	eo.image_dir = images;
	eo.defaults = o.cfg;
	eo.preload = o.preload;
	/* Fresh mode: a pre-forked sandbox runs one command at a time, and a
	 * container runs its main process and execs side by side. */
	eo.pool_fork = false;
	/* --rootfs is what sbx-python:latest names (the pool's and the
	 * containers' rootfs must be the same directory). */
	char rootfs_abs[4096];
	if (o.cfg.rootfs) {
		if (!realpath(o.cfg.rootfs, rootfs_abs)) {
			sbx_opts_free(&o);
			free(s);
			return sbx_cli_error("serve: --rootfs %s: %s", o.cfg.rootfs,
					     strerror(errno));
		}
		setenv("SBX_ROOTFS", rootfs_abs, 1);
		eo.defaults.rootfs = NULL;
	}
	eo.max_total = o.seen & SBX_OPT_MAXTOTAL ? o.max_total : 0;
	sbx_cleanup(NULL);
	sigset_t old;
	int sfd = sbx_cli_signalfd(&old);
	sbx_error err = {0};
	int lfd = sbx_daemon_listen(sock, o.group, &err);
	if (lfd < 0) {
		rc = sbx_cli_error("%s", err.msg);
	} else if (dapi_engine_init(&s->eng, &eo, &err) < 0) {
		rc = sbx_cli_error("%s", err.msg);
		close(lfd);
		unlink(sock);
	} else {
		sbx_cli_note("Docker Engine API serving on %s (warm pools of %u: default network "
			     "(%s), none)",
			     sock, eo.pool_size,
			     eo.defaults.net == SBX_NET_EGRESS ? "egress" : "private loopback");
		if (s->eng.no_writable_root)
			sbx_cli_note("containers get a read-only root here: %s", s->eng.why_ro);
		if (accept_loop(s, lfd, sfd) < 0)
			rc = sbx_cli_error("serve: poll: %s", strerror(errno));
		close(lfd);
		unlink(sock);
		/* Stop: the connections are cut, every container goes (which
		 * ends the streams and execs), then the connections' threads
		 * are waited for (10 s at most). */
		pthread_mutex_lock(&s->mu);
		for (int i = 0; i < s->n; i++)
			shutdown(s->fds[i], SHUT_RDWR);
		pthread_mutex_unlock(&s->mu);
		dapi_engine_stop(&s->eng);
		pthread_mutex_lock(&s->mu);
		uint64_t deadline = sbx_deadline_ns(sbx_now_ns(), 10000);
		while (s->n > 0 && sbx_now_ns() < deadline)
			sbx_cond_wait_ns(&s->cv, &s->mu, 100000000);
		bool left = s->n > 0;
		pthread_mutex_unlock(&s->mu);
		if (!left)
			dapi_engine_free(&s->eng);
		if (left) {
			/* threads still in a request: leave them to the exit */
			sbx_opts_free(&o);
			close(sfd);
			return rc;
		}
	}
	struct signalfd_siginfo si;
	while (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	sbx_opts_free(&o);
	return rc;
}
