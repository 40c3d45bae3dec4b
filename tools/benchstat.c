/* benchstat — statistics and report writer of tools/bench.
 *
 *   benchstat report --rows ROWS.tsv --samples SAMPLES.tsv --out DIR [--machine MACHINE.json]
 *                    [--boot B (2000)] [--seed S (1)] [--no-plot] [--title TEXT]
 *   benchstat summary FILE
 *
 * ROWS.tsv, one line per series (a row of the table), no header, 6 fields:
 *   INDEX ROW WORKLOAD FLOOR TARGET NOTE
 * INDEX is benchrun's command index of the series or "-" (not measured: NOTE
 * is the reason); FLOOR the INDEX of the floor series of the same workload or
 * "-"; TARGET "-", "over:US", "abs:US" or "notslower:INDEX".
 * SAMPLES.tsv is benchrun's output: PHASE INDEX USEC STATUS PID.  The k-th
 * "run" sample of a series is its round k; failed samples (STATUS != 0) are
 * kept in samples.csv but enter no statistics.
 *
 * Writes into DIR (each file through a temporary file and a rename):
 * samples.csv, results.json, latency.md and, unless --no-plot, latency.gp,
 * latency.dat, latency.svg and latency.png (gnuplot, 60 s deadline; when it
 * cannot run, latency.md says why and the exit status is still 0).
 * Ratios are median / floor median; their 95% CI comes from a paired
 * bootstrap over rounds (B resamples, splitmix64 seeded with S).
 *
 * "summary FILE" reads one number (microseconds) per line and prints
 * "n N median M p95 P min A max B mean C" (integers; "n 0" when empty).
 *
 * Bad input: one line "benchstat: FILE:LINE: what" on stderr, exit 125, no
 * file left behind.  Built by tools/bench (cc -O2 ... -lm); not part of the
 * library.  The unit tests include this file with BENCHSTAT_NO_MAIN.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BS_EXIT_BAD 125
#ifndef BS_PLOT_DEADLINE_MS
#define BS_PLOT_DEADLINE_MS 60000 /* gnuplot's deadline */
#endif

/* ---- small utilities --------------------------------------------------- */

static void bs_die(const char *fmt, ...);

static void *bs_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		bs_die("out of memory");
	return q;
}

static char *bs_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(bs_xrealloc(NULL, n), s, n);
}

/* A growable string. */
struct bs_buf {
	char *p;
	size_t len, cap;
};

static void bs_putn(struct bs_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = bs_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void bs_puts(struct bs_buf *b, const char *s)
{
	bs_putn(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void bs_printf(struct bs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		bs_die("vsnprintf failed");
	bs_putn(b, "", 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = b->len + (size_t)n + 256;
		b->p = bs_xrealloc(b->p, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void bs_buf_free(struct bs_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Round half away from zero (no libm needed). */
static long long bs_round(double x)
{
	return x < 0 ? -(long long)(-x + 0.5) : (long long)(x + 0.5);
}

/* Parse a whole decimal integer in [min, max]; 0 on success. */
static int bs_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Split line (modified in place) at tabs into at most max fields; returns
 * the number of fields found (max + 1 when there are more). */
static size_t bs_split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *t = strchr(p, '\t');

		if (n == max)
			return max + 1;
		f[n++] = p;
		if (!t)
			return n;
		*t = '\0';
		p = t + 1;
	}
}

/* ---- statistics (pure) ------------------------------------------------- */

struct bs_stats {
	size_t n;
	double median, mean;
	long long p95, min, max;
};

static int bs_cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static int bs_cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n >= 1 sorted values (of an even count: the mean of the
 * two middle ones). */
static double bs_median_sorted(const long long *s, size_t n)
{
	if (n % 2)
		return (double)s[n / 2];
	return ((double)s[n / 2 - 1] + (double)s[n / 2]) / 2.0;
}

/* Nearest rank: the ceil(0.95 n)-th smallest of n >= 1 sorted values. */
static long long bs_p95_sorted(const long long *s, size_t n)
{
	size_t rank = (95 * n + 99) / 100;

	return s[rank ? rank - 1 : 0];
}

/* Statistics of v[0..n) (any order; v is not modified). */
static struct bs_stats bs_stats_of(const long long *v, size_t n)
{
	struct bs_stats st = {0};
	long long *s;
	double sum = 0;

	st.n = n;
	if (!n)
		return st;
	s = bs_xrealloc(NULL, n * sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), bs_cmp_ll);
	for (size_t i = 0; i < n; i++)
		sum += (double)s[i];
	st.median = bs_median_sorted(s, n);
	st.p95 = bs_p95_sorted(s, n);
	st.min = s[0];
	st.max = s[n - 1];
	st.mean = sum / (double)n;
	free(s);
	return st;
}

/* splitmix64: the bootstrap's deterministic generator. */
static uint64_t bs_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* 95% CI of median(a)/median(f) by a paired bootstrap: a[k] and f[k] are
 * the two series' samples of the same round k (m rounds).  boot times: draw m
 * rounds with replacement, take the ratio of the medians; lo/hi are the
 * ceil(0.025 boot)-th and ceil(0.975 boot)-th smallest ratios.  -1 (no CI)
 * with fewer than 2 rounds, boot < 1 or a resampled floor median of 0. */
static int bs_ratio_ci(const long long *a, const long long *f, size_t m, long boot, uint64_t seed,
		       double *lo, double *hi)
{
	long long *ra, *rf;
	double *r;
	uint64_t st = seed;
	int rc = 0;

	if (m < 2 || boot < 1)
		return -1;
	ra = bs_xrealloc(NULL, m * sizeof(*ra));
	rf = bs_xrealloc(NULL, m * sizeof(*rf));
	r = bs_xrealloc(NULL, (size_t)boot * sizeof(*r));
	for (long b = 0; b < boot && !rc; b++) {
		double ma, mf;

		for (size_t i = 0; i < m; i++) {
			size_t k = (size_t)(bs_rng_next(&st) % m);

			ra[i] = a[k];
			rf[i] = f[k];
		}
		qsort(ra, m, sizeof(*ra), bs_cmp_ll);
		qsort(rf, m, sizeof(*rf), bs_cmp_ll);
		ma = bs_median_sorted(ra, m);
		mf = bs_median_sorted(rf, m);
		if (mf <= 0)
			rc = -1;
		else
			r[b] = ma / mf;
	}
	if (!rc) {
		size_t nb = (size_t)boot, klo = (25 * nb + 999) / 1000,
		       khi = (975 * nb + 999) / 1000;

		qsort(r, nb, sizeof(*r), bs_cmp_d);
		*lo = r[klo ? klo - 1 : 0];
		*hi = r[khi ? khi - 1 : 0];
	}
	free(ra);
	free(rf);
	free(r);
	return rc;
}

/* ---- targets ----------------------------------------------------------- */

enum bs_target_kind { BS_T_NONE, BS_T_OVER, BS_T_ABS, BS_T_NOTSLOWER };

struct bs_target {
	enum bs_target_kind kind;
	long long value; /* microseconds, or the other series' INDEX */
};

/* "-", "over:US", "abs:US" or "notslower:INDEX"; 0 on success. */
static int bs_target_parse(const char *s, struct bs_target *t)
{
	static const struct {
		const char *prefix;
		enum bs_target_kind kind;
	} kinds[] = {{"over:", BS_T_OVER}, {"abs:", BS_T_ABS}, {"notslower:", BS_T_NOTSLOWER}};

	t->kind = BS_T_NONE;
	t->value = 0;
	if (!strcmp(s, "-"))
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (!strncmp(s, kinds[i].prefix, n)) {
			long long min = kinds[i].kind == BS_T_NOTSLOWER ? 0 : 1;

			if (bs_parse_ll(s + n, min, INT_MAX, &t->value))
				return -1;
			t->kind = kinds[i].kind;
			return 0;
		}
	}
	return -1;
}

/* 1 met, 0 missed, -1 not applicable (no median, or the floor's / the
 * other series' median is missing: have_* == 0). */
static int bs_target_eval(const struct bs_target *t, int have, double median, int have_floor,
			  double floor_median, int have_other, double other_median)
{
	if (t->kind == BS_T_NONE || !have)
		return -1;
	switch (t->kind) {
	case BS_T_OVER:
		return have_floor ? median - floor_median < (double)t->value : -1;
	case BS_T_ABS:
		return median < (double)t->value;
	case BS_T_NOTSLOWER:
		return have_other ? median <= other_median : -1;
	default:
		return -1;
	}
}

/* ---- escaping (pure) --------------------------------------------------- */

/* One CSV field (RFC 4180): quoted when it has a comma, quote, CR or LF. */
static void bs_csv_field(struct bs_buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		bs_puts(b, s);
		return;
	}
	bs_puts(b, "\"");
	for (; *s; s++)
		bs_puts(b, *s == '"' ? "\"\"" : (char[]){*s, '\0'});
	bs_puts(b, "\"");
}

/* A JSON string, quotes included. */
static void bs_json_str(struct bs_buf *b, const char *s)
{
	bs_puts(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			bs_puts(b, "\\\"");
		else if (c == '\\')
			bs_puts(b, "\\\\");
		else if (c == '\n')
			bs_puts(b, "\\n");
		else if (c == '\t')
			bs_puts(b, "\\t");
		else if (c == '\r')
			bs_puts(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			bs_printf(b, "\\u%04x", c);
		else
			bs_putn(b, s, 1);
	}
	bs_puts(b, "\"");
}

/* A gnuplot single-quoted string (no escapes, no macros, no backquotes
 * are expanded there; ' is doubled; control characters become '?'). */
static void bs_gp_str(struct bs_buf *b, const char *s)
{
	bs_puts(b, "'");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\'')
			bs_puts(b, "''");
		else if (c < 0x20 || c == 0x7f)
			bs_puts(b, "?");
		else
			bs_putn(b, s, 1);
	}
	bs_puts(b, "'");
}

/* A markdown table cell: | escaped. */
static void bs_md_cell(struct bs_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			bs_puts(b, "\\|");
		else
			bs_putn(b, s, 1);
	}
}

