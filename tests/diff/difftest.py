#!/usr/bin/python3
"""
difftest.py — one seed of the randomized differential test (tests/diff/run.sh runs it).

A seeded workload runs in its own database on a running PostgreSQL while pgcdc streams
it (stdout sink); PostgreSQL's own decoder, test_decoding, is the oracle.

Alignment: the pgoutput slot (pgcdc's) and the test_decoding slot ("oracle") are both
created, one after the other, before the seed's first transaction and while no
transaction of the seed's database runs; pgcdc starts with snapshot = never on the
existing slot.  Both slots therefore decode exactly the transactions that commit after
their creation, and the same xids.  pgoutput filters by publication (FOR ALL TABLES, so
every table) and test_decoding does not; with publish_via_partition_root the oracle's
partition names are mapped to the root.

Compared, per transaction in commit order (the last complete delivery of each txId:
re-sending a cut transaction after kill -9 is allowed): the sequence of (table, op) and
every key and value, the oracle's text mapped as SPEC §3 says; modelled: a key change is
a delete of the old key then a create, a DEFAULT identity update's `before` is the key
taken from the new row, unchanged TOAST is the placeholder, a truncate of several tables
is one op "t" record per table.  Then the consumer's state replayed from the records
equals SELECT * of every table (the placeholder keeps the previous value), and nothing
acknowledged before a clean SIGTERM is sent again.

Faults, chosen by the seed: SIGTERM and restart, kill -9 and restart, a server restart
(fast or immediate, through $DIFF_PGCTL), at random points of the workload.

--mutate {drop,change,swap,dup} alters one delivered record before the comparison,
pq-drop and pq-change one row read back from Parquet, kafka-drop one record read back
from Kafka: the comparison must then fail (the self-test; exit 0 when it did).

Exit 0: pass.  Exit 1: a difference (printed; the work directory keeps the workload SQL,
the records, the oracle's output and the logs).
"""
import argparse
import base64
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import struct
import threading
import time
from decimal import Decimal

import psycopg2

SESSION = ("SET DateStyle=ISO; SET TimeZone=UTC; SET extra_float_digits=1; "
           "SET bytea_output=hex; SET IntervalStyle=iso_8601")
PLACEHOLDER = "__debezium_unavailable_value"
SLOT = ORACLE = None        # per seed: pgcdc_s<seed>, oracle_s<seed>


class Stats:
    def __init__(self):
        self.c = {}

    def add(self, k, n=1):
        self.c[k] = self.c.get(k, 0) + n


STATS = Stats()
STATS_LOCK = threading.Lock()


T0 = time.time()


def phase(name):
    """How long the seed has run when it reaches a phase (stderr: the result file)."""
    print("phase %-10s %6.1f s" % (name, time.time() - T0), file=sys.stderr)


def stat(k, n=1):
    with STATS_LOCK:
        STATS.add(k, n)


# ---------------------------------------------------------------- the schema

DOMAINS = {"posint": "integer"}
VIRTUAL = {"gv"}        # virtual generated columns (18): never published


def schema_sql(rnd, major):
    via_root = rnd.random() < 0.5 and major >= 13
    sql = [
        "CREATE TYPE mood AS ENUM ('ok', 'sad', 'it''s')",
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
        "CREATE SCHEMA \"Odd Schema\"",
        # every SPEC §3 type the generator writes; big is TOASTed out of line
        "CREATE TABLE t_basic (id int PRIMARY KEY, v text, n numeric(12,3), b bool, f float8, "
        "ts timestamptz, tsl timestamp, d date, by bytea, arr int[], tarr text[], "
        "j jsonb, u uuid, m mood, p posint, big text)",
        "ALTER TABLE t_basic ALTER big SET STORAGE EXTERNAL",
        "CREATE TABLE \"Odd Schema\".\"Mixed Case\" (\"Id\" bigint PRIMARY KEY, \"v w\" text, "
        "\"select\" int)",
        "CREATE TABLE t_full (a int, v text)",
        "ALTER TABLE t_full REPLICA IDENTITY FULL",
        "CREATE TABLE t_idx (a int NOT NULL, b int NOT NULL, v text)",
        "CREATE UNIQUE INDEX t_idx_ab ON t_idx (a, b)",
        "ALTER TABLE t_idx REPLICA IDENTITY USING INDEX t_idx_ab",
        "CREATE TABLE t_nokey (v text, k int)",
        "CREATE TABLE parted (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k)",
        "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (50)",
        "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (50) TO (100)",
    ]
    opts = []
    if major >= 13:
        opts.append("publish_via_partition_root = %s" % ("true" if via_root else "false"))
    if major >= 18:
        # generated columns: the stored one is published, the virtual one never is
        # (test_decoding prints it as null: the oracle leaves it out, VIRTUAL)
        sql += ["ALTER TABLE t_basic ADD COLUMN gs bigint GENERATED ALWAYS AS (id * 2) STORED",
                "ALTER TABLE t_basic ADD COLUMN gv int GENERATED ALWAYS AS (id * 3) VIRTUAL"]
        opts.append("publish_generated_columns = stored")
    sql.append("CREATE PUBLICATION pgcdc FOR ALL TABLES" +
               (" WITH (%s)" % ", ".join(opts) if opts else ""))
    return sql, via_root


TEXTS = ["plain", "it's", "back\\slash", "quote\"d", "tab\tand\nnewline", "emoji \U0001F600",
         "ctl \x01\x1f", "", "{braces,}", "NULL", "  spaced  "]


def rtext(rnd):
    t = rnd.choice(TEXTS)
    return t + str(rnd.randrange(1000)) if rnd.random() < 0.7 else t


def lit(s):
    if s is None:
        return "NULL"
    return "'" + s.replace("'", "''") + "'"


