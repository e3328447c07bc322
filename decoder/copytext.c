/*
 * copytext.c — COPY text-format line parser (see copytext.h).
 *
 * DESIGN: fields without a backslash (the common case) are returned as views into
 * the line itself; only escaped fields are decoded, into one scratch buffer that
 * grows to the longest line seen.  The buffer is sized before decoding starts
 * (decoded text is never longer than its escaped form), so views stay valid.
 */
#include <stdlib.h>
#include <string.h>

#include "copytext.h"
#include "text.h"

struct copytext {
	int ncols;
	struct cdc_value *vals;
	struct cdc_tuple tuple;
	char *scratch;
	size_t cap;
};

struct copytext *
copytext_new(int ncols)
{
	struct copytext *ct = calloc(1, sizeof(*ct));

	if (ct == NULL)
		return NULL;
	ct->ncols = ncols;
	ct->vals = calloc(ncols > 0 ? (size_t) ncols : 1, sizeof(*ct->vals));
	if (ct->vals == NULL) {
		free(ct);
		return NULL;
	}
	ct->tuple.vals = ct->vals;
	return ct;
}

void
copytext_free(struct copytext *ct)
{
	if (ct == NULL)
		return;
	free(ct->vals);
	free(ct->scratch);
	free(ct);
}

/* Decode the escaped field s[0..n) into out; returns bytes written. */
static size_t
unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c != '\\' || i + 1 == n) {
			out[o++] = c;
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'v': out[o++] = '\v'; break;
		case 'x':
			if (i + 1 < n && hexval(s[i + 1]) >= 0) {
				int v = hexval(s[++i]);

				if (i + 1 < n && hexval(s[i + 1]) >= 0)
					v = v * 16 + hexval(s[++i]);
				out[o++] = (char) v;
			} else {
				out[o++] = 'x';
			}
			break;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';

				for (int k = 0; k < 2 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7'; k++)
					v = v * 8 + (s[++i] - '0');
				out[o++] = (char) (v & 0xff);
			} else {
				out[o++] = c;   /* \\ and any other escaped character */
			}
		}
	}
	return o;
}

int
copytext_parse(struct copytext *ct, const char *line, size_t len,
               const struct cdc_tuple **tuple, struct cdc_err *err)
{
	size_t used = 0;
	int col = 0;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (ct->ncols == 0) {
		if (len != 0)
			return cdc_errf(err, CDC_ERR_PROTO, "COPY line has columns, expected none");
		ct->tuple.ncols = 0;
		*tuple = &ct->tuple;
		return 0;
	}
	if (len > ct->cap) {
		char *nb = realloc(ct->scratch, len);

		if (nb == NULL)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory for a %zu-byte COPY line", len);
		ct->scratch = nb;
		ct->cap = len;
	}
	/* fields end at a raw tab (an escaped one is "\\t"); memchr scans whole words */
	for (const char *f = line, *end = line + len;;) {
		const char *tab = memchr(f, '\t', (size_t) (end - f));
		size_t flen = (size_t) ((tab ? tab : end) - f);

		if (col == ct->ncols)
			return cdc_errf(err, CDC_ERR_PROTO, "COPY line has more than the %d expected "
			                "columns", ct->ncols);
		if (flen == 2 && f[0] == '\\' && f[1] == 'N') {
			ct->vals[col].kind = CDC_VAL_NULL;
			ct->vals[col].data = NULL;
			ct->vals[col].len = 0;
		} else if (flen > 0 && memchr(f, '\\', flen) != NULL) {
			size_t o = unescape(f, flen, ct->scratch + used);

			ct->vals[col].kind = CDC_VAL_TEXT;
			ct->vals[col].data = ct->scratch + used;
			ct->vals[col].len = (uint32_t) o;
			used += o;
		} else {
			ct->vals[col].kind = CDC_VAL_TEXT;
			ct->vals[col].data = f;
			ct->vals[col].len = (uint32_t) flen;
		}
		col++;
		if (tab == NULL)
			break;
		f = tab + 1;
	}
	if (col != ct->ncols)
		return cdc_errf(err, CDC_ERR_PROTO, "COPY line has %d columns, expected %d", col,
		                ct->ncols);
	ct->tuple.ncols = col;
	*tuple = &ct->tuple;
	return 0;
}