/* Milliseconds from microseconds: 1 decimal at >= 10 ms, 2 below. */
static void bs_ms(struct bs_buf *b, double us, int sign)
{
	double ms = us / 1000.0, a = ms < 0 ? -ms : ms;

	if (sign)
		bs_printf(b, a >= 9.95 ? "%+.1f" : "%+.2f", ms);
	else
		bs_printf(b, a >= 9.95 ? "%.1f" : "%.2f", ms);
}

/* ---- minimal JSON validation (MACHINE.json) ----------------------------- */

static const char *bs_json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Returns the end of one JSON value at p, or NULL when invalid. */
static const char *bs_json_value(const char *p, int depth)
{
	p = bs_json_ws(p);
	if (depth > 64)
		return NULL;
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p = bs_json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (*p != '"' || !(p = bs_json_value(p, depth + 1)))
					return NULL;
				p = bs_json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = bs_json_value(p, depth + 1)))
				return NULL;
			p = bs_json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
			p = bs_json_ws(p);
		}
	}
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if ((unsigned char)*p < 0x20)
				return NULL;
			if (*p == '\\') {
				p++;
				if (*p == 'u') {
					for (int i = 1; i <= 4; i++)
						if (!strchr("0123456789abcdefABCDEF", p[i]) ||
						    !p[i])
							return NULL;
					p += 4;
				} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
					return NULL;
				}
			}
		}
		return p + 1;
	}
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		const char *q = p + (*p == '-');

		if (*q == '0')
			q++;
		else if (*q >= '1' && *q <= '9')
			while (*q >= '0' && *q <= '9')
				q++;
		else
			return NULL;
		if (*q == '.') {
			if (!(*++q >= '0' && *q <= '9'))
				return NULL;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		if (*q == 'e' || *q == 'E') {
			q++;
			if (*q == '+' || *q == '-')
				q++;
			if (!(*q >= '0' && *q <= '9'))
				return NULL;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		return q;
	}
	return NULL;
}

/* 0 when s (NUL-terminated, len bytes) is exactly one JSON object. */
static int bs_json_is_object(const char *s, size_t len)
{
	const char *e;

	if (strlen(s) != len || *bs_json_ws(s) != '{')
		return -1;
	e = bs_json_value(s, 0);
	return e && !*bs_json_ws(e) ? 0 : -1;
}

/* ---- input ------------------------------------------------------------- */

struct bs_series {
	long long index; /* -1: not measured */
	char *row, *workload, *note;
	long long floor; /* -1: none */
	char *target_text;
	struct bs_target target;
	size_t line;
	/* run samples in file order */
	long long *us;
	int *status;
	size_t nrun, caprun;
	/* computed */
	long long *ok;
	size_t nok;
	struct bs_stats st;
	int is_floor;
	int has_ratio, has_ci, has_overhead, met;
	double ratio, ci_lo, ci_hi, overhead;
};

struct bs_sample {
	int warmup;
	long long index, usec, status, pid;
	size_t series; /* position in the series array */
	long long round;
};

/* Parse one ROWS.tsv line (modified in place; the series keeps copies).
 * 0, or -1 with a reason in err. */
static int bs_parse_row(char *line, struct bs_series *s, char *err, size_t errlen)
{
	char *f[7];
	size_t n = bs_split_tabs(line, f, 6);

	memset(s, 0, sizeof(*s));
	if (n != 6) {
		snprintf(err, errlen,
			 "%s%zu tab-separated fields, want 6 (INDEX ROW WORKLOAD FLOOR "
			 "TARGET NOTE)",
			 n > 6 ? "more than " : "", n > 6 ? (size_t)6 : n);
		return -1;
	}
	if (!strcmp(f[0], "-"))
		s->index = -1;
	else if (bs_parse_ll(f[0], 0, INT_MAX, &s->index)) {
		snprintf(err, errlen, "INDEX '%.40s' is neither - nor a number", f[0]);
		return -1;
	}
	if (!*f[1]) {
		snprintf(err, errlen, "empty ROW");
		return -1;
	}
	if (!*f[2]) {
		snprintf(err, errlen, "empty WORKLOAD");
		return -1;
	}
	if (!strcmp(f[3], "-"))
		s->floor = -1;
	else if (bs_parse_ll(f[3], 0, INT_MAX, &s->floor)) {
		snprintf(err, errlen, "FLOOR '%.40s' is neither - nor a number", f[3]);
		return -1;
	}
	if (bs_target_parse(f[4], &s->target)) {
		snprintf(err, errlen, "TARGET '%.40s' is not -, over:US, abs:US or notslower:INDEX",
			 f[4]);
		return -1;
	}
	s->row = bs_xstrdup(f[1]);
	s->workload = bs_xstrdup(f[2]);
	s->target_text = s->target.kind == BS_T_NONE ? NULL : bs_xstrdup(f[4]);
	s->note = bs_xstrdup(f[5]);
	return 0;
}