def arr_lit(vals, quote=False):
    out = []
    for v in vals:
        if v is None:
            out.append("NULL")
        elif quote:
            out.append('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            out.append(str(v))
    return "{" + ",".join(out) + "}"


def basic_row(rnd, i):
    big = None
    if rnd.random() < 0.3:
        big = "B%d-" % i + "x" * rnd.choice([100, 3000, 9000])
    f = rnd.choice(["1.5", "-0.25", "'NaN'", "'Infinity'", "'-Infinity'", "1e300", "NULL"])
    ts = rnd.choice(["'2024-02-29 12:34:56.789+00'", "'infinity'", "'-infinity'",
                     "'1999-12-31 23:59:59+05'", "NULL"])
    tsl = rnd.choice(["'2024-02-29 12:34:56'", "'0044-03-15 12:00:00 BC'", "'infinity'", "NULL"])
    d = rnd.choice(["'2024-01-01'", "'2000-01-01 BC'", "'-infinity'", "NULL"])
    arr = rnd.choice(["'{1,NULL,3}'", "'{{1,2},{3,4}}'", "'{}'", "NULL"])
    tarr = lit(arr_lit([rtext(rnd), None, "a,b"], quote=True)) if rnd.random() < 0.6 else "NULL"
    return ("(%d, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)" % (
        i, lit(rtext(rnd)), rnd.choice(["1.5", "-123456789.125", "'NaN'", "0", "NULL"]),
        rnd.choice(["true", "false", "NULL"]), f, ts, tsl, d,
        rnd.choice(["'\\x00ff10'", "''", "NULL"]), arr, tarr,
        rnd.choice(["'{\"a\": [1, \"x\"]}'", "'\"s\"'", "'null'", "NULL"]),
        rnd.choice(["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "NULL"]),
        rnd.choice(["'ok'", "'it''s'", "NULL"]), rnd.choice(["7", "NULL"]), lit(big)))


# ---------------------------------------------------------------- the workload

class Workload:
    def __init__(self, args, seed, dsn, log):
        self.args = args
        self.seed = seed
        self.dsn = dsn
        self.log = log
        self.lock = threading.Lock()
        self.next_id = 1000
        self.gid = 0
        self.ddl_cols = []       # added columns of t_basic still there
        self.ddl_n = 0

    def new_id(self):
        with self.lock:
            self.next_id += 1
            return self.next_id

    def txn(self, rnd, sess):
        """One transaction's statements, and whether it ends in COMMIT, ROLLBACK or a
        prepared transaction."""
        kind = rnd.choices(["ins", "multi", "upd", "updkey", "del", "full", "idx", "nokey",
                            "parted", "odd", "rollback", "savepoint", "big", "prepared",
                            "truncate", "ddl"],
                           [10, 6, 10, 4, 5, 4, 4, 2, 4, 3, 3, 5, 1, 2, 1, 2])[0]
        s = []
        end = "COMMIT"
        if kind == "ins":
            s.append("INSERT INTO t_basic (id, v, n, b, f, ts, tsl, d, by, arr, tarr, j, u, m, p, big) "
                     "VALUES " + basic_row(rnd, self.new_id()))
        elif kind == "multi":
            s.append("INSERT INTO t_basic (id, v, n, b, f, ts, tsl, d, by, arr, tarr, j, u, m, p, big) "
                     "VALUES " + ", ".join(basic_row(rnd, self.new_id())
                                           for _ in range(rnd.randint(2, 5))))
        elif kind == "upd":
            col = rnd.choice(["v = %s" % lit(rtext(rnd)), "n = n + 1", "big = big || 'y'",
                              "arr = '{9}'", "m = 'sad'"])
            s.append("UPDATE t_basic SET %s WHERE id = (SELECT id FROM t_basic ORDER BY random() "
                     "LIMIT 1)" % col)
        elif kind == "updkey":
            s.append("UPDATE t_basic SET id = %d WHERE id = (SELECT id FROM t_basic ORDER BY random() "
                     "LIMIT 1)" % self.new_id())
        elif kind == "del":
            s.append("DELETE FROM t_basic WHERE id = (SELECT id FROM t_basic ORDER BY random() LIMIT 1)")
        elif kind == "full":
            s.append(rnd.choice([
                "INSERT INTO t_full VALUES (%d, %s)" % (rnd.randrange(20), lit(rtext(rnd))),
                "UPDATE t_full SET v = %s WHERE ctid = (SELECT ctid FROM t_full LIMIT 1)" % lit(rtext(rnd)),
                "DELETE FROM t_full WHERE ctid = (SELECT ctid FROM t_full ORDER BY random() LIMIT 1)"]))
        elif kind == "idx":
            a, b = rnd.randrange(50), rnd.randrange(50)
            s.append(rnd.choice([
                "INSERT INTO t_idx VALUES (%d, %d, %s) ON CONFLICT DO NOTHING" % (a, b, lit(rtext(rnd))),
                "UPDATE t_idx SET v = %s WHERE (a, b) = (SELECT a, b FROM t_idx ORDER BY random() LIMIT 1)" % lit(rtext(rnd)),
                "UPDATE t_idx SET b = b + 1000 WHERE (a, b) = (SELECT a, b FROM t_idx ORDER BY random() LIMIT 1)",
                "DELETE FROM t_idx WHERE (a, b) = (SELECT a, b FROM t_idx ORDER BY random() LIMIT 1)"]))
        elif kind == "nokey":
            s.append("INSERT INTO t_nokey VALUES (%s, %d)" % (lit(rtext(rnd)), rnd.randrange(10)))
        elif kind == "parted":
            s.append(rnd.choice([
                "INSERT INTO parted VALUES (%d, %d, %s)" % (self.new_id(), rnd.randrange(100), lit(rtext(rnd))),
                "UPDATE parted SET k = (k + 50) %% 100 WHERE (id, k) = (SELECT id, k FROM parted ORDER BY random() LIMIT 1)",
                "UPDATE parted SET v = %s WHERE (id, k) = (SELECT id, k FROM parted ORDER BY random() LIMIT 1)" % lit(rtext(rnd)),
                "DELETE FROM parted WHERE (id, k) = (SELECT id, k FROM parted ORDER BY random() LIMIT 1)"]))
        elif kind == "odd":
            s.append(rnd.choice([
                "INSERT INTO \"Odd Schema\".\"Mixed Case\" VALUES (%d, %s, %d)" % (self.new_id(), lit(rtext(rnd)), rnd.randrange(9)),
                "UPDATE \"Odd Schema\".\"Mixed Case\" SET \"v w\" = %s WHERE \"Id\" = (SELECT \"Id\" FROM \"Odd Schema\".\"Mixed Case\" ORDER BY random() LIMIT 1)" % lit(rtext(rnd))]))
        elif kind == "rollback":
            s.append("INSERT INTO t_basic (id, v) VALUES (%d, 'rolled back')" % self.new_id())
            s.append("DELETE FROM t_full")
            end = "ROLLBACK"
        elif kind == "savepoint":
            stat("savepoints")
            s.append("INSERT INTO t_basic (id, v) VALUES (%d, 'before sp')" % self.new_id())
            s.append("SAVEPOINT a")
            s.append("INSERT INTO t_basic (id, v) VALUES (%d, 'in sp')" % self.new_id())
            s.append("UPDATE t_basic SET v = 'sp update' WHERE id = (SELECT id FROM t_basic ORDER BY random() LIMIT 1)")
            s.append(rnd.choice(["ROLLBACK TO a", "RELEASE a"]))
            s.append("INSERT INTO t_basic (id, v) VALUES (%d, 'after sp')" % self.new_id())
        elif kind == "big":
            stat("large transactions")
            base = self.new_id()
            with self.lock:
                self.next_id += 3000
            s.append("INSERT INTO t_basic (id, v, big) SELECT %d + g, 'bulk ' || g, "
                     "CASE WHEN g %% 500 = 0 THEN repeat('t', 3000) END FROM generate_series(1, 1200) g" % base)
            s.append("SAVEPOINT s1")
            s.append("INSERT INTO t_basic (id, v) SELECT %d + 1500 + g, 'aborted sub ' || g FROM generate_series(1, 800) g" % base)
            s.append("ROLLBACK TO s1")
            s.append("UPDATE t_basic SET v = v || '!' WHERE id BETWEEN %d AND %d" % (base + 1, base + 300))
        elif kind == "prepared":
            with self.lock:
                self.gid += 1
                gid = "g%d_%d" % (self.seed, self.gid)
            s.append("INSERT INTO t_basic (id, v) VALUES (%d, 'prepared')" % self.new_id())
            end = ("PREPARED", gid, rnd.random() < 0.7)
        elif kind == "truncate":
            stat("truncates")
            t = rnd.choice(["TRUNCATE t_full", "TRUNCATE t_full, t_idx", "TRUNCATE t_nokey CASCADE"])
            s.append(t)
            if rnd.random() < 0.3:
                end = "ROLLBACK"
        elif kind == "ddl":
            with self.lock:
                self.ddl_n += 1
                n = self.ddl_n
                cols = list(self.ddl_cols)
            r = rnd.random()
            if r < 0.5 or not cols:
                c = "c%d" % n
                s.append("ALTER TABLE t_basic ADD COLUMN %s int%s" % (c, rnd.choice(["", " DEFAULT 42"])))
                post = ("add", c)
            elif r < 0.75:
                c = cols[0]
                s.append("ALTER TABLE t_basic DROP COLUMN %s" % c)
                post = ("drop", c)
            else:
                c = cols[-1]
                s.append("ALTER TABLE t_basic ALTER COLUMN %s TYPE bigint" % c)
                post = ("type", c)
            s.append("INSERT INTO t_basic (id, v) VALUES (%d, 'after ddl')" % self.new_id())
            return kind, s, end, post
        return kind, s, end, None

    def session(self, k, steps, faults_at, fault_fn):
        rnd = random.Random(self.seed * 100 + k)
        conn = None
        log = open(os.path.join(self.args.work, "workload-%d.sql" % k), "w")
        for step in range(steps):
            if k == 0 and step in faults_at:
                fault_fn(faults_at[step])
            kind, stmts, end, post = self.txn(rnd, k)
            for attempt in range(40):
                try:
                    if conn is None:
                        conn = psycopg2.connect(self.dsn)
                        conn.autocommit = True
                    cur = conn.cursor()
                    cur.execute("BEGIN")
                    for st in stmts:
                        cur.execute(st)
                    if isinstance(end, tuple):
                        cur.execute("PREPARE TRANSACTION '%s'" % end[1])
                        cur.execute("%s PREPARED '%s'" % ("COMMIT" if end[2] else "ROLLBACK", end[1]))
                        stat("prepared transactions")
                    else:
                        cur.execute(end)
                    log.write("BEGIN;\n%s;\n%s;\n" % (";\n".join(stmts), end if not isinstance(end, tuple) else
                              "PREPARE TRANSACTION '%s'; %s PREPARED '%s'" % (end[1], "COMMIT" if end[2] else "ROLLBACK", end[1])))
                    if post is not None and end == "COMMIT":
                        with self.lock:
                            if post[0] == "add":
                                self.ddl_cols.append(post[1])
                            elif post[0] == "drop" and post[1] in self.ddl_cols:
                                self.ddl_cols.remove(post[1])
                        stat("DDL steps")
                    break
                except psycopg2.OperationalError:
                    # the server restarts (a fault): reconnect and run the transaction again
                    try:
                        conn.close()
                    except Exception:
                        pass
                    conn = None
                    if isinstance(end, tuple):
                        self.resolve_prepared(end[1])
                    time.sleep(0.5)
                except psycopg2.Error as e:
                    # a conflict, a deadlock, an expected failure: this transaction is rolled back
                    log.write("-- failed (%s): %s\n" % (type(e).__name__, " ".join(stmts)[:200]))
                    try:
                        conn.cursor().execute("ROLLBACK")
                    except Exception:
                        pass
                    if isinstance(end, tuple):
                        self.resolve_prepared(end[1])
                    break
            time.sleep(rnd.random() * 0.02)
        log.close()
        if conn is not None:
            conn.close()

    def resolve_prepared(self, gid):
        """A transaction prepared before a failure is rolled back: nothing of it counts."""
        for _ in range(40):
            try:
                c = psycopg2.connect(self.dsn)
                c.autocommit = True
                cur = c.cursor()
                cur.execute("SELECT 1 FROM pg_prepared_xacts WHERE gid = %s", (gid,))
                if cur.fetchone():
                    cur.execute("ROLLBACK PREPARED '%s'" % gid)
                c.close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.5)


# ---------------------------------------------------------------- the agent

class Agent:
    def __init__(self, args, dsn, db):
        self.args = args
        self.dsn = dsn
        self.db = db
        self.proc = None
        self.run = 0
        self.runs = []           # (out path, how it ended, acknowledged LSN or None)

    def start(self):
        self.run += 1
        out = os.path.join(self.args.work, "records-%d.jsonl" % self.run)
        log = os.path.join(self.args.work, "pgcdc-%d.log" % self.run)
        cmd = [self.args.pgcdc,
               "--set", "source.conninfo=%s" % self.dsn,
               "--set", "source.snapshot=never", "--set", "source.slot=%s" % SLOT,
               "--set", "source.publication=pgcdc",
               "--set", "source.state_dir=%s" % os.path.join(self.args.work, "state"),
               "--set", "source.protocol=%s" % self.args.protocol,
               "--set", "source.status_interval=1s", "--set", "sink.stdout.enabled=on",
               "--set", "monitor.metrics_listen="]
        if self.args.parquet:
            cmd += ["--set", "sink.parquet.directory=%s" % os.path.join(self.args.work, "parquet"),
                    "--set", "sink.parquet.rotate_interval=1s"]
        if self.args.brokers:
            cmd += ["--set", "sink.kafka.brokers=%s" % self.args.brokers,
                    "--set", "sink.kafka.topic_prefix=%s" % self.args.prefix]
        cmd.append("run")
        self.proc = subprocess.Popen(cmd, stdout=open(out, "wb"), stderr=open(log, "wb"))
        self.runs.append([out, None, None, log])
        # signals are pgcdc's once it has started (before that SIGTERM kills it, as any process)
        for _ in range(200):
            if self.proc.poll() is not None or b" starting: " in open(log, "rb").read():
                break
            time.sleep(0.025)

    def stop(self, sig):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(120)
        except subprocess.TimeoutExpired:
            # a hang: keep where every thread is (gdb when installed, else the kernel's
            # view), then stop it so the seed fails with its evidence
            where = os.path.join(self.args.work, "hang-%d.txt" % self.proc.pid)
            with open(where, "w") as f:
                for t in sorted(os.listdir("/proc/%d/task" % self.proc.pid)):
                    for k in ("comm", "wchan", "syscall"):
                        try:
                            f.write("%s %s: %s\n" % (t, k, open("/proc/%d/task/%s/%s" % (
                                self.proc.pid, t, k)).read().strip()))
                        except OSError:
                            pass
                if shutil.which("gdb"):
                    f.write(subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex",
                                            "thread apply all bt"], capture_output=True,
                                           text=True, timeout=60).stdout)
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("pgcdc did not exit within 120 s of signal %d (threads in %s, log %s)"
                             % (sig, where, self.runs[-1][3]))
        r = self.runs[-1]
        r[1] = "term" if sig == signal.SIGTERM else "kill"
        if sig == signal.SIGTERM:
            m = re.findall(r"acknowledged up to ([0-9A-F]+/[0-9A-F]+)", open(r[3]).read())
            r[2] = lsn_num(m[-1]) if m else None
            if rc != 0:
                raise SystemExit("pgcdc exited %d on SIGTERM (log %s)" % (rc, r[3]))
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def lsn_num(s):
    hi, lo = s.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


