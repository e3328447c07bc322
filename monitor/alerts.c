/*
 * alerts.c — alert state machine, hook execution and the hook runner thread
 * (see alerts.h for the rules).
 *
 * DESIGN: the state machine is a table of small structs driven by the monitor
 * thread; it formats every event completely (value, threshold, message) so the
 * runner only copies it.  The runner is one thread with a bounded FIFO: hooks run
 * one after another, so a hook always sees the transitions of an alert in order,
 * and a hook that hangs delays later hooks by at most alert_timeout each, never the
 * monitor's sampling.  Execution is fork + execve with everything the child needs
 * (argv, envp, pipes) prepared before fork, because after fork in a threaded
 * process only async-signal-safe calls are allowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "../common/log.h"
#include "../decoder/json.h"
#include "../common/clock.h"

#define HOOK_QUEUE 32

extern char **environ;

/* ------------------------------------------------------------------------ */
/* names                                                                    */
/* ------------------------------------------------------------------------ */

static const char *const alert_names[ALERT_COUNT] = {
	[ALERT_LAG_BYTES] = "lag_bytes",
	[ALERT_LAG_SECONDS] = "lag_seconds",
	[ALERT_RETAINED_WAL] = "retained_wal",
	[ALERT_WAL_DISK] = "wal_disk",
	[ALERT_WAL_STATUS] = "wal_status",
	[ALERT_SLOT_INACTIVE] = "slot_inactive",
	[ALERT_SINK_ERROR] = "sink_error",
	[ALERT_GAP] = "gap",
};

const char *
alert_name(enum alert_id id)
{
	return id >= 0 && id < ALERT_COUNT ? alert_names[id] : "?";
}

const char *
alert_level_name(enum alert_level l)
{
	switch (l) {
	case ALERT_WARNING: return "warning";
	case ALERT_CRITICAL: return "critical";
	default: return "ok";
	}
}

bool
alert_is_numeric(enum alert_id id)
{
	return id == ALERT_LAG_BYTES || id == ALERT_LAG_SECONDS || id == ALERT_RETAINED_WAL ||
	       id == ALERT_WAL_DISK;
}

/* ------------------------------------------------------------------------ */
/* formatting                                                               */
/* ------------------------------------------------------------------------ */

/* 1024-based, as postgresql.conf and pg_size_pretty. */
static const char *
human_size(char *buf, size_t cap, double v)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	int u = 0;

	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%.0f B", v);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

static const char *
human_duration(char *buf, size_t cap, double s)
{
	if (s < 120)
		snprintf(buf, cap, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, cap, "%.1f min", s / 60);
	else
		snprintf(buf, cap, "%.1f h", s / 3600);
	return buf;
}

/* The machine-readable form (PGCDC_VALUE, PGCDC_THRESHOLD, JSON numbers). */
static void
fmt_number(enum alert_id id, double v, char *buf, size_t cap)
{
	switch (id) {
	case ALERT_LAG_SECONDS:
		snprintf(buf, cap, "%.1f", v);
		break;
	case ALERT_WAL_DISK:
		snprintf(buf, cap, "%.4f", v);
		break;
	default:
		snprintf(buf, cap, "%.0f", v);
		break;
	}
}

/* The human form, for messages. */
static const char *
fmt_human(enum alert_id id, double v, char *buf, size_t cap)
{
	switch (id) {
	case ALERT_LAG_BYTES:
	case ALERT_RETAINED_WAL:
		return human_size(buf, cap, v);
	case ALERT_LAG_SECONDS:
	case ALERT_SLOT_INACTIVE:
		return human_duration(buf, cap, v);
	case ALERT_WAL_DISK:
		snprintf(buf, cap, "%.1f%%", v * 100);
		return buf;
	default:
		snprintf(buf, cap, "%g", v);
		return buf;
	}
}

/* ------------------------------------------------------------------------ */
/* state machine                                                            */
/* ------------------------------------------------------------------------ */

struct alert_state {
	enum alert_level level;
	int lower;                 /* discrete: consecutive observations below level */
	bool observed;
	double value;              /* last observed (numeric and slot_inactive) */
	char value_s[64];
	int64_t since_ms;
	int64_t last_fired_ms;
};

struct alerts {
	struct alert_rules rules;
	char slot[128];
	struct alert_state st[ALERT_COUNT];
};

struct alerts *
alerts_new(const struct alert_rules *rules)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->rules = *rules;
	snprintf(a->slot, sizeof(a->slot), "%s", rules->slot ? rules->slot : "");
	a->rules.slot = a->slot;
	return a;
}

