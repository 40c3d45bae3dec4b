/* The container's console (process.terminal): a pty whose master goes to
 * the --console-socket, whose slave becomes the process's terminal. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "base/util.h"
#include "ocirt/process.h"
#include "ocirt/process_int.h"

/* The data sent with the master fd, as runc sends it (conmon and
 * containerd-shim read the fd and ignore the name). */
static const char PTMX[] = "/dev/ptmx";

static int send_fd(int sock, int fd, sbx_error *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {.iov_base = (void *)PTMX, .iov_len = sizeof(PTMX) - 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno,
				      "send the console to the console socket");
	return 0;
}

/* The slave of master, opened O_RDWR|O_NOCTTY: TIOCGPTPEER, or by its
 * name on kernels without it. */
static int open_slave(int master, sbx_error *err)
{
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	char name[64];
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: ptsname");
	fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: open %s", name);
	return fd;
}

/* fd moved above 2 (when 0-2 were closed, it may have become one of
 * them; the dup2s to 0-2 must not close it). */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(fd);
	errno = e;
	return nfd;
}

/* The slave bound over /dev/console (through /proc/self/fd: its name in
 * this mount namespace does not matter). */
static int mount_console(int slave, sbx_error *err)
{
	struct stat st;
	if (lstat("/dev/console", &st) < 0) {
		if (errno != ENOENT)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: /dev/console");
		int fd = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
			      0600);
		if (fd < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno,
					      "console: create /dev/console");
		close(fd);
	} else if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
		return sbx_fail(err, SBX_E_SETUP, "console: /dev/console is a %s",
				S_ISLNK(st.st_mode) ? "symbolic link" : "directory");
	}
	char src[40];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", slave);
	if (mount(src, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: bind over /dev/console");
	return 0;
}

int sbx_oci_console_setup(int console_sock, uid_t uid, bool bind_console, sbx_error *err)
{
	if (console_sock < 0)
		return sbx_fail(err, SBX_E_SETUP,
				"process.terminal is set but there is no console socket");
	_cleanup_close_ int master = above_stdio(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
	if (master < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: open /dev/ptmx");
	if (unlockpt(master) != 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: unlockpt");
	int r;
	_cleanup_close_ int slave = open_slave(master, err);
	if (slave < 0)
		return slave;
	if ((slave = above_stdio(slave)) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: dup");
	/* The process may not be root: the terminal is its own (ignored where
	 * the uid has no mapping). */
	if (fchown(slave, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: chown");
	if (bind_console && (r = mount_console(slave, err)) < 0)
		return r;
	if ((r = send_fd(console_sock, master, err)) < 0)
		return r;
	if (setsid() < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: TIOCSCTTY");
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(slave, fd) < 0)
			return sbx_fail_errno(err, SBX_E_SETUP, errno, "console: dup2");
	return 0;
}