# ---------------------------------------------------------------- the oracle

TOKEN = re.compile(r'\s*("(?:[^"]|"")*"|[^\[\s]+)\[((?:[^\[\]]|\[\])*)\]:')


def parse_tuple(s):
    """'a[integer]:1 b[text]:'x''  ->  [(name, type, text or None or UNCHANGED)]"""
    out = []
    i = 0
    while i < len(s):
        m = TOKEN.match(s, i)
        if not m:
            break
        name, typ = m.group(1), m.group(2)
        if name.startswith('"'):
            name = name[1:-1].replace('""', '"')
        i = m.end()
        if s.startswith("'", i):
            j = i + 1
            buf = []
            while True:
                k = s.index("'", j)
                buf.append(s[j:k])
                if s.startswith("''", k):
                    buf.append("'")
                    j = k + 2
                    continue
                i = k + 1
                break
            val = "".join(buf)
        else:
            k = s.find(" ", i)
            k = len(s) if k < 0 else k
            val = s[i:k]
            i = k
            if val == "null":
                val = None
            elif val == "unchanged-toast-datum":
                val = UNCHANGED
        if name not in VIRTUAL:
            out.append((name, typ, val))
    return out


class _Unchanged:
    pass


UNCHANGED = _Unchanged()


def split_table_names(s):
    names, cur, q = [], "", False
    for ch in s:
        if ch == '"':
            q = not q
        if ch == "," and not q:
            names.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        names.append(cur.strip())
    return [unquote_qualified(n) for n in names]


