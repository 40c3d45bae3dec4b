/* JSON string encoding with UTF-8 validation. */
#include "proto/json.h"

#include <string.h>

/* Length of the UTF-8 sequence at s[0..n) (n >= 1). Sets *ok to 1 when it is
 * a well-formed sequence (Unicode Table 3-7); otherwise *ok is 0 and the
 * length is that of the maximal subpart of an ill-formed sequence (at least
 * 1), which is replaced by one U+FFFD. */
size_t sbx_utf8_seq(const unsigned char *s, size_t n, int *ok)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	*ok = 1;
	if (c < 0x80)
		return 1;
	*ok = 0;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3;
	else
		return 1; /* continuation byte, C0/C1 overlong lead, or > F4 */
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates D800..DFFF */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* > U+10FFFF */
	for (size_t i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xBF;
	}
	*ok = 1;
	return need + 1;
}

/* The escape for byte c, written to out (at least 6 bytes); 0 if c is
 * copied as is. */
static size_t json_escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char e = 0;

	switch (c) {
	case '"':
		e = '"';
		break;
	case '\\':
		e = '\\';
		break;
	case '\b':
		e = 'b';
		break;
	case '\f':
		e = 'f';
		break;
	case '\n':
		e = 'n';
		break;
	case '\r':
		e = 'r';
		break;
	case '\t':
		e = 't';
		break;
	default:
		if (c >= 0x20 && c != 0x7F)
			return 0;
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 0xF];
		return 6;
	}
	out[0] = '\\';
	out[1] = e;
	return 2;
}

int sbx_json_string(sbx_buf *b, const char *data, size_t len)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	const unsigned char *s = (const unsigned char *)data;
	size_t run = 0, i = 0;
	char esc[8];

	if (len == 0) /* data may be NULL */
		return sbx_buf_append(b, "\"\"", 2);
	sbx_buf_append(b, "\"", 1);
	while (i < len) {
		int ok;
		size_t n = sbx_utf8_seq(s + i, len - i, &ok);
		size_t en = ok && n == 1 ? json_escape(s[i], esc) : 0;
		if (ok && en == 0) {
			i += n;
			continue;
		}
		sbx_buf_append(b, data + run, i - run);
		if (ok)
			sbx_buf_append(b, esc, en);
		else
			sbx_buf_append(b, fffd, 3);
		i += n;
		run = i;
	}
	sbx_buf_append(b, data + run, i - run);
	return sbx_buf_append(b, "\"", 1);
}