void
alerts_free(struct alerts *a)
{
	free(a);
}

static enum alert_level
level_of(double v, double warning, double critical, double scale)
{
	if (critical > 0 && v >= critical * scale)
		return ALERT_CRITICAL;
	if (warning > 0 && v >= warning * scale)
		return ALERT_WARNING;
	return ALERT_OK;
}

/* The threshold that goes with a level: the one crossed to reach it; for ok, the
 * one a value must stay under (warning's, or critical's when warning is off). */
static void
threshold_of(const struct alerts *a, enum alert_id id, enum alert_level l, char *buf, size_t cap)
{
	double t = 0;

	buf[0] = '\0';
	if (id == ALERT_WAL_STATUS) {
		if (l == ALERT_WARNING)
			snprintf(buf, cap, "extended");
		else if (l == ALERT_CRITICAL)
			snprintf(buf, cap, "unreserved");
		return;
	}
	if (id == ALERT_SINK_ERROR || id == ALERT_GAP)
		return;
	if (id == ALERT_SLOT_INACTIVE)
		t = a->rules.critical[id];
	else if (l == ALERT_CRITICAL)
		t = a->rules.critical[id];
	else if (l == ALERT_WARNING)
		t = a->rules.warning[id];
	else
		t = a->rules.warning[id] > 0 ? a->rules.warning[id] : a->rules.critical[id];
	if (t > 0)
		fmt_number(id, t, buf, cap);
}

static void
describe(const struct alerts *a, enum alert_id id, const struct alert_state *s, char *buf,
         size_t cap)
{
	char h[64];

	switch (id) {
	case ALERT_LAG_BYTES:
		snprintf(buf, cap, "slot \"%s\" is %s behind the server's current WAL position",
		         a->slot, fmt_human(id, s->value, h, sizeof(h)));
		break;
	case ALERT_LAG_SECONDS:
		snprintf(buf, cap, "the oldest WAL slot \"%s\" has not confirmed was written %s ago",
		         a->slot, fmt_human(id, s->value, h, sizeof(h)));
		break;
	case ALERT_RETAINED_WAL:
		snprintf(buf, cap, "slot \"%s\" retains %s of WAL on the server", a->slot,
		         fmt_human(id, s->value, h, sizeof(h)));
		break;
	case ALERT_WAL_DISK:
		snprintf(buf, cap, "the pg_wal filesystem is %s full", fmt_human(id, s->value, h, sizeof(h)));
		break;
	case ALERT_WAL_STATUS:
		snprintf(buf, cap, "slot \"%s\" has wal_status %s%s", a->slot, s->value_s,
		         strcmp(s->value_s, "extended") == 0 ?
		             " (it retains more WAL than max_wal_size)" :
		         strcmp(s->value_s, "unreserved") == 0 ?
		             " (it will lose WAL it needs at the next checkpoint unless it catches up)" :
		         strncmp(s->value_s, "lost", 4) == 0 ?
		             " (the server invalidated the slot: changes were lost; drop the slot and "
		             "re-snapshot)" : "");
		break;
	case ALERT_SLOT_INACTIVE:
		if (s->level == ALERT_OK)
			snprintf(buf, cap, "slot \"%s\" is active again", a->slot);
		else
			snprintf(buf, cap, "slot \"%s\" has not been active for %s while pgcdc runs",
			         a->slot, fmt_human(id, s->value, h, sizeof(h)));
		break;
	case ALERT_GAP:
		if (s->level == ALERT_OK)
			snprintf(buf, cap, "the backfill after the gap of slot \"%s\" is done", a->slot);
		else
			snprintf(buf, cap, "slot \"%s\" has a gap; an online backfill of every table "
			         "(source.on_gap = backfill) runs until it is closed", a->slot);
		break;
	case ALERT_SINK_ERROR:
		if (s->value_s[0] != '\0')
			snprintf(buf, cap, "sink %s is failing", s->value_s);
		else
			snprintf(buf, cap, "no sink is failing");
		break;
	default:
		snprintf(buf, cap, "%s", alert_name(id));
	}
}

static void
make_event(const struct alerts *a, enum alert_id id, const struct alert_state *s,
           const struct alert_obs *obs, enum alert_level previous, bool repeat, int64_t now_ms,
           struct alert_event *ev)
{
	char what[400], th[64], human[64];