def unquote_qualified(n):
    parts, cur, q, i = [], "", False, 0
    while i < len(n):
        ch = n[i]
        if ch == '"':
            if q and n[i + 1:i + 2] == '"':
                cur += '"'
                i += 2
                continue
            q = not q
        elif ch == "." and not q:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return tuple(parts)


def read_oracle(conn):
    cur = conn.cursor()
    cur.execute(SESSION)
    cur.execute("SELECT lsn::text, xid::text, data FROM pg_logical_slot_get_changes(%s, NULL, "
                "NULL, 'include-xids', '1', 'skip-empty-xacts', '1')", (ORACLE,))
    txns, cur_t = [], None
    for lsn, xid, data in cur.fetchall():
        if data.startswith("BEGIN "):
            cur_t = {"xid": int(xid), "changes": []}
        elif data.startswith("COMMIT "):
            cur_t["end"] = lsn_num(lsn)
            txns.append(cur_t)
            cur_t = None
        elif data.startswith("table "):
            head, rest = data[6:].split(": ", 1)
            op, rest = rest.split(":", 1)
            rest = rest.strip()
            if op == "TRUNCATE":
                for t in split_table_names(head):
                    cur_t["changes"].append({"table": t, "op": "TRUNCATE", "lsn": lsn_num(lsn)})
                continue
            ch = {"table": unquote_qualified(head), "op": op, "old": None, "new": None, "lsn": lsn_num(lsn)}
            if op == "INSERT":
                ch["new"] = parse_tuple(rest)
            elif op == "UPDATE":
                if rest.startswith("old-key: "):
                    old, new = rest[len("old-key: "):].split(" new-tuple: ", 1)
                    ch["old"] = parse_tuple(old)
                    ch["new"] = parse_tuple(new)
                else:
                    ch["new"] = parse_tuple(rest)
            elif op == "DELETE":
                ch["old"] = [] if rest == "(no-tuple-data)" else parse_tuple(rest)
            cur_t["changes"].append(ch)
        # messages and anything else: not part of this comparison
    return txns


# ---------------------------------------------------------------- SPEC §3 mapping

INTS = {"smallint", "integer", "bigint", "oid"}


def parse_pg_array(s):
    """PostgreSQL array text -> nested lists of str / None."""
    pos = 0

    def elem():
        nonlocal pos
        if s[pos] == "{":
            pos += 1
            items = []
            if s[pos] == "}":
                pos += 1
                return items
            while True:
                items.append(elem())
                if s[pos] == ",":
                    pos += 1
                    continue
                if s[pos] == "}":
                    pos += 1
                    return items
                raise ValueError("bad array " + s)
        if s[pos] == '"':
            pos += 1
            buf = ""
            while s[pos] != '"':
                if s[pos] == "\\":
                    pos += 1
                buf += s[pos]
                pos += 1
            pos += 1
            return buf
        j = pos
        while s[pos] not in ",}":
            pos += 1
        tok = s[j:pos]
        return None if tok == "NULL" else tok
    return elem()


def map_value(typ, text):
    if text is None:
        return None
    if text is UNCHANGED:
        return PLACEHOLDER
    typ = DOMAINS.get(typ, typ)
    if typ.endswith("[]"):
        base = typ[:-2]

        def walk(x):
            if isinstance(x, list):
                return [walk(e) for e in x]
            return map_value(base, x)
        return walk(parse_pg_array(text))
    if typ in INTS:
        return int(text)
    if typ in ("real", "double precision"):
        if text in ("NaN", "Infinity", "-Infinity"):
            return text
        return float(text)
    if typ == "boolean":
        return text in ("true", "t")
    if typ == "bytea":
        return base64.b64encode(bytes.fromhex(text[2:])).decode()
    # BC timestamps keep PostgreSQL's text (a documented deviation: README)
    if typ == "timestamp with time zone":
        if text in ("infinity", "-infinity") or text.endswith(" BC"):
            return text
        return re.sub(r"\+00$", "", text).replace(" ", "T", 1) + "Z"
    if typ == "timestamp without time zone":
        if text in ("infinity", "-infinity") or text.endswith(" BC"):
            return text
        return text.replace(" ", "T", 1)
    return text


def expected_records(txns, keys, via_root):
    """The records pgcdc must emit for the oracle's transactions, per transaction."""
    out = []
    for t in txns:
        recs = []
        for ch in t["changes"]:
            table = ch["table"]
            if via_root and table[1].startswith("parted_"):
                table = (table[0], "parted")
            if ch["op"] == "TRUNCATE":
                recs.append((table, "t", None, None))
                continue
            key = keys.get(table)
            new = {n: map_value(ty, v) for n, ty, v in ch["new"]} if ch["new"] is not None else None
            old = {n: map_value(ty, v) for n, ty, v in ch["old"]} if ch["old"] is not None else None
            if ch["op"] == "INSERT":
                recs.append((table, "c", None, new))
            elif ch["op"] == "DELETE":
                recs.append((table, "d", old if old else None, None))
            else:
                if old is not None and key and any(old.get(k) != new.get(k) for k in key):
                    recs.append((table, "d", {k: old[k] for k in key}, None))
                    recs.append((table, "c", None, new))
                    stat("key changes")
                elif old is not None:
                    recs.append((table, "u", old, new))
                else:
                    recs.append((table, "u", {k: new[k] for k in key} if key else None, new))
                if any(v == PLACEHOLDER for v in new.values()):
                    stat("placeholders")
        out.append((t["xid"], t["end"], recs))
    return out