/* Parse one SAMPLES.tsv line (modified in place). */
static int bs_parse_sample(char *line, struct bs_sample *s, char *err, size_t errlen)
{
	char *f[6];
	size_t n = bs_split_tabs(line, f, 5);

	memset(s, 0, sizeof(*s));
	if (n != 5) {
		snprintf(err, errlen,
			 "%s%zu tab-separated fields, want 5 (PHASE INDEX USEC STATUS PID)",
			 n > 5 ? "more than " : "", n > 5 ? (size_t)5 : n);
		return -1;
	}
	if (!strcmp(f[0], "warmup"))
		s->warmup = 1;
	else if (strcmp(f[0], "run")) {
		snprintf(err, errlen, "unknown PHASE '%.40s' (want warmup or run)", f[0]);
		return -1;
	}
	if (bs_parse_ll(f[1], 0, INT_MAX, &s->index)) {
		snprintf(err, errlen, "INDEX '%.40s' is not a number", f[1]);
		return -1;
	}
	if (bs_parse_ll(f[2], 0, LLONG_MAX / 4, &s->usec)) {
		snprintf(err, errlen, "USEC '%.40s' is not a number", f[2]);
		return -1;
	}
	if (bs_parse_ll(f[3], INT_MIN, INT_MAX, &s->status)) {
		snprintf(err, errlen, "STATUS '%.40s' is not a number", f[3]);
		return -1;
	}
	if (bs_parse_ll(f[4], -1, INT_MAX, &s->pid)) {
		snprintf(err, errlen, "PID '%.40s' is not a number", f[4]);
		return -1;
	}
	return 0;
}

/* ---- process-wide state for cleanup ------------------------------------ */

/* The temporary file being written and the plotting child, removed and
 * killed on an error or a signal (heap strings; set/cleared around use). */
static char *volatile bs_tmp_path;
static char *volatile bs_tmp_path2;
static char *volatile bs_tmp_path3;
static volatile pid_t bs_child = -1;

static void bs_cleanup(void)
{
	if (bs_child > 0) {
		kill(-bs_child, SIGKILL);
		kill(bs_child, SIGKILL);
		waitpid(bs_child, NULL, 0);
		bs_child = -1;
	}
	if (bs_tmp_path)
		unlink(bs_tmp_path);
	if (bs_tmp_path2)
		unlink(bs_tmp_path2);
	if (bs_tmp_path3)
		unlink(bs_tmp_path3);
}

static void bs_on_signal(int sig)
{
	bs_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line on stderr, in one write. */
static void bs_vmsg(const char *fmt, va_list ap)
{
	struct bs_buf b = {0};
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	b.p = malloc((size_t)(n > 0 ? n : 0) + 16);
	if (!b.p)
		return;
	memcpy(b.p, "benchstat: ", 11);
	vsnprintf(b.p + 11, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
	b.len = strlen(b.p);
	b.p[b.len++] = '\n';
	if (write(2, b.p, b.len) < 0) {
		/* nothing left to tell */
	}
	free(b.p);
}

static void bs_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bs_vmsg(fmt, ap);
	va_end(ap);
	bs_cleanup();
	exit(BS_EXIT_BAD);
}

/* Read a whole file (NUL-terminated; *len bytes without the NUL). */
static char *bs_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct bs_buf b = {0};
	char chunk[8192];
	size_t n;

	if (!f)
		bs_die("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		bs_putn(&b, chunk, n);
	if (ferror(f))
		bs_die("%s: read error", path);
	fclose(f);
	bs_putn(&b, "", 0);
	*len = b.len;
	return b.p;
}

/* Next line of a text buffer (modified in place); NULL at the end. */
static char *bs_next_line(char **cur)
{
	char *p = *cur, *nl;

	if (!p || !*p)
		return NULL;
	nl = strchr(p, '\n');
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = p + strlen(p);
	}
	return p;
}

/* ---- the report -------------------------------------------------------- */

struct bs_report {
	const char *rows_path, *samples_path, *out, *machine_path, *title;
	long boot;
	uint64_t seed;
	int plot;
	struct bs_series *ser;
	size_t nser;
	struct bs_sample *smp;
	size_t nsmp;
	char *machine; /* trimmed JSON text, or NULL */
	char **workloads;
	size_t nwork;
};

static struct bs_series *bs_find(struct bs_report *r, long long index)
{
	if (index < 0)
		return NULL;
	for (size_t i = 0; i < r->nser; i++)
		if (r->ser[i].index == index)
			return &r->ser[i];
	return NULL;
}

static void bs_load_rows(struct bs_report *r)
{
	size_t len, lineno = 0;
	char *text = bs_read_file(r->rows_path, &len), *cur = text, *line;
	char err[256];

	if (strlen(text) != len)
		bs_die("%s: NUL byte in the file", r->rows_path);
	while ((line = bs_next_line(&cur))) {
		struct bs_series s;

		lineno++;
		if (!*line)
			continue;
		if (bs_parse_row(line, &s, err, sizeof(err)))
			bs_die("%s:%zu: %s", r->rows_path, lineno, err);
		s.line = lineno;
		if (bs_find(r, s.index))
			bs_die("%s:%zu: INDEX %lld appears twice", r->rows_path, lineno, s.index);
		r->ser = bs_xrealloc(r->ser, (r->nser + 1) * sizeof(*r->ser));
		r->ser[r->nser++] = s;
	}
	free(text);
	if (!r->nser)
		bs_die("%s: no rows", r->rows_path);
	for (size_t i = 0; i < r->nser; i++) {
		struct bs_series *s = &r->ser[i];

		if (s->floor >= 0 && !bs_find(r, s->floor))
			bs_die("%s:%zu: FLOOR %lld is no INDEX of this file", r->rows_path, s->line,
			       s->floor);
		if (s->target.kind == BS_T_NOTSLOWER && !bs_find(r, s->target.value))
			bs_die("%s:%zu: TARGET %s: no such INDEX in this file", r->rows_path,
			       s->line, s->target_text);
		if (s->target.kind == BS_T_OVER && s->floor < 0)
			bs_die("%s:%zu: TARGET %s needs a FLOOR", r->rows_path, s->line,
			       s->target_text);
	}
	for (size_t i = 0; i < r->nser; i++) {
		size_t w;

		for (w = 0; w < r->nwork; w++)
			if (!strcmp(r->workloads[w], r->ser[i].workload))
				break;
		if (w == r->nwork) {
			r->workloads = bs_xrealloc(r->workloads, (w + 1) * sizeof(char *));
			r->workloads[r->nwork++] = r->ser[i].workload;
		}
	}
}