	memset(ev, 0, sizeof(*ev));
	ev->id = id;
	ev->name = alert_name(id);
	ev->level = s->level;
	ev->previous = previous;
	ev->severity = s->level == ALERT_OK ? "resolved" : alert_level_name(s->level);
	ev->repeat = repeat;
	ev->numeric = alert_is_numeric(id) || id == ALERT_SLOT_INACTIVE;
	ev->at_ms = now_ms;
	snprintf(ev->value, sizeof(ev->value), "%s", s->value_s);
	threshold_of(a, id, s->level, th, sizeof(th));
	snprintf(ev->threshold, sizeof(ev->threshold), "%s", th);

	describe(a, id, s, what, sizeof(what));
	if (s->level == ALERT_OK) {
		snprintf(ev->message, sizeof(ev->message), "resolved (was %s): %s",
		         alert_level_name(previous), what);
	} else if (alert_is_numeric(id) && th[0] != '\0') {
		double t = s->level == ALERT_CRITICAL ? a->rules.critical[id] : a->rules.warning[id];

		snprintf(ev->message, sizeof(ev->message), "%s%s (%s threshold %s)%s%s",
		         repeat ? "still firing: " : "", what, alert_level_name(s->level),
		         fmt_human(id, t, human, sizeof(human)), obs->detail[0] ? ": " : "", obs->detail);
	} else {
		snprintf(ev->message, sizeof(ev->message), "%s%s%s%s", repeat ? "still firing: " : "", what,
		         obs->detail[0] ? ": " : "", obs->detail);
	}
}

int
alerts_observe(struct alerts *a, enum alert_id id, const struct alert_obs *obs, int64_t now_ms,
               struct alert_event *ev)
{
	struct alert_state *s;
	enum alert_level cur, nl;

	if (id < 0 || id >= ALERT_COUNT || !obs->known)
		return 0;
	s = &a->st[id];
	cur = s->level;
	s->value = obs->value;
	if (alert_is_numeric(id) || id == ALERT_SLOT_INACTIVE)
		fmt_number(id, obs->value, s->value_s, sizeof(s->value_s));
	else
		snprintf(s->value_s, sizeof(s->value_s), "%s", obs->text);
	if (!s->observed) {
		s->observed = true;
		s->since_ms = now_ms;
	}

	if (alert_is_numeric(id)) {
		enum alert_level up = level_of(obs->value, a->rules.warning[id], a->rules.critical[id], 1.0);
		enum alert_level hold = level_of(obs->value, a->rules.warning[id], a->rules.critical[id],
		                                 ALERT_CLEAR_RATIO);
		enum alert_level keep = hold < cur ? hold : cur;

		nl = up > keep ? up : keep;
	} else if (obs->level >= cur) {
		nl = obs->level;
		s->lower = 0;
	} else if (++s->lower >= ALERT_CLEAR_SAMPLES) {
		nl = obs->level;
		s->lower = 0;
	} else {
		nl = cur;
	}

	if (nl != cur) {
		s->level = nl;
		s->since_ms = now_ms;
		s->last_fired_ms = now_ms;
		s->lower = 0;
		make_event(a, id, s, obs, cur, false, now_ms, ev);
		return 1;
	}
	if (cur != ALERT_OK && a->rules.repeat_ms > 0 && now_ms - s->last_fired_ms >= a->rules.repeat_ms) {
		s->last_fired_ms = now_ms;
		make_event(a, id, s, obs, cur, true, now_ms, ev);
		return 1;
	}
	return 0;
}

void
alerts_view(const struct alerts *a, enum alert_id id, struct alert_view *out)
{
	const struct alert_state *s;

	memset(out, 0, sizeof(*out));
	if (id < 0 || id >= ALERT_COUNT)
		return;
	s = &a->st[id];
	out->level = s->level;
	out->numeric = alert_is_numeric(id) || id == ALERT_SLOT_INACTIVE;
	out->since_ms = s->since_ms;
	snprintf(out->value, sizeof(out->value), "%s", s->value_s);
	threshold_of(a, id, s->level, out->threshold, sizeof(out->threshold));
}

/* ------------------------------------------------------------------------ */
/* hook input                                                               */
/* ------------------------------------------------------------------------ */

static void
put_iso_ms(struct jbuf *b, int64_t ms)
{
	char buf[64];
	time_t t = (time_t) (ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms % 1000));
	jbuf_puts(b, buf);
}

