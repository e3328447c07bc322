/*
 * fuzz_copytext.c — libFuzzer target: COPY text-format lines (snapshot rows).  The
 * first byte gives the column count.
 */
#include <stdint.h>

#include "decoder/copytext.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct copytext *ct;
	const struct cdc_tuple *t;
	struct cdc_err err = { 0 };

	if (size < 1)
		return 0;
	ct = copytext_new(data[0] % 24);
	if (ct != NULL && copytext_parse(ct, (const char *) data + 1, size - 1, &t, &err) == 0) {
		volatile size_t sum = 0;

		for (int i = 0; i < t->ncols; i++)   /* touch every byte the views claim */
			for (uint32_t k = 0; k < t->vals[i].len; k++)
				sum += (unsigned char) t->vals[i].data[k];
	}
	copytext_free(ct);
	return 0;
}