static void bs_load_samples(struct bs_report *r)
{
	size_t len, lineno = 0;
	char *text = bs_read_file(r->samples_path, &len), *cur = text, *line;
	char err[256];

	if (strlen(text) != len)
		bs_die("%s: NUL byte in the file", r->samples_path);
	while ((line = bs_next_line(&cur))) {
		struct bs_sample s;
		struct bs_series *se;

		lineno++;
		if (!*line)
			continue;
		if (bs_parse_sample(line, &s, err, sizeof(err)))
			bs_die("%s:%zu: %s", r->samples_path, lineno, err);
		se = bs_find(r, s.index);
		if (!se)
			bs_die("%s:%zu: INDEX %lld is not in %s", r->samples_path, lineno, s.index,
			       r->rows_path);
		s.series = (size_t)(se - r->ser);
		if (!s.warmup) {
			if (se->nrun == se->caprun) {
				se->caprun = se->caprun ? 2 * se->caprun : 32;
				se->us = bs_xrealloc(se->us, se->caprun * sizeof(*se->us));
				se->status =
				    bs_xrealloc(se->status, se->caprun * sizeof(*se->status));
			}
			se->us[se->nrun] = s.usec;
			se->status[se->nrun] = s.status != 0;
			s.round = (long long)++se->nrun;
		}
		r->smp = bs_xrealloc(r->smp, (r->nsmp + 1) * sizeof(*r->smp));
		r->smp[r->nsmp++] = s;
	}
	free(text);
}

static void bs_load_machine(struct bs_report *r)
{
	size_t len;
	char *text, *start, *end;

	if (!r->machine_path)
		return;
	text = bs_read_file(r->machine_path, &len);
	if (bs_json_is_object(text, len))
		bs_die("%s: not a JSON object", r->machine_path);
	start = (char *)bs_json_ws(text);
	end = text + len;
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	*end = '\0';
	r->machine = bs_xstrdup(start);
	free(text);
}

/* Paired rounds of s and f without a failure in either: 0..m. */
static size_t bs_pairs(const struct bs_series *s, const struct bs_series *f, long long *a,
		       long long *b)
{
	size_t rounds = s->nrun < f->nrun ? s->nrun : f->nrun, m = 0;

	for (size_t k = 0; k < rounds; k++) {
		if (s->status[k] || f->status[k])
			continue;
		a[m] = s->us[k];
		b[m] = f->us[k];
		m++;
	}
	return m;
}

static void bs_compute(struct bs_report *r)
{
	for (size_t i = 0; i < r->nser; i++) {
		struct bs_series *s = &r->ser[i];

		s->ok = bs_xrealloc(NULL, (s->nrun ? s->nrun : 1) * sizeof(*s->ok));
		for (size_t k = 0; k < s->nrun; k++)
			if (!s->status[k])
				s->ok[s->nok++] = s->us[k];
		s->st = bs_stats_of(s->ok, s->nok);
		for (size_t j = 0; j < r->nser; j++)
			if (r->ser[j].floor == s->index && s->index >= 0)
				s->is_floor = 1;
	}
	for (size_t i = 0; i < r->nser; i++) {
		struct bs_series *s = &r->ser[i], *f = bs_find(r, s->floor), *o = NULL;
		int floor_ok = f && f->nok > 0;

		if (s->index < 0 || !s->nok)
			s->met = -1;
		if (s->index < 0 || !s->nok)
			continue;
		if (s->floor < 0 || f == s) {
			if (s->is_floor) {
				s->has_ratio = s->has_ci = s->has_overhead = 1;
				s->ratio = s->ci_lo = s->ci_hi = 1.0;
				s->overhead = 0;
			}
			f = s;
			floor_ok = 1;
		} else if (floor_ok) {
			long long *a = bs_xrealloc(NULL, (s->nrun + 1) * sizeof(*a));
			long long *b = bs_xrealloc(NULL, (s->nrun + 1) * sizeof(*b));
			size_t m = bs_pairs(s, f, a, b);

			s->has_overhead = 1;
			s->overhead = s->st.median - f->st.median;
			if (f->st.median > 0) {
				s->has_ratio = 1;
				s->ratio = s->st.median / f->st.median;
				s->has_ci =
				    !bs_ratio_ci(a, b, m, r->boot, r->seed, &s->ci_lo, &s->ci_hi);
			}
			free(a);
			free(b);
		}
		if (s->target.kind == BS_T_NOTSLOWER)
			o = bs_find(r, s->target.value);
		s->met = bs_target_eval(&s->target, 1, s->st.median, floor_ok && s->floor >= 0,
					f->st.median, o && o->nok > 0, o ? o->st.median : 0);
	}
}

/* ---- writing files ----------------------------------------------------- */

static char *bs_path(const char *dir, const char *name)
{
	struct bs_buf b = {0};

	bs_printf(&b, "%s/%s", dir, name);
	return b.p;
}

/* Write DIR/name atomically (temporary file + rename). */
static void bs_write_file(const char *dir, const char *name, const struct bs_buf *content)
{
	struct bs_buf tmp = {0};
	char *final = bs_path(dir, name);
	int fd;
	size_t off = 0;

	bs_printf(&tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
	bs_tmp_path = tmp.p;
	fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		bs_tmp_path = NULL;
		bs_die("%s: %s", tmp.p, strerror(errno));
	}
	while (off < content->len) {
		ssize_t n = write(fd, content->p + off, content->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			bs_die("%s: %s", tmp.p, strerror(n < 0 ? errno : EIO));
		}
		off += (size_t)n;
	}
	if (close(fd))
		bs_die("%s: %s", tmp.p, strerror(errno));
	if (rename(tmp.p, final))
		bs_die("rename %s: %s", final, strerror(errno));
	bs_tmp_path = NULL;
	bs_buf_free(&tmp);
	free(final);
}

static void bs_render_csv(const struct bs_report *r, struct bs_buf *b)
{
	bs_puts(b, "row,workload,round,phase,usec,status,pid\n");
	for (size_t i = 0; i < r->nsmp; i++) {
		const struct bs_sample *s = &r->smp[i];
		const struct bs_series *se = &r->ser[s->series];

		bs_csv_field(b, se->row);
		bs_puts(b, ",");
		bs_csv_field(b, se->workload);
		bs_printf(b, ",%lld,%s,%lld,%lld,%lld\n", s->round, s->warmup ? "warmup" : "run",
			  s->usec, s->status, s->pid);
	}
}

static void bs_json_num_or_null(struct bs_buf *b, int have, double v, int decimals)
{
	if (!have)
		bs_puts(b, "null");
	else if (decimals)
		bs_printf(b, "%.3f", v);
	else
		bs_printf(b, "%lld", bs_round(v));
}