static void
put_field(struct jbuf *b, const char *key, const char *val, bool first)
{
	if (!first)
		jbuf_putc(b, ',');
	jbuf_put_jstring(b, key, strlen(key));
	jbuf_putc(b, ':');
	jbuf_put_jstring(b, val, strlen(val));
}

char *
alert_event_json(const struct alert_event *ev, const char *slot, const char *database)
{
	struct jbuf b;

	jbuf_init(&b);
	jbuf_putc(&b, '{');
	put_field(&b, "alert", ev->name, true);
	put_field(&b, "severity", ev->severity, false);
	/* numbers we formatted ourselves (%.Nf) are valid JSON numbers */
	if (ev->numeric && ev->value[0] != '\0') {
		jbuf_puts(&b, ",\"value\":");
		jbuf_puts(&b, ev->value);
	} else {
		put_field(&b, "value", ev->value, false);
	}
	jbuf_puts(&b, ",\"threshold\":");
	if (ev->threshold[0] == '\0')
		jbuf_puts(&b, "null");
	else if (ev->numeric)
		jbuf_puts(&b, ev->threshold);
	else
		jbuf_put_jstring(&b, ev->threshold, strlen(ev->threshold));
	put_field(&b, "slot", slot ? slot : "", false);
	put_field(&b, "database", database ? database : "", false);
	put_field(&b, "message", ev->message, false);
	put_field(&b, "previous", alert_level_name(ev->previous), false);
	jbuf_puts(&b, ev->repeat ? ",\"repeat\":true" : ",\"repeat\":false");
	jbuf_puts(&b, ",\"time\":");
	put_iso_ms(&b, ev->at_ms);
	jbuf_putc(&b, '}');
	jbuf_putc(&b, '\0');
	if (b.oom) {
		jbuf_free(&b);
		return NULL;
	}
	return b.data;
}

char **
alert_argv_split(const char *command)
{
	const char *seps = " \t\r\n";
	char *copy, *save = NULL, **argv;
	size_t n = 0, i = 0;

	if (command == NULL)
		return NULL;
	copy = strdup(command);
	if (copy == NULL)
		return NULL;
	for (char *t = strtok_r(copy, seps, &save); t != NULL; t = strtok_r(NULL, seps, &save))
		n++;
	free(copy);
	if (n == 0)
		return NULL;
	argv = calloc(n + 1, sizeof(char *));
	copy = strdup(command);
	if (argv == NULL || copy == NULL) {
		free(argv);
		free(copy);
		return NULL;
	}
	save = NULL;
	for (char *t = strtok_r(copy, seps, &save); t != NULL; t = strtok_r(NULL, seps, &save)) {
		if ((argv[i++] = strdup(t)) == NULL) {
			free(copy);
			alert_argv_free(argv);
			return NULL;
		}
	}
	free(copy);
	return argv;
}

void
alert_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

/* ------------------------------------------------------------------------ */
/* execution                                                                */
/* ------------------------------------------------------------------------ */

static void
put_stderr(const char *s)
{
	(void) !write(STDERR_FILENO, s, strlen(s));
}

/* In the child, between fork and execve: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(char *const argv[], char *const envp[], int in_r, int out_w)
{
	struct sigaction sa;
	sigset_t none;
	const char *why;

	setpgid(0, 0);               /* own group: the timeout kills everything it started */
	if (dup2(in_r, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
	    dup2(out_w, STDERR_FILENO) < 0)
		_exit(126);
	if (close_range(3, ~0U, 0) != 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	/* execve keeps ignored signals ignored and the mask: give the hook defaults */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void) sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(argv[0], argv, envp);
	switch (errno) {
	case ENOENT: why = "no such file"; break;
	case EACCES: why = "permission denied (is it executable?)"; break;
	case ENOEXEC: why = "not an executable format (a script needs a #! line)"; break;
	default: why = "execve failed"; break;
	}
	put_stderr("cannot execute ");
	put_stderr(argv[0]);
	put_stderr(": ");
	put_stderr(why);
	_exit(127);
}

static void
collect(int fd, struct alert_run_result *res, size_t *len, bool *eof)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			size_t room = sizeof(res->output) - 1 - *len;
			size_t take = (size_t) n < room ? (size_t) n : room;

			memcpy(res->output + *len, buf, take);
			*len += take;
			res->output[*len] = '\0';
			continue;
		}
		if (n == 0)
			*eof = true;
		else if (errno == EINTR)
			continue;
		return;
	}
}

