/* The spec's pure lookups: names of capabilities, rlimits and signals,
 * and a config's namespace of a kind. (No parser here: spec_parse.c and
 * the files it uses depend on this one, not the reverse.) */
#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include "ocirt/spec.h"

/* linux/capability.h, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40). */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int sbx_oci_cap_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(cap_names); i++)
		if (!strcmp(name, cap_names[i]))
			return (int)i;
	return -1;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},		  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},	  {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},	  {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	  {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},	  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int sbx_oci_rlimit_from_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(rlimit_names); i++)
		if (!strcmp(name, rlimit_names[i].name))
			return rlimit_names[i].resource;
	return -1;
}

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT},	{"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},	{"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},	   {"TSTP", SIGTSTP},	{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},	   {"XCPU", SIGXCPU},	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},	   {"WINCH", SIGWINCH}, {"IO", SIGIO},	   {"POLL", SIGPOLL},
    {"PWR", SIGPWR},	   {"SYS", SIGSYS},
};

/* A decimal number of at most 3 digits, the whole of s; -1 otherwise. */
static int small_number(const char *s)
{
	int v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int sbx_oci_signal_from_name(const char *name)
{
	if (!name)
		return -1;
	int n = small_number(name);
	if (n >= 0)
		return n >= 1 && n <= SIGRTMAX ? n : -1;
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < ARRAY_LEN(signal_names); i++)
		if (!strcasecmp(name, signal_names[i].name))
			return signal_names[i].sig;
	/* RTMIN, RTMIN+N, RTMAX, RTMAX-N (libc's SIGRTMIN: 34 with glibc) */
	int base = 0, sign = 0;
	if (!strncasecmp(name, "RTMIN", 5))
		base = SIGRTMIN, sign = 1;
	else if (!strncasecmp(name, "RTMAX", 5))
		base = SIGRTMAX, sign = -1;
	else
		return -1;
	name += 5;
	if (!*name)
		return base;
	if (*name != (sign > 0 ? '+' : '-') || (n = small_number(name + 1)) < 0)
		return -1;
	int sig = base + sign * n;
	return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
}

const sbx_oci_ns *sbx_oci_spec_ns(const sbx_oci_spec *s, int kind)
{
	for (size_t i = 0; s && i < s->n_namespaces; i++)
		if (s->namespaces[i].kind == kind)
			return &s->namespaces[i];
	return NULL;
}