static void bs_render_json(const struct bs_report *r, struct bs_buf *b)
{
	bs_printf(b, "{\"machine\":%s,\"boot\":%ld,\"seed\":%llu,\"series\":[",
		  r->machine ? r->machine : "null", r->boot, (unsigned long long)r->seed);
	for (size_t i = 0; i < r->nser; i++) {
		const struct bs_series *s = &r->ser[i];
		int have = s->nok > 0;

		bs_puts(b, i ? ",\n{\"row\":" : "\n{\"row\":");
		bs_json_str(b, s->row);
		bs_puts(b, ",\"workload\":");
		bs_json_str(b, s->workload);
		if (s->index >= 0)
			bs_printf(b, ",\"index\":%lld,\"measured\":true", s->index);
		else
			bs_puts(b, ",\"index\":null,\"measured\":false");
		bs_puts(b, ",\"note\":");
		bs_json_str(b, s->note);
		bs_printf(b, ",\"n\":%zu,\"failed\":%zu", s->nok, s->nrun - s->nok);
		bs_puts(b, ",\"median_us\":");
		bs_json_num_or_null(b, have, s->st.median, 0);
		bs_puts(b, ",\"p95_us\":");
		bs_json_num_or_null(b, have, (double)s->st.p95, 0);
		bs_puts(b, ",\"min_us\":");
		bs_json_num_or_null(b, have, (double)s->st.min, 0);
		bs_puts(b, ",\"max_us\":");
		bs_json_num_or_null(b, have, (double)s->st.max, 0);
		bs_puts(b, ",\"mean_us\":");
		bs_json_num_or_null(b, have, s->st.mean, 0);
		bs_puts(b, ",\"ratio\":");
		bs_json_num_or_null(b, s->has_ratio, s->ratio, 3);
		if (s->has_ci)
			bs_printf(b, ",\"ratio_ci95\":[%.3f,%.3f]", s->ci_lo, s->ci_hi);
		else
			bs_puts(b, ",\"ratio_ci95\":null");
		bs_puts(b, ",\"overhead_us\":");
		bs_json_num_or_null(b, s->has_overhead, s->overhead, 0);
		bs_puts(b, ",\"target\":");
		if (s->target_text)
			bs_json_str(b, s->target_text);
		else
			bs_puts(b, "null");
		bs_printf(b, ",\"target_met\":%s,\"samples_us\":[",
			  s->met < 0 ? "null"
			  : s->met   ? "true"
				     : "false");
		for (size_t k = 0; k < s->nok; k++)
			bs_printf(b, k ? ",%lld" : "%lld", s->ok[k]);
		bs_puts(b, "]}");
	}
	bs_puts(b, "\n]}\n");
}

/* Ratio with 2 decimals below 10, 1 from 10 (the CI like its point). */
static void bs_md_ratio(struct bs_buf *b, const struct bs_series *s)
{
	const char *fmt = s->ratio >= 9.995 ? "%.1f" : "%.2f";

	if (!s->has_ratio)
		return;
	bs_printf(b, fmt, s->ratio);
	bs_puts(b, "x");
	if (s->is_floor && (s->floor < 0 || s->floor == s->index)) {
		bs_puts(b, " (floor)");
		return;
	}
	bs_puts(b, " (");
	if (s->has_ci) {
		bs_printf(b, fmt, s->ci_lo);
		bs_puts(b, "–");
		bs_printf(b, fmt, s->ci_hi);
	} else {
		bs_puts(b, "n/a");
	}
	bs_puts(b, ")");
}

static void bs_md_us_limit(struct bs_buf *b, long long us)
{
	bs_printf(b, "%g ms", (double)us / 1000.0);
}

static void bs_md_target(struct bs_buf *b, const struct bs_report *r, const struct bs_series *s)
{
	struct bs_series *o;

	switch (s->target.kind) {
	case BS_T_NONE:
		return;
	case BS_T_OVER:
		bs_puts(b, "< ");
		bs_md_us_limit(b, s->target.value);
		bs_puts(b, " over floor");
		break;
	case BS_T_ABS:
		bs_puts(b, "< ");
		bs_md_us_limit(b, s->target.value);
		break;
	case BS_T_NOTSLOWER:
		o = bs_find((struct bs_report *)r, s->target.value);
		bs_puts(b, "not slower than ");
		bs_md_cell(b, o->row);
		break;
	}
	bs_puts(b, s->met < 0 ? ": n/a" : s->met ? ": met" : ": missed");
}

static void bs_render_md(const struct bs_report *r, struct bs_buf *b, const char *plot_note)
{
	size_t nmin = SIZE_MAX, nmax = 0;

	for (size_t w = 0; w < r->nwork; w++) {
		int notes = 0;

		/* a code span: `` around a workload that has a ` itself */
		bs_printf(b, strchr(r->workloads[w], '`') ? "%s### `` %s ``\n\n" : "%s### `%s`\n\n",
			  w ? "\n" : "", r->workloads[w]);
		bs_puts(b, "| | median ms | p95 ms | min ms | max ms | ratio to floor (95% CI) | "
			   "overhead ms | target |\n");
		bs_puts(b, "|---|---:|---:|---:|---:|---:|---:|---|\n");
		for (size_t i = 0; i < r->nser; i++) {
			const struct bs_series *s = &r->ser[i];

			if (strcmp(s->workload, r->workloads[w]))
				continue;
			bs_puts(b, "| ");
			bs_md_cell(b, s->row);
			if (s->index < 0) {
				bs_puts(b, " | not run: ");
				bs_md_cell(b, s->note);
				bs_puts(b, " | | | | | | |\n");
				continue;
			}
			if (!s->nok) {
				if (s->nrun)
					bs_printf(b, " | all %zu runs failed | | | | | | |\n",
						  s->nrun);
				else
					bs_puts(b, " | no samples | | | | | | |\n");
				continue;
			}
			bs_puts(b, " | ");
			bs_ms(b, s->st.median, 0);
			bs_puts(b, " | ");
			bs_ms(b, (double)s->st.p95, 0);
			bs_puts(b, " | ");
			bs_ms(b, (double)s->st.min, 0);
			bs_puts(b, " | ");
			bs_ms(b, (double)s->st.max, 0);
			bs_puts(b, " | ");
			bs_md_ratio(b, s);
			bs_puts(b, " | ");
			if (s->has_overhead && !(s->is_floor && s->floor < 0))
				bs_ms(b, s->overhead, 1);
			bs_puts(b, " | ");
			bs_md_target(b, r, s);
			bs_puts(b, " |\n");
		}
		for (size_t i = 0; i < r->nser; i++) {
			const struct bs_series *s = &r->ser[i];
			size_t failed = s->nrun - s->nok;

			if (strcmp(s->workload, r->workloads[w]) || s->index < 0 ||
			    (!failed && !*s->note))
				continue;
			bs_puts(b, notes++ ? "- " : "\n- ");
			bs_puts(b, s->row);
			bs_puts(b, ": ");
			if (failed)
				bs_printf(b, "%zu failed%s", failed, *s->note ? "; " : "");
			bs_puts(b, s->note);
			bs_puts(b, "\n");
		}
	}
	for (size_t i = 0; i < r->nser; i++) {
		if (!r->ser[i].nok)
			continue;
		if (r->ser[i].nok < nmin)
			nmin = r->ser[i].nok;
		if (r->ser[i].nok > nmax)
			nmax = r->ser[i].nok;
	}
	bs_puts(b, "\nMedian and p95 (nearest rank) of ");
	if (nmax == 0)
		bs_puts(b, "no");
	else if (nmin == nmax)
		bs_printf(b, "%zu", nmax);
	else
		bs_printf(b, "%zu–%zu", nmin, nmax);
	bs_printf(
	    b,
	    " run%s per row (warm-ups and failed runs excluded). Ratio: the row's median over "
	    "its floor's median, measured in the same interleaved rounds; 95%% CI: paired "
	    "bootstrap over rounds (%ld resamples of the rounds both rows ran without a "
	    "failure, ratio of medians, 2.5th–97.5th percentile; seed %llu; n/a with fewer "
	    "than 2 such rounds). Overhead: median minus the floor's median.\n",
	    nmax == 1 ? "" : "s", r->boot, (unsigned long long)r->seed);
	if (plot_note)
		bs_printf(b, "\n%s\n", plot_note);
}