int
alert_run(char *const argv[], char *const envp[], const char *input, int64_t timeout_ms,
          struct alert_run_result *res)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, wst = 0;
	size_t outlen = 0, inlen = input ? strlen(input) : 0, inoff = 0;
	bool eof = false, exited = false;
	int64_t start;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (argv == NULL || argv[0] == NULL) {
		snprintf(res->error, sizeof(res->error), "no command");
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		snprintf(res->error, sizeof(res->error), "pipe: %s", strerror(errno));
		goto fail;
	}
	start = mono_ms();
	pid = fork();
	if (pid < 0) {
		snprintf(res->error, sizeof(res->error), "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_exec(argv, envp, in[0], out[1]);
	res->started = true;
	(void) setpgid(pid, pid);    /* also here: no race with the kill below */
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;

	/* the JSON is far below a pipe's capacity; a hook that never reads stdin
	 * does not block us (non-blocking, and EPIPE once it exited) */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	while (inoff < inlen) {
		ssize_t n = write(in[1], input + inoff, inlen - inoff);

		if (n > 0)
			inoff += (size_t) n;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	close(in[1]);
	in[1] = -1;
	fcntl(out[0], F_SETFL, O_NONBLOCK);

	for (;;) {
		struct pollfd pfd = { .fd = eof ? -1 : out[0], .events = POLLIN };
		int64_t left = timeout_ms - (mono_ms() - start);
		pid_t w = waitpid(pid, &wst, WNOHANG);

		if (w == pid) {
			exited = true;
			break;
		}
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
				;
			res->timed_out = true;
			break;
		}
		if (poll(&pfd, 1, left < 20 ? (int) left : 20) > 0)
			collect(out[0], res, &outlen, &eof);
	}
	if (!eof)
		collect(out[0], res, &outlen, &eof);
	close(out[0]);
	res->elapsed_ms = mono_ms() - start;
	if (res->timed_out) {
		res->signal = SIGKILL;
		return -1;
	}
	if (exited && WIFEXITED(wst)) {
		res->exit_status = WEXITSTATUS(wst);
		return res->exit_status == 0 ? 0 : -1;
	}
	if (exited && WIFSIGNALED(wst))
		res->signal = WTERMSIG(wst);
	return -1;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

/* ------------------------------------------------------------------------ */
/* runner thread                                                            */
/* ------------------------------------------------------------------------ */

struct alert_hook {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool thread_started;
	struct alert_event q[HOOK_QUEUE];
	int head, n;
	uint64_t started;
	char **argv;
	int64_t timeout_ms;
	char slot[128];
	char database[128];
};

static const char *const hook_vars[] = {
	"PGCDC_ALERT", "PGCDC_SEVERITY", "PGCDC_VALUE", "PGCDC_THRESHOLD", "PGCDC_SLOT",
	"PGCDC_DATABASE", "PGCDC_MESSAGE",
};
#define NHOOK_VARS ((int) (sizeof(hook_vars) / sizeof(hook_vars[0])))

static bool
is_hook_var(const char *entry)
{
	for (int i = 0; i < NHOOK_VARS; i++) {
		size_t l = strlen(hook_vars[i]);

		if (strncmp(entry, hook_vars[i], l) == 0 && entry[l] == '=')
			return true;
	}
	return false;
}

/* The agent's environment without stale PGCDC_* hook variables, plus this event's.
 * Returns an owned array; only the added strings are owned (from index *first_own). */
static char **
hook_env(const struct alert_event *ev, const char *slot, const char *database, int *first_own)
{
	const char *vals[NHOOK_VARS] = {
		ev->name, ev->severity, ev->value, ev->threshold, slot, database, ev->message,
	};
	size_t n = 0, o = 0;
	char **env;

	for (char **e = environ; e != NULL && *e != NULL; e++)
		n++;
	env = calloc(n + NHOOK_VARS + 1, sizeof(char *));
	if (env == NULL)
		return NULL;
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (!is_hook_var(*e))
			env[o++] = *e;
	*first_own = (int) o;
	for (int i = 0; i < NHOOK_VARS; i++) {
		if (asprintf(&env[o], "%s=%s", hook_vars[i], vals[i] ? vals[i] : "") < 0) {
			env[o] = NULL;
			for (size_t k = (size_t) *first_own; k < o; k++)
				free(env[k]);
			free(env);
			return NULL;
		}
		o++;
	}
	env[o] = NULL;
	return env;
}

static void
oneline(char *s)
{
	size_t l = strlen(s);

	while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == '\r'))
		s[--l] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

static void
run_one(struct alert_hook *h, const struct alert_event *ev, const char *database)
{
	struct alert_run_result res;
	int first_own = 0, rc;
	char **env = hook_env(ev, h->slot, database, &first_own);
	char *input = alert_event_json(ev, h->slot, database);

	if (env == NULL || input == NULL) {
		log_warning("alert", "hook %s for %s %s not run: out of memory", h->argv[0], ev->name,
		            ev->severity);
		goto out;
	}
	rc = alert_run(h->argv, env, input, h->timeout_ms, &res);
	oneline(res.output);
	if (rc == 0) {
		log_info("alert", "hook %s for %s %s finished in %lld ms%s%s", h->argv[0], ev->name,
		         ev->severity, (long long) res.elapsed_ms, res.output[0] ? ": " : "", res.output);
	} else if (!res.started) {
		log_warning("alert", "hook %s for %s %s could not be started: %s", h->argv[0], ev->name,
		            ev->severity, res.error);
	} else if (res.timed_out) {
		log_warning("alert", "hook %s for %s %s did not finish within %lld ms (alert_timeout): "
		            "killed its process group%s%s", h->argv[0], ev->name, ev->severity,
		            (long long) h->timeout_ms, res.output[0] ? "; output: " : "", res.output);
	} else if (res.signal != 0) {
		log_warning("alert", "hook %s for %s %s was killed by signal %d%s%s", h->argv[0],
		            ev->name, ev->severity, res.signal, res.output[0] ? "; output: " : "",
		            res.output);
	} else {
		log_warning("alert", "hook %s for %s %s exited with status %d%s%s", h->argv[0],
		            ev->name, ev->severity, res.exit_status, res.output[0] ? ": " : "",
		            res.output);
	}
out:
	if (env != NULL) {
		for (int i = first_own; env[i] != NULL; i++)
			free(env[i]);
		free(env);
	}
	free(input);
}

static void *
runner_main(void *arg)
{
	struct alert_hook *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		struct alert_event ev;
		char database[sizeof(h->database)];

		while (!h->stop && h->n == 0)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stop) {
			if (h->n > 0)
				log_warning("alert", "stopping: %d queued alert hook run(s) dropped", h->n);
			h->n = 0;
			break;
		}
		ev = h->q[h->head];
		h->head = (h->head + 1) % HOOK_QUEUE;
		h->n--;
		h->started++;
		memcpy(database, h->database, sizeof(database));
		pthread_mutex_unlock(&h->mu);
		run_one(h, &ev, database);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct alert_hook *
alert_hook_new(const char *command, int64_t timeout_ms, const char *slot, struct cdc_err *err)
{
	struct alert_hook *h = calloc(1, sizeof(*h));
	int rc;

	if (h == NULL) {
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->timeout_ms = timeout_ms;
	snprintf(h->slot, sizeof(h->slot), "%s", slot ? slot : "");
	h->argv = alert_argv_split(command);
	if (h->argv == NULL) {
		cdc_errf(err, CDC_ERR_CONFIG, "monitor.alert_command is empty");
		alert_hook_free(h);
		return NULL;
	}
	if ((rc = pthread_create(&h->thread, NULL, runner_main, h)) != 0) {
		cdc_errf(err, CDC_ERR_FATAL, "cannot start the alert hook thread: %s", strerror(rc));
		alert_hook_free(h);
		return NULL;
	}
	h->thread_started = true;
	return h;
}

void
alert_hook_set_database(struct alert_hook *h, const char *database)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	snprintf(h->database, sizeof(h->database), "%s", database ? database : "");
	pthread_mutex_unlock(&h->mu);
}

void
alert_hook_fire(struct alert_hook *h, const struct alert_event *ev)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	if (h->n == HOOK_QUEUE) {
		const struct alert_event *old = &h->q[h->head];

		log_warning("alert", "alert hook queue full (%d waiting): dropped %s %s", HOOK_QUEUE,
		            old->name, old->severity);
		h->head = (h->head + 1) % HOOK_QUEUE;
		h->n--;
	}
	h->q[(h->head + h->n) % HOOK_QUEUE] = *ev;
	h->n++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void
alert_hook_counts(struct alert_hook *h, uint64_t *started, int *queued)
{
	pthread_mutex_lock(&h->mu);
	*started = h->started;
	*queued = h->n;
	pthread_mutex_unlock(&h->mu);
}

void
alert_hook_free(struct alert_hook *h)
{
	if (h == NULL)
		return;
	if (h->thread_started) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	alert_argv_free(h->argv);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
