/*
 * registry.c — the list of sinks the pipeline can open, in opening order.
 */
#include <stddef.h>

#include "sink.h"
#include "../decoder/json.h"

const struct sink_ops *const sink_registry[] = {
	&sink_stdout_ops,
	&sink_null_ops,
	&sink_kafka_ops,
	&sink_parquet_ops,
	NULL,
};

int
sinks_open(const struct sink_sections *secs, const struct sink_env *base, struct sink **out,
           int max, int *n, struct cdc_err *err)
{
	*n = 0;
	for (int i = 0; sink_registry[i] != NULL; i++) {
		const struct sink_ops *ops = sink_registry[i];
		struct sink_env env = *base;
		struct sink *s;

		env.section = sink_section(secs, ops);
		if (env.section == NULL || !ops->enabled(env.section))
			continue;
		if (*n == max) {
			sinks_close(out, *n);
			return cdc_errf(err, CDC_ERR_FATAL, "too many sinks enabled");
		}
		if ((s = ops->open(&env, err)) == NULL) {
			sinks_close(out, *n);
			*n = 0;
			return err->code ? err->code : CDC_ERR_FATAL;
		}
		out[(*n)++] = s;
	}
	if (*n == 0)
		return cdc_errf(err, CDC_ERR_CONFIG, "no sink enabled");
	return 0;
}

void
sinks_close(struct sink **sinks, int n)
{
	for (int i = 0; i < n; i++)
		sinks[i]->ops->close(sinks[i]);
}

void
sink_json_opts(const struct sink_env *env, struct json_opts *o)
{
	o->numeric_as_number = env->format ? env->format->numeric_as_number : false;
	o->omit_unchanged_toast = env->format ? env->format->omit_unchanged_toast : false;
	if (env->format != NULL && env->format->profile == CFG_PROFILE_DEBEZIUM) {
		o->debezium = true;
		o->decimal_mode = (enum json_decimal) env->format->decimal_mode;
		o->time_mode = (enum json_time) env->format->time_mode;
		o->interval_string = env->format->interval_mode == CFG_INTERVAL_STRING;
		o->binary_mode = (enum json_binary) env->format->binary_mode;
		o->schemas = env->format->schemas;
	}
	o->name = env->source_name;
	o->db = env->dbname;
	o->version = PGCDC_VERSION;
	json_opts_prepare(o);
}