/* ---- the plot ----------------------------------------------------------- */

/* Deterministic jitter in [-0.5, 0.5): the golden-ratio sequence. */
static double bs_jitter(size_t k)
{
	double x = (double)(k + 1) * 0.6180339887498949;

	return x - (double)(long long)x - 0.5;
}

/* 1-2-5 bounds around [lo, hi] µs, in µs. */
static void bs_axis_bounds(long long lo, long long hi, long long *alo, long long *ahi)
{
	static const int steps[] = {1, 2, 5};
	long long dec = 1, best = 1;

	if (lo < 1)
		lo = 1;
	for (dec = 1; dec <= lo; dec *= 10)
		for (int i = 0; i < 3; i++)
			if (dec * steps[i] <= lo)
				best = dec * steps[i];
	*alo = best;
	for (dec = 1;; dec *= 10) {
		for (int i = 0; i < 3; i++)
			if (dec * steps[i] >= hi && dec * steps[i] > best) {
				*ahi = dec * steps[i];
				return;
			}
		if (dec > LLONG_MAX / 100) {
			*ahi = hi;
			return;
		}
	}
}

static void bs_render_plot(const struct bs_report *r, struct bs_buf *gp, struct bs_buf *dat)
{
	static const char *const colours[] = {"#1f77b4", "#e6550d", "#2ca02c", "#9467bd",
					      "#8c564b"};
	long long lo = LLONG_MAX, hi = 0, alo, ahi;
	size_t total = 0, block = 0;
	int width = 1200, height, top_px = 100, panel_gap = 75, row_px = 26, bottom_px = 60;
	double y_top;

	for (size_t i = 0; i < r->nser; i++) {
		const struct bs_series *s = &r->ser[i];

		if (s->nok) {
			if (s->st.min < lo)
				lo = s->st.min;
			if (s->st.max > hi)
				hi = s->st.max;
		}
	}
	if (hi == 0)
		lo = 1000, hi = 1000000;
	bs_axis_bounds(lo, hi, &alo, &ahi);
	for (size_t w = 0; w < r->nwork; w++) {
		size_t nrow = 0;

		for (size_t i = 0; i < r->nser; i++)
			nrow += !strcmp(r->ser[i].workload, r->workloads[w]);
		total += nrow < 2 ? 2 : nrow; /* a panel is at least 2 rows high */
	}
	height = top_px + (int)(r->nwork - 1) * panel_gap + (int)total * row_px + bottom_px;

	bs_puts(gp, "# Written by tools/benchstat. Run in this folder: gnuplot latency.gp\n"
		    "# (out_svg / out_png may be set with -e to write elsewhere).\n"
		    "if (!exists('out_svg')) out_svg = 'latency.svg'\n"
		    "if (!exists('out_png')) out_png = 'latency.png'\n"
		    "set encoding utf8\n");
	bs_printf(gp,
		  "do for [pass = 1:2] {\n"
		  "if (pass == 1) {\n"
		  "  set terminal svg size %d,%d dynamic font 'Sans,12' background '#ffffff'\n"
		  "  set output out_svg\n"
		  "} else {\n"
		  "  set terminal pngcairo size %d,%d font 'Sans,10' background '#ffffff'\n"
		  "  set output out_png\n"
		  "}\n",
		  width, height, width, height);
	bs_puts(gp, "set multiplot title ");
	bs_gp_str(gp, r->title ? r->title : "Startup latency per row");
	bs_puts(gp, " font ',14' noenhanced\n"
		    "set logscale x 10\n");
	bs_printf(gp, "set xrange [%g:%g]\n", (double)alo / 1000.0 * 0.93,
		  (double)ahi / 1000.0 * 1.07);
	bs_puts(gp, "set xtics (");
	{
		int first = 1;

		for (long long dec = 1; dec <= ahi; dec *= 10)
			for (int i = 0; i < 3; i++) {
				long long v = dec * (i == 0 ? 1 : i == 1 ? 2 : 5);

				if (v < alo || v > ahi || (i && ahi / alo > 1000000))
					continue; /* over 6 decades: powers of 10 only */
				bs_printf(gp, "%s'%g' %g", first ? "" : ", ", (double)v / 1000.0,
					  (double)v / 1000.0);
				first = 0;
			}
	}
	bs_puts(gp, ") nomirror\nset mxtics 10\n"
		    "set grid xtics mxtics lc rgb '#d4d4d4' lw 1, lc rgb '#ededed' lw 1\n"
		    "set format y ''\n"
		    "set ytics nomirror scale 0 noenhanced\n"
		    "set y2tics scale 0 noenhanced\n"
		    "set border 3 lc rgb '#808080'\n"
		    "set lmargin at screen 0.22\nset rmargin at screen 0.90\n");
	y_top = 1.0 - (double)(top_px - panel_gap) / height;
	for (size_t w = 0; w < r->nwork; w++) {
		size_t nrow = 0, y;
		const char *colour = colours[w % (sizeof(colours) / sizeof(colours[0]))];
		double ptop, pbot;
		int first;

		for (size_t i = 0; i < r->nser; i++)
			nrow += !strcmp(r->ser[i].workload, r->workloads[w]);
		ptop = y_top - (double)panel_gap / height;
		pbot = ptop - (double)((nrow < 2 ? 2 : nrow) * row_px) / height;
		y_top = pbot;
		bs_printf(gp, "set tmargin at screen %.4f\nset bmargin at screen %.4f\n", ptop,
			  pbot);
		bs_printf(gp, "set yrange [-0.6:%zu.6]\nset y2range [-0.6:%zu.6]\n", nrow - 1,
			  nrow - 1);
		bs_puts(gp, "set title ");
		bs_gp_str(gp, r->workloads[w]);
		bs_puts(gp, " noenhanced font ',12'\n");
		bs_puts(gp, w + 1 == r->nwork
				? "set xlabel 'startup latency, ms (log scale)' noenhanced\n"
				: "unset xlabel\n");
		bs_puts(gp, "unset label\nunset arrow\nset ytics (");
		first = 1;
		y = nrow;
		for (size_t i = 0; i < r->nser; i++) {
			if (strcmp(r->ser[i].workload, r->workloads[w]))
				continue;
			bs_puts(gp, first ? "" : ", ");
			bs_gp_str(gp, r->ser[i].row);
			bs_printf(gp, " %zu", --y);
			first = 0;
		}
		bs_puts(gp, ")\nset y2tics (");
		first = 1;
		y = nrow;
		for (size_t i = 0; i < r->nser; i++) {
			const struct bs_series *s = &r->ser[i];
			struct bs_buf lab = {0};

			if (strcmp(s->workload, r->workloads[w]))
				continue;
			y--;
			if (!s->nok)
				continue; /* a label inside the panel says why */
			bs_ms(&lab, s->st.median, 0);
			bs_puts(&lab, " ms");
			if (s->is_floor && (s->floor < 0 || s->floor == s->index))
				bs_puts(&lab, "  floor");
			else if (s->has_ratio)
				bs_printf(&lab, s->ratio >= 9.995 ? "  %.1fx" : "  %.2fx",
					  s->ratio);
			bs_puts(gp, first ? "" : ", ");
			bs_gp_str(gp, lab.p);
			bs_printf(gp, " %zu", y);
			first = 0;
			bs_buf_free(&lab);
		}
		bs_puts(gp, first ? "'' -10)\n" : ")\n"); /* no labels: none, not gnuplot's */
		y = nrow;
		for (size_t i = 0; i < r->nser; i++) {
			const struct bs_series *s = &r->ser[i];
			struct bs_buf why = {0};

			if (strcmp(s->workload, r->workloads[w]))
				continue;
			y--;
			if (s->is_floor && s->nok) {
				bs_printf(
				    gp,
				    "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 "
				    "lc rgb '#999999' back\n",
				    s->st.median / 1000.0, s->st.median / 1000.0);
			}
			if (s->nok)
				continue;
			if (s->index < 0)
				bs_printf(&why, "not run: %s", s->note);
			else if (s->nrun)
				bs_printf(&why, "all %zu runs failed", s->nrun);
			else
				bs_puts(&why, "no samples");
			bs_puts(gp, "set label ");
			bs_gp_str(gp, why.p);
			bs_printf(gp,
				  " at graph 0.01, first %zu left noenhanced tc rgb '#888888' "
				  "font ',9'\n",
				  y);
			bs_buf_free(&why);
		}
		/* data: points, medians, p95s of this panel */
		for (int part = 0; part < 3; part++) {
			int any = 0;

			y = nrow;
			for (size_t i = 0; i < r->nser; i++) {
				const struct bs_series *s = &r->ser[i];

				if (strcmp(s->workload, r->workloads[w]))
					continue;
				y--;
				if (!s->nok)
					continue;
				any = 1;
				if (part == 0)
					for (size_t k = 0; k < s->nok; k++)
						bs_printf(dat, "%.3f %.3f\n", s->ok[k] / 1000.0,
							  (double)y + 0.56 * bs_jitter(k));
				else
					bs_printf(dat, "%.3f %zu\n",
						  part == 1 ? s->st.median / 1000.0
							    : (double)s->st.p95 / 1000.0,
						  y);
			}
			if (!any)
				bs_puts(dat, "NaN NaN\n");
			bs_printf(dat, "\n\n");
		}
		if (w == 0)
			bs_printf(gp,
				  "set key at screen 0.90, screen %.4f right top horizontal "
				  "samplen 1.5 noenhanced\n",
				  1.0 - 34.0 / height);
		else
			bs_puts(gp, "unset key\n");
		bs_printf(gp,
			  "plot 'latency.dat' index %zu using 1:2 with points pt 7 ps 0.5 "
			  "lc rgb '#55%s' title 'runs', \\\n"
			  "  '' index %zu using 1:($2-0.4):(0):(0.8) with vectors nohead lw 3 "
			  "lc rgb '#000000' title 'median', \\\n"
			  "  '' index %zu using 1:($2-0.25):(0):(0.5) with vectors nohead lw 2.5 "
			  "lc rgb '#d62728' title 'p95'\n",
			  block, colour + 1, block + 1, block + 2);
		block += 3;
	}
	bs_puts(gp, "unset multiplot\nset output\n}\n");
}

