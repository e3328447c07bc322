/*
 * registry.c — the list of sinks the pipeline can open, in opening order.
 */
#include <stddef.h>

#include "sink.h"

const struct sink_ops *const sink_registry[] = {
	&sink_stdout_ops,
	NULL,
};
