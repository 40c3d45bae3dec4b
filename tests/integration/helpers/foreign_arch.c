/* foreign_arch i386|x32: try system calls through a foreign ABI.
 *
 * i386: "int $0x80" getpid (20) and unshare(CLONE_NEWUSER) (310).
 * x32:  syscall numbers with __X32_SYSCALL_BIT: getpid (39), unshare (272).
 *
 * Prints one line per call, then "RESULT blocked" (exit 0) when every call
 * failed, or "RESULT SUCCEEDED" (exit 1) when one of them worked. A seccomp
 * filter that kills the process instead ends it with SIGSYS before that.
 * Built statically by run.sh and run from a read-only workspace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define X32_BIT 0x40000000L

static long i386_call(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	long pid = getpid(), r;
	int ok = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: foreign_arch i386|x32\n");
		return 2;
	}
	if (!strcmp(argv[1], "i386")) {
		r = i386_call(20, 0, 0, 0);
		printf("i386 getpid: %ld (pid %ld)\n", r, pid);
		ok |= r == pid;
		r = i386_call(310, CLONE_NEWUSER, 0, 0);
		printf("i386 unshare(CLONE_NEWUSER): %ld\n", r);
		ok |= r == 0;
	} else if (!strcmp(argv[1], "x32")) {
		r = syscall(X32_BIT | 39);
		printf("x32 getpid: %ld (pid %ld) %s\n", r, pid, r < 0 ? strerror(errno) : "");
		ok |= r == pid;
		r = syscall(X32_BIT | 272, CLONE_NEWUSER);
		printf("x32 unshare(CLONE_NEWUSER): %ld %s\n", r, r < 0 ? strerror(errno) : "");
		ok |= r == 0;
	} else {
		fprintf(stderr, "foreign_arch: unknown ABI %s\n", argv[1]);
		return 2;
	}
	printf("RESULT %s\n", ok ? "SUCCEEDED" : "blocked");
	return ok;
}