/* Run gnuplot on DIR/latency.gp with a deadline, writing latency.svg/png via
 * temporary names.  NULL on success, or the reason (heap string). */
static char *bs_run_gnuplot(const char *dir)
{
	struct bs_buf svg = {0}, png = {0}, err = {0}, reason = {0}, esvg = {0}, epng = {0};
	pid_t pid;
	int status = 0, fd;
	long waited = 0;
	char *out;

	bs_printf(&svg, ".latency.svg.tmp.%ld", (long)getpid());
	bs_printf(&png, ".latency.png.tmp.%ld", (long)getpid());
	bs_printf(&err, "%s/.latency.err.tmp.%ld", dir, (long)getpid());
	bs_printf(&esvg, "out_svg='%s'", svg.p);
	bs_printf(&epng, "out_png='%s'", png.p);
	{
		char *a = bs_path(dir, svg.p), *b = bs_path(dir, png.p);

		bs_tmp_path = a;
		bs_tmp_path2 = b;
		bs_tmp_path3 = err.p;
	}
	fd = open(err.p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		bs_printf(&reason, "%s: %s", err.p, strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		bs_printf(&reason, "fork: %s", strerror(errno));
		close(fd);
		goto done;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fd, 2) < 0 ||
		    chdir(dir))
			_exit(126);
		execlp("gnuplot", "gnuplot", "-e", esvg.p, "-e", epng.p, "latency.gp",
		       (char *)NULL);
		dprintf(2, "cannot run gnuplot: %s\n", strerror(errno));
		_exit(127);
	}
	bs_child = pid;
	setpgid(pid, pid);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		struct timespec ts = {0, 20 * 1000 * 1000};

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			bs_printf(&reason, "waitpid: %s", strerror(errno));
			break;
		}
		if (waited >= BS_PLOT_DEADLINE_MS) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			bs_printf(&reason, "gnuplot took more than %d s (killed)",
				  BS_PLOT_DEADLINE_MS / 1000);
			break;
		}
		nanosleep(&ts, NULL);
		waited += 20;
	}
	bs_child = -1;
	if (!reason.p && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		char text[512];
		ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
		char *nl;

		text[n > 0 ? n : 0] = '\0';
		for (char *p = text; *p; p++)
			if (*p == '\t' || *p == '\r')
				*p = ' ';
		/* gnuplot's message: the first line naming an error, else the first line */
		nl = strstr(text, "rror");
		if (nl) {
			while (nl > text && nl[-1] != '\n')
				nl--;
		} else {
			nl = text;
		}
		while (*nl == ' ' || *nl == '\n')
			nl++;
		if (strchr(nl, '\n'))
			*strchr(nl, '\n') = '\0';
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && *nl)
			bs_printf(&reason, "%s", nl);
		else if (WIFEXITED(status))
			bs_printf(&reason, "gnuplot exited with %d%s%s", WEXITSTATUS(status),
				  *nl ? ": " : "", nl);
		else
			bs_printf(&reason, "gnuplot killed by signal %d", WTERMSIG(status));
	}
	close(fd);
	if (!reason.p) {
		char *fs = bs_path(dir, "latency.svg"), *fp = bs_path(dir, "latency.png");
		struct stat st;

		if (stat(bs_tmp_path, &st) || !st.st_size || stat(bs_tmp_path2, &st) || !st.st_size)
			bs_printf(&reason, "gnuplot wrote no picture");
		else if (rename(bs_tmp_path, fs) || rename(bs_tmp_path2, fp))
			bs_printf(&reason, "rename: %s", strerror(errno));
		free(fs);
		free(fp);
	}
