/* Lines, fields and mountinfo lines of /proc texts (no I/O). */
#include <string.h>

#include "base/mountinfo.h"

bool sbx_span_is(sbx_span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

bool sbx_next_line(const char **text, sbx_span *line)
{
	const char *p = *text;
	if (!p || !*p)
		return false;
	const char *nl = strchr(p, '\n');
	*line = (sbx_span){p, nl ? (size_t)(nl - p) : strlen(p)};
	*text = nl ? nl + 1 : p + line->n;
	return true;
}

bool sbx_next_field(sbx_span *line, sbx_span *f)
{
	while (line->n && line->p[0] == ' ') {
		line->p++;
		line->n--;
	}
	if (!line->n)
		return false;
	size_t l = 0;
	while (l < line->n && line->p[l] != ' ')
		l++;
	*f = (sbx_span){line->p, l};
	line->p += l;
	line->n -= l;
	return true;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

int sbx_mountinfo_unoctal(sbx_span s, char *out, size_t *o, size_t cap)
{
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '\\' && s.n - i > 3 && s.p[i + 1] <= '3' && is_octal(s.p[i + 1]) &&
		    is_octal(s.p[i + 2]) && is_octal(s.p[i + 3])) {
			c = (char)((s.p[i + 1] - '0') * 64 + (s.p[i + 2] - '0') * 8 +
				   (s.p[i + 3] - '0'));
			i += 3;
		}
		if (*o + 1 >= cap)
			return -1;
		out[(*o)++] = c;
	}
	if (*o >= cap)
		return -1;
	out[*o] = '\0';
	return 0;
}

bool sbx_mountinfo_parse_line(sbx_span line, sbx_mountinfo_line *m)
{
	sbx_span f;
	for (int i = 0; i < 3; i++) /* id, parent, maj:min */
		if (!sbx_next_field(&line, &f))
			return false;
	if (!sbx_next_field(&line, &m->root) || !sbx_next_field(&line, &m->mnt) ||
	    !sbx_next_field(&line, &f)) /* mount options */
		return false;
	do /* optional fields up to the separator */
		if (!sbx_next_field(&line, &f))
			return false;
	while (!sbx_span_is(f, "-"));
	sbx_span source;
	return sbx_next_field(&line, &m->fstype) && sbx_next_field(&line, &source) &&
	       sbx_next_field(&line, &m->super);
}
