/* netd: the host side of an egress sandbox's network (see netd.h). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fdutil.h"
#include "base/readall.h"
#include "base/util.h"
#include "core/netd.h"
#include "core/netd_int.h"

#define NETD_MAX_HOST_ADDRS 64

void sbx_netd_init(sbx_netd *n)
{
	n->pid = 0;
	n->pidfd = -1;
}

/* ---- inside netd: set-up steps, each 0 or a negative sbx error ------- */

static void report(int fd, char kind, const char *text)
{
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%c%s", kind, text ? text : "");
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	ssize_t w = write(fd, buf, (size_t)n);
	(void)w;
}

static int join_cgroups(const int *cgfds, size_t n, sbx_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (cgfds[i] >= 0 && write(cgfds[i], "0", 1) != 1)
			return sbx_fail_errno(err, SBX_E_CGROUP, errno,
					      "network helper: cannot join the sandbox's cgroup");
	return 0;
}

/* lo up and the DNS socket bound at 127.0.0.1:53, in the sandbox's
 * namespace (netd is single-threaded: setns moves all of it, and back). */
static int bind_dns(sbx_netd_ctx *c, sbx_error *err)
{
	if (setns(c->netns, CLONE_NEWNET) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "enter the sandbox's network");
	int r = 0;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
		r = sbx_fail_errno(err, SBX_E_SETUP, errno, "bring up lo");
	if (s >= 0)
		close(s);
	c->dns_fd = r == 0 ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r == 0 && (c->dns_fd < 0 || bind(c->dns_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0))
		r = sbx_fail_errno(err, SBX_E_SETUP, errno, "bind the sandbox's DNS port");
	if (setns(c->hostns, CLONE_NEWNET) < 0)
		_exit(1); /* cannot go back: nothing sane is left to do */
	return r;
}

/* slirp4netns started; *ready is the fd it writes "1" to once tap0 is
 * configured (wait_slirp). */
static int start_slirp(sbx_netd_ctx *c, bool host_lo, const char *api, int exit_r, int *ready,
		       sbx_error *err)
{
	char prog[64];
	int r = sbx_netd_find("slirp4netns", "slirp4netns", prog, sizeof(prog), err);
	if (r < 0)
		return r;
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "pipe");
	_cleanup_close_ int rr = rp[0], rw = rp[1];
	char apiopt[PATH_MAX + 16];
	snprintf(apiopt, sizeof(apiopt), "--api-socket=%s", api ? api : "");
	/* fds: 3 ready, 4 exit, 5 the namespace */
	char *argv[16];
	int n = 0;
	argv[n++] = prog;
	argv[n++] = "--configure";
	argv[n++] = "--mtu=65520";
	argv[n++] = "--disable-dns";
	argv[n++] = "--enable-sandbox";
	argv[n++] = "--enable-seccomp";
	if (!host_lo)
		argv[n++] = "--disable-host-loopback";
	argv[n++] = "--ready-fd=3";
	argv[n++] = "--exit-fd=4";
	argv[n++] = "--netns-type=path";
	if (api)
		argv[n++] = apiopt;
	argv[n++] = "/proc/self/fd/5";
	argv[n++] = "tap0";
	argv[n] = NULL;
	int extra[3] = {rw, exit_r, c->netns};
	c->slirp = sbx_netd_spawn(argv, -1, -1, c->debug ? 2 : -1, extra, 3, -1, &c->slirp_fd);
	if (c->slirp < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "start slirp4netns");
	*ready = sbx_steal_fd(&rr);
	return 0;
}

static int wait_slirp(sbx_netd_ctx *c, int rr, sbx_error *err)
{
	struct pollfd pf[2] = {{rr, POLLIN, 0}, {c->slirp_fd, POLLIN, 0}};
	int pr;
	do
		pr = poll(pf, 2, SBX_NETD_STEP_MS);
	while (pr < 0 && errno == EINTR);
	char b = 0;
	if (pr > 0 && (pf[0].revents & POLLIN) && read(rr, &b, 1) == 1 && b == '1')
		return 0;
	return sbx_fail(err, SBX_E_SETUP, "slirp4netns %s",
			pr == 0 ? "did not configure the network in time"
				: "failed to configure the network (SBX_DEBUG=1 shows why)");
}