def resent(block, r):
    """Whether record r, of the transaction of block (its records so far in this run),
    starts that transaction over: a connection lost mid-transaction (a server restart)
    makes the server send it again from its first change, in the same run.  Within one
    delivery the LSN only grows, except the two halves of a key change (a delete, then
    a create of the same table) and a truncate of several tables (one record per
    table), which share one."""
    prev = block[-1]
    a, b = prev["source"]["lsn"], r["source"]["lsn"]
    if b != a:
        return b < a
    ident = (r["source"]["schema"], r["source"]["table"])
    if prev["op"] == "d" and r["op"] == "c":
        return (prev["source"]["schema"], prev["source"]["table"]) != ident
    if prev["op"] == "t" and r["op"] == "t":
        same = [(x["source"]["schema"], x["source"]["table"]) for x in block
                if x["source"]["lsn"] == b and x["op"] == "t"]
        return ident in same
    return True


def delivered(agent):
    """pgcdc's records per transaction: the last complete delivery of each txId, in order."""
    blocks = []      # (txid, [records])
    for out, how, _, _ in agent.runs:
        lines = open(out, "rb").read().split(b"\n")
        run_blocks = []
        for n, line in enumerate(lines):
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError:
                if how == "kill" and n == len(lines) - 1:
                    continue     # a line cut by kill -9
                raise SystemExit("unparsable record in %s line %d" % (out, n + 1))
            if r["op"] == "r":
                continue
            tx = r["source"]["txId"]
            if run_blocks and run_blocks[-1][0] == tx and not resent(run_blocks[-1][1], r):
                run_blocks[-1][1].append(r)
            else:
                run_blocks.append((tx, [r]))
        if how == "kill" and run_blocks:
            pass     # the last block may be cut: a later run resends it whole
        blocks.extend(run_blocks)
    last = {}
    for i, (tx, recs) in enumerate(blocks):
        last[tx] = i
    return [(tx, [((r["source"]["schema"], r["source"]["table"]), r["op"], r["before"], r["after"])
                  for r in recs]) for i, (tx, recs) in enumerate(blocks) if last[tx] == i], blocks


def values_equal(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return a == b


def compare(expected, got):
    """Differences between the oracle's model and pgcdc's records, as text lines."""
    diffs = []
    got_by_tx = {tx: recs for tx, recs in got}
    order_got = [tx for tx, _ in got]
    order_exp = [xid for xid, _, _ in expected]
    exp_set = set(order_exp)
    extra = [tx for tx in order_got if tx not in exp_set]
    if extra:
        diffs.append("transactions pgcdc emitted that the oracle does not have: %s" % extra[:10])
    if [tx for tx in order_got if tx in exp_set] != order_exp:
        missing = [x for x in order_exp if x not in got_by_tx]
        if missing:
            diffs.append("transactions lost (oracle xids): %s" % missing[:10])
        else:
            diffs.append("transactions out of commit order")
    for xid, _, recs in expected:
        g = got_by_tx.get(xid)
        if g is None:
            continue
        if len(g) != len(recs):
            diffs.append("txid %d: %d records, the oracle has %d: %s / %s" % (
                xid, len(g), len(recs), [(r[0], r[1]) for r in g][:6], [(r[0], r[1]) for r in recs][:6]))
            continue
        for i, (e, r) in enumerate(zip(recs, g)):
            if e[0] != r[0] or e[1] != r[1]:
                diffs.append("txid %d record %d: %s %s, the oracle has %s %s" % (xid, i, r[0], r[1], e[0], e[1]))
                break
            if not values_equal(e[2], r[2]) or not values_equal(e[3], r[3]):
                diffs.append("txid %d record %d (%s %s): before %s after %s; the oracle: before %s after %s" % (
                    xid, i, ".".join(r[0]), r[1], json.dumps(r[2])[:300], json.dumps(r[3])[:300],
                    json.dumps(e[2])[:300], json.dumps(e[3])[:300]))
                break
    return diffs


def replay(got, keys):
    """The consumer's state: last write per key wins; the placeholder keeps the old value.
    Keyed tables are indexed by key; keyless ones matched on the whole before image."""
    state = {}
    for tx, recs in got:
        deleted = {}     # table -> the row a key change's delete removed, this transaction
        for table, op, before, after in recs:
            key = keys.get(table)
            rows = state.setdefault(table, {} if key else [])

            def find(img):
                if key:
                    k = json.dumps([img.get(c) for c in key], default=str)
                    return k if k in rows else None
                for i, row in enumerate(rows):
                    if all(values_equal(row.get(c), v) for c, v in img.items()):
                        return i
                return None

            def put(i, new):
                if key:
                    rows[json.dumps([new.get(c) for c in key], default=str)] = new
                elif i is not None:
                    rows[i] = new
                else:
                    rows.append(new)
            if op == "t":
                rows.clear()
            elif op == "c":
                new = dict(after)
                # a key change (delete + create): unchanged TOAST is the deleted row's value
                for k, v in new.items():
                    if v == PLACEHOLDER and table in deleted:
                        new[k] = deleted[table].get(k)
                put(None, new)      # keyed: a record sent again is an upsert
            elif op == "d":
                i = find(before) if before else None
                if i is not None:
                    deleted[table] = rows.pop(i)
            elif op == "u":
                i = find(before if before else after)
                new = dict(after)
                if i is not None:
                    for k, v in new.items():
                        if v == PLACEHOLDER:
                            new[k] = rows[i].get(k)
                put(i, new)
    return {t: list(r.values()) if isinstance(r, dict) else r for t, r in state.items()}


def kafka_delivered(brokers, prefix, tables):
    """Every record of the seed's topics read back with kcat, an independent client, as
    [(txid, [records])] in LSN order (per key, Kafka keeps commit order; across keys and
    for keyless tables, spread over partitions, the LSN restores it); a record sent again
    is kept once."""
    recs = []
    for t in tables:
        topic = "%s.%s.%s" % (prefix, t[0], t[1])
        topic = re.sub(r"[^A-Za-z0-9._-]", "_", topic)
        out = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-e", "-q", "-J"],
                             capture_output=True, text=True, timeout=120)
        for line in out.stdout.splitlines():
            m = json.loads(line)
            if m.get("payload") is None:
                continue        # a tombstone
            r = json.loads(m["payload"])
            if r["op"] == "r":
                continue
            key = json.loads(m["key"]) if m.get("key") else None
            img = r["after"] if r["after"] is not None else r["before"]
            if key is not None and img is not None and any(
                    not values_equal(key.get(k), img.get(k)) for k in key):
                raise SystemExit("Kafka key %s does not match the record %s" % (m["key"], img))
            order = {"d": 0, "t": 0, "u": 1, "c": 2}[r["op"]]
            recs.append((r["source"]["lsn"], order, m["partition"], m["offset"], r))
    recs.sort(key=lambda x: x[:4])
    got = []
    seen = set()
    for _, _, _, _, r in recs:
        # at-least-once: a record sent again (same change: same LSN, table, op and images)
        # is applied once, which matters for keyless tables, where a replay cannot upsert
        ident = json.dumps([r["source"]["lsn"], r["source"]["schema"], r["source"]["table"], r["op"],
                            r["before"], r["after"]], sort_keys=True)
        if ident in seen:
            stat("Kafka records sent again")
            continue
        seen.add(ident)
        item = ((r["source"]["schema"], r["source"]["table"]), r["op"], r["before"], r["after"])
        if got and got[-1][0] == r["source"]["txId"]:
            got[-1][1].append(item)
        else:
            got.append((r["source"]["txId"], [item]))
    return got


DUCKDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "duckdb-query.mjs")
PQ_META = ("_pgcdc_op", "_pgcdc_lsn", "_pgcdc_commit_lsn", "_pgcdc_xid", "_pgcdc_commit_ts", "_pgcdc_unchanged")


def norm(typ, text):
    """A value as comparable text, the same for PostgreSQL's text output (the oracle's,
    or SELECT col::text) and DuckDB's VARCHAR cast of the Parquet value (BC dates
    rewritten, bytea as \\x hex)."""
    if text is None:
        return None
    typ = DOMAINS.get(typ, typ)
    typ = re.sub(r"\(.*\)", "", typ).strip()
    if typ in INTS:
        return str(int(text))
    if typ == "numeric":
        return "NaN" if text.lower() == "nan" else str(Decimal(text).normalize())
    if typ in ("real", "double precision"):
        sp = {"nan": "NaN", "inf": "Infinity", "infinity": "Infinity", "-inf": "-Infinity",
              "-infinity": "-Infinity"}
        if text.lower() in sp:
            return sp[text.lower()]
        f = float(text)
        if typ == "real":
            f = struct.unpack("f", struct.pack("f", f))[0]
        return repr(f)
    if typ == "boolean":
        return "true" if text in ("t", "true") else "false"
    if typ == "bytea":
        return text.lower()
    if typ in ("date", "timestamp without time zone", "timestamp with time zone"):
        return re.sub(r"^(\d{4,}-\d\d-\d\d) \(BC\)(.*)$", r"\1\2 BC", text)
    if typ == "uuid":
        return text.lower()
    return text


def parquet_rows(pqdir, table, bytea_cols, diffs):
    """Every row of a table's Parquet files read back with DuckDB, in commit and change
    order: [{column: VARCHAR text or None}] (bytea as \\x hex)."""
    d = os.path.join(pqdir, "%s.%s" % table)
    if not os.path.isdir(d):
        return []
    src = "read_parquet('%s/*/*.parquet', union_by_name = true, hive_partitioning = false)" % (
        d.replace("'", "''"))
    rep = ", ".join("'\\x' || lower(hex(\"%s\")) AS \"%s\"" % (c, c) for c in sorted(bytea_cols))
    q = "SET TimeZone = 'UTC'; SELECT COLUMNS(*)::VARCHAR FROM (SELECT *%s FROM %s)" % (
        " REPLACE (%s)" % rep if rep else "", src)
    out = subprocess.run(["node", DUCKDB, "--json", "--header", q], capture_output=True, text=True,
                         timeout=300)
    if out.returncode != 0:
        diffs.append("Parquet: DuckDB could not read %s: %s" % (d, out.stderr[:300]))
        return []
    lines = out.stdout.splitlines()
    if not lines:
        return []
    names = lines[0].split("|")
    rows = [dict(zip(names, json.loads(line))) for line in lines[1:]]
    rows.sort(key=lambda r: (int(r["_pgcdc_commit_lsn"]), int(r["_pgcdc_lsn"]),
                             0 if r["_pgcdc_op"] in ("d", "t") else 1))
    stat("Parquet rows read back", len(rows))
    return rows


def parquet_expected(txns, keys, via_root):
    """What the Parquet files must hold, from the oracle: per table, in commit order, one
    row per change: (xid, lsn, op, {column: (type, text)}, {unchanged columns}).  Deletes
    carry the old identity, updates the new row, a key change is a delete and a create."""
    out = {}
    for t in txns:
        for ch in t["changes"]:
            table = ch["table"]
            if via_root and table[1].startswith("parted_"):
                table = (table[0], "parted")
            rows = out.setdefault(table, [])

            def img(tup):
                vals = {n: (ty, None if v is UNCHANGED else v) for n, ty, v in tup}
                return vals, {n for n, _, v in tup if v is UNCHANGED}
            if ch["op"] == "TRUNCATE":
                rows.append((t["xid"], ch["lsn"], "t", {}, set()))
            elif ch["op"] == "INSERT":
                rows.append((t["xid"], ch["lsn"], "c") + img(ch["new"]))
            elif ch["op"] == "DELETE":
                rows.append((t["xid"], ch["lsn"], "d") + img(ch["old"] or []))
            else:
                key = keys.get(table)
                new = {n: v for n, _, v in ch["new"]}
                old = {n: v for n, _, v in ch["old"]} if ch["old"] is not None else None
                if old is not None and key and any(old.get(k) != new.get(k) for k in key):
                    rows.append((t["xid"], ch["lsn"], "d") +
                                img([x for x in ch["old"] if x[0] in key]))
                    rows.append((t["xid"], ch["lsn"], "c") + img(ch["new"]))
                else:
                    rows.append((t["xid"], ch["lsn"], "u") + img(ch["new"]))
    return out


def parquet_compare(table, rows, expected, decimals, diffs):
    """The Parquet rows of a table against the oracle's changes, one by one, every column:
    exactly once, in commit order, with the oracle's LSN and xid.  A NaN in a DECIMAL
    column (numeric(p,s)) is null: Parquet's DECIMAL has none (README, deviations)."""
    if len(rows) != len(expected):
        diffs.append("Parquet: %s has %d rows, the oracle %d changes" % (".".join(table), len(rows),
                                                                        len(expected)))
    for i, (r, e) in enumerate(zip(rows, expected)):
        xid, lsn, op, vals, unchanged = e
        have_unch = set((r.get("_pgcdc_unchanged") or "").split(",")) - {""}
        bad = []
        if (int(r["_pgcdc_xid"]), int(r["_pgcdc_lsn"]), r["_pgcdc_op"]) != (xid, lsn, op):
            bad.append("xid/lsn/op %s %s %s, the oracle %d %d %s" % (
                r["_pgcdc_xid"], r["_pgcdc_lsn"], r["_pgcdc_op"], xid, lsn, op))
        elif have_unch != unchanged:
            bad.append("unchanged %s, the oracle %s" % (sorted(have_unch), sorted(unchanged)))
        else:
            for c, v in r.items():
                if c in PQ_META:
                    continue
                typ, want = vals.get(c, ("text", None))
                if c in decimals and want == "NaN":
                    want = None
                    stat("Parquet NaN decimals")
                if norm(typ, v) != norm(typ, want):
                    bad.append("%s = %r, the oracle %r" % (c, v, want))
        if bad:
            diffs.append("Parquet: %s row %d (xid %d, %s): %s" % (".".join(table), i, xid, op,
                                                                 "; ".join(bad)[:400]))
            return
        stat("Parquet rows compared")


