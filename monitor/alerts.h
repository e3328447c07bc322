/*
 * alerts.h — the alert state machine and the alert hook runner (SPEC §6).
 *
 * State machine: each alert is ok, warning or critical.  The monitor feeds one
 * observation per alert per sample; every change of state produces one event
 * (back to ok is "resolved"), and a state other than ok produces the same event
 * again every repeat_ms (0 = never).  Rising is immediate; falling has hysteresis
 * so a value hovering at a threshold does not flap:
 *   - numeric alerts (lag_bytes, lag_seconds, retained_wal, wal_disk) leave a level
 *     only once the value is below ALERT_CLEAR_RATIO (90%) of that level's threshold;
 *   - discrete alerts (wal_status, slot_inactive, sink_error) drop to a lower level
 *     only after ALERT_CLEAR_SAMPLES (2) consecutive observations at that lower level.
 * A threshold <= 0 disables its level.  An observation that is not known (the value
 * could not be measured) changes nothing and fires nothing.  This part is pure: no
 * clock, no I/O (the caller passes the time), so it is unit-tested directly.
 *
 * Hook runner: alert_command is split on blanks into a path and arguments and
 * executed directly (fork + execve, no shell, no PATH search) in its own process
 * group, with the PGCDC_* environment added to the agent's and the event as one
 * JSON object on stdin.  Its stdout and stderr are captured and logged.  After
 * timeout_ms the whole process group is killed (SIGKILL).  Hooks run one at a time,
 * in order, on the runner's own thread from a bounded queue, so neither the monitor
 * loop nor the replication thread ever waits for a hook.
 *
 * Owning thread: a struct alerts belongs to the monitor thread; a struct
 * alert_hook's queue is locked (alert_hook_fire may be called from any thread).
 */
#ifndef PGCDC_ALERTS_H
#define PGCDC_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoder/change.h"

#define ALERT_CLEAR_RATIO 0.9
#define ALERT_CLEAR_SAMPLES 2

enum alert_id {
	ALERT_LAG_BYTES = 0,
	ALERT_LAG_SECONDS,
	ALERT_RETAINED_WAL,
	ALERT_WAL_DISK,
	ALERT_WAL_STATUS,
	ALERT_SLOT_INACTIVE,
	ALERT_SINK_ERROR,
	ALERT_GAP,            /* a gap taken over by on_gap = backfill, until its backfill ends */
	ALERT_COUNT
};

enum alert_level { ALERT_OK = 0, ALERT_WARNING = 1, ALERT_CRITICAL = 2 };

/* "lag_bytes", ... (the PGCDC_ALERT value and the metrics label). */
const char *alert_name(enum alert_id id);
/* "ok", "warning", "critical". */
const char *alert_level_name(enum alert_level l);
/* Whether the alert compares a number with thresholds (else its level is given). */
bool alert_is_numeric(enum alert_id id);

struct alert_rules {
	/* numeric alerts: thresholds in the value's unit (bytes, seconds, ratio);
	 * slot_inactive: critical = seconds shown as its threshold.  <= 0 disables. */
	double warning[ALERT_COUNT];
	double critical[ALERT_COUNT];
	int64_t repeat_ms;           /* re-fire a firing alert this often; 0 = never */
	const char *slot;            /* for messages (copied) */
};

/* One observation of one alert. */
struct alert_obs {
	bool known;                  /* false: not measurable now; state kept, nothing fires */
	double value;                /* numeric alerts, and slot_inactive (seconds) */
	enum alert_level level;      /* discrete alerts: the level the condition calls for */
	char text[64];               /* discrete alerts: the value as text ("extended", "kafka") */
	char detail[256];            /* appended to the message (e.g. a sink's last error) */
};

struct alert_event {
	enum alert_id id;
	const char *name;            /* alert_name(id) */
	const char *severity;        /* "warning" | "critical" | "resolved" */
	enum alert_level level, previous;
	bool repeat;                 /* re-fire of an unchanged state (alert_repeat) */
	bool numeric;                /* value and threshold are numbers */
	char value[64];
	char threshold[64];          /* "" = none */
	char message[1024];
	int64_t at_ms;               /* wall clock, ms since the epoch */
};

/* Current state of one alert, for /metrics and the state file. */
struct alert_view {
	enum alert_level level;
	bool numeric;
	char value[64];              /* last observed value; "" = never observed */
	char threshold[64];          /* threshold of the current level (warning's when ok) */
	int64_t since_ms;            /* wall clock of the last state change (or first observation) */
};

struct alerts;

/* Returns an owned state machine with every alert ok, or NULL (out of memory). */
struct alerts *alerts_new(const struct alert_rules *rules);
void alerts_free(struct alerts *a);

/* Feed one observation made at now_ms (wall clock).  Returns 1 and fills *ev when
 * the observation fires (transition or re-fire), else 0. */
int alerts_observe(struct alerts *a, enum alert_id id, const struct alert_obs *obs,
                   int64_t now_ms, struct alert_event *ev);

void alerts_view(const struct alerts *a, enum alert_id id, struct alert_view *out);

/* ---- hook runner ---- */

struct alert_hook;

/* Parse command ("/path/to/hook arg ...": split on blanks, no quoting) and start the
 * runner thread.  slot and database go into every hook's environment (copied).
 * Returns owned runner, or NULL with err set (empty command, out of memory). */
struct alert_hook *alert_hook_new(const char *command, int64_t timeout_ms, const char *slot,
                                  struct cdc_err *err);
/* The database name, once known (copied; any thread). */
void alert_hook_set_database(struct alert_hook *h, const char *database);
/* Queue one event (copied).  Never blocks; when the queue is full the oldest
 * queued event is dropped and logged. */
void alert_hook_fire(struct alert_hook *h, const struct alert_event *ev);
/* Number of hooks started so far and still queued (tests, status). */
void alert_hook_counts(struct alert_hook *h, uint64_t *started, int *queued);
/* Stop the runner: a running hook gets the rest of its timeout, queued events are
 * dropped (logged).  NULL-safe. */
void alert_hook_free(struct alert_hook *h);

/* The JSON object a hook reads on stdin.  Returns owned NUL-terminated string or NULL. */
char *alert_event_json(const struct alert_event *ev, const char *slot, const char *database);

/* Split an alert_command into an owned NULL-terminated argv (free with
 * alert_argv_free).  Returns NULL when it holds no word or on OOM. */
char **alert_argv_split(const char *command);
void alert_argv_free(char **argv);

/* Outcome of one hook execution. */
struct alert_run_result {
	bool started;                /* fork succeeded */
	bool timed_out;              /* killed after the timeout */
	int exit_status;             /* exit code, or -1 */
	int signal;                  /* terminating signal, or 0 */
	int64_t elapsed_ms;
	char output[1024];           /* first bytes of stdout+stderr, NUL-terminated */
	char error[256];             /* why it could not be started */
};

/* Run argv[0] with argv and envp (NULL-terminated, borrowed), write input to its
 * stdin, wait at most timeout_ms, then SIGKILL its process group.  Blocking; the
 * runner thread uses it, and tests.  Returns 0 when the hook ran and exited 0,
 * -1 otherwise (details in *res). */
int alert_run(char *const argv[], char *const envp[], const char *input, int64_t timeout_ms,
              struct alert_run_result *res);

#endif