/* One request on slirp4netns's API socket (it answers and closes). */
static int api_call(const char *api, const char *req, char *reply, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", api);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	struct timeval tv = {5, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (write(s, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	size_t got = 0;
	ssize_t r;
	while (got < cap - 1 && (r = read(s, reply + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	reply[got] = '\0';
	return got > 0 ? 0 : -1;
}

static int publish(const sbx_config *cfg, const char *api, sbx_error *err)
{
	for (size_t i = 0; i < cfg->n_net_publish; i++) {
		sbx_net_publish p;
		int r = sbx_net_publish_parse(cfg->net_publish[i], &p, err);
		if (r < 0)
			return r;
		char addr[INET_ADDRSTRLEN], req[256], reply[512];
		inet_ntop(AF_INET, p.host_addr, addr, sizeof(addr));
		snprintf(req, sizeof(req),
			 "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", "
			 "\"host_addr\": \"%s\", \"host_port\": %u, \"guest_addr\": \"%s\", "
			 "\"guest_port\": %u}}",
			 addr, p.host_port, SBX_NET_GUEST_ADDR, p.port);
		if (api_call(api, req, reply, sizeof(reply)) < 0 || !strstr(reply, "\"return\""))
			return sbx_fail(err, SBX_E_SETUP,
					"cannot publish %s:%u (port in use or address not local?)",
					addr, p.host_port);
	}
	return 0;
}

/* The host's own IPv4 addresses (none of them is reachable from inside
 * unless allowed). */
static size_t host_addrs(uint8_t *out, size_t max)
{
	struct ifaddrs *ifa = NULL;
	size_t n = 0;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (struct ifaddrs *i = ifa; i && n < max; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			memcpy(out + 4 * n++, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
	freeifaddrs(ifa);
	return n;
}

static int load_rules(sbx_netd_ctx *c, sbx_netd_job *j, sbx_error *err)
{
	uint8_t addrs[4 * NETD_MAX_HOST_ADDRS];
	size_t nh = host_addrs(addrs, NETD_MAX_HOST_ADDRS);
	_cleanup_buf_ sbx_buf b = {0};
	int r = sbx_net_ruleset(&b, c->allow, c->n_allow, addrs, nh, err);
	if (r == 0)
		r = sbx_netd_nft_begin(c, b.data, b.len, j, err);
	return r;
}

static int parse_config(sbx_netd_ctx *c, const sbx_config *cfg, sbx_error *err)
{
	c->n_allow = cfg->n_net_allow;
	c->allow = calloc(c->n_allow ? c->n_allow : 1, sizeof(*c->allow));
	if (!c->allow)
		return sbx_fail(err, SBX_E_SYSTEM, "out of memory");
	for (size_t i = 0; i < c->n_allow; i++) {
		int r = sbx_net_allow_parse(cfg->net_allow[i], &c->allow[i], err);
		if (r < 0)
			return r;
	}
	if (cfg->net_dns) {
		c->have_upstream = sbx_net_dns_parse(cfg->net_dns, &c->upstream, err) == 0;
		if (!c->have_upstream)
			return -SBX_E_INVALID;
	} else {
		_cleanup_free_ char *rc = NULL;
		size_t len;
		sbx_error e;
		if (sbx_read_all(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &rc, &len, &e) == 0)
			c->have_upstream = sbx_net_dns_from_resolv(rc, &c->upstream, &e) == 0;
	}
	return 0;
}

static void end_slirp(sbx_netd_ctx *c)
{
	if (c->slirp > 0) {
		syscall(SYS_pidfd_send_signal, c->slirp_fd, SIGKILL, NULL, 0);
		sbx_netd_reap(c->slirp, c->slirp_fd, 2000);
		c->slirp = 0;
	}
}

static int setup(sbx_netd_ctx *c, const sbx_config *cfg, pid_t init, int exit_r, sbx_error *err)
{
	int r = parse_config(c, cfg, err);
	if (r < 0)
		return r;
	c->init_fd = (int)syscall(SYS_pidfd_open, init, 0);
	c->hostns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->init_fd < 0 || c->hostns < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "network helper: pidfd");
	char dir[] = "/tmp/sbx-net-XXXXXX", api[sizeof(dir) + 8];
	bool pub = cfg->n_net_publish > 0;
	if (pub && !mkdtemp(dir))
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "mkdtemp");
	snprintf(api, sizeof(api), "%s/api", dir);
	/* slirp4netns and nft side by side: both only need the namespace. */
	uint64_t t0 = sbx_now_ns();
	_cleanup_close_ int ready = -1;
	sbx_netd_job j = {-1, -1, -1};
	r = start_slirp(c, sbx_net_allow_host_loopback(c->allow, c->n_allow), pub ? api : NULL,
			exit_r, &ready, err);
	if (r == 0)
		r = load_rules(c, &j, err);
	if (r == 0)
		r = wait_slirp(c, ready, err);
	sbx_debug("netd: slirp4netns ready %lluus", (unsigned long long)(sbx_now_ns() - t0) / 1000);
	int rn = sbx_netd_nft_end(&j, r == 0 ? err : &(sbx_error){0});
	if (r == 0)
		r = rn;
	sbx_debug("netd: rules loaded %lluus", (unsigned long long)(sbx_now_ns() - t0) / 1000);
	if (r == 0 && pub)
		r = publish(cfg, api, err);
	if (pub) { /* slirp keeps listening on it; nobody can reach it now */
		unlink(api);
		rmdir(dir);
	}
	if (r == 0)
		r = bind_dns(c, err);
	return r;
}

/* netd's body: never returns. */
static void netd_main(const sbx_config *cfg, pid_t init, int rep, int netns, int exit_r, int exit_w,
		      const int *cgfds, size_t ncg, bool debug)
{
	setsid();
	int keep[16] = {rep, netns, exit_r, exit_w};
	size_t nk = 4;
	for (size_t i = 0; i < ncg && nk < 16; i++)
		keep[nk++] = cgfds[i];
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < (debug ? 2 : 3) && nul >= 0; i++)
		dup2(nul, i);
	sbx_close_all_except(keep, nk);
	signal(SIGPIPE, SIG_IGN);
	sbx_error err;
	memset(&err, 0, sizeof(err));
	sbx_netd_ctx c = {.netns = netns,
			  .hostns = -1,
			  .init_fd = -1,
			  .slirp_fd = -1,
			  .dns_fd = -1,
			  .debug = debug};
	int r = join_cgroups(cgfds, ncg, &err);
	for (size_t i = 0; i < ncg; i++)
		close(cgfds[i]);
	if (r == 0) {
		char pid[24];
		snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		report(rep, 'P', pid);
		r = setup(&c, cfg, init, exit_r, &err);
	}
	close(exit_r);
	if (r < 0) {
		report(rep, 'E', err.msg);
		end_slirp(&c);
		_exit(1);
	}
	report(rep, 'O', NULL);
	close(rep);
	sbx_netd_dns_loop(&c);
	end_slirp(&c);
	(void)exit_w; /* closed by our exit: slirp4netns's --exit-fd */
	_exit(0);
}

/* ---- the launcher's side ------------------------------------------- */

int sbx_netd_start(sbx_netd *n, const sbx_config *cfg, pid_t init, const sbx_cgroup *cg,
		   sbx_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	_cleanup_close_ int netns = open(path, O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "open %s", path);
	int cgfds[SBX_CG_N + 1];
	int ncg = sbx_cgroup_v1_task_fds(cg, cgfds, SBX_CG_N, err);
	if (ncg < 0)
		return ncg;
	if (cg->v2_fd >= 0) {
		int fd = openat(cg->v2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd >= 0)
			cgfds[ncg++] = fd;
	}
	int rp[2] = {-1, -1}, ep[2] = {-1, -1};
	int r = 0;
	if (pipe2(rp, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "pipe");
	bool debug = sbx_debug_on();
	pid_t mid = -1;
	if (r == 0) {
		sbx_clone_lock(); /* see util.h */
		mid = fork();
		if (mid != 0)
			sbx_clone_unlock();
		else
			sbx_clone_lock_reset();
		if (mid == 0) {
			if (fork() == 0)
				netd_main(cfg, init, rp[1], netns, ep[0], ep[1], cgfds, (size_t)ncg,
					  debug);
			_exit(0);
		}
		if (mid < 0)
			r = sbx_fail_errno(err, SBX_E_SYSTEM, errno, "fork");
		else
			while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	for (int i = 0; i < ncg; i++)
		close(cgfds[i]);
	sbx_closep(&rp[1]);
	sbx_closep(&ep[0]);
	sbx_closep(&ep[1]);
	_cleanup_close_ int rd = rp[0];
	if (r < 0)
		return r;
	/* Its reports: "P<pid>\n" once in its cgroups, then "O" or "E<why>". */
	char buf[700];
	size_t got = 0;
	uint64_t end = sbx_now_ns() + (uint64_t)SBX_NETD_START_MS * 1000000;
	bool done = false;
	while (!done && got < sizeof(buf) - 1) {
		uint64_t now = sbx_now_ns();
		if (now >= end)
			break;
		struct pollfd pf = {rd, POLLIN, 0};
		int pr = poll(&pf, 1, (int)((end - now) / 1000000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		ssize_t k = read(rd, buf + got, sizeof(buf) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			done = true;
		else
			got += (size_t)k;
		buf[got] = '\0';
		if (n->pid == 0 && buf[0] == 'P' && strchr(buf, '\n')) {
			n->pid = (pid_t)atoi(buf + 1);
			n->pidfd = n->pid > 0 ? (int)syscall(SYS_pidfd_open, n->pid, 0) : -1;
		}
		if (strstr(buf, "\nO"))
			done = true;
	}
	buf[got] = '\0';
	char *nl = buf[0] == 'P' ? strchr(buf, '\n') : NULL;
	if (nl && nl[1] == 'O')
		return 0;
	if (nl && nl[1] == 'E')
		r = sbx_fail(err, SBX_E_SETUP, "network: %s", nl + 2);
	else if (buf[0] == 'E')
		r = sbx_fail(err, SBX_E_SETUP, "network: %s", buf + 1);
	else
		r = sbx_fail(err, SBX_E_SETUP, "network: the helper %s",
			     done ? "ended during set-up" : "did not finish in time");
	sbx_netd_stop(n);
	return r;
}

void sbx_netd_stop(sbx_netd *n)
{
	/* netd ends by itself when the sandbox's init has (a release) or
	 * after reporting a set-up error (sbx_netd_start), killing and reaping
	 * slirp4netns first, so the cgroups are empty at once (a SIGKILL first
	 * would leave slirp4netns to exit on its own a little later, and the
	 * cgroups' removal to wait for it). Killed if it has not within 2 s. */
	struct pollfd pf = {n->pidfd, POLLIN, 0};
	for (int round = 0; n->pidfd >= 0 && round < 2; round++) {
		if (round == 1)
			syscall(SYS_pidfd_send_signal, n->pidfd, SIGKILL, NULL, 0);
		int pr;
		while ((pr = poll(&pf, 1, 2000)) < 0 && errno == EINTR)
			;
		if (pr > 0)
			break;
	}
	sbx_netd_forget(n);
}

void sbx_netd_forget(sbx_netd *n)
{
	sbx_closep(&n->pidfd);
	n->pid = 0;
}

int sbx_netd_available(char *detail, size_t cap, sbx_error *err)
{
	char slirp[64], nft[64];
	int r = sbx_netd_find("slirp4netns", "slirp4netns", slirp, sizeof(slirp), err);
	if (r == 0)
		r = sbx_netd_find("nft", "nftables", nft, sizeof(nft), err);
	if (r < 0)
		return r;
	if (access("/dev/net/tun", R_OK | W_OK) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "--net egress needs /dev/net/tun");
	snprintf(detail, cap, "%s, %s, /dev/net/tun", slirp, nft);
	return 0;
}
