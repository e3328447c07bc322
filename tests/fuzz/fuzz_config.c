/*
 * fuzz_config.c — libFuzzer target: the configuration parser on arbitrary text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct cdc_err err = { 0 };
	struct cfg *c;
	char *const over[1] = { "source.slot=fuzz" };

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = cfg_load_string("fuzz.conf", text, size % 2 ? over : NULL, size % 2, &err);
	if (c != NULL) {
		char *r = cfg_conninfo_redacted(c->source.conninfo);

		free(r);
	}
	cfg_free(c);
	{
		char *r = cfg_conninfo_redacted(text);

		free(r);
	}
	free(text);
	return 0;
}