done:
	unlink(bs_tmp_path);
	unlink(bs_tmp_path2);
	unlink(err.p);
	free(bs_tmp_path);
	free(bs_tmp_path2);
	bs_tmp_path = bs_tmp_path2 = bs_tmp_path3 = NULL;
	bs_buf_free(&svg);
	bs_buf_free(&png);
	bs_buf_free(&err);
	bs_buf_free(&esvg);
	bs_buf_free(&epng);
	out = reason.p;
	return out;
}

static void bs_report_free(struct bs_report *r)
{
	for (size_t i = 0; i < r->nser; i++) {
		struct bs_series *s = &r->ser[i];

		free(s->row);
		free(s->workload);
		free(s->note);
		free(s->target_text);
		free(s->us);
		free(s->status);
		free(s->ok);
	}
	free(r->ser);
	free(r->smp);
	free(r->machine);
	free(r->workloads);
}

static void bs_unlink_in(const char *dir, const char *name)
{
	char *p = bs_path(dir, name);

	unlink(p);
	free(p);
}

/* ---- main ---------------------------------------------------------------- */

static void bs_usage(void)
{
	bs_die("usage: benchstat report --rows ROWS.tsv --samples SAMPLES.tsv --out DIR "
	       "[--machine MACHINE.json] [--boot B] [--seed S] [--no-plot] [--title TEXT] | "
	       "benchstat summary FILE");
}

static int bs_report_main(int argc, char **argv)
{
	struct bs_report r = {0};
	struct bs_buf csv = {0}, json = {0}, md = {0}, note = {0};
	char *plot_err = NULL;
	long long v;

	r.boot = 2000;
	r.seed = 1;
	r.plot = 1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		int takes = strcmp(a, "--no-plot") != 0;

		if (takes) {
			if (i + 1 >= argc)
				bs_usage();
			val = argv[++i];
		}
		if (!strcmp(a, "--rows"))
			r.rows_path = val;
		else if (!strcmp(a, "--samples"))
			r.samples_path = val;
		else if (!strcmp(a, "--out"))
			r.out = val;
		else if (!strcmp(a, "--machine"))
			r.machine_path = val;
		else if (!strcmp(a, "--title"))
			r.title = val;
		else if (!strcmp(a, "--boot")) {
			if (bs_parse_ll(val, 1, 10000000, &v))
				bs_die("--boot %s: want a number from 1 to 10000000", val);
			r.boot = (long)v;
		} else if (!strcmp(a, "--seed")) {
			char *end;

			errno = 0;
			r.seed = strtoull(val, &end, 10);
			if (errno || !*val || *end || *val == '-')
				bs_die("--seed %s: want a non-negative number", val);
		} else if (!strcmp(a, "--no-plot"))
			r.plot = 0;
		else
			bs_usage();
	}
	if (!r.rows_path || !r.samples_path || !r.out || !*r.out)
		bs_usage();
	bs_load_rows(&r);
	bs_load_samples(&r);
	bs_load_machine(&r);
	bs_compute(&r);
	if (mkdir(r.out, 0755) && errno != EEXIST)
		bs_die("%s: %s", r.out, strerror(errno));
	bs_render_csv(&r, &csv);
	bs_render_json(&r, &json);
	bs_write_file(r.out, "samples.csv", &csv);
	bs_write_file(r.out, "results.json", &json);
	if (r.plot) {
		struct bs_buf gp = {0}, dat = {0};

		bs_render_plot(&r, &gp, &dat);
		bs_write_file(r.out, "latency.dat", &dat);
		bs_write_file(r.out, "latency.gp", &gp);
		plot_err = bs_run_gnuplot(r.out);
		if (plot_err) {
			bs_printf(&note, "plot: not made: %s", plot_err);
			bs_unlink_in(r.out, "latency.svg");
			bs_unlink_in(r.out, "latency.png");
		} else {
			bs_puts(&note, "![startup latency per row, log scale](latency.svg)");
		}
		bs_buf_free(&gp);
		bs_buf_free(&dat);
	} else {
		bs_unlink_in(r.out, "latency.svg");
		bs_unlink_in(r.out, "latency.png");
		bs_unlink_in(r.out, "latency.gp");
		bs_unlink_in(r.out, "latency.dat");
	}
	bs_render_md(&r, &md, note.p);
	bs_write_file(r.out, "latency.md", &md);
	if (plot_err)
		fprintf(stderr, "benchstat: plot: not made: %s\n", plot_err);
	free(plot_err);
	bs_report_free(&r);
	bs_buf_free(&csv);
	bs_buf_free(&json);
	bs_buf_free(&md);
	bs_buf_free(&note);
	return 0;
}

static int bs_summary_main(int argc, char **argv)
{
	size_t len, lineno = 0, n = 0, cap = 0;
	char *text, *cur, *line;
	long long *v = NULL;
	struct bs_stats st;

	if (argc != 1)
		bs_usage();
	text = bs_read_file(argv[0], &len);
	cur = text;
	while ((line = bs_next_line(&cur))) {
		long long x;
		size_t l = strlen(line);

		lineno++;
		while (l && strchr(" \t\r", line[l - 1]))
			line[--l] = '\0';
		if (!*line)
			continue;
		if (bs_parse_ll(line, 0, LLONG_MAX / 4, &x))
			bs_die("%s:%zu: '%.40s' is not a number of microseconds", argv[0], lineno,
			       line);
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = bs_xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = x;
	}
	free(text);
	if (!n) {
		printf("n 0\n");
		return 0;
	}
	st = bs_stats_of(v, n);
	printf("n %zu median %lld p95 %lld min %lld max %lld mean %lld\n", n, bs_round(st.median),
	       st.p95, st.min, st.max, bs_round(st.mean));
	free(v);
	return fflush(stdout) ? BS_EXIT_BAD : 0;
}

__attribute__((unused)) static int bs_main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bs_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return bs_report_main(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "summary"))
		return bs_summary_main(argc - 2, argv + 2);
	bs_usage();
	return BS_EXIT_BAD;
}

#ifndef BENCHSTAT_NO_MAIN
int main(int argc, char **argv)
{
	return bs_main(argc, argv);
}
#endif