def parquet_state(rows, key, types):
    """A table replayed from its Parquet rows: last write per key wins (without a key: a
    multiset of inserts); a column named in _pgcdc_unchanged keeps its value.  Columns
    the DDL steps add and drop (c<N>) are left out: a Parquet reader cannot tell a column
    a file lacks from a null."""
    state = {}
    keyless = []
    deleted = (None, None)
    for r in rows:
        row = {c: norm(types.get(c, "text"), v) for c, v in r.items()
               if c not in PQ_META and not re.fullmatch(r"c[0-9]+", c)}
        op = r["_pgcdc_op"]
        if op == "t":
            state.clear()
            keyless.clear()
            continue
        if not key:
            if op != "c":
                raise SystemExit("replaying a keyless table from Parquet: op %s" % op)
            keyless.append(row)
            continue
        k = json.dumps([row[c] for c in key])
        if op == "d":
            deleted = (r["_pgcdc_xid"], state.pop(k, None))
            continue
        # unchanged TOAST keeps the row's value; after a key change (a delete and a create
        # in one transaction) the value of the row the delete removed
        prev = state.get(k) or (deleted[1] if deleted[0] == r["_pgcdc_xid"] else None) or {}
        for c in (r.get("_pgcdc_unchanged") or "").split(","):
            if c and not re.fullmatch(r"c[0-9]+", c):
                row[c] = prev.get(c)
        state[k] = row
    return sorted(json.dumps(r, sort_keys=True) for r in (keyless if not key else state.values()))


def decimal_cols(conn, table):
    """The columns the Parquet sink writes as DECIMAL: numeric(p,s) with p <= 38."""
    cur = conn.cursor()
    cur.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped", table)
    out = set()
    for name, typ in cur.fetchall():
        m = re.fullmatch(r"numeric\((\d+),\d+\)", typ)
        if m and int(m.group(1)) <= 38:
            out.add(name)
    return out


def table_text(conn, table):
    """SELECT * as [{column: text}] and {column: type}."""
    cur = conn.cursor()
    cur.execute(SESSION)
    cur.execute("SELECT a.attname, format_type(a.atttypid, NULL) || CASE WHEN a.attndims > 0 "
                "AND format_type(a.atttypid, NULL) NOT LIKE '%%[]' THEN '[]' ELSE '' END "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 "
                "AND NOT a.attisdropped AND a.attgenerated <> 'v' ORDER BY a.attnum", table)
    cols = cur.fetchall()
    q = "SELECT %s FROM %s" % (", ".join('"%s"::text' % c.replace('"', '""') for c, _ in cols),
                               ".".join('"%s"' % p.replace('"', '""') for p in table))
    cur.execute(q)
    return [dict(zip([c for c, _ in cols], r)) for r in cur.fetchall()], dict(cols)


def table_state(conn, table):
    """SELECT * with every value mapped as SPEC §3 says."""
    rows, types = table_text(conn, table)
    return [{c: map_value(types[c], v) for c, v in r.items()} for r in rows]


def canon_keyed(rows, key):
    """Rows as comparable strings, leaving out the columns the DDL steps add and drop."""
    return sorted(json.dumps({k: v for k, v in r.items() if not re.fullmatch(r"c[0-9]+", k)},
                             sort_keys=True, default=str) for r in rows)


def canon(rows):
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--admin", required=True, help="conninfo of the cluster (any database)")
    ap.add_argument("--pgcdc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--major", type=int, required=True)
    ap.add_argument("--protocol", default="auto")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--faults", default="on")
    ap.add_argument("--mutate", default="")
    ap.add_argument("--parquet", action="store_true", help="the Parquet sink too, read back with DuckDB")
    ap.add_argument("--brokers", default="", help="Kafka bootstrap: the Kafka sink too, read back with kcat")
    ap.add_argument("--prefix", default="", help="the Kafka topic prefix (default d<seed>)")
    args = ap.parse_args()
    args.prefix = args.prefix or "d%d" % args.seed
    os.makedirs(args.work, exist_ok=True)
    seed = args.seed
    global SLOT, ORACLE
    SLOT, ORACLE = "pgcdc_s%d" % seed, "oracle_s%d" % seed
    rnd = random.Random(seed)
    db = "diff_%d" % seed
    admin = psycopg2.connect(args.admin)
    admin.autocommit = True
    for sl in (SLOT, ORACLE):
        admin.cursor().execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                               "WHERE slot_name = %s", (sl,))
    admin.cursor().execute("DROP DATABASE IF EXISTS %s" % db)
    admin.cursor().execute("CREATE DATABASE %s" % db)
    admin.close()
    dsn = "%s dbname=%s" % (args.admin, db)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    sql, via_root = schema_sql(rnd, args.major)
    for st in sql:
        cur.execute(st)
    open(os.path.join(args.work, "schema.sql"), "w").write(";\n".join(sql) + ";\n")
    # both slots before the first transaction, nothing running in between (see the header)
    cur.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (SLOT,))
    cur.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (ORACLE,))
    # record keys: the primary key, else the identity index (FULL without a key: none)
    keys = {("public", "t_basic"): ["id"], ("Odd Schema", "Mixed Case"): ["Id"],
            ("public", "t_idx"): ["a", "b"], ("public", "parted"): ["id", "k"],
            ("public", "parted_1"): ["id", "k"], ("public", "parted_2"): ["id", "k"]}

    agent = Agent(args, dsn, db)
    agent.start()
    sessions = rnd.randint(2, 4)
    faults = {}
    if args.faults == "on":
        for _ in range(rnd.randint(1, 2)):
            faults[rnd.randrange(5, args.steps - 5)] = rnd.choice(
                ["sigterm", "kill", "server-fast", "server-immediate"])
    pgctl = os.environ.get("DIFF_PGCTL", "")

    def fault(kind):
        stat("faults: " + kind)
        if kind == "sigterm":
            agent.stop(signal.SIGTERM)
            agent.start()
        elif kind == "kill":
            agent.stop(signal.SIGKILL)
            agent.start()
        elif pgctl:
            subprocess.run("%s restart -m %s" % (pgctl, kind.split("-")[1]), shell=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wl = Workload(args, seed, dsn, None)
    errors = []

    def session(k):
        try:
            wl.session(k, args.steps, faults if k == 0 else {}, fault)
        except BaseException as e:      # noqa: a failed fault or session fails the seed
            errors.append("session %d: %s" % (k, e))
    threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("; ".join(errors))

    phase("workload")
    # caught up: the slot confirmed the current position, then a clean stop
    conn = None
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if conn is None:
                conn = psycopg2.connect(dsn)
                conn.autocommit = True
            c = conn.cursor()
            c.execute("SELECT confirmed_flush_lsn >= pg_current_wal_lsn() FROM pg_replication_slots "
                      "WHERE slot_name = %s", (SLOT,))
            if c.fetchone()[0]:
                break
        except psycopg2.OperationalError:
            conn = None
        if not agent.alive():
            raise SystemExit("pgcdc died, exit %s (log %s)" % (agent.proc.returncode, agent.runs[-1][3]))
        time.sleep(0.3)
    else:
        raise SystemExit("pgcdc did not catch up in 180 s (log %s)" % agent.runs[-1][3])
    agent.stop(signal.SIGTERM)

    phase("caught-up")
    txns = read_oracle(conn)
    json.dump([{"xid": t["xid"], "end": t["end"], "n": len(t["changes"])} for t in txns],
              open(os.path.join(args.work, "oracle.json"), "w"))
    expected = expected_records(txns, keys, via_root)
    got, blocks = delivered(agent)

    m = random.Random(seed * 7)
    if args.mutate in ("drop", "change", "swap", "dup"):
        cand = [i for i, (tx, recs) in enumerate(got) if recs]
        i = m.choice(cand)
        tx, recs = got[i]
        recs = list(recs)
        if args.mutate == "drop":
            recs.pop(m.randrange(len(recs)))
        elif args.mutate == "dup":
            j = m.randrange(len(recs))
            recs.insert(j, recs[j])
        elif args.mutate == "change":
            j = m.randrange(len(recs))
            t, op, b, a = recs[j]
            img = dict(a if a else b)
            k = m.choice(sorted(img))
            img[k] = "mutated"
            recs[j] = (t, op, b, img) if a else (t, op, img, a)
        elif args.mutate == "swap":
            if len(recs) < 2:
                i2 = m.choice([x for x in cand if x != i])
                got[i], got[i2] = got[i2], got[i]
            else:
                recs[0], recs[1] = recs[1], recs[0]
        got[i] = (tx, recs) if args.mutate != "swap" or len(recs) >= 2 else got[i]

    phase("oracle")
    diffs = compare(expected, got)

    # nothing acknowledged before a clean SIGTERM is sent again
    end_of = {xid: end for xid, end, _ in expected}
    for n, (out, how, ack, _) in enumerate(agent.runs[:-1]):
        if how != "term" or ack is None:
            continue
        nxt = agent.runs[n + 1][0]
        for line in open(nxt, "rb"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            tx = r["source"]["txId"]
            if tx in end_of and end_of[tx] <= ack:
                diffs.append("txid %d (ends at %X/%X) was acknowledged before SIGTERM (%X/%X) and sent "
                             "again" % (tx, end_of[tx] >> 32, end_of[tx] & 0xFFFFFFFF, ack >> 32,
                                        ack & 0xFFFFFFFF))
                break

    # the consumer's state equals the tables
    state = replay(got, keys)
    all_tables = [("public", "t_basic"), ("Odd Schema", "Mixed Case"), ("public", "t_full"),
                  ("public", "t_idx"), ("public", "t_nokey")] + \
        ([("public", "parted")] if via_root else [("public", "parted_1"), ("public", "parted_2")])
    for table in all_tables:
        rows_t, rows_r = table_state(conn, table), state.get(table, [])
        key = keys.get(table)
        if key:
            # pair by key; a column the DDL steps added or dropped (c<N>) is compared
            # only where both sides have it: rows written before an ADD COLUMN never
            # carried it, rows written before a DROP COLUMN still do
            def strip(row, other):
                return {k: v for k, v in row.items()
                        if not (re.fullmatch(r"c[0-9]+", k) and k not in other)}
            by_t = {json.dumps([r.get(k) for k in key], default=str): r for r in rows_t}
            by_r = {json.dumps([r.get(k) for k in key], default=str): r for r in rows_r}
            rows_t = [strip(by_t[k], by_r.get(k, {})) for k in by_t]
            rows_r = [strip(by_r[k], by_t.get(k, {})) for k in by_r]
        want = canon(rows_t)
        have = canon(rows_r)
        if want != have:
            w, h = set(want), set(have)
            diffs.append("replayed %s differs from the table: %d rows missing, %d extra; e.g. %s / %s" % (
                ".".join(table), len(w - h), len(h - w), sorted(w - h)[:1], sorted(h - w)[:1]))

    if args.major >= 14:
        c = conn.cursor()
        c.execute("SELECT stream_txns, spill_txns FROM pg_stat_replication_slots WHERE slot_name = %s", (SLOT,))
        row = c.fetchone()
        if row:
            stat("streamed transactions", row[0])
            stat("spilled transactions (server)", row[1])
    c = conn.cursor()
    c.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name IN (%s, %s)",
              (SLOT, ORACLE))
    phase("stdout")
    if args.brokers:
        kgot = kafka_delivered(args.brokers, args.prefix, all_tables)
        if args.mutate == "kafka-drop":
            kgot[-1] = (kgot[-1][0], kgot[-1][1][:-1])     # the last change: its effect is final
        kstate = replay(kgot, keys)
        for table in all_tables:
            want = canon_keyed(table_state(conn, table), keys.get(table))
            have = canon_keyed(kstate.get(table, []), keys.get(table))
            if want != have:
                w, h = set(want), set(have)
                diffs.append("Kafka: replayed %s differs from the table: %d rows missing, %d extra; "
                             "e.g. %s / %s" % (".".join(table), len(w - h), len(h - w),
                                               sorted(w - h)[:1], sorted(h - w)[:1]))
        stat("Kafka records read back", sum(len(r) for _, r in kgot))

    phase("kafka")
    if args.parquet:
        pqdir = os.path.join(args.work, "parquet")
        pexp = parquet_expected(txns, keys, via_root)
        for table in all_tables:
            trows, types = table_text(conn, table)
            rows = parquet_rows(pqdir, table, {c for c, t in types.items() if t == "bytea"}, diffs)
            if table == ("public", "t_basic") and rows and args.mutate == "pq-drop":
                rows.pop(m.randrange(len(rows)))
            elif table == ("public", "t_basic") and rows and args.mutate == "pq-change":
                rows[m.randrange(len(rows))]["v"] = "mutated"
            parquet_compare(table, rows, pexp.get(table, []), decimal_cols(conn, table), diffs)
            if table == ("public", "t_full"):
                continue     # Parquet has no before image: updates of a keyless table cannot be replayed
            dec = decimal_cols(conn, table)
            want = sorted(json.dumps({c: norm(types[c], None if c in dec and v == "NaN" else v)
                                      for c, v in r.items() if not re.fullmatch(r"c[0-9]+", c)},
                                     sort_keys=True) for r in trows)
            have = parquet_state(rows, keys.get(table), types)
            if want != have:
                w, h = set(want), set(have)
                diffs.append("Parquet: replayed %s differs from the table: %d rows missing, %d extra; "
                             "e.g. %s / %s" % (".".join(table), len(w - h), len(h - w),
                                               sorted(w - h)[:1], sorted(h - w)[:1]))

    phase("parquet")
    stat("transactions", len(expected))
    stat("records", sum(len(r) for _, _, r in expected))
    stats = dict(STATS.c)
    json.dump(stats, open(os.path.join(args.work, "stats.json"), "w"))
    if args.mutate:
        if diffs:
            print("seed %d: the mutation (%s) was caught: %s" % (seed, args.mutate, diffs[0][:200]))
            return 0
        print("seed %d: the mutation (%s) was NOT caught" % (seed, args.mutate))
        return 1
    if diffs:
        print("seed %d FAILED (protocol %s, PostgreSQL %d; kept in %s):" % (seed, args.protocol, args.major, args.work))
        for d in diffs[:20]:
            print("  " + d)
        return 1
    print("seed %d ok: %s" % (seed, json.dumps(stats, sort_keys=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
